//! Task states and the transitions between them: the [`Scheduler`] itself.
//!
//! Every selected task moves `Blocked → Ready → Running` and on to exactly one final state
//! (`Succeeded`, `Failed`, `Cancelled`, `Skipped`, `NotRun`), possibly through `Waiting`
//! between attempts. What may start is decided with [`Limits`] (slots, resources, locks)
//! and the [`ReadyQueue`] (priority); this file holds the failure policy: retries,
//! keep-going, fail-fast, the systemic stop and the serial retry of failed tasks. It never
//! reads a clock; `now` always comes from the caller.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use super::backoff::retry_delay;
use super::halt::{HaltPolicy, HaltWatch, HaltWhen};
use super::limits::Limits;
use super::ready_queue::ReadyQueue;
use super::systemic::SystemicWatch;
use crate::graph::Dag;
use crate::plan::{Backoff, Plan, Task};
use crate::window::Window;

/// How many of the first attempts to finish in a run must all have failed (final failures
/// and failed attempts that will be retried alike) to call a problem systemic.
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
    /// Stop once enough tasks failed or succeeded for good (`None`: never).
    pub halt: Option<HaltPolicy>,
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
    /// The halt policy's threshold was reached when `task` ended. `now`: running tasks
    /// should be terminated; otherwise they finish.
    Halt { task: usize, now: bool },
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
    /// `task` will never run because its dependency `because` did not succeed. `because` is
    /// the task that failed for good, even when `task` depends on it only transitively.
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
    /// Dependencies done (or a retry's delay passed); waiting for a slot, resources or a
    /// write lock.
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
    /// Failed for good. With [`SchedulerConfig::retry_failed_serially`] (and keep-going),
    /// not quite yet: once all else is done it gets one more attempt
    /// ([`Decision::SerialRetry`]), and only the outcome of that one is final.
    Failed,
    Cancelled,
    Skipped {
        because: usize,
    },
    /// Never started because the run stopped (a retry still waiting when the run stopped
    /// ends here too), or because a dependency was cancelled.
    NotRun,
}

impl TaskState {
    /// Whether the task has ended (a failure may still get its serial retry).
    pub fn is_final(self) -> bool {
        !matches!(
            self,
            TaskState::Blocked
                | TaskState::Ready
                | TaskState::Waiting { .. }
                | TaskState::Running { .. }
        )
    }
}

/// See the module documentation.
#[derive(Debug)]
pub struct Scheduler {
    states: Window<TaskState>,
    /// Attempts started so far, per task.
    attempts: Window<u32>,
    /// Per task: selected dependencies that have not succeeded yet.
    unmet_deps: Window<usize>,
    /// Per task: selected tasks that depend on it.
    dependents: Window<Vec<usize>>,
    retries: Window<u32>,
    backoff: Window<Backoff>,
    ready: ReadyQueue,
    /// Retries not yet due, earliest first. Holds exactly the `Waiting` tasks.
    waiting: BinaryHeap<Reverse<(Duration, usize)>>,
    limits: Limits,
    /// Set when a look through the ready queue found nothing that fits; cleared by anything
    /// that could change that (a task released, a task queued). Spares the caller's
    /// "start until `None`" loop from rescanning tasks held back by resources or locks.
    saturated: bool,
    systemic: SystemicWatch,
    halt: HaltWatch,
    /// Per task: it was given its serial retry (started or about to start).
    serially_retried: Window<bool>,
    /// Tasks let go of ([`Scheduler::forget_before`]) that did not succeed.
    forgotten_unsuccessful: usize,
    stop_reason: Option<StopReason>,
    config: SchedulerConfig,
}

