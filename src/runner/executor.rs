//! One executor unit per attempt: spawns the task's process in its own process group with
//! stdin from /dev/null (or fed a given text, for agents reading their prompt there) and stdout and stderr into one pipe (or, when asked, stderr into a
//! second pipe and file of its own), copies that pipe into the attempt's log file (created only when there is output, so silent tasks cost no file),
//! waits for the process, and enforces its timeout and the dispatcher's terminate/kill
//! requests on the whole group. The unit does not talk to the outside world; it answers
//! the dispatcher with an [`AttemptEnd`].

use std::fs::File;
use std::io::Write as _;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::signal::Signal;
use tokio::io::AsyncReadExt as _;
use tokio::net::unix::pipe;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use super::cache::Cache;
use super::command::ExecPlan;
use super::dispatcher::Termination;
use super::unix::{group_alive, signal_group};
use super::workspace::Workspace;
use crate::events::{AttemptStatus, HashingStats, WorkspaceOutcome};

/// What an attempt's process reads on stdin.
#[derive(Clone, Debug)]
pub(crate) enum StdinFrom {
    /// `/dev/null`.
    Null,
    /// This text, written to a pipe that is then closed.
    Text(String),
    /// This file, read from its start (each attempt opens it anew).
    File(PathBuf),
    /// These byte ranges of this file, one after another, written to a pipe that is then
    /// closed.
    Ranges(PathBuf, Vec<std::ops::Range<u64>>),
}

/// Everything a unit needs to run one attempt.
#[derive(Debug)]
pub(crate) struct AttemptSpec {
    pub(crate) index: usize,
    pub(crate) attempt: u32,
    pub(crate) exec: ExecPlan,
    /// The program's resolved path, when known (saves a search of PATH per spawn).
    pub(crate) program_path: Option<PathBuf>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) stdin: StdinFrom,
    pub(crate) cwd: PathBuf,
    pub(crate) log: PathBuf,
    /// Where stderr goes when it is kept apart from stdout; `None`: into `log` as well.
    pub(crate) stderr_log: Option<PathBuf>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) termination: Arc<Termination>,
    /// The cache to consult before running, with the dependencies' keys.
    pub(crate) cache: Option<CacheCheck>,
    /// Where to tell the dispatcher that the process exists (and its output lines).
    pub(crate) notices: mpsc::UnboundedSender<UnitNotice>,
    /// Send each complete line of output to the dispatcher as it is written.
    pub(crate) stream_lines: bool,
    /// Files written just before the process starts (`fanout map --template`).
    pub(crate) files: Vec<(PathBuf, String)>,
    /// The task runs in a workspace of its own: prepared before, finished after.
    pub(crate) workspace: Option<Arc<dyn Workspace>>,
    /// For agent tasks: whether the agent's output (and exit code) says it succeeded.
    /// A workspace's work is brought back only then.
    pub(crate) judge: Option<Judge>,
}

/// Reads an attempt's output and exit code; says whether it succeeded.
#[derive(Clone)]
pub(crate) struct Judge(pub(crate) Arc<JudgeFn>);

/// See [`Judge`].
pub(crate) type JudgeFn = dyn Fn(&str, Option<i32>) -> bool + Send + Sync;

impl std::fmt::Debug for Judge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Judge")
    }
}

/// A cache and the keys of the task's dependencies.
pub(crate) type CacheCheck = (Arc<dyn Cache>, Vec<Option<String>>);

/// What a unit tells the dispatcher while it runs.
#[derive(Debug)]
pub(crate) enum UnitNotice {
    Spawned {
        index: usize,
        attempt: u32,
        pid: u32,
        boot_ticks: Option<u64>,
    },
    /// The unit begins to terminate the process (a timeout, or the dispatcher asked).
    Terminating { index: usize },
    /// A line of output (with its `\n`; the last one of a stream may lack it).
    Line {
        index: usize,
        attempt: u32,
        stderr: bool,
        line: Vec<u8>,
    },
}

/// What the dispatcher may ask of a running unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UnitRequest {
    /// SIGTERM to the group, then SIGKILL after the grace period.
    Terminate,
    /// SIGKILL to the group now.
    Kill,
}

