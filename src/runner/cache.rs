//! What the runner asks of a cache, as a trait, so the runner knows nothing of where keys
//! and earlier results are kept.

use std::path::PathBuf;

use crate::events::HashingStats;

/// A task's cache key and what computing it took.
#[derive(Clone, Debug)]
pub struct CacheKey {
    pub key: String,
    pub stats: HashingStats,
}

/// An earlier successful attempt with the same key.
#[derive(Clone, Debug)]
pub struct CacheHit {
    pub run_id: String,
    pub log: Option<PathBuf>,
}

/// Keys and earlier results. Called from blocking threads (hashing reads files).
pub trait Cache: Send + Sync {
    /// The key of task `index` from its definition, its input files and its
    /// dependencies' keys (in the order of its `deps`); `None` when it has no inputs.
    fn key(&self, index: usize, dep_keys: &[Option<String>]) -> Option<CacheKey>;

    /// An earlier success of task `index` with `key` whose declared outputs all exist.
    fn lookup(&self, index: usize, key: &str) -> Option<CacheHit>;

    /// For a `key` of task `index` that found no earlier success: why, in words (what
    /// changed since the task's last success, or that it has none).
    fn changes(&self, index: usize, key: &str) -> Option<String>;
}
