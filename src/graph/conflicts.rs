//! Conflicts from overlapping `writes` globs: tasks that must never run at the same time.

/// Whether two path globs may match a common path (conservative: when unsure, `true`).
pub fn globs_overlap(a: &str, b: &str) -> bool {
    let _ = (a, b);
    unimplemented!("graph::globs_overlap")
}

/// For each task, the tasks whose `writes` overlap its own (sorted, without itself).
pub fn write_conflicts(writes: &[Vec<String>]) -> Vec<Vec<usize>> {
    let _ = writes;
    unimplemented!("graph::write_conflicts")
}

/// Connected groups (two or more tasks) of the conflict relation, each sorted, in order of
/// their first member.
pub fn conflict_groups(conflicts: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let _ = conflicts;
    unimplemented!("graph::conflict_groups")
}
