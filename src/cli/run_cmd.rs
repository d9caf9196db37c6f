//! `fanout run` and `fanout plan`: from arguments to a loaded plan, to the runner or the
//! analysis, to the reporters, to an exit code.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::Context;

use super::args::{AnalysisFormat, PlanArgs, RunArgs};
use super::history::{StoreCache, expected_weights, known_keys, restored_tasks, store_error};
use super::select::select_tasks;
use super::source::load_plan;
use super::{CliError, exit};
use crate::events::{EventSink, Fanout};
use crate::graph::{self, Dag};
use crate::plan::{Isolation, Plan};
use crate::report::analysis;
use crate::report::{
    OutputMode, SummaryCollector, TerminalOptions, TerminalReporter, render_summary, write_junit,
};
use crate::runner::{self, RunOptions, Termination};
use crate::scheduler::{HaltOn, HaltPolicy, HaltThreshold, HaltWhen, SchedulerConfig};
use crate::store::{
    Recovery, ResumePoint, RunRecord, Store, StoreSink, definition_hash, plan_hash,
};
use crate::worktree::{GitWorkspace, Repo, WorkspaceConfig};

/// `fanout run`.
pub(crate) fn run(args: RunArgs, color: bool) -> Result<i32, CliError> {
    let plan = load_plan(&args.source)?;
    run_plan(plan, args, color)
}

/// Which tasks may never run alongside each task (overlapping `writes`).
pub(crate) fn write_conflicts(plan: &Plan) -> Vec<Vec<usize>> {
    let writes: Vec<Vec<String>> = plan.tasks.iter().map(|t| t.writes.clone()).collect();
    graph::write_conflicts(&writes)
}

/// The scheduler's settings for a run of `plan`.
pub(crate) fn scheduler_config(plan: &Plan) -> SchedulerConfig {
    SchedulerConfig {
        jobs: plan.settings.jobs,
        keep_going: plan.settings.keep_going,
        retry_failed_serially: plan.settings.retry_failed_serially,
        systemic_failure_stop: plan.settings.systemic_failure_stop,
        seed: seed(),
        halt: plan.settings.max_fail.map(|n| HaltPolicy {
            when: HaltWhen::Soon,
            on: HaltOn::Fail,
            threshold: HaltThreshold::Count(n),
        }),
    }
}

/// `--dry-run`: the order the selected tasks would start in, and when, weighed by what the
/// store in `state_dir` remembers of earlier runs. Writes nothing.
pub(crate) fn dry_run_order(
    plan: &Plan,
    dag: &Dag,
    selected: &[bool],
    state_dir: &Path,
) -> Vec<(usize, f64)> {
    let store = Store::open_existing(state_dir).ok().flatten();
    let weights = expected_weights(plan, store.as_ref());
    let conflicts = write_conflicts(plan);
    super::dry_run::start_order(
        plan,
        dag,
        selected,
        &weights,
        &conflicts,
        scheduler_config(plan),
    )
}

/// Runs `plan` as `fanout run` would with `args` (whose plan source is not read).
pub(crate) fn run_plan(plan: Plan, args: RunArgs, color: bool) -> Result<i32, CliError> {
    run_plan_with(plan, args, color, None)
}

