//! Per-task values of a run whose tasks keep arriving (`fanout map` reading a stream):
//! indexed by task number like a `Vec`, but the values of the oldest tasks, once nobody
//! needs them, are let go, so that an endless stream of tasks takes bounded memory.

use std::collections::VecDeque;
use std::ops::{Index, IndexMut, Range};

/// Values for tasks `0..len()`, of which those in [`Window::held`] are still held.
#[derive(Clone, Debug, PartialEq)]
pub struct Window<T> {
    /// The index of `items[0]`.
    start: usize,
    items: VecDeque<T>,
}

impl<T> Default for Window<T> {
    fn default() -> Self {
        Window {
            start: 0,
            items: VecDeque::new(),
        }
    }
}

impl<T> From<Vec<T>> for Window<T> {
    fn from(items: Vec<T>) -> Self {
        Window {
            start: 0,
            items: items.into(),
        }
    }
}

impl<T> FromIterator<T> for Window<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Window {
            start: 0,
            items: iter.into_iter().collect(),
        }
    }
}

impl<T> Window<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the value of the next task, `len()` before the call.
    pub fn push(&mut self, item: T) {
        self.items.push_back(item);
    }

    /// How many tasks there have been: one more than the last index.
    pub fn len(&self) -> usize {
        self.start + self.items.len()
    }

    /// Whether there never was a task.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The indices whose values are still held.
    pub fn held(&self) -> Range<usize> {
        self.start..self.len()
    }

    /// The value of task `index`; `None` past the end or once let go.
    pub fn get(&self, index: usize) -> Option<&T> {
        self.items.get(index.checked_sub(self.start)?)
    }

    pub fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        self.items.get_mut(index.checked_sub(self.start)?)
    }

    /// Lets go of the values of every task before `index`.
    pub fn forget_before(&mut self, index: usize) {
        let count = index.saturating_sub(self.start).min(self.items.len());
        self.items.drain(..count);
        self.start += count;
    }

    /// Lets go of the oldest values as long as `done` says they are not needed; returns
    /// the first index still held (or `len()`).
    pub fn forget_while(&mut self, mut done: impl FnMut(&T) -> bool) -> usize {
        while self.items.front().is_some_and(&mut done) {
            self.items.pop_front();
            self.start += 1;
        }
        self.start
    }

    /// The held values with their indices, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &T)> {
        (self.start..).zip(self.items.iter())
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (usize, &mut T)> {
        (self.start..).zip(self.items.iter_mut())
    }
}

impl<T> Window<Option<T>> {
    /// Takes task `index`'s value out for good, and lets go of the oldest values taken.
    pub fn take(&mut self, index: usize) -> Option<T> {
        let item = self.get_mut(index)?.take();
        self.forget_while(Option::is_none);
        item
    }

    /// Task `index`'s value, unless it was taken.
    pub fn value(&self, index: usize) -> Option<&T> {
        self.get(index)?.as_ref()
    }

    pub fn value_mut(&mut self, index: usize) -> Option<&mut T> {
        self.get_mut(index)?.as_mut()
    }
}

impl<T> Index<usize> for Window<T> {
    type Output = T;

    /// # Panics
    ///
    /// When `index` is past the end or was let go.
    fn index(&self, index: usize) -> &T {
        match self.get(index) {
            Some(item) => item,
            None => panic!("{}", self.missing(index)),
        }
    }
}

impl<T> IndexMut<usize> for Window<T> {
    fn index_mut(&mut self, index: usize) -> &mut T {
        let message = self.missing(index);
        match self.get_mut(index) {
            Some(item) => item,
            None => panic!("{message}"),
        }
    }
}

impl<T> Window<T> {
    fn missing(&self, index: usize) -> String {
        if index < self.start {
            format!("task {index} was let go (held: {:?})", self.held())
        } else {
            format!("no task {index} (there are {})", self.len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_stay_those_of_the_tasks_after_the_oldest_are_let_go() {
        let mut w: Window<char> = "abcde".chars().collect();
        w.forget_before(2);
        assert_eq!(w.len(), 5);
        assert_eq!(w.held(), 2..5);
        assert_eq!(w[2], 'c');
        assert_eq!(w.get(1), None);
        w[4] = 'x';
        w.push('f');
        assert_eq!(
            w.iter().collect::<Vec<_>>(),
            vec![(2, &'c'), (3, &'d'), (4, &'x'), (5, &'f')]
        );
        // Forgetting what is gone already, or past the end, is no error.
        w.forget_before(1);
        assert_eq!(w.held(), 2..6);
        w.forget_before(10);
        assert_eq!(w.held(), 6..6);
        assert!(w.get(5).is_none());
        w.push('g');
        assert_eq!(w[6], 'g');
    }

    #[test]
    fn forget_while_stops_at_the_first_value_still_needed() {
        let mut w = Window::from(vec![true, true, false, true]);
        assert_eq!(w.forget_while(|done| *done), 2);
        assert_eq!(w.held(), 2..4);
        w[2] = true;
        assert_eq!(w.forget_while(|done| *done), 4);
        assert!(!w.is_empty());
    }

    #[test]
    fn values_taken_are_let_go_of_once_all_before_them_are() {
        let mut w: Window<Option<u8>> = Window::new();
        for v in 0..4 {
            w.push(Some(v));
        }
        assert_eq!(w.take(1), Some(1));
        assert_eq!(w.take(1), None);
        assert_eq!(w.held(), 0..4);
        assert_eq!(w.value(1), None);
        assert_eq!(w.take(0), Some(0));
        assert_eq!(w.held(), 2..4);
        *w.value_mut(3).unwrap() = 9;
        assert_eq!(w.take(3), Some(9));
        assert_eq!(w.held(), 2..4);
        assert_eq!(w.take(2), Some(2));
        assert!(w.held().is_empty());
        assert_eq!(w.take(7), None);
    }

    #[test]
    #[should_panic(expected = "task 0 was let go")]
    fn a_value_let_go_is_not_there_to_read() {
        let mut w = Window::from(vec![1, 2]);
        w.forget_before(1);
        let _ = w[0];
    }
}
