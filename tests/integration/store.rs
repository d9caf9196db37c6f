//! The store: runs recorded in a real SQLite file, crash recovery after SIGKILL, resume
//! without redoing finished work, the input cache, concurrent runs, schema versions, and
//! the history commands.

use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::harness::{Project, process_alive, wait_for};

/// A task that counts its runs in `counts/<id>` and then does `body`.
fn counted(id: &str, body: &str, extra: &str) -> String {
    format!(
        "[[task]]\nid = \"{id}\"\nrun = '''mkdir -p counts && echo run >> counts/{id} && {body}'''\n{extra}\n"
    )
}

fn runs_of(p: &Project, id: &str) -> usize {
    std::fs::read_to_string(p.join(&format!("counts/{id}")))
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

fn spawn_run(p: &Project, args: &[&str]) -> std::process::Child {
    p.command(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// a, b quick; c long (until the file `fast` exists), recording its pid; d after c. A pid
/// file appears whole: it is written under another name and renamed.
fn crash_plan(p: &Project) {
    let mut plan = String::from("[settings]\njobs = 3\n\n");
    plan.push_str(&counted("a", "true", ""));
    plan.push_str(&counted("b", "true", ""));
    plan.push_str(&counted(
        "c",
        "echo $$ > c.tmp && mv c.tmp c.pid; if [ -e fast ]; then true; else exec sleep 60; fi",
        "after = [\"a\"]",
    ));
    plan.push_str(&counted(
        "d",
        "echo $$ > d.tmp && mv d.tmp d.pid; if [ -e fast ]; then true; else exec sleep 60; fi",
        "after = [\"c\"]",
    ));
    p.file("plan.toml", &plan);
}

/// Whether the journal of a run in progress (`.fanout/journal/<run>.jsonl`, one JSON array
/// a line: `["started", task, attempt]`, `["spawned", task, attempt, pgid, start]`,
/// `["ended", task, attempt, ...]`) has a `kind` line for `task`. What a killed run left
/// there is what recovery and resume go by.
fn journaled(p: &Project, kind: &str, task: &str) -> bool {
    let Ok(entries) = std::fs::read_dir(p.join(".fanout/journal")) else {
        return false;
    };
    entries.flatten().any(|entry| {
        std::fs::read_to_string(entry.path())
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str::<Vec<serde_json::Value>>(line).ok())
            .any(|v| v.first().is_some_and(|k| k == kind) && v.get(1).is_some_and(|t| t == task))
    })
}

fn kill_now(child: &mut std::process::Child) {
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
    child.wait().unwrap();
}

#[test]
fn a_run_killed_mid_way_resumes_without_redoing_finished_work() {
    let p = Project::new();
    crash_plan(&p);
    let mut child = spawn_run(&p, &["run", "plan.toml"]);
    // Killed once the journal holds b's end and c's process group: a kill before would
    // leave b to run again, or c's process unknown to recovery.
    assert!(wait_for(Duration::from_secs(20), || p
        .join("c.pid")
        .exists()));
    assert!(
        wait_for(Duration::from_secs(20), || journaled(&p, "ended", "b")
            && journaled(&p, "spawned", "c")),
        "the journal did not get b's end and c's process"
    );
    kill_now(&mut child);
    let orphan: i32 = p.read("c.pid").trim().parse().unwrap();
    assert!(
        process_alive(orphan),
        "the task should outlive a SIGKILLed fanout"
    );

    // The database is consistent and says the run is unfinished.
    let shown = p.fanout(&["show", "last", "--json"]);
    shown.expect_code(0);
    let json = shown.json();
    assert!(json["run"]["outcome"].is_null(), "{json}");

    std::fs::write(p.join("fast"), "").unwrap();
    let out = p.fanout(&["run", "plan.toml", "--resume", "--json"]);
    out.expect_code(0);
    assert!(
        !process_alive(orphan),
        "the killed run's task survived the resume"
    );
    assert!(out.stderr.contains("marked as crashed"), "{}", out.stderr);
    assert_eq!((runs_of(&p, "a"), runs_of(&p, "b")), (1, 1));
    assert_eq!((runs_of(&p, "c"), runs_of(&p, "d")), (2, 1));
    let json = out.json();
    assert_eq!(json["counts"]["restored"], 2, "{json}");
    assert_eq!(json["counts"]["succeeded"], 2, "{json}");

    // The crashed run's running attempt is now `interrupted`.
    let history = p.fanout(&["history", "--json"]);
    let runs = history.json();
    assert_eq!(runs[1]["outcome"], "crashed", "{runs}");
    let crashed = runs[1]["id"].as_str().unwrap().to_owned();
    let shown = p.fanout(&["show", &crashed, "c", "--json"]).json();
    assert_eq!(
        shown["tasks"][0]["attempts"][0]["status"], "interrupted",
        "{shown}"
    );
}

#[test]
fn a_run_killed_during_its_last_task_resumes_only_that_task() {
    let p = Project::new();
    crash_plan(&p);
    std::fs::write(p.join("c-fast"), "").unwrap();
    // c finishes quickly this time; d is the long last task.
    let plan = p.read("plan.toml").replace(
        "echo $$ > c.tmp && mv c.tmp c.pid; if [ -e fast ]; then true; else exec sleep 60; fi",
        "echo $$ > c.tmp && mv c.tmp c.pid",
    );
    p.file("plan.toml", &plan);
    let mut child = spawn_run(&p, &["run", "plan.toml"]);
    // Killed once the journal holds b's end and d's process group (a and c ended before
    // d started): only d is left unfinished.
    assert!(wait_for(Duration::from_secs(20), || p
        .join("d.pid")
        .exists()));
    assert!(
        wait_for(Duration::from_secs(20), || journaled(&p, "ended", "b")
            && journaled(&p, "spawned", "d")),
        "the journal did not get b's end and d's process"
    );
    kill_now(&mut child);
    let orphan: i32 = p.read("d.pid").trim().parse().unwrap();
    std::fs::write(p.join("fast"), "").unwrap();
    p.fanout(&["run", "plan.toml", "--resume"]).expect_code(0);
    assert!(!process_alive(orphan));
    for (id, n) in [("a", 1), ("b", 1), ("c", 1), ("d", 2)] {
        assert_eq!(runs_of(&p, id), n, "task {id}");
    }
}

#[test]
fn a_run_killed_at_once_leaves_a_usable_store() {
    let p = Project::new();
    crash_plan(&p);
    std::fs::write(p.join("fast"), "").unwrap();
    let mut child = spawn_run(&p, &["run", "plan.toml"]);
    kill_now(&mut child);
    // Whether or not the run got recorded, the store opens and a resume (or a fresh run
    // when there was nothing to resume) finishes every task. A task the kill caught
    // running runs again; one the killed run finished does not.
    let resumed = p.fanout(&["run", "plan.toml", "--resume", "--json"]);
    let restored: Vec<String> = if resumed.code == 2 {
        assert!(
            resumed.stderr.contains("no earlier run"),
            "{}",
            resumed.stderr
        );
        p.fanout(&["run", "plan.toml"]).expect_code(0);
        Vec::new()
    } else {
        resumed.expect_code(0);
        resumed.json()["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["status"] == "restored")
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    };
    for id in ["a", "b", "c", "d"] {
        let n = runs_of(&p, id);
        if restored.iter().any(|r| r == id) {
            assert_eq!(n, 1, "task {id}, finished before the kill, ran again");
        } else {
            assert!((1..=2).contains(&n), "task {id} ran {n} times");
        }
    }
    p.fanout(&["history", "--json"]).expect_code(0);
}

#[test]
fn resume_runs_a_task_again_when_its_definition_changed() {
    let p = Project::new();
    p.file(
        "plan.toml",
        &(counted("one", "true", "") + &counted("two", "false", "")),
    );
    p.fanout(&["run", "plan.toml"]).expect_code(1);
    // `one` changes; `two` is fixed.
    p.file(
        "plan.toml",
        &(counted("one", "true && true", "") + &counted("two", "true", "")),
    );
    p.fanout(&["run", "plan.toml", "--resume"]).expect_code(0);
    assert_eq!((runs_of(&p, "one"), runs_of(&p, "two")), (2, 2));
}

#[test]
fn resume_failed_runs_only_what_failed() {
    let p = Project::new();
    let plan = counted("good", "true", "")
        + &counted("bad", "test -e fixed", "")
        + &counted("never", "true", "after = [\"bad\"]");
    p.file("plan.toml", &plan);
    p.fanout(&["run", "plan.toml"]).expect_code(1);
    std::fs::write(p.join("fixed"), "").unwrap();
    let out = p.fanout(&["run", "plan.toml", "--resume-failed", "--json"]);
    out.expect_code(0);
    assert_eq!(runs_of(&p, "good"), 1);
    assert_eq!(runs_of(&p, "bad"), 2);
    assert_eq!(runs_of(&p, "never"), 0, "only what failed runs again");
    let again = p.fanout(&["run", "plan.toml", "--resume-failed"]);
    again.expect_code(0);
    assert!(again.stderr.contains("no task failed"), "{}", again.stderr);
}

fn cache_plan(p: &Project) {
    let mut plan = String::new();
    plan.push_str(&counted(
        "compile",
        "mkdir -p out && cat src/*.c > out/prog",
        "inputs = [\"src/*.c\"]\noutputs = [\"out/prog\"]",
    ));
    plan.push_str(&counted(
        "test",
        "test -s out/prog",
        "inputs = [\"out/prog\"]\nafter = [\"compile\"]",
    ));
    plan.push_str(&counted("docs", "true", "inputs = [\"docs/**/*.md\"]"));
    p.file("plan.toml", &plan);
    p.file("src/a.c", "int a;\n");
    p.file("src/b.c", "int b;\n");
    p.file("docs/guide/intro.md", "# Intro\n");
}

#[test]
fn unchanged_inputs_are_cached_and_a_changed_byte_reruns_the_task_and_its_dependents() {
    let p = Project::new();
    cache_plan(&p);
    p.fanout(&["run", "plan.toml"]).expect_code(0);
    let second = p.fanout(&["run", "plan.toml", "--json"]);
    second.expect_code(0);
    assert_eq!(second.json()["counts"]["cached"], 3, "{}", second.stdout);
    assert!(second.stderr.contains("cached"), "{}", second.stderr);
    for id in ["compile", "test", "docs"] {
        assert_eq!(runs_of(&p, id), 1, "{id} ran again with unchanged inputs");
    }

    p.file("src/b.c", "int c;\n"); // one byte changed
    p.fanout(&["run", "plan.toml"]).expect_code(0);
    assert_eq!(
        (
            runs_of(&p, "compile"),
            runs_of(&p, "test"),
            runs_of(&p, "docs")
        ),
        (2, 2, 1)
    );

    std::fs::remove_file(p.join("out/prog")).unwrap(); // a declared output is missing
    p.fanout(&["run", "plan.toml"]).expect_code(0);
    assert_eq!(runs_of(&p, "compile"), 3);

    p.fanout(&["run", "plan.toml", "--no-cache"]).expect_code(0);
    assert_eq!(runs_of(&p, "docs"), 2);
}

#[test]
fn a_cached_task_keeps_its_earlier_log() {
    let p = Project::new();
    p.file(
        "plan.toml",
        "[[task]]\nid = \"say\"\nrun = \"cat in.txt\"\ninputs = [\"in.txt\"]\n",
    );
    p.file("in.txt", "hello from the first run\n");
    p.fanout(&["run", "plan.toml"]).expect_code(0);
    p.fanout(&["run", "plan.toml"]).expect_code(0);
    let logs = p.fanout(&["logs", "last", "say"]);
    logs.expect_code(0);
    assert_eq!(logs.stdout, "hello from the first run\n");
}

#[test]
fn two_runs_at_once_in_one_state_directory_both_complete() {
    let p = Project::new();
    let mut plan = String::from("[settings]\njobs = 4\n");
    for i in 0..40 {
        plan.push_str(&format!("\n[[task]]\nid = \"t{i}\"\nrun = \"true\"\n"));
    }
    p.file("plan.toml", &plan);
    let spawn = || {
        p.command(&["run", "plan.toml", "--json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn(), spawn());
    for child in [first, second] {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let runs = p.fanout(&["history", "--json"]).json();
    assert_eq!(runs.as_array().unwrap().len(), 2);
    for run in runs.as_array().unwrap() {
        assert_eq!(run["outcome"], "succeeded", "{run}");
        assert_eq!(run["tasks"], 40, "{run}");
        let id = run["id"].as_str().unwrap();
        let shown = p.fanout(&["show", id, "--json"]).json();
        let attempts: usize = shown["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["attempts"].as_array().unwrap().len())
            .sum();
        assert_eq!(attempts, 40);
    }
}

#[test]
fn a_database_from_a_newer_fanout_is_refused_and_left_alone() {
    let p = Project::new();
    p.file("plan.toml", "[[task]]\nid = \"t\"\nrun = \"touch ran\"\n");
    std::fs::create_dir_all(p.join(".fanout")).unwrap();
    let db = p.join(".fanout/fanout.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
            .unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    let out = p.fanout(&["run", "plan.toml"]);
    out.expect_code(2);
    assert!(out.stderr.contains("newer fanout"), "{}", out.stderr);
    assert!(out.stderr.contains("schema version 99"), "{}", out.stderr);
    assert!(!p.join("ran").exists());
    assert!(
        std::fs::read(&db).unwrap() == before,
        "the database was rewritten"
    );
}

#[test]
fn a_first_schema_database_opens_and_migrates() {
    let p = Project::new();
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store/schema-v1.db");
    std::fs::create_dir_all(p.join(".fanout")).unwrap();
    std::fs::copy(&fixture, p.join(".fanout/fanout.db")).unwrap();
    let history = p.fanout(&["history", "--json"]);
    history.expect_code(0);
    let runs = history.json();
    assert_eq!(runs.as_array().unwrap().len(), 2, "{runs}");
    // A new run goes into the same file, after whatever migrations apply.
    p.file("plan.toml", "[[task]]\nid = \"t\"\nrun = \"true\"\n");
    p.fanout(&["run", "plan.toml"]).expect_code(0);
    assert_eq!(
        p.fanout(&["history", "--json"])
            .json()
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let conn = rusqlite::Connection::open(p.join(".fanout/fanout.db")).unwrap();
    let version: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, fanout::store::SCHEMA_VERSION);
}

#[test]
fn history_show_logs_stats_and_clean() {
    let p = Project::new();
    p.file(
        "plan.toml",
        "[[task]]\nid = \"hello\"\nrun = \"echo hello\"\n\n[[task]]\nid = \"oops\"\nrun = \"exit 3\"\n",
    );
    p.fanout(&["run", "plan.toml"]).expect_code(1);
    let history = p.fanout(&["history"]);
    history.expect_code(0);
    assert!(history.stdout.contains("failed"), "{}", history.stdout);
    let show = p.fanout(&["show", "last"]);
    show.expect_code(0);
    assert!(
        show.stdout.contains("oops: attempt 1 failed exit 3"),
        "{}",
        show.stdout
    );
    let logs = p.fanout(&["logs", "last", "hello"]);
    assert_eq!(logs.stdout, "hello\n");
    let stats = p.fanout(&["stats", "--json"]).json();
    assert_eq!(stats["runs"], 1);
    assert_eq!(stats["attempts"], 2);
    assert_eq!(stats["failure_rate"], 0.5);

    let dry = p
        .fanout(&["clean", "--older-than", "0s", "--dry-run", "--json"])
        .json();
    assert_eq!(dry["removed"].as_array().unwrap().len(), 1);
    let run_id = dry["removed"][0].as_str().unwrap().to_owned();
    assert!(p.join(&format!(".fanout/logs/{run_id}")).exists());
    p.fanout(&["clean", "--older-than", "0s"]).expect_code(0);
    assert!(!p.join(&format!(".fanout/logs/{run_id}")).exists());
    assert_eq!(
        p.fanout(&["history", "--json"]).json(),
        serde_json::json!([])
    );
    let missing = p.fanout(&["show", "nope"]);
    missing.expect_code(2);
    assert!(
        missing.stderr.contains("no run `nope`"),
        "{}",
        missing.stderr
    );
}

#[test]
fn no_store_records_nothing() {
    let p = Project::new();
    p.file("plan.toml", "[[task]]\nid = \"t\"\nrun = \"true\"\n");
    p.fanout(&["run", "plan.toml", "--no-store"]).expect_code(0);
    assert!(!p.join(".fanout/fanout.db").exists());
}

/// The `changed` lines of a verbose run: each task's id and what it says changed.
fn changed_lines(stderr: &str) -> Vec<(String, String)> {
    stderr
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("changed "))
        .map(|rest| {
            let rest = rest.trim_start();
            let (id, detail) = rest.split_once(' ').unwrap_or((rest, ""));
            (id.to_owned(), detail.trim().to_owned())
        })
        .collect()
}

#[test]
fn verbose_runs_say_what_changed_since_a_tasks_last_success() {
    let p = Project::new();
    cache_plan(&p);
    let run = |p: &Project| {
        let out = p.fanout(&["run", "plan.toml", "-v"]);
        out.expect_code(0);
        changed_lines(&out.stderr)
    };
    let pair = |id: &str, detail: &str| (id.to_owned(), detail.to_owned());
    let first = run(&p);
    assert!(
        first.contains(&pair("compile", "no earlier success")),
        "{first:?}"
    );

    // Nothing changed: every task is skipped, and nothing is said to have changed.
    assert_eq!(run(&p), []);
    // Without -v nothing is said either.
    p.file("src/b.c", "int bb;\n");
    let quiet = p.fanout(&["run", "plan.toml"]);
    quiet.expect_code(0);
    assert_eq!(changed_lines(&quiet.stderr), []);

    p.file("src/b.c", "int b2;\n");
    p.file("src/c.c", "int c;\n");
    std::fs::remove_file(p.join("src/a.c")).unwrap();
    assert_eq!(
        run(&p),
        [
            pair("compile", "src/b.c changed; src/c.c added; src/a.c removed"),
            pair("test", "the result of compile changed; out/prog changed"),
        ]
    );

    std::fs::remove_file(p.join("out/prog")).unwrap();
    assert_eq!(run(&p), [pair("compile", "an output is missing")]);

    let plan = p
        .read("plan.toml")
        .replace("run = '''", "run = '''true && ");
    p.file("plan.toml", &plan);
    let all = run(&p);
    assert!(
        all.contains(&pair(
            "docs",
            "its definition changed (command, environment, directory, inputs or outputs)"
        )),
        "{all:?}"
    );

    // The JSON result says it too, of the tasks that ran, and of no other.
    p.file("src/c.c", "int c2;\n");
    let json = p.fanout(&["run", "plan.toml", "--json"]).json();
    let because = |id: &str| {
        let tasks = json["tasks"].as_array().unwrap();
        tasks.iter().find(|t| t["id"] == id).unwrap()["ran_because"].clone()
    };
    assert_eq!(because("compile"), "src/c.c changed", "{json}");
    assert_eq!(because("docs"), serde_json::Value::Null, "{json}");

    // What the keys were made of is kept while a run refers to them, and no longer.
    let manifests = || -> i64 {
        let conn = rusqlite::Connection::open(p.join(".fanout/fanout.db")).unwrap();
        conn.query_row("SELECT count(*) FROM manifests", [], |r| r.get(0))
            .unwrap()
    };
    assert!(manifests() >= 3, "{}", manifests());
    p.fanout(&["clean", "--older-than", "0s"]).expect_code(0);
    assert_eq!(manifests(), 0);
}
