//! The time for what judges ages (the uses of temporary skills and `fanout skills gc`):
//! the system clock, unless `FANOUT_NOW` sets it. That variable exists so that tests can
//! run the real binary at chosen times; it is read here, at the command line's edge, and
//! nowhere else, and it changes nothing about runs (their ids, start times and logs).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::CliError;

/// Names the time to use instead of the system clock: RFC 3339 in UTC
/// (`2026-03-01T12:00:00Z`) or seconds since the Unix epoch (`1772366400`).
pub(crate) const NOW_VAR: &str = "FANOUT_NOW";

/// The time now, or the one `FANOUT_NOW` names.
pub(crate) fn now() -> Result<SystemTime, CliError> {
    match std::env::var(NOW_VAR) {
        Ok(text) if !text.trim().is_empty() => parse(&text).ok_or_else(|| {
            CliError::usage_with_help(
                format!("{NOW_VAR} is set to `{text}`, which is not a time"),
                "give RFC 3339 in UTC (2026-03-01T12:00:00Z) or seconds since 1970",
            )
        }),
        _ => Ok(SystemTime::now()),
    }
}

/// Seconds since the Unix epoch, as the store keeps times.
pub(crate) fn unix_secs(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The time `secs` seconds after the Unix epoch (the epoch itself for a value that is
/// negative, not a number, or beyond what the system's time can hold).
pub(crate) fn from_unix_secs(secs: f64) -> SystemTime {
    after_epoch(secs).unwrap_or(UNIX_EPOCH)
}

fn after_epoch(secs: f64) -> Option<SystemTime> {
    if !(secs.is_finite() && secs >= 0.0) {
        return None;
    }
    UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(secs).ok()?)
}

fn parse(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return after_epoch(secs);
    }
    humantime::parse_rfc3339_weak(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rfc_3339_and_unix_seconds() {
        let t = UNIX_EPOCH + Duration::from_secs(1_772_366_400);
        assert_eq!(parse("2026-03-01T12:00:00Z"), Some(t));
        assert_eq!(parse(" 1772366400 "), Some(t));
        assert_eq!(parse("1772366400.5"), Some(t + Duration::from_millis(500)));
        assert_eq!(parse("yesterday"), None);
        assert_eq!(parse("-5"), None);
        // Too far for a time: refused, never a panic.
        assert_eq!(parse("1e300"), None);
        assert_eq!(parse("NaN"), None);
        assert_eq!(from_unix_secs(1e300), UNIX_EPOCH);
        assert_eq!(from_unix_secs(f64::NAN), UNIX_EPOCH);
    }
}
