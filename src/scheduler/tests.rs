//! Table tests: one behaviour of the scheduler each, driven the way the runner drives it.

use std::time::Duration;

use super::fixture::Fixture;
use super::{Decision, Outcome, Scheduler, Start, StopReason, TaskState};
use crate::plan::Backoff;

const T0: Duration = Duration::ZERO;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

/// Starts everything that may start at `now`; returns the tasks (checking attempt 1).
fn start_all(sched: &mut Scheduler, now: Duration) -> Vec<usize> {
    std::iter::from_fn(|| sched.start_next(now))
        .map(|s| s.task)
        .collect()
}

/// Runs the plan to the end with every attempt succeeding; returns the start order.
fn start_order(fixture: Fixture) -> Vec<usize> {
    let mut sched = fixture.build();
    let mut order = Vec::new();
    while let Some(Start { task, .. }) = sched.start_next(T0) {
        order.push(task);
        assert_eq!(sched.finished(task, Outcome::Success, T0), vec![]);
    }
    assert!(sched.is_finished());
    order
}

#[test]
fn start_order_follows_priority_bottom_level_and_plan_order() {
    let cases: Vec<(&str, Fixture, Vec<usize>)> = vec![
        (
            "higher priority first, ties in plan order",
            Fixture::new(4)
                .priority(1, 5)
                .priority(2, -1)
                .priority(3, 5),
            vec![1, 3, 0, 2],
        ),
        (
            "longer remaining path first",
            // 0 alone; 1 -> 2 is a chain of two.
            Fixture::new(3).dep(2, 1),
            vec![1, 0, 2],
        ),
        (
            "remaining path is weighed",
            Fixture::new(3).dep(2, 1).weight(0, 10.0),
            vec![0, 1, 2],
        ),
        (
            "priority beats remaining path",
            Fixture::new(4).dep(2, 1).dep(3, 2).priority(0, 1),
            vec![0, 1, 2, 3],
        ),
        (
            "dependencies first whatever the priority",
            Fixture::new(2).dep(0, 1).priority(0, 100),
            vec![1, 0],
        ),
    ];
    for (name, fixture, expected) in cases {
        assert_eq!(start_order(fixture), expected, "{name}");
    }
}

#[test]
fn a_task_held_back_by_a_resource_lets_a_lesser_one_start() {
    let mut sched = Fixture::new(3)
        .jobs(3)
        .resource("gpu", 1)
        .uses(0, "gpu", 1)
        .uses(1, "gpu", 1)
        .priority(0, 3)
        .priority(1, 2)
        .priority(2, 1)
        .build();
    assert_eq!(start_all(&mut sched, T0), vec![0, 2]);
    assert_eq!(sched.state(1), TaskState::Ready);
    assert_eq!(sched.finished(0, Outcome::Success, secs(1)), vec![]);
    assert_eq!(start_all(&mut sched, secs(1)), vec![1]);
}

#[test]
fn counted_resources_admit_up_to_their_capacity() {
    let mut sched = Fixture::new(4)
        .jobs(4)
        .resource("api", 3)
        .uses(0, "api", 2)
        .uses(1, "api", 2)
        .uses(2, "api", 1)
        .uses(3, "undeclared", 99)
        .build();
    assert_eq!(start_all(&mut sched, T0), vec![0, 2, 3]);
    assert_eq!(sched.finished(2, Outcome::Success, T0), vec![]);
    assert_eq!(start_all(&mut sched, T0), Vec::<usize>::new());
    assert_eq!(sched.finished(0, Outcome::Success, T0), vec![]);
    assert_eq!(start_all(&mut sched, T0), vec![1]);
}

#[test]
fn a_free_slot_is_never_given_up_for_a_lesser_task() {
    let mut sched = Fixture::new(3).jobs(1).priority(0, 9).build();
    assert_eq!(start_all(&mut sched, T0), vec![0]);
    assert_eq!(sched.running_count(), 1);
    assert_eq!(sched.start_next(T0), None);
}

#[test]
fn conflicting_writers_never_run_together() {
    let mut sched = Fixture::new(3)
        .jobs(3)
        .conflict(0, 1)
        .priority(1, 1)
        .build();
    assert_eq!(start_all(&mut sched, T0), vec![1, 2]);
    assert_eq!(sched.state(0), TaskState::Ready);
    assert_eq!(sched.finished(1, Outcome::Success, secs(1)), vec![]);
    assert_eq!(start_all(&mut sched, secs(1)), vec![0]);
}

