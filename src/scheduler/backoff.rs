//! The delay before a failed task's next attempt.
//!
//! Exponential backoff uses jitter so that tasks failing together (a flaky service, a rate
//! limit) do not all come back at the same instant. The jitter is a hash of the run's seed,
//! the task and the attempt rather than a stateful generator: the same seed gives the same
//! delays whatever order outcomes arrive in.

use std::time::Duration;

use crate::plan::Backoff;

/// How long to wait after `failed_attempt` (1 for the first) of `task` failed.
///
/// `Fixed(d)` waits `d`. `Exponential { base, max }` takes `ceiling = min(base * 2^(k-1), max)`
/// for the failed attempt `k` and waits a uniform draw from `[ceiling / 2, ceiling]`.
pub(super) fn retry_delay(
    backoff: Backoff,
    failed_attempt: u32,
    task: usize,
    seed: u64,
) -> Duration {
    match backoff {
        Backoff::Fixed(delay) => delay,
        Backoff::Exponential { base, max } => {
            let doublings = failed_attempt.max(1) - 1;
            let max_nanos = max.as_nanos();
            let ceiling = if doublings >= 100 {
                max_nanos
            } else {
                base.as_nanos()
                    .saturating_mul(1u128 << doublings)
                    .min(max_nanos)
            };
            let floor = ceiling / 2;
            let draw = u128::from(jitter(seed, task, failed_attempt)) % (ceiling - floor + 1);
            from_nanos(floor + draw)
        }
    }
}

/// A well-mixed 64-bit value for one (seed, task, attempt).
fn jitter(seed: u64, task: usize, attempt: u32) -> u64 {
    splitmix64(seed ^ splitmix64(task as u64 ^ splitmix64(u64::from(attempt))))
}

/// The SplitMix64 finalizer: a cheap, well-distributed bijection on `u64`.
fn splitmix64(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn from_nanos(nanos: u128) -> Duration {
    const PER_SECOND: u128 = 1_000_000_000;
    let secs = u64::try_from(nanos / PER_SECOND).unwrap_or(u64::MAX);
    // The remainder is below 10^9, so it fits.
    Duration::new(secs, (nanos % PER_SECOND) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPONENTIAL: Backoff = Backoff::Exponential {
        base: Duration::from_millis(100),
        max: Duration::from_secs(1),
    };

    #[test]
    fn fixed_is_fixed() {
        for attempt in 1..5 {
            let delay = retry_delay(Backoff::Fixed(Duration::from_secs(3)), attempt, 7, 42);
            assert_eq!(delay, Duration::from_secs(3));
        }
    }

    #[test]
    fn exponential_stays_within_half_and_whole_of_the_capped_ceiling() {
        for seed in 0..50 {
            for task in 0..10 {
                for (attempt, ceiling_ms) in [
                    (1, 100),
                    (2, 200),
                    (3, 400),
                    (4, 800),
                    (5, 1000),
                    (40, 1000),
                    (200, 1000),
                ] {
                    let delay = retry_delay(EXPONENTIAL, attempt, task, seed);
                    let ceiling = Duration::from_millis(ceiling_ms);
                    assert!(
                        delay <= ceiling,
                        "attempt {attempt}: {delay:?} > {ceiling:?}"
                    );
                    assert!(
                        delay >= ceiling / 2,
                        "attempt {attempt}: {delay:?} < half of {ceiling:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn exponential_is_deterministic_per_seed_and_jittered_across_seeds() {
        let draws = |seed| -> Vec<Duration> {
            (0..20)
                .map(|task| retry_delay(EXPONENTIAL, 2, task, seed))
                .collect()
        };
        assert_eq!(draws(9), draws(9));
        assert_ne!(draws(9), draws(10));
        let mut distinct = draws(9);
        distinct.sort();
        distinct.dedup();
        assert!(
            distinct.len() > 10,
            "jitter spreads tasks apart: {distinct:?}"
        );
    }

    #[test]
    fn zero_base_waits_nothing() {
        let backoff = Backoff::Exponential {
            base: Duration::ZERO,
            max: Duration::from_secs(1),
        };
        assert_eq!(retry_delay(backoff, 3, 0, 1), Duration::ZERO);
    }
}
