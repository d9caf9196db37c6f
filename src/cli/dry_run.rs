//! `--dry-run`: the order tasks would start in, found by running the scheduler against a
//! virtual clock where every task succeeds after its expected duration.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use crate::graph::Dag;
use crate::plan::Plan;
use crate::scheduler::{Outcome, Scheduler, SchedulerConfig};

/// `(task, virtual start in expected seconds)` in start order.
pub(crate) fn start_order(
    plan: &Plan,
    dag: &Dag,
    selected: &[bool],
    weights: &[f64],
    conflicts: &[Vec<usize>],
    config: SchedulerConfig,
) -> Vec<(usize, f64)> {
    let mut scheduler = Scheduler::new(plan, dag, selected, weights, conflicts, config);
    let mut running: BinaryHeap<Reverse<(Duration, usize)>> = BinaryHeap::new();
    let mut now = Duration::ZERO;
    let mut order = Vec::new();
    loop {
        while let Some(start) = scheduler.start_next(now) {
            order.push((start.task, now.as_secs_f64()));
            let took = Duration::from_secs_f64(weights[start.task].max(0.0));
            running.push(Reverse((now + took, start.task)));
        }
        let Some(Reverse((end, task))) = running.pop() else {
            break;
        };
        now = end;
        let _ = scheduler.finished(task, Outcome::Success, now);
    }
    order
}
