//! Property tests: random plans (dependencies, slots, resources, write conflicts, retries,
//! random outcomes) run to the end by a small simulator with a virtual clock, checking the
//! scheduler's promises after every step.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};
use std::time::Duration;

use proptest::prelude::*;

use super::fixture::Fixture;
use super::{Decision, Outcome, Scheduler, StopReason, TaskState};
use crate::plan::Backoff;

const RESOURCES: [&str; 3] = ["cpu", "gpu", "net"];
/// Attempts per task at most: the first, two retries and a serial retry.
const MAX_ATTEMPTS: usize = 4;

#[derive(Clone, Debug)]
struct TaskSpec {
    /// Bit `j` (for `j` below the task's index): depends on task `j`, if also set in `thin`.
    dep_bits: u64,
    thin: u64,
    priority: i64,
    weight: f64,
    retries: u32,
    backoff: Backoff,
    /// `(resource index, raw amount)`; the amount is brought within the capacity.
    uses: Vec<(usize, u32)>,
    /// Per attempt: how long it runs (ms) and whether it succeeds.
    attempts: [(u64, bool); MAX_ATTEMPTS],
}

#[derive(Clone, Debug)]
struct Scenario {
    tasks: Vec<TaskSpec>,
    capacities: [u32; 3],
    conflicts: Vec<(usize, usize)>,
    jobs: usize,
    keep_going: bool,
    serial_retry: bool,
    systemic_stop: bool,
    /// Run only these and their dependencies.
    roots: Option<Vec<usize>>,
    /// Interrupt the run after this many finished attempts.
    interrupt_after: Option<usize>,
    /// Every attempt fails (a broken toolchain, say), whatever `tasks` says.
    broken: bool,
    seed: u64,
}

fn backoff() -> impl Strategy<Value = Backoff> {
    prop_oneof![
        (0u64..10).prop_map(|ms| Backoff::Fixed(Duration::from_millis(ms))),
        (1u64..4, 2u64..12).prop_map(|(base, max)| Backoff::Exponential {
            base: Duration::from_millis(base),
            max: Duration::from_millis(max),
        }),
    ]
}

fn task_spec() -> impl Strategy<Value = TaskSpec> {
    (
        (
            any::<u64>(),
            any::<u64>(),
            -2i64..3,
            (0u8..3).prop_map(f64::from),
        ),
        (0u32..=2, backoff()),
        prop::collection::vec((0usize..3, 1u32..=3), 0..3),
        prop::array::uniform4((0u64..20, prop::bool::weighted(0.7))),
    )
        .prop_map(
            |((dep_bits, thin, priority, weight), (retries, backoff), uses, attempts)| TaskSpec {
                dep_bits,
                thin,
                priority,
                weight,
                retries,
                backoff,
                uses,
                attempts,
            },
        )
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (1usize..=40).prop_flat_map(|n| {
        (
            prop::collection::vec(task_spec(), n),
            prop::array::uniform3(1u32..=3),
            prop::collection::vec((0..n, 0..n), 0..=n),
            (1usize..=4, any::<bool>(), any::<bool>(), any::<bool>()),
            prop::option::weighted(0.2, prop::collection::vec(0..n, 1..4)),
            prop::option::weighted(0.15, 0usize..60),
            (prop::bool::weighted(0.1), any::<u64>()),
        )
            .prop_map(
                |(
                    tasks,
                    capacities,
                    conflicts,
                    (jobs, keep_going, serial_retry, systemic_stop),
                    roots,
                    interrupt_after,
                    (broken, seed),
                )| {
                    Scenario {
                        tasks,
                        capacities,
                        conflicts,
                        jobs,
                        keep_going,
                        serial_retry,
                        systemic_stop,
                        roots,
                        interrupt_after,
                        broken,
                        seed,
                    }
                },
            )
    })
}

