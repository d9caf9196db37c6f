//! Git worktrees for tasks that must not share a checkout: a worktree and branch per
//! task, the in-memory merge check, the merge back into the integration branch, and the
//! cleanup of what runs leave. Shells out to `git` for everything; never runs tasks.

mod cleanup;
mod git;
mod repo;
mod workspace;

pub use cleanup::{Cleaned, clean};
pub use git::GitError;
pub use repo::{BRANCH_PREFIX, Leftovers, Repo, RepoError};
pub use workspace::{GitWorkspace, WorkspaceConfig, safe_name};
