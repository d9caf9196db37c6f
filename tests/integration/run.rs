//! `fanout run`: dependencies, retries, failure policies, results and reports.

use crate::harness::{Project, interval, meet, timed};

fn toml_plan(settings: &str, tasks: &[(&str, &str, &str)]) -> String {
    let mut s = format!("[settings]\n{settings}\n");
    for (id, run, extra) in tasks {
        s.push_str(&format!(
            "\n[[task]]\nid = \"{id}\"\nrun = '''{run}'''\n{extra}\n"
        ));
    }
    s
}

#[test]
fn dependencies_finish_before_dependents_start_and_independent_tasks_overlap() {
    let p = Project::new();
    let sleep = timed("sleep 0.3");
    // The two tests wait for each other before they end: run side by side, as they may
    // be, they overlap however slowly either starts.
    let test = timed(&format!("sleep 0.3 && {}", meet(&["test-a", "test-b"], 2)));
    p.file(
        "plan.toml",
        &toml_plan(
            "jobs = 4",
            &[
                ("build", &sleep, ""),
                ("test-a", &test, "after = [\"build\"]"),
                ("test-b", &test, "blockedBy = [\"build\"]"),
                ("package", &sleep, "depends_on = [\"test-a\", \"test-b\"]"),
            ],
        ),
    );
    p.fanout(&["run", "plan.toml"]).expect_code(0);
    let build = interval(&p, "build");
    let a = interval(&p, "test-a");
    let b = interval(&p, "test-b");
    let package = interval(&p, "package");
    assert!(
        build.1 <= a.0 && build.1 <= b.0,
        "tests started before build ended"
    );
    assert!(
        a.1 <= package.0 && b.1 <= package.0,
        "package started too early"
    );
    assert!(
        a.0 < b.1 && b.0 < a.1,
        "test-a and test-b did not overlap: {a:?} {b:?}"
    );
}

#[test]
fn a_task_starts_when_its_own_dependencies_are_done_not_when_its_wave_is() {
    // `slow` and `quick` form the first wave; `next` depends only on `quick` and must
    // start while `slow` is still running. `slow` runs until `next` has ended (20 s at
    // most): were `next` held back until the whole wave is done, it would end after.
    let p = Project::new();
    let slow = timed(
        "i=0 && while [ ! -s t/next.end ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done",
    );
    p.file(
        "plan.toml",
        &toml_plan(
            "jobs = 4",
            &[
                ("slow", &slow, ""),
                ("quick", &timed("sleep 0.05"), ""),
                ("next", &timed("sleep 0.05"), "after = [\"quick\"]"),
            ],
        ),
    );
    p.fanout(&["run", "plan.toml"]).expect_code(0);
    let slow = interval(&p, "slow");
    let next = interval(&p, "next");
    assert!(next.1 < slow.1, "`next` waited for the whole first wave");
}

#[test]
fn a_failing_task_is_retried_until_it_succeeds() {
    let p = Project::new();
    let flaky = "n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; test $n -ge 3";
    p.file(
        "plan.toml",
        &toml_plan(
            "jobs = 2",
            &[(
                "flaky",
                flaky,
                "retries = 2\nbackoff = \"fixed\"\nbackoff_delay = \"10ms\"",
            )],
        ),
    );
    let out = p.fanout(&["run", "plan.toml", "--json", "--junit", "report.xml"]);
    out.expect_code(0);
    assert_eq!(p.read("count").trim(), "3");
    let json = out.json();
    assert_eq!(json["tasks"][0]["attempts"], 3);
    assert_eq!(json["tasks"][0]["status"], "succeeded");
    assert!(out.stderr.contains("RETRY"), "{}", out.stderr);
    // It counts as flaky, as nextest counts a test that passed on a retry.
    assert_eq!(json["counts"]["flaky"], 1);
    assert!(
        out.stderr.contains("1 succeeded (1 flaky)")
            && out.stderr.contains("flaky  succeeded on attempt 3"),
        "{}",
        out.stderr
    );
    let xml = p.read("report.xml");
    assert_eq!(xml.matches("<flakyFailure").count(), 2, "{xml}");
    assert!(xml.contains("attempt 2 failed"), "{xml}");

    // A task that succeeds at once is not flaky.
    let out = p.fanout(&["run", "plan.toml", "--json"]);
    out.expect_code(0);
    assert_eq!(out.json()["counts"]["flaky"], 0);
    assert!(!out.stderr.contains("(1 flaky)"), "{}", out.stderr);
}

