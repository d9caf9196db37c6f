//! The values of map's options that GNU parallel writes in its own small languages:
//! `--jobs` (`4`, `+1`, `-1`, `200%`, `0`), `--delay` (`0.5`, `100ms`) and `--halt` (`now,fail=1`, `soon,success=20%`,
//! and the old numeric forms).

use std::time::Duration;

use crate::scheduler::{HaltOn, HaltPolicy, HaltThreshold, HaltWhen};

/// Jobs at once for `--jobs VALUE`, given the CPUs and how many jobs there are (`0`: all
/// of them at once). Never less than 1.
pub fn parse_jobs(value: &str, cpus: usize, total_jobs: usize) -> Result<usize, String> {
    let bad = || format!("`--jobs {value}` is not a number of jobs (N, +N, -N or N%)");
    let number = |s: &str| s.parse::<f64>().ok().filter(|n| n.is_finite() && *n >= 0.0);
    let jobs = if let Some(pct) = value.strip_suffix('%') {
        (cpus as f64 * number(pct).ok_or_else(bad)? / 100.0).floor() as usize
    } else if let Some(more) = value.strip_prefix('+') {
        cpus + number(more).ok_or_else(bad)? as usize
    } else if let Some(fewer) = value.strip_prefix('-') {
        cpus.saturating_sub(number(fewer).ok_or_else(bad)? as usize)
    } else {
        match number(value).ok_or_else(bad)? as usize {
            0 => total_jobs,
            n => n,
        }
    };
    Ok(jobs.max(1))
}

/// The time between starts for `--delay VALUE`: seconds (`0.5`), or with a unit (`100ms`,
/// `2s`, `1m`, `1h30m`).
pub fn parse_delay(value: &str) -> Result<Duration, String> {
    let seconds = value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64);
    seconds
        .or_else(|| humantime::parse_duration(value).ok())
        .ok_or_else(|| {
            format!("`--delay {value}` is not a duration: give seconds (0.5) or a unit (100ms, 2s)")
        })
}

/// What `--timeout VALUE` means.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MapTimeout {
    /// After this long.
    Fixed(Duration),
    /// After this percentage of the median duration of the jobs that succeeded so far.
    Percent(f64),
}

/// `--timeout SECS` or `--timeout N%`.
pub fn parse_timeout(value: &str) -> Result<MapTimeout, String> {
    let positive = |s: &str| s.parse::<f64>().ok().filter(|n| n.is_finite() && *n > 0.0);
    match value.strip_suffix('%') {
        Some(pct) => positive(pct).map(MapTimeout::Percent),
        None => positive(value).map(|secs| MapTimeout::Fixed(Duration::from_secs_f64(secs))),
    }
    .ok_or_else(|| {
        format!(
            "`--timeout {value}` is not a positive number of seconds or a percentage such as 200%"
        )
    })
}

