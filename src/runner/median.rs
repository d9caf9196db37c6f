//! The running median of successful attempts' durations, for timeouts given as a share of
//! it (`fanout map --timeout 200%`): two heaps, so adding is O(log n) and reading O(1).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct RunningMedian {
    /// The smaller half, largest on top.
    lower: BinaryHeap<Duration>,
    /// The larger half, smallest on top; never more than `lower`.
    upper: BinaryHeap<Reverse<Duration>>,
}

impl RunningMedian {
    pub(crate) fn add(&mut self, value: Duration) {
        match self.lower.peek() {
            Some(&top) if value > top => self.upper.push(Reverse(value)),
            _ => self.lower.push(value),
        }
        if self.lower.len() > self.upper.len() + 1 {
            let moved = self.lower.pop().expect("lower is not empty");
            self.upper.push(Reverse(moved));
        } else if self.upper.len() > self.lower.len() {
            let Reverse(moved) = self.upper.pop().expect("upper is not empty");
            self.lower.push(moved);
        }
    }

    /// The median so far (of an even count, the mean of the middle two); `None` before
    /// the first value.
    pub(crate) fn median(&self) -> Option<Duration> {
        let low = *self.lower.peek()?;
        if self.lower.len() > self.upper.len() {
            return Some(low);
        }
        let Reverse(high) = *self.upper.peek()?;
        Some((low + high) / 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn matches_the_median_of_the_sorted_values(values in prop::collection::vec(0u64..10_000, 1..60)) {
            let mut median = RunningMedian::default();
            for (i, v) in values.iter().enumerate() {
                median.add(Duration::from_millis(*v));
                let mut sorted: Vec<u64> = values[..=i].to_vec();
                sorted.sort_unstable();
                let n = sorted.len();
                let expected = if n % 2 == 1 {
                    Duration::from_millis(sorted[n / 2])
                } else {
                    (Duration::from_millis(sorted[n / 2 - 1]) + Duration::from_millis(sorted[n / 2])) / 2
                };
                prop_assert_eq!(median.median(), Some(expected));
            }
        }
    }

    #[test]
    fn nothing_before_the_first_value() {
        assert_eq!(RunningMedian::default().median(), None);
    }
}
