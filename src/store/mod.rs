//! The store: every run, attempt and task definition in one SQLite file
//! (`.fanout/fanout.db`), fed by run events through a writer thread; crash recovery on
//! open; the queries behind resume, the cache, history and statistics; the uses of
//! temporary skills. It never drives the scheduler: what it knows reaches a run as plain
//! data (durations, finished tasks, cache hits) handed over before or during the run by
//! the command that owns both.

mod fingerprint;
mod journal;
mod open;
mod process;
mod queries;
mod schema;
mod temp_skills;
mod writer;

pub use fingerprint::{Fingerprint, InputHasher, Manifest, definition_hash, plan_hash};
pub use open::{Recovery, Store, StoreError, db_path};
pub use queries::{
    AttemptRow, CachedResult, ResumePoint, RunRow, Stats, TaskRow, median_durations,
};
pub use schema::SCHEMA_VERSION;
pub use temp_skills::TempSkillRow;
pub use writer::{RunRecord, StoreSink};