/// How the attempt ended.
#[derive(Debug)]
pub(crate) struct AttemptEnd {
    pub(crate) index: usize,
    pub(crate) attempt: u32,
    pub(crate) status: AttemptStatus,
    pub(crate) duration: Duration,
    /// The log file: the attempt's when it wrote output, the earlier one's when cached.
    pub(crate) log: Option<PathBuf>,
    /// The separate stderr log ([`AttemptSpec::stderr_log`]) unless the attempt surely
    /// wrote nothing there.
    pub(crate) stderr_log: Option<PathBuf>,
    pub(crate) cache_key: Option<String>,
    pub(crate) hashing: Option<HashingStats>,
    /// What became of the task's workspace, when it had one.
    pub(crate) workspace: Option<WorkspaceOutcome>,
}

/// How long to keep reading output after the process ended, for what its leftover
/// background processes still write, before reporting the attempt. The copy goes on after
/// that until the pipe closes or fanout exits.
const LEAK_TIMEOUT: Duration = Duration::from_millis(100);

/// Why the unit ended the process itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    Natural,
    TimedOut,
    Cancelled,
}

/// Runs one attempt to its end.
pub(crate) async fn run_attempt(
    mut spec: AttemptSpec,
    requests: mpsc::UnboundedReceiver<UnitRequest>,
) -> AttemptEnd {
    let Some(workspace) = spec.workspace.clone() else {
        return run_process(spec, requests).await;
    };
    let started = Instant::now();
    let index = spec.index;
    let ws = workspace.clone();
    let prepared = tokio::task::spawn_blocking(move || ws.prepare(index))
        .await
        .unwrap_or_else(|e| Err(format!("worktree: preparing failed: {e}")));
    match prepared {
        Ok(cwd) => {
            // An argument naming the planned directory (codex's `-C DIR`, a `{cwd}`
            // element) names the workspace instead.
            let planned = spec.cwd.as_os_str().to_string_lossy().into_owned();
            let workspace_dir = cwd.display().to_string();
            let workspace_dir = match workspace_dir.trim_end_matches('/') {
                "" => "/",
                dir => dir,
            };
            for arg in &mut spec.exec.args {
                if *arg == planned {
                    workspace_dir.clone_into(arg);
                }
            }
            spec.cwd = cwd;
        }
        Err(message) => {
            return AttemptEnd {
                index,
                attempt: spec.attempt,
                status: AttemptStatus::WorkspaceFailed { message },
                duration: started.elapsed(),
                log: None,
                stderr_log: None,
                cache_key: None,
                hashing: None,
                workspace: None,
            };
        }
    }
    let judge = spec.judge.clone();
    let mut end = run_process(spec, requests).await;
    let mut succeeded = end.status.is_success();
    if succeeded && let Some(judge) = judge {
        let output = end
            .log
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        succeeded = (judge.0)(&output, Some(0));
    }
    let outcome = tokio::task::spawn_blocking(move || workspace.finish(index, succeeded))
        .await
        .unwrap_or_else(|e| WorkspaceOutcome::Failed {
            message: format!("worktree: merging back failed: {e}"),
        });
    if succeeded {
        match &outcome {
            WorkspaceOutcome::Conflict { paths, .. } => {
                end.status = AttemptStatus::MergeConflict {
                    paths: paths.clone(),
                };
            }
            WorkspaceOutcome::Failed { message } => {
                end.status = AttemptStatus::WorkspaceFailed {
                    message: message.clone(),
                };
            }
            _ => {}
        }
    }
    end.duration = started.elapsed();
    end.workspace = Some(outcome);
    end
}

