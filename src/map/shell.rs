//! Which shell runs a map's jobs, as GNU parallel chooses it: `$PARALLEL_SHELL`, else the
//! shell fanout was started from (the nearest shell among its parent processes), else
//! `$SHELL`, else `/bin/sh`. Inputs are quoted for a Bourne shell, so a shell of another
//! family found this way (csh, fish, rc) gives way to `/bin/sh`.

use std::path::{Path, PathBuf};

/// Shells that take `sh -c` and a Bourne shell's quoting.
const BOURNE_SHELLS: &[&str] = &[
    "ash",
    "bash",
    "dash",
    "ksh",
    "ksh93",
    "lksh",
    "mksh",
    "pdksh",
    "posh",
    "rbash",
    "sh",
    "static-sh",
    "yash",
    "zsh",
];

/// The shell for jobs; see the module documentation.
pub fn job_shell() -> String {
    if let Some(shell) = std::env::var_os("PARALLEL_SHELL").filter(|s| !s.is_empty()) {
        return shell.to_string_lossy().into_owned();
    }
    let from_parents = parent_shell(Path::new("/proc"), std::process::id());
    let from_env = std::env::var_os("SHELL")
        .map(PathBuf::from)
        .filter(|shell| is_bourne(shell));
    from_parents
        .or(from_env)
        .map_or_else(|| "/bin/sh".into(), |p| p.to_string_lossy().into_owned())
}

/// Whether `program` is a Bourne shell, by its name.
fn is_bourne(program: &Path) -> bool {
    program
        .file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| BOURNE_SHELLS.contains(&name.trim_start_matches('-')))
}

/// The program of the nearest process above `pid` that is a shell, read from `proc` (the
/// proc file system); `None` when none is, or the nearest is not a Bourne shell.
fn parent_shell(proc: &Path, pid: u32) -> Option<PathBuf> {
    let mut pid = parent_of(proc, pid)?;
    // A chain of processes is short; the bound only guards against a loop.
    for _ in 0..64 {
        if pid <= 1 {
            return None;
        }
        if let Ok(program) = std::fs::read_link(proc.join(pid.to_string()).join("exe")) {
            let name = program.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if is_bourne(&program) {
                return Some(program);
            }
            if ["csh", "tcsh", "fish", "rc", "bsd-csh"].contains(&name) {
                return None;
            }
        }
        pid = parent_of(proc, pid)?;
    }
    None
}

/// The parent of process `pid`, from its `stat` (the field after the parenthesized
/// name, which may hold spaces and parentheses itself).
fn parent_of(proc: &Path, pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(proc.join(pid.to_string()).join("stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake proc file system: each process with its parent and program.
    fn fake_proc(processes: &[(u32, u32, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for &(pid, ppid, program) in processes {
            let d = dir.path().join(pid.to_string());
            std::fs::create_dir(&d).unwrap();
            std::fs::write(d.join("stat"), format!("{pid} (a (b) c) S {ppid} 1 1")).unwrap();
            std::os::unix::fs::symlink(program, d.join("exe")).unwrap();
        }
        dir
    }

    #[test]
    fn the_nearest_shell_above_is_the_jobs_shell() {
        let proc = fake_proc(&[
            (1, 0, "/sbin/init"),
            (10, 1, "/usr/bin/zsh"),
            (20, 10, "/usr/bin/bash"),
            (30, 20, "/usr/bin/cargo"),
            (40, 30, "/usr/bin/fanout"),
        ]);
        assert_eq!(
            parent_shell(proc.path(), 40),
            Some(PathBuf::from("/usr/bin/bash"))
        );
        assert_eq!(
            parent_shell(proc.path(), 20),
            Some(PathBuf::from("/usr/bin/zsh"))
        );
        assert_eq!(parent_shell(proc.path(), 10), None, "init is no shell");
        // Not a Bourne shell: none, and /bin/sh runs the jobs.
        let proc = fake_proc(&[(1, 0, "/sbin/init"), (5, 1, "/usr/bin/fish"), (6, 5, "/x")]);
        assert_eq!(parent_shell(proc.path(), 6), None);
        assert!(is_bourne(Path::new("/bin/dash")));
        assert!(is_bourne(Path::new("-bash")));
        assert!(!is_bourne(Path::new("/usr/bin/ssh")));
    }
}
