//! Halt policies (`--halt now,fail=1`, `soon,success=3`, `now,fail=10%` …): stop the run
//! once enough tasks have ended for good in a given way. The watch only counts; the
//! scheduler turns its answer into a stop, and the runner decides what "now" means for the
//! processes still running.

/// When a halt policy stops the run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HaltPolicy {
    pub when: HaltWhen,
    pub on: HaltOn,
    pub threshold: HaltThreshold,
}

/// What happens to running tasks once the threshold is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HaltWhen {
    /// Terminate them.
    Now,
    /// Let them finish; start nothing new.
    Soon,
}

/// Which final outcomes count towards the threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HaltOn {
    /// Tasks that failed for good (after their retries).
    Fail,
    /// Tasks that succeeded.
    Success,
    /// Tasks that ended either way.
    Done,
}

/// How many counted tasks it takes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HaltThreshold {
    /// At least this many tasks (>= 1).
    Count(u32),
    /// At least this percentage of the tasks taking part in the run (0 < p <= 100).
    Percent(f64),
}

/// Counts final outcomes against a [`HaltPolicy`].
#[derive(Debug)]
pub(super) struct HaltWatch {
    policy: Option<HaltPolicy>,
    /// The count at which the run halts.
    limit: f64,
    /// How many tasks take part in the run.
    tasks: usize,
    counted: u32,
    fired: bool,
}

impl HaltWatch {
    /// `tasks`: how many tasks take part in the run (the base of a percentage).
    pub(super) fn new(policy: Option<HaltPolicy>, tasks: usize) -> HaltWatch {
        let limit = match policy.map(|p| p.threshold) {
            Some(HaltThreshold::Count(n)) => f64::from(n.max(1)),
            Some(HaltThreshold::Percent(p)) => tasks as f64 * p / 100.0,
            None => f64::INFINITY,
        };
        HaltWatch {
            policy,
            limit,
            tasks,
            counted: 0,
            fired: false,
        }
    }

    /// One more task takes part in the run (added after it began): a percentage counts it.
    pub(super) fn add_task(&mut self) {
        self.tasks += 1;
        if let Some(HaltThreshold::Percent(p)) = self.policy.map(|p| p.threshold) {
            self.limit = self.tasks as f64 * p / 100.0;
        }
    }

    /// Records a task that ended for good (`succeeded` or failed). Returns the policy's
    /// `when` the first time the threshold is reached, and `None` otherwise.
    pub(super) fn record(&mut self, succeeded: bool) -> Option<HaltWhen> {
        let policy = self.policy?;
        let counts = match policy.on {
            HaltOn::Fail => !succeeded,
            HaltOn::Success => succeeded,
            HaltOn::Done => true,
        };
        if !counts || self.fired {
            return None;
        }
        self.counted += 1;
        if f64::from(self.counted) >= self.limit {
            self.fired = true;
            Some(policy.when)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(when: HaltWhen, on: HaltOn, threshold: HaltThreshold) -> Option<HaltPolicy> {
        Some(HaltPolicy {
            when,
            on,
            threshold,
        })
    }

    #[test]
    fn counts_only_what_the_policy_names_and_fires_once() {
        // (policy, tasks, outcomes as succeeded?, index of the outcome that fires)
        type Case = (Option<HaltPolicy>, usize, Vec<bool>, Option<usize>);
        let cases: Vec<Case> = vec![
            (None, 3, vec![false, false, false], None),
            (
                policy(HaltWhen::Now, HaltOn::Fail, HaltThreshold::Count(1)),
                3,
                vec![true, false, false],
                Some(1),
            ),
            (
                policy(HaltWhen::Soon, HaltOn::Fail, HaltThreshold::Count(2)),
                4,
                vec![false, true, true, false],
                Some(3),
            ),
            (
                policy(HaltWhen::Now, HaltOn::Success, HaltThreshold::Count(1)),
                3,
                vec![false, false, true],
                Some(2),
            ),
            (
                policy(HaltWhen::Now, HaltOn::Done, HaltThreshold::Count(2)),
                3,
                vec![false, true, true],
                Some(1),
            ),
            // 50% of 6 tasks is 3 failures.
            (
                policy(HaltWhen::Now, HaltOn::Fail, HaltThreshold::Percent(50.0)),
                6,
                vec![true, false, false, true, false, false],
                Some(4),
            ),
            // 10% of 5 tasks is half a task: the first failure reaches it.
            (
                policy(HaltWhen::Soon, HaltOn::Fail, HaltThreshold::Percent(10.0)),
                5,
                vec![true, false],
                Some(1),
            ),
        ];
        for (policy, tasks, outcomes, fires_at) in cases {
            let mut watch = HaltWatch::new(policy, tasks);
            let fired: Vec<usize> = outcomes
                .iter()
                .enumerate()
                .filter_map(|(i, &ok)| watch.record(ok).map(|_| i))
                .collect();
            assert_eq!(
                fired,
                fires_at.into_iter().collect::<Vec<_>>(),
                "{policy:?}"
            );
        }
    }
}