/// The policy for `--halt VALUE`; `None` for `never` (and `0`).
pub fn parse_halt(value: &str) -> Result<Option<HaltPolicy>, String> {
    let bad = || {
        format!(
            "`--halt {value}` is not a halt policy: give WHEN,WHY=N or WHEN,WHY=N% with WHEN \
             `now` or `soon` and WHY `fail`, `success` or `done`"
        )
    };
    let expanded = match value {
        "never" | "0" => return Ok(None),
        "1" => "soon,fail=1".to_owned(),
        "2" => "now,fail=1".to_owned(),
        "-1" => "soon,success=1".to_owned(),
        "-2" => "now,success=1".to_owned(),
        v if v.ends_with('%') && !v.contains(',') => format!("soon,fail={v}"),
        v => v.to_owned(),
    };
    let (when, rest) = expanded.split_once(',').ok_or_else(bad)?;
    let (why, amount) = rest.split_once('=').ok_or_else(bad)?;
    let when = match when {
        "now" => HaltWhen::Now,
        "soon" => HaltWhen::Soon,
        _ => return Err(bad()),
    };
    let on = match why {
        "fail" => HaltOn::Fail,
        "success" => HaltOn::Success,
        "done" => HaltOn::Done,
        _ => return Err(bad()),
    };
    let threshold = match amount.strip_suffix('%') {
        Some(pct) => match pct.parse::<f64>() {
            Ok(p) if p > 0.0 && p <= 100.0 => HaltThreshold::Percent(p),
            _ => return Err(bad()),
        },
        None => match amount.parse::<u32>() {
            Ok(n) if n >= 1 => HaltThreshold::Count(n),
            _ => return Err(bad()),
        },
    };
    Ok(Some(HaltPolicy {
        when,
        on,
        threshold,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_values() {
        let cases = [
            ("4", 4),
            ("+1", 9),
            ("-2", 6),
            ("-20", 1),
            ("200%", 16),
            ("50%", 4),
            ("1%", 1),
            ("0", 30),
        ];
        for (value, expected) in cases {
            assert_eq!(parse_jobs(value, 8, 30), Ok(expected), "{value}");
        }
        for value in ["", "x", "4x", "+", "%"] {
            assert!(parse_jobs(value, 8, 30).is_err(), "{value}");
        }
    }

    #[test]
    fn timeout_values() {
        assert_eq!(
            parse_timeout("1.5"),
            Ok(MapTimeout::Fixed(Duration::from_millis(1500)))
        );
        assert_eq!(parse_timeout("200%"), Ok(MapTimeout::Percent(200.0)));
        for value in ["", "0", "-1", "x", "0%", "%", "inf", "-5%"] {
            assert!(parse_timeout(value).is_err(), "{value}");
        }
    }

    #[test]
    fn delay_values() {
        let ms = Duration::from_millis;
        for (value, expected) in [
            ("0.5", ms(500)),
            ("2", ms(2000)),
            ("0", ms(0)),
            ("100ms", ms(100)),
            ("2s", ms(2000)),
            ("1m", ms(60_000)),
            ("1h30m", ms(5_400_000)),
        ] {
            assert_eq!(parse_delay(value), Ok(expected), "{value}");
        }
        for value in ["", "x", "-1", "1 parsec", "inf", "NaN"] {
            assert!(parse_delay(value).is_err(), "{value}");
        }
    }

    #[test]
    fn halt_values() {
        let policy = |when, on, threshold| {
            Some(HaltPolicy {
                when,
                on,
                threshold,
            })
        };
        let cases = [
            ("never", None),
            ("0", None),
            (
                "now,fail=1",
                policy(HaltWhen::Now, HaltOn::Fail, HaltThreshold::Count(1)),
            ),
            (
                "soon,fail=3",
                policy(HaltWhen::Soon, HaltOn::Fail, HaltThreshold::Count(3)),
            ),
            (
                "now,fail=10%",
                policy(HaltWhen::Now, HaltOn::Fail, HaltThreshold::Percent(10.0)),
            ),
            (
                "now,success=1",
                policy(HaltWhen::Now, HaltOn::Success, HaltThreshold::Count(1)),
            ),
            (
                "soon,done=2",
                policy(HaltWhen::Soon, HaltOn::Done, HaltThreshold::Count(2)),
            ),
            (
                "2",
                policy(HaltWhen::Now, HaltOn::Fail, HaltThreshold::Count(1)),
            ),
            (
                "-1",
                policy(HaltWhen::Soon, HaltOn::Success, HaltThreshold::Count(1)),
            ),
            (
                "25%",
                policy(HaltWhen::Soon, HaltOn::Fail, HaltThreshold::Percent(25.0)),
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(parse_halt(value), Ok(expected), "{value}");
        }
        for value in [
            "later,fail=1",
            "now,oops=1",
            "now,fail=0",
            "now,fail=x",
            "now",
        ] {
            assert!(parse_halt(value).is_err(), "{value}");
        }
    }
}
