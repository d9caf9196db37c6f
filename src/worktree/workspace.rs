//! [`GitWorkspace`]: the runner's [`Workspace`] on git worktrees. Each isolated task gets
//! a worktree under `<state>/worktrees/<run>/<task>` on branch `fanout/<run>/<task>`, made
//! from the integration branch's tip when the task starts. When it succeeded, what it left
//! uncommitted is committed, the merge is computed in memory (`git merge-tree
//! --write-tree`) and only a clean result moves the integration branch (and the files of
//! its checkout). Git commands on the repository are serialized by one lock; the task's
//! setup command runs outside it. It never runs tasks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::git::{GitError, failed, git, git_status, shell_quote};
use super::repo::{BRANCH_PREFIX, Repo};
use crate::events::WorkspaceOutcome;
use crate::plan::{MergeMode, Plan, WorktreeSettings};
use crate::runner::Workspace;

/// How a run uses worktrees.
#[derive(Clone, Debug)]
pub struct WorkspaceConfig {
    pub run_id: String,
    /// Where this run's worktrees go: `<state>/worktrees/<run>`.
    pub dir: PathBuf,
    pub settings: WorktreeSettings,
    /// Keep worktrees and branches of merged tasks.
    pub keep: bool,
}

/// What the workspace needs to know of a task.
#[derive(Clone, Debug)]
struct TaskInfo {
    id: String,
    subject: Option<String>,
    cwd: Option<PathBuf>,
    /// File-system and ref safe form of the id.
    name: String,
}

/// See the module documentation.
#[derive(Debug)]
pub struct GitWorkspace {
    repo: Repo,
    config: WorkspaceConfig,
    /// The plan's directory, and where it is inside a worktree.
    base_dir: PathBuf,
    relative: PathBuf,
    env: Vec<(String, String)>,
    tasks: Vec<TaskInfo>,
    /// One git command at a time on this repository.
    lock: Mutex<()>,
    /// The commit each task's worktree started from, and the merges made before.
    bases: Mutex<HashMap<usize, (String, usize)>>,
    /// Merges made so far in this run.
    merges: AtomicUsize,
}

/// A name for a task's branch and directory (see [`crate::plan::safe_file_stem`]).
pub fn safe_name(id: &str, index: usize) -> String {
    crate::plan::safe_file_stem(id, index)
}

impl GitWorkspace {
    pub fn new(repo: Repo, plan: &Plan, config: WorkspaceConfig) -> GitWorkspace {
        let base_dir = plan.base_dir.clone();
        let top = repo.top.canonicalize().unwrap_or_else(|_| repo.top.clone());
        let relative = base_dir
            .canonicalize()
            .unwrap_or_else(|_| base_dir.clone())
            .strip_prefix(&top)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let tasks = plan
            .tasks
            .iter()
            .enumerate()
            .map(|(i, t)| TaskInfo {
                id: t.id.clone(),
                subject: t.subject.clone(),
                cwd: t.cwd.clone(),
                name: safe_name(&t.id, i),
            })
            .collect();
        GitWorkspace {
            repo,
            config,
            base_dir,
            relative,
            env: plan
                .env
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            tasks,
            lock: Mutex::new(()),
            bases: Mutex::new(HashMap::new()),
            merges: AtomicUsize::new(0),
        }
    }

    fn branch(&self, index: usize) -> String {
        format!(
            "{BRANCH_PREFIX}{}/{}",
            self.config.run_id, self.tasks[index].name
        )
    }

    fn path(&self, index: usize) -> PathBuf {
        self.config.dir.join(&self.tasks[index].name)
    }

    fn locked(&self) -> std::sync::MutexGuard<'_, ()> {
        // A panic while holding the lock leaves nothing half-done in memory.
        self.lock.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn top(&self) -> &Path {
        &self.repo.top
    }