#[test]
fn retries_run_out_and_the_task_fails() {
    let p = Project::new();
    let failing = "echo tried >> tries; exit 3";
    p.file(
        "plan.toml",
        &toml_plan(
            "jobs = 2",
            &[("never", failing, "retries = 1\nbackoff_delay = \"10ms\"")],
        ),
    );
    let out = p.fanout(&["run", "plan.toml", "--json"]);
    out.expect_code(1);
    assert_eq!(p.read("tries").lines().count(), 2);
    let json = out.json();
    assert_eq!(json["tasks"][0]["status"], "failed");
    assert_eq!(json["tasks"][0]["exit_code"], 3);
    assert!(out.stderr.contains("exit code 3"), "{}", out.stderr);
}

#[test]
fn keep_going_skips_dependents_of_a_failure_and_runs_everything_else() {
    let p = Project::new();
    p.file(
        "plan.toml",
        &toml_plan(
            "jobs = 2\nkeep_going = true",
            &[
                ("broken", "echo boom; exit 1", ""),
                (
                    "after-broken",
                    "touch after-broken.ran",
                    "after = [\"broken\"]",
                ),
                ("later", "touch later.ran", "after = [\"after-broken\"]"),
                ("independent", "touch independent.ran", ""),
            ],
        ),
    );
    let out = p.fanout(&["run", "plan.toml", "--json"]);
    out.expect_code(1);
    assert!(p.join("independent.ran").exists());
    assert!(!p.join("after-broken.ran").exists());
    assert!(!p.join("later.ran").exists());
    let json = out.json();
    let status = |id: &str| {
        json["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status("broken"), "failed");
    assert_eq!(status("after-broken"), "skipped");
    assert_eq!(status("later"), "skipped");
    assert_eq!(status("independent"), "succeeded");
    assert!(out.stderr.contains("SKIPPED"), "{}", out.stderr);
    assert!(
        out.stderr.contains("`broken` did not succeed"),
        "{}",
        out.stderr
    );
    // The tail of the failed task's output is shown.
    assert!(out.stderr.contains("boom"), "{}", out.stderr);
}

#[test]
fn fail_fast_terminates_running_tasks_and_starts_nothing_new() {
    let p = Project::new();
    p.file(
        "plan.toml",
        &toml_plan(
            "jobs = 2\ngrace = \"1s\"",
            &[
                ("long", "echo $$ > long.pid; exec sleep 60", ""),
                // Fails once `long` runs (20 s at most), so that fail-fast has something
                // to terminate however slowly `long` starts.
                (
                    "broken",
                    "i=0; while [ ! -s long.pid ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; exit 1",
                    "",
                ),
                ("queued", "touch queued.ran", "after = [\"broken\"]"),
                ("behind", "touch behind.ran", "after = [\"long\"]"),
            ],
        ),
    );
    let out = p.fanout(&["run", "plan.toml", "--fail-fast", "--json"]);
    out.expect_code(1);
    assert!(!p.join("queued.ran").exists());
    assert!(!p.join("behind.ran").exists());
    let json = out.json();
    assert_eq!(json["tasks"][0]["status"], "cancelled");
    assert_eq!(json["tasks"][1]["status"], "failed");
    assert_eq!(json["tasks"][3]["status"], "not_run");
    assert!(out.stderr.contains("fail-fast"), "{}", out.stderr);
    let pid: i32 = p.read("long.pid").trim().parse().unwrap();
    assert!(
        !crate::harness::process_alive(pid),
        "the long task survived"
    );
}

#[test]
fn the_json_result_has_the_documented_fields() {
    let p = Project::new();
    p.file(
        "plan.toml",
        &toml_plan("jobs = 2", &[("a", "true", ""), ("b", "false", "")]),
    );
    let out = p.fanout(&["run", "plan.toml", "--json"]);
    out.expect_code(1);
    let json = out.json();
    assert_eq!(json["schema_version"], 1);
    for key in [
        "run_id",
        "plan",
        "jobs",
        "started_at",
        "wall_secs",
        "task_time_secs",
        "speedup",
        "efficiency",
        "critical_path",
        "lower_bound_secs",
        "wall_over_lower_bound",
        "counts",
        "interrupted",
        "tasks",
    ] {
        assert!(json.get(key).is_some(), "missing `{key}` in {json}");
    }
    let task = &json["tasks"][1];
    for key in [
        "id",
        "status",
        "exit_code",
        "attempts",
        "start",
        "end",
        "duration_secs",
        "log",
    ] {
        assert!(task.get(key).is_some(), "missing task `{key}` in {task}");
    }
    assert_eq!(json["counts"]["succeeded"], 1);
    assert_eq!(json["counts"]["failed"], 1);
    assert_eq!(task["exit_code"], 1);
}

#[test]
fn junit_report_lists_every_task() {
    let p = Project::new();
    p.file(
        "plan.toml",
        &toml_plan(
            "jobs = 2",
            &[
                ("good", "true", ""),
                ("bad", "exit 4", ""),
                ("child", "true", "after = [\"bad\"]"),
            ],
        ),
    );
    p.fanout(&["run", "plan.toml", "--junit", "report.xml"])
        .expect_code(1);
    let xml = p.read("report.xml");
    assert!(xml.contains("<testcase name=\"good\""), "{xml}");
    assert!(xml.contains("exit code 4"), "{xml}");
    assert!(xml.contains("<skipped"), "{xml}");
    assert!(xml.contains("tests=\"3\""), "{xml}");
}

#[test]
fn tasks_get_their_environment_and_the_fanout_variables() {
    let p = Project::new();
    p.file(
        "plan.toml",
        r#"
[env]
PLAN_VAR = "from-plan"

[[task]]
id = "show"
run = "echo $FANOUT_TASK_ID $FANOUT_ATTEMPT $PLAN_VAR $TASK_VAR > env.txt; echo $FANOUT_RUN_ID > run.txt"
env = { TASK_VAR = "from-task" }
"#,
    );
    let out = p.fanout(&["run", "plan.toml", "--json"]);
    out.expect_code(0);
    assert_eq!(p.read("env.txt").trim(), "show 1 from-plan from-task");
    assert_eq!(
        p.read("run.txt").trim(),
        out.json()["run_id"].as_str().unwrap()
    );
}

#[test]
fn stdin_is_empty_and_output_goes_to_the_log_file() {
    let p = Project::new();
    p.file(
        "plan.toml",
        &toml_plan("", &[("reader", "cat; echo out; echo err >&2", "")]),
    );
    let out = p.fanout(&["run", "plan.toml", "--json"]);
    out.expect_code(0);
    let log = out.json()["tasks"][0]["log"].as_str().unwrap().to_owned();
    assert!(log.contains(".fanout/logs/"), "{log}");
    assert!(log.ends_with("reader.log"), "{log}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text, "out\nerr\n");
}

#[test]
fn naming_tasks_runs_them_and_their_dependencies_only() {
    let p = Project::new();
    p.file(
        "plan.toml",
        &toml_plan(
            "",
            &[
                ("build", "touch build.ran", ""),
                ("test-a", "touch test-a.ran", "after = [\"build\"]"),
                ("test-b", "touch test-b.ran", "after = [\"build\"]"),
                ("docs", "touch docs.ran", ""),
            ],
        ),
    );
    p.fanout(&["run", "plan.toml", "test-a"]).expect_code(0);
    assert!(p.join("build.ran").exists() && p.join("test-a.ran").exists());
    assert!(!p.join("test-b.ran").exists() && !p.join("docs.ran").exists());
    p.fanout(&["run", "plan.toml", "test-*"]).expect_code(0);
    assert!(p.join("test-b.ran").exists());
    assert!(!p.join("docs.ran").exists());
}

#[test]
fn naming_an_unknown_task_is_a_usage_error_with_a_suggestion() {
    let p = Project::new();
    p.file("plan.toml", &toml_plan("", &[("build", "touch ran", "")]));
    let out = p.fanout(&["run", "plan.toml", "biuld"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("no task matches `biuld`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean `build`?"),
        "{}",
        out.stderr
    );
    assert!(!p.join("ran").exists());
}

#[test]
fn dry_run_prints_the_start_order_and_runs_nothing() {
    let p = Project::new();
    p.file(
        "plan.toml",
        &toml_plan(
            "jobs = 1",
            &[
                ("leaf", "touch leaf.ran", ""),
                ("head", "touch head.ran", ""),
                ("tail", "touch tail.ran", "after = [\"head\"]"),
                ("urgent", "touch urgent.ran", "priority = 10"),
            ],
        ),
    );
    let out = p.fanout(&["run", "plan.toml", "--dry-run"]);
    out.expect_code(0);
    let order: Vec<&str> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    // Priority first, then the longest remaining path (head has a dependent), then plan order.
    assert_eq!(order, ["urgent", "head", "leaf", "tail"]);
    assert!(!p.join("leaf.ran").exists() && !p.join("urgent.ran").exists());
}

#[test]
fn output_all_prints_each_task_output_whole_and_never_interleaved() {
    let p = Project::new();
    let chatty = "for i in 1 2 3 4 5; do echo $FANOUT_TASK_ID line $i; sleep 0.05; done";
    p.file(
        "plan.toml",
        &toml_plan(
            "jobs = 3",
            &[("a", chatty, ""), ("b", chatty, ""), ("c", chatty, "")],
        ),
    );
    let out = p.fanout(&["run", "plan.toml", "--output", "all"]);
    out.expect_code(0);
    for id in ["a", "b", "c"] {
        let block: Vec<&str> = out
            .stdout
            .lines()
            .skip_while(|l| !l.starts_with(&format!("── {id} ")))
            .skip(1)
            .take(5)
            .collect();
        let expected: Vec<String> = (1..=5).map(|i| format!("{id} line {i}")).collect();
        assert_eq!(
            block, expected,
            "output of {id} not grouped:\n{}",
            out.stdout
        );
    }
}

#[test]
fn a_program_that_cannot_start_fails_its_task_with_the_reason() {
    let p = Project::new();
    p.file(
        "plan.toml",
        "[[task]]\nid = \"ghost\"\nrun = [\"./no-such-program\", \"x\"]\n",
    );
    let out = p.fanout(&["run", "plan.toml", "--json"]);
    out.expect_code(1);
    assert_eq!(out.json()["tasks"][0]["status"], "errored");
    assert!(
        out.stderr.contains("could not start `./no-such-program`"),
        "{}",
        out.stderr
    );
}

#[test]
fn when_the_first_five_tasks_all_fail_no_more_start() {
    let p = Project::new();
    let tasks: Vec<(String, String)> = (0..12)
        .map(|i| (format!("t{i:02}"), format!("touch ran-{i}; exit 1")))
        .collect();
    let tasks: Vec<(&str, &str, &str)> = tasks
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str(), ""))
        .collect();
    p.file("plan.toml", &toml_plan("jobs = 1", &tasks));
    let out = p.fanout(&["run", "plan.toml", "--json"]);
    out.expect_code(1);
    let ran = (0..12)
        .filter(|i| p.join(&format!("ran-{i}")).exists())
        .count();
    assert_eq!(ran, 5, "{}", out.stderr);
    assert!(
        out.stderr.contains("likely a systemic problem"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("`t00`"), "{}", out.stderr);
    assert_eq!(out.json()["counts"]["not_run"], 7);

    // The setting turns it off.
    let p2 = Project::new();
    p2.file(
        "plan.toml",
        &toml_plan("jobs = 1\nsystemic_failure_stop = false", &tasks),
    );
    p2.fanout(&["run", "plan.toml"]).expect_code(1);
    let ran = (0..12)
        .filter(|i| p2.join(&format!("ran-{i}")).exists())
        .count();
    assert_eq!(ran, 12);
}

#[test]
fn failed_tasks_get_one_more_serial_try_at_the_end() {
    let p = Project::new();
    // Fails on the first try only; its dependent runs after the serial retry succeeds.
    let once = "if [ -e tried ]; then touch ok; else touch tried; exit 1; fi";
    p.file(
        "plan.toml",
        &toml_plan(
            "jobs = 2",
            &[
                ("contended", once, ""),
                ("after", "touch after.ran", "after = [\"contended\"]"),
            ],
        ),
    );
    let out = p.fanout(&["run", "plan.toml", "--retry-failed-serially", "--json"]);
    out.expect_code(0);
    assert!(p.join("ok").exists() && p.join("after.ran").exists());
    assert!(out.stderr.contains("once more"), "{}", out.stderr);
}

#[test]
fn the_summary_reports_wall_time_task_time_and_speedup() {
    let p = Project::new();
    p.file(
        "plan.toml",
        &toml_plan(
            "jobs = 2",
            &[
                ("a", "sleep 0.2", ""),
                ("b", "sleep 0.2", ""),
                ("c", "sleep 0.2", "after = [\"a\"]"),
            ],
        ),
    );
    let out = p.fanout(&["run", "plan.toml", "--json"]);
    out.expect_code(0);
    assert!(
        out.stderr.contains("Summary: 3 tasks: 3 succeeded"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("speedup"), "{}", out.stderr);
    assert!(out.stderr.contains("critical path"), "{}", out.stderr);
    let json = out.json();
    let wall = json["wall_secs"].as_f64().unwrap();
    let work = json["task_time_secs"].as_f64().unwrap();
    let speedup = json["speedup"].as_f64().unwrap();
    assert!((speedup - work / wall).abs() < 0.01, "{json}");
    assert_eq!(
        json["critical_path"]["tasks"],
        serde_json::json!(["a", "c"])
    );
    let lower = json["lower_bound_secs"].as_f64().unwrap();
    let cp = json["critical_path"]["duration_secs"].as_f64().unwrap();
    assert!(lower >= cp && lower >= work / 2.0 - 0.001, "{json}");
}

#[test]
fn the_project_file_is_the_default_plan_and_its_settings_are_defaults() {
    let p = Project::new();
    p.file(
        "fanout.toml",
        "[settings]\njobs = 1\n\n[[task]]\nid = \"own\"\nrun = \"touch own.ran\"\n",
    );
    p.file(
        "sub/other.toml",
        &toml_plan(
            "",
            &[
                ("x", &timed("sleep 0.2"), ""),
                ("y", &timed("sleep 0.2"), ""),
            ],
        ),
    );
    p.fanout(&["run"]).expect_code(0);
    assert!(p.join("own.ran").exists());
    // jobs = 1 from the project file: x and y never overlap.
    let out = p
        .command(&["run", "other.toml"])
        .current_dir(p.join("sub"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let x = interval_in(&p, "sub", "x");
    let y = interval_in(&p, "sub", "y");
    assert!(x.1 <= y.0 || y.1 <= x.0, "x and y overlapped with jobs = 1");
}

fn interval_in(p: &Project, dir: &str, id: &str) -> (u128, u128) {
    let read = |suffix: &str| -> u128 {
        p.read(&format!("{dir}/t/{id}.{suffix}"))
            .trim()
            .parse()
            .unwrap()
    };
    (read("start"), read("end"))
}

#[test]
fn without_a_plan_or_project_file_the_error_says_what_to_do() {
    let p = Project::new();
    let out = p.fanout(&["run"]);
    out.expect_code(2);
    assert!(out.stderr.contains("no plan file given"), "{}", out.stderr);
}

#[test]
fn tasks_that_run_long_are_told_slow_each_period() {
    let p = Project::new();
    // A period long enough that the quick task never reaches it, even on a loaded
    // machine; the long one runs through two of them.
    let plan = "[settings]\nslow = \"1s\"\n\n\
                [[task]]\nid = \"long\"\nrun = \"sleep 2.5\"\n\n\
                [[task]]\nid = \"quick\"\nrun = \"true\"\n";
    p.file("plan.toml", plan);
    let out = p.fanout(&["run", "plan.toml", "--no-progress"]);
    out.expect_code(0);
    let slow: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("SLOW"))
        .collect();
    assert!(!slow.is_empty(), "{}", out.stderr);
    assert!(
        slow.iter()
            .all(|l| l.contains("long") && l.contains("running for more than")),
        "{}",
        out.stderr
    );
    assert!(
        slow[0].contains("more than 1.00s"),
        "the first notice is after one period: {}",
        out.stderr
    );

    // `slow = 0` turns the notices off.
    p.file("quiet.toml", &plan.replace("\"1s\"", "0"));
    let out = p.fanout(&["run", "quiet.toml", "--no-progress"]);
    out.expect_code(0);
    assert!(!out.stderr.contains("SLOW"), "{}", out.stderr);

    // A task's own `slow` wins over the settings', either way.
    p.file(
        "own.toml",
        "[settings]\nslow = 0\n\n\
         [[task]]\nid = \"watched\"\nrun = \"sleep 0.7\"\nslow = \"200ms\"\n\n\
         [[task]]\nid = \"quiet\"\nrun = \"sleep 0.7\"\n",
    );
    let out = p.fanout(&["run", "own.toml", "--no-progress"]);
    out.expect_code(0);
    let slow: Vec<&str> = out.stderr.lines().filter(|l| l.contains("SLOW")).collect();
    assert!(!slow.is_empty(), "{}", out.stderr);
    assert!(slow.iter().all(|l| l.contains("watched")), "{}", out.stderr);
}

#[test]
fn output_lines_streams_each_line_after_its_tasks_id() {
    let p = Project::new();
    p.file(
        "plan.toml",
        "[[task]]\nid = \"a\"\nrun = \"echo a1; echo a2 >&2; printf a3\"\n\n\
         [[task]]\nid = \"bb\"\nrun = \"echo b1; exit 1\"\n",
    );
    let out = p.fanout(&["run", "plan.toml", "--output", "lines", "--no-progress"]);
    out.expect_code(1);
    let lines: Vec<&str> = out.stderr.lines().collect();
    let at = |text: &str| {
        lines
            .iter()
            .position(|l| *l == text)
            .unwrap_or_else(|| panic!("no line {text:?} in:\n{}", out.stderr))
    };
    // Each task's lines in the order written, stderr's too, the last one without its
    // newline; all of them before the task's own status line.
    assert!(at("a  │ a1") < at("a  │ a2") && at("a  │ a2") < at("a  │ a3"));
    let ok_a = lines.iter().position(|l| l.contains("ok a")).unwrap();
    assert!(at("a  │ a3") < ok_a, "{}", out.stderr);
    let failed_b = lines.iter().position(|l| l.contains("FAILED bb")).unwrap();
    assert!(at("bb │ b1") < failed_b, "{}", out.stderr);
    // The failure's tail is not printed again. (Lines, not text: the log's path, in a
    // temporary directory of a random name, may hold `b1` too.)
    let b1_lines = lines
        .iter()
        .filter(|l| l.trim_end().ends_with("b1"))
        .count();
    assert_eq!(b1_lines, 1, "{}", out.stderr);
    // The logs are still written.
    let log = out.stderr.lines().find(|l| l.contains("bb.log")).unwrap();
    let path = log.split_whitespace().last().unwrap();
    assert_eq!(std::fs::read_to_string(path).unwrap(), "b1\n");
}

#[test]
fn retries_and_timeout_on_the_command_line_win_over_the_plan() {
    let p = Project::new();
    p.file(
        "plan.toml",
        "[settings]\nretries = 0\n\n\
         [[task]]\nid = \"flaky\"\nrun = \"test -e once || { touch once; exit 1; }\"\nbackoff = \"fixed\"\nbackoff_delay = \"10ms\"\n\n\
         [[task]]\nid = \"long\"\nrun = \"sleep 30\"\ntimeout = \"1h\"\n",
    );
    // A timeout long enough for `flaky`'s quick attempts on a loaded machine, far shorter
    // than `long`.
    let out = p.fanout(&[
        "run",
        "plan.toml",
        "--json",
        "--retries",
        "1",
        "--timeout",
        "1s",
    ]);
    out.expect_code(1);
    let json = out.json();
    assert_eq!(json["tasks"][0]["status"], "succeeded");
    assert_eq!(json["tasks"][0]["attempts"], 2);
    // The task's own hour gave way to the command line's second (and its retry).
    assert_eq!(json["tasks"][1]["status"], "timed_out");
    assert_eq!(json["tasks"][1]["attempts"], 2);
    assert!(json["tasks"][1]["duration_secs"].as_f64().unwrap() < 6.0);

    for bad in [
        ["--timeout", "0s"],
        ["--timeout", "soon"],
        ["--retries", "x"],
    ] {
        let mut args = vec!["run", "plan.toml"];
        args.extend(bad);
        let out = p.fanout(&args);
        out.expect_code(2);
        assert!(out.stderr.contains(bad[0]), "{bad:?}: {}", out.stderr);
    }
}
