//! The human form of a [`RunSummary`]: counts by outcome, wall time against summed task
//! time, speedup and efficiency, the critical path against the lower bound, and each
//! failure with its exit code or signal and log path.

use std::fmt::Write as _;

use super::format::{human_duration, signal_name};
use super::summary::{RunSummary, TaskStatus};
use crate::events::StopCause;

/// Renders the summary as plain text lines (no colour).
pub fn render_summary(s: &RunSummary) -> String {
    let mut out = String::new();
    let c = &s.counts;
    let mut parts = Vec::new();
    let succeeded = if c.flaky > 0 {
        format!("succeeded ({} flaky)", c.flaky)
    } else {
        "succeeded".to_owned()
    };
    for (n, label) in [
        (c.succeeded, succeeded.as_str()),
        (c.cached, "cached"),
        (c.restored, "succeeded earlier"),
        (c.failed, "failed"),
        (c.merge_conflict, "merge conflict"),
        (c.timed_out, "timed out"),
        (c.errored, "could not start"),
        (c.skipped, "skipped"),
        (c.cancelled, "cancelled"),
        (c.not_run, "not run"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {label}"));
        }
    }
    let _ = writeln!(
        out,
        "Summary: {} task{}: {}   [run {}]",
        c.total,
        if c.total == 1 { "" } else { "s" },
        if parts.is_empty() {
            "none ran".into()
        } else {
            parts.join(", ")
        },
        s.run_id
    );
    let _ = writeln!(
        out,
        "  wall {} · task time {} · speedup {:.2}× · efficiency {:.0}% of {} job{}",
        human_duration(s.wall),
        human_duration(s.task_time),
        s.speedup,
        s.efficiency * 100.0,
        s.jobs,
        if s.jobs == 1 { "" } else { "s" }
    );
    if !s.critical_path.tasks.is_empty() {
        let mut path: Vec<&str> = s.critical_path.tasks.iter().map(String::as_str).collect();
        if path.len() > 6 {
            let n = path.len();
            path.splice(3..n - 2, ["…"]);
        }
        let _ = writeln!(
            out,
            "  critical path {} ({}) · lower bound {} · wall / lower bound {:.2}×",
            human_duration(s.critical_path.duration),
            path.join(" → "),
            human_duration(s.lower_bound),
            s.wall_over_lower_bound
        );
    }
    match &s.stop {
        Some(StopCause::Systemic { first_task, count }) => {
            let _ = writeln!(
                out,
                "  stopped early: the first {count} tasks to finish all failed (likely a systemic problem); first failure: `{first_task}`"
            );
        }
        Some(StopCause::FailFast { task }) => {
            let _ = writeln!(
                out,
                "  stopped early: `{task}` failed and --fail-fast is on"
            );
        }
        Some(StopCause::Interrupted) => {
            let _ = writeln!(out, "  interrupted");
        }
        Some(StopCause::Halt { task, .. }) => {
            let _ = writeln!(
                out,
                "  stopped early: the limit (max_fail or --halt) was reached when `{task}` ended"
            );
        }
        None => {}
    }
    render_agents(s, &mut out);
    let flaky: Vec<_> = s.flaky().collect();
    if !flaky.is_empty() {
        let _ = writeln!(out, "Flaky (failed, then succeeded on a retry):");
        let width = flaky.iter().map(|t| t.id.len()).max().unwrap_or(0).min(40);
        for t in flaky {
            let _ = writeln!(
                out,
                "  {:<width$}  succeeded on attempt {}",
                t.id, t.attempts
            );
        }
    }
    let failures: Vec<_> = s.failures().collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "Failures:");
        let width = failures
            .iter()
            .map(|t| t.id.len())
            .max()
            .unwrap_or(0)
            .min(40);
        for t in failures {
            let why = match (t.status, t.exit_code, t.signal, &t.error) {
                (TaskStatus::TimedOut, ..) => "timed out".to_owned(),
                (TaskStatus::MergeConflict, ..) => {
                    let paths = t.worktree.as_ref().map(|w| w.conflicts.join(", "));
                    format!("merge conflict in {}", paths.unwrap_or_default())
                }
                (_, Some(code), ..) => format!("exit code {code}"),
                (_, _, Some(sig), _) => format!("killed by {}", signal_name(sig)),
                (_, _, _, Some(err)) => err.clone(),
                _ => t.status.label().to_owned(),
            };
            let attempts = if t.attempts > 1 {
                format!(" after {} attempts", t.attempts)
            } else {
                String::new()
            };
            let log = t
                .log
                .as_ref()
                .map(|p| format!("  {}", p.display()))
                .unwrap_or_default();
            let _ = writeln!(out, "  {:<width$}  {why}{attempts}{log}", t.id);
        }
    }
    render_worktrees(s, &mut out);
    out
}

