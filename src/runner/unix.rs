//! Process groups on Unix: signalling a whole group and asking whether it still has members.

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

/// Whether any process (zombies included) is still in the group `pgid`.
pub(crate) fn group_alive(pgid: u32) -> bool {
    let Ok(raw) = i32::try_from(pgid) else {
        return false;
    };
    !matches!(killpg(Pid::from_raw(raw), None), Err(Errno::ESRCH))
}
