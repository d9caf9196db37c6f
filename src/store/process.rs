//! Identifying processes across a crash: a pid alone may have been reused, so a process
//! is named by its pid and its start time (clock ticks since boot, from /proc). For task
//! processes, whose start is recorded on the dispatcher's hot path, the start time is the
//! boot-time clock the runner read just after the spawn (no /proc read per task; see
//! `Event::AttemptSpawned`), and a process matches when /proc puts its start within a
//! window just before that reading.

use crate::runner::TICKS_PER_SECOND;

/// How much earlier than the recorded reading a task's process may have started.
const START_WINDOW_TICKS: u64 = 2 * TICKS_PER_SECOND;

/// Whether the process `pid` runs (zombies count as gone) and started no later than
/// `reading` (the boot-time clock read after its spawn) and not long before it.
pub(crate) fn started_near_alive(pid: u32, reading: u64) -> bool {
    match alive_start(pid) {
        Some(started) => started <= reading + 1 && started + START_WINDOW_TICKS >= reading,
        None => false,
    }
}

fn alive_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace();
    if fields.next()? == "Z" {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

/// The start time of process `pid`, or `None` when it does not exist.
pub(crate) fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    // `rest` starts with field 3 (state); starttime is field 22.
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Whether the process `pid` that started at `start` still runs (zombies count as gone).
pub(crate) fn same_process_alive(pid: u32, start: u64) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return false;
    };
    let mut fields = rest.split_whitespace();
    let state = fields.next();
    let started = fields.nth(18).and_then(|s| s.parse::<u64>().ok());
    state != Some("Z") && started == Some(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_is_found_near_the_clock_read_after_its_spawn() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let reading = crate::runner::boot_clock_ticks().unwrap();
        let exact = start_time(child.id()).unwrap();
        // The reading comes after the spawn, soon after unless the machine is busy: up to
        // the window `started_near_alive` allows.
        assert!(
            exact <= reading + 1 && exact + START_WINDOW_TICKS >= reading,
            "{exact} vs {reading}"
        );
        assert!(started_near_alive(child.id(), reading));
        assert!(!started_near_alive(
            child.id(),
            reading + 3 * TICKS_PER_SECOND
        ));
        assert!(!started_near_alive(child.id(), exact.saturating_sub(10)));
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!started_near_alive(child.id(), reading));
    }

    #[test]
    fn this_process_is_found_by_pid_and_start_time() {
        let pid = std::process::id();
        let start = start_time(pid).expect("our own start time");
        assert!(same_process_alive(pid, start));
        assert!(!same_process_alive(pid, start + 1));
        assert_eq!(start_time(u32::MAX), None);
    }
}