/// Runs the attempt's process (or finds it in the cache) in `spec.cwd`.
async fn run_process(
    spec: AttemptSpec,
    mut requests: mpsc::UnboundedReceiver<UnitRequest>,
) -> AttemptEnd {
    let started = Instant::now();
    let (cache_key, hashing, hit) = check_cache(&spec).await;
    let end = |status, log| AttemptEnd {
        index: spec.index,
        attempt: spec.attempt,
        status,
        duration: started.elapsed(),
        log,
        stderr_log: None,
        cache_key: cache_key.clone(),
        hashing: hashing.clone(),
        workspace: None,
    };
    if let Some(hit) = hit {
        return end(
            AttemptStatus::Cached {
                from_run: hit.run_id,
            },
            hit.log,
        );
    }
    // A file the process reads that cannot be written fails it as a program that cannot
    // start.
    for (path, contents) in &spec.files {
        if let Err(err) = std::fs::write(path, crate::bytes::encode(contents)) {
            let message = format!("could not write {}: {err}", path.display());
            return end(AttemptStatus::SpawnFailed { message }, None);
        }
    }
    let (mut child, output, errors) = match spawn(&spec) {
        Ok(spawned) => spawned,
        Err(message) => return end(AttemptStatus::SpawnFailed { message }, None),
    };
    let lines = |stderr| {
        spec.stream_lines.then(|| LineSender {
            notices: spec.notices.clone(),
            index: spec.index,
            attempt: spec.attempt,
            stderr,
            partial: Vec::new(),
        })
    };
    let mut copy = tokio::spawn(copy_output(output, spec.log.clone(), lines(false)));
    let error_copy = errors
        .zip(spec.stderr_log.clone())
        .map(|(errors, path)| tokio::spawn(copy_output(errors, path, lines(true))));
    let Some(pgid) = child.id() else {
        return end(
            AttemptStatus::SpawnFailed {
                message: "the process ended before it could be supervised".into(),
            },
            None,
        );
    };
    let _ = spec.notices.send(UnitNotice::Spawned {
        index: spec.index,
        attempt: spec.attempt,
        pid: pgid,
        boot_ticks: super::unix::boot_clock_ticks(),
    });

    let timeout = async {
        match spec.timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    // A process that has ended by itself ended naturally, whatever else is ready at the
    // same moment: its work is done, and is reported (and logged) as done.
    let terminating = || {
        let _ = spec
            .notices
            .send(UnitNotice::Terminating { index: spec.index });
    };
    let (ending, status) = tokio::select! {
        biased;
        status = child.wait() => (Ending::Natural, status),
        () = timeout => {
            terminating();
            (Ending::TimedOut, terminate(&mut child, pgid, &spec.termination, &mut requests).await)
        }
        request = recv_request(&mut requests) => match (child.try_wait(), request) {
            (Ok(Some(status)), _) => (Ending::Natural, Ok(status)),
            (_, UnitRequest::Terminate) => {
                terminating();
                (Ending::Cancelled, terminate(&mut child, pgid, &spec.termination, &mut requests).await)
            }
            (_, UnitRequest::Kill) => {
                terminating();
                (Ending::Cancelled, kill(&mut child, pgid).await)
            }
        },
    };
    let status = match (ending, status) {
        (_, Err(err)) => AttemptStatus::SpawnFailed {
            message: format!("failed to wait for the process: {err}"),
        },
        (Ending::TimedOut, Ok(_)) => AttemptStatus::TimedOut {
            after: spec.timeout.unwrap_or_default(),
        },
        (Ending::Cancelled, Ok(_)) => AttemptStatus::Cancelled,
        (Ending::Natural, Ok(status)) => natural_status(status),
    };
    let has_log = match tokio::time::timeout(LEAK_TIMEOUT, &mut copy).await {
        Ok(Ok(wrote)) => wrote,
        // Still copying what leftover processes write, or the copy failed: look.
        Ok(Err(_)) | Err(_) => spec.log.exists(),
    };
    // Whether anything went to the stderr log; when the copy goes on (leftover processes)
    // or failed, maybe.
    let has_stderr_log = match error_copy {
        Some(error_copy) => !matches!(
            tokio::time::timeout(LEAK_TIMEOUT, error_copy).await,
            Ok(Ok(false))
        ),
        None => false,
    };
    let mut end = end(status, has_log.then(|| spec.log.clone()));
    end.stderr_log = spec.stderr_log.filter(|_| has_stderr_log);
    end
}

/// Computes the task's cache key off the runtime thread (it reads files) and looks it up.
async fn check_cache(
    spec: &AttemptSpec,
) -> (
    Option<String>,
    Option<HashingStats>,
    Option<super::cache::CacheHit>,
) {
    let Some((cache, dep_keys)) = &spec.cache else {
        return (None, None, None);
    };
    let (cache, dep_keys, index) = (cache.clone(), dep_keys.clone(), spec.index);
    let looked = tokio::task::spawn_blocking(move || {
        let mut key = cache.key(index, &dep_keys)?;
        let hit = cache.lookup(index, &key.key);
        if hit.is_none() {
            key.stats.changed = cache.changes(index, &key.key);
        }
        Some((key, hit))
    })
    .await;
    match looked {
        Ok(Some((key, hit))) => (Some(key.key), Some(key.stats), hit),
        _ => (None, None, None),
    }
}

/// Cuts a stream of output into lines for the dispatcher.
struct LineSender {
    notices: mpsc::UnboundedSender<UnitNotice>,
    index: usize,
    attempt: u32,
    stderr: bool,
    /// The start of a line whose end has not come yet.
    partial: Vec<u8>,
}

impl LineSender {
    fn send(&self, line: Vec<u8>) {
        let _ = self.notices.send(UnitNotice::Line {
            index: self.index,
            attempt: self.attempt,
            stderr: self.stderr,
            line,
        });
    }

    fn push(&mut self, mut bytes: &[u8]) {
        while let Some(end) = bytes.iter().position(|b| *b == b'\n') {
            let mut line = std::mem::take(&mut self.partial);
            line.extend_from_slice(&bytes[..=end]);
            self.send(line);
            bytes = &bytes[end + 1..];
        }
        self.partial.extend_from_slice(bytes);
    }

    fn finish(mut self) {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.send(line);
        }
    }
}

