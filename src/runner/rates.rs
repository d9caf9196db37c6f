//! The rates of named limits for tasks that are not agent tasks: a task whose `uses` names
//! a `[limits.NAME]` with a `rate` starts only when that rate allows, and until then gives
//! its slot back and waits, as an agent task does (whose limit the agent gate keeps).

use std::time::Duration;

use governor::DefaultDirectRateLimiter;

use super::agents::{AgentRun, rate_limiter, rate_wait};
use crate::plan::Plan;

/// See the module documentation.
pub(crate) struct RateGate {
    limiters: Vec<DefaultDirectRateLimiter>,
    /// Per task: the limiters it must pass.
    per_task: Vec<Vec<usize>>,
}

impl std::fmt::Debug for RateGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateGate")
            .field("limiters", &self.limiters.len())
            .field("per_task", &self.per_task)
            .finish()
    }
}

impl RateGate {
    /// The gate of `plan`'s tasks other than agent tasks; `None` when none of them uses a
    /// limit with a rate.
    pub(crate) fn new(plan: &Plan, agents: Option<&AgentRun>) -> Option<RateGate> {
        let mut limiters = Vec::new();
        let mut names = Vec::new();
        for (name, settings) in &plan.agents.limits {
            if let Some(limiter) = rate_limiter(settings) {
                limiters.push(limiter);
                names.push(name.as_str());
            }
        }
        let is_agent =
            |i: usize| agents.is_some_and(|a| a.tasks.get(i).is_some_and(Option::is_some));
        let per_task: Vec<Vec<usize>> = plan
            .tasks
            .iter()
            .enumerate()
            .map(|(i, task)| {
                if is_agent(i) {
                    return Vec::new();
                }
                names
                    .iter()
                    .enumerate()
                    .filter(|(_, name)| task.uses.contains_key(**name))
                    .map(|(l, _)| l)
                    .collect()
            })
            .collect();
        per_task
            .iter()
            .any(|l| !l.is_empty())
            .then_some(RateGate { limiters, per_task })
    }

    /// `None` when `task` may start at `now` (its starts are counted); else the time to
    /// ask again. Tasks added to the run after it began pass no limit.
    pub(crate) fn check(&self, task: usize, now: Duration) -> Option<Duration> {
        self.per_task
            .get(task)?
            .iter()
            .find_map(|&l| rate_wait(&self.limiters[l], now))
    }
}
