//! `fanout history`, `show`, `logs`, `stats` and `clean`: reading (and pruning) the store.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use super::args::{CleanArgs, HistoryArgs, LogsArgs, ShowArgs, StateArgs};
use super::history::store_error;
use super::{CliError, exit};
use crate::plan::{PROJECT_FILE, find_project_file};
use crate::report::human_duration;
use crate::store::{RunRow, Store};
use crate::worktree::{self, Cleaned};

/// The state directory: the one given, else `.fanout` beside the project file, else here.
pub(super) fn state_dir(args: &StateArgs) -> PathBuf {
    if let Some(dir) = &args.state_dir {
        return dir.clone();
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    match find_project_file(&cwd) {
        Some(project) => project
            .parent()
            .map_or_else(|| cwd.clone(), PathBuf::from)
            .join(".fanout"),
        None => cwd.join(".fanout"),
    }
}

fn open(args: &StateArgs) -> Result<Store, CliError> {
    let dir = state_dir(args);
    Store::open_existing(&dir)
        .map_err(store_error)?
        .ok_or_else(|| {
            CliError::usage_with_help(
                format!("no runs recorded in {}", dir.display()),
                format!(
                    "runs are recorded beside the plan (or {PROJECT_FILE}); pass --state-dir DIR"
                ),
            )
        })
}

fn find_run(store: &Store, id: &str) -> Result<RunRow, CliError> {
    let found = if id == "last" {
        store.runs(1).map_err(store_error)?.into_iter().next()
    } else {
        store.run(id).map_err(store_error)?
    };
    found.ok_or_else(|| {
        CliError::usage_with_help(
            format!("no run `{id}` in the store"),
            "`fanout history` lists the runs",
        )
    })
}

fn print(text: &str) -> i32 {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    exit::SUCCESS
}

fn json(value: &impl serde::Serialize) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("rows serialize");
    s.push('\n');
    s
}

fn when(unix: f64) -> String {
    let t = UNIX_EPOCH + Duration::from_secs_f64(unix.max(0.0));
    humantime::format_rfc3339_seconds(t).to_string()
}

fn secs(s: Option<f64>) -> String {
    s.map_or_else(
        || "-".into(),
        |s| human_duration(Duration::from_secs_f64(s.max(0.0))),
    )
}

/// `fanout history`.
pub(crate) fn history(args: HistoryArgs) -> Result<i32, CliError> {
    let store = open(&args.state)?;
    let runs = store.runs(args.limit).map_err(store_error)?;
    if args.state.json {
        return Ok(print(&json(&runs)));
    }
    let mut out = String::new();
    for r in &runs {
        let _ = writeln!(
            out,
            "{}  {}  {:<11}  {:>3} tasks  {:>2} failed  wall {:>8}  task time {:>8}  {}",
            r.id,
            when(r.started_at),
            r.outcome.as_deref().unwrap_or("running"),
            r.tasks,
            r.failed,
            secs(r.wall_secs),
            secs(r.task_time_secs),
            r.plan
        );
    }
    if runs.is_empty() {
        out.push_str("no runs recorded\n");
    }
    Ok(print(&out))
}

/// `fanout show`.
pub(crate) fn show(args: ShowArgs) -> Result<i32, CliError> {
    let store = open(&args.state)?;
    let run = find_run(&store, &args.run)?;
    let mut tasks = store.run_tasks(&run.id).map_err(store_error)?;
    if let Some(task) = &args.task {
        tasks.retain(|t| &t.task == task);
        if tasks.is_empty() {
            return Err(CliError::usage(format!(
                "run {} has no task `{task}`",
                run.id
            )));
        }
    }
    if args.state.json {
        #[derive(serde::Serialize)]
        struct Shown<'a> {
            run: &'a RunRow,
            tasks: &'a [crate::store::TaskRow],
        }
        return Ok(print(&json(&Shown {
            run: &run,
            tasks: &tasks,
        })));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "run {}  {}  {}  plan {}",
        run.id,
        when(run.started_at),
        run.outcome.as_deref().unwrap_or("running"),
        run.plan
    );
    let _ = writeln!(
        out,
        "  {} tasks, {} jobs, wall {}, task time {}{}",
        run.tasks,
        run.jobs,
        secs(run.wall_secs),
        secs(run.task_time_secs),
        run.resumed_from
            .as_ref()
            .map(|r| format!(", resumed from {r}"))
            .unwrap_or_default()
    );
    for t in &tasks {
        if let Some(from) = &t.restored_from {
            let _ = writeln!(out, "{}: succeeded earlier (run {from})", t.task);
            continue;
        }
        if t.attempts.is_empty() {
            let _ = writeln!(out, "{}: not started", t.task);
        }
        for a in &t.attempts {
            let code = match (a.exit_code, a.signal) {
                (Some(c), _) if a.status != "succeeded" => format!(" exit {c}"),
                (_, Some(s)) => format!(" signal {s}"),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "{}: attempt {} {}{} in {}{}",
                t.task,
                a.attempt,
                a.status,
                code,
                secs(a.duration_secs),
                a.log.as_ref().map(|l| format!("  {l}")).unwrap_or_default()
            );
        }
    }
    Ok(print(&out))
}

