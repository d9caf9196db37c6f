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

/// Whether any process (zombies included) is still in the group `pgid`.
pub(crate) fn group_alive(pgid: u32) -> bool {
    let Ok(raw) = i32::try_from(pgid) else {
        return false;
    };
    !matches!(killpg(Pid::from_raw(raw), None), Err(Errno::ESRCH))
}
