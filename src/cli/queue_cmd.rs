//! `fanout queue run` and `fanout queue status`: a directory of work items, read and
//! checked, its runnable items turned into a plan of agent tasks that runs through the
//! same path as `fanout run` (store, summary, budgets, rate limits), with the queue's
//! reporter renaming each item as its task starts and ends.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::args::{PlanSource, QueueArgs, QueueCommand, QueueRunArgs, QueueStatusArgs, RunArgs};
use super::run_cmd::{build_dag, dry_run_order, run_plan_with};
use super::{CliError, exit};
use crate::plan::{Autonomy, Plan, QueueSettings, find_project_file, project_plan, project_queue};
use crate::queue::{
    ItemOutcome, Queue, QueueError, QueueLock, QueuePlan, QueueReporter, Readiness, Status,
    queue_plan, read_queue, rename_item, render_misnamed, render_run_report, render_status_text,
    status_json,
};

/// `fanout queue …`.
pub(crate) fn queue(args: QueueArgs, color: bool) -> Result<i32, CliError> {
    match args.command {
        QueueCommand::Run(args) => run(args, color),
        QueueCommand::Status(args) => status(args),
    }
}

/// The queue directory when neither the command line nor the project file names one.
const DEFAULT_DIR: &str = ".agent/queue";
/// How many items run at once when neither the command line nor the project file says.
const DEFAULT_MAX_PARALLEL: usize = 5;

/// Where a queue command works: the queue directory, and the project file whose tables
/// apply to it.
struct QueuePlace {
    dir: PathBuf,
    project: Option<PathBuf>,
    /// The project file's `[queue]` table.
    settings: QueueSettings,
}

/// The queue `dir` given, with the nearest project file above it; else the project
/// file's `[queue] dir`, or `.agent/queue` beside the project file (or in the current
/// directory when there is none).
fn locate(dir: Option<PathBuf>) -> Result<QueuePlace, CliError> {
    let cwd = std::env::current_dir().context("failed to read the current directory")?;
    let project = match &dir {
        // A directory that is missing has no project; reading the queue says it is missing.
        Some(dir) => dir.canonicalize().ok().and_then(|d| find_project_file(&d)),
        None => find_project_file(&cwd),
    };
    let settings = match &project {
        Some(project) => project_queue(project)?,
        None => QueueSettings::default(),
    };
    let dir = dir.unwrap_or_else(|| {
        let configured = settings.dir.clone().unwrap_or_else(|| {
            match project.as_ref().and_then(|p| p.parent()) {
                Some(parent) => parent.join(DEFAULT_DIR),
                None => PathBuf::from(DEFAULT_DIR),
            }
        });
        // Shown as the user would write it from here, when it is below here.
        match configured.strip_prefix(&cwd) {
            Ok(below) if below.as_os_str().is_empty() => PathBuf::from("."),
            Ok(below) => below.to_path_buf(),
            Err(_) => configured,
        }
    });
    Ok(QueuePlace {
        dir,
        project,
        settings,
    })
}

