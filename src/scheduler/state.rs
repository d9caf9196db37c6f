//! Task states and the transitions between them.

use std::time::Duration;

use crate::graph::Dag;
use crate::plan::Plan;

/// How many first-finished tasks must all have failed to call a problem systemic.
pub const SYSTEMIC_FAILURE_THRESHOLD: usize = 5;

/// Run-wide policy.
#[derive(Clone, Debug)]
pub struct SchedulerConfig {
    /// Slots: at most this many attempts run at once (>= 1).
    pub jobs: usize,
    /// `true`: skip dependents of failed tasks and go on; `false`: stop at the first failure.
    pub keep_going: bool,
    /// Once all else is done, give each failed task one more attempt, one at a time.
    pub retry_failed_serially: bool,
    /// Stop starting tasks when the first [`SYSTEMIC_FAILURE_THRESHOLD`] to finish all failed.
    pub systemic_failure_stop: bool,
    /// Seed for backoff jitter (deterministic for tests).
    pub seed: u64,
}

/// An attempt the caller must start now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub struct Start {
    pub task: usize,
    /// 1 for the first attempt.
    pub attempt: u32,
}

/// How an attempt ended, as far as scheduling cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Failed (non-zero exit, signal, timeout, could not start): may be retried.
    Failure,
    /// Terminated by fanout itself (fail-fast, interrupt): final, never retried.
    Cancelled,
}

/// Why the run stops starting tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// Fail-fast: this task failed for good. Running tasks should be terminated.
    FailFast { task: usize },
    /// The first tasks to finish all failed; `first` failed first. Running tasks finish.
    Systemic { first: usize },
    /// The user interrupted the run. Running tasks should be terminated.
    Interrupted,
}

/// What follows an outcome, for the caller to act on and report.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub enum Decision {
    /// `task` failed and will be tried again as `attempt` once `delay` has passed. It holds
    /// no slot meanwhile.
    Retry {
        task: usize,
        attempt: u32,
        delay: Duration,
    },
    /// `task` will never run because its dependency `because` did not succeed.
    Skipped { task: usize, because: usize },
    /// No new task starts from now on.
    Stop { reason: StopReason },
    /// All else is done: `task`, which failed, gets one more attempt on its own.
    SerialRetry { task: usize },
}

/// Where a task stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    /// Not selected for this run.
    Excluded,
    /// Waiting for dependencies.
    Blocked,
    /// Dependencies done; waiting for a slot, resources or a write lock.
    Ready,
    /// Failed, waiting for its retry time.
    Waiting {
        until: Duration,
        attempt: u32,
    },
    Running {
        attempt: u32,
    },
    Succeeded,
    Failed,
    Cancelled,
    Skipped {
        because: usize,
    },
    /// Never started because the run stopped.
    NotRun,
}

/// See the module documentation.
#[derive(Debug)]
pub struct Scheduler {
    states: Vec<TaskState>,
}

impl Scheduler {
    /// `selected[i]`: task i is part of this run (callers pass the closure of the requested
    /// tasks). `weights[i]`: expected seconds, for the remaining-path priority.
    /// `conflicts[i]`: tasks that must never run at the same time as i (from overlapping
    /// `writes`, see [`crate::graph::write_conflicts`]). Resource capacities and each task's
    /// `uses`, `priority`, `retries` and `backoff` come from `plan`.
    pub fn new(
        plan: &Plan,
        dag: &Dag,
        selected: &[bool],
        weights: &[f64],
        conflicts: &[Vec<usize>],
        config: SchedulerConfig,
    ) -> Scheduler {
        let _ = (plan, dag, selected, weights, conflicts, config);
        unimplemented!("Scheduler::new")
    }

    /// The next attempt that may start at `now`, with its slot, resources and write locks
    /// taken. Call until `None`.
    pub fn start_next(&mut self, now: Duration) -> Option<Start> {
        let _ = now;
        unimplemented!("Scheduler::start_next")
    }

    /// Records how a running attempt of `task` ended.
    pub fn finished(&mut self, task: usize, outcome: Outcome, now: Duration) -> Vec<Decision> {
        let _ = (task, outcome, now);
        unimplemented!("Scheduler::finished")
    }

    /// Stops starting tasks (interrupt). Tasks not yet started become `NotRun`.
    pub fn stop(&mut self, reason: StopReason) -> Vec<Decision> {
        let _ = reason;
        unimplemented!("Scheduler::stop")
    }

    /// The earliest time a waiting retry becomes due, if any.
    pub fn next_wakeup(&self) -> Option<Duration> {
        unimplemented!("Scheduler::next_wakeup")
    }

    /// Nothing runs and nothing is left that could start.
    pub fn is_finished(&self) -> bool {
        unimplemented!("Scheduler::is_finished")
    }

    /// Whether new starts are stopped.
    pub fn is_stopped(&self) -> bool {
        unimplemented!("Scheduler::is_stopped")
    }

    pub fn state(&self, task: usize) -> TaskState {
        self.states[task]
    }

    pub fn running_count(&self) -> usize {
        unimplemented!("Scheduler::running_count")
    }
}
