//! The terminal reporter: one line per finished task (ok / failed / timed out / skipped /
//! retrying, with its duration), the tail of a failed task's log, optionally every task's
//! output grouped as it finishes, and a progress bar when stderr is a terminal.
//! Status lines go to stderr; task output (`--output all`) goes to stdout.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use console::Style;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use super::format::{human_duration, signal_name};
use crate::events::{AttemptStatus, Event, EventSink, StopCause, WorkspaceOutcome};

/// Which task output to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputMode {
    /// The tail of each failed task's output.
    Failed,
    /// Every task's whole output, grouped as it finishes.
    All,
    /// Every line as it is written, after its task's id (tasks' lines interleave; lines
    /// never mix).
    Lines,
    /// No task output.
    None,
}

/// How the terminal reporter behaves.
#[derive(Clone, Debug)]
pub struct TerminalOptions {
    pub output: OutputMode,
    /// Draw a progress bar (only sensible when stderr is a terminal).
    pub progress: bool,
    pub color: bool,
    /// Lines of a failed task's log to show.
    pub tail_lines: usize,
    /// Also say how long hashing each task's inputs took.
    pub verbose: bool,
    /// Expected seconds of each task of the run (0 for tasks outside it) and the jobs:
    /// the progress bar's time-left estimate (remembered durations, estimates).
    pub expected: Option<(Vec<f64>, usize)>,
}

/// What is left to do, in expected seconds, for the time-left estimate.
#[derive(Debug, Default)]
struct Remaining {
    expected: Vec<f64>,
    jobs: usize,
    /// Expected seconds of tasks that have not ended.
    left: f64,
    running: std::collections::HashMap<usize, Instant>,
}

impl Remaining {
    fn seconds_left(&self) -> f64 {
        let under_way: f64 = self
            .running
            .iter()
            .map(|(i, since)| since.elapsed().as_secs_f64().min(self.expected[*i]))
            .sum();
        (self.left - under_way).max(0.0) / self.jobs.max(1) as f64
    }
}

type Running = Arc<Mutex<Vec<(String, Instant)>>>;
type Left = Arc<Mutex<Remaining>>;

/// See the module documentation.
pub struct TerminalReporter {
    options: TerminalOptions,
    bar: Option<ProgressBar>,
    running: Running,
    left: Option<Left>,
    width: usize,
    styles: Styles,
    /// Lines to print after the next status line (how to resolve a merge conflict).
    after_status: Option<String>,
    /// With [`OutputMode::Lines`]: the id of each task that started, by index.
    ids: std::collections::HashMap<usize, String>,
}

struct Styles {
    ok: Style,
    fail: Style,
    warn: Style,
    dim: Style,
}

