//! The values of map's options that GNU parallel writes in its own small languages:
//! `--jobs` (`4`, `+1`, `-1`, `200%`, `0`), `--delay` (`0.5`, `100ms`) and `--halt` (`now,fail=1`, `soon,success=20%`,
//! and the old numeric forms).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use crate::runner::JobsSource;
use crate::scheduler::{HaltOn, HaltPolicy, HaltThreshold, HaltWhen};

/// A finite number of 0 or more.
fn non_negative(text: &str) -> Option<f64> {
    text.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0)
}

/// Jobs at once for `--jobs VALUE`, given the CPUs and how many jobs there are (`0`: all
/// of them at once). Never less than 1.
pub fn parse_jobs(value: &str, cpus: usize, total_jobs: usize) -> Result<usize, String> {
    let bad = || format!("`--jobs {value}` is not a number of jobs (N, +N, -N or N%)");
    let jobs = if let Some(pct) = value.strip_suffix('%') {
        (cpus as f64 * non_negative(pct).ok_or_else(bad)? / 100.0).floor() as usize
    } else if let Some(more) = value.strip_prefix('+') {
        cpus + non_negative(more).ok_or_else(bad)? as usize
    } else if let Some(fewer) = value.strip_prefix('-') {
        cpus.saturating_sub(non_negative(fewer).ok_or_else(bad)? as usize)
    } else {
        match non_negative(value).ok_or_else(bad)? as usize {
            0 => total_jobs,
            n => n,
        }
    };
    Ok(jobs.max(1))
}

/// `-j FILE`: the number of jobs is what FILE says (`4`, `+2`, `50%`, `0` for no limit),
/// read again when a job ends and the file has changed since (GNU parallel's procfile).
/// A file that cannot be read, or says no number, leaves the number as it was.
#[derive(Debug)]
pub struct JobsFile {
    path: PathBuf,
    cpus: usize,
    /// The file's modification time and length when last read, and what it said.
    seen: Mutex<(Option<(SystemTime, u64)>, usize)>,
}

impl JobsFile {
    /// Reads `path` a first time: the file, and what it says (for `--jobs`).
    pub fn open(path: &Path, cpus: usize) -> Result<(JobsFile, String), String> {
        let stamp = stamp(path);
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "failed to read the number of jobs in {}: {e}",
                path.display()
            )
        })?;
        let text = text.trim().to_owned();
        let jobs = parse_jobs(&text, cpus, usize::MAX)
            .map_err(|e| format!("{} says no number of jobs: {e}", path.display()))?;
        let file = JobsFile {
            path: path.to_owned(),
            cpus,
            seen: Mutex::new((stamp, jobs)),
        };
        Ok((file, text))
    }
}

impl JobsSource for JobsFile {
    fn changed(&self) -> Option<usize> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let stamp = stamp(&self.path);
        if stamp == seen.0 {
            return None;
        }
        seen.0 = stamp;
        let text = std::fs::read_to_string(&self.path).ok()?;
        let jobs = parse_jobs(text.trim(), self.cpus, usize::MAX).ok()?;
        (jobs != seen.1).then(|| {
            seen.1 = jobs;
            jobs
        })
    }
}

/// When a file was last changed, and its length: a file written again within the
/// clock's resolution most likely changed its length too.
fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// A size for `option` with GNU parallel's unit prefixes: `K M G T P` multiply by powers
/// of 1024, `k m g t p` by powers of 1000, and either followed by `i` by powers of 1024
/// (`1M` = `1Mi` = `1mi` = 1048576, `10k` = 10000, `1.5K` = 1536). At least one byte.
pub fn parse_size(option: &str, text: &str) -> Result<u64, String> {
    match scaled(text) {
        Some(bytes) if bytes >= 1 => Ok(bytes),
        _ => Err(format!(
            "`{option} {text}` is not a size: give bytes, optionally with a unit \
             (K, M, G = 1024, 1024², 1024³; k, m, g = 1000, 1000², 1000³), e.g. 1M"
        )),
    }
}

/// As [`parse_size`], where `0` turns the limit off (`--memfree 0`, as in GNU parallel).
pub fn parse_limit_size(option: &str, text: &str) -> Result<Option<u64>, String> {
    match scaled(text) {
        Some(0) => Ok(None),
        _ => parse_size(option, text).map(Some),
    }
}

/// A count such as `-L`'s: a whole number from 0, optionally with a unit as for
/// [`parse_size`] (`2k` is 2000).
pub fn parse_count(option: &str, text: &str) -> Result<usize, String> {
    scaled(text)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| {
            format!(
                "`{option} {text}` is not a count: give a whole number, optionally with a \
                 unit (K = 1024, k = 1000, and so on), e.g. 2"
            )
        })
}

