//! The work-item queue: `fanout queue run` and `fanout queue status` on a directory of
//! Markdown items, with the fake agent CLIs of `tests/fixtures/agents/` (each records its
//! argv and, here, a listing of the queue directory as it starts).

use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::agents::{agent_command, argv, run_agents, stamp};
use crate::harness::{Project, RunOutput, wait_for};

const QUEUE: &str = ".agent/queue";

/// A project with the fake agents started without spacing, and these items.
fn project(items: &[(&str, &str)]) -> Project {
    let p = Project::new();
    p.file("fanout.toml", "[agents.claude]\nstart_interval = \"0s\"\n");
    for (name, text) in items {
        p.file(&format!("{QUEUE}/{name}"), text);
    }
    std::fs::create_dir_all(p.join(QUEUE)).unwrap();
    p
}

/// `fanout queue …` with the fake agents, which list the queue as they start.
fn queue(p: &Project, args: &[&str], env: &[(&str, &str)]) -> RunOutput {
    let ls = p.join(QUEUE).display().to_string();
    let mut env = env.to_vec();
    env.push(("FAKE_AGENT_LS", &ls));
    let mut all = vec!["queue"];
    all.extend_from_slice(args);
    run_agents(p, &all, &env)
}

/// The queue directory's file names, sorted.
fn files(p: &Project) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(p.join(QUEUE))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The queue's file names as the agent of item `id` saw them when it started.
fn seen_by(p: &Project, id: &str) -> Vec<String> {
    p.read(&format!("calls/{id}.1.ls"))
        .lines()
        .map(str::to_owned)
        .collect()
}

fn started(p: &Project, id: &str) -> bool {
    p.join(&format!("calls/{id}.1.argv")).exists()
}

#[test]
fn queue_files_are_renamed_through_their_states() {
    let p = project(&[
        (
            "001-pending-schema.md",
            "# Schema\n\nBlockedBy:\n\nWrite the schema.",
        ),
        (
            "002-pending-api.md",
            "BlockedBy: 001\nBuild the API on the schema.",
        ),
        ("003-pending-ui.md", "# UI\nBlockedBy: 1, 2\nBuild the UI."),
        ("004-pending-readme.md", "Write the README."),
        ("005-completed-setup.md", "Done long ago."),
    ]);
    let out = queue(&p, &["run"], &[]);
    out.expect_code(0);

    // Each agent saw its own item in progress, and every item it waits for completed.
    let schema = seen_by(&p, "001-schema");
    assert!(
        schema.contains(&"001-in_progress-schema.md".into()),
        "{schema:?}"
    );
    assert!(schema.contains(&"002-pending-api.md".into()), "{schema:?}");
    let api = seen_by(&p, "002-api");
    assert!(api.contains(&"001-completed-schema.md".into()), "{api:?}");
    assert!(api.contains(&"002-in_progress-api.md".into()), "{api:?}");
    let ui = seen_by(&p, "003-ui");
    assert!(ui.contains(&"001-completed-schema.md".into()), "{ui:?}");
    assert!(ui.contains(&"002-completed-api.md".into()), "{ui:?}");
    assert!(ui.contains(&"003-in_progress-ui.md".into()), "{ui:?}");

    assert_eq!(
        files(&p),
        [
            "001-completed-schema.md",
            "002-completed-api.md",
            "003-completed-ui.md",
            "004-completed-readme.md",
            "005-completed-setup.md",
        ]
    );
    // The prompt is the item's text without its `BlockedBy:` line.
    let args = argv(&p, "003-ui", 1);
    assert_eq!(args.last().map(String::as_str), Some("# UI\nBuild the UI."));
    assert!(!started(&p, "005-setup"));
    assert!(out.stderr.contains("Queue: 4 completed"), "{}", out.stderr);

    // Nothing left to do.
    let again = queue(&p, &["run"], &[]);
    again.expect_code(0);
    assert!(again.stderr.contains("nothing to do"), "{}", again.stderr);
}