#[test]
fn a_fixed_retry_waits_without_holding_its_slot() {
    let mut sched = Fixture::new(2)
        .jobs(1)
        .retries(0, 2, Backoff::Fixed(secs(5)))
        .priority(0, 1)
        .build();
    assert_eq!(
        sched.start_next(T0),
        Some(Start {
            task: 0,
            attempt: 1
        })
    );
    assert_eq!(
        sched.finished(0, Outcome::Failure, secs(1)),
        vec![Decision::Retry {
            task: 0,
            attempt: 2,
            delay: secs(5)
        }]
    );
    assert_eq!(
        sched.state(0),
        TaskState::Waiting {
            until: secs(6),
            attempt: 2
        }
    );
    assert_eq!(sched.running_count(), 0);
    assert_eq!(sched.next_wakeup(), Some(secs(6)));
    assert!(!sched.is_finished());
    // The slot goes to the other task meanwhile.
    assert_eq!(start_all(&mut sched, secs(1)), vec![1]);
    assert_eq!(sched.finished(1, Outcome::Success, secs(2)), vec![]);
    assert_eq!(start_all(&mut sched, secs(5)), Vec::<usize>::new());
    assert_eq!(
        sched.start_next(secs(6)),
        Some(Start {
            task: 0,
            attempt: 2
        })
    );
    assert_eq!(sched.next_wakeup(), None);
    assert_eq!(
        sched.finished(0, Outcome::Failure, secs(7)),
        vec![Decision::Retry {
            task: 0,
            attempt: 3,
            delay: secs(5)
        }]
    );
    assert_eq!(
        sched.start_next(secs(12)),
        Some(Start {
            task: 0,
            attempt: 3
        })
    );
    assert_eq!(sched.finished(0, Outcome::Failure, secs(13)), vec![]);
    assert_eq!(sched.state(0), TaskState::Failed);
    assert_eq!(sched.attempts(0), 3);
    assert!(sched.is_finished());
}

/// The delays of a task that fails every attempt, under `seed`.
fn exponential_delays(seed: u64) -> Vec<Duration> {
    let backoff = Backoff::Exponential {
        base: ms(100),
        max: ms(250),
    };
    let mut fixture = Fixture::new(1).retries(0, 3, backoff);
    fixture.config.seed = seed;
    let mut sched = fixture.build();
    let mut now = T0;
    let mut delays = Vec::new();
    while let Some(start) = sched.start_next(now) {
        for decision in sched.finished(start.task, Outcome::Failure, now) {
            let Decision::Retry { delay, attempt, .. } = decision else {
                panic!("unexpected {decision:?}");
            };
            assert_eq!(attempt, start.attempt + 1);
            delays.push(delay);
        }
        now = sched.next_wakeup().unwrap_or(now);
    }
    assert_eq!(sched.state(0), TaskState::Failed);
    delays
}

#[test]
fn exponential_retries_double_with_jitter_up_to_the_cap() {
    for seed in 0..20 {
        let delays = exponential_delays(seed);
        assert_eq!(delays.len(), 3);
        for (delay, (low, high)) in delays.iter().zip([(50, 100), (100, 200), (125, 250)]) {
            assert!(
                (ms(low)..=ms(high)).contains(delay),
                "seed {seed}: {delays:?}"
            );
        }
        assert_eq!(exponential_delays(seed), delays, "deterministic per seed");
    }
    assert!((1..20).any(|seed| exponential_delays(seed) != exponential_delays(0)));
}

#[test]
fn keep_going_skips_every_transitive_dependent() {
    // 0 -> 1 -> 2, 1 -> 3, and 4 on its own.
    let mut sched = Fixture::new(5)
        .jobs(2)
        .dep(1, 0)
        .dep(2, 1)
        .dep(3, 1)
        .priority(0, 1)
        .build();
    assert_eq!(start_all(&mut sched, T0), vec![0, 4]);
    assert_eq!(
        sched.finished(0, Outcome::Failure, secs(1)),
        vec![
            Decision::Skipped {
                task: 1,
                because: 0
            },
            Decision::Skipped {
                task: 2,
                because: 0
            },
            Decision::Skipped {
                task: 3,
                because: 0
            },
        ]
    );
    assert_eq!(sched.state(2), TaskState::Skipped { because: 0 });
    assert!(!sched.is_finished());
    assert_eq!(sched.finished(4, Outcome::Success, secs(2)), vec![]);
    assert!(sched.is_finished());
}

