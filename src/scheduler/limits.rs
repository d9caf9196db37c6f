//! What running tasks hold: slots, counted resources and write locks. Decides whether a task
//! fits now; knows nothing of task states, dependencies or priorities.

use crate::plan::{Plan, Task};
use crate::window::Window;

/// Slots, resource counts and conflicts held by the running attempts.
#[derive(Debug)]
pub(super) struct Limits {
    jobs: usize,
    running: usize,
    /// Remaining capacity per declared resource (in the plan's order); below zero while
    /// a lowered capacity is still held by running tasks.
    available: Vec<i64>,
    /// Capacity per declared resource, as last set.
    capacity: Vec<i64>,
    /// Per task: `(resource index, amount)` it holds while running.
    demand: Window<Vec<(usize, u32)>>,
    /// Per task: the tasks it must never run alongside (symmetric, without itself).
    conflicts: Window<Vec<usize>>,
    /// Per task: how many running tasks conflict with it.
    conflicting_running: Window<u32>,
}

impl Limits {
    /// Only `selected` tasks take part. A resource a task uses but the plan does not declare
    /// is unlimited; an amount above the resource's capacity is held as the whole capacity,
    /// so such a task runs alone on that resource instead of never.
    pub(super) fn new(
        plan: &Plan,
        selected: &[bool],
        conflicts: &[Vec<usize>],
        jobs: usize,
    ) -> Limits {
        let n = plan.tasks.len();
        let available: Vec<u32> = plan.resources.values().copied().collect();
        let demand = plan
            .tasks
            .iter()
            .map(|task| demand_of(plan, task))
            .collect();
        // Make the relation symmetric whatever the caller passed, so that "no conflicting
        // task is running" reads the same from either side.
        let mut symmetric = vec![Vec::new(); n];
        for (a, others) in conflicts.iter().enumerate() {
            for &b in others {
                if a != b && selected[a] && selected[b] {
                    symmetric[a].push(b);
                    symmetric[b].push(a);
                }
            }
        }
        for list in &mut symmetric {
            list.sort_unstable();
            list.dedup();
        }
        let available: Vec<i64> = available.into_iter().map(i64::from).collect();
        Limits {
            jobs: jobs.max(1),
            running: 0,
            capacity: available.clone(),
            available,
            demand,
            conflicts: symmetric.into(),
            conflicting_running: vec![0; n].into(),
        }
    }

    /// Takes in a task added to the run after it began (`task` of `plan`'s resources),
    /// conflicting with no other. Its index is the next one.
    pub(super) fn add_task(&mut self, plan: &Plan, task: &Task) {
        self.demand.push(demand_of(plan, task));
        self.conflicts.push(Vec::new());
        self.conflicting_running.push(0);
    }

    /// Lets go of the tasks before `index`, none of them running.
    pub(super) fn forget_before(&mut self, index: usize) {
        self.demand.forget_before(index);
        self.conflicts.forget_before(index);
        self.conflicting_running.forget_before(index);
    }

    pub(super) fn running(&self) -> usize {
        self.running
    }

    pub(super) fn slot_free(&self) -> bool {
        self.running < self.jobs
    }

    /// From now on at most `jobs` attempts run at once.
    pub(super) fn set_jobs(&mut self, jobs: usize) {
        self.jobs = jobs.max(1);
    }

    /// From now on resource `resource` (its index in the plan) holds `capacity`; tasks
    /// already holding more go on, and new ones wait until enough is given back.
    pub(super) fn set_capacity(&mut self, resource: usize, capacity: u32) {
        if let Some(old) = self.capacity.get_mut(resource) {
            self.available[resource] += i64::from(capacity) - *old;
            *old = i64::from(capacity);
        }
    }

    /// Whether `task`'s resources are there and no task it conflicts with is running.
    /// Slots are the caller's concern ([`Limits::slot_free`]).
    pub(super) fn fits(&self, task: usize) -> bool {
        self.conflicting_running[task] == 0
            && self.demand[task]
                .iter()
                .all(|&(resource, amount)| self.available[resource] >= i64::from(amount))
    }

    /// Takes a slot, the resources and the locks of `task`, which must fit.
    pub(super) fn take(&mut self, task: usize) {
        debug_assert!(self.slot_free() && self.fits(task));
        self.running += 1;
        for &(resource, amount) in &self.demand[task] {
            self.available[resource] -= i64::from(amount);
        }
        for &other in &self.conflicts[task] {
            self.conflicting_running[other] += 1;
        }
    }

    /// Gives back what [`Limits::take`] took.
    pub(super) fn release(&mut self, task: usize) {
        self.running -= 1;
        for &(resource, amount) in &self.demand[task] {
            self.available[resource] += i64::from(amount);
        }
        for &other in &self.conflicts[task] {
            self.conflicting_running[other] -= 1;
        }
    }
}

/// What `task` holds of `plan`'s declared resources while it runs: (resource index,
/// amount), an amount above the capacity cut to the capacity.
fn demand_of(plan: &Plan, task: &Task) -> Vec<(usize, u32)> {
    task.uses
        .iter()
        .filter_map(|(name, &amount)| {
            let (index, _, &capacity) = plan.resources.get_full(name)?;
            let amount = amount.min(capacity);
            (amount > 0).then_some((index, amount))
        })
        .collect()
}