#[test]
fn items_run_with_the_project_default_agent() {
    let p = project(&[("001-pending-task.md", "Do the task.")]);
    p.file("fanout.toml", "[agents]\ndefault = \"codex\"\n");
    queue(&p, &["run"], &[]).expect_code(0);
    let args = argv(&p, "001-task", 1);
    assert_eq!(args[0], "exec", "{args:?}");
    assert_eq!(files(&p), ["001-completed-task.md"]);
}

#[test]
fn an_item_others_wait_for_goes_first() {
    // 005 has three items waiting for it; 002 heads a longer chain that only two wait on.
    let p = project(&[
        ("001-pending-alone.md", "Alone."),
        ("002-pending-chain-a.md", "Chain a."),
        ("003-pending-chain-b.md", "BlockedBy: 2\nChain b."),
        ("004-pending-chain-c.md", "BlockedBy: 3\nChain c."),
        ("005-pending-hub.md", "Hub."),
        ("006-pending-x.md", "BlockedBy: 5\nx"),
        ("007-pending-y.md", "BlockedBy: 5\ny"),
        ("008-pending-z.md", "BlockedBy: 5\nz"),
    ]);
    queue(&p, &["run", "--max-parallel", "1"], &[]).expect_code(0);
    let completed = |id: &str| {
        seen_by(&p, id)
            .iter()
            .filter(|f| f.contains("-completed-"))
            .count()
    };
    assert_eq!(completed("005-hub"), 0, "the hub goes first");
    assert_eq!(completed("002-chain-a"), 1, "then the chain's head");
    assert_eq!(
        completed("003-chain-b"),
        2,
        "then what one item still waits for"
    );
    assert_eq!(
        files(&p)
            .iter()
            .filter(|f| f.contains("-completed-"))
            .count(),
        8
    );
}

#[test]
fn max_parallel_is_respected() {
    let p = six_items(NO_SPACING);
    queue(
        &p,
        &["run", "--max-parallel", "2"],
        &[("FAKE_AGENT_SLEEP", "0.3")],
    )
    .expect_code(0);
    // An item is in progress from before its agent starts until after it ends, so no
    // agent can have seen more items in progress than agents running.
    for i in 1..=6 {
        let seen = seen_by(&p, &format!("00{i}-item{i}"));
        let running = seen.iter().filter(|f| f.contains("-in_progress-")).count();
        assert!(running <= 2, "item {i} saw {running} in progress: {seen:?}");
    }
    let at_once = most_at_once(&p, 6);
    assert!(at_once <= 2, "{at_once} agents ran at once");
}

/// Six items of a second each, `item1` to `item6`, with the project file `toml`.
fn six_items(toml: &str) -> Project {
    let items: Vec<(String, String)> = (1..=6)
        .map(|i| (format!("00{i}-pending-item{i}.md"), format!("Item {i}.")))
        .collect();
    let refs: Vec<(&str, &str)> = items
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let p = project(&refs);
    p.file("fanout.toml", toml);
    p
}

/// The most agents of items `00N-itemN` (N from 1 to `items`) that ran at once, from the
/// times the fake agent wrote as it started and ended.
fn most_at_once(p: &Project, items: usize) -> usize {
    let spans: Vec<(u128, u128)> = (1..=items)
        .map(|i| {
            let id = format!("00{i}-item{i}");
            (stamp(p, &id, 1, "start"), stamp(p, &id, 1, "end"))
        })
        .collect();
    spans
        .iter()
        .map(|&(start, _)| {
            spans
                .iter()
                .filter(|(s, e)| *s <= start && start < *e)
                .count()
        })
        .max()
        .unwrap_or(0)
}

const NO_SPACING: &str = "[agents.claude]\nstart_interval = \"0s\"\n";

