//! Agent tasks, run against the fake agent CLIs in `tests/fixtures/agents/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{Project, RunOutput, json_start};

fn fakes() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/agents")
}

/// A `fanout` command with the fake agents first on PATH, recording into `calls/`.
pub(crate) fn agent_command(p: &Project, args: &[&str], extra_env: &[(&str, &str)]) -> Command {
    std::fs::create_dir_all(p.join("calls")).unwrap();
    let path = format!(
        "{}:{}",
        fakes().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = p.command(args);
    cmd.env("PATH", path).env("FAKE_AGENT_DIR", p.join("calls"));
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd
}

/// `fanout` with the fake agents first on PATH, recording into `calls/`.
pub(crate) fn run_agents(p: &Project, args: &[&str], extra_env: &[(&str, &str)]) -> RunOutput {
    let out = agent_command(p, args, extra_env)
        .output()
        .expect("fanout starts");
    RunOutput {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The argv a fake agent was called with for `task`'s `attempt`.
pub(crate) fn argv(p: &Project, task: &str, attempt: u32) -> Vec<String> {
    let bytes = std::fs::read(p.join(&format!("calls/{task}.{attempt}.argv"))).unwrap();
    bytes
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8(s.to_vec()).unwrap())
        .collect()
}

/// When the fake agent recorded it was `at` (`start` or `end`) for `task`'s `attempt`,
/// in nanoseconds.
pub(crate) fn stamp(p: &Project, task: &str, attempt: u32, at: &str) -> u128 {
    p.read(&format!("calls/{task}.{attempt}.{at}"))
        .trim()
        .parse()
        .unwrap()
}

/// When fanout started `tasks`, as its `--json` result records them, earliest first.
fn json_starts(json: &serde_json::Value, tasks: &[&str]) -> Vec<u128> {
    let mut starts: Vec<u128> = tasks.iter().map(|t| json_start(json, t)).collect();
    starts.sort_unstable();
    starts
}

const FAST: &str = "[agents.claude]\nstart_interval = \"0s\"\n";

#[test]
fn costs_and_tokens_are_summed_per_task_and_in_total() {
    let p = Project::new();
    p.file(
        "plan.toml",
        &format!(
            "{FAST}\n[[task]]\nid = \"a\"\nprompt = \"do a\"\n\n[[task]]\nid = \"b\"\nprompt = \"do b\"\nafter = [\"a\"]\n\n[[task]]\nid = \"c\"\nagent = \"codex\"\nprompt = \"do c\"\n\n[[task]]\nid = \"d\"\nagent = \"gemini\"\nprompt = \"do d\"\n\n[[task]]\nid = \"e\"\nagent = \"aider\"\nprompt = \"do e\"\n"
        ),
    );
    let out = run_agents(
        &p,
        &["run", "plan.toml", "--json"],
        &[("FAKE_AGENT_COST", "0.25")],
    );
    out.expect_code(0);
    let json = out.json();
    let total = &json["agents"];
    // claude a, b and aider e report cost; codex and gemini do not.
    assert!(
        (total["cost_usd"].as_f64().unwrap() - 0.75).abs() < 1e-9,
        "{total}"
    );
    assert_eq!(total["tokens_in"], 500);
    assert_eq!(total["tokens_out"], 100);
    assert_eq!(total["tokens_cached"], 25);
    let a = json["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "a")
        .unwrap();
    assert_eq!(a["agent"]["session_id"], "sess-a-1");
    assert_eq!(a["agent"]["turns"], 3);
    assert!(out.stderr.contains("Agents:"), "{}", out.stderr);
    assert!(out.stderr.contains("$0.7500"), "{}", out.stderr);

    // Recorded in the store, summed by `fanout stats`.
    let stats = p.fanout(&["stats"]);
    stats.expect_code(0);
    assert!(
        stats.stdout.contains("agent cost: $0.7500"),
        "{}",
        stats.stdout
    );
    assert!(
        stats
            .stdout
            .contains("agent tokens: 500 in / 100 out / 25 cached"),
        "{}",
        stats.stdout
    );
}

#[test]
fn success_with_is_error_is_a_failure() {
    let p = Project::new();
    p.file(
        "plan.toml",
        &format!("{FAST}\n[[task]]\nid = \"x\"\nprompt = \"ISERROR please\"\n"),
    );
    let out = run_agents(&p, &["run", "plan.toml", "--json"], &[]);
    out.expect_code(1);
    let task = &out.json()["tasks"][0];
    assert_eq!(task["status"], "failed");
    assert_eq!(task["error"], "API Error: 500 internal");
}

#[test]
fn prompts_arrive_byte_for_byte() {
    let p = Project::new();
    let prompt = "say \"hi\" and 'bye'\nnext line $(rm -rf ~) `touch pwned` ${HOME} \\ -x";
    let json = serde_json::json!({
        "agents": {"claude": {"start_interval": "0s"}},
        "task": [
            {"id": "c", "prompt": prompt, "model": "opus", "allowed_tools": ["Read", "Edit"]},
            {"id": "x", "agent": "codex", "prompt": prompt},
            {"id": "g", "agent": "gemini", "prompt": prompt},
            {"id": "a", "agent": "aider", "prompt": prompt},
        ]
    });
    p.file("plan.json", &json.to_string());
    run_agents(&p, &["run", "plan.json"], &[]).expect_code(0);
    for id in ["c", "x", "g", "a"] {
        let args = argv(&p, id, 1);
        assert_eq!(
            args.last().map(String::as_str),
            Some(prompt),
            "{id}: {args:?}"
        );
    }
    assert!(!p.join("pwned").exists());
    let claude = argv(&p, "c", 1);
    assert_eq!(
        claude,
        [
            "-p",
            "--output-format",
            "json",
            "--model",
            "opus",
            "--allowedTools",
            "Read,Edit",
            "--",
            prompt
        ]
    );
}

/// What a fake agent read on its stdin for `task`'s first attempt.
fn stdin_of(p: &Project, task: &str) -> Vec<u8> {
    std::fs::read(p.join(&format!("calls/{task}.1.stdin"))).unwrap()
}

#[test]
fn prompts_go_through_stdin_when_asked_or_too_long_for_argv() {
    let p = Project::new();
    let tricky = "say \"hi\"\nnext $(rm -rf ~) `touch pwned` -x\n";
    // Longer than Linux lets one argument be (128 KiB).
    let long = format!("{}END", "0123456789abcdef ".repeat(10_000));
    let json = serde_json::json!({
        "agents": {
            "claude": {"start_interval": "0s"},
            "codex": {"prompt_via": "stdin"},
            "aider": {"prompt_via": "stdin"},
            "mine": {"command": ["gemini", "-o", "json", "--model={model}"]},
        },
        "task": [
            {"id": "long", "prompt": long},
            {"id": "x", "agent": "codex", "prompt": tricky},
            {"id": "a", "agent": "aider", "prompt": tricky},
            {"id": "m", "agent": "mine", "prompt": tricky, "model": "m1"},
            {"id": "short", "prompt": tricky},
        ]
    });
    p.file("plan.json", &json.to_string());
    run_agents(&p, &["run", "plan.json"], &[]).expect_code(0);
    assert_eq!(stdin_of(&p, "long"), long.as_bytes());
    assert_eq!(argv(&p, "long", 1), ["-p", "--output-format", "json"]);
    assert_eq!(stdin_of(&p, "x"), tricky.as_bytes());
    assert_eq!(argv(&p, "x", 1).last().map(String::as_str), Some("-"));
    assert_eq!(stdin_of(&p, "a"), tricky.as_bytes());
    assert!(argv(&p, "a", 1).ends_with(&["--message-file".into(), "/dev/stdin".into()]));
    // A custom command without `{prompt}` gets it on stdin.
    assert_eq!(stdin_of(&p, "m"), tricky.as_bytes());
    assert_eq!(argv(&p, "m", 1), ["-o", "json", "--model=m1"]);
    // The default stays one argv element, with nothing on stdin.
    assert!(stdin_of(&p, "short").is_empty());
    assert_eq!(
        argv(&p, "short", 1).last().map(String::as_str),
        Some(tricky)
    );
    assert!(!p.join("pwned").exists());
}

#[test]
fn an_unknown_prompt_via_is_refused_with_its_place() {
    let p = Project::new();
    p.file(
        "plan.toml",
        "[agents.claude]\nprompt_via = \"pipe\"\n\n[[task]]\nid = \"a\"\nprompt = \"hi\"\n",
    );
    let out = run_agents(&p, &["run", "plan.toml"], &[]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("unknown prompt_via `pipe`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("plan.toml:2:"), "{}", out.stderr);
    assert!(!p.join("calls/a.1.argv").exists());
}

#[test]
fn the_bare_task_array_runs_with_the_default_agent_and_models_by_type() {
    let p = Project::new();
    p.file(
        "tasks.json",
        r#"[
  {"id": "1", "subject": "Prepare", "run": "touch prepared"},
  {"id": "2", "subject": "Review", "prompt": "Review the code", "blockedBy": ["1"], "type": "security"},
  {"id": "3", "subject": "Check", "prompt": "Check patterns", "blockedBy": ["1"], "required_skill": "lint"}
]"#,
    );
    p.file(
        "fanout.toml",
        "[agents.models]\nsecurity = \"opus\"\ndefault = \"haiku\"\n[agents.claude]\nstart_interval = \"0s\"\n",
    );
    run_agents(&p, &["run", "tasks.json"], &[]).expect_code(0);
    assert!(p.join("prepared").exists());
    let review = argv(&p, "2", 1);
    assert!(
        review.windows(2).any(|w| w == ["--model", "opus"]),
        "{review:?}"
    );
    let check = argv(&p, "3", 1);
    assert!(
        check.windows(2).any(|w| w == ["--model", "haiku"]),
        "{check:?}"
    );
    assert!(check.last().unwrap().contains("`lint` skill"), "{check:?}");
}

#[test]
fn a_spent_budget_stops_new_starts_and_the_report_lists_them() {
    let p = Project::new();
    let mut plan = format!("{FAST}[settings]\njobs = 1\n[budget]\nusd = 1.0\n");
    for i in 0..5 {
        plan.push_str(&format!(
            "\n[[task]]\nid = \"t{i}\"\nprompt = \"do {i}\"\npriority = {}\n",
            10 - i
        ));
    }
    p.file("plan.toml", &plan);
    let out = run_agents(
        &p,
        &["run", "plan.toml", "--json"],
        &[("FAKE_AGENT_COST", "0.4")],
    );
    out.expect_code(1);
    // 0.4, 0.8 (warning at 75%), 1.2: spent; t3 and t4 never start.
    assert!(p.join("calls/t2.1.argv").exists());
    assert!(!p.join("calls/t3.1.argv").exists());
    assert!(!p.join("calls/t4.1.argv").exists());
    let json = out.json();
    let t3 = json["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "t3")
        .unwrap();
    assert_eq!(t3["status"], "not_run");
    assert!(
        t3["withheld"].as_str().unwrap().contains("budget is spent"),
        "{t3}"
    );
    assert!(out.stderr.contains("Not started:"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("warning: budget: spent $0.80 of $1.00 (80%)"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_rate_limited_attempt_is_retried_and_not_counted_as_a_failure() {
    let p = Project::new();
    p.file(
        "plan.toml",
        &format!(
            "{FAST}\n[[task]]\nid = \"r\"\nprompt = \"RATELIMIT_ONCE then work\"\nretries = 0\n"
        ),
    );
    let out = run_agents(&p, &["run", "plan.toml", "--json"], &[]);
    out.expect_code(0);
    let task = &out.json()["tasks"][0];
    assert_eq!(task["status"], "succeeded");
    assert_eq!(task["attempts"], 2);
    assert_eq!(task["agent"]["rate_limited"], 1);
    assert!(p.join("calls/r.2.argv").exists());
}

#[test]
fn concurrency_drops_after_rate_limits_and_recovers() {
    let p = Project::new();
    let mut plan = format!(
        "{FAST}[settings]\njobs = 8\n[limits.anthropic]\nconcurrency = 4\nbreaker_failures = 100\n"
    );
    for i in 0..4 {
        plan.push_str(&format!(
            "\n[[task]]\nid = \"l{i}\"\nprompt = \"RATELIMIT_ONCE {i}\"\npriority = 10\n"
        ));
    }
    for i in 0..12 {
        plan.push_str(&format!(
            "\n[[task]]\nid = \"s{i}\"\nprompt = \"work {i}\"\n"
        ));
    }
    p.file("plan.toml", &plan);
    let out = run_agents(&p, &["run", "plan.toml"], &[("FAKE_AGENT_SLEEP", "0.2")]);
    out.expect_code(0);
    let err = &out.stderr;
    assert!(
        err.contains("limit `anthropic`: rate limited: concurrency 4 → 2"),
        "{err}"
    );
    assert!(err.contains("concurrency 2 → 1"), "{err}");
    assert!(err.contains("concurrency 1 → 2"), "{err}");
    assert!(err.contains("concurrency 3 → 4"), "{err}");
}

#[test]
fn the_breaker_opens_and_closes() {
    let p = Project::new();
    let plan = format!(
        "{FAST}[settings]\njobs = 1\n[limits.anthropic]\nbreaker_failures = 2\nbreaker_cooldown = \"300ms\"\n\n[[task]]\nid = \"f1\"\nprompt = \"FAIL 1\"\npriority = 3\n\n[[task]]\nid = \"f2\"\nprompt = \"FAIL 2\"\npriority = 2\n\n[[task]]\nid = \"ok\"\nprompt = \"fine\"\npriority = 1\n"
    );
    p.file("plan.toml", &plan);
    let out = run_agents(&p, &["run", "plan.toml"], &[]);
    out.expect_code(1);
    let err = &out.stderr;
    assert!(
        err.contains("limit `anthropic`: breaker open for 300ms: 2 failure(s) in a row"),
        "{err}"
    );
    assert!(err.contains("limit `anthropic`: breaker closed"), "{err}");
    // The probe started only after the cool-down.
    let end = stamp(&p, "f2", 1, "end");
    let start = stamp(&p, "ok", 1, "start");
    assert!(start - end >= 250_000_000, "{}", start - end);
}

#[test]
fn claude_starts_are_spaced() {
    let p = Project::new();
    p.file(
        "plan.toml",
        "[settings]\njobs = 3\n[agents.claude]\nstart_interval = \"300ms\"\n\n[[task]]\nid = \"a\"\nprompt = \"a\"\n\n[[task]]\nid = \"b\"\nprompt = \"b\"\n\n[[task]]\nid = \"c\"\nprompt = \"c\"\n",
    );
    let out = run_agents(&p, &["run", "plan.toml", "--json"], &[]);
    out.expect_code(0);
    // fanout's own start times, taken as it lets each attempt start: a loaded machine
    // delays the fake agents' start-up, not these. Each start comes one interval after
    // the one before, less a little for the moment between letting a start through and
    // recording it.
    let starts = json_starts(&out.json(), &["a", "b", "c"]);
    for (k, pair) in starts.windows(2).enumerate() {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= 200_000_000,
            "starts {k} and {} came {gap} ns apart",
            k + 1
        );
    }
    let spread = starts[2] - starts[0];
    assert!(
        spread >= 500_000_000,
        "three starts spread over {spread} ns"
    );
}

#[test]
fn a_rate_spaces_starts_after_its_burst() {
    let p = Project::new();
    let mut plan =
        format!("{FAST}[settings]\njobs = 8\n[limits.anthropic]\nrate = \"5/s\"\nburst = 2\n");
    let ids = ["r0", "r1", "r2", "r3", "r4", "r5"];
    for id in ids {
        plan.push_str(&format!("\n[[task]]\nid = \"{id}\"\nprompt = \"{id}\"\n"));
    }
    p.file("plan.toml", &plan);
    let out = run_agents(&p, &["run", "plan.toml", "--json"], &[]);
    out.expect_code(0);
    // fanout's own start times, as in `claude_starts_are_spaced`.
    let starts = json_starts(&out.json(), &ids);
    // Two at once, then one per 200 ms: the k-th start (k ≥ 2) comes (k − 1) × 200 ms
    // after the first, less a little for the moment between letting a start through and
    // recording it.
    for (k, start) in starts.iter().enumerate().skip(2) {
        let after = start - starts[0];
        let least = (k as u128 - 1) * 200_000_000 - 100_000_000;
        assert!(after >= least, "start {k} came {after} ns after the first");
    }
    let spread = starts[5] - starts[0];
    assert!(spread >= 700_000_000, "six starts spread over {spread} ns");
}
