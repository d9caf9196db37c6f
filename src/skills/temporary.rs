//! Temporary skills: the skills fanout creates from a template when an agent task names a
//! skill that exists in no skill root, and the rules `fanout skills gc` applies to them.
//! This file only decides; it reads no clock (the time is a parameter) and touches no
//! file. Creating the skills is in `task_skills`, deleting their folders in `collect`;
//! remembering their uses belongs to the store.
//!
//! The rules, in order; the first that applies decides:
//!
//! 1. keep a skill marked with `fanout skills keep`;
//! 2. keep a skill used [`KEEP_USES`] (3) times or more;
//! 3. keep a skill used in the last [`RECENT`] (7) days (idle at most 7 days);
//! 4. delete a skill unused for [`UNUSED`] (30) days or more;
//! 5. delete a skill used once (or never) and idle for more than [`ONCE_IDLE`] (7) days;
//! 6. keep anything else (used twice, idle between 7 and 30 days): it waits for rule 4.
//!
//! Idle time runs from the last use, or from the skill's creation when it was never used.

use std::time::{Duration, SystemTime};

use serde::Serialize;

/// Uses from which a skill is kept for good.
pub const KEEP_USES: u64 = 3;
/// A skill used this recently is kept.
pub const RECENT: Duration = Duration::from_secs(7 * DAY);
/// A skill unused this long is deleted.
pub const UNUSED: Duration = Duration::from_secs(30 * DAY);
/// A skill used at most once and idle longer than this is deleted.
pub const ONCE_IDLE: Duration = Duration::from_secs(7 * DAY);

const DAY: u64 = 24 * 60 * 60;

/// What the store remembers about one temporary skill.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemporarySkill {
    pub name: String,
    pub created: SystemTime,
    /// How many runs gave it to an agent task.
    pub uses: u64,
    pub last_used: Option<SystemTime>,
    /// Marked with `fanout skills keep`.
    pub kept: bool,
}

/// Keep or delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Keep,
    Delete,
}

/// Which rule decided (see the module documentation), by a stable name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// 1: marked with `fanout skills keep`.
    Marked,
    /// 2: used [`KEEP_USES`] times or more.
    OftenUsed,
    /// 3: used in the last [`RECENT`].
    RecentlyUsed,
    /// 4: unused for [`UNUSED`].
    Unused,
    /// 5: used at most once, idle longer than [`ONCE_IDLE`].
    UsedOnce,
    /// 6: none of the above.
    Waiting,
}

/// What `gc` does with a skill, and why, in words for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub verdict: Verdict,
    pub rule: Rule,
    pub reason: String,
}

/// Applies the rules to `skill` at time `now`.
pub fn decide(skill: &TemporarySkill, now: SystemTime) -> Decision {
    let since = skill.last_used.unwrap_or(skill.created);
    // A use recorded after `now` (a clock set back) counts as just now.
    let idle = now.duration_since(since).unwrap_or(Duration::ZERO);
    let used = times(skill.uses);
    let (verdict, rule, reason) = if skill.kept {
        (
            Verdict::Keep,
            Rule::Marked,
            "marked with `fanout skills keep`".to_owned(),
        )
    } else if skill.uses >= KEEP_USES {
        (Verdict::Keep, Rule::OftenUsed, used)
    } else if skill.uses > 0 && idle <= RECENT {
        (
            Verdict::Keep,
            Rule::RecentlyUsed,
            format!("{used}, last {} ago", age(idle)),
        )
    } else if idle >= UNUSED {
        (
            Verdict::Delete,
            Rule::Unused,
            format!("unused for {}", age(idle)),
        )
    } else if skill.uses <= 1 && idle > ONCE_IDLE {
        (
            Verdict::Delete,
            Rule::UsedOnce,
            format!("{used}, idle {}", age(idle)),
        )
    } else {
        (
            Verdict::Keep,
            Rule::Waiting,
            format!(
                "{used}, idle {}; deleted once unused for {} days",
                age(idle),
                UNUSED.as_secs() / DAY
            ),
        )
    };
    Decision {
        verdict,
        rule,
        reason,
    }
}

fn times(uses: u64) -> String {
    match uses {
        0 => "never used".to_owned(),
        1 => "used once".to_owned(),
        n => format!("used {n} times"),
    }
}

