//! The run summary: collected from events, it knows what every task did and computes the
//! figures that tell how much parallelism saved: wall time against summed task time,
//! speedup, efficiency, the observed critical path and the lower bound. Its JSON form is
//! documented in `docs/run-json.md` and versioned.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::format::timestamp;
use crate::events::{AgentResult, StopCause, WorkspaceOutcome};

/// Version of the JSON result; bump on incompatible change.
pub const RUN_SCHEMA_VERSION: u32 = 1;

/// How a task ended, as reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Succeeded,
    /// Not run: an earlier success had the same cache key.
    Cached,
    /// Not run: it succeeded in the run being resumed.
    Restored,
    Failed,
    TimedOut,
    /// Could not be started.
    Errored,
    /// A dependency did not succeed.
    Skipped,
    /// Terminated by fanout (fail-fast or interrupt).
    Cancelled,
    /// Never started because the run stopped.
    NotRun,
    /// Succeeded in its worktree, but its branch does not merge cleanly.
    MergeConflict,
}

impl TaskStatus {
    pub fn label(self) -> &'static str {
        match self {
            TaskStatus::Succeeded => "succeeded",
            TaskStatus::Cached => "cached",
            TaskStatus::Restored => "succeeded earlier",
            TaskStatus::Failed => "failed",
            TaskStatus::TimedOut => "timed out",
            TaskStatus::Errored => "could not start",
            TaskStatus::Skipped => "skipped",
            TaskStatus::Cancelled => "cancelled",
            TaskStatus::NotRun => "not run",
            TaskStatus::MergeConflict => "merge conflict",
        }
    }
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            TaskStatus::Failed
                | TaskStatus::TimedOut
                | TaskStatus::Errored
                | TaskStatus::MergeConflict
        )
    }
}

/// One task in the summary.
#[derive(Clone, Debug, Serialize)]
pub struct TaskRecord {
    pub id: String,
    #[serde(skip)]
    pub index: usize,
    pub status: TaskStatus,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub attempts: u32,
    #[serde(serialize_with = "ser_time")]
    pub start: Option<SystemTime>,
    #[serde(serialize_with = "ser_time")]
    pub end: Option<SystemTime>,
    /// Summed duration of all its attempts.
    #[serde(rename = "duration_secs", serialize_with = "ser_secs")]
    pub duration: Duration,
    pub log: Option<PathBuf>,
    /// For skipped tasks: the dependency that did not succeed.
    pub skipped_because: Option<String>,
    /// For tasks that could not start: why.
    pub error: Option<String>,
    /// For tasks with inputs that ran: why they were not skipped (what changed since
    /// their last success).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ran_because: Option<String>,
    /// For tasks run in a worktree: the files they changed (empty otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<String>,
    /// For tasks run in a worktree: their branch and worktree when kept, and for merge
    /// conflicts the conflicting paths and the commands to merge by hand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worktree: Option<WorktreeRecord>,
    /// Merges the task's worktree started after, and its own merge number.
    #[serde(skip)]
    pub merge_order: Option<(usize, Option<usize>)>,
    /// For agent tasks: what the agent reported, summed over attempts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentSpend>,
    /// For agent tasks never started: why (a spent budget).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withheld: Option<String>,
    #[serde(skip)]
    pub start_offset: Option<Duration>,
    #[serde(skip)]
    pub end_offset: Option<Duration>,
}

impl TaskRecord {
    /// Succeeded, but not on its first attempt: an earlier one failed.
    pub fn is_flaky(&self) -> bool {
        self.status == TaskStatus::Succeeded && self.attempts > 1
    }
}

/// What is left of a task's worktree, and how to finish its merge.
#[derive(Clone, Debug, Default, Serialize)]
pub struct WorktreeRecord {
    /// `merged`, `unchanged`, `conflict`, `kept` or `failed`.
    pub outcome: &'static str,
    /// The branch, when kept.
    pub branch: Option<String>,
    /// The worktree directory, when kept.
    pub path: Option<PathBuf>,
    /// The integration branch's new tip, when merged.
    pub commit: Option<String>,
    /// For a conflict: the conflicting files.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    /// For a conflict: shell commands that merge it by hand.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<String>,
}

/// A file changed by two tasks that ran at the same time without declaring it in
/// overlapping `writes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Overlap {
    pub path: String,
    pub tasks: [String; 2],
}

/// What agents reported, summed (over a task's attempts, or over a run's tasks).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AgentSpend {
    /// The agent of the last attempt.
    pub agent: String,
    pub model: Option<String>,
    pub cost_usd: f64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub tokens_cached: u64,
    pub turns: u64,
    /// The session of the last attempt that reported one.
    pub session_id: Option<String>,
    /// Attempts that met a rate limit (retried, not counted as failures).
    pub rate_limited: u32,
}

impl AgentSpend {
    pub(super) fn add(&mut self, r: &AgentResult) {
        self.agent.clone_from(&r.agent);
        if r.model.is_some() {
            self.model.clone_from(&r.model);
        }
        self.cost_usd += r.cost_usd.unwrap_or(0.0);
        self.tokens_in += r.tokens_in.unwrap_or(0);
        self.tokens_out += r.tokens_out.unwrap_or(0);
        self.tokens_cached += r.tokens_cached.unwrap_or(0);
        self.turns += u64::from(r.turns.unwrap_or(0));
        if r.session_id.is_some() {
            self.session_id.clone_from(&r.session_id);
        }
        if r.rate_limited.is_some() {
            self.rate_limited += 1;
        }
    }