/// Copies the attempt's output into its log file, creating the file at the first byte,
/// and to `lines` when given. Returns whether the file was written. Keeps draining (and
/// dropping) output the file cannot take, so the task never blocks on a full pipe or dies
/// of SIGPIPE.
async fn copy_output(
    mut output: pipe::Receiver,
    log: PathBuf,
    mut lines: Option<LineSender>,
) -> bool {
    // Not zeroed: `read_buf` writes only into what it then counts as read.
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut file: Option<Option<File>> = None;
    loop {
        buf.clear();
        let n = match output.read_buf(&mut buf).await {
            Ok(0) | Err(_) => {
                if let Some(lines) = lines {
                    lines.finish();
                }
                return matches!(file, Some(Some(_)));
            }
            Ok(n) => n,
        };
        if let Some(lines) = &mut lines {
            lines.push(&buf[..n]);
        }
        let target = file.get_or_insert_with(|| File::create(&log).ok());
        if let Some(f) = target
            && f.write_all(&buf[..n]).is_err()
        {
            *target = None;
        }
    }
}

/// A pipe whose read end is non-blocking (for the runtime) and whose write end stays
/// blocking (for the task).
fn output_pipe() -> std::io::Result<(pipe::Receiver, OwnedFd)> {
    let (reader, writer) = std::io::pipe()?;
    let reader = OwnedFd::from(reader);
    fcntl(reader.as_fd(), FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).map_err(std::io::Error::from)?;
    Ok((
        pipe::Receiver::from_owned_fd_unchecked(reader)?,
        OwnedFd::from(writer),
    ))
}

/// A new descriptor of /dev/null for a task's stdin: a copy of one opened once, which
/// spares each spawn a path lookup.
fn dev_null() -> std::io::Result<OwnedFd> {
    static DEV_NULL: std::sync::OnceLock<std::io::Result<File>> = std::sync::OnceLock::new();
    match DEV_NULL.get_or_init(|| File::open("/dev/null")) {
        Ok(file) => Ok(OwnedFd::from(file.try_clone()?)),
        Err(err) => Err(std::io::Error::new(err.kind(), err.to_string())),
    }
}

/// A request, or never when the dispatcher dropped its sender.
async fn recv_request(requests: &mut mpsc::UnboundedReceiver<UnitRequest>) -> UnitRequest {
    match requests.recv().await {
        Some(request) => request,
        None => std::future::pending().await,
    }
}