impl TerminalReporter {
    /// `total`: tasks in the run (for the progress bar); `width`: longest task id shown.
    pub fn new(options: TerminalOptions, total: usize, width: usize) -> Self {
        let running: Running = Arc::default();
        let left: Option<Left> = options.expected.clone().map(|(expected, jobs)| {
            Arc::new(Mutex::new(Remaining {
                left: expected.iter().sum(),
                expected,
                jobs,
                running: Default::default(),
            }))
        });
        let bar = options
            .progress
            .then(|| progress_bar(total, running.clone(), left.clone()));
        let plain = Style::new().force_styling(false);
        let styles = if options.color {
            Styles {
                ok: Style::new().green().bold().force_styling(true),
                fail: Style::new().red().bold().force_styling(true),
                warn: Style::new().yellow().bold().force_styling(true),
                dim: Style::new().dim().force_styling(true),
            }
        } else {
            Styles {
                ok: plain.clone(),
                fail: plain.clone(),
                warn: plain.clone(),
                dim: plain,
            }
        };
        TerminalReporter {
            options,
            bar,
            running,
            left,
            width: width.min(40),
            styles,
            after_status: None,
            ids: std::collections::HashMap::new(),
        }
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => {
                // One write per line, so lines from several processes never interleave.
                let mut line = String::with_capacity(text.len() + 1);
                line.push_str(text);
                line.push('\n');
                let _ = io::stderr().lock().write_all(line.as_bytes());
            }
        }
    }

    fn status_line(&self, label: &str, style: &Style, id: &str, detail: &str) {
        let label = style.apply_to(format!("{label:>9}"));
        let line = format!("{label} {id:<width$} {detail}", width = self.width);
        self.line(line.trim_end());
    }

    fn print_output(&self, id: &str, status: &str, log: Option<&Path>) {
        let print = || -> io::Result<()> {
            let mut out = io::stdout().lock();
            writeln!(out, "── {id} ({status}) ──")?;
            if let Some(Ok(mut file)) = log.map(File::open) {
                io::copy(&mut file, &mut out)?;
            }
            out.flush()
        };
        // A closed stdout is not our error to report.
        let _ = match &self.bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        };
    }

    fn print_tail(&self, log: &Path) {
        let lines = tail(log, self.options.tail_lines);
        if lines.is_empty() {
            return;
        }
        let mut text = String::new();
        for l in lines {
            let _ = writeln!(text, "  {} {l}", self.styles.dim.apply_to("│"));
        }
        self.line(text.trim_end_matches('\n'));
        self.line(&format!(
            "  {} {}",
            self.styles.dim.apply_to("└"),
            self.styles.dim.apply_to(log.display())
        ));
    }

    fn workspace_finished(&mut self, task: &str, outcome: &WorkspaceOutcome) {
        let s = &self.styles;
        match outcome {
            WorkspaceOutcome::Merged { into, changed, .. } => {
                if self.options.verbose {
                    let detail = format!("{} file(s) changed, merged into {into}", changed.len());
                    self.status_line("merged", &s.dim, task, &detail);
                }
            }
            WorkspaceOutcome::Conflict {
                branch, commands, ..
            } => {
                let mut text = format!(
                    "  {} branch {branch} kept; to merge it by hand:",
                    s.dim.apply_to("│")
                );
                for c in commands {
                    let _ = write!(text, "\n  {} {c}", s.dim.apply_to("│"));
                }
                // Shown under the task's status line, which comes next.
                self.after_status = Some(text);
            }
            WorkspaceOutcome::Kept {
                branch, worktree, ..
            } => {
                let place = worktree
                    .as_ref()
                    .map(|w| format!(" (worktree {})", w.display()))
                    .unwrap_or_default();
                self.status_line("kept", &s.dim, task, &format!("branch {branch}{place}"));
            }
            WorkspaceOutcome::Unchanged | WorkspaceOutcome::Failed { .. } => {}
        }
    }

    fn set_running(&self, index_id: &str, start: bool) {
        let mut running = self
            .running
            .lock()
            .expect("the running list is never poisoned");
        if start {
            running.push((index_id.to_owned(), Instant::now()));
        } else if let Some(pos) = running.iter().position(|(id, _)| id == index_id) {
            running.remove(pos);
        }
    }
}