    /// Removes the task's worktree and, unless `keep_branch`, its branch.
    fn remove(&self, index: usize, keep_branch: bool) -> Result<(), GitError> {
        let path = self.path(index);
        let shown = path.display().to_string();
        if path.exists() {
            git(
                self.top(),
                &["worktree", "remove", "--force", "--force", &shown],
            )?;
        }
        if !keep_branch {
            let branch = self.branch(index);
            let out = git_status(self.top(), &["branch", "-D", "--quiet", &branch])?;
            if out.code != 0 && !out.stderr.contains("not found") {
                return Err(failed(self.top(), &["branch", "-D", &branch], &out));
            }
        }
        Ok(())
    }

    fn create(&self, index: usize) -> Result<PathBuf, GitError> {
        let _guard = self.locked();
        // A retry starts afresh from the integration branch's tip.
        self.remove(index, false)?;
        let into = format!("refs/heads/{}", self.repo.into);
        let base = git(self.top(), &["rev-parse", "--verify", &into])?;
        let path = self.path(index);
        let shown = path.display().to_string();
        let branch = self.branch(index);
        git(
            self.top(),
            &["worktree", "add", "--quiet", "-b", &branch, &shown, &base],
        )?;
        self.bases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(index, (base, self.merges.load(Ordering::SeqCst)));
        Ok(path)
    }

    /// The plan's directory inside the worktree at `path`.
    fn base_in(&self, path: &Path) -> PathBuf {
        path.join(&self.relative)
    }

    fn copy_files(&self, path: &Path) -> Result<(), String> {
        for entry in &self.config.settings.copy {
            let from = self.base_dir.join(entry);
            let to = self.base_in(path).join(entry);
            if !from.exists() {
                return Err(format!(
                    "worktree: `copy` names {}, which does not exist",
                    from.display()
                ));
            }
            copy_tree(&from, &to).map_err(|e| {
                format!(
                    "worktree: failed to copy {} into the worktree: {e}",
                    from.display()
                )
            })?;
        }
        Ok(())
    }