/// Waits for a kill request; a repeated terminate request changes nothing.
async fn recv_kill(requests: &mut mpsc::UnboundedReceiver<UnitRequest>) {
    while recv_request(requests).await != UnitRequest::Kill {}
}

fn natural_status(status: ExitStatus) -> AttemptStatus {
    match (status.code(), status.signal()) {
        (Some(0), _) => AttemptStatus::Success,
        (Some(code), _) => AttemptStatus::Failed { exit_code: code },
        (None, Some(signal)) => AttemptStatus::Signaled { signal },
        (None, None) => AttemptStatus::Failed { exit_code: -1 },
    }
}

/// The child, its stdout (and stderr unless kept apart) pipe, and its stderr pipe when
/// [`AttemptSpec::stderr_log`] keeps it apart.
type Spawned = (Child, pipe::Receiver, Option<pipe::Receiver>);

fn spawn(spec: &AttemptSpec) -> Result<Spawned, String> {
    let (output, out_writer) =
        output_pipe().map_err(|e| format!("failed to create an output pipe: {e}"))?;
    let (errors, err_writer) = if spec.stderr_log.is_some() {
        let (errors, writer) =
            output_pipe().map_err(|e| format!("failed to create an error pipe: {e}"))?;
        (Some(errors), writer)
    } else {
        let writer = out_writer
            .try_clone()
            .map_err(|e| format!("failed to share the output pipe: {e}"))?;
        (None, writer)
    };
    // A file whose ranges the task reads is opened first (a failure starts nothing), and
    // a pipe made for them.
    let ranges_pipe = match &spec.stdin {
        StdinFrom::Ranges(path, _) => {
            let file = std::fs::File::open(path).map_err(|e| {
                format!(
                    "could not open {} for the task's stdin: {e}",
                    path.display()
                )
            })?;
            let (reader, writer) =
                std::io::pipe().map_err(|e| format!("failed to create a stdin pipe: {e}"))?;
            Some((reader, (writer, file)))
        }
        _ => None,
    };
    let mut command = match &spec.program_path {
        Some(path) => {
            let mut command = Command::new(path);
            command.arg0(crate::bytes::os_str(&spec.exec.program));
            command
        }
        None => Command::new(crate::bytes::os_str(&spec.exec.program)),
    };
    command
        .args(spec.exec.args.iter().map(|a| crate::bytes::os_str(a)))
        .envs(spec.env.iter().map(|(k, v)| (k, crate::bytes::os_str(v))))
        .current_dir(&spec.cwd)
        .stdin(match &spec.stdin {
            StdinFrom::Null => Stdio::from(
                dev_null()
                    .map_err(|e| format!("failed to open /dev/null for the task's stdin: {e}"))?,
            ),
            StdinFrom::Text(_) => Stdio::piped(),
            StdinFrom::Ranges(..) => match &ranges_pipe {
                Some((reader, _)) => Stdio::from(
                    reader
                        .try_clone()
                        .map_err(|e| format!("failed to share the stdin pipe: {e}"))?,
                ),
                None => Stdio::null(),
            },
            StdinFrom::File(path) => Stdio::from(std::fs::File::open(path).map_err(|e| {
                format!(
                    "could not open {} for the task's stdin: {e}",
                    path.display()
                )
            })?),
        })
        .stdout(Stdio::from(out_writer))
        .stderr(Stdio::from(err_writer))
        .process_group(0);

    let mut child = command.spawn().map_err(|e| {
        format!(
            "could not start `{}` in {}: {e}",
            spec.exec.program,
            spec.cwd.display()
        )
    })?;
    if let (StdinFrom::Ranges(_, ranges), Some((reader, (writer, file)))) =
        (&spec.stdin, ranges_pipe)
    {
        // Only the task holds the read end now.
        drop(reader);
        let ranges = ranges.clone();
        // On a thread of its own, beside the wait, so a process that stops reading blocks
        // nothing; the kernel moves the bytes from file to pipe where it can.
        std::thread::spawn(move || copy_ranges(&file, &ranges, writer));
    }
    if let (StdinFrom::Text(text), Some(mut stdin)) = (&spec.stdin, child.stdin.take()) {
        let text = text.clone();
        // Written beside the wait, so a process that reads slowly (or never) blocks
        // nothing; a process that exits early just closes the pipe.
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt as _;
            let _ = stdin.write_all(text.as_bytes()).await;
        });
    }
    // `command` holds the pipe's write ends: drop it so the pipe closes when the task's
    // processes are done with it.
    drop(command);
    Ok((child, output, errors))
}

