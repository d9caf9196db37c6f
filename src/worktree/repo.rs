//! The repository a run merges into: found from the plan's directory, with its integration
//! branch and the worktree where that branch is checked out, checked before anything runs
//! (a clean checkout, an identity to commit with) and searched for what earlier runs left.

use std::path::{Path, PathBuf};

use super::git::{GitError, branches, git, git_status, toplevel, worktrees};

/// Why a run cannot isolate its tasks in this repository.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("{dir} is not inside a git repository")]
    NotARepository { dir: PathBuf },
    #[error("HEAD is detached in {dir}, so there is no branch to merge into")]
    Detached { dir: PathBuf },
    #[error("there is no branch `{branch}` to merge into")]
    NoBranch { branch: String },
    #[error("the checkout of `{branch}` in {dir} has uncommitted changes:\n{changes}")]
    Dirty {
        branch: String,
        dir: PathBuf,
        changes: String,
    },
    #[error("git has no identity to commit with: {message}")]
    NoIdentity { message: String },
    #[error(transparent)]
    Git(#[from] GitError),
}

impl RepoError {
    /// What the person can do about it.
    pub fn help(&self) -> Option<String> {
        Some(match self {
            RepoError::NotARepository { .. } => {
                "`isolate = \"worktree\"` needs a git repository: run `git init` and commit, \
                 or drop `isolate`"
                    .into()
            }
            RepoError::Detached { .. } => {
                "check out a branch first, or name one with `--into BRANCH`".into()
            }
            RepoError::NoBranch { branch } => {
                format!("create it (`git branch {branch}`) or name another with `--into`")
            }
            RepoError::Dirty { .. } => "merging would mix fanout's work with yours: commit \
                 them (`git commit -am ...`), stash them (`git stash`), or merge into \
                 another branch with `--into BRANCH`"
                .into(),
            RepoError::NoIdentity { .. } => {
                "set one: `git config user.name NAME` and `git config user.email EMAIL`".into()
            }
            RepoError::Git(_) => return None,
        })
    }
}

/// The repository and its integration branch.
#[derive(Clone, Debug)]
pub struct Repo {
    /// The working tree that holds the plan (where worktrees are added from).
    pub top: PathBuf,
    /// The integration branch's short name.
    pub into: String,
    /// The worktree where the integration branch is checked out, if any: its files are
    /// updated as the branch advances.
    pub checkout: Option<PathBuf>,
}

/// What earlier runs left behind.
#[derive(Clone, Debug, Default)]
pub struct Leftovers {
    pub worktrees: Vec<PathBuf>,
    pub branches: Vec<String>,
}

impl Leftovers {
    pub fn is_empty(&self) -> bool {
        self.worktrees.is_empty() && self.branches.is_empty()
    }
}

/// The prefix of every branch fanout makes.
pub const BRANCH_PREFIX: &str = "fanout/";

impl Repo {
    /// Finds the repository holding `dir` and checks it can take merges into `into` (the
    /// branch checked out in `dir` when `None`).
    pub fn open(dir: &Path, into: Option<&str>) -> Result<Repo, RepoError> {
        let top = toplevel(dir)?.ok_or_else(|| RepoError::NotARepository {
            dir: dir.to_path_buf(),
        })?;
        let into = match into {
            Some(b) => b.to_owned(),
            None => {
                let out = git_status(&top, &["symbolic-ref", "--quiet", "--short", "HEAD"])?;
                if out.code != 0 {
                    return Err(RepoError::Detached { dir: top });
                }
                out.stdout.trim().to_owned()
            }
        };
        let full = format!("refs/heads/{into}");
        let exists = git_status(&top, &["rev-parse", "--verify", "--quiet", &full])?;
        if exists.code != 0 {
            return Err(RepoError::NoBranch { branch: into });
        }
        let checkout = worktrees(&top)?
            .into_iter()
            .find(|w| w.branch.as_deref() == Some(full.as_str()))
            .map(|w| w.path);
        if let Some(dir) = &checkout {
            let changes = git(
                dir,
                &[
                    "status",
                    "--porcelain",
                    "--untracked-files=no",
                    "--ignore-submodules",
                ],
            )?;
            if !changes.trim().is_empty() {
                return Err(RepoError::Dirty {
                    branch: into,
                    dir: dir.clone(),
                    changes,
                });
            }
        }
        let ident = git_status(&top, &["var", "GIT_COMMITTER_IDENT"])?;
        if ident.code != 0 {
            return Err(RepoError::NoIdentity {
                message: ident.stderr.trim().lines().last().unwrap_or("").to_owned(),
            });
        }
        Ok(Repo {
            top,
            into,
            checkout,
        })
    }

    /// Worktrees under `worktrees_dir` and `fanout/` branches that already exist.
    pub fn leftovers(&self, worktrees_dir: &Path) -> Result<Leftovers, GitError> {
        leftovers(&self.top, worktrees_dir)
    }
}

/// Worktrees under `worktrees_dir` or on a `fanout/` branch, and every `fanout/` branch.
pub(crate) fn leftovers(top: &Path, worktrees_dir: &Path) -> Result<Leftovers, GitError> {
    let dir = worktrees_dir
        .canonicalize()
        .unwrap_or_else(|_| worktrees_dir.to_path_buf());
    let worktrees = worktrees(top)?
        .into_iter()
        .skip(1)
        .filter(|w| {
            w.path.starts_with(&dir)
                || w.path.starts_with(worktrees_dir)
                || w.branch
                    .as_deref()
                    .is_some_and(|b| b.starts_with(&format!("refs/heads/{BRANCH_PREFIX}")))
        })
        .map(|w| w.path)
        .collect();
    Ok(Leftovers {
        worktrees,
        branches: branches(top, BRANCH_PREFIX)?,
    })
}
