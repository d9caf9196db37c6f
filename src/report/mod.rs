//! Reporters: turn events into terminal lines, progress, summaries, JSON and JUnit.

pub mod analysis;
