//! The dispatcher's dealings with agent tasks: their launch and how to judge their output,
//! the gate a start must pass (budget, rate, breaker, spacing), and what an agent
//! attempt's end changes. Kept apart from the dispatcher's main loop, which it extends.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::Dispatcher;
use crate::events::{AttemptStatus, Event};
use crate::runner::agents::Gate;

impl Dispatcher<'_> {
    pub(super) fn agent_launch(&self, index: usize) -> Option<&crate::runner::agents::AgentLaunch> {
        self.options.agents.as_ref()?.tasks.get(index)?.as_ref()
    }

    /// For an agent task: how to tell from its output whether the agent succeeded.
    pub(super) fn judge(&self, index: usize) -> Option<crate::runner::executor::Judge> {
        let run = self.options.agents.as_ref()?;
        let launch = run.tasks.get(index)?.as_ref()?;
        let profile = run.profiles[launch.profile].clone();
        let model = launch.model.clone();
        Some(crate::runner::executor::Judge(Arc::new(
            move |output: &str, code: Option<i32>| {
                profile.read_result(output, code, model.as_deref()).success
            },
        )))
    }

    /// Whether a start the scheduler just gave may go ahead: agent tasks wait for their
    /// rate limit, breaker and start spacing, and are withheld once the budget is spent.
    pub(super) fn admit(&mut self, task: usize) -> bool {
        let (Some(run), Some(gate)) = (&self.options.agents, &mut self.gate) else {
            return true;
        };
        let now = self.started_at.elapsed();
        match gate.check(run, task, now) {
            Gate::Go => true,
            Gate::NotBefore(until) => {
                let until = until.max(self.now() + Duration::from_millis(1));
                self.scheduler.postpone(task, until);
                false
            }
            Gate::Withhold(reason) => {
                let decisions = self.scheduler.withhold(task);
                self.sink.emit(&Event::TaskWithheld {
                    index: task,
                    task: self.task_id(task),
                    reason,
                });
                self.apply(decisions);
                false
            }
        }
    }

    /// For an agent task: the agent's result read from the attempt's log, the status
    /// corrected by it (exit 0 with a reported failure is a failure), and the events the
    /// gate has to tell (budget, limits).
    pub(super) fn agent_ended(
        &mut self,
        index: usize,
        status: AttemptStatus,
        log: Option<&Path>,
    ) -> (AttemptStatus, Option<crate::agent::AgentResult>, Vec<Event>) {
        let (Some(run), Some(gate)) = (self.options.agents.clone(), self.gate.as_mut()) else {
            return (status, None, Vec::new());
        };
        let Some(launch) = run.tasks.get(index).and_then(Option::as_ref) else {
            return (status, None, Vec::new());
        };
        let exit_code = match &status {
            AttemptStatus::Success => Some(0),
            AttemptStatus::Failed { exit_code } => Some(*exit_code),
            AttemptStatus::Cached { .. } => return (status, None, Vec::new()),
            _ => None,
        };
        let output = log
            .and_then(|p| std::fs::read(p).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let profile = &run.profiles[launch.profile];
        let result = profile.read_result(&output, exit_code, launch.model.as_deref());
        let (events, changes) = gate.ended(&run, index, &result, self.started_at.elapsed());
        for change in changes {
            self.scheduler
                .set_resource_capacity(change.resource, change.capacity);
        }
        let over = launch
            .max_usd
            .zip(result.cost_usd)
            .filter(|(max, cost)| cost > max);
        let status = match (status, over) {
            (AttemptStatus::Success, Some((max, cost))) => AttemptStatus::AgentFailed {
                message: format!("cost ${cost:.2}, more than its max_usd ${max:.2}"),
            },
            (AttemptStatus::Success, None) if !result.success => AttemptStatus::AgentFailed {
                message: result
                    .error
                    .clone()
                    .unwrap_or_else(|| "the agent reported a failure".into()),
            },
            (status, _) => status,
        };
        (status, Some(result), events)
    }
}