/// [`run_plan`], with one more sink that gets every event of the run (after the store,
/// before the terminal): how a command built on the runner follows it.
pub(crate) fn run_plan_with(
    mut plan: Plan,
    args: RunArgs,
    color: bool,
    extra: Option<&mut dyn EventSink>,
) -> Result<i32, CliError> {
    apply_overrides(&mut plan, &args)?;
    let dag = build_dag(&plan)?;
    let mut selected = select_tasks(&plan, &dag, &args.tasks)?;
    let state_dir = args
        .state_dir
        .clone()
        .unwrap_or_else(|| plan.base_dir.join(".fanout"));
    let skills = super::task_skills::resolve(&plan, &selected, &state_dir)?;
    let agents = super::agents::agent_run(&mut plan, &selected, &skills)?;
    let conflicts = write_conflicts(&plan);
    let config = scheduler_config(&plan);

    if args.dry_run {
        let order = dry_run_order(&plan, &dag, &selected, &state_dir);
        let mut out = std::io::stdout().lock();
        for (n, (index, offset)) in order.iter().enumerate() {
            let task = &plan.tasks[*index];
            let _ = writeln!(
                out,
                "{:>4}. {} (at {:.1})  {}",
                n + 1,
                task.id,
                offset,
                task.command_line()
            );
        }
        return Ok(exit::SUCCESS);
    }

    let plan_key = plan_key(&plan);
    let mut store = None;
    let mut restored = vec![false; plan.tasks.len()];
    let mut known = vec![None; plan.tasks.len()];
    let mut resumed_from = None;
    if !args.no_store {
        let (opened, recovery) = Store::open(&state_dir).map_err(store_error)?;
        report_recovery(&recovery);
        if args.resume.is_some() || args.resume_failed {
            let Some(point) = resume_point(&opened, &plan_key, &plan, &args)? else {
                return Ok(exit::SUCCESS);
            };
            if args.resume_failed {
                let roots: Vec<usize> = (0..plan.tasks.len())
                    .filter(|&i| selected[i] && point.failed.contains(&plan.tasks[i].id))
                    .collect();
                selected = dag.closure(&roots);
            }
            restored = restored_tasks(&plan, &dag, &selected, &point);
            known = known_keys(&plan, &restored, &point);
            for (s, r) in selected.iter_mut().zip(&restored) {
                *s &= !*r;
            }
            resumed_from = Some(point.run_id);
        }
        store = Some(opened);
    }
    super::task_skills::provide(&skills, &plan, &selected, store.as_ref())?;
    let weights = expected_weights(&plan, store.as_ref());
    let cache: Option<Arc<dyn crate::runner::Cache>> = match (&store, args.no_cache) {
        (Some(_), false) if plan.tasks.iter().any(|t| !t.inputs.is_empty()) => {
            let reader = Store::open_existing(&state_dir)
                .map_err(store_error)?
                .ok_or_else(|| anyhow::anyhow!("the store vanished while opening it"))?;
            Some(StoreCache::new(&plan, reader))
        }
        _ => None,
    };

    let run_id = new_run_id();
    let workspace = worktree_workspace(&plan, &selected, &args, &state_dir, &run_id)?;
    let options = RunOptions {
        run_id: run_id.clone(),
        log_dir: state_dir.join("logs").join(&run_id),
        selected: selected.clone(),
        weights,
        conflicts,
        scheduler: config,
        termination: Termination::after_grace(plan.settings.grace),
        cache,
        known_keys: known,
        separate_stderr: false,
        stream_lines: args.output == OutputMode::Lines,
        workspace,
        agents,
        start_delay: None,
        start_limit: None,
        timeout_percent: None,
        nice: None,
        slot_var: None,
        padded_slot_var: None,
        jobs_source: None,
        shell: None,
    };
    let mut store_sink = match store {
        Some(store) => {
            let record = RunRecord {
                run_id: run_id.clone(),
                plan_path: plan_key.clone(),
                plan_hash: plan_hash(&std::fs::read(&plan.path).unwrap_or_default()),
                args: std::env::args().collect(),
                jobs: plan.settings.jobs,
                resumed_from: resumed_from.clone(),
                tasks: plan
                    .tasks
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| selected[*i] || restored[*i])
                    .map(|(i, t)| {
                        let from = restored[i].then(|| resumed_from.clone()).flatten();
                        (t.id.clone(), definition_hash(&plan, t), from)
                    })
                    .collect(),
            };
            Some(StoreSink::start(store, &record).map_err(store_error)?)
        }
        None => None,
    };
    let total = selected.iter().filter(|s| **s).count();
    let width = plan
        .tasks
        .iter()
        .zip(&selected)
        .filter(|(_, s)| **s)
        .map(|(t, _)| t.id.chars().count())
        .max()
        .unwrap_or(0);
    let mut terminal = TerminalReporter::new(
        TerminalOptions {
            output: args.output,
            progress: !args.no_progress && std::io::stderr().is_terminal(),
            color,
            tail_lines: 20,
            verbose: args.verbose,
            expected: Some((
                options
                    .weights
                    .iter()
                    .zip(&selected)
                    .map(|(w, s)| if *s { *w } else { 0.0 })
                    .collect(),
                plan.settings.jobs,
            )),
        },
        total,
        width,
    );
    if let Some(from) = &resumed_from {
        let kept = restored.iter().filter(|r| **r).count();
        if args.resume_failed {
            eprintln!("running again what failed in run {from}: {total} task(s)");
        } else {
            eprintln!("resuming run {from}: {kept} task(s) succeeded there and are not run again");
        }
    }
    let mut collector = SummaryCollector::with_restored(&plan, &selected, &restored);
    let result = {
        let mut sinks = Fanout::new();
        if let Some(sink) = store_sink.as_mut() {
            sinks.push(sink);
        }
        if let Some(sink) = extra {
            sinks.push(sink);
        }
        sinks.push(&mut terminal);
        sinks.push(&mut collector);
        let runtime = runner::runtime_for(options.scheduler.jobs, runner::available_cpus())
            .context("failed to start the async runtime")?;
        runtime
            .block_on(runner::run(&plan, &dag, &options, &mut sinks))
            .with_context(|| {
                format!(
                    "failed to prepare the log directory {}",
                    options.log_dir.display()
                )
            })?
    };
    if let Some(sink) = store_sink
        && let Err(err) = sink.finish()
    {
        eprintln!(
            "warning: the run was not fully recorded: {:#}",
            anyhow::Error::new(err)
        );
    }
    let summary = collector.finish(&dag);
    eprint!("{}", render_summary(&summary));
    if args.json {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(summary.to_json().as_bytes());
    }
    if let Some(path) = &args.junit {
        write_junit(&summary, path)
            .with_context(|| format!("failed to write the JUnit report {}", path.display()))?;
    }
    Ok(if result.interrupted {
        exit::INTERRUPTED
    } else if result.all_succeeded {
        exit::SUCCESS
    } else {
        exit::TASKS_FAILED
    })
}

