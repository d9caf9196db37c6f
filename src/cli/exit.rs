//! Exit codes, in one place.

/// Every task succeeded (or there was nothing to do).
pub const SUCCESS: i32 = 0;
/// Some task failed, timed out, could not start, or was skipped or not run.
pub const TASKS_FAILED: i32 = 1;
/// A bad plan or bad usage: nothing was run.
pub const USAGE: i32 = 2;
/// fanout itself could not do its work (an I/O error of its own).
pub const INTERNAL: i32 = 3;
/// Interrupted by Ctrl-C or SIGTERM.
pub const INTERRUPTED: i32 = 130;
