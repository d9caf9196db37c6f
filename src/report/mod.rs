//! Reporters: turn events into terminal lines, progress, summaries, JSON and JUnit, and a
//! plan's analysis into text, JSON, DOT and Mermaid. They render what happened; they never
//! decide anything.

pub mod analysis;
mod collector;
mod format;
mod job_output;
mod junit;
mod latest_line;
mod summary;
mod summary_text;
mod terminal;

pub use collector::SummaryCollector;
pub use format::{human_duration, signal_name, timestamp};
pub use job_output::{JobOutput, JobOutputOptions};
pub use junit::{junit_xml, write_junit};
pub use latest_line::LatestLines;
pub use summary::{
    Counts, CriticalPath, Overlap, RUN_SCHEMA_VERSION, RunSummary, TaskRecord, TaskStatus,
    WorktreeRecord,
};
pub use summary_text::render_summary;
pub use terminal::{OutputMode, TerminalOptions, TerminalReporter, failure_detail};
