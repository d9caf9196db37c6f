//! The dependency graph of a plan: cycles (with their path), topological order, waves,
//! critical path, remaining-path priorities and the conflict sets made by overlapping
//! `writes`. Pure data in, data out: no time, no processes.

mod analysis;
mod conflicts;
mod dag;
#[cfg(test)]
mod proptests;

pub(crate) use analysis::plural;
pub use analysis::{
    ANALYSIS_SCHEMA_VERSION, Analysis, CriticalPath, Verdict, WeightUnit, analyse, default_weights,
    speedup_label,
};
pub use conflicts::{conflict_groups, globs_overlap, write_conflicts};
pub use dag::{Cycle, Dag};
