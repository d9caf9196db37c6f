//! Running `git`: one function that runs a command in a directory and returns its output,
//! or an error that carries the command line and git's own message. Commands that meet a
//! lock file another git process holds are tried again a few times.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A git command that could not be run or did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("could not start `{command}`: {source}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` exited with status {code}: {message}")]
    Failed {
        command: String,
        code: i32,
        message: String,
    },
}

/// How often a command that met another process's lock file is tried.
const LOCK_ATTEMPTS: u32 = 5;

/// What a git command printed, and how it exited.
#[derive(Debug)]
pub(crate) struct GitOutput {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs `git args` in `dir`; any exit status is returned, not judged.
pub(crate) fn git_status(dir: &Path, args: &[&str]) -> Result<GitOutput, GitError> {
    let mut attempt = 1;
    loop {
        let output = command(dir, args)
            .output()
            .map_err(|source| GitError::Spawn {
                command: command_line(dir, args),
                source,
            })?;
        let result = GitOutput {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        if result.code != 0 && attempt < LOCK_ATTEMPTS && held_lock(&result.stderr) {
            std::thread::sleep(Duration::from_millis(50 * u64::from(attempt)));
            attempt += 1;
            continue;
        }
        return Ok(result);
    }
}

/// Runs `git args` in `dir` and returns its standard output, trimmed; a non-zero exit is
/// an error.
pub(crate) fn git(dir: &Path, args: &[&str]) -> Result<String, GitError> {
    let out = git_status(dir, args)?;
    if out.code != 0 {
        return Err(failed(dir, args, &out));
    }
    Ok(out.stdout.trim_end().to_owned())
}

/// The error for a command whose exit status the caller does not accept.
pub(crate) fn failed(dir: &Path, args: &[&str], out: &GitOutput) -> GitError {
    let message = match out.stderr.trim() {
        "" => out.stdout.trim(),
        e => e,
    };
    GitError::Failed {
        command: command_line(dir, args),
        code: out.code,
        message: message.to_owned(),
    }
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        // A fanout started from a git hook must still address the repository it names.
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE");
    cmd
}

/// The command as a person would type it.
pub(crate) fn command_line(dir: &Path, args: &[&str]) -> String {
    let mut line = format!("git -C {}", shell_quote(&dir.display().to_string()));
    for a in args {
        line.push(' ');
        line.push_str(&shell_quote(a));
    }
    line
}

/// Whether git failed because another process holds one of its lock files.
fn held_lock(stderr: &str) -> bool {
    stderr.contains(".lock': File exists") || stderr.contains("cannot lock ref")
}

/// `s` quoted for a POSIX shell when it needs it.
pub(crate) fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The top directory of the working tree that holds `dir`, or `None` outside a repository.
pub(crate) fn toplevel(dir: &Path) -> Result<Option<PathBuf>, GitError> {
    let out = git_status(dir, &["rev-parse", "--show-toplevel"])?;
    if out.code != 0 {
        return Ok(None);
    }
    Ok(Some(PathBuf::from(out.stdout.trim_end())))
}

/// One entry of `git worktree list --porcelain`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WorktreeEntry {
    pub(crate) path: PathBuf,
    /// `refs/heads/...` when a branch is checked out.
    pub(crate) branch: Option<String>,
}

/// Every worktree of the repository, the main one first.
pub(crate) fn worktrees(dir: &Path) -> Result<Vec<WorktreeEntry>, GitError> {
    let text = git(dir, &["worktree", "list", "--porcelain"])?;
    let mut list = Vec::new();
    for block in text.split("\n\n") {
        let mut path = None;
        let mut branch = None;
        for line in block.lines() {
            if let Some(p) = line.strip_prefix("worktree ") {
                path = Some(PathBuf::from(p));
            } else if let Some(b) = line.strip_prefix("branch ") {
                branch = Some(b.to_owned());
            }
        }
        if let Some(path) = path {
            list.push(WorktreeEntry { path, branch });
        }
    }
    Ok(list)
}

/// The names of local branches under `prefix` (e.g. `fanout/`).
pub(crate) fn branches(dir: &Path, prefix: &str) -> Result<Vec<String>, GitError> {
    let pattern = format!("refs/heads/{prefix}");
    let text = git(
        dir,
        &["for-each-ref", "--format=%(refname:strip=2)", &pattern],
    )?;
    Ok(text.lines().map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_quoted_for_a_shell() {
        assert_eq!(shell_quote("fanout/r/t"), "fanout/r/t");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(
            command_line(Path::new("/tmp/x y"), &["merge", "b"]),
            "git -C '/tmp/x y' merge b"
        );
    }
}
