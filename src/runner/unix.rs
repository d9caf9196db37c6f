//! Process groups on Unix: signalling a whole group and asking whether it still has
//! members; the boot-time clock a spawn is stamped with.

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// Sends `signal` to every process in the group `pgid`. A group that is already gone is
/// not an error.
pub(crate) fn signal_group(pgid: u32, signal: Signal) {
    let Ok(raw) = i32::try_from(pgid) else {
        return;
    };
    // ESRCH: nobody left in the group. Anything else (EPERM) we cannot act on either.
    let _ = killpg(Pid::from_raw(raw), signal);
}

/// Clock ticks per second in /proc (`USER_HZ`, 100 on every Linux architecture fanout
/// builds for).
pub(crate) const TICKS_PER_SECOND: u64 = 100;

/// Now, in /proc's clock ticks since boot (the unit of a process's start time there): read
/// just after a spawn, an upper bound of the new process's start time. A clock read, not
/// a file read, so it costs nothing per task.
pub(crate) fn boot_clock_ticks() -> Option<u64> {
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_BOOTTIME).ok()?;
    let nanos =
        u64::try_from(now.tv_sec()).ok()? * 1_000_000_000 + u64::try_from(now.tv_nsec()).ok()?;
    Some(nanos / (1_000_000_000 / TICKS_PER_SECOND))
}

/// Whether the group `pgid` still has a member that runs. Zombies do not count: they hold
/// nothing, and they may stay for long, since orphans go to PID 1, which in a container
/// may reap late or never.
pub(crate) fn group_alive(pgid: u32) -> bool {
    let Ok(raw) = i32::try_from(pgid) else {
        return false;
    };
    if matches!(killpg(Pid::from_raw(raw), None), Err(Errno::ESRCH)) {
        return false;
    }
    // Somebody is in the group: alive unless /proc shows that every member is a zombie.
    live_member(pgid).unwrap_or(true)
}

/// Whether /proc lists a process of group `pgid` that is not a zombie; `None` when /proc
/// cannot be read.
fn live_member(pgid: u32) -> Option<bool> {
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        // A process that ended since the listing has no stat to read: not a member.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if let Some((state, group)) = state_and_group(&stat)
            && group == pgid
            && !matches!(state, "Z" | "X")
        {
            return Some(true);
        }
    }
    Some(false)
}

/// The state and process group fields of a /proc stat line.
fn state_and_group(stat: &str) -> Option<(&str, u32)> {
    // After the command name, which is in parentheses and may hold anything: state, ppid,
    // pgrp.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    let state = fields.next()?;
    let group = fields.nth(1)?.parse().ok()?;
    Some((state, group))
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::CommandExt as _;
    use std::process::Command;
    use std::time::{Duration, Instant};

    use super::*;

    fn state(pid: u32) -> Option<String> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        state_and_group(&stat).map(|(state, _)| state.to_owned())
    }

    #[test]
    fn a_group_left_with_zombies_only_is_not_alive() {
        let mut running = Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        assert!(group_alive(running.id()));

        // A child that has ended and is not reaped yet: a zombie, alone in its group.
        let mut ended = Command::new("true").process_group(0).spawn().unwrap();
        let pgid = ended.id();
        let deadline = Instant::now() + Duration::from_secs(10);
        while state(pgid).as_deref() != Some("Z") {
            assert!(Instant::now() < deadline, "the child never ended");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            killpg(Pid::from_raw(pgid as i32), None).is_ok(),
            "the zombie still counts as a member for kill(2)"
        );
        assert!(!group_alive(pgid));

        running.kill().unwrap();
        running.wait().unwrap();
        ended.wait().unwrap();
        assert!(!group_alive(pgid));
    }

    #[test]
    fn stat_lines_are_read_after_the_command_name() {
        assert_eq!(
            state_and_group("12 (a) b (c)) S 1 77 77 0 -1"),
            Some(("S", 77))
        );
        assert_eq!(state_and_group("12 (x) Z 1"), None);
    }
}