/// A duration in its largest unit, with the next smaller unit that is not zero, so that
/// "7 days 1 second" never reads as "7 days": `9 days`, `7 days 3 hours`, `5 minutes`.
fn age(d: Duration) -> String {
    const UNITS: [(u64, &str); 4] = [(DAY, "day"), (3600, "hour"), (60, "minute"), (1, "second")];
    let mut rest = d.as_secs();
    let mut parts = Vec::new();
    for (size, name) in UNITS {
        let n = rest / size;
        rest %= size;
        if n > 0 {
            parts.push(format!("{n} {name}{}", if n == 1 { "" } else { "s" }));
            if parts.len() == 2 {
                break;
            }
        }
    }
    if parts.is_empty() {
        "0 seconds".to_owned()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    /// The clock of every case: day 0 is when the skill was created.
    fn day(days: f64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000) + Duration::from_secs_f64(days * 86_400.0)
    }

    fn skill(uses: u64, last_used: Option<f64>, kept: bool) -> TemporarySkill {
        TemporarySkill {
            name: "lint".into(),
            created: day(0.0),
            uses,
            last_used: last_used.map(day),
            kept,
        }
    }

    const SECOND: f64 = 1.0 / 86_400.0;

    /// One case: what it shows, the skill, the clock (in days since its creation), and
    /// the decision expected.
    struct Case {
        what: &'static str,
        skill: TemporarySkill,
        now: f64,
        expect: (Verdict, Rule, &'static str),
    }

    fn case(
        what: &'static str,
        skill: TemporarySkill,
        now: f64,
        expect: (Verdict, Rule, &'static str),
    ) -> Case {
        Case {
            what,
            skill,
            now,
            expect,
        }
    }

    #[test]
    fn decisions_at_given_clock_times() {
        use Rule::*;
        use Verdict::*;
        let used = |uses, last_day| skill(uses, Some(last_day), false);
        let cases = [
            case(
                "marked, idle a year",
                skill(1, Some(0.0), true),
                365.0,
                (Keep, Marked, "marked with `fanout skills keep`"),
            ),
            case(
                "exactly 3 uses, idle a year",
                used(3, 0.0),
                365.0,
                (Keep, OftenUsed, "used 3 times"),
            ),
            case(
                "2 uses are not often",
                used(2, 0.0),
                365.0,
                (Delete, Unused, "unused for 365 days"),
            ),
            case(
                "used once, just now",
                used(1, 0.0),
                0.0,
                (Keep, RecentlyUsed, "used once, last 0 seconds ago"),
            ),
            case(
                "used once, exactly 7 days ago",
                used(1, 0.0),
                7.0,
                (Keep, RecentlyUsed, "used once, last 7 days ago"),
            ),
            case(
                "used once, 7 days and a second ago",
                used(1, 0.0),
                7.0 + SECOND,
                (Delete, UsedOnce, "used once, idle 7 days 1 second"),
            ),
            case(
                "used once, idle 9 days",
                used(1, 0.0),
                9.0,
                (Delete, UsedOnce, "used once, idle 9 days"),
            ),
            case(
                "twice, idle 9 days: waits",
                used(2, 0.0),
                9.0,
                (
                    Keep,
                    Waiting,
                    "used 2 times, idle 9 days; deleted once unused for 30 days",
                ),
            ),
            case(
                "twice, a second short of 30 days",
                used(2, 0.0),
                30.0 - SECOND,
                (
                    Keep,
                    Waiting,
                    "used 2 times, idle 29 days 23 hours; deleted once unused for 30 days",
                ),
            ),
            case(
                "twice, exactly 30 days",
                used(2, 0.0),
                30.0,
                (Delete, Unused, "unused for 30 days"),
            ),
            case(
                "once, 30 days: the 30-day rule comes first",
                used(1, 0.0),
                30.0,
                (Delete, Unused, "unused for 30 days"),
            ),
            case(
                "twice, the last use 5 days ago",
                used(2, 40.0),
                45.0,
                (Keep, RecentlyUsed, "used 2 times, last 5 days ago"),
            ),
            case(
                "never used, 8 days since its creation",
                skill(0, None, false),
                8.0,
                (Delete, UsedOnce, "never used, idle 8 days"),
            ),
            case(
                "never used, created yesterday",
                skill(0, None, false),
                1.0,
                (
                    Keep,
                    Waiting,
                    "never used, idle 1 day; deleted once unused for 30 days",
                ),
            ),
            case(
                "a use after the clock counts as just now",
                used(1, 3.0),
                2.0,
                (Keep, RecentlyUsed, "used once, last 0 seconds ago"),
            ),
        ];
        for Case {
            what,
            skill,
            now,
            expect,
        } in cases
        {
            let d = decide(&skill, day(now));
            assert_eq!((d.verdict, d.rule, d.reason.as_str()), expect, "{what}");
        }
    }

    #[test]
    fn ages_read_plainly() {
        let cases = [
            (0, "0 seconds"),
            (59, "59 seconds"),
            (3600, "1 hour"),
            (3 * 3600 + 120, "3 hours 2 minutes"),
            (9 * DAY, "9 days"),
            (DAY + 5, "1 day 5 seconds"),
            (2 * DAY + 3600 + 7, "2 days 1 hour"),
        ];
        for (secs, text) in cases {
            assert_eq!(age(Duration::from_secs(secs)), text, "{secs}");
        }
    }
}
