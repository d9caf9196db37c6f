//! The ready queue: tasks that may start as soon as a slot, their resources and their write
//! locks allow, best first. Best means the user's priority, then the longest remaining path
//! to the end of the graph (the bottom level), then plan order. It knows nothing about
//! slots or locks itself: the caller says which tasks fit.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::window::Window;

/// A queued task with the keys it is ordered by, copied in so the heap needs no lookups.
#[derive(Clone, Copy, Debug)]
struct Entry {
    priority: i64,
    bottom_level: f64,
    task: usize,
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority
            .cmp(&other.priority)
            .then(self.bottom_level.total_cmp(&other.bottom_level))
            // Lower plan index is better, and the heap pops the greatest.
            .then(other.task.cmp(&self.task))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

/// Ready tasks ordered by priority, bottom level and plan index.
#[derive(Debug)]
pub(super) struct ReadyQueue {
    heap: BinaryHeap<Entry>,
    /// Per task: `(priority, bottom level)`.
    keys: Window<(i64, f64)>,
}

impl ReadyQueue {
    /// `keys[i]` is task i's priority and bottom level.
    pub(super) fn new(keys: Vec<(i64, f64)>) -> ReadyQueue {
        ReadyQueue {
            heap: BinaryHeap::new(),
            keys: keys.into(),
        }
    }

    pub(super) fn push(&mut self, task: usize) {
        let (priority, bottom_level) = self.keys[task];
        self.heap.push(Entry {
            priority,
            bottom_level,
            task,
        });
    }

    /// Gives the next task index its keys (a task added to the run after it began).
    pub(super) fn add_keys(&mut self, priority: i64, bottom_level: f64) {
        self.keys.push((priority, bottom_level));
    }

    /// Lets go of the keys of the tasks before `index`, none of them queued.
    pub(super) fn forget_before(&mut self, index: usize) {
        self.keys.forget_before(index);
    }

    pub(super) fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    pub(super) fn len(&self) -> usize {
        self.heap.len()
    }

    pub(super) fn clear(&mut self) {
        self.heap.clear();
    }

    /// Removes and returns the best task for which `fits` holds. Better tasks that do not
    /// fit stay queued, so a task held back by a resource or a lock lets a lesser one
    /// start meanwhile (backfilling) without losing its place.
    ///
    /// Costs O(log n) per task looked at: when the best task fits, that is the whole cost.
    pub(super) fn pop_best_fitting(
        &mut self,
        mut fits: impl FnMut(usize) -> bool,
    ) -> Option<usize> {
        let mut passed_over = Vec::new();
        let found = loop {
            match self.heap.pop() {
                None => break None,
                Some(entry) if fits(entry.task) => break Some(entry.task),
                Some(entry) => passed_over.push(entry),
            }
        };
        for entry in passed_over {
            self.heap.push(entry);
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(queue: &mut ReadyQueue) -> Vec<usize> {
        std::iter::from_fn(|| queue.pop_best_fitting(|_| true)).collect()
    }

    #[test]
    fn orders_by_priority_then_bottom_level_then_plan_order() {
        let mut queue = ReadyQueue::new(vec![(0, 1.0), (0, 3.0), (1, 0.5), (0, 3.0), (-1, 9.0)]);
        for task in [4, 3, 2, 1, 0] {
            queue.push(task);
        }
        assert_eq!(drain(&mut queue), vec![2, 1, 3, 0, 4]);
    }

    #[test]
    fn passed_over_tasks_keep_their_place() {
        let mut queue = ReadyQueue::new(vec![(3, 0.0), (2, 0.0), (1, 0.0)]);
        for task in 0..3 {
            queue.push(task);
        }
        assert_eq!(queue.pop_best_fitting(|t| t == 2), Some(2));
        assert_eq!(queue.pop_best_fitting(|t| t == 7), None);
        assert_eq!(drain(&mut queue), vec![0, 1]);
        assert!(queue.is_empty());
    }
}
