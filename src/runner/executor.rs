//! One executor unit per attempt: spawns the task's process in its own process group with
//! stdin from /dev/null and output to its log file, waits for it, and enforces its timeout
//! and the dispatcher's terminate/kill requests on the whole group. The unit does not talk
//! to the outside world; it answers the dispatcher with an [`AttemptEnd`].

use std::fs::File;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use super::command::ExecPlan;
use super::unix::{group_alive, signal_group};
use crate::events::AttemptStatus;

/// Everything a unit needs to run one attempt.
#[derive(Debug)]
pub(crate) struct AttemptSpec {
    pub(crate) index: usize,
    pub(crate) attempt: u32,
    pub(crate) exec: ExecPlan,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) cwd: PathBuf,
    pub(crate) log: PathBuf,
    pub(crate) timeout: Option<Duration>,
    pub(crate) grace: Duration,
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
}

/// Why the unit ended the process itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    Natural,
    TimedOut,
    Cancelled,
}

/// Runs one attempt to its end.
pub(crate) async fn run_attempt(
    spec: AttemptSpec,
    mut requests: mpsc::UnboundedReceiver<UnitRequest>,
) -> AttemptEnd {
    let started = Instant::now();
    let end = |status| AttemptEnd {
        index: spec.index,
        attempt: spec.attempt,
        status,
        duration: started.elapsed(),
    };
    let mut child = match spawn(&spec) {
        Ok(child) => child,
        Err(message) => return end(AttemptStatus::SpawnFailed { message }),
    };
    let Some(pgid) = child.id() else {
        return end(AttemptStatus::SpawnFailed {
            message: "the process ended before it could be supervised".into(),
        });
    };

    let timeout = async {
        match spec.timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    let (ending, status) = tokio::select! {
        status = child.wait() => (Ending::Natural, status),
        () = timeout => (Ending::TimedOut, terminate(&mut child, pgid, spec.grace, &mut requests).await),
        request = recv_request(&mut requests) => match request {
            UnitRequest::Terminate => (Ending::Cancelled, terminate(&mut child, pgid, spec.grace, &mut requests).await),
            UnitRequest::Kill => (Ending::Cancelled, kill(&mut child, pgid).await),
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
    end(status)
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

fn spawn(spec: &AttemptSpec) -> Result<Child, String> {
    let log = File::create(&spec.log)
        .map_err(|e| format!("failed to create log file {}: {e}", spec.log.display()))?;
    let log_err = log
        .try_clone()
        .map_err(|e| format!("failed to share log file {}: {e}", spec.log.display()))?;
    let mut command = Command::new(&spec.exec.program);
    command
        .args(&spec.exec.args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&spec.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log_err))
        .process_group(0);
    command.spawn().map_err(|e| {
        format!(
            "could not start `{}` in {}: {e}",
            spec.exec.program,
            spec.cwd.display()
        )
    })
}

/// SIGTERM to the group; SIGKILL once the grace period has passed (or at a kill request),
/// to whatever of the group is left, so that nothing the task started survives.
async fn terminate(
    child: &mut Child,
    pgid: u32,
    grace: Duration,
    requests: &mut mpsc::UnboundedReceiver<UnitRequest>,
) -> std::io::Result<ExitStatus> {
    signal_group(pgid, Signal::SIGTERM);
    let deadline = tokio::time::Instant::now() + grace;
    let status = tokio::select! {
        status = child.wait() => status,
        () = tokio::time::sleep_until(deadline) => return kill(child, pgid).await,
        () = recv_kill(requests) => return kill(child, pgid).await,
    };
    // The leader is gone; give the rest of the group what is left of the grace period.
    // There is no notification for the exit of a process that is not our child, so look.
    while group_alive(pgid) && tokio::time::Instant::now() < deadline {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(20)) => {}
            () = recv_kill(requests) => break,
        }
    }
    signal_group(pgid, Signal::SIGKILL);
    status
}

async fn kill(child: &mut Child, pgid: u32) -> std::io::Result<ExitStatus> {
    signal_group(pgid, Signal::SIGKILL);
    child.wait().await
}