#[test]
fn fail_fast_stops_at_the_first_final_failure() {
    let mut sched = Fixture::new(4)
        .jobs(2)
        .keep_going(false)
        .dep(3, 0)
        .retries(1, 2, Backoff::Fixed(secs(1)))
        .build();
    assert_eq!(start_all(&mut sched, T0), vec![0, 1]);
    assert_eq!(
        sched.finished(0, Outcome::Failure, secs(1)),
        vec![Decision::Stop {
            reason: StopReason::FailFast { task: 0 }
        }]
    );
    assert!(sched.is_stopped());
    assert_eq!(sched.stop_reason(), Some(StopReason::FailFast { task: 0 }));
    assert_eq!(sched.state(2), TaskState::NotRun);
    assert_eq!(sched.state(3), TaskState::NotRun);
    assert_eq!(sched.start_next(secs(1)), None);
    assert!(!sched.is_finished());
    // A running task that fails after the stop is not retried.
    assert_eq!(sched.finished(1, Outcome::Failure, secs(2)), vec![]);
    assert_eq!(sched.state(1), TaskState::Failed);
    assert!(sched.is_finished());
}

#[test]
fn fail_fast_records_cancelled_attempts() {
    let mut sched = Fixture::new(2).jobs(2).keep_going(false).build();
    assert_eq!(start_all(&mut sched, T0), vec![0, 1]);
    assert!(matches!(
        sched.finished(0, Outcome::Failure, T0)[..],
        [Decision::Stop { .. }]
    ));
    assert_eq!(sched.finished(1, Outcome::Cancelled, T0), vec![]);
    assert_eq!(sched.state(1), TaskState::Cancelled);
    assert!(sched.is_finished());
}

#[test]
fn fail_fast_still_retries_before_failing_for_good() {
    let mut sched = Fixture::new(1)
        .keep_going(false)
        .retries(0, 1, Backoff::Fixed(secs(1)))
        .build();
    let _ = sched.start_next(T0);
    assert!(matches!(
        sched.finished(0, Outcome::Failure, T0)[..],
        [Decision::Retry { .. }]
    ));
    assert!(!sched.is_stopped());
}

#[test]
fn systemic_stop_after_the_first_five_attempts_fail() {
    // Task 0 fails twice (one retry), tasks 1..=3 once: five failed attempts.
    let mut sched = Fixture::new(7)
        .systemic_stop()
        .retries(0, 1, Backoff::Fixed(T0))
        .priority(0, 1)
        .dep(6, 1)
        .build();
    let mut decisions = Vec::new();
    for _ in 0..5 {
        let start = sched.start_next(T0).expect("a task starts");
        assert!(start.task <= 3, "{start:?}");
        decisions = sched.finished(start.task, Outcome::Failure, T0);
    }
    assert_eq!(
        decisions,
        vec![Decision::Stop {
            reason: StopReason::Systemic { first: 0 }
        }]
    );
    assert_eq!(sched.state(3), TaskState::Failed);
    assert_eq!(sched.state(4), TaskState::NotRun);
    assert_eq!(sched.state(5), TaskState::NotRun);
    assert_eq!(
        sched.state(6),
        TaskState::Skipped { because: 1 },
        "skipped before the stop"
    );
    assert_eq!(sched.start_next(T0), None);
    assert!(sched.is_finished());
}

#[test]
fn systemic_stop_lets_running_tasks_finish() {
    let mut sched = Fixture::new(8).jobs(6).systemic_stop().build();
    assert_eq!(start_all(&mut sched, T0).len(), 6);
    for task in 0..4 {
        let _ = sched.finished(task, Outcome::Failure, T0);
    }
    assert_eq!(
        sched.finished(4, Outcome::Failure, T0),
        vec![Decision::Stop {
            reason: StopReason::Systemic { first: 0 }
        }]
    );
    assert_eq!(sched.state(6), TaskState::NotRun);
    assert_eq!(sched.finished(5, Outcome::Success, T0), vec![]);
    assert_eq!(sched.state(5), TaskState::Succeeded);
    assert!(sched.is_finished());
}