#[test]
fn the_project_files_max_parallel_is_respected_and_the_flag_wins() {
    let toml = format!("{NO_SPACING}[queue]\nmax_parallel = 1\n");
    let p = six_items(&toml);
    queue(&p, &["run"], &[("FAKE_AGENT_SLEEP", "0.2")]).expect_code(0);
    assert_eq!(most_at_once(&p, 6), 1);

    let p = six_items(&toml);
    queue(
        &p,
        &["run", "--max-parallel", "6"],
        &[("FAKE_AGENT_SLEEP", "0.5")],
    )
    .expect_code(0);
    let at_once = most_at_once(&p, 6);
    assert!(at_once > 1, "the flag allows 6 at once, yet {at_once} ran");
}

#[test]
fn the_project_files_autonomy_applies_unless_the_flag_says_otherwise() {
    let p = failing_queue(false);
    p.file(
        "fanout.toml",
        &format!("{NO_SPACING}[queue]\nautonomy = \"L3\"\nmax_parallel = 1\n"),
    );
    queue(&p, &["run"], &[]).expect_code(1);
    assert!(started(&p, "002-lint"), "L3 goes on past the failure");

    let p = failing_queue(false);
    p.file(
        "fanout.toml",
        &format!("{NO_SPACING}[queue]\nautonomy = \"L3\"\nmax_parallel = 1\n"),
    );
    queue(&p, &["run", "--autonomy", "L2"], &[]).expect_code(1);
    assert!(!started(&p, "002-lint"), "L2 stops at the failure");
}