/// `fanout queue run`.
fn run(args: QueueRunArgs, color: bool) -> Result<i32, CliError> {
    if args.max_parallel == Some(0) {
        return Err(CliError::usage_with_help(
            "`--max-parallel 0` would never run anything",
            "give a number of 1 or more",
        ));
    }
    let place = locate(args.dir.clone())?;
    // The command line, then the project file, then the defaults.
    let max_parallel = args
        .max_parallel
        .or(place.settings.max_parallel)
        .unwrap_or(DEFAULT_MAX_PARALLEL);
    let autonomy = args
        .autonomy
        .or(place.settings.autonomy)
        .unwrap_or_default();
    let dir = place.dir;
    // Held until the run ends: one run per queue, and items `in_progress` while nobody
    // holds it were left by a run that is gone. Patiently: `queue status` takes it for an
    // instant to see whether a run holds it. A dry run holds it too, so that what it
    // reads is what a run would find.
    let _lock = QueueLock::acquire_patiently(&dir).map_err(queue_error)?;
    let mut queue = read_queue(&dir).map_err(queue_error)?;
    let base = base_plan(&dir, place.project.as_deref())?;
    // The files as they are, for a dry run to name.
    let file_names: Vec<String> = queue.items.iter().map(|i| i.name.file_name()).collect();
    if args.dry_run {
        treat_left_in_progress_as_pending(&mut queue);
    } else {
        reset_left_in_progress(&mut queue)?;
    }
    let readiness = queue.readiness();
    let stuck = warn_stuck(&queue, &readiness);
    let QueuePlan { mut plan, items } = queue_plan(&queue, &readiness, base);
    if plan.tasks.is_empty() {
        return Ok(if stuck == 0 {
            eprintln!("nothing to do: no pending item in {}", dir.display());
            exit::SUCCESS
        } else {
            eprintln!("nothing can run: every pending item waits for one that cannot complete");
            if args.dry_run {
                exit::SUCCESS
            } else {
                exit::TASKS_FAILED
            }
        });
    }
    plan.settings.jobs = max_parallel;
    plan.settings.keep_going = autonomy == Autonomy::L3;
    if args.dry_run {
        let names: Vec<String> = items.iter().map(|&i| file_names[i].clone()).collect();
        print_start_order(plan, &names, args.state_dir)?;
        return Ok(exit::SUCCESS);
    }
    let names = items.iter().map(|&i| queue.items[i].name.clone()).collect();
    let mut reporter = QueueReporter::new(&dir, names);
    let run_args = RunArgs {
        source: PlanSource {
            file: None,
            plan_format: None,
        },
        tasks: Vec::new(),
        jobs: None,
        keep_going: false,
        fail_fast: false,
        max_fail: None,
        max_load: None,
        retries: None,
        timeout: None,
        dry_run: false,
        retry_failed_serially: false,
        // L3 goes on whatever fails, even when everything fails alike.
        no_systemic_stop: autonomy == Autonomy::L3,
        output: args.output,
        json: args.json,
        junit: None,
        no_progress: args.no_progress,
        state_dir: args.state_dir,
        resume: None,
        resume_failed: false,
        no_cache: false,
        no_store: false,
        verbose: false,
        into: None,
        keep_worktrees: false,
    };
    let result = run_plan_with(plan, run_args, color, Some(&mut reporter));
    reporter.finish();
    // A run refused before it began (an unknown agent, say) has nothing to report.
    let began = reporter
        .outcomes()
        .iter()
        .any(|o| *o != ItemOutcome::NotStarted);
    if result.is_ok() || began {
        eprint!(
            "{}",
            render_run_report(reporter.names(), reporter.outcomes())
        );
    }
    let rename_errors = reporter.take_errors();
    let renames_failed = !rename_errors.is_empty();
    for err in rename_errors {
        eprintln!("error: {:#}", anyhow::Error::new(err));
    }
    eprint!("{}", render_misnamed(&reporter.misnamed()));
    if stuck > 0 {
        eprintln!("{stuck} pending item(s) cannot run (see the warnings above)");
    }
    let code = result?;
    Ok(run_exit_code(code, renames_failed, stuck))
}

/// `--dry-run`: the order the items (`names`, one per task of `plan`) would start in, as
/// `fanout run --dry-run` finds it, its agents checked as a run would check them. Reads
/// what the store remembers of earlier runs; writes nothing.
fn print_start_order(
    mut plan: Plan,
    names: &[String],
    state_dir: Option<PathBuf>,
) -> Result<(), CliError> {
    let dag = build_dag(&plan)?;
    let selected = vec![true; plan.tasks.len()];
    let state_dir = state_dir.unwrap_or_else(|| plan.base_dir.join(".fanout"));
    let skills = super::task_skills::resolve(&plan, &selected, &state_dir)?;
    super::agents::agent_run(&mut plan, &selected, &skills)?;
    let order = dry_run_order(&plan, &dag, &selected, &state_dir);
    let mut out = std::io::stdout().lock();
    for (n, (task, offset)) in order.iter().enumerate() {
        // A closed pipe (`… --dry-run | head`) is not an error.
        let _ = writeln!(out, "{:>4}. {} (at {offset:.1})", n + 1, names[*task]);
    }
    Ok(())
}

/// The exit code of a queue run whose runner ended with `code`. A failed rename is
/// fanout's own failure: an item's file then does not say what became of it, and the
/// next run could run finished work again.
fn run_exit_code(code: i32, renames_failed: bool, stuck: usize) -> i32 {
    if code == exit::INTERRUPTED {
        code
    } else if renames_failed {
        exit::INTERNAL
    } else if code == exit::SUCCESS && stuck > 0 {
        exit::TASKS_FAILED
    } else {
        code
    }
}