#[test]
fn no_systemic_stop_when_one_of_the_first_five_succeeds_or_the_run_is_small() {
    let cases = [
        (
            "a success first",
            Fixture::new(8).systemic_stop(),
            vec![true, false, false, false, false, false, false, false],
        ),
        (
            "a success fifth",
            Fixture::new(8).systemic_stop(),
            vec![false, false, false, false, true, false, false, false],
        ),
        (
            "four tasks",
            Fixture::new(4)
                .systemic_stop()
                .retries(0, 3, Backoff::Fixed(T0)),
            vec![false; 7],
        ),
        ("disabled", Fixture::new(8), vec![false; 8]),
    ];
    for (name, fixture, outcomes) in cases {
        let mut sched = fixture.build();
        for succeeds in outcomes {
            let start = sched.start_next(T0).expect(name);
            let outcome = if succeeds {
                Outcome::Success
            } else {
                Outcome::Failure
            };
            let decisions = sched.finished(start.task, outcome, T0);
            assert!(
                !decisions.iter().any(|d| matches!(d, Decision::Stop { .. })),
                "{name}: {decisions:?}"
            );
        }
        assert!(sched.is_finished(), "{name}");
    }
}

#[test]
fn interrupt_stops_starts_and_lets_running_tasks_end() {
    let mut sched = Fixture::new(4)
        .jobs(2)
        .dep(3, 0)
        .retries(1, 1, Backoff::Fixed(secs(10)))
        .priority(1, 1)
        .build();
    assert_eq!(start_all(&mut sched, T0), vec![1, 0]);
    assert!(matches!(
        sched.finished(1, Outcome::Failure, T0)[..],
        [Decision::Retry { .. }]
    ));
    assert_eq!(
        sched.stop(StopReason::Interrupted),
        vec![Decision::Stop {
            reason: StopReason::Interrupted
        }]
    );
    assert_eq!(
        sched.state(1),
        TaskState::NotRun,
        "a waiting retry does not run"
    );
    assert_eq!(sched.state(2), TaskState::NotRun);
    assert_eq!(sched.state(3), TaskState::NotRun);
    assert_eq!(sched.next_wakeup(), None);
    assert_eq!(sched.start_next(secs(20)), None);
    assert!(!sched.is_finished());
    assert_eq!(sched.finished(0, Outcome::Success, secs(1)), vec![]);
    assert_eq!(sched.state(0), TaskState::Succeeded);
    assert_eq!(sched.state(3), TaskState::NotRun);
    assert!(sched.is_finished());
}

#[test]
fn a_cancelled_task_is_final_and_its_dependents_do_not_run() {
    let mut sched = Fixture::new(3)
        .dep(1, 0)
        .dep(2, 1)
        .retries(0, 3, Backoff::Fixed(T0))
        .build();
    let _ = sched.start_next(T0);
    assert_eq!(sched.finished(0, Outcome::Cancelled, T0), vec![]);
    assert_eq!(sched.state(0), TaskState::Cancelled);
    assert_eq!(sched.state(2), TaskState::NotRun);
    assert!(sched.is_finished());
}

#[test]
fn serial_retry_success_releases_the_dependents() {
    // 0 fails; 1 waits for 0; 2 is on its own.
    let mut sched = Fixture::new(3).jobs(2).serial_retry().dep(1, 0).build();
    assert_eq!(start_all(&mut sched, T0), vec![0, 2]);
    assert_eq!(sched.finished(0, Outcome::Failure, secs(1)), vec![]);
    assert_eq!(sched.state(1), TaskState::Blocked);
    assert_eq!(sched.state(0), TaskState::Failed);
    assert!(!sched.is_finished());
    assert_eq!(
        sched.finished(2, Outcome::Success, secs(2)),
        vec![Decision::SerialRetry { task: 0 }]
    );
    assert_eq!(
        sched.start_next(secs(2)),
        Some(Start {
            task: 0,
            attempt: 2
        })
    );
    assert_eq!(sched.finished(0, Outcome::Success, secs(3)), vec![]);
    assert_eq!(
        sched.start_next(secs(3)),
        Some(Start {
            task: 1,
            attempt: 1
        })
    );
    assert_eq!(sched.finished(1, Outcome::Success, secs(4)), vec![]);
    assert!(sched.is_finished());
}