#[test]
fn the_project_files_queue_dir_is_used_when_none_is_given() {
    let p = Project::new();
    p.file(
        "fanout.toml",
        &format!("{NO_SPACING}[queue]\ndir = \"work/items\"\n"),
    );
    p.file("work/items/001-pending-first.md", "First.");
    p.file("work/items/002-pending-second.md", "BlockedBy: 1\nSecond.");

    let status = p.fanout(&["queue", "status"]);
    status.expect_code(0);
    assert!(
        status.stdout.contains("001     pending  first"),
        "{}",
        status.stdout
    );
    let dry = p.fanout(&["queue", "run", "--dry-run"]);
    dry.expect_code(0);
    assert!(
        dry.stdout.contains("001-pending-first.md"),
        "{}",
        dry.stdout
    );

    run_agents(&p, &["queue", "run"], &[]).expect_code(0);
    assert!(started(&p, "002-second"));
    assert!(p.join("work/items/002-completed-second.md").exists());
    assert!(!p.join(QUEUE).exists());

    // From a subdirectory, the directory is still the project file's.
    std::fs::create_dir_all(p.join("src")).unwrap();
    let out = p
        .command(&["queue", "status"])
        .current_dir(p.join("src"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("2 item(s): 0 pending, 0 in_progress, 2 completed"),
        "{stdout}"
    );
}

/// `fanout queue run` with the project file `toml` exits 2 and says `expected`, with
/// the place.
fn refused_setting(toml: &str, expected: &[&str]) {
    let p = project(&[("001-pending-task.md", "Task.")]);
    p.file("fanout.toml", toml);
    for args in [&["queue", "run"][..], &["queue", "status"]] {
        let out = p.fanout(args);
        out.expect_code(2);
        for text in expected {
            assert!(out.stderr.contains(text), "{args:?}: {}", out.stderr);
        }
    }
    assert_eq!(files(&p), ["001-pending-task.md"]);
    assert!(!started(&p, "001-task"));
}

#[test]
fn a_max_parallel_of_0_in_the_project_file_is_refused_with_its_place() {
    refused_setting(
        "[queue]\nmax_parallel = 0\n",
        &[
            "`max_parallel` must be at least 1, found 0",
            "fanout.toml:2:16",
        ],
    );
}

#[test]
fn an_unknown_autonomy_in_the_project_file_is_refused_with_its_place() {
    refused_setting(
        "[queue]\nautonomy = \"L4\"\n",
        &["unknown autonomy `L4`", "fanout.toml:2:12"],
    );
}

#[test]
fn an_unknown_key_in_the_queue_table_gets_a_suggestion() {
    refused_setting(
        "[queue]\nmax_paralel = 3\n",
        &[
            "unknown field `max_paralel` in `[queue]`",
            "fanout.toml:2:1",
            "did you mean `max_parallel`?",
        ],
    );
}

#[test]
fn a_dry_run_prints_the_start_order_and_changes_nothing() {
    let p = project(&[
        ("001-pending-alone.md", "Alone."),
        ("002-pending-hub.md", "Hub."),
        ("003-pending-after-hub.md", "BlockedBy: 2\nAfter."),
        ("004-in_progress-left.md", "Left by a run that is gone."),
        ("005-completed-done.md", "Done."),
    ]);
    let before = files(&p);
    let out = queue(&p, &["run", "--dry-run", "--max-parallel", "1"], &[]);
    out.expect_code(0);
    assert_eq!(
        out.stdout,
        "   1. 002-pending-hub.md (at 0.0)\n   2. 001-pending-alone.md (at 1.0)\n   3. 003-pending-after-hub.md (at 2.0)\n   4. 004-in_progress-left.md (at 3.0)\n"
    );
    assert!(
        out.stderr
            .contains("004-in_progress-left.md was left in progress by a run that is gone"),
        "{}",
        out.stderr
    );
    assert_eq!(files(&p), before, "nothing is renamed");
    let calls = std::fs::read_dir(p.join("calls")).unwrap().count();
    assert_eq!(calls, 0, "no agent started");
    assert!(!p.join(".fanout").exists(), "no store written");
}

/// 001 fails and 003 waits for it; 002 and 004 wait for nothing. One at a time, 001
/// goes first (an item waits for it).
fn failing_queue(also_failing: bool) -> Project {
    project(&[
        ("001-pending-migrate.md", "FAIL the migration"),
        ("002-pending-lint.md", "Lint."),
        ("003-pending-deploy.md", "BlockedBy: 1\nDeploy."),
        (
            "004-pending-docs.md",
            if also_failing {
                "FAIL the docs"
            } else {
                "Docs."
            },
        ),
    ])
}

#[test]
fn l1_and_l2_stop_at_the_first_failure() {
    for level in ["L1", "L2"] {
        let p = failing_queue(false);
        let out = queue(
            &p,
            &["run", "--autonomy", level, "--max-parallel", "1"],
            &[],
        );
        out.expect_code(1);
        assert_eq!(
            files(&p),
            [
                "001-blocked-migrate.md",
                "002-pending-lint.md",
                "003-pending-deploy.md",
                "004-pending-docs.md",
            ],
            "{level}"
        );
        assert!(!started(&p, "002-lint"), "{level}");
        assert!(
            out.stderr.contains("  001-blocked-migrate.md: exit code 1"),
            "{level}: {}",
            out.stderr
        );
    }
}

#[test]
fn l3_goes_on_and_lists_every_failure() {
    let p = failing_queue(true);
    let out = queue(&p, &["run", "--autonomy", "L3", "--max-parallel", "1"], &[]);
    out.expect_code(1);
    assert_eq!(
        files(&p),
        [
            "001-blocked-migrate.md",
            "002-completed-lint.md",
            "003-pending-deploy.md",
            "004-blocked-docs.md",
        ]
    );
    let err = &out.stderr;
    assert!(
        err.contains("Queue: 1 completed, 2 failed, 1 not started"),
        "{err}"
    );
    assert!(
        err.contains("  001-blocked-migrate.md: exit code 1"),
        "{err}"
    );
    assert!(err.contains("  004-blocked-docs.md: exit code 1"), "{err}");
    assert!(err.contains("Not started: 003-pending-deploy.md"), "{err}");

    // The next run cannot run 003: it waits for a blocked item.
    let next = queue(&p, &["run", "--autonomy", "L3"], &[]);
    next.expect_code(1);
    assert!(
        next.stderr
            .contains("003-pending-deploy.md cannot run: it waits for 001, which is blocked"),
        "{}",
        next.stderr
    );
}

#[test]
fn items_waiting_for_missing_or_blocked_items_stay_pending() {
    let p = project(&[
        ("001-blocked-broken.md", "It failed."),
        ("002-pending-needs-broken.md", "BlockedBy: 1\nx"),
        ("003-pending-needs-missing.md", "BlockedBy: 42\ny"),
        ("004-pending-needs-stuck.md", "BlockedBy: 3\nz"),
        ("005-pending-fine.md", "Fine."),
    ]);
    let out = queue(&p, &["run"], &[]);
    out.expect_code(1);
    assert_eq!(
        files(&p),
        [
            "001-blocked-broken.md",
            "002-pending-needs-broken.md",
            "003-pending-needs-missing.md",
            "004-pending-needs-stuck.md",
            "005-completed-fine.md",
        ]
    );
    let err = &out.stderr;
    assert!(
        err.contains("002-pending-needs-broken.md cannot run: it waits for 001, which is blocked; it stays pending"),
        "{err}"
    );
    assert!(
        err.contains(
            "003-pending-needs-missing.md cannot run: it waits for 42, which is not in the queue"
        ),
        "{err}"
    );
    assert!(
        err.contains("004-pending-needs-stuck.md cannot run: it waits for 003, which cannot run"),
        "{err}"
    );
}

#[test]
fn status_lists_items_by_status_with_what_they_wait_for() {
    let p = project(&[
        ("001-completed-schema.md", "a"),
        ("002-pending-api.md", "BlockedBy: 1\nb"),
        ("003-pending-ui.md", "BlockedBy: 2\nc"),
        ("004-blocked-login.md", "d"),
        ("005-pending-docs.md", "BlockedBy: 4\ne"),
        ("006-in_progress-cache.md", "f"),
    ]);
    let out = p.fanout(&["queue", "status"]);
    out.expect_code(0);
    assert_eq!(
        out.stdout,
        "\
NUMBER  STATUS       SLUG    BLOCKED BY  STATE
002     pending      api     001         ready
003     pending      ui      002         waiting for 002
005     pending      docs    004         cannot run: it waits for 004, which is blocked
006     in_progress  cache   -           left by a run that is gone; the next run starts it again
001     completed    schema  -
004     blocked      login   -

6 item(s): 3 pending, 1 in_progress, 1 completed, 1 blocked
"
    );
    let json = p.fanout(&["queue", "status", "--json"]);
    json.expect_code(0);
    let json = json.json();
    assert_eq!(json["counts"]["pending"], 3);
    assert_eq!(json["counts"]["in_progress"], 1);
    assert_eq!(json["run_active"], false);
    assert_eq!(json["items"][0]["file"], "002-pending-api.md");
    assert_eq!(json["items"][0]["readiness"]["state"], "ready");
    assert_eq!(json["items"][1]["readiness"]["on"][0], 2);
    assert_eq!(json["items"][2]["readiness"]["state"], "cannot_run");
    // Status renames nothing.
    assert!(
        p.join(&format!("{QUEUE}/006-in_progress-cache.md"))
            .exists()
    );
}

#[test]
fn an_item_left_in_progress_by_a_run_that_is_gone_runs_again() {
    let p = project(&[("001-in_progress-half-done.md", "Finish it.")]);
    let out = queue(&p, &["run"], &[]);
    out.expect_code(0);
    assert!(
        out.stderr.contains(
            "note: 001-in_progress-half-done.md was left in progress by a run that is gone; it is pending again"
        ),
        "{}",
        out.stderr
    );
    assert!(seen_by(&p, "001-half-done").contains(&"001-in_progress-half-done.md".into()));
    assert_eq!(files(&p), ["001-completed-half-done.md"]);
}

#[test]
fn an_interrupted_run_leaves_no_item_in_progress_and_a_second_run_is_refused() {
    let p = project(&[
        ("001-pending-forever.md", "HANG here"),
        ("002-pending-after.md", "BlockedBy: 1\nNever runs."),
    ]);
    let child = agent_command(&p, &["queue", "run", "--no-progress"], &[])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let hanging = p.join("calls/001-forever.1.start");
    assert!(
        wait_for(Duration::from_secs(20), || hanging.exists()),
        "the agent never started"
    );
    assert_eq!(
        files(&p),
        ["001-in_progress-forever.md", "002-pending-after.md"]
    );

    let second = queue(&p, &["run"], &[]);
    second.expect_code(2);
    assert!(
        second
            .stderr
            .contains("another fanout run is working on the queue"),
        "{}",
        second.stderr
    );
    let status = p.fanout(&["queue", "status"]);
    assert!(
        status
            .stdout
            .contains("in_progress  forever  -           running"),
        "{}",
        status.stdout
    );

    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert_eq!(
        files(&p),
        ["001-pending-forever.md", "002-pending-after.md"]
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Stopped: 001-pending-forever.md"), "{err}");
}

/// Runs `fanout queue run` on a queue that must be refused as bad input: exit 2, the
/// message names the problem, no agent starts and no file is renamed.
#[track_caller]
fn refused(items: &[(&str, &str)], expected: &str) {
    let p = project(items);
    let mut before = files(&p);
    before.sort();
    let out = queue(&p, &["run"], &[]);
    out.expect_code(2);
    assert!(out.stderr.contains(expected), "{}", out.stderr);
    assert!(
        out.stderr.contains("nothing was run or renamed"),
        "{}",
        out.stderr
    );
    assert_eq!(files(&p), before, "nothing renamed");
    let calls = std::fs::read_dir(p.join("calls")).unwrap().count();
    assert_eq!(calls, 0, "no agent started");
}

#[test]
fn a_bad_file_name_is_refused() {
    refused(
        &[
            ("001-in_progress-left.md", "x"),
            ("002-done-finished.md", "y"),
        ],
        ".agent/queue/002-done-finished.md: not a work item's name: `done` is not a status",
    );
    refused(
        &[("001-pending-a.md", "x"), ("notes.md", "y")],
        ".agent/queue/notes.md: not a work item's name",
    );
}

#[test]
fn a_blocked_by_line_naming_a_non_number_is_refused_with_its_line() {
    refused(
        &[
            ("001-in_progress-left.md", "x"),
            ("002-pending-b.md", "# B\n\nBlockedBy: 001, schema\nDo b."),
        ],
        ".agent/queue/002-pending-b.md:3: `BlockedBy:` lists `schema`, which is not an item number",
    );
}

#[test]
fn two_items_with_one_number_are_refused() {
    refused(
        &[
            ("001-in_progress-left.md", "x"),
            ("002-pending-b.md", "b"),
            ("2-completed-c.md", "c"),
        ],
        ".agent/queue/2-completed-c.md: number 2 is also the number of 002-pending-b.md",
    );
}

#[test]
fn a_cycle_is_refused_with_its_path() {
    refused(
        &[
            ("001-in_progress-left.md", "x"),
            ("002-pending-b.md", "BlockedBy: 3\nb"),
            ("003-pending-c.md", "BlockedBy: 4\nc"),
            ("004-pending-d.md", "d\nBlockedBy: 2"),
        ],
        ".agent/queue/002-pending-b.md:1: the items wait for each other in a cycle: 002 waits for 003 waits for 004 waits for 002",
    );
}

#[test]
fn a_missing_queue_directory_is_a_usage_error() {
    let p = Project::new();
    let out = p.fanout(&["queue", "run"]);
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("there is no queue directory .agent/queue"),
        "{}",
        out.stderr
    );
    p.fanout(&["queue", "status", "elsewhere"]).expect_code(2);
}

#[test]
fn l3_goes_on_even_when_every_item_fails_alike() {
    let names: Vec<String> = (1..=7)
        .map(|n| format!("{n:03}-pending-job{n}.md"))
        .collect();
    let items: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "FAIL")).collect();
    let p = project(&items);
    let out = queue(&p, &["run", "--autonomy", "L3", "--max-parallel", "1"], &[]);
    out.expect_code(1);
    let expected: Vec<String> = (1..=7)
        .map(|n| format!("{n:03}-blocked-job{n}.md"))
        .collect();
    assert_eq!(files(&p), expected, "{}", out.stderr);
}

