//! Plans: the TOML, YAML and JSON formats (and bare JSON task arrays), their validation
//! with error locations, matrix expansion, and the `fanout.toml` project file whose tables
//! are the defaults of every plan run in that project. Reads files; does nothing else.

mod load;
mod model;

pub use load::{Format, LoadOptions, PROJECT_FILE, PlanError, find_project_file, load};
pub use model::{Action, Backoff, Plan, Settings, Task};
