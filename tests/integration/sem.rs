//! `fanout sem`: a counting semaphore shared by processes, as GNU parallel's `sem`. Each
//! test keeps its semaphores in its own directory.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::harness::{Project, RunOutput, interval, max_overlap, wait_for};

/// `fanout` with `args`, its semaphores under the project.
fn sem_command(project: &Project, args: &[&str]) -> Command {
    let mut command = project.command(args);
    command.env("FANOUT_SEMAPHORE_DIR", project.join("semaphores"));
    command
}

fn sem(project: &Project, args: &[&str]) -> RunOutput {
    let out = sem_command(project, args).output().expect("fanout starts");
    RunOutput {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Starts a command in the background through the semaphore; its exit code. Its output
/// goes nowhere, so that nothing waits for the process it hands the command to.
fn sem_in_background(project: &Project, args: &[&str]) -> i32 {
    sem_command(project, args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("fanout starts")
        .code()
        .unwrap_or(-1)
}

#[test]
fn a_command_in_the_foreground_exits_with_its_own_status() {
    let project = Project::new();
    sem(&project, &["sem", "--fg", "exit 3"]).expect_code(3);
    sem(&project, &["sem", "--fg", "kill -9 $$"]).expect_code(137);
    let out = sem(&project, &["sem", "--fg", "-v", "echo", "a", "b"]);
    out.expect_code(0);
    // The command, with GNU parallel's empty input after it, then its output.
    assert_eq!(out.stdout, "echo a b \na b\n");
}

#[test]
fn background_commands_run_at_most_n_at_once_and_wait_waits_for_them() {
    let project = Project::new();
    std::fs::create_dir_all(project.join("t")).unwrap();
    for i in 1..=4 {
        // Each waits (3 s at most) until another is running too, so that two run together
        // however slowly each starts; more than two would be seen.
        let job = format!(
            "date +%s%N > t/{i}.start; touch t/{i}.up; n=0; \
             while [ $n -lt 60 ] && [ $(ls t | grep -c up) -lt 2 ]; do sleep 0.05; n=$((n+1)); done; \
             sleep 0.2; date +%s%N > t/{i}.end"
        );
        let code = sem_in_background(&project, &["sem", "-j2", "--id", "t", &job]);
        assert_eq!(code, 0, "sem returns once the command has a slot");
    }
    sem(&project, &["sem", "--id", "t", "--wait"]).expect_code(0);
    // Every command has ended once the wait is over.
    let spans: Vec<_> = (1..=4)
        .map(|i| interval(&project, &i.to_string()))
        .collect();
    assert_eq!(max_overlap(&spans), 2, "two at once, never more: {spans:?}");
}

#[test]
fn a_slot_held_elsewhere_is_waited_for_taken_anyway_or_given_up_on() {
    let project = Project::new();
    // The background command holds the one slot until the file `go` exists (20 s at most,
    // should the test fail first).
    let hold = "i=0; while [ ! -e go ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; \
                touch held-done";
    assert_eq!(sem_in_background(&project, &["sem", "--id", "x", hold]), 0);
    let out = sem(
        &project,
        &["sem", "--fg", "--id", "x", "--st", "-0.3", "touch", "no"],
    );
    out.expect_code(1);
    assert!(out.stderr.contains("giving up"), "{}", out.stderr);
    assert!(!project.join("no").exists());
    let out = sem(
        &project,
        &["sem", "--fg", "--id", "x", "--st", "0.3", "touch", "yes"],
    );
    out.expect_code(0);
    assert!(out.stderr.contains("running anyway"), "{}", out.stderr);
    assert!(project.join("yes").exists());
    // Another name is another semaphore.
    sem(
        &project,
        &["sem", "--fg", "--id", "y", "--st", "-0.3", "true"],
    )
    .expect_code(0);
    std::fs::write(project.join("go"), "").unwrap();
    sem(&project, &["sem", "--id", "x", "--wait"]).expect_code(0);
    assert!(project.join("held-done").exists());
    sem(
        &project,
        &["sem", "--fg", "--id", "x", "--st", "-0.3", "true"],
    )
    .expect_code(0);
}

#[test]
fn a_holder_killed_gives_its_slot_back() {
    let project = Project::new();
    let job = "echo $$ > pid; touch up; exec sleep 30";
    let mut holder = sem_command(&project, &["sem", "--fg", "--id", "k", job])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("fanout starts");
    assert!(wait_for(Duration::from_secs(20), || project
        .join("up")
        .exists()));
    sem(
        &project,
        &["sem", "--fg", "--id", "k", "--st", "-0.2", "true"],
    )
    .expect_code(1);
    holder.kill().unwrap();
    holder.wait().unwrap();
    // The job lives on (fanout was given no chance to end it), and holds no slot.
    sem(
        &project,
        &["sem", "--fg", "--id", "k", "--st", "-5", "true"],
    )
    .expect_code(0);
    let job: i32 = project.read("pid").trim().parse().unwrap();
    let _ = Command::new("kill").arg(job.to_string()).status();
}

#[test]
fn a_semaphore_without_a_command_is_an_error() {
    let project = Project::new();
    let out = sem(&project, &["sem", "-j2"]);
    out.expect_code(255);
    assert!(out.stderr.contains("none was given"), "{}", out.stderr);
    let out = sem(&project, &["sem", "--st", "soon", "true"]);
    out.expect_code(255);
    assert!(out.stderr.contains("--semaphore-timeout"), "{}", out.stderr);
    // Said here, not by the process the command would have been handed to.
    let out = sem(&project, &["sem", "--timeout", "soon", "true"]);
    out.expect_code(255);
    assert!(out.stderr.contains("soon"), "{}", out.stderr);
}

#[test]
fn links_named_sem_and_parallel_are_fanout_sem_and_fanout_map() {
    let project = Project::new();
    for name in ["sem", "parallel"] {
        std::os::unix::fs::symlink(crate::harness::fanout_bin(), project.join(name)).unwrap();
    }
    let run = |program: &str, args: &[&str]| {
        let out = Command::new(project.join(program))
            .args(args)
            .current_dir(project.path())
            .env("FANOUT_SEMAPHORE_DIR", project.join("semaphores"))
            .stdin(Stdio::null())
            .output()
            .expect("the link runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    // A command word that names a subcommand stays a command word.
    assert_eq!(
        run("sem", &["--fg", "echo", "map"]),
        (Some(0), "map\n".into())
    );
    assert_eq!(
        run("parallel", &["-k", "echo", ":::", "a", "b"]),
        (Some(0), "a\nb\n".into())
    );
    // The background command is handed on as `fanout sem`, holding its slot.
    let (code, _) = run("sem", &["--id", "l", "sleep 0.3; touch done", "sem"]);
    assert_eq!(code, Some(0));
    assert_eq!(run("sem", &["--id", "l", "--wait"]).0, Some(0));
    assert!(project.join("done").exists());
}
