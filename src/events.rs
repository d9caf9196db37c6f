//! The one event type between the runner and the reporters. The runner emits; reporters
//! (terminal lines, progress, JSON, JUnit, later the store and the dashboard) render.
//! Serializable so a JSON-lines reporter can write it as is.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde::Serialize;

pub use crate::agent::AgentResult;

/// How one attempt of a task ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AttemptStatus {
    /// Exit status 0.
    Success,
    /// Exited with a non-zero status.
    Failed { exit_code: i32 },
    /// Killed by a signal it did not ask for (not a timeout, not fanout's cancel).
    Signaled { signal: i32 },
    /// Ran past its timeout; its process group was terminated.
    TimedOut { after: Duration },
    /// Could not be started at all (program missing, bad cwd, ...).
    SpawnFailed { message: String },
    /// Terminated by fanout (fail-fast or Ctrl-C).
    Cancelled,
    /// The process exited with 0 but the agent reported a failure (or overspent).
    AgentFailed { message: String },
    /// Not run: an earlier successful attempt (of run `from_run`) had the same cache key
    /// and its outputs still exist.
    Cached { from_run: String },
    /// The task succeeded in its worktree, but its branch does not merge cleanly into the
    /// integration branch: nothing was merged, its branch and worktree are kept.
    MergeConflict { paths: Vec<String> },
    /// Its worktree could not be prepared (setup, copy) or its work could not be brought
    /// back (a git command failed).
    WorkspaceFailed { message: String },
}

impl AttemptStatus {
    /// Success, whether run now or found in the cache.
    pub fn is_success(&self) -> bool {
        matches!(self, AttemptStatus::Success | AttemptStatus::Cached { .. })
    }
}

/// How a whole run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    Succeeded,
    Failed,
    Interrupted,
}

/// What computing a task's cache key took.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HashingStats {
    pub files: usize,
    pub bytes: u64,
    pub took: Duration,
    /// Why the task ran rather than being skipped: what changed since its last success
    /// (`None` when it was skipped, or nothing is known).
    pub changed: Option<String>,
}

/// What became of an isolated task's worktree and branch after its attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WorkspaceOutcome {
    /// Its work is on the integration branch (`commit` is the branch's new tip).
    Merged {
        into: String,
        commit: String,
        /// Files the task changed (against the commit it started from).
        changed: Vec<String>,
        /// Merges of this run its worktree started after.
        seen: usize,
        /// This merge's number in the run (1 for the first).
        number: usize,
    },
    /// It changed nothing; its worktree and branch are gone.
    Unchanged,
    /// Its branch does not merge cleanly; nothing was touched.
    Conflict {
        into: String,
        branch: String,
        worktree: PathBuf,
        /// The files both sides changed in incompatible ways.
        paths: Vec<String>,
        changed: Vec<String>,
        /// Shell commands that merge it by hand, in order.
        commands: Vec<String>,
        seen: usize,
    },
    /// Its branch (and worktree, unless removed) are kept unmerged: the task failed, or
    /// `merge = "none"`.
    Kept {
        branch: String,
        worktree: Option<PathBuf>,
        changed: Vec<String>,
        seen: usize,
    },
    /// A git command (or the setup) failed; `message` says which and why.
    Failed { message: String },
}

impl WorkspaceOutcome {
    /// The files the task changed, when known.
    pub fn changed(&self) -> &[String] {
        match self {
            WorkspaceOutcome::Merged { changed, .. }
            | WorkspaceOutcome::Conflict { changed, .. }
            | WorkspaceOutcome::Kept { changed, .. } => changed,
            WorkspaceOutcome::Unchanged | WorkspaceOutcome::Failed { .. } => &[],
        }
    }

    /// How many of the run's merges the task's worktree started after, and this task's
    /// own merge number when merged. Two tasks worked side by side when neither's merge
    /// was among those the other started after.
    pub fn order(&self) -> Option<(usize, Option<usize>)> {
        match self {
            WorkspaceOutcome::Merged { seen, number, .. } => Some((*seen, Some(*number))),
            WorkspaceOutcome::Conflict { seen, .. } | WorkspaceOutcome::Kept { seen, .. } => {
                Some((*seen, None))
            }
            WorkspaceOutcome::Unchanged | WorkspaceOutcome::Failed { .. } => None,
        }
    }
}

/// Why the run stopped starting new tasks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StopCause {
    /// Fail-fast after this task failed.
    FailFast { task: String },
    /// The first tasks to finish all failed.
    Systemic { first_task: String, count: usize },
    /// Ctrl-C (or SIGTERM) received.
    Interrupted,
    /// The halt policy's threshold was reached when this task ended. `now`: running tasks
    /// are terminated; otherwise they finish.
    Halt { task: String, now: bool },
}

