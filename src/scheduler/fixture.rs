//! Small plans for the scheduler's tests, built fluently.

use std::path::PathBuf;
use std::time::Duration;

use indexmap::IndexMap;

use super::{HaltPolicy, Scheduler, SchedulerConfig};
use crate::graph::Dag;
use crate::plan::{Action, Backoff, Plan, Settings, Task};

/// A plan of `n` independent tasks (`t0`, `t1`, …) and the run settings, to adjust and
/// then turn into a [`Scheduler`].
#[derive(Clone, Debug)]
pub(super) struct Fixture {
    pub(super) plan: Plan,
    pub(super) selected: Vec<bool>,
    pub(super) weights: Vec<f64>,
    pub(super) conflicts: Vec<Vec<usize>>,
    pub(super) config: SchedulerConfig,
}

pub(super) fn task(id: String) -> Task {
    Task {
        backoff: Backoff::Fixed(Duration::ZERO),
        ..Task::new(id, Action::Shell("true".into()))
    }
}

impl Fixture {
    pub(super) fn new(n: usize) -> Fixture {
        Fixture {
            plan: Plan {
                path: PathBuf::from("fanout.toml"),
                base_dir: PathBuf::from("."),
                settings: Settings::default(),
                resources: IndexMap::new(),
                env: IndexMap::new(),
                tasks: (0..n).map(|i| task(format!("t{i}"))).collect(),
                agents: Default::default(),
            },
            selected: vec![true; n],
            weights: vec![1.0; n],
            conflicts: vec![Vec::new(); n],
            config: SchedulerConfig {
                jobs: 1,
                keep_going: true,
                retry_failed_serially: false,
                systemic_failure_stop: false,
                seed: 7,
                halt: None,
            },
        }
    }

    pub(super) fn jobs(mut self, jobs: usize) -> Self {
        self.config.jobs = jobs;
        self
    }

    pub(super) fn keep_going(mut self, keep_going: bool) -> Self {
        self.config.keep_going = keep_going;
        self
    }

    pub(super) fn serial_retry(mut self) -> Self {
        self.config.retry_failed_serially = true;
        self
    }

    pub(super) fn halt(mut self, policy: HaltPolicy) -> Self {
        self.config.halt = Some(policy);
        self
    }

    pub(super) fn systemic_stop(mut self) -> Self {
        self.config.systemic_failure_stop = true;
        self
    }

    /// `task` waits for `on`.
    pub(super) fn dep(mut self, task: usize, on: usize) -> Self {
        self.plan.tasks[task].deps.push(on);
        self
    }

    pub(super) fn priority(mut self, task: usize, priority: i64) -> Self {
        self.plan.tasks[task].priority = priority;
        self
    }

    pub(super) fn weight(mut self, task: usize, weight: f64) -> Self {
        self.weights[task] = weight;
        self
    }

    pub(super) fn resource(mut self, name: &str, capacity: u32) -> Self {
        self.plan.resources.insert(name.into(), capacity);
        self
    }

    pub(super) fn uses(mut self, task: usize, resource: &str, amount: u32) -> Self {
        self.plan.tasks[task].uses.insert(resource.into(), amount);
        self
    }

    /// `a` and `b` write the same files.
    pub(super) fn conflict(mut self, a: usize, b: usize) -> Self {
        self.conflicts[a].push(b);
        self.conflicts[b].push(a);
        self
    }

    pub(super) fn retries(mut self, task: usize, retries: u32, backoff: Backoff) -> Self {
        self.plan.tasks[task].retries = retries;
        self.plan.tasks[task].backoff = backoff;
        self
    }

    /// Only `roots` and what they depend on take part.
    pub(super) fn select(mut self, roots: &[usize]) -> Self {
        self.selected = self.dag().closure(roots);
        self
    }

    pub(super) fn dag(&self) -> Dag {
        Dag::new(self.plan.tasks.iter().map(|t| t.deps.clone()).collect()).expect("acyclic")
    }

    pub(super) fn build(&self) -> Scheduler {
        Scheduler::new(
            &self.plan,
            &self.dag(),
            &self.selected,
            &self.weights,
            &self.conflicts,
            self.config.clone(),
        )
    }
}