/// A run renames items while `fanout queue status` reads them: a listing taken during a
/// rename must not make status report a malformed queue, nor miss an item.
#[test]
fn status_during_a_run_sees_every_item_once() {
    let names: Vec<String> = (1..=40)
        .map(|n| format!("{n:03}-pending-job{n}.md"))
        .collect();
    let items: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "Do it.")).collect();
    let p = project(&items);
    let mut run = agent_command(
        &p,
        &["queue", "run", "--no-progress", "--max-parallel", "4"],
        &[],
    )
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    while run.try_wait().unwrap().is_none() {
        let status = p.fanout(&["queue", "status", "--json"]);
        status.expect_code(0);
        assert_eq!(status.json()["total"], 40, "{}", status.stdout);
    }
    assert_eq!(run.wait().unwrap().code(), Some(0));
    assert!(files(&p).iter().all(|f| f.contains("-completed-")));
}

#[test]
fn a_rename_that_fails_is_an_error_that_says_what_to_do() {
    let p = project(&[
        ("001-pending-schema.md", "Write the schema."),
        ("002-pending-api.md", "Build the API."),
    ]);
    // Something takes the name 001 would have when it completes.
    let in_the_way = p.join(&format!("{QUEUE}/001-completed-schema.md"));
    let out = queue(
        &p,
        &["run", "--max-parallel", "1"],
        &[("FAKE_AGENT_TOUCH", in_the_way.to_str().unwrap())],
    );
    out.expect_code(3);
    assert_eq!(
        files(&p),
        [
            "001-completed-schema.md",
            "001-in_progress-schema.md",
            "002-completed-api.md",
        ]
    );
    let err = &out.stderr;
    assert!(err.contains("Queue: 2 completed"), "{err}");
    assert!(
        err.contains("error: failed to rename .agent/queue/001-in_progress-schema.md to .agent/queue/001-completed-schema.md"),
        "{err}"
    );
    assert!(
        err.contains(
            "  001-in_progress-schema.md should be 001-completed-schema.md (its agent succeeded): \
             rename it by hand, else the next run runs the item again"
        ),
        "{err}"
    );
}

#[test]
fn l1_and_l2_stop_a_running_item_when_another_fails_and_it_is_pending_again() {
    for level in ["L1", "L2"] {
        let p = project(&[
            ("001-pending-migrate.md", "FAIL the migration"),
            ("002-pending-slow.md", "HANG over the docs"),
        ]);
        // 001 fails only once 002's agent is running.
        let slow_started = p.join("calls/002-slow.1.start");
        let out = queue(
            &p,
            &["run", "--autonomy", level, "--max-parallel", "2"],
            &[("FAKE_AGENT_WAIT_FOR", slow_started.to_str().unwrap())],
        );
        out.expect_code(1);
        assert_eq!(
            files(&p),
            ["001-blocked-migrate.md", "002-pending-slow.md"],
            "{level}"
        );
        assert!(started(&p, "002-slow"), "{level}");
        assert!(!p.join("calls/002-slow.1.end").exists(), "{level}");
        let err = &out.stderr;
        assert!(
            err.contains("Queue: 0 completed, 1 failed, 1 stopped (pending again)"),
            "{level}: {err}"
        );
        assert!(
            err.contains("Stopped: 002-pending-slow.md"),
            "{level}: {err}"
        );
    }
}
