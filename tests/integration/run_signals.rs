//! Process supervision: timeouts and interrupts end whole process groups, nothing a task
//! started survives, and a second Ctrl-C kills at once.

use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::harness::{Project, StreamReader, process_alive, wait_for};

fn pids(p: &Project, rel: &str) -> Vec<i32> {
    p.read(rel)
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect()
}

#[test]
fn a_timeout_kills_the_task_and_its_background_grandchildren() {
    let p = Project::new();
    // The timeout leaves the task time, even on a busy machine, to write its three pids.
    // The TERM-ignoring process writes its own once it ignores TERM, so only the SIGKILL
    // after the grace period can end it.
    p.file(
        "plan.toml",
        r#"
[settings]
grace = "500ms"

[[task]]
id = "hangs"
timeout = "3s"
run = '''sleep 300 & echo $! >> pids; sh -c 'trap "" TERM; echo $$ >> pids; exec sleep 300' & echo $$ >> pids; wait'''
"#,
    );
    let out = p.fanout(&["run", "plan.toml", "--json"]);
    out.expect_code(1);
    assert_eq!(out.json()["tasks"][0]["status"], "timed_out");
    assert!(out.stderr.contains("TIMEOUT"), "{}", out.stderr);
    let pids = pids(&p, "pids");
    assert_eq!(pids.len(), 3);
    for pid in pids {
        assert!(
            wait_for(Duration::from_secs(2), || !process_alive(pid)),
            "process {pid} survived the timeout"
        );
    }
}

/// A run of two long tasks, `one` with a process that ignores SIGTERM, and a third task
/// that waits for `one`; returns once all four long-lived processes wrote their pids. The
/// TERM-ignoring process writes its own pid once it ignores TERM, so an interrupt sent
/// after that can only end it with SIGKILL.
fn start_long_run(p: &Project, grace: &str) -> std::process::Child {
    p.file(
        "plan.toml",
        &format!(
            r#"
[settings]
jobs = 2
grace = "{grace}"

[[task]]
id = "one"
run = '''sh -c 'trap "" TERM; echo $$ >> pids; exec sleep 300' & echo $$ >> pids; wait'''

[[task]]
id = "two"
run = "sleep 300 & echo $! >> pids; echo $$ >> pids; wait"

[[task]]
id = "never"
run = "touch never.ran"
after = ["one"]
"#
        ),
    );
    let child = p
        .command(&["run", "plan.toml", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        wait_for(Duration::from_secs(10), || std::fs::read_to_string(
            p.join("pids")
        )
        .map(|s| s.lines().count() == 4)
        .unwrap_or(false)),
        "the tasks did not start"
    );
    child
}

#[test]
fn ctrl_c_terminates_every_task_group_and_exits_130() {
    let p = Project::new();
    let child = start_long_run(&p, "1s");
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["interrupted"], true);
    assert_eq!(json["tasks"][2]["status"], "not_run");
    assert!(!p.join("never.ran").exists());
    for pid in pids(&p, "pids") {
        assert!(
            wait_for(Duration::from_secs(2), || !process_alive(pid)),
            "process {pid} survived the interrupt"
        );
    }
}

#[test]
fn a_second_ctrl_c_kills_at_once() {
    let p = Project::new();
    // A grace period far longer than the test would wait: only the second interrupt's
    // SIGKILL can end the TERM-ignoring task.
    let mut child = start_long_run(&p, "10m");
    let stderr = StreamReader::new(child.stderr.take().unwrap());
    let pid = Pid::from_raw(child.id() as i32);
    kill(pid, Signal::SIGINT).unwrap();
    // The second interrupt goes once fanout said it handled the first: two sent close
    // together may arrive as one.
    assert!(
        wait_for(Duration::from_secs(20), || stderr
            .text()
            .contains("interrupted: terminating running tasks")),
        "the first interrupt was not handled: {}",
        stderr.text()
    );
    kill(pid, Signal::SIGINT).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = stderr.finish();
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("killing running tasks now"), "{stderr}");
    for pid in pids(&p, "pids") {
        assert!(
            wait_for(Duration::from_secs(2), || !process_alive(pid)),
            "process {pid} survived the second interrupt"
        );
    }
}