    fn setup(&self, index: usize, path: &Path) -> Result<(), String> {
        let Some(setup) = &self.config.settings.setup else {
            return Ok(());
        };
        let dir = self.base_in(path);
        let output = Command::new("sh")
            .arg("-c")
            .arg(setup)
            .current_dir(&dir)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("FANOUT_TASK_ID", &self.tasks[index].id)
            .env("FANOUT_RUN_ID", &self.config.run_id)
            .env("FANOUT_WORKTREE", path)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("worktree setup `{setup}` could not start: {e}"))?;
        if output.status.success() {
            return Ok(());
        }
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(10)..].join("\n");
        let how = match output.status.code() {
            Some(code) => format!("exit code {code}"),
            None => "a signal".to_owned(),
        };
        Err(format!(
            "worktree setup `{setup}` failed with {how}{}{tail}",
            if tail.is_empty() { "" } else { ":\n" }
        ))
    }

    fn commit_message(&self, index: usize) -> String {
        let t = &self.tasks[index];
        match &t.subject {
            Some(s) => format!("{}: {s}", t.id),
            None => t.id.clone(),
        }
    }

    /// Commits what the task left uncommitted; returns its branch's tip.
    fn commit(&self, index: usize, path: &Path) -> Result<String, GitError> {
        // Files copied in by `[worktree] copy` are the user's local files, never the task's
        // work.
        let excluded: Vec<String> = self
            .config
            .settings
            .copy
            .iter()
            .map(|c| format!(":(exclude,top){}", self.relative.join(c).display()))
            .collect();
        let mut add = vec!["add", "--all", "--", "."];
        add.extend(excluded.iter().map(String::as_str));
        git(path, &add)?;
        let staged = git_status(path, &["diff", "--cached", "--quiet"])?;
        if staged.code == 1 {
            let message = self.commit_message(index);
            git(path, &["commit", "--quiet", "--no-verify", "-m", &message])?;
        } else if staged.code != 0 {
            return Err(failed(path, &["diff", "--cached", "--quiet"], &staged));
        }
        git(path, &["rev-parse", "HEAD"])
    }

    fn changed(&self, base: &str, tip: &str) -> Result<Vec<String>, GitError> {
        if base == tip {
            return Ok(Vec::new());
        }
        let text = git(
            self.top(),
            &["diff", "--name-only", "--no-renames", base, tip],
        )?;
        Ok(text.lines().map(str::to_owned).collect())
    }

    fn finish_locked(&self, index: usize, succeeded: bool) -> Result<WorkspaceOutcome, GitError> {
        let path = self.path(index);
        let branch = self.branch(index);
        let base = self
            .bases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&index)
            .cloned();
        let Some((base, seen)) = base else {
            return Ok(WorkspaceOutcome::Unchanged);
        };
        if !succeeded {
            let tip = git(&path, &["rev-parse", "HEAD"])?;
            let dirty = git(&path, &["status", "--porcelain"])?;
            if tip == base && dirty.is_empty() {
                self.remove(index, false)?;
                return Ok(WorkspaceOutcome::Unchanged);
            }
            return Ok(WorkspaceOutcome::Kept {
                changed: self.changed(&base, &tip)?,
                branch,
                worktree: Some(path),
                seen,
            });
        }
        let tip = self.commit(index, &path)?;
        let changed = self.changed(&base, &tip)?;
        if changed.is_empty() && tip == base {
            if !self.config.keep {
                self.remove(index, false)?;
            }
            return Ok(WorkspaceOutcome::Unchanged);
        }
        let mode = self.config.settings.merge;
        if mode == MergeMode::None {
            if !self.config.keep {
                self.remove(index, true)?;
            }
            return Ok(WorkspaceOutcome::Kept {
                branch,
                worktree: self.config.keep.then_some(path),
                changed,
                seen,
            });
        }
        let into = self.repo.into.clone();
        let into_ref = format!("refs/heads/{into}");
        let target = git(self.top(), &["rev-parse", "--verify", &into_ref])?;
        let new = match mode {
            MergeMode::FfOnly => {
                let ff = git_status(self.top(), &["merge-base", "--is-ancestor", &target, &tip])?;
                if ff.code != 0 {
                    return Ok(WorkspaceOutcome::Failed {
                        message: format!(
                            "`{into}` moved since the task started, so `merge = \"ff-only\"` \
                             cannot merge it; its work is kept on branch {branch} ({})",
                            path.display()
                        ),
                    });
                }
                tip.clone()
            }
            MergeMode::Merge | MergeMode::Squash | MergeMode::None => {
                let args = [
                    "merge-tree",
                    "--write-tree",
                    "--name-only",
                    "--no-messages",
                    &target,
                    &tip,
                ];
                let out = git_status(self.top(), &args)?;
                let mut lines = out.stdout.lines();
                let tree = lines.next().unwrap_or_default().to_owned();
                match out.code {
                    0 => {}
                    1 => {
                        let paths = lines
                            .take_while(|l| !l.is_empty())
                            .map(str::to_owned)
                            .collect();
                        return Ok(self.conflict(index, paths, changed, seen));
                    }
                    _ => return Err(failed(self.top(), &args, &out)),
                }
                let message = self.commit_message(index);
                if mode == MergeMode::Squash {
                    git(
                        self.top(),
                        &["commit-tree", &tree, "-p", &target, "-m", &message],
                    )?
                } else {
                    let message = format!("Merge {branch}\n\n{message}");
                    git(
                        self.top(),
                        &[
                            "commit-tree",
                            &tree,
                            "-p",
                            &target,
                            "-p",
                            &tip,
                            "-m",
                            &message,
                        ],
                    )?
                }
            }
        };
        if let Err(message) = self.advance(&into_ref, &target, &new, index) {
            return Ok(WorkspaceOutcome::Failed {
                message: format!(
                    "{message}; the task's work is kept on branch {branch} ({})",
                    path.display()
                ),
            });
        }
        let number = self.merges.fetch_add(1, Ordering::SeqCst) + 1;
        if !self.config.keep {
            // The work is merged; a worktree that will not go is a leftover for
            // `fanout clean --worktrees`, not a failure.
            let _ = self.remove(index, false);
        }
        Ok(WorkspaceOutcome::Merged {
            into,
            commit: new,
            changed,
            seen,
            number,
        })
    }

    /// Moves the integration branch from `old` to `new`, and the files of its checkout
    /// with it. Nothing moves when the checkout's files cannot follow.
    fn advance(&self, into_ref: &str, old: &str, new: &str, index: usize) -> Result<(), String> {
        let reflog = format!("fanout: merge {}", self.branch(index));
        let result = match &self.repo.checkout {
            // Fast-forwards the checked-out branch, its index and files; refuses (and
            // changes nothing) when that would overwrite changes made there meanwhile.
            Some(dir) => git(dir, &["merge", "--ff-only", "--quiet", "--no-stat", new]),
            None => git(
                self.top(),
                &["update-ref", "-m", &reflog, into_ref, new, old],
            ),
        };
        result
            .map(drop)
            .map_err(|e| format!("failed to advance `{}`: {e}", self.repo.into))
    }

    fn conflict(
        &self,
        index: usize,
        paths: Vec<String>,
        changed: Vec<String>,
        seen: usize,
    ) -> WorkspaceOutcome {
        let branch = self.branch(index);
        let path = self.path(index);
        let into = &self.repo.into;
        let place = self.repo.checkout.as_deref().unwrap_or(self.top());
        let mut commands = vec![format!("cd {}", shell_quote(&place.display().to_string()))];
        if self.repo.checkout.is_none() {
            commands.push(format!("git switch {}", shell_quote(into)));
        }
        commands.push(format!("git merge {}", shell_quote(&branch)));
        let quoted: Vec<String> = paths.iter().map(|p| shell_quote(p)).collect();
        commands.push(format!(
            "# edit {} to resolve the conflicts, then:",
            quoted.join(" ")
        ));
        commands.push(format!(
            "git add {} && git commit --no-edit",
            quoted.join(" ")
        ));
        commands.push(format!(
            "git worktree remove --force {} && git branch -D {}",
            shell_quote(&path.display().to_string()),
            shell_quote(&branch)
        ));
        WorkspaceOutcome::Conflict {
            into: into.clone(),
            branch,
            worktree: path,
            paths,
            changed,
            commands,
            seen,
        }
    }
}