impl Scheduler {
    /// `selected[i]`: task i is part of this run (callers pass the closure of the requested
    /// tasks). `weights[i]`: expected seconds, for the remaining-path priority.
    /// `conflicts[i]`: tasks that must never run at the same time as i (from overlapping
    /// `writes`, see [`crate::graph::write_conflicts`]). Resource capacities and each task's
    /// `uses`, `priority`, `retries` and `backoff` come from `plan`.
    ///
    /// # Panics
    ///
    /// When `dag`, `selected`, `weights` or `conflicts` do not have one entry per task.
    pub fn new(
        plan: &Plan,
        dag: &Dag,
        selected: &[bool],
        weights: &[f64],
        conflicts: &[Vec<usize>],
        config: SchedulerConfig,
    ) -> Scheduler {
        let n = plan.tasks.len();
        assert_eq!(dag.len(), n, "one graph node per task");
        assert_eq!(selected.len(), n, "one `selected` entry per task");
        assert_eq!(weights.len(), n, "one weight per task");
        assert_eq!(conflicts.len(), n, "one conflict list per task");

        // Tasks outside the run add nothing to the remaining path of those inside.
        let weights: Vec<f64> = (0..n)
            .map(|i| if selected[i] { weights[i] } else { 0.0 })
            .collect();
        let bottom_levels = dag.bottom_levels(&weights);
        let keys = (0..n)
            .map(|i| (plan.tasks[i].priority, bottom_levels[i]))
            .collect();

        let unmet_deps: Window<usize> = (0..n)
            .map(|i| dag.deps(i).iter().filter(|&&d| selected[d]).count())
            .collect();
        let dependents = (0..n)
            .map(|i| {
                if selected[i] {
                    dag.dependents(i)
                        .iter()
                        .copied()
                        .filter(|&d| selected[d])
                        .collect()
                } else {
                    Vec::new()
                }
            })
            .collect();

        let mut ready = ReadyQueue::new(keys);
        let states = (0..n)
            .map(|i| {
                if !selected[i] {
                    TaskState::Excluded
                } else if unmet_deps[i] == 0 {
                    ready.push(i);
                    TaskState::Ready
                } else {
                    TaskState::Blocked
                }
            })
            .collect();

        let selected_count = selected.iter().filter(|&&s| s).count();
        Scheduler {
            states,
            attempts: vec![0; n].into(),
            unmet_deps,
            dependents,
            retries: plan.tasks.iter().map(|t| t.retries).collect(),
            backoff: plan.tasks.iter().map(|t| t.backoff).collect(),
            ready,
            waiting: BinaryHeap::new(),
            limits: Limits::new(plan, selected, conflicts, config.jobs),
            saturated: false,
            systemic: SystemicWatch::new(config.systemic_failure_stop, selected_count),
            halt: HaltWatch::new(config.halt, selected_count),
            serially_retried: vec![false; n].into(),
            forgotten_unsuccessful: 0,
            stop_reason: None,
            config,
        }
    }

    /// Adds `task` (of `plan`, whose resources it may use) to a run under way, with no
    /// dependencies and no conflicts, as the next index, which it returns. Unless
    /// `selected`, it only holds its place (`Excluded`); added once the run stopped, it
    /// will not run (`NotRun`). Its remaining path is its own `weight`.
    pub fn add_task(&mut self, plan: &Plan, task: &Task, weight: f64, selected: bool) -> usize {
        let index = self.states.len();
        self.ready.add_keys(task.priority, weight);
        self.limits.add_task(plan, task);
        self.attempts.push(0);
        self.unmet_deps.push(0);
        self.dependents.push(Vec::new());
        self.retries.push(task.retries);
        self.backoff.push(task.backoff);
        self.serially_retried.push(false);
        let state = if !selected {
            TaskState::Excluded
        } else if self.is_stopped() {
            TaskState::NotRun
        } else {
            self.systemic.add_task();
            self.halt.add_task();
            TaskState::Ready
        };
        self.states.push(state);
        if state == TaskState::Ready {
            self.enqueue(index);
        }
        index
    }

    /// The next attempt that may start at `now`, with its slot, resources and write locks
    /// taken. Call until `None`.
    pub fn start_next(&mut self, now: Duration) -> Option<Start> {
        if self.is_stopped() {
            return None;
        }
        while let Some(&Reverse((until, task))) = self.waiting.peek() {
            if until > now {
                break;
            }
            self.waiting.pop();
            self.states[task] = TaskState::Ready;
            self.enqueue(task);
        }
        if self.saturated || !self.limits.slot_free() {
            return None;
        }
        let limits = &self.limits;
        let Some(task) = self.ready.pop_best_fitting(|task| limits.fits(task)) else {
            self.saturated = true;
            return None;
        };
        self.limits.take(task);
        self.attempts[task] += 1;
        let attempt = self.attempts[task];
        self.states[task] = TaskState::Running { attempt };
        Some(Start { task, attempt })
    }

