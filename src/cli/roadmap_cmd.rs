//! `fanout roadmap`: a roadmap's planned priorities become worktree tasks (one command
//! each, fed the priority's section), serialized where their `Files:` overlap, run and
//! merged like any plan; each marks its priority complete on its branch as its last step,
//! so the mark reaches the integration branch exactly when its work merges cleanly.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;
use clap::Parser;
use indexmap::IndexMap;

use super::args::{Cli, Command, RoadmapArgs};
use super::run_cmd::run_plan;
use super::{CliError, exit};
use crate::graph;
use crate::plan::{
    Action, Isolation, Plan, Priority, PriorityStatus, Settings, Task, mark_complete, parse_roadmap,
};

/// `fanout roadmap`.
pub(crate) fn roadmap(args: RoadmapArgs, color: bool) -> Result<i32, CliError> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| CliError::usage(format!("failed to read {}: {e}", args.file.display())))?;
    if let Some(number) = args.mark_complete {
        let date = today();
        let marked = mark_complete(&text, number, &date).ok_or_else(|| {
            CliError::usage(format!(
                "{} has no priority {number} with a status to mark",
                args.file.display()
            ))
        })?;
        std::fs::write(&args.file, marked)
            .with_context(|| format!("failed to write {}", args.file.display()))?;
        return Ok(exit::SUCCESS);
    }
    let planned: Vec<Priority> = parse_roadmap(&text)
        .into_iter()
        .filter(|p| p.status == PriorityStatus::Planned)
        .collect();
    if args.check {
        print!("{}", check_text(&planned));
        return Ok(exit::SUCCESS);
    }
    if planned.is_empty() {
        eprintln!(
            "nothing to do: no planned priority in {}",
            args.file.display()
        );
        return Ok(exit::SUCCESS);
    }
    if args.max == 0 {
        return Err(CliError::usage_with_help(
            "`--max 0` would never run anything",
            "give a number of 1 or more",
        ));
    }
    let agent = args.agent.clone().unwrap_or_default();
    let path = args
        .file
        .canonicalize()
        .unwrap_or_else(|_| args.file.clone());
    let base_dir = path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let state_dir = args
        .state_dir
        .clone()
        .unwrap_or_else(|| base_dir.join(".fanout"));
    let sections = state_dir.join("roadmap");
    std::fs::create_dir_all(&sections)
        .with_context(|| format!("failed to create {}", sections.display()))?;
    let exe = std::env::current_exe().context("failed to find fanout's own program")?;
    let name = path
        .file_name()
        .map_or_else(|| "ROADMAP.md".into(), |n| n.to_string_lossy().into_owned());
    let mut tasks = Vec::new();
    for p in &planned {
        let section = sections.join(format!("priority-{}.md", p.number));
        std::fs::write(&section, &p.section)
            .with_context(|| format!("failed to write {}", section.display()))?;
        let script = format!(
            // The newline ends a comment the command may end with.
            "( {agent}\n) < {} && {} roadmap {} --mark-complete {}",
            quote(&section.display().to_string()),
            quote(&exe.display().to_string()),
            quote(&name),
            p.number
        );
        tasks.push(task(p, script, &section));
    }
    // The project file's settings (its `[worktree]` copy and setup above all) apply.
    let defaults = match crate::plan::find_project_file(&base_dir) {
        Some(project) => crate::plan::project_settings(&project)?,
        None => Settings::default(),
    };
    let plan = Plan {
        path,
        base_dir,
        settings: Settings {
            jobs: args.max,
            isolate: Isolation::Worktree,
            ..defaults
        },
        resources: IndexMap::new(),
        env: IndexMap::new(),
        tasks,
        agents: Default::default(),
    };
    let mut argv = vec!["fanout".to_owned(), "run".to_owned()];
    argv.push("--state-dir".into());
    argv.push(state_dir.display().to_string());
    if let Some(into) = &args.into {
        argv.push("--into".into());
        argv.push(into.clone());
    }
    if args.keep_worktrees {
        argv.push("--keep-worktrees".into());
    }
    if args.no_progress {
        argv.push("--no-progress".into());
    }
    let run_args = match Cli::try_parse_from(argv) {
        Ok(Cli {
            command: Command::Run(run_args),
            ..
        }) => run_args,
        _ => return Err(CliError::Internal(anyhow::anyhow!("bad run arguments"))),
    };
    run_plan(plan, run_args, color)
}

fn task(p: &Priority, script: String, section: &Path) -> Task {
    let mut env = IndexMap::new();
    env.insert(
        "FANOUT_PRIORITY_FILE".to_owned(),
        section.display().to_string(),
    );
    env.insert("FANOUT_PRIORITY".to_owned(), p.number.to_string());
    Task {
        subject: Some(p.title.clone()),
        writes: p.files.clone(),
        env,
        isolate: Isolation::Worktree,
        ..Task::new(
            format!("priority-{}", p.number),
            Action::Argv(vec!["sh".into(), "-c".into(), script]),
        )
    }
}

/// The planned priorities, the pairs that may run side by side, and those that touch
/// the same files.
fn check_text(planned: &[Priority]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} planned priorit{}:",
        planned.len(),
        if planned.len() == 1 { "y" } else { "ies" }
    );
    for p in planned {
        let files = if p.files.is_empty() {
            "no files named".to_owned()
        } else {
            p.files.join(", ")
        };
        let _ = writeln!(out, "  {} {}  ({files})", p.number, p.title);
    }
    let writes: Vec<Vec<String>> = planned.iter().map(|p| p.files.clone()).collect();
    let conflicts = graph::write_conflicts(&writes);
    let mut independent = Vec::new();
    let mut overlapping = Vec::new();
    for a in 0..planned.len() {
        for b in a + 1..planned.len() {
            let pair = format!("{} & {}", planned[a].number, planned[b].number);
            if conflicts[a].contains(&b) {
                let shared: Vec<&str> = planned[a]
                    .files
                    .iter()
                    .filter(|f| planned[b].files.contains(f))
                    .map(String::as_str)
                    .collect();
                let why = if shared.is_empty() {
                    "overlapping paths".to_owned()
                } else {
                    shared.join(", ")
                };
                overlapping.push(format!("{pair}  ({why})"));
            } else {
                independent.push(pair);
            }
        }
    }
    let _ = writeln!(out, "independent (may run at once):");
    for pair in &independent {
        let _ = writeln!(out, "  {pair}");
    }
    if independent.is_empty() {
        let _ = writeln!(out, "  none");
    }
    let _ = writeln!(out, "conflicts (run one after the other):");
    for pair in &overlapping {
        let _ = writeln!(out, "  {pair}");
    }
    if overlapping.is_empty() {
        let _ = writeln!(out, "  none");
    }
    out
}

/// Today's date (UTC), `YYYY-MM-DD`.
fn today() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()[..10].to_owned()
}

/// `s` quoted for a POSIX shell.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