#[test]
fn serial_retry_failure_skips_the_dependents() {
    let mut sched = Fixture::new(3).serial_retry().dep(1, 0).dep(2, 1).build();
    let _ = sched.start_next(T0);
    assert_eq!(
        sched.finished(0, Outcome::Failure, T0),
        vec![Decision::SerialRetry { task: 0 }]
    );
    assert_eq!(
        sched.start_next(T0),
        Some(Start {
            task: 0,
            attempt: 2
        })
    );
    assert_eq!(
        sched.finished(0, Outcome::Failure, T0),
        vec![
            Decision::Skipped {
                task: 1,
                because: 0
            },
            Decision::Skipped {
                task: 2,
                because: 0
            }
        ]
    );
    assert_eq!(sched.state(0), TaskState::Failed);
    assert!(sched.is_finished());
}

#[test]
fn serial_retries_go_one_at_a_time_in_plan_order() {
    let mut sched = Fixture::new(4)
        .jobs(4)
        .serial_retry()
        .retries(3, 1, Backoff::Fixed(T0))
        .build();
    assert_eq!(start_all(&mut sched, T0), vec![0, 1, 2, 3]);
    assert_eq!(sched.finished(2, Outcome::Failure, T0), vec![]);
    assert_eq!(sched.finished(1, Outcome::Failure, T0), vec![]);
    assert!(matches!(
        sched.finished(3, Outcome::Failure, T0)[..],
        [Decision::Retry { .. }]
    ));
    assert_eq!(sched.finished(0, Outcome::Success, T0), vec![]);
    assert_eq!(
        sched.start_next(T0),
        Some(Start {
            task: 3,
            attempt: 2
        })
    );
    // Task 3 used its ordinary retry and fails for good: now the serial phase begins.
    assert_eq!(
        sched.finished(3, Outcome::Failure, T0),
        vec![Decision::SerialRetry { task: 1 }]
    );
    assert_eq!(start_all(&mut sched, T0), vec![1]);
    assert_eq!(
        sched.finished(1, Outcome::Success, T0),
        vec![Decision::SerialRetry { task: 2 }]
    );
    assert_eq!(start_all(&mut sched, T0), vec![2]);
    assert_eq!(
        sched.finished(2, Outcome::Failure, T0),
        vec![Decision::SerialRetry { task: 3 }]
    );
    assert_eq!(
        sched.start_next(T0),
        Some(Start {
            task: 3,
            attempt: 3
        })
    );
    assert_eq!(sched.finished(3, Outcome::Failure, T0), vec![]);
    assert!(sched.is_finished());
    assert_eq!(
        (0..4).map(|t| sched.state(t)).collect::<Vec<_>>(),
        [
            TaskState::Succeeded,
            TaskState::Succeeded,
            TaskState::Failed,
            TaskState::Failed
        ]
    );
}

#[test]
fn unselected_tasks_are_excluded() {
    // 0 -> 1 -> 2; only 1 (and so 0) is asked for.
    let mut sched = Fixture::new(3).dep(1, 0).dep(2, 1).select(&[1]).build();
    assert_eq!(sched.state(2), TaskState::Excluded);
    assert_eq!(start_all(&mut sched, T0), vec![0]);
    assert_eq!(sched.finished(0, Outcome::Success, T0), vec![]);
    assert_eq!(start_all(&mut sched, T0), vec![1]);
    assert_eq!(sched.finished(1, Outcome::Failure, T0), vec![]);
    assert!(sched.is_finished());
    assert_eq!(sched.state(2), TaskState::Excluded);
}

#[test]
fn an_empty_run_is_finished_at_once() {
    let mut sched = Fixture::new(2).select(&[]).build();
    assert!(sched.is_finished());
    assert_eq!(sched.start_next(T0), None);
}

#[test]
fn a_long_run_without_limits_is_fast() {
    // 100,000 independent tasks and a chain: each start and finish costs O(log n).
    let n = 100_000;
    let mut fixture = Fixture::new(n).jobs(64);
    for task in 1..1000 {
        fixture = fixture.dep(task, task - 1);
    }
    let mut sched = fixture.build();
    let mut running = Vec::new();
    let mut done = 0;
    while !sched.is_finished() {
        running.extend(std::iter::from_fn(|| sched.start_next(T0)).map(|s| s.task));
        let task = running.pop().expect("progress");
        assert_eq!(sched.finished(task, Outcome::Success, T0), vec![]);
        done += 1;
    }
    assert_eq!(done, n);
}

