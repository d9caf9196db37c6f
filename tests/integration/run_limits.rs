//! Limits a run respects, proven from timestamps the tasks write themselves (and, for the
//! spacing of starts, from the start times fanout records): jobs, counted resources,
//! overlapping writes, priorities, rates.

use std::time::Duration;

use crate::harness::{
    Project, StreamReader, interval, json_start, max_overlap, meet, timed, wait_for,
};

fn plan_of(header: &str, tasks: impl IntoIterator<Item = (String, String)>) -> String {
    plan_running(
        header,
        tasks
            .into_iter()
            .map(|(id, extra)| (id, extra, String::new())),
    )
}

/// Like [`plan_of`], with each task running its own `body` after its sleep (e.g. a
/// [`meet`]).
fn plan_running(header: &str, tasks: impl IntoIterator<Item = (String, String, String)>) -> String {
    let mut s = header.to_owned();
    for (id, extra, body) in tasks {
        let body = if body.is_empty() {
            "sleep 0.25".to_owned()
        } else {
            format!("sleep 0.25 && {body}")
        };
        s.push_str(&format!(
            "\n[[task]]\nid = \"{id}\"\nrun = '''{}'''\n{extra}\n",
            timed(&body)
        ));
    }
    s
}

#[test]
fn never_more_tasks_at_once_than_jobs() {
    let p = Project::new();
    let ids: Vec<String> = (0..6).map(|i| format!("t{i}")).collect();
    // A task ends only once two of them have started (or after 20 s): the first two,
    // started together, wait for each other and so are seen to overlap however slowly
    // either starts.
    let names: Vec<&str> = ids.iter().map(String::as_str).collect();
    let wait = meet(&names, 2);
    p.file(
        "plan.toml",
        &plan_running(
            "",
            ids.iter().map(|i| (i.clone(), String::new(), wait.clone())),
        ),
    );
    p.fanout(&["run", "plan.toml", "-j", "2"]).expect_code(0);
    let spans: Vec<_> = ids.iter().map(|i| interval(&p, i)).collect();
    assert_eq!(max_overlap(&spans), 2, "{spans:?}");
}

#[test]
fn a_resource_is_never_used_beyond_its_capacity() {
    let p = Project::new();
    let ids: Vec<String> = (0..5).map(|i| format!("db{i}")).collect();
    let header = "[settings]\njobs = 8\n\n[resources]\ndb = 2\ngpu = 1\n";
    // A `db` task ends only once two of them have started (or after 20 s), so two that
    // hold the resource together are seen to overlap however slowly either starts.
    let names: Vec<&str> = ids.iter().map(String::as_str).collect();
    let wait = meet(&names, 2);
    let mut tasks: Vec<(String, String, String)> = ids
        .iter()
        .map(|i| (i.clone(), "uses = { db = 1 }".to_owned(), wait.clone()))
        .collect();
    tasks.push(("g1".into(), "uses = { gpu = 1 }".into(), String::new()));
    tasks.push(("g2".into(), "uses = { gpu = 1 }".into(), String::new()));
    p.file("plan.toml", &plan_running(header, tasks));
    p.fanout(&["run", "plan.toml"]).expect_code(0);
    let db: Vec<_> = ids.iter().map(|i| interval(&p, i)).collect();
    assert_eq!(max_overlap(&db), 2, "{db:?}");
    let gpu = [interval(&p, "g1"), interval(&p, "g2")];
    assert_eq!(max_overlap(&gpu), 1, "{gpu:?}");
}

#[test]
fn tasks_whose_writes_overlap_never_run_at_the_same_time() {
    let p = Project::new();
    // `elsewhere` may run beside either of the others, and each waits to have run beside
    // it: never for the other `out` task, which it may not run with.
    let tasks = vec![
        (
            "all-out".to_owned(),
            "writes = [\"out/**\"]".to_owned(),
            meet(&["all-out", "elsewhere"], 2),
        ),
        (
            "one-file".to_owned(),
            "writes = [\"out/report.txt\"]".to_owned(),
            meet(&["one-file", "elsewhere"], 2),
        ),
        (
            "elsewhere".to_owned(),
            "writes = [\"docs/**\"]".to_owned(),
            meet(&["elsewhere", "all-out", "one-file"], 2),
        ),
    ];
    p.file("plan.toml", &plan_running("[settings]\njobs = 3\n", tasks));
    p.fanout(&["run", "plan.toml"]).expect_code(0);
    let a = interval(&p, "all-out");
    let b = interval(&p, "one-file");
    let c = interval(&p, "elsewhere");
    assert_eq!(max_overlap(&[a, b]), 1, "overlapping writes ran together");
    assert_eq!(
        max_overlap(&[a, b, c]),
        2,
        "the unrelated task did not run alongside"
    );
}