/// Something that happened during a run.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A line a running attempt wrote (only when the run streams lines: `map --line-buffer`).
    OutputLine {
        index: usize,
        attempt: u32,
        /// Written to stderr rather than stdout.
        stderr: bool,
        #[serde(serialize_with = "lossy_text")]
        line: Vec<u8>,
    },
    RunStarted {
        run_id: String,
        plan: PathBuf,
        /// Tasks selected for this run.
        tasks: usize,
        jobs: usize,
        log_dir: PathBuf,
        at: SystemTime,
    },
    /// A task joined the run while it was under way (`fanout map` reading its inputs):
    /// its index is the next one. Unless `selected`, it only holds its place.
    TaskAdded {
        index: usize,
        task: String,
        selected: bool,
    },
    TaskStarted {
        index: usize,
        task: String,
        attempt: u32,
        /// The slot the attempt holds, 1..=jobs, the lowest free one (GNU parallel's `{%}`).
        slot: usize,
        at: SystemTime,
        /// Time since the run started.
        offset: Duration,
    },
    /// A running attempt has been running for `elapsed`, a multiple of the plan's `slow`
    /// period (nextest's SLOW notice).
    TaskSlow {
        index: usize,
        task: String,
        attempt: u32,
        elapsed: Duration,
    },
    /// The attempt's process exists: `pid` is also its process group id.
    AttemptSpawned {
        index: usize,
        task: String,
        attempt: u32,
        pid: u32,
        /// The boot-time clock read just after the spawn, in /proc's clock ticks: the
        /// process started no later than this (with its pid, it names the process across a
        /// crash of fanout).
        boot_ticks: Option<u64>,
    },
    AttemptFinished {
        index: usize,
        task: String,
        attempt: u32,
        status: AttemptStatus,
        duration: Duration,
        at: SystemTime,
        offset: Duration,
        /// The attempt's log file; `None` when it wrote no output.
        log: Option<PathBuf>,
        /// The attempt's stderr log, when stderr is kept apart from the log and the
        /// attempt wrote there (or may still).
        #[serde(skip_serializing_if = "Option::is_none")]
        stderr_log: Option<PathBuf>,
        /// `Some(delay)`: the task will be tried again after `delay`.
        retry_in: Option<Duration>,
        /// The task's cache key, when it declares inputs.
        cache_key: Option<String>,
        /// What computing the key took.
        hashing: Option<HashingStats>,
        /// What an agent task's agent reported: result, cost, tokens, session.
        agent: Option<Box<AgentResult>>,
    },
    /// An agent task was not started and will not be in this run (its budget is spent).
    TaskWithheld {
        index: usize,
        task: String,
        reason: String,
    },
    /// A rate limit changed: its concurrency adapted, or its circuit breaker opened or
    /// closed.
    LimitChanged {
        limit: String,
        concurrency: Option<u32>,
        reason: String,
    },
    /// The run's agent spend passed a share of its budget.
    BudgetWarning {
        spent_usd: f64,
        spent_tokens: u64,
        budget_usd: Option<f64>,
        budget_tokens: Option<u64>,
    },
    /// An isolated task's worktree after its attempt (sent before its `AttemptFinished`).
    WorkspaceFinished {
        index: usize,
        task: String,
        attempt: u32,
        outcome: WorkspaceOutcome,
    },
    TaskSkipped {
        index: usize,
        task: String,
        /// The dependency that did not succeed.
        because: String,
    },
    /// A failed task gets one more attempt on its own after everything else finished.
    SerialRetry {
        index: usize,
        task: String,
    },
    RunStopping {
        cause: StopCause,
    },
    /// New starts wait for the machine (`max_cpu`, `max_memory`): `Some(why)` when they
    /// begin to wait or the reason changes, `None` when they may start again.
    HeldBack {
        reason: Option<String>,
    },
    /// Running tasks were stopped or continued by the memory available (`fanout map
    /// --memsuspend`): `tasks` are stopped now, `Some(why)` while any are.
    Suspended {
        tasks: usize,
        reason: Option<String>,
    },
    /// A second interrupt: running tasks are killed at once.
    KillingNow,
    RunFinished {
        at: SystemTime,
        wall: Duration,
        interrupted: bool,
        outcome: RunOutcome,
    },
}

/// Where the runner sends events. Reporters implement it; the runner calls it in order,
/// from its one dispatcher, so implementations see a consistent sequence. `TaskStarted`
/// is emitted, and `flush` called, before the attempt's process is spawned.
pub trait EventSink {
    fn emit(&mut self, event: &Event);

    /// Called by the dispatcher at the end of each turn, before it waits again, and so
    /// before the attempts started in the turn spawn their processes: a sink that must
    /// have them on record first (the store's journal) writes what it has gathered.
    fn flush(&mut self) {}
}

/// Sends every event to several sinks in turn.
#[derive(Default)]
pub struct Fanout<'a> {
    sinks: Vec<&'a mut dyn EventSink>,
}

impl<'a> Fanout<'a> {
    pub fn new() -> Self {
        Fanout { sinks: Vec::new() }
    }
    pub fn push(&mut self, sink: &'a mut dyn EventSink) {
        self.sinks.push(sink);
    }
}

impl EventSink for Fanout<'_> {
    fn emit(&mut self, event: &Event) {
        for sink in &mut self.sinks {
            sink.emit(event);
        }
    }

    fn flush(&mut self) {
        for sink in &mut self.sinks {
            sink.flush();
        }
    }
}

/// Output bytes as text in serialized events (invalid UTF-8 replaced).
fn lossy_text<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(bytes))
}

#[cfg(test)]
impl Event {
    /// Attempt `attempt` of task `index` (id: its number from 1) ended with `status`, with
    /// nothing else said: for reporters' tests.
    pub(crate) fn test_finished(
        index: usize,
        attempt: u32,
        status: AttemptStatus,
        retry_in: Option<Duration>,
    ) -> Event {
        Event::AttemptFinished {
            index,
            task: (index + 1).to_string(),
            attempt,
            status,
            duration: Duration::ZERO,
            at: SystemTime::UNIX_EPOCH,
            offset: Duration::ZERO,
            log: None,
            stderr_log: None,
            retry_in,
            cache_key: None,
            hashing: None,
            agent: None,
        }
    }
}