/// The workspace of tasks with `isolate = "worktree"`, when any is selected: checks the
/// repository (a branch to merge into, a clean checkout) and warns about leftovers.
fn worktree_workspace(
    plan: &Plan,
    selected: &[bool],
    args: &RunArgs,
    state_dir: &std::path::Path,
    run_id: &str,
) -> Result<Option<Arc<dyn crate::runner::Workspace>>, CliError> {
    let isolated = plan
        .tasks
        .iter()
        .zip(selected)
        .any(|(t, s)| *s && t.isolate == Isolation::Worktree);
    if !isolated {
        return Ok(None);
    }
    let settings = plan.settings.worktree.clone();
    let into = args.into.as_deref().or(settings.into.as_deref());
    let repo = Repo::open(&plan.base_dir, into).map_err(|e| match e.help() {
        Some(help) => CliError::usage_with_help(format!("cannot run worktree tasks: {e}"), help),
        None => CliError::Internal(anyhow::Error::new(e)),
    })?;
    let worktrees = state_dir.join("worktrees");
    match repo.leftovers(&worktrees) {
        Ok(found) if !found.is_empty() => eprintln!(
            "warning: earlier runs left {} worktree(s) and {} `fanout/` branch(es); \
             `fanout clean --worktrees` removes them",
            found.worktrees.len(),
            found.branches.len()
        ),
        _ => {}
    }
    let dir = worktrees.join(run_id);
    std::fs::create_dir_all(&dir).with_context(|| format!("failed to create {}", dir.display()))?;
    let config = WorkspaceConfig {
        run_id: run_id.to_owned(),
        dir: dir.canonicalize().unwrap_or(dir),
        settings,
        keep: args.keep_worktrees,
    };
    Ok(Some(Arc::new(GitWorkspace::new(repo, plan, config))))
}

/// The plan's identity in the store: its canonical path.
fn plan_key(plan: &Plan) -> String {
    plan.path
        .canonicalize()
        .unwrap_or_else(|_| plan.path.clone())
        .display()
        .to_string()
}

/// The run to resume, or `None` (after saying why) when there is nothing to do.
fn resume_point(
    store: &Store,
    plan_key: &str,
    plan: &Plan,
    args: &RunArgs,
) -> Result<Option<ResumePoint>, CliError> {
    let run = match args.resume.as_deref() {
        Some(id) if !id.is_empty() => store.run(id).map_err(store_error)?.ok_or_else(|| {
            CliError::usage_with_help(
                format!("no run `{id}` in the store"),
                "`fanout history` lists the runs",
            )
        })?,
        _ => store
            .latest_run(plan_key)
            .map_err(store_error)?
            .ok_or_else(|| {
                CliError::usage(format!(
                    "there is no earlier run of {} to resume",
                    plan.path.display()
                ))
            })?,
    };
    if args.resume.is_some() && run.outcome.as_deref() == Some("succeeded") {
        eprintln!("nothing to resume: run {} succeeded", run.id);
        return Ok(None);
    }
    let point = store
        .resume_point(&run.id)
        .map_err(store_error)?
        .ok_or_else(|| CliError::usage(format!("no run `{}` in the store", run.id)))?;
    if args.resume_failed && point.failed.is_empty() {
        eprintln!("nothing to run again: no task failed in run {}", run.id);
        return Ok(None);
    }
    Ok(Some(point))
}