#[test]
fn halt_policies_stop_the_run_when_their_threshold_is_reached() {
    use super::{HaltOn, HaltPolicy, HaltThreshold, HaltWhen};
    let policy = |when, on, threshold| HaltPolicy {
        when,
        on,
        threshold,
    };
    // (name, policy, retries of task 0, outcomes fed in order (task, outcome), expected stop
    // reason after the last outcome, tasks left NotRun)
    let cases = vec![
        (
            "now,fail=1 halts at the first failure and terminates",
            policy(HaltWhen::Now, HaltOn::Fail, HaltThreshold::Count(1)),
            0,
            vec![(0, Outcome::Success), (1, Outcome::Failure)],
            Some(StopReason::Halt { task: 1, now: true }),
            vec![4, 5],
        ),
        (
            "soon,fail=2 halts at the second failure and lets running tasks finish",
            policy(HaltWhen::Soon, HaltOn::Fail, HaltThreshold::Count(2)),
            0,
            vec![
                (0, Outcome::Failure),
                (1, Outcome::Success),
                (2, Outcome::Failure),
            ],
            Some(StopReason::Halt {
                task: 2,
                now: false,
            }),
            vec![5],
        ),
        (
            "a failure that will be retried is not counted",
            policy(HaltWhen::Now, HaltOn::Fail, HaltThreshold::Count(1)),
            1,
            vec![(0, Outcome::Failure), (1, Outcome::Success)],
            None,
            vec![],
        ),
        (
            "now,success=1 halts at the first success",
            policy(HaltWhen::Now, HaltOn::Success, HaltThreshold::Count(1)),
            0,
            vec![(0, Outcome::Failure), (1, Outcome::Success)],
            Some(StopReason::Halt { task: 1, now: true }),
            vec![4, 5],
        ),
        (
            "now,fail=50% of six tasks halts at the third failure",
            policy(HaltWhen::Now, HaltOn::Fail, HaltThreshold::Percent(50.0)),
            0,
            vec![
                (0, Outcome::Failure),
                (1, Outcome::Failure),
                (2, Outcome::Success),
                (3, Outcome::Failure),
            ],
            Some(StopReason::Halt { task: 3, now: true }),
            vec![],
        ),
        (
            "cancelled tasks are not counted",
            policy(HaltWhen::Now, HaltOn::Done, HaltThreshold::Count(1)),
            0,
            vec![(0, Outcome::Cancelled)],
            None,
            vec![],
        ),
    ];
    for (name, policy, retries, outcomes, reason, not_run) in cases {
        // Six independent tasks, three at a time; each finished task frees a slot for the
        // next one in plan order.
        let mut sched = Fixture::new(6)
            .jobs(3)
            .retries(0, retries, Backoff::Fixed(ms(10)))
            .halt(policy)
            .build();
        assert_eq!(start_all(&mut sched, T0), vec![0, 1, 2], "{name}");
        let mut last = Vec::new();
        for (task, outcome) in outcomes {
            last = sched.finished(task, outcome, T0);
            let _ = start_all(&mut sched, T0);
        }
        match reason {
            Some(reason) => {
                assert!(
                    last.contains(&Decision::Stop { reason }),
                    "{name}: {last:?}"
                );
                assert_eq!(sched.stop_reason(), Some(reason), "{name}");
            }
            None => assert_eq!(sched.stop_reason(), None, "{name}: {last:?}"),
        }
        let left: Vec<usize> = (0..6)
            .filter(|&t| sched.state(t) == TaskState::NotRun)
            .collect();
        assert_eq!(left, not_run, "{name}");
    }
}

mod agent_paths {
    use std::time::Duration;

    use crate::scheduler::fixture::Fixture;
    use crate::scheduler::{Decision, TaskState};

    #[test]
    fn a_rate_limited_attempt_is_retried_without_using_a_retry() {
        let mut s = Fixture::new(1).build();
        let start = s.start_next(Duration::ZERO).unwrap();
        let d = s.rate_limited(start.task, Duration::from_secs(2), Duration::ZERO);
        assert!(matches!(d[..], [Decision::Retry { attempt: 2, .. }]));
        assert!(s.start_next(Duration::from_secs(1)).is_none());
        let again = s.start_next(Duration::from_secs(2)).unwrap();
        assert_eq!(again.attempt, 2);
        let _ = s.finished(
            again.task,
            crate::scheduler::Outcome::Success,
            Duration::from_secs(3),
        );
        assert_eq!(s.state(again.task), TaskState::Succeeded);
    }