    /// Records how a running attempt of `task` ended.
    ///
    /// # Panics
    ///
    /// When `task` is not running.
    pub fn finished(&mut self, task: usize, outcome: Outcome, now: Duration) -> Vec<Decision> {
        let TaskState::Running { attempt } = self.states[task] else {
            panic!(
                "task {task} finished but is {:?}, not running",
                self.states[task]
            );
        };
        self.limits.release(task);
        self.saturated = false;

        let systemic_first = match outcome {
            Outcome::Cancelled => None,
            Outcome::Success | Outcome::Failure => {
                let first = self.systemic.record(task, outcome == Outcome::Failure);
                first.filter(|_| !self.is_stopped())
            }
        };

        let mut decisions = Vec::new();
        match outcome {
            Outcome::Success => self.succeeded(task),
            Outcome::Cancelled => {
                self.states[task] = TaskState::Cancelled;
                self.cut_off_dependents(task, TaskState::NotRun);
            }
            Outcome::Failure if self.is_stopped() || systemic_first.is_some() => {
                // No new attempts once the run stops; the stop turns dependents to NotRun.
                self.states[task] = TaskState::Failed;
            }
            Outcome::Failure => self.failed(task, attempt, now, &mut decisions),
        }
        if let Some(first) = systemic_first {
            decisions.extend(self.stop(StopReason::Systemic { first }));
        }
        self.watch_halt(task, &mut decisions);
        self.offer_serial_retry(&mut decisions);
        decisions
    }

    /// A running attempt of `task` met a rate limit: it is tried again once `delay` has
    /// passed, and the attempt counts neither against its retries nor as a failure.
    ///
    /// # Panics
    ///
    /// When `task` is not running.
    pub fn rate_limited(&mut self, task: usize, delay: Duration, now: Duration) -> Vec<Decision> {
        let TaskState::Running { attempt } = self.states[task] else {
            panic!(
                "task {task} was rate limited but is {:?}",
                self.states[task]
            );
        };
        self.limits.release(task);
        self.saturated = false;
        let mut decisions = Vec::new();
        if self.is_stopped() {
            self.states[task] = TaskState::NotRun;
            self.offer_serial_retry(&mut decisions);
            return decisions;
        }
        self.retries[task] += 1;
        self.wait_to_retry(task, attempt + 1, now, delay, &mut decisions);
        decisions
    }

    /// Takes back a start just given by [`Scheduler::start_next`]: `task` may not start
    /// before `until` (a rate limit, a start interval). It keeps its attempt number.
    ///
    /// # Panics
    ///
    /// When `task` is not running, or `until` is not later than the time of the start
    /// (the caller's "start until `None`" loop would never end).
    pub fn postpone(&mut self, task: usize, until: Duration) {
        let TaskState::Running { attempt } = self.states[task] else {
            panic!("task {task} postponed but is {:?}", self.states[task]);
        };
        self.limits.release(task);
        self.saturated = false;
        self.attempts[task] -= 1;
        self.states[task] = TaskState::Waiting { until, attempt };
        self.waiting.push(Reverse((until, task)));
    }

    /// Takes back a start just given by [`Scheduler::start_next`] for good: `task` will not
    /// run in this run (a spent budget), and neither will its dependents.
    ///
    /// # Panics
    ///
    /// When `task` is not running.
    pub fn withhold(&mut self, task: usize) -> Vec<Decision> {
        let TaskState::Running { .. } = self.states[task] else {
            panic!("task {task} withheld but is {:?}", self.states[task]);
        };
        self.limits.release(task);
        self.saturated = false;
        self.attempts[task] -= 1;
        self.states[task] = TaskState::NotRun;
        let mut skipped = self.cut_off_dependents(task, TaskState::Skipped { because: task });
        skipped.sort_unstable();
        let mut decisions: Vec<Decision> = skipped
            .into_iter()
            .map(|dependent| Decision::Skipped {
                task: dependent,
                because: task,
            })
            .collect();
        self.offer_serial_retry(&mut decisions);
        decisions
    }

