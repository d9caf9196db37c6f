//! `fanout map`: GNU-parallel-style fan-out from the shell. Inputs and their combination
//! order, replacement strings, shell quoting, the in-memory plan (one task per job) and
//! the job log. Running is the engine's runner; printing is the reporters'.

mod color;
mod cpus;
mod file_template;
mod filter;
mod group_by;
mod hosts;
mod input;
mod interactive;
mod joblog;
mod options;
mod perl;
mod pipe;
mod plan;
mod plus;
#[cfg(test)]
mod properties;
mod quote;
mod replace;
mod results;
mod semaphore;
mod shard;
mod shell;
mod status;
mod table;

pub use color::{FAILED as COLOR_FAILED, RESET as COLOR_RESET, job_color};
pub use cpus::CpuCounts;
pub use file_template::FileTemplate;
pub use filter::Filter;
pub use group_by::{GroupBy, GroupFilter};
pub use hosts::{local_jobs, read_login_file};
pub use input::{
    CommandLine, Continued, InputError, InputSource, Inputs, ReadOptions, Records, Separators,
    SourceKind, Trim, group_inputs, header_names, parse_delimiter, read_inputs, row,
    split_command_line,
};
pub use interactive::Asker;
pub use joblog::{
    JOBLOG_HEADER, JobRecords, JoblogEntry, JoblogRecorder, JoblogWriter, LoggedJob, Received,
    Sent, read_joblog,
};
pub use options::{
    JobsFile, MapTimeout, parse_count, parse_delay, parse_halt, parse_jobs, parse_limit_size,
    parse_load, parse_seconds, parse_size, parse_timeout,
};
pub use pipe::{
    BlockOptions, BlockSource, DEFAULT_BLOCK, HeaderPattern, RecordPatterns, TimedReader,
    parse_block_size, part_positions, read_header, record_marks, split_blocks,
};
pub use plan::{MAX_LINE, MapSpec, TooLong, map_plan, pack_inputs};
pub use plus::{Pattern, Plus, Where};
pub use quote::shell_quote;
pub use replace::{
    Parens, SLOT_REFERENCE, Template, TemplateOptions, Transform, UserReplacement,
    expand_user_replacements, with_slot,
};
pub use results::{
    ResultsWriter, column_names, escape_value, has_results, job_dir, result_segments,
};
pub use semaphore::{Held, Semaphore, semaphore_root};
pub use shard::{Shard, ShardKind, ShardLines};
pub use shell::job_shell;
pub use status::{MAP_ERROR, MapStatus};
pub use table::{ResultsTable, TableFormat};