    #[test]
    fn a_lowered_capacity_holds_new_starts_back() {
        let mut s = Fixture::new(3)
            .jobs(3)
            .resource("api", 2)
            .uses(0, "api", 1)
            .uses(1, "api", 1)
            .uses(2, "api", 1)
            .build();
        let a = s.start_next(Duration::ZERO).unwrap();
        let _b = s.start_next(Duration::ZERO).unwrap();
        s.set_resource_capacity(0, 1);
        let _ = s.finished(a.task, crate::scheduler::Outcome::Success, Duration::ZERO);
        assert!(s.start_next(Duration::ZERO).is_none());
        s.set_resource_capacity(0, 2);
        assert!(s.start_next(Duration::ZERO).is_some());
    }

    #[test]
    fn postponed_and_withheld_starts_are_taken_back() {
        let mut s = Fixture::new(2).dep(1, 0).build();
        let start = s.start_next(Duration::ZERO).unwrap();
        s.postpone(start.task, Duration::from_secs(1));
        assert!(s.start_next(Duration::ZERO).is_none());
        let again = s.start_next(Duration::from_secs(1)).unwrap();
        assert_eq!((again.task, again.attempt), (start.task, 1));
        let d = s.withhold(again.task);
        assert_eq!(d.len(), 1);
        assert_eq!(s.state(again.task), TaskState::NotRun);
        assert!(s.is_finished());
    }
}

#[test]
fn tasks_added_during_a_run_take_part_like_the_others() {
    use super::fixture::task;
    let fixture = Fixture::new(1).jobs(2).resource("db", 1);
    let mut sched = fixture.build();
    assert_eq!(start_all(&mut sched, T0), [0]);
    // Added while 0 runs: a selected one starts in the free slot, one that only holds its
    // place never runs.
    let mut uses_db = task("a".into());
    uses_db.uses.insert("db".into(), 1);
    assert_eq!(sched.add_task(&fixture.plan, &uses_db, 1.0, true), 1);
    assert_eq!(
        sched.add_task(&fixture.plan, &task("b".into()), 1.0, false),
        2
    );
    assert_eq!(sched.state(2), TaskState::Excluded);
    assert!(!sched.is_finished());
    assert_eq!(start_all(&mut sched, T0), [1]);
    // The resource it holds keeps another user of it waiting; a slot frees for none.
    let mut also_db = task("c".into());
    also_db.uses.insert("db".into(), 1);
    assert_eq!(sched.add_task(&fixture.plan, &also_db, 1.0, true), 3);
    assert_eq!(sched.finished(0, Outcome::Success, T0), vec![]);
    assert_eq!(start_all(&mut sched, T0), Vec::<usize>::new());
    assert_eq!(sched.finished(1, Outcome::Success, T0), vec![]);
    assert_eq!(start_all(&mut sched, T0), [3]);
    assert_eq!(sched.finished(3, Outcome::Success, T0), vec![]);
    assert!(sched.is_finished());
    // Added once the run stopped: it will not run.
    let _ = sched.stop(StopReason::Interrupted);
    assert_eq!(
        sched.add_task(&fixture.plan, &task("d".into()), 1.0, true),
        4
    );
    assert_eq!(sched.state(4), TaskState::NotRun);
    assert_eq!(start_all(&mut sched, T0), Vec::<usize>::new());
}

#[test]
fn a_percentage_halt_counts_tasks_added_during_the_run() {
    use super::fixture::task;
    use super::{HaltOn, HaltPolicy, HaltThreshold, HaltWhen};
    let fixture = Fixture::new(0).jobs(4).halt(HaltPolicy {
        when: HaltWhen::Now,
        on: HaltOn::Fail,
        threshold: HaltThreshold::Percent(50.0),
    });
    let mut sched = fixture.build();
    for i in 0..4 {
        assert_eq!(
            sched.add_task(&fixture.plan, &task(format!("t{i}")), 1.0, true),
            i
        );
    }
    assert_eq!(start_all(&mut sched, T0), [0, 1, 2, 3]);
    // Half of four is two failures.
    assert_eq!(sched.finished(0, Outcome::Failure, T0), vec![]);
    let decisions = sched.finished(1, Outcome::Failure, T0);
    assert_eq!(
        sched.stop_reason(),
        Some(StopReason::Halt { task: 1, now: true }),
        "{decisions:?}"
    );
}
