//! What the runner asks of a workspace provider, as a trait, so the runner knows nothing
//! of git: where an isolated task runs, and what becomes of its work once it ended.

use std::path::PathBuf;

pub use crate::events::WorkspaceOutcome;

/// Private working directories for isolated tasks. Called from blocking threads (it runs
/// git and the setup command); implementations serialize what must not run at once.
pub trait Workspace: Send + Sync {
    /// A fresh working directory for task `index`, ready to run it in. `Err` says why it
    /// could not be made (the setup failed, a git command failed); the task fails with it.
    fn prepare(&self, index: usize) -> Result<PathBuf, String>;

    /// After task `index` ended (`succeeded` or not): bring its work back, or keep it.
    fn finish(&self, index: usize, succeeded: bool) -> WorkspaceOutcome;
}

impl std::fmt::Debug for dyn Workspace + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dyn Workspace")
    }
}