impl Scenario {
    fn fixture(&self) -> Fixture {
        let n = self.tasks.len();
        let mut fixture = Fixture::new(n).jobs(self.jobs).keep_going(self.keep_going);
        fixture.config.seed = self.seed;
        if self.serial_retry {
            fixture = fixture.serial_retry();
        }
        if self.systemic_stop {
            fixture = fixture.systemic_stop();
        }
        for (name, &capacity) in RESOURCES.iter().zip(&self.capacities) {
            fixture = fixture.resource(name, capacity);
        }
        for (i, spec) in self.tasks.iter().enumerate() {
            for j in 0..i {
                if (spec.dep_bits & spec.thin) >> j & 1 == 1 {
                    fixture = fixture.dep(i, j);
                }
            }
            for &(resource, amount) in &spec.uses {
                let capacity = self.capacities[resource];
                fixture = fixture.uses(i, RESOURCES[resource], 1 + (amount - 1) % capacity);
            }
            fixture = fixture
                .priority(i, spec.priority)
                .weight(i, spec.weight)
                .retries(i, spec.retries, spec.backoff);
        }
        for &(a, b) in &self.conflicts {
            if a != b {
                fixture = fixture.conflict(a, b);
            }
        }
        if let Some(roots) = &self.roots {
            fixture = fixture.select(roots);
        }
        fixture
    }
}

fn is_final(state: TaskState) -> bool {
    matches!(
        state,
        TaskState::Succeeded
            | TaskState::Failed
            | TaskState::Cancelled
            | TaskState::Skipped { .. }
            | TaskState::NotRun
    )
}

/// What the simulation saw, for the properties that look at the whole run.
struct Trace {
    final_states: Vec<TaskState>,
    decisions: Vec<Decision>,
}