fn progress_bar(total: usize, running: Running, left: Option<Left>) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{spinner} {elapsed_precise} [{bar:25}] {pos}/{len} {left}  {msg}{running}",
    )
    .expect("the template is valid")
    .progress_chars("=> ")
    .with_key(
        "left",
        move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            // Remembered durations when there are any; else indicatif's rate.
            let secs = match &left {
                Some(left) => left.lock().map_or(0.0, |l| l.seconds_left()),
                None => state.eta().as_secs_f64(),
            };
            let _ = write!(
                w,
                "about {} left",
                human_duration(Duration::from_secs_f64(secs))
            );
        },
    )
    .with_key(
        "running",
        move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
            let running = running.lock().expect("the running list is never poisoned");
            let shown: Vec<String> = running
                .iter()
                .take(4)
                .map(|(id, since)| format!("{id} {}s", since.elapsed().as_secs()))
                .collect();
            let _ = write!(w, "{}", shown.join(", "));
            if running.len() > 4 {
                let _ = write!(w, " +{}", running.len() - 4);
            }
        },
    );
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// The last `n` lines of a file, read from its end so a huge log is never held in memory.
fn tail(path: &Path, n: usize) -> Vec<String> {
    let Ok(mut file) = File::open(path) else {
        return Vec::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let window = 64 * 1024;
    let from = len.saturating_sub(window);
    if file.seek(SeekFrom::Start(from)).is_err() {
        return Vec::new();
    }
    let mut lines: Vec<String> = BufReader::new(file)
        .split(b'\n')
        .map_while(Result::ok)
        .map(|l| {
            String::from_utf8_lossy(&l)
                .trim_end_matches('\r')
                .to_owned()
        })
        .collect();
    if from > 0 && !lines.is_empty() {
        lines.remove(0); // a partial first line
    }
    let skip = lines.len().saturating_sub(n);
    lines.split_off(skip)
}

/// A few words on how an attempt ended (`exit code 1`, `timed out after 2s`, …).
pub fn failure_detail(status: &AttemptStatus) -> String {
    match status {
        AttemptStatus::Success => String::new(),
        AttemptStatus::Failed { exit_code } => format!("exit code {exit_code}"),
        AttemptStatus::Signaled { signal } => format!("killed by {}", signal_name(*signal)),
        AttemptStatus::TimedOut { after } => format!("timed out after {}", human_duration(*after)),
        AttemptStatus::SpawnFailed { message } => message.clone(),
        AttemptStatus::AgentFailed { message } => format!("agent: {message}"),
        AttemptStatus::Cancelled => "cancelled".into(),
        AttemptStatus::Cached { from_run } => format!("cached (run {from_run})"),
        AttemptStatus::MergeConflict { paths } => format!("merge conflict in {}", paths.join(", ")),
        AttemptStatus::WorkspaceFailed { message } => message.clone(),
    }
}

impl EventSink for TerminalReporter {
    fn emit(&mut self, event: &Event) {
        match event {
            Event::RunStarted { .. } | Event::AttemptSpawned { .. } | Event::TaskAdded { .. } => {}
            Event::OutputLine { index, line, .. } => {
                if self.options.output == OutputMode::Lines
                    && let Some(id) = self.ids.get(index)
                {
                    let text = String::from_utf8_lossy(line);
                    let text = text.strip_suffix('\n').unwrap_or(&text);
                    let text = text.strip_suffix('\r').unwrap_or(text);
                    let prefix = format!("{id:<width$} │", width = self.width);
                    self.line(&format!("{} {text}", self.styles.dim.apply_to(prefix)));
                }
            }
            Event::TaskStarted { task, index, .. } => {
                if self.options.output == OutputMode::Lines {
                    self.ids.insert(*index, task.clone());
                }
                self.set_running(task, true);
                if let Some(left) = &self.left
                    && let Ok(mut l) = left.lock()
                {
                    l.running.insert(*index, Instant::now());
                }
            }
            Event::AttemptFinished {
                index,
                task,
                attempt,
                status,
                duration,
                log,
                retry_in,
                hashing,
                ..
            } => {
                self.set_running(task, false);
                if let Some(left) = &self.left
                    && let Ok(mut l) = left.lock()
                {
                    l.running.remove(index);
                    if retry_in.is_none() {
                        l.left -= l.expected[*index];
                    }
                }
                if self.options.verbose
                    && let Some(h) = hashing
                {
                    let detail = format!(
                        "hashed {} input file(s), {} bytes, in {}",
                        h.files,
                        h.bytes,
                        human_duration(h.took)
                    );
                    self.status_line("inputs", &self.styles.dim, task, &detail);
                    if let Some(changed) = &h.changed {
                        self.status_line("changed", &self.styles.dim, task, changed);
                    }
                }
                let took = human_duration(*duration);
                let s = &self.styles;
                if let Some(delay) = retry_in {
                    let detail = format!(
                        "attempt {attempt} failed ({}); retrying in {}",
                        failure_detail(status),
                        human_duration(*delay)
                    );
                    self.status_line("RETRY", &s.warn, task, &detail);
                } else {
                    if let Some(bar) = &self.bar {
                        bar.inc(1);
                    }
                    let tries = if *attempt > 1 {
                        format!(" (attempt {attempt})")
                    } else {
                        String::new()
                    };
                    match status {
                        AttemptStatus::Success => {
                            self.status_line("ok", &s.ok, task, &format!("{took}{tries}"));
                        }
                        AttemptStatus::Cancelled => {
                            self.status_line("CANCELLED", &s.warn, task, &took);
                        }
                        AttemptStatus::Cached { from_run } => {
                            self.status_line(
                                "cached",
                                &s.ok,
                                task,
                                &format!("unchanged since run {from_run}"),
                            );
                        }
                        AttemptStatus::MergeConflict { .. } => self.status_line(
                            "CONFLICT",
                            &s.fail,
                            task,
                            &format!("{}{tries}", failure_detail(status)),
                        ),
                        AttemptStatus::TimedOut { .. } => self.status_line(
                            "TIMEOUT",
                            &s.fail,
                            task,
                            &format!("{}{tries}", failure_detail(status)),
                        ),
                        _ => self.status_line(
                            "FAILED",
                            &s.fail,
                            task,
                            &format!("{} after {took}{tries}", failure_detail(status)),
                        ),
                    }
                }
                if let Some(text) = self.after_status.take() {
                    self.line(&text);
                }
                let failed = !status.is_success() && *status != AttemptStatus::Cancelled;
                match self.options.output {
                    OutputMode::All => {
                        let label = if status.is_success() { "ok" } else { "failed" };
                        self.print_output(task, label, log.as_deref());
                    }
                    OutputMode::Failed if failed && retry_in.is_none() => {
                        if let Some(log) = log {
                            self.print_tail(log);
                        }
                    }
                    _ => {}
                }
            }
            Event::WorkspaceFinished { task, outcome, .. } => {
                self.workspace_finished(task, outcome)
            }
            Event::TaskSkipped {
                task,
                because,
                index,
            } => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
                if let Some(left) = &self.left
                    && let Ok(mut l) = left.lock()
                {
                    l.left -= l.expected[*index];
                }
                let detail = format!("dependency `{because}` did not succeed");
                self.status_line("SKIPPED", &self.styles.warn, task, &detail);
            }
            Event::TaskSlow { task, elapsed, .. } => {
                let detail = format!("running for more than {}", human_duration(*elapsed));
                self.status_line("SLOW", &self.styles.warn, task, &detail);
            }
            Event::SerialRetry { task, .. } => {
                self.status_line("RETRY", &self.styles.warn, task, "once more, on its own");
            }
            Event::RunStopping { cause } => {
                let text = match cause {
                    StopCause::FailFast { task } => {
                        format!("stopping: `{task}` failed (fail-fast); terminating running tasks")
                    }
                    StopCause::Systemic { first_task, count } => format!(
                        "stopping: the first {count} tasks to finish all failed, likely a \
                         systemic problem; first failure: `{first_task}`"
                    ),
                    StopCause::Interrupted => {
                        "interrupted: terminating running tasks (Ctrl-C again to kill them now)"
                            .into()
                    }
                    StopCause::Halt { task, now: true } => format!(
                        "halting: the threshold was reached when `{task}` ended; \
                         terminating running tasks"
                    ),
                    StopCause::Halt { task, now: false } => format!(
                        "stopping: the failure limit (max_fail) was reached when `{task}` \
                         failed; starting nothing new, waiting for running tasks"
                    ),
                };
                self.line(&self.styles.warn.apply_to(text).to_string());
            }
            Event::TaskWithheld { task, reason, .. } => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
                self.status_line("NOT RUN", &self.styles.warn, task, reason);
            }
            Event::LimitChanged { limit, reason, .. } => {
                let text = format!("limit `{limit}`: {reason}");
                self.line(&self.styles.warn.apply_to(text).to_string());
            }
            Event::BudgetWarning {
                spent_usd,
                spent_tokens,
                budget_usd,
                budget_tokens,
            } => {
                let text = format!(
                    "warning: {}",
                    super::collector::budget_note(
                        *spent_usd,
                        *spent_tokens,
                        *budget_usd,
                        *budget_tokens
                    )
                );
                self.line(&self.styles.warn.apply_to(text).to_string());
            }
            Event::HeldBack { reason } => {
                let text = match reason {
                    Some(why) => format!("waiting for resources: {why}"),
                    None => "resources available again: starting tasks".to_owned(),
                };
                if let Some(bar) = &self.bar {
                    bar.set_message(if reason.is_some() {
                        "waiting for resources; running: "
                    } else {
                        ""
                    });
                }
                self.line(&self.styles.warn.apply_to(text).to_string());
            }
            Event::Suspended { tasks, reason } => {
                let text = match reason {
                    Some(why) => format!("{tasks} running task(s) stopped: {why}"),
                    None => "memory available again: stopped tasks continued".to_owned(),
                };
                self.line(&self.styles.warn.apply_to(text).to_string());
            }
            Event::KillingNow => {
                self.line(
                    &self
                        .styles
                        .fail
                        .apply_to("killing running tasks now")
                        .to_string(),
                );
            }
            Event::RunFinished { .. } => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_reads_only_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let text: String = (1..=100).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&path, text).unwrap();
        assert_eq!(tail(&path, 3), ["line 98", "line 99", "line 100"]);
        assert!(tail(&dir.path().join("missing"), 3).is_empty());
    }
}