#[test]
fn ready_tasks_start_by_priority_then_longest_remaining_path() {
    let p = Project::new();
    let tasks = vec![
        ("plain".to_owned(), String::new()),
        ("chain-head".to_owned(), String::new()),
        (
            "chain-tail".to_owned(),
            "after = [\"chain-head\"]".to_owned(),
        ),
        ("urgent".to_owned(), "priority = 5".to_owned()),
    ];
    p.file("plan.toml", &plan_of("[settings]\njobs = 1\n", tasks));
    p.fanout(&["run", "plan.toml"]).expect_code(0);
    let mut starts: Vec<(u128, &str)> = ["plain", "chain-head", "chain-tail", "urgent"]
        .iter()
        .map(|id| (interval(&p, id).0, *id))
        .collect();
    starts.sort();
    let order: Vec<&str> = starts.iter().map(|(_, id)| *id).collect();
    assert_eq!(order, ["urgent", "chain-head", "plain", "chain-tail"]);
}

#[test]
fn max_overlap_counts_what_it_should() {
    assert_eq!(max_overlap(&[(0, 10), (5, 15), (10, 20)]), 2);
    assert_eq!(max_overlap(&[(0, 1), (1, 2)]), 1);
}

fn memory_used_percent() -> f64 {
    let info = std::fs::read_to_string("/proc/meminfo").unwrap();
    let field = |name: &str| -> f64 {
        info.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    100.0 * (field("MemTotal:") - field("MemAvailable:")) / field("MemTotal:")
}

#[test]
fn no_task_starts_while_the_machine_is_above_max_memory() {
    let used = memory_used_percent();
    assert!(
        used >= 2.0,
        "memory use of {used}% is too low to test below it"
    );
    // The lowest limit there is, well under what the machine uses, however that moves
    // while the test runs.
    let p = Project::new();
    p.file(
        "plan.toml",
        "[settings]\nmax_memory = 1\n\n[[task]]\nid = \"held\"\nrun = \"touch ran\"\n",
    );
    let mut child = p
        .command(&["run", "plan.toml", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = StreamReader::new(child.stderr.take().unwrap());
    // Interrupted once fanout said it holds the task back (not after a guess at how long
    // that takes), and a second later: two rechecks of the machine that must hold it back
    // too.
    assert!(
        wait_for(Duration::from_secs(20), || stderr
            .text()
            .contains("waiting for resources")),
        "fanout did not say it waits for resources: {}",
        stderr.text()
    );
    std::thread::sleep(Duration::from_secs(1));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = stderr.finish();
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("waiting for resources: memory at"),
        "{stderr}"
    );
    assert!(!p.join("ran").exists(), "the task started above max_memory");
    // Never started at all, which fanout's result tells even of a task killed before it
    // could do anything.
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["tasks"][0]["status"], "not_run", "{json}");

    // A limit the machine is under lets the task run.
    p.file(
        "plan.toml",
        "[settings]\nmax_memory = 100\nmax_cpu = 100\n\n[[task]]\nid = \"free\"\nrun = \"touch ran\"\n",
    );
    p.fanout(&["run", "plan.toml"]).expect_code(0);
    assert!(p.join("ran").exists());
}

#[test]
fn no_task_starts_while_too_many_processes_are_runnable_and_one_starts_once_fewer_are() {
    // Six processes that never stop running keep at least six runnable, whatever the
    // machine's cores.
    let spinners: Vec<std::process::Child> = (0..6)
        .map(|_| {
            std::process::Command::new("sh")
                .args(["-c", "while :; do :; done"])
                .spawn()
                .unwrap()
        })
        .collect();
    let stop = |mut spinners: Vec<std::process::Child>| {
        for child in &mut spinners {
            let _ = child.kill();
            let _ = child.wait();
        }
    };
    let p = Project::new();
    p.file(
        "plan.toml",
        "[settings]\nmax_load = 30\n\n[[task]]\nid = \"held\"\nrun = \"touch ran\"\n",
    );
    // The command line's limit wins over the plan's.
    let mut child = p
        .command(&["run", "plan.toml", "-l", "5", "--no-progress"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = StreamReader::new(child.stderr.take().unwrap());
    let said = wait_for(Duration::from_secs(20), || {
        stderr.text().contains("waiting for resources")
    });
    // Two more looks at the machine, which must hold the task back too.
    std::thread::sleep(Duration::from_secs(1));
    let ran_while_busy = p.join("ran").exists();
    stop(spinners);
    let status = child.wait().unwrap();
    let stderr = stderr.finish();
    assert!(said, "fanout did not say it waits: {stderr}");
    assert!(stderr.contains("processes runnable"), "{stderr}");
    assert!(
        !ran_while_busy,
        "the task started with 6 processes runnable and -l 5"
    );
    // Once the spinners are gone, the task starts and the run ends.
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(p.join("ran").exists());

    // `-l 0` would never start anything.
    let out = p.fanout(&["run", "plan.toml", "-l", "0"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("`--load 0` would never start anything"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_percentage_above_100_is_a_plan_error() {
    let p = Project::new();
    p.file(
        "plan.toml",
        "[settings]\nmax_cpu = 120\n\n[[task]]\nid = \"t\"\nrun = \"true\"\n",
    );
    let out = p.fanout(&["run", "plan.toml"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("`max_cpu` is a percentage"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("plan.toml:2:11"), "{}", out.stderr);
}

#[test]
fn max_fail_stops_starting_tasks_once_that_many_failed() {
    let p = Project::new();
    // One at a time, in plan order: the second failure is the limit; what runs then
    // finishes, nothing new starts. `d` would succeed, were it started.
    let plan = "[settings]\njobs = 1\nsystemic_failure_stop = false\n\
                [[task]]\nid = \"a\"\nrun = \"exit 1\"\n\
                [[task]]\nid = \"b\"\nrun = \"touch b-ran; exit 1\"\n\
                [[task]]\nid = \"c\"\nrun = \"touch c-ran; exit 1\"\n\
                [[task]]\nid = \"d\"\nrun = \"touch d-ran\"\n";
    p.file("plan.toml", plan);
    let statuses = |out: &crate::harness::RunOutput| -> Vec<(String, String)> {
        out.json()["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["id"].as_str().unwrap().to_owned(),
                    t["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let out = p.fanout(&["run", "plan.toml", "--json", "--max-fail", "2"]);
    out.expect_code(1);
    let expected = [
        ("a", "failed"),
        ("b", "failed"),
        ("c", "not_run"),
        ("d", "not_run"),
    ]
    .map(|(a, b)| (a.to_owned(), b.to_owned()));
    assert_eq!(statuses(&out), expected);
    assert_eq!(out.json()["stop"]["kind"], "halt");
    assert!(p.join("b-ran").exists() && !p.join("c-ran").exists());
    assert!(
        out.stderr
            .contains("failure limit (max_fail) was reached when `b` failed"),
        "{}",
        out.stderr
    );

    // The same limit as a setting; without one, keep-going runs everything.
    p.file(
        "limited.toml",
        &plan.replace("jobs = 1\n", "jobs = 1\nmax_fail = 2\n"),
    );
    let out = p.fanout(&["run", "limited.toml", "--json"]);
    out.expect_code(1);
    assert_eq!(statuses(&out), expected);
    let out = p.fanout(&["run", "plan.toml", "--json"]);
    out.expect_code(1);
    assert_eq!(statuses(&out)[3], ("d".to_owned(), "succeeded".to_owned()));
}

#[test]
fn a_max_fail_of_zero_is_refused() {
    let p = Project::new();
    p.file(
        "plan.toml",
        "[settings]\nmax_fail = 0\n\n[[task]]\nid = \"t\"\nrun = \"touch ran\"\n",
    );
    let out = p.fanout(&["run", "plan.toml"]);
    out.expect_code(2);
    assert!(out.stderr.contains("plan.toml:2:12"), "{}", out.stderr);
    assert!(out.stderr.contains("max_fail"), "{}", out.stderr);
    p.file("ok.toml", "[[task]]\nid = \"t\"\nrun = \"touch ran\"\n");
    let out = p.fanout(&["run", "ok.toml", "--max-fail", "0"]);
    out.expect_code(2);
    assert!(out.stderr.contains("`--max-fail 0`"), "{}", out.stderr);
    assert!(!p.join("ran").exists(), "nothing ran");
}

#[test]
fn a_limits_rate_spaces_the_starts_of_the_tasks_that_use_it() {
    let p = Project::new();
    let mut plan = "[settings]\njobs = 6\n\n[limits.api]\nrate = \"5/s\"\n".to_owned();
    for i in 1..=5 {
        plan.push_str(&format!(
            "\n[[task]]\nid = \"t{i}\"\nrun = \"true\"\nuses = {{ api = 1 }}\n"
        ));
    }
    plan.push_str("\n[[task]]\nid = \"free\"\nrun = \"true\"\n");
    p.file("plan.toml", &plan);
    let out = p.fanout(&["run", "plan.toml", "--json"]);
    out.expect_code(0);
    // fanout's own start times, taken as it lets each task start: how slowly the tasks'
    // processes come up on a loaded machine does not move them.
    let json = out.json();
    let mut starts: Vec<u128> = (1..=5)
        .map(|i| json_start(&json, &format!("t{i}")))
        .collect();
    starts.sort_unstable();
    for pair in starts.windows(2) {
        let gap_ms = (pair[1] - pair[0]) / 1_000_000;
        // One start per 200 ms, less a little for the moment between letting a start
        // through and recording it.
        assert!(gap_ms >= 100, "starts {gap_ms} ms apart at 5/s: {starts:?}");
    }
    let spread_ms = (starts[4] - starts[0]) / 1_000_000;
    assert!(
        spread_ms >= 700,
        "five starts at 5/s spread over {spread_ms} ms"
    );
    // A task that uses no rate-limited limit is not held back: it starts with the first,
    // not after the rate let a second one through.
    let free = json_start(&json, "free");
    assert!(free < starts[1], "`free` waited for the rate");
}