/// `fanout logs`.
pub(crate) fn logs(args: LogsArgs) -> Result<i32, CliError> {
    let store = open(&args.state)?;
    let run = find_run(&store, &args.run)?;
    let tasks = store.run_tasks(&run.id).map_err(store_error)?;
    let Some(task) = tasks.iter().find(|t| t.task == args.task) else {
        return Err(CliError::usage(format!(
            "run {} has no task `{}`",
            run.id, args.task
        )));
    };
    let attempt = match args.attempt {
        Some(n) => task.attempts.iter().find(|a| a.attempt == i64::from(n)),
        None => task.attempts.iter().max_by_key(|a| a.attempt),
    };
    let Some(attempt) = attempt else {
        return Err(CliError::usage(format!(
            "task `{}` has no such attempt in run {}",
            args.task, run.id
        )));
    };
    if args.state.json {
        let text = attempt
            .log
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        return Ok(print(&json(&serde_json::json!({
            "run": run.id, "task": task.task, "attempt": attempt.attempt,
            "log": attempt.log, "output": text,
        }))));
    }
    match &attempt.log {
        Some(path) => {
            let mut file = std::fs::File::open(path)
                .map_err(|e| CliError::usage(format!("the log {path} cannot be read: {e}")))?;
            let mut out = std::io::stdout().lock();
            let _ = std::io::copy(&mut file, &mut out);
        }
        None => eprintln!("task `{}` wrote no output in run {}", task.task, run.id),
    }
    Ok(exit::SUCCESS)
}

/// `fanout stats`.
pub(crate) fn stats(args: StateArgs) -> Result<i32, CliError> {
    let store = open(&args)?;
    let s = store.stats().map_err(store_error)?;
    if args.json {
        return Ok(print(&json(&s)));
    }
    let text = format!(
        "runs: {}\ntasks run: {} ({} attempts)\nmean speedup: {:.2}×\ntime saved: {}\nfailure rate: {:.1}%\ncache hit rate: {:.1}% ({} cached)\n",
        s.runs,
        s.tasks_run,
        s.attempts,
        s.mean_speedup,
        human_duration(Duration::from_secs_f64(s.time_saved_secs.max(0.0))),
        s.failure_rate * 100.0,
        s.cache_hit_rate * 100.0,
        s.cached
    );
    let text = if s.agent_attempts > 0 {
        format!(
            "{text}agent attempts: {} ({} rate limited)\nagent cost: ${:.4}\nagent tokens: {} in / {} out / {} cached\n",
            s.agent_attempts,
            s.rate_limited,
            s.cost_usd,
            s.tokens_in,
            s.tokens_out,
            s.tokens_cached
        )
    } else {
        text
    };
    Ok(print(&text))
}

/// `fanout clean`.
pub(crate) fn clean(args: CleanArgs) -> Result<i32, CliError> {
    let ids = match args.older_than {
        Some(age) => Some(clean_runs(&args, age)?),
        None => None,
    };
    let worktrees = if args.worktrees {
        Some(clean_worktrees(&args)?)
    } else {
        None
    };
    if args.state.json {
        return Ok(print(&json(&serde_json::json!({
            "removed": ids.unwrap_or_default(),
            "worktrees": worktrees,
            "dry_run": args.dry_run,
        }))));
    }
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    let mut out = String::new();
    if let Some(ids) = ids {
        let _ = writeln!(out, "{verb} {} run(s) and their logs", ids.len());
        for id in &ids {
            let _ = writeln!(out, "  {id}");
        }
    }
    if let Some(w) = worktrees {
        let _ = writeln!(
            out,
            "{verb} {} worktree(s) and {} branch(es)",
            w.worktrees.len(),
            w.branches.len()
        );
        for path in &w.worktrees {
            let _ = writeln!(out, "  {}", path.display());
        }
        for branch in &w.branches {
            let _ = writeln!(out, "  {branch}");
        }
    }
    Ok(print(&out))
}

/// Removes (or lists) the runs that ended longer than `age` ago, with their logs.
fn clean_runs(args: &CleanArgs, age: Duration) -> Result<Vec<String>, CliError> {
    let dir = state_dir(&args.state);
    let mut store = open(&args.state)?;
    let ids: Vec<String> = if args.dry_run {
        let cutoff = std::time::SystemTime::now() - age;
        let cutoff = cutoff
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        store
            .runs(usize::MAX >> 1)
            .map_err(store_error)?
            .into_iter()
            .filter(|r| r.outcome.is_some() && r.ended_at.unwrap_or(r.started_at) < cutoff)
            .map(|r| r.id)
            .collect()
    } else {
        store.delete_runs_older_than(age).map_err(store_error)?
    };
    if !args.dry_run {
        for id in &ids {
            let logs = dir.join("logs").join(id);
            if logs.exists() {
                std::fs::remove_dir_all(&logs).map_err(|e| {
                    anyhow::anyhow!("failed to remove the logs {}: {e}", logs.display())
                })?;
            }
        }
    }
    Ok(ids)
}

/// Removes the worktrees and branches runs left, except those of runs still going.
fn clean_worktrees(args: &CleanArgs) -> Result<Cleaned, CliError> {
    let dir = state_dir(&args.state);
    // Opening the store marks runs whose fanout died as crashed; the rest are running.
    let running: Vec<String> = if Store::open_existing(&dir).ok().flatten().is_some() {
        let (store, _) = Store::open(&dir).map_err(store_error)?;
        store
            .runs(usize::MAX >> 1)
            .map_err(store_error)?
            .into_iter()
            .filter(|r| r.outcome.is_none())
            .map(|r| r.id)
            .collect()
    } else {
        Vec::new()
    };
    let repo_dir = dir
        .parent()
        .filter(|p| p.is_dir())
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    let cleaned = worktree::clean(&repo_dir, &dir.join("worktrees"), &running, args.dry_run)
        .map_err(|e| CliError::Internal(anyhow::Error::new(e)))?;
    cleaned.ok_or_else(|| {
        CliError::usage(format!(
            "{} is not inside a git repository: there are no worktrees to clean",
            repo_dir.display()
        ))
    })
}