/// Runs `scenario` to the end, event by event, checking every invariant on the way.
fn simulate(scenario: &Scenario) -> Result<Trace, TestCaseError> {
    let fixture = scenario.fixture();
    let plan = &fixture.plan;
    let n = plan.tasks.len();
    let mut sched: Scheduler = fixture.build();

    let mut clock = Duration::ZERO;
    // Running attempts by end time: (end, task, attempt).
    let mut running: BinaryHeap<Reverse<(Duration, usize, u32)>> = BinaryHeap::new();
    let mut cancelling = false;
    let mut attempts = vec![0u32; n];
    let mut final_states: Vec<Option<TaskState>> = vec![None; n];
    let mut skipped_reported = BTreeSet::new();
    let mut serially_retried = BTreeSet::new();
    let mut decisions_seen = Vec::new();
    let mut finished_attempts = 0;
    let levels = {
        let weights: Vec<f64> = (0..n)
            .map(|t| {
                if fixture.selected[t] {
                    fixture.weights[t]
                } else {
                    0.0
                }
            })
            .collect();
        fixture.dag().bottom_levels(&weights)
    };
    // Ready (or due) tasks that fit beside what runs, best first.
    let startable = |sched: &Scheduler, running: &[usize], clock: Duration| -> Vec<usize> {
        let mut fitting: Vec<usize> = (0..n)
            .filter(|&t| match sched.state(t) {
                TaskState::Ready => true,
                TaskState::Waiting { until, .. } => until <= clock,
                _ => false,
            })
            .filter(|&t| !fixture.conflicts[t].iter().any(|c| running.contains(c)))
            .filter(|&t| {
                plan.tasks[t].uses.iter().all(|(name, &amount)| {
                    let held: u32 = running
                        .iter()
                        .map(|&r| plan.tasks[r].uses.get(name).copied().unwrap_or(0))
                        .sum();
                    held + amount <= plan.resources[name]
                })
            })
            .collect();
        fitting.sort_by(|&a, &b| {
            let key = |t: usize| (plan.tasks[t].priority, levels[t]);
            key(b)
                .0
                .cmp(&key(a).0)
                .then(key(b).1.total_cmp(&key(a).1))
                .then(a.cmp(&b))
        });
        fitting
    };

    for _step in 0..10_000 {
        loop {
            // The best task that fits starts, if a slot is free; never another one.
            let now_running: Vec<usize> = running.iter().map(|Reverse((_, t, _))| *t).collect();
            let jobs = if serially_retried.is_empty() {
                scenario.jobs
            } else {
                1
            };
            let expected = startable(&sched, &now_running, clock)
                .first()
                .copied()
                .filter(|_| now_running.len() < jobs && !sched.is_stopped());
            let started = sched.start_next(clock);
            prop_assert_eq!(started.map(|s| s.task), expected, "at {:?}", clock);
            let Some(start) = started else { break };
            let task = start.task;
            prop_assert!(fixture.selected[task], "started an excluded task {task}");
            prop_assert!(
                final_states[task].is_none(),
                "task {task} started after it ended"
            );
            prop_assert_eq!(start.attempt, attempts[task] + 1);
            prop_assert!((start.attempt as usize) <= MAX_ATTEMPTS);
            attempts[task] = start.attempt;
            prop_assert_eq!(
                sched.state(task),
                TaskState::Running {
                    attempt: start.attempt
                }
            );
            for &dep in &plan.tasks[task].deps {
                prop_assert_eq!(
                    sched.state(dep),
                    TaskState::Succeeded,
                    "dep {} of {}",
                    dep,
                    task
                );
            }
            prop_assert!(!running.iter().any(|Reverse((_, t, _))| *t == task));
            let (duration, _) = scenario.tasks[task].attempts[start.attempt as usize - 1];
            running.push(Reverse((
                clock + Duration::from_millis(duration),
                task,
                start.attempt,
            )));

            let now_running: Vec<usize> = running.iter().map(|Reverse((_, t, _))| *t).collect();
            prop_assert!(now_running.len() <= scenario.jobs, "more running than jobs");
            prop_assert_eq!(now_running.len(), sched.running_count());
            for (r, name) in RESOURCES.iter().enumerate() {
                let held: u32 = now_running
                    .iter()
                    .map(|&t| plan.tasks[t].uses.get(*name).copied().unwrap_or(0))
                    .sum();
                prop_assert!(held <= scenario.capacities[r], "{} over capacity", name);
            }
            for &a in &now_running {
                for &b in &fixture.conflicts[a] {
                    prop_assert!(
                        !now_running.contains(&b),
                        "conflicting {} and {} run together",
                        a,
                        b
                    );
                }
            }
        }

        // With serial retries, `Failed` is final only once the task had its serial retry
        // (or the run stopped, so it never will).
        let serial = scenario.keep_going && scenario.serial_retry && !sched.is_stopped();
        let awaits_serial_retry = |task: usize, state| {
            serial && state == TaskState::Failed && !serially_retried.contains(&task)
        };
        for (task, seen) in final_states.iter_mut().enumerate() {
            let state = sched.state(task);
            if !fixture.selected[task] {
                prop_assert_eq!(state, TaskState::Excluded);
            } else if let Some(earlier) = seen {
                prop_assert_eq!(state, *earlier, "task {} left its final state", task);
            } else if is_final(state) && !awaits_serial_retry(task, state) {
                *seen = Some(state);
            }
        }

        if sched.is_finished() {
            prop_assert!(running.is_empty(), "finished with attempts running");
            let final_states = (0..n)
                .filter(|&t| fixture.selected[t])
                .map(|t| {
                    final_states[t].ok_or_else(|| {
                        TestCaseError::fail(format!("task {t} never ended: {:?}", sched.state(t)))
                    })
                })
                .collect::<Result<_, _>>()?;
            return Ok(Trace {
                final_states,
                decisions: decisions_seen,
            });
        }

        let next_end = running.peek().map(|Reverse((end, _, _))| *end);
        let wakeup = sched.next_wakeup();
        if let Some(wakeup) = wakeup {
            prop_assert!(wakeup > clock, "a due retry was not started");
        }
        match (next_end, wakeup) {
            (None, None) => {
                return Err(TestCaseError::fail(
                    "stuck: nothing runs, nothing waits, not finished",
                ));
            }
            (end, Some(wakeup)) if end.is_none_or(|end| wakeup < end) => clock = wakeup,
            _ => {
                let Reverse((end, task, attempt)) = running.pop().expect("peeked");
                clock = end;
                let outcome = if cancelling {
                    Outcome::Cancelled
                } else if !scenario.broken && scenario.tasks[task].attempts[attempt as usize - 1].1
                {
                    Outcome::Success
                } else {
                    Outcome::Failure
                };
                finished_attempts += 1;
                let interrupt = scenario.interrupt_after == Some(finished_attempts);
                for batch in 0..2 {
                    let decisions = match batch {
                        0 => sched.finished(task, outcome, clock),
                        _ if interrupt => sched.stop(StopReason::Interrupted),
                        _ => break,
                    };
                    for decision in &decisions {
                        match *decision {
                            Decision::Retry {
                                task: t,
                                attempt: a,
                                delay,
                            } => {
                                prop_assert_eq!(t, task);
                                prop_assert_eq!(a, attempt + 1);
                                prop_assert_eq!(
                                    sched.state(t),
                                    TaskState::Waiting {
                                        until: clock + delay,
                                        attempt: a
                                    }
                                );
                            }
                            Decision::Skipped { task: t, because } => {
                                prop_assert!(
                                    skipped_reported.insert(t),
                                    "task {} skipped twice",
                                    t
                                );
                                prop_assert_eq!(sched.state(t), TaskState::Skipped { because });
                                prop_assert_eq!(sched.state(because), TaskState::Failed);
                            }
                            Decision::Stop { reason } => {
                                prop_assert!(sched.is_stopped());
                                if !matches!(reason, StopReason::Systemic { .. }) {
                                    // The caller terminates what runs: it ends now, cancelled.
                                    cancelling = true;
                                    running = running
                                        .drain()
                                        .map(|Reverse((_, t, a))| Reverse((clock, t, a)))
                                        .collect();
                                }
                            }
                            Decision::SerialRetry { task: t } => {
                                prop_assert!(scenario.keep_going && scenario.serial_retry);
                                prop_assert!(
                                    serially_retried.insert(t),
                                    "task {} serially retried twice",
                                    t
                                );
                                prop_assert_eq!(sched.state(t), TaskState::Ready);
                            }
                        }
                    }
                    decisions_seen.extend(decisions);
                }
            }
        }
    }
    Err(TestCaseError::fail("the simulation did not end"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_runs_keep_every_promise(scenario in scenario()) {
        simulate(&scenario)?;
    }

    #[test]
    fn without_failures_every_task_succeeds(mut scenario in scenario()) {
        for spec in &mut scenario.tasks {
            for attempt in &mut spec.attempts {
                attempt.1 = true;
            }
        }
        scenario.interrupt_after = None;
        scenario.broken = false;
        let trace = simulate(&scenario)?;
        prop_assert!(trace.final_states.iter().all(|&s| s == TaskState::Succeeded), "{:?}", trace.final_states);
        prop_assert!(trace.decisions.is_empty(), "{:?}", trace.decisions);
    }
}

/// A task added while the run is under way (as `fanout map` adds its jobs).
#[derive(Clone, Debug)]
struct FedSpec {
    /// When it arrives, after the one before it (ms).
    gap: u64,
    selected: bool,
    retries: u32,
    /// Per attempt: how long it runs (ms) and whether it succeeds.
    attempts: [(u64, bool); 3],
}

fn fed_spec() -> impl Strategy<Value = FedSpec> {
    (
        0u64..15,
        prop::bool::weighted(0.85),
        0u32..=2,
        prop::array::uniform3((0u64..20, prop::bool::weighted(0.7))),
    )
        .prop_map(|(gap, selected, retries, attempts)| FedSpec {
            gap,
            selected,
            retries,
            attempts,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Tasks that arrive while the run goes on start in arrival order as slots free, never
    /// more than the slots at once, and each ends exactly once; one that only holds its
    /// place never runs. With `forget`, each is let go of as soon as it and all before it
    /// ended (as the runner does): that changes none of the above, and the verdict on the
    /// whole run still counts them.
    #[test]
    fn tasks_added_during_a_run_keep_every_promise(
        specs in prop::collection::vec(fed_spec(), 0..40),
        jobs in 1usize..=4,
        forget in any::<bool>(),
    ) {
        let fixture = Fixture::new(0).jobs(jobs);
        let mut sched = fixture.build();
        let arrivals: Vec<Duration> = specs
            .iter()
            .scan(Duration::ZERO, |at, spec| {
                *at += Duration::from_millis(spec.gap);
                Some(*at)
            })
            .collect();
        let mut clock = Duration::ZERO;
        let mut added = 0;
        let mut running: BinaryHeap<Reverse<(Duration, usize, u32)>> = BinaryHeap::new();
        let mut starts: Vec<usize> = Vec::new();
        let mut ended = vec![0u32; specs.len()];
        let mut succeeded = vec![false; specs.len()];
        // With `forget`: tasks before this one were let go of.
        let mut kept_from = 0;
        for _step in 0..10_000 {
            while added < specs.len() && arrivals[added] <= clock {
                let spec = &specs[added];
                let mut task = super::fixture::task(format!("f{added}"));
                task.retries = spec.retries;
                let index = sched.add_task(&fixture.plan, &task, 1.0, spec.selected);
                prop_assert_eq!(index, added);
                added += 1;
            }
            if forget {
                while kept_from < added && (ended[kept_from] > 0 || !specs[kept_from].selected) {
                    kept_from += 1;
                }
                sched.forget_before(kept_from);
                prop_assert_eq!(sched.held_tasks(), added - kept_from);
            }
            while let Some(start) = sched.start_next(clock) {
                prop_assert!(specs[start.task].selected, "task {} only held its place", start.task);
                prop_assert!(running.len() < jobs, "more running than jobs");
                if start.attempt == 1 {
                    starts.push(start.task);
                }
                let (ms, _) = specs[start.task].attempts[start.attempt as usize - 1];
                running.push(Reverse((clock + Duration::from_millis(ms), start.task, start.attempt)));
            }
            let next_end = running.peek().map(|Reverse((end, _, _))| *end);
            let next_arrival = arrivals.get(added).copied();
            let wakeup = sched.next_wakeup();
            let next = [next_end, next_arrival, wakeup].into_iter().flatten().min();
            let Some(next) = next else {
                break;
            };
            clock = clock.max(next);
            if next_end == Some(next) {
                let Reverse((_, task, attempt)) = running.pop().expect("peeked");
                let ok = specs[task].attempts[attempt as usize - 1].1;
                let outcome = if ok { Outcome::Success } else { Outcome::Failure };
                let decisions = sched.finished(task, outcome, clock);
                if !decisions.iter().any(|d| matches!(d, Decision::Retry { .. })) {
                    ended[task] += 1;
                    succeeded[task] = ok;
                }
            }
        }
        prop_assert!(added == specs.len() && running.is_empty() && sched.is_finished());
        // First attempts start in arrival order.
        let mut sorted = starts.clone();
        sorted.sort_unstable();
        prop_assert_eq!(&starts, &sorted);
        if forget {
            prop_assert_eq!(sched.held_tasks(), 0);
        }
        let all_succeeded = specs.iter().zip(&succeeded).all(|(spec, ok)| *ok || !spec.selected);
        prop_assert_eq!(sched.all_succeeded(), all_succeeded);
        for (task, spec) in specs.iter().enumerate() {
            prop_assert_eq!(ended[task], u32::from(spec.selected), "task {} ended {} times", task, ended[task]);
            let Some(state) = sched.held_state(task) else {
                prop_assert!(forget && task < kept_from, "task {} was let go of", task);
                continue;
            };
            if spec.selected {
                prop_assert!(is_final(state), "task {} is {:?}", task, state);
            } else {
                prop_assert_eq!(state, TaskState::Excluded);
            }
        }
    }
}
