//! fanout runs many tasks at once, safely and fast: it reads a plan, builds its dependency
//! graph, schedules tasks as soon as their dependencies succeed within the limits given,
//! supervises their processes, and reports what happened.
//!
//! Data flows one way: `plan` → `graph` → `scheduler` ↔ `runner` → `events` → `report`.

pub mod agent;
pub mod bytes;
pub mod cli;
pub mod events;
pub mod graph;
pub mod map;
pub mod plan;
pub mod queue;
pub mod report;
pub mod runner;
pub mod scheduler;
pub mod skills;
pub mod store;
pub mod window;
pub mod worktree;