/// Most changed files listed per task; the rest are counted.
const CHANGED_SHOWN: usize = 5;

/// Per task, the files it changed; files changed by parallel tasks; how to merge
/// conflicting branches by hand.
fn render_worktrees(s: &RunSummary, out: &mut String) {
    let changing: Vec<_> = s.tasks.iter().filter(|t| !t.changed.is_empty()).collect();
    if !changing.is_empty() {
        let _ = writeln!(out, "Changed files:");
        for t in changing {
            let mut shown: Vec<&str> = t
                .changed
                .iter()
                .take(CHANGED_SHOWN)
                .map(String::as_str)
                .collect();
            let more = t.changed.len().saturating_sub(CHANGED_SHOWN);
            let more = if more > 0 {
                format!(" (+{more} more)")
            } else {
                String::new()
            };
            if shown.is_empty() {
                shown.push("-");
            }
            let _ = writeln!(out, "  {}: {}{more}", t.id, shown.join(", "));
        }
    }
    if !s.overlaps.is_empty() {
        let _ = writeln!(
            out,
            "Files changed by tasks that ran at the same time (declare them in `writes` to run those tasks one after the other):"
        );
        for o in &s.overlaps {
            let _ = writeln!(out, "  {}: {} and {}", o.path, o.tasks[0], o.tasks[1]);
        }
    }
    for t in &s.tasks {
        let Some(w) = &t.worktree else { continue };
        if w.commands.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "To merge `{}` by hand (branch {}):",
            t.id,
            w.branch.as_deref().unwrap_or("?")
        );
        for c in &w.commands {
            let _ = writeln!(out, "  {c}");
        }
    }
    let kept: Vec<_> = s
        .tasks
        .iter()
        .filter_map(|t| {
            t.worktree
                .as_ref()
                .filter(|w| w.outcome == "kept")
                .map(|w| (t, w))
        })
        .collect();
    if !kept.is_empty() {
        let _ = writeln!(
            out,
            "Kept branches (`fanout clean --worktrees` removes them):"
        );
        for (t, w) in kept {
            let _ = writeln!(
                out,
                "  {}: {}{}",
                t.id,
                w.branch.as_deref().unwrap_or("?"),
                w.path
                    .as_ref()
                    .map(|p| format!("  {}", p.display()))
                    .unwrap_or_default()
            );
        }
    }
}
/// Agent spend per task and in total, notes on limits and the budget, and the tasks the
/// budget left unstarted.
fn render_agents(s: &RunSummary, out: &mut String) {
    let Some(total) = &s.agents else {
        let withheld: Vec<_> = s.tasks.iter().filter(|t| t.withheld.is_some()).collect();
        render_withheld(&withheld, out);
        return;
    };
    let _ = writeln!(out, "Agents:");
    let tasks: Vec<_> = s.tasks.iter().filter(|t| t.agent.is_some()).collect();
    let width = tasks.iter().map(|t| t.id.len()).max().unwrap_or(0).min(40);
    for t in &tasks {
        let a = t.agent.as_ref().expect("filtered");
        let mut line = format!("  {:<width$}  {}", t.id, spend_text(a));
        if let Some(session) = &a.session_id {
            let _ = write!(line, " · session {session}");
        }
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "  {:<width$}  {}", "total", spend_text(total));
    for note in &s.agent_notes {
        let _ = writeln!(out, "  {note}");
    }
    let withheld: Vec<_> = s.tasks.iter().filter(|t| t.withheld.is_some()).collect();
    render_withheld(&withheld, out);
}

fn render_withheld(withheld: &[&super::summary::TaskRecord], out: &mut String) {
    if withheld.is_empty() {
        return;
    }
    let _ = writeln!(out, "Not started:");
    for t in withheld {
        let _ = writeln!(
            out,
            "  {}  {}",
            t.id,
            t.withheld.as_deref().unwrap_or_default()
        );
    }
}

fn spend_text(a: &super::summary::AgentSpend) -> String {
    let mut text = format!(
        "${:.4} · {} in / {} out / {} cached tokens · {} turn{}",
        a.cost_usd,
        a.tokens_in,
        a.tokens_out,
        a.tokens_cached,
        a.turns,
        if a.turns == 1 { "" } else { "s" }
    );
    if a.rate_limited > 0 {
        let _ = write!(text, " · {} rate-limited attempt(s)", a.rate_limited);
    }
    text
}
