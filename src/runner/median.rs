//! The running median of successful attempts' durations, for timeouts given as a share of
//! it (`fanout map --timeout 200%`). As GNU parallel keeps it: a remedian (Rousseeuw and
//! Bassett, 1990) of three levels of 999, so that memory stays bounded however many jobs
//! a stream brings. Up to 999 values it is their median exactly (the lower one of an even
//! count); past that, the median of the latest values' medians.

use std::time::Duration;

/// How many values each level holds.
const BASE: usize = 999;

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct RunningMedian {
    /// Level 0: the latest values; level k+1: medians of level k, one per BASE^(k+1)
    /// values.
    levels: [Vec<Duration>; 3],
    count: usize,
    median: Option<Duration>,
}

impl RunningMedian {
    pub(crate) fn add(&mut self, value: Duration) {
        let i = self.count;
        self.count += 1;
        let mut value = value;
        let mut stride = 1;
        for level in &mut self.levels {
            put(level, (i / stride) % BASE, value);
            value = lower_median(level);
            stride *= BASE;
        }
        self.median = Some(value);
    }

    /// The median so far; `None` before the first value.
    pub(crate) fn median(&self) -> Option<Duration> {
        self.median
    }

    /// How many values are held, for tests of bounded memory.
    #[cfg(test)]
    fn held(&self) -> usize {
        self.levels.iter().map(Vec::len).sum()
    }
}

/// Sets `level[index]`, the next place when the level is not full yet.
fn put(level: &mut Vec<Duration>, index: usize, value: Duration) {
    match level.get_mut(index) {
        Some(place) => *place = value,
        None => level.push(value),
    }
}

/// The middle value of `values` (not empty), the lower one of an even count.
fn lower_median(values: &[Duration]) -> Duration {
    let mut sorted = values.to_vec();
    let middle = (sorted.len() - 1) / 2;
    *sorted.select_nth_unstable(middle).1
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
                let expected = Duration::from_millis(sorted[(sorted.len() - 1) / 2]);
                prop_assert_eq!(median.median(), Some(expected));
            }
        }
    }

    #[test]
    fn nothing_before_the_first_value() {
        assert_eq!(RunningMedian::default().median(), None);
    }

    #[test]
    fn a_long_run_is_held_in_bounded_memory_and_its_median_stays_central() {
        let mut median = RunningMedian::default();
        // 0..5000 ms in a scrambled order (7919 is prime to 5000).
        for k in 0..5000u64 {
            median.add(Duration::from_millis(k * 7919 % 5000));
        }
        assert!(median.held() <= 3 * BASE, "{} values held", median.held());
        let m = median.median().unwrap();
        assert!(
            (Duration::from_millis(1500)..=Duration::from_millis(3500)).contains(&m),
            "{m:?}"
        );
    }
}