    pub(super) fn merge(&mut self, other: &AgentSpend) {
        self.cost_usd += other.cost_usd;
        self.tokens_in += other.tokens_in;
        self.tokens_out += other.tokens_out;
        self.tokens_cached += other.tokens_cached;
        self.turns += other.turns;
        self.rate_limited += other.rate_limited;
    }
}

/// Counts by status.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Counts {
    pub total: usize,
    pub succeeded: usize,
    pub cached: usize,
    pub restored: usize,
    pub failed: usize,
    pub timed_out: usize,
    pub errored: usize,
    pub skipped: usize,
    pub cancelled: usize,
    pub not_run: usize,
    pub merge_conflict: usize,
    /// Of the succeeded tasks, those that failed first and succeeded on a later attempt.
    pub flaky: usize,
}

/// The observed critical path: the heaviest chain of dependencies by actual durations.
#[derive(Clone, Debug, Serialize)]
pub struct CriticalPath {
    pub tasks: Vec<String>,
    #[serde(rename = "duration_secs", serialize_with = "ser_secs")]
    pub duration: Duration,
}

/// Everything a run's report says.
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    pub schema_version: u32,
    pub run_id: String,
    pub plan: PathBuf,
    pub jobs: usize,
    #[serde(serialize_with = "ser_time")]
    pub started_at: Option<SystemTime>,
    #[serde(rename = "wall_secs", serialize_with = "ser_secs")]
    pub wall: Duration,
    /// Sum of every attempt's duration.
    #[serde(rename = "task_time_secs", serialize_with = "ser_secs")]
    pub task_time: Duration,
    /// task time / wall.
    pub speedup: f64,
    /// speedup / jobs.
    pub efficiency: f64,
    pub critical_path: CriticalPath,
    /// max(critical path, task time / jobs).
    #[serde(rename = "lower_bound_secs", serialize_with = "ser_secs")]
    pub lower_bound: Duration,
    /// wall / lower bound (1.0 is perfect scheduling).
    pub wall_over_lower_bound: f64,
    pub counts: Counts,
    pub interrupted: bool,
    pub stop: Option<StopCause>,
    pub tasks: Vec<TaskRecord>,
    /// Files changed by two worktree tasks that ran at the same time.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overlaps: Vec<Overlap>,
    /// The agent tasks' spend in total (`None` when no agent ran).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agents: Option<AgentSpend>,
    /// Warnings about the budget and rate limits, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub agent_notes: Vec<String>,
}

impl RunSummary {
    pub fn failures(&self) -> impl Iterator<Item = &TaskRecord> {
        self.tasks.iter().filter(|t| t.status.is_failure())
    }

    /// Tasks that succeeded, but not on their first attempt.
    pub fn flaky(&self) -> impl Iterator<Item = &TaskRecord> {
        self.tasks.iter().filter(|t| t.is_flaky())
    }
    /// The JSON result, pretty-printed with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a summary serializes");
        s.push('\n');
        s
    }
}

pub(super) fn worktree_record(outcome: &WorkspaceOutcome) -> WorktreeRecord {
    match outcome {
        WorkspaceOutcome::Merged { commit, .. } => WorktreeRecord {
            outcome: "merged",
            commit: Some(commit.clone()),
            ..WorktreeRecord::default()
        },
        WorkspaceOutcome::Unchanged => WorktreeRecord {
            outcome: "unchanged",
            ..WorktreeRecord::default()
        },
        WorkspaceOutcome::Conflict {
            branch,
            worktree,
            paths,
            commands,
            ..
        } => WorktreeRecord {
            outcome: "conflict",
            branch: Some(branch.clone()),
            path: Some(worktree.clone()),
            conflicts: paths.clone(),
            commands: commands.clone(),
            ..WorktreeRecord::default()
        },
        WorkspaceOutcome::Kept {
            branch, worktree, ..
        } => WorktreeRecord {
            outcome: "kept",
            branch: Some(branch.clone()),
            path: worktree.clone(),
            ..WorktreeRecord::default()
        },
        WorkspaceOutcome::Failed { .. } => WorktreeRecord {
            outcome: "failed",
            ..WorktreeRecord::default()
        },
    }
}

/// Files changed by two tasks that worked side by side: neither started from a tree that
/// held the other's merged work. Tasks whose `writes` overlap never run at once, so such
/// a pair did not declare the file in overlapping `writes`.
pub(super) fn overlaps(tasks: &[TaskRecord]) -> Vec<Overlap> {
    let changing: Vec<(&TaskRecord, (usize, Option<usize>))> = tasks
        .iter()
        .filter(|t| !t.changed.is_empty())
        .filter_map(|t| Some((t, t.merge_order?)))
        .collect();
    let saw = |seen: usize, merged: Option<usize>| merged.is_some_and(|n| n <= seen);
    let mut found = Vec::new();
    for (k, (a, (a_seen, a_merged))) in changing.iter().enumerate() {
        for (b, (b_seen, b_merged)) in &changing[k + 1..] {
            if saw(*b_seen, *a_merged) || saw(*a_seen, *b_merged) {
                continue;
            }
            for path in &a.changed {
                if b.changed.contains(path) {
                    found.push(Overlap {
                        path: path.clone(),
                        tasks: [a.id.clone(), b.id.clone()],
                    });
                }
            }
        }
    }
    found
}

fn ser_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

fn ser_time<S: serde::Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&timestamp(*t)),
        None => s.serialize_none(),
    }
}
