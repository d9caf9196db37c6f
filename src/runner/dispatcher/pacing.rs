//! When the dispatcher wakes up and may start what: the next retry, a recheck of the
//! machine's load, the start delay (`fanout map --delay`), the rates of named limits, the
//! slow notices of attempts that run long, and timeouts relative to the median attempt.
//! Kept apart from the dispatcher's main loop, which it extends.

use std::cmp::Reverse;
use std::time::Duration;

use super::Dispatcher;
use crate::events::Event;
use crate::runner::load;
use crate::scheduler::TaskState;

impl Dispatcher<'_> {
    /// When the main loop must wake up even if no attempt ends: `None`, not before one
    /// does. `held_back`: starts wait for the machine's load.
    pub(super) fn wakeup(&self, held_back: bool) -> Option<tokio::time::Instant> {
        let at = |offset: Duration| tokio::time::Instant::from_std(self.started_at + offset);
        let retry = self.scheduler.next_wakeup().map(at);
        let recheck = held_back.then(|| tokio::time::Instant::now() + load::RECHECK);
        // These wake-ups are for starts, and none can happen before the delay ends.
        let start = self
            .delay_end()
            .map(at)
            .or_else(|| [retry, recheck].into_iter().flatten().min());
        let slow = self.slow_checks.peek().map(|Reverse((due, ..))| at(*due));
        let memory = self.memory_check_due().map(at);
        [start, slow, memory].into_iter().flatten().min()
    }

    /// Whether the rates of the named limits `task` uses (other than an agent's) let it
    /// start now; if not, it gives its start back and waits until they may.
    pub(super) fn rate_allows(&mut self, task: usize) -> bool {
        let Some(until) = self
            .rates
            .as_ref()
            .and_then(|rates| rates.check(task, self.started_at.elapsed()))
        else {
            return true;
        };
        self.scheduler.postpone(task, until);
        false
    }

    /// Whether the start limit's command lets `task` start now; if not, it gives its start
    /// back and waits a while before the command is asked again. A command that cannot
    /// run holds nothing back.
    pub(super) fn limit_allows(&mut self, task: usize) -> bool {
        let Some(command) = &self.options.start_limit else {
            return true;
        };
        let shell = self.options.shell.as_deref().unwrap_or("/bin/sh");
        let status = std::process::Command::new(shell)
            .arg("-c")
            .arg(command)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .status();
        let allowed = match status {
            Ok(status) => status.success(),
            Err(_) => true,
        };
        if !allowed {
            self.scheduler.postpone(task, self.now() + load::RECHECK);
        }
        allowed
    }

    /// Whether new starts must wait for the machine; says so when that changes.
    pub(super) fn machine_busy(&mut self) -> bool {
        let Some(load) = &mut self.load else {
            return false;
        };
        if self.scheduler.is_stopped() {
            return false;
        }
        let hold = load.over();
        let reason = hold.as_ref().map(|h| h.reason.clone());
        if reason != self.held_back {
            self.held_back.clone_from(&reason);
            self.sink.emit(&Event::HeldBack { reason });
        }
        hold.is_some_and(|h| !(h.one_may_run && self.units.is_empty()))
    }

    /// How long `index` may run between slow notices: its own `slow`, else the plan's;
    /// `None` (or a zero) for none.
    fn slow_period(&self, index: usize) -> Option<Duration> {
        match self.task(index).slow {
            Some(own) => (!own.is_zero()).then_some(own),
            None => self.plan.settings.slow,
        }
    }

    /// Notes that an attempt was launched at `offset` (since the run began).
    pub(super) fn launched(&mut self, index: usize, attempt: u32, offset: Duration) {
        self.last_launch = Some(offset);
        if let Some(period) = self.slow_period(index) {
            self.slow_checks
                .push(Reverse((offset + period, index, attempt, offset)));
        }
    }

    /// Tells of each running attempt that has run another `slow` period.
    pub(super) fn tell_slow(&mut self) {
        let now = self.now();
        while let Some(Reverse((due, index, attempt, started))) = self.slow_checks.peek().copied() {
            if due > now {
                break;
            }
            self.slow_checks.pop();
            if self.scheduler.held_state(index) != Some(TaskState::Running { attempt }) {
                continue;
            }
            self.sink.emit(&Event::TaskSlow {
                index,
                task: self.task_id(index),
                attempt,
                elapsed: due - started,
            });
            if let Some(period) = self.slow_period(index) {
                self.slow_checks
                    .push(Reverse((due + period, index, attempt, started)));
            }
        }
    }

    /// A timeout as a share of the median successful attempt (`--timeout 200%`), once
    /// there is a median.
    pub(super) fn relative_timeout(&self) -> Option<Duration> {
        let percent = self.options.timeout_percent?;
        Some(self.succeeded.median()?.mul_f64(percent / 100.0))
    }

    /// Until when the start delay holds the next start back, if it does now.
    pub(super) fn delay_end(&self) -> Option<Duration> {
        let end = self.last_launch? + self.options.start_delay?;
        (end > self.now()).then_some(end)
    }
}