impl Workspace for GitWorkspace {
    fn prepare(&self, index: usize) -> Result<PathBuf, String> {
        let path = self.create(index).map_err(|e| format!("worktree: {e}"))?;
        self.copy_files(&path)?;
        self.setup(index, &path)?;
        let cwd = match &self.tasks[index].cwd {
            Some(dir) => self.base_in(&path).join(dir),
            None => self.base_in(&path),
        };
        std::fs::create_dir_all(&cwd)
            .map_err(|e| format!("worktree: failed to create {}: {e}", cwd.display()))?;
        Ok(cwd)
    }

    fn finish(&self, index: usize, succeeded: bool) -> WorkspaceOutcome {
        let _guard = self.locked();
        self.finish_locked(index, succeeded)
            .unwrap_or_else(|e| WorkspaceOutcome::Failed {
                message: format!(
                    "worktree: {e}; the task's work is kept on branch {} ({})",
                    self.branch(index),
                    self.path(index).display()
                ),
            })
    }
}

/// Copies a file, or a directory and everything in it.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    if from.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(from, to).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_for_branches_and_directories() {
        assert_eq!(safe_name("build", 0), "build");
        assert_eq!(safe_name("a/b", 3), "a_b-3");
        assert_eq!(safe_name("x.lock", 1), "x_lock-1");
        assert_eq!(safe_name("..", 2), "__-2");
        assert_eq!(safe_name("-n", 4), "-n-4");
    }
}