fn report_recovery(recovery: &Recovery) {
    for run in &recovery.crashed_runs {
        eprintln!("note: run {run} ended without fanout (crashed or killed); marked as crashed");
    }
    if recovery.interrupted_attempts > 0 {
        eprintln!(
            "note: {} attempt(s) of crashed runs marked interrupted; {} leftover process group(s) terminated",
            recovery.interrupted_attempts, recovery.terminated_groups
        );
    }
}

/// `fanout plan`.
pub(crate) fn plan(args: PlanArgs) -> Result<i32, CliError> {
    let mut plan = load_plan(&args.source)?;
    if let Some(jobs) = args.jobs {
        if jobs == 0 {
            return Err(CliError::usage_with_help(
                "`--jobs 0` would never run anything",
                "give a number of 1 or more",
            ));
        }
        plan.settings.jobs = jobs;
    }
    let dag = build_dag(&plan)?;
    let text = match args.format {
        AnalysisFormat::Text | AnalysisFormat::Json => {
            // Remembered durations weigh the critical path when there are any.
            let state_dir = plan.base_dir.join(".fanout");
            let store = Store::open_existing(&state_dir).ok().flatten();
            let analysis = graph::analyse(&plan, &dag, &expected_weights(&plan, store.as_ref()));
            if args.format == AnalysisFormat::Json {
                analysis::render_json(&analysis)
            } else {
                analysis::render_text(&analysis)
            }
        }
        AnalysisFormat::Dot => analysis::render_dot(&plan, &dag),
        AnalysisFormat::Mermaid => analysis::render_mermaid(&plan, &dag),
    };
    let mut out = std::io::stdout().lock();
    // A closed pipe (`fanout plan | head`) is not an error.
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    Ok(exit::SUCCESS)
}

fn apply_overrides(plan: &mut Plan, args: &RunArgs) -> Result<(), CliError> {
    let settings = &mut plan.settings;
    if let Some(jobs) = args.jobs {
        if jobs == 0 {
            return Err(CliError::usage_with_help(
                "`--jobs 0` would never run anything",
                "give a number of 1 or more",
            ));
        }
        settings.jobs = jobs;
    }
    if args.keep_going {
        settings.keep_going = true;
    }
    if let Some(n) = args.max_fail {
        if n == 0 {
            return Err(CliError::usage_with_help(
                "`--max-fail 0` would stop before anything failed",
                "give a number of 1 or more (1 stops starting tasks at the first failure)",
            ));
        }
        settings.keep_going = true;
        settings.max_fail = Some(n);
    }
    if args.fail_fast {
        settings.keep_going = false;
    }
    if let Some(n) = args.max_load {
        if n == 0 {
            return Err(CliError::usage_with_help(
                "`--load 0` would never start anything",
                "give a number of runnable processes of 1 or more",
            ));
        }
        settings.max_load = Some(f64::from(n));
    }
    if args.retry_failed_serially {
        settings.retry_failed_serially = true;
    }
    if args.no_systemic_stop {
        settings.systemic_failure_stop = false;
    }
    // These two win over the plan's settings and over every task's own.
    if let Some(retries) = args.retries {
        settings.retries = retries;
        plan.tasks.iter_mut().for_each(|t| t.retries = retries);
    }
    if let Some(timeout) = args.timeout {
        if timeout.is_zero() {
            return Err(CliError::usage_with_help(
                "`--timeout 0s` would time every task out at once",
                "give a duration such as 90s or 10m",
            ));
        }
        settings.timeout = Some(timeout);
        plan.tasks
            .iter_mut()
            .for_each(|t| t.timeout = Some(timeout));
    }
    Ok(())
}

pub(crate) fn build_dag(plan: &Plan) -> Result<Dag, CliError> {
    // Validation already refused cycles; this cannot fail on a loaded plan.
    Dag::new(plan.tasks.iter().map(|t| t.deps.clone()).collect())
        .map_err(|_| CliError::Internal(anyhow::anyhow!("the validated plan has a cycle")))
}

pub(crate) fn seed() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// A sortable, readable, unique run id: `20261122-061502-3fa9`.
pub(crate) fn new_run_id() -> String {
    let stamp = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let digits: String = stamp.chars().filter(char::is_ascii_digit).collect();
    let (date, time) = digits.split_at(8.min(digits.len()));
    format!("{date}-{time}-{:04x}", rand::random::<u16>())
}