    /// From now on at most `jobs` tasks run at once (at least one); tasks running beyond
    /// that go on. (A run that retries failed tasks serially sets one job of its own when
    /// it gets there.)
    pub fn set_jobs(&mut self, jobs: usize) {
        self.limits.set_jobs(jobs);
        self.saturated = false;
    }

    /// From now on resource `resource` (its index in the plan's `resources`) has
    /// `capacity`: adaptive concurrency of a rate limit.
    pub fn set_resource_capacity(&mut self, resource: usize, capacity: u32) {
        self.limits.set_capacity(resource, capacity);
        self.saturated = false;
    }

    /// Stops starting tasks (interrupt, or any other reason the caller has). Tasks not yet
    /// started, and retries still waiting, become `NotRun`; running tasks are left to the
    /// caller and are recorded normally when they finish, but never retried. The first
    /// reason given is the one [`Scheduler::stop_reason`] keeps.
    pub fn stop(&mut self, reason: StopReason) -> Vec<Decision> {
        self.stop_reason.get_or_insert(reason);
        for (_, state) in self.states.iter_mut() {
            if matches!(
                state,
                TaskState::Blocked | TaskState::Ready | TaskState::Waiting { .. }
            ) {
                *state = TaskState::NotRun;
            }
        }
        self.ready.clear();
        self.waiting.clear();
        vec![Decision::Stop { reason }]
    }

    /// The earliest time a waiting retry becomes due, if any.
    pub fn next_wakeup(&self) -> Option<Duration> {
        if self.is_stopped() {
            return None;
        }
        self.waiting.peek().map(|&Reverse((until, _))| until)
    }

    /// Nothing runs and nothing is left that could start.
    pub fn is_finished(&self) -> bool {
        self.limits.running() == 0 && self.ready.is_empty() && self.waiting.is_empty()
    }

    /// Whether new starts are stopped.
    pub fn is_stopped(&self) -> bool {
        self.stop_reason.is_some()
    }

