//! The exit status of `fanout map`, as GNU parallel computes it: the number of jobs that
//! failed (101 for more than 100); with a halt policy, what the policy says at the moment
//! it fired (the failing job's own status for `fail=1`, the percentage of failed jobs for
//! `fail=N%`, 0 for `success=…`).

use crate::events::{AttemptStatus, Event, EventSink, StopCause};
use crate::scheduler::{HaltOn, HaltPolicy, HaltThreshold};

/// fanout itself failed (bad usage, unreadable input, an I/O error of its own).
pub const MAP_ERROR: i32 = 255;

/// Counts failed jobs from the events and settles the exit status.
#[derive(Debug)]
pub struct MapStatus {
    halt: Option<HaltPolicy>,
    /// Jobs taking part in the run.
    total: usize,
    failed: usize,
    /// The status of the last job to end for good.
    last_status: i32,
    /// Set once a halt policy fired.
    halted: Option<i32>,
}

impl MapStatus {
    pub fn new(halt: Option<HaltPolicy>, total: usize) -> Self {
        MapStatus {
            halt,
            total,
            failed: 0,
            last_status: 0,
            halted: None,
        }
    }

    /// One more job takes part (added while the run is under way).
    pub fn add_job(&mut self) {
        self.total += 1;
    }

    /// A job was skipped (`{uniq}`, `{choose_k}`); GNU parallel counts it as failed.
    pub fn skipped(&mut self) {
        self.total += 1;
        self.failed += 1;
    }

    /// Whether a halt policy fired.
    pub fn halted(&self) -> bool {
        self.halted.is_some()
    }

    /// The status of the last job to end, as a shell reports it (128 + the signal when
    /// killed); 0 before any.
    pub fn last_status(&self) -> i32 {
        self.last_status
    }

    /// The exit status once the run is over.
    pub fn exit_code(&self) -> i32 {
        self.halted.unwrap_or(self.failed.min(101) as i32)
    }

    fn halt_status(&self, policy: HaltPolicy) -> i32 {
        match (policy.on, policy.threshold) {
            (HaltOn::Success, _) => 0,
            (_, HaltThreshold::Percent(_)) => {
                (self.failed as f64 * 100.0 / self.total.max(1) as f64).ceil() as i32
            }
            (_, HaltThreshold::Count(1)) => self.last_status,
            (_, HaltThreshold::Count(_)) => self.failed.min(101) as i32,
        }
    }
}

/// A job's status as a shell would report it: its exit code, or 128 + the signal.
fn shell_status(status: &AttemptStatus) -> i32 {
    match status {
        AttemptStatus::Success | AttemptStatus::Cached { .. } | AttemptStatus::Cancelled => 0,
        AttemptStatus::Failed { exit_code } => *exit_code,
        AttemptStatus::Signaled { signal } => 128 + signal,
        AttemptStatus::TimedOut { .. } => MAP_ERROR,
        AttemptStatus::SpawnFailed { .. } => 127,
        AttemptStatus::MergeConflict { .. } | AttemptStatus::WorkspaceFailed { .. } => 1,
        AttemptStatus::AgentFailed { .. } => 1,
    }
}

impl EventSink for MapStatus {
    fn emit(&mut self, event: &Event) {
        match event {
            Event::AttemptFinished {
                status,
                retry_in: None,
                ..
            } => {
                if !status.is_success() && *status != AttemptStatus::Cancelled {
                    self.failed += 1;
                }
                self.last_status = shell_status(status);
            }
            Event::RunStopping {
                cause: StopCause::Halt { .. },
            } => {
                if let Some(policy) = self.halt {
                    self.halted = Some(self.halt_status(policy));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::scheduler::HaltWhen;

    fn finished(status: AttemptStatus) -> Event {
        Event::test_finished(0, 1, status, None)
    }

    fn halt() -> Event {
        Event::RunStopping {
            cause: StopCause::Halt {
                task: "1".into(),
                now: true,
            },
        }
    }

    #[test]
    fn exit_status_like_gnu_parallel() {
        let fail = |code| AttemptStatus::Failed { exit_code: code };
        let policy = |on, threshold| {
            Some(HaltPolicy {
                when: HaltWhen::Now,
                on,
                threshold,
            })
        };
        // (policy, total jobs, events, expected exit status)
        let many_failures: Vec<Event> = (0..150).map(|_| finished(fail(1))).collect();
        let cases = vec![
            (None, 3, vec![finished(AttemptStatus::Success)], 0),
            (None, 3, vec![finished(fail(3)), finished(fail(1))], 2),
            (None, 150, many_failures, 101),
            (
                policy(HaltOn::Fail, HaltThreshold::Count(1)),
                3,
                vec![finished(AttemptStatus::Success), finished(fail(7)), halt()],
                7,
            ),
            (
                policy(HaltOn::Fail, HaltThreshold::Count(1)),
                3,
                vec![finished(AttemptStatus::Signaled { signal: 9 }), halt()],
                137,
            ),
            (
                policy(HaltOn::Fail, HaltThreshold::Count(2)),
                5,
                vec![finished(fail(7)), finished(fail(4)), halt()],
                2,
            ),
            (
                policy(HaltOn::Fail, HaltThreshold::Percent(50.0)),
                6,
                vec![
                    finished(fail(3)),
                    finished(fail(4)),
                    finished(fail(5)),
                    halt(),
                ],
                50,
            ),
            (
                policy(HaltOn::Success, HaltThreshold::Count(1)),
                3,
                vec![finished(fail(3)), finished(AttemptStatus::Success), halt()],
                0,
            ),
        ];
        for (policy, total, events, expected) in cases {
            let mut status = MapStatus::new(policy, total);
            for event in &events {
                status.emit(event);
            }
            assert_eq!(status.exit_code(), expected, "{policy:?}");
        }
    }
}
