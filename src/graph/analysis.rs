//! The analysis `fanout plan` shows: counts, waves, critical path, best speedup, conflict
//! groups and whether parallelism pays. Serializable; its JSON form is versioned.

use serde::Serialize;

use super::Dag;
use crate::plan::Plan;

/// Version of the JSON form of [`Analysis`]; bump on incompatible change.
pub const ANALYSIS_SCHEMA_VERSION: u32 = 1;

/// See the module documentation.
#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    pub schema_version: u32,
}

/// Whether running in parallel pays, and why not when it does not.
#[derive(Clone, Debug, Serialize)]
pub enum Verdict {
    Pays,
}

/// Analyses a plan. `weights[i]` is task i's expected duration in seconds.
pub fn analyse(plan: &Plan, dag: &Dag, weights: &[f64]) -> Analysis {
    let _ = (plan, dag, weights);
    unimplemented!("graph::analyse")
}