    /// Why new starts are stopped, if they are: the first reason.
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.stop_reason
    }

    /// # Panics
    ///
    /// When `task` was let go of ([`Scheduler::forget_before`]).
    pub fn state(&self, task: usize) -> TaskState {
        self.states[task]
    }

    /// The state of `task`, unless it was let go of.
    pub fn held_state(&self, task: usize) -> Option<TaskState> {
        self.states.get(task).copied()
    }

    /// Lets go of everything kept about the tasks before `index`, each of which must have
    /// ended for good and be needed by no other: tasks added during a run, so that a long
    /// feed of tasks takes bounded memory. Only whether they all succeeded is kept.
    ///
    /// # Panics
    ///
    /// When one of them has not ended.
    pub fn forget_before(&mut self, index: usize) {
        for (task, state) in self.states.iter().take_while(|(i, _)| *i < index) {
            assert!(state.is_final(), "task {task} is let go of while {state:?}");
            if !matches!(state, TaskState::Succeeded | TaskState::Excluded) {
                self.forgotten_unsuccessful += 1;
            }
        }
        self.states.forget_before(index);
        self.attempts.forget_before(index);
        self.unmet_deps.forget_before(index);
        self.dependents.forget_before(index);
        self.retries.forget_before(index);
        self.backoff.forget_before(index);
        self.serially_retried.forget_before(index);
        self.ready.forget_before(index);
        self.limits.forget_before(index);
    }

    /// How many tasks' states are held (not let go of), for tests of bounded memory.
    pub fn held_tasks(&self) -> usize {
        self.states.held().len()
    }

    /// Whether every task that takes part succeeded (those let go of included).
    pub fn all_succeeded(&self) -> bool {
        self.forgotten_unsuccessful == 0
            && self
                .states
                .iter()
                .all(|(_, s)| matches!(s, TaskState::Excluded | TaskState::Succeeded))
    }

    /// Attempts of `task` started so far.
    pub fn attempts(&self, task: usize) -> u32 {
        self.attempts[task]
    }

    pub fn running_count(&self) -> usize {
        self.limits.running()
    }

    /// Tasks ready to start, waiting for a slot, resources or a write lock.
    pub fn ready_count(&self) -> usize {
        self.ready.len()
    }

    fn enqueue(&mut self, task: usize) {
        self.ready.push(task);
        self.saturated = false;
    }

    fn succeeded(&mut self, task: usize) {
        self.states[task] = TaskState::Succeeded;
        if self.is_stopped() {
            return;
        }
        for k in 0..self.dependents[task].len() {
            let dependent = self.dependents[task][k];
            self.unmet_deps[dependent] -= 1;
            if self.unmet_deps[dependent] == 0 && self.states[dependent] == TaskState::Blocked {
                self.states[dependent] = TaskState::Ready;
                self.enqueue(dependent);
            }
        }
    }

    /// A failed attempt while the run goes on: retry, or fail for good and apply the policy.
    /// `task` waits, holding no slot, until `now + delay`, then starts as `attempt`.
    fn wait_to_retry(
        &mut self,
        task: usize,
        attempt: u32,
        now: Duration,
        delay: Duration,
        decisions: &mut Vec<Decision>,
    ) {
        let until = now.saturating_add(delay);
        self.states[task] = TaskState::Waiting { until, attempt };
        self.waiting.push(Reverse((until, task)));
        decisions.push(Decision::Retry {
            task,
            attempt,
            delay,
        });
    }

    fn failed(&mut self, task: usize, attempt: u32, now: Duration, decisions: &mut Vec<Decision>) {
        let serial_attempt = self.serially_retried[task];
        if !serial_attempt && attempt <= self.retries[task] {
            let delay = retry_delay(self.backoff[task], attempt, task, self.config.seed);
            self.wait_to_retry(task, attempt + 1, now, delay, decisions);
            return;
        }
        self.states[task] = TaskState::Failed;
        if !self.config.keep_going {
            decisions.extend(self.stop(StopReason::FailFast { task }));
        } else if self.serial_retries_enabled() && !serial_attempt {
            // Dependents stay blocked until the serial retry decides.
        } else {
            let mut skipped = self.cut_off_dependents(task, TaskState::Skipped { because: task });
            skipped.sort_unstable();
            decisions.extend(skipped.into_iter().map(|dependent| Decision::Skipped {
                task: dependent,
                because: task,
            }));
        }
    }

    /// Counts a task that just ended for good against the halt policy, and stops the run
    /// when its threshold is reached.
    fn watch_halt(&mut self, task: usize, decisions: &mut Vec<Decision>) {
        if self.is_stopped() {
            return;
        }
        let succeeded = match self.states[task] {
            TaskState::Succeeded => true,
            TaskState::Failed => false,
            _ => return,
        };
        if let Some(when) = self.halt.record(succeeded) {
            let now = when == HaltWhen::Now;
            decisions.extend(self.stop(StopReason::Halt { task, now }));
        }
    }

    /// Moves every blocked transitive dependent of `task` to `to`; returns them.
    fn cut_off_dependents(&mut self, task: usize, to: TaskState) -> Vec<usize> {
        let mut cut = Vec::new();
        let mut stack = self.dependents[task].clone();
        while let Some(dependent) = stack.pop() {
            // A dependent already cut off had its own dependents cut off with it.
            if self.states[dependent] == TaskState::Blocked {
                self.states[dependent] = to;
                cut.push(dependent);
                stack.extend_from_slice(&self.dependents[dependent]);
            }
        }
        cut
    }

    fn serial_retries_enabled(&self) -> bool {
        self.config.retry_failed_serially && self.config.keep_going
    }

    /// When the run has gone idle with failed tasks left, queues the first of them (in
    /// plan order) for its one serial retry, and from then on runs one task at a time.
    fn offer_serial_retry(&mut self, decisions: &mut Vec<Decision>) {
        if !self.serial_retries_enabled() || self.is_stopped() || !self.is_finished() {
            return;
        }
        let candidate = self
            .states
            .iter()
            .map(|(i, _)| i)
            .find(|&i| self.states[i] == TaskState::Failed && !self.serially_retried[i]);
        if let Some(task) = candidate {
            self.serially_retried[task] = true;
            self.limits.set_jobs(1);
            self.states[task] = TaskState::Ready;
            self.enqueue(task);
            decisions.push(Decision::SerialRetry { task });
        }
    }
}