/// `fanout queue status`.
fn status(args: QueueStatusArgs) -> Result<i32, CliError> {
    let dir = locate(args.dir)?.dir;
    let queue = read_queue(&dir).map_err(queue_error)?;
    let readiness = queue.readiness();
    let active = QueueLock::is_held(&dir);
    let text = if args.json {
        status_json(&queue, &readiness, active)
    } else {
        render_status_text(&queue, &readiness, active)
    };
    let mut out = std::io::stdout().lock();
    // A closed pipe (`fanout queue status | head`) is not an error.
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    Ok(exit::SUCCESS)
}

/// The project's plan with no tasks: its settings, agents, limits and budget. Agents run
/// in the directory of the project file, else in the current directory.
fn base_plan(dir: &Path, project: Option<&Path>) -> Result<Plan, CliError> {
    let canonical = dir
        .canonicalize()
        .with_context(|| format!("failed to resolve {}", dir.display()))?;
    let base_dir = match project.and_then(|p| p.parent()) {
        Some(parent) => parent.to_path_buf(),
        None => std::env::current_dir()
            .context("failed to read the current directory")?
            .canonicalize()
            .context("failed to resolve the current directory")?,
    };
    Ok(project_plan(project, canonical, base_dir)?)
}

/// Items `in_progress` while this run holds the queue were left by a run that is gone
/// (killed, or the machine went down): they are pending again.
fn reset_left_in_progress(queue: &mut Queue) -> Result<(), CliError> {
    for item in &mut queue.items {
        if item.name.status != Status::InProgress {
            continue;
        }
        let before = item.name.file_name();
        item.name = rename_item(&queue.dir, &item.name, Status::Pending)
            .map_err(|e| CliError::Internal(anyhow::Error::new(e)))?;
        eprintln!(
            "note: {before} was left in progress by a run that is gone; it is pending again ({})",
            item.name.file_name()
        );
    }
    Ok(())
}

/// What a dry run makes of items left `in_progress` by a run that is gone: pending, as a
/// run would make them, though only in memory.
fn treat_left_in_progress_as_pending(queue: &mut Queue) {
    for item in &mut queue.items {
        if item.name.status == Status::InProgress {
            eprintln!(
                "note: {} was left in progress by a run that is gone; a run makes it pending again",
                item.name.file_name()
            );
            item.name.status = Status::Pending;
        }
    }
}

/// Warns about each pending item that cannot run; returns how many there are.
fn warn_stuck(queue: &Queue, readiness: &[Option<Readiness>]) -> usize {
    let mut count = 0;
    for (item, readiness) in queue.items.iter().zip(readiness) {
        if let Some(Readiness::CannotRun { reason }) = readiness {
            count += 1;
            eprintln!(
                "warning: {} cannot run: {reason}; it stays pending",
                item.path(&queue.dir).display()
            );
        }
    }
    count
}

/// A queue error as the command's error: bad input and a busy queue are usage errors
/// (exit 2), the rest are fanout's own.
fn queue_error(err: QueueError) -> CliError {
    match err {
        QueueError::Malformed { dir, problems } => {
            let mut message = format!(
                "{} malformed work item problem(s) in {}; nothing was run or renamed",
                problems.len(),
                dir.display()
            );
            for problem in &problems {
                message.push_str(&format!("\n  {problem}"));
                if let Some(help) = &problem.help {
                    message.push_str(&format!("\n    help: {help}"));
                }
            }
            CliError::usage(message)
        }
        QueueError::Missing { dir } => CliError::usage_with_help(
            format!("there is no queue directory {}", dir.display()),
            format!(
                "give the directory (`fanout queue run DIR`), or create {} with work items \
                 named like 001-pending-first-step.md",
                dir.display()
            ),
        ),
        QueueError::Busy { dir } => CliError::usage_with_help(
            format!(
                "another fanout run is working on the queue {}",
                dir.display()
            ),
            format!(
                "wait for it to end; `fanout queue status {}` shows its items",
                dir.display()
            ),
        ),
        other => CliError::Internal(anyhow::Error::new(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_rename_outranks_failed_items_but_not_an_interruption() {
        assert_eq!(run_exit_code(exit::SUCCESS, false, 0), exit::SUCCESS);
        assert_eq!(run_exit_code(exit::SUCCESS, false, 2), exit::TASKS_FAILED);
        assert_eq!(run_exit_code(exit::SUCCESS, true, 0), exit::INTERNAL);
        assert_eq!(run_exit_code(exit::TASKS_FAILED, true, 1), exit::INTERNAL);
        assert_eq!(run_exit_code(exit::INTERRUPTED, true, 0), exit::INTERRUPTED);
    }
}
