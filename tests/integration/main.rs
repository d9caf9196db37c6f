//! Integration tests: the real `fanout` binary on real files and real processes, each test
//! in its own temporary directory.

mod agents;
mod completions;
mod harness;
mod map;
mod map_compat;
mod plan_cmd;
mod queue;
mod run;
mod run_limits;
mod run_signals;
mod sem;
mod skills;
mod store;
mod temp_skills;
mod worktree;
