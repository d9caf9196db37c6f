//! Command-line types (clap) and the glue that turns arguments into calls on the library.

mod agents;
mod args;
mod clock;
mod completions;
mod dry_run;
mod entry;
mod error;
pub mod exit;
mod gnu_argv;
mod history;
mod map_cmd;
mod map_jobs;
mod queue_cmd;
mod roadmap_cmd;
mod run_cmd;
mod select;
mod sem;
mod skills_cmd;
mod source;
mod store_cmd;
mod task_skills;
mod temp_skills_cmd;

pub use args::{Cli, ColorChoice, Command, MapArgs};
pub use entry::main_entry;
pub use error::CliError;
