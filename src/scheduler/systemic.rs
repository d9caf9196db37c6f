//! Telling a systemic failure (a broken toolchain, a full disk, a missing credential) from
//! ordinary ones: when the first attempts of a run to finish all fail, the rest would most
//! likely fail the same way, and starting them only wastes time.

use super::state::SYSTEMIC_FAILURE_THRESHOLD;

/// Watches the first [`SYSTEMIC_FAILURE_THRESHOLD`] attempts to finish.
#[derive(Debug)]
pub(super) struct SystemicWatch {
    /// Whether the run is big enough for the check to mean something.
    armed: bool,
    enabled: bool,
    tasks: usize,
    finished: usize,
    first_failure: Option<usize>,
    all_failed: bool,
}

impl SystemicWatch {
    /// `tasks`: how many tasks take part in the run. With fewer than the threshold, the
    /// watch never fires (a handful of failing tasks is no pattern).
    pub(super) fn new(enabled: bool, tasks: usize) -> SystemicWatch {
        SystemicWatch {
            armed: enabled && tasks >= SYSTEMIC_FAILURE_THRESHOLD,
            enabled,
            tasks,
            finished: 0,
            first_failure: None,
            all_failed: true,
        }
    }

    /// One more task takes part in the run (added after it began).
    pub(super) fn add_task(&mut self) {
        self.tasks += 1;
        self.armed = self.enabled && self.tasks >= SYSTEMIC_FAILURE_THRESHOLD;
    }

    /// Records an attempt of `task` that succeeded or failed (cancelled attempts say nothing
    /// about the tasks and are not recorded). Returns the task that failed first when this
    /// attempt completes a run of [`SYSTEMIC_FAILURE_THRESHOLD`] failures from the start;
    /// that happens at most once.
    pub(super) fn record(&mut self, task: usize, failed: bool) -> Option<usize> {
        if !self.armed || self.finished >= SYSTEMIC_FAILURE_THRESHOLD {
            return None;
        }
        self.finished += 1;
        self.all_failed &= failed;
        if failed && self.first_failure.is_none() {
            self.first_failure = Some(task);
        }
        if self.finished == SYSTEMIC_FAILURE_THRESHOLD && self.all_failed {
            self.first_failure
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_once_on_the_fifth_of_five_failures() {
        let mut watch = SystemicWatch::new(true, 10);
        for task in [3, 1, 4, 1] {
            assert_eq!(watch.record(task, true), None);
        }
        assert_eq!(watch.record(5, true), Some(3));
        assert_eq!(watch.record(9, true), None);
    }

    #[test]
    fn one_success_among_the_first_five_disarms_it() {
        let mut watch = SystemicWatch::new(true, 10);
        assert_eq!(watch.record(0, false), None);
        for task in 1..10 {
            assert_eq!(watch.record(task, true), None);
        }
    }

    #[test]
    fn small_runs_and_disabled_runs_never_fire() {
        for mut watch in [SystemicWatch::new(true, 4), SystemicWatch::new(false, 10)] {
            for task in 0..8 {
                assert_eq!(watch.record(task % 4, true), None);
            }
        }
    }
}
