//! Identifying processes across a crash: a pid alone may have been reused, so a process
//! is named by its pid and its start time (clock ticks since boot, from /proc).

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
    fn this_process_is_found_by_pid_and_start_time() {
        let pid = std::process::id();
        let start = start_time(pid).expect("our own start time");
        assert!(same_process_alive(pid, start));
        assert!(!same_process_alive(pid, start + 1));
        assert_eq!(start_time(u32::MAX), None);
    }
}