/// `text` as a number, times its unit's power of 1024 (`K`, `M`, `G`, `T`, `P`) or of
/// 1000 (the same in lower case), rounded down.
fn scaled(text: &str) -> Option<u64> {
    // `Ki`, `mi`, `GI`…: a power of 1024 whatever the letter's case.
    let (text, binary) = match text.strip_suffix(['i', 'I']) {
        Some(rest) if rest.ends_with(|c: char| "kmgtp".contains(c.to_ascii_lowercase())) => {
            (rest, true)
        }
        _ => (text, false),
    };
    let (number, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], Some(c)),
        _ => (text, None),
    };
    let factor: f64 = match unit {
        None => 1.0,
        Some(c) => {
            let power = "kmgtp".find(c.to_ascii_lowercase())? as i32 + 1;
            let base: f64 = if binary || c.is_ascii_uppercase() {
                1024.0
            } else {
                1000.0
            };
            base.powi(power)
        }
    };
    let value: f64 = number.parse().ok()?;
    let scaled = (value * factor).floor();
    (scaled.is_finite() && scaled >= 0.0).then_some(scaled as u64)
}

/// The most runnable processes for `--load VALUE` (`4`, or `80%` of the CPUs): jobs start
/// only while fewer are runnable.
pub fn parse_load(value: &str, cpus: usize) -> Result<f64, String> {
    let bad = || {
        format!(
            "`--load {value}` is not a load: give a number of processes (4) or a share of \
             the CPUs (80%)"
        )
    };
    match value.strip_suffix('%') {
        Some(pct) => Ok(cpus as f64 * non_negative(pct).ok_or_else(bad)? / 100.0),
        None => non_negative(value).ok_or_else(bad),
    }
}

/// The time between starts for `--delay VALUE`: seconds (`0.5`), or with a unit (`100ms`,
/// `2s`, `1m`, `1h30m`).
pub fn parse_delay(value: &str) -> Result<Duration, String> {
    parse_seconds("--delay", value)
}

/// The value of a duration option: seconds (`0.5`), or with a unit (`100ms`, `2s`, `1m`,
/// `1h30m`); the error names the option.
pub fn parse_seconds(option: &str, value: &str) -> Result<Duration, String> {
    let seconds = value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64);
    seconds
        .or_else(|| humantime::parse_duration(value).ok())
        .ok_or_else(|| {
            format!(
                "`{option} {value}` is not a duration: give seconds (0.5) or a unit (100ms, 2s)"
            )
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
    fn sizes_take_gnu_parallels_units() {
        let size = |text| parse_size("--memfree", text);
        assert_eq!(size("1M"), Ok(1 << 20));
        assert_eq!(size("10k"), Ok(10_000));
        assert_eq!(size("1.5K"), Ok(1536));
        assert_eq!(size("300"), Ok(300));
        assert_eq!(size("2g"), Ok(2_000_000_000));
        assert_eq!(size("1Mi"), Ok(1 << 20));
        assert_eq!(size("2gi"), Ok(2 << 30));
        assert_eq!(size("20.5GI"), Ok(41 << 29));
        assert_eq!(parse_limit_size("--memfree", "0"), Ok(None));
        assert_eq!(parse_limit_size("--memfree", "1k"), Ok(Some(1000)));
        assert!(parse_limit_size("--memfree", "1x").is_err());
        for bad in ["", "M", "1x", "-5", "0", "ten", "1i", "5xi"] {
            let err = size(bad).unwrap_err();
            assert!(
                err.starts_with(&format!("`--memfree {bad}` is not a size")),
                "{err}"
            );
        }
    }

    #[test]
    fn counts_start_at_zero_and_take_the_same_units() {
        let count = |text| parse_count("-L", text);
        assert_eq!(count("0"), Ok(0));
        assert_eq!(count("3"), Ok(3));
        assert_eq!(count("2k"), Ok(2000));
        assert_eq!(count("1K"), Ok(1024));
        for bad in ["", "k", "-1", "two", "1x"] {
            let err = count(bad).unwrap_err();
            assert!(
                err.starts_with(&format!("`-L {bad}` is not a count")),
                "{err}"
            );
        }
    }

    #[test]
    fn loads_are_processes_or_shares_of_the_cpus() {
        assert_eq!(parse_load("3", 8), Ok(3.0));
        assert_eq!(parse_load("50%", 8), Ok(4.0));
        assert_eq!(parse_load("0.5", 8), Ok(0.5));
        for bad in ["", "x", "-1", "%"] {
            assert!(parse_load(bad, 8).is_err(), "{bad}");
        }
    }

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