/// Writes `ranges` of `file` to `to`, one after another, then closes it.
fn copy_ranges(
    mut file: &std::fs::File,
    ranges: &[std::ops::Range<u64>],
    mut to: std::io::PipeWriter,
) -> std::io::Result<()> {
    use std::io::{Read as _, Seek as _};
    for range in ranges {
        file.seek(std::io::SeekFrom::Start(range.start))?;
        let mut part = file.take(range.end.saturating_sub(range.start));
        std::io::copy(&mut part, &mut to)?;
    }
    Ok(())
}

/// Finds `program` on `path_var` the way execvp would, or `None` to leave the search to
/// exec (a name with a slash, a relative PATH entry met first, nothing found).
pub(crate) fn resolve_program(
    program: &str,
    path_var: Option<&std::ffi::OsStr>,
) -> Option<PathBuf> {
    if program.is_empty() || program.contains('/') {
        return None;
    }
    for dir in std::env::split_paths(path_var?) {
        if dir.is_relative() {
            return None;
        }
        let candidate = dir.join(program);
        if is_executable(&candidate) {
            return Some(candidate);
        }
    }
    None
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Each signal of `termination` in turn to the group, each followed by a wait for the
/// group to end; then SIGKILL (at once at a kill request) to whatever of the group is
/// left, so that nothing the task started survives.
async fn terminate(
    child: &mut Child,
    pgid: u32,
    termination: &Termination,
    requests: &mut mpsc::UnboundedReceiver<UnitRequest>,
) -> std::io::Result<ExitStatus> {
    let mut status = None;
    'steps: for &(signal, wait) in &termination.steps {
        signal_group(pgid, signal);
        // A stopped process (`--memsuspend`) acts on its signal only once continued, as
        // systemd does it.
        if !matches!(
            signal,
            Signal::SIGSTOP | Signal::SIGTSTP | Signal::SIGTTIN | Signal::SIGTTOU | Signal::SIGCONT
        ) {
            signal_group(pgid, Signal::SIGCONT);
        }
        let deadline = tokio::time::Instant::now() + wait;
        if status.is_none() {
            tokio::select! {
                ended = child.wait() => status = Some(ended),
                () = tokio::time::sleep_until(deadline) => continue 'steps,
                () = recv_kill(requests) => return kill(child, pgid).await,
            }
        }
        // The leader is gone; give the rest of the group what is left of this wait.
        // There is no notification for the exit of a process that is not our child, so
        // look (off the runtime's thread: looking may read /proc).
        loop {
            let alive = tokio::task::spawn_blocking(move || group_alive(pgid))
                .await
                .unwrap_or(false);
            if !alive {
                break 'steps;
            }
            if tokio::time::Instant::now() >= deadline {
                continue 'steps;
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(20)) => {}
                () = recv_kill(requests) => break 'steps,
            }
        }
    }
    signal_group(pgid, Signal::SIGKILL);
    match status {
        Some(status) => status,
        None => child.wait().await,
    }
}

async fn kill(child: &mut Child, pgid: u32) -> std::io::Result<ExitStatus> {
    signal_group(pgid, Signal::SIGKILL);
    child.wait().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_resolve_like_execvp() {
        let path = std::ffi::OsStr::new("/nonexistent:/bin:/usr/bin");
        let sh = resolve_program("sh", Some(path)).unwrap();
        assert!(sh.ends_with("sh") && sh.is_absolute());
        assert_eq!(resolve_program("./local", Some(path)), None);
        assert_eq!(resolve_program("no-such-program-x", Some(path)), None);
        assert_eq!(
            resolve_program("sh", Some(std::ffi::OsStr::new(".:/bin"))),
            None
        );
    }
}
