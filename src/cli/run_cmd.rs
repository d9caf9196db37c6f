//! `fanout run` and `fanout plan`: from arguments to a loaded plan, to the runner or the
//! analysis, to the reporters, to an exit code.

use std::io::{IsTerminal, Write};
use std::time::SystemTime;

use anyhow::Context;

use super::args::{AnalysisFormat, PlanArgs, RunArgs};
use super::select::select_tasks;
use super::source::load_plan;
use super::{CliError, exit};
use crate::events::Fanout;
use crate::graph::{self, Dag};
use crate::plan::{Action, Plan};
use crate::report::analysis;
use crate::report::{
    SummaryCollector, TerminalOptions, TerminalReporter, render_summary, write_junit,
};
use crate::runner::{self, RunOptions};
use crate::scheduler::SchedulerConfig;

/// `fanout run`.
pub(crate) fn run(args: RunArgs, color: bool) -> Result<i32, CliError> {
    let mut plan = load_plan(&args.source)?;
    apply_overrides(&mut plan, &args)?;
    let dag = build_dag(&plan)?;
    let selected = select_tasks(&plan, &dag, &args.tasks)?;
    refuse_agent_tasks(&plan, &selected)?;
    let weights = expected_weights(&plan);
    let writes: Vec<Vec<String>> = plan.tasks.iter().map(|t| t.writes.clone()).collect();
    let conflicts = graph::write_conflicts(&writes);
    let config = SchedulerConfig {
        jobs: plan.settings.jobs,
        keep_going: plan.settings.keep_going,
        retry_failed_serially: plan.settings.retry_failed_serially,
        systemic_failure_stop: plan.settings.systemic_failure_stop,
        seed: seed(),
        halt: None,
    };

    if args.dry_run {
        let order =
            super::dry_run::start_order(&plan, &dag, &selected, &weights, &conflicts, config);
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

    let state_dir = args
        .state_dir
        .clone()
        .unwrap_or_else(|| plan.base_dir.join(".fanout"));
    let run_id = new_run_id();
    let options = RunOptions {
        run_id: run_id.clone(),
        log_dir: state_dir.join("logs").join(&run_id),
        selected: selected.clone(),
        weights,
        conflicts,
        scheduler: config,
        grace: plan.settings.grace,
        separate_stderr: false,
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
        },
        total,
        width,
    );
    let mut collector = SummaryCollector::new(&plan, &selected);
    let result = {
        let mut sinks = Fanout::new();
        sinks.push(&mut terminal);
        sinks.push(&mut collector);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
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
    } else if result.all_succeeded() {
        exit::SUCCESS
    } else {
        exit::TASKS_FAILED
    })
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
        AnalysisFormat::Text => {
            analysis::render_text(&graph::analyse(&plan, &dag, &expected_weights(&plan)))
        }
        AnalysisFormat::Json => {
            analysis::render_json(&graph::analyse(&plan, &dag, &expected_weights(&plan)))
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
    if args.fail_fast {
        settings.keep_going = false;
    }
    if args.retry_failed_serially {
        settings.retry_failed_serially = true;
    }
    if args.no_systemic_stop {
        settings.systemic_failure_stop = false;
    }
    Ok(())
}

pub(crate) fn build_dag(plan: &Plan) -> Result<Dag, CliError> {
    // Validation already refused cycles; this cannot fail on a loaded plan.
    Dag::new(plan.tasks.iter().map(|t| t.deps.clone()).collect())
        .map_err(|_| CliError::Internal(anyhow::anyhow!("the validated plan has a cycle")))
}

fn refuse_agent_tasks(plan: &Plan, selected: &[bool]) -> Result<(), CliError> {
    let agents: Vec<&str> = plan
        .tasks
        .iter()
        .zip(selected)
        .filter(|(t, s)| **s && matches!(t.action, Action::Agent { .. }))
        .map(|(t, _)| t.id.as_str())
        .collect();
    match agents.as_slice() {
        [] => Ok(()),
        [first, ..] => Err(CliError::usage_with_help(
            format!(
                "task `{first}` is an agent task (it has a `prompt` and no `run`){}; \
                 `fanout run` cannot run agent tasks yet",
                if agents.len() > 1 {
                    format!(", and so are {} more", agents.len() - 1)
                } else {
                    String::new()
                }
            ),
            "give the task a `run` command, or run only other tasks: `fanout run PLAN TASK...`",
        )),
    }
}

/// Expected seconds per task: its estimate, else 1.
pub(crate) fn expected_weights(plan: &Plan) -> Vec<f64> {
    graph::default_weights(plan)
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
