//! Plans: the TOML, YAML and JSON formats (and bare JSON task arrays), their validation
//! with error locations, matrix expansion, and the `fanout.toml` project file whose tables
//! are the defaults of every plan run in that project. Reads files; does nothing else.

mod agent_tables;
mod decode;
mod error;
mod load;
mod matrix;
mod model;
mod node;
mod queue_table;
mod resolve;
mod roadmap;
mod syntax;
mod task_table;
#[cfg(test)]
mod tests;
mod values;

pub(crate) use error::suggestion;
pub use error::{PlanError, PlanProblem};
pub use load::{
    Format, LoadOptions, PROJECT_FILE, find_project_file, load, project_plan, project_queue,
    project_settings,
};
pub use model::{
    Action, AgentOptions, AgentSettings, Autonomy, Backoff, BudgetSettings, FilePart, Isolation,
    LimitSettings, MergeMode, Plan, PreparedFile, ProfileSettings, QueueSettings, Rate, Settings,
    Task, WorktreeSettings, safe_file_stem,
};
pub use roadmap::{Priority, PriorityStatus, mark_complete, parse_roadmap};
