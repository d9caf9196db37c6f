//! Removing what runs left: worktrees under the state directory or on `fanout/` branches,
//! those branches, and git's records of worktrees whose directories are gone. Runs that
//! are still going are left alone.

use std::path::{Path, PathBuf};

use super::git::{GitError, git, toplevel};
use super::repo::{BRANCH_PREFIX, leftovers};

/// What [`clean`] removed (or would remove).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Cleaned {
    pub worktrees: Vec<PathBuf>,
    pub branches: Vec<String>,
}

/// The run a `fanout/<run>/<task>` branch or a `<worktrees>/<run>/<task>` path belongs to.
fn run_of_branch(branch: &str) -> Option<&str> {
    branch.strip_prefix(BRANCH_PREFIX)?.split('/').next()
}

/// Removes fanout's worktrees and branches from the repository holding `dir`, except
/// those of the runs in `running`. `worktrees_dir` is `<state>/worktrees`. Returns `None`
/// when `dir` is not in a git repository.
pub fn clean(
    dir: &Path,
    worktrees_dir: &Path,
    running: &[String],
    dry_run: bool,
) -> Result<Option<Cleaned>, GitError> {
    let Some(top) = toplevel(dir)? else {
        return Ok(None);
    };
    let found = leftovers(&top, worktrees_dir)?;
    let canonical = worktrees_dir
        .canonicalize()
        .unwrap_or_else(|_| worktrees_dir.to_path_buf());
    let live = |path: &Path| {
        let rel = path
            .strip_prefix(&canonical)
            .or_else(|_| path.strip_prefix(worktrees_dir));
        rel.ok()
            .and_then(|r| r.components().next())
            .is_some_and(|run| running.iter().any(|r| run.as_os_str() == r.as_str()))
    };
    let mut cleaned = Cleaned::default();
    for path in found.worktrees {
        if live(&path) {
            continue;
        }
        if !dry_run {
            let shown = path.display().to_string();
            let removed = git(&top, &["worktree", "remove", "--force", "--force", &shown]);
            // A worktree whose creation was cut short may not be removable by git: its
            // directory goes, and `prune` forgets it.
            if removed.is_err() && path.exists() {
                let _ = std::fs::remove_dir_all(&path);
            }
        }
        cleaned.worktrees.push(path);
    }
    if !dry_run {
        git(&top, &["worktree", "prune"])?;
    }
    for branch in found.branches {
        if run_of_branch(&branch).is_some_and(|run| running.iter().any(|r| r == run)) {
            continue;
        }
        if !dry_run {
            git(&top, &["branch", "-D", "--quiet", &branch])?;
        }
        cleaned.branches.push(branch);
    }
    // Directories of runs that git no longer knows (a crash before `worktree add` ended).
    if !dry_run && let Ok(entries) = std::fs::read_dir(worktrees_dir) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            if !running.iter().any(|r| name.as_os_str() == r.as_str()) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        if !dry_run {
            git(&top, &["worktree", "prune"])?;
        }
    }
    Ok(Some(cleaned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branches_name_their_run() {
        assert_eq!(run_of_branch("fanout/20260101-1/build"), Some("20260101-1"));
        assert_eq!(run_of_branch("main"), None);
    }
}
