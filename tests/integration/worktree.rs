//! Worktree isolation on real git repositories: parallel tasks merged back, conflicts kept
//! apart, dependents starting from merged work, a dirty checkout refused, and leftovers of
//! a killed run cleaned.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::harness::{Project, wait_for};

/// `git args` in `dir`, with no global configuration; panics unless it succeeds.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_command(dir, args).output().expect("git starts");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
}

fn git_command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    cmd
}

/// A project that is a git repository on branch `main` with the plan committed.
fn repo(plan: &str) -> Project {
    let p = Project::new();
    p.file(".gitignore", ".fanout/\n")
        .file("a.txt", "one\ntwo\nthree\n")
        .file("fanout.toml", plan);
    let dir = p.path();
    git(dir, &["init", "--quiet", "--initial-branch=main"]);
    git(dir, &["config", "user.name", "Fanout Test"]);
    git(dir, &["config", "user.email", "test@example.com"]);
    git(dir, &["config", "commit.gpgsign", "false"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "--quiet", "-m", "init"]);
    p
}

fn run(p: &Project, args: &[&str]) -> crate::harness::RunOutput {
    let out = p
        .command(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("fanout starts");
    crate::harness::RunOutput {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Only the main worktree is left, and no `fanout/` branch.
#[track_caller]
fn assert_no_leftovers(dir: &Path) {
    let worktrees = git(dir, &["worktree", "list", "--porcelain"]);
    assert_eq!(
        worktrees.matches("worktree ").count(),
        1,
        "only the main worktree: {worktrees}"
    );
    let branches = git(dir, &["branch", "--list", "fanout/*"]);
    assert!(branches.is_empty(), "stray branches: {branches}");
}

fn status_of<'a>(json: &'a serde_json::Value, id: &str) -> &'a str {
    json["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("no task {id}"))["status"]
        .as_str()
        .unwrap()
}

#[test]
fn twenty_parallel_tasks_changing_different_files_are_all_merged() {
    let mut plan = String::from("[settings]\nisolate = \"worktree\"\njobs = 8\n");
    for i in 0..20 {
        plan.push_str(&format!(
            "[[task]]\nid = \"t{i}\"\nsubject = \"write f{i}\"\nrun = \"echo {i} > f{i}.txt\"\n"
        ));
    }
    let p = repo(&plan);
    let out = run(&p, &["run", "--no-progress", "--json"]);
    out.expect_code(0);
    let dir = p.path();
    for i in 0..20 {
        assert_eq!(p.read(&format!("f{i}.txt")).trim(), i.to_string());
        // Each task's own commit is on main, with its id and subject.
        let subject = format!("t{i}: write f{i}");
        let found = git(
            dir,
            &[
                "log",
                "main",
                "--no-merges",
                "--format=%s",
                "--fixed-strings",
                "--grep",
                &subject,
            ],
        );
        assert_eq!(found, subject);
    }
    let merges = git(dir, &["rev-list", "--merges", "--count", "main"]);
    assert_eq!(merges, "20");
    assert_eq!(git(dir, &["symbolic-ref", "HEAD"]), "refs/heads/main");
    assert!(git(dir, &["status", "--porcelain"]).is_empty());
    assert_no_leftovers(dir);
    let json = out.json();
    for t in json["tasks"].as_array().unwrap() {
        assert_eq!(t["status"], "succeeded");
        assert_eq!(t["changed"].as_array().unwrap().len(), 1);
        assert_eq!(t["worktree"]["outcome"], "merged");
    }
    assert!(json.get("overlaps").is_none());
}

#[test]
fn tasks_changing_the_same_lines_merge_once_and_keep_the_other_branch() {
    // Both start at once (two slots) and both rewrite the second line.
    let p = repo(
        r#"
[settings]
isolate = "worktree"
jobs = 2
[[task]]
id = "left"
run = "sleep 0.3 && sed -i 's/two/LEFT/' a.txt"
[[task]]
id = "right"
run = "sleep 0.3 && sed -i 's/two/RIGHT/' a.txt"
"#,
    );
    let dir = p.path();
    let before = git(dir, &["rev-parse", "main"]);
    let out = run(&p, &["run", "--no-progress", "--json"]);
    out.expect_code(1);
    let json = out.json();
    let (merged, conflicted) = if status_of(&json, "left") == "succeeded" {
        ("LEFT", "right")
    } else {
        ("RIGHT", "left")
    };
    assert_eq!(status_of(&json, conflicted), "merge_conflict", "{json}");
    let task = json["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == conflicted)
        .unwrap();
    assert_eq!(task["worktree"]["conflicts"], serde_json::json!(["a.txt"]));
    assert_eq!(json["overlaps"][0]["path"], "a.txt");

    // The integration branch holds exactly the merged side; no markers anywhere.
    let content = p.read("a.txt");
    assert_eq!(content, format!("one\n{merged}\nthree\n"));
    let on_main = git(dir, &["show", "main:a.txt"]);
    assert!(!on_main.contains("<<<<<<<") && !on_main.contains(">>>>>>>"));
    assert_eq!(git(dir, &["symbolic-ref", "HEAD"]), "refs/heads/main");
    assert_eq!(
        git(dir, &["rev-parse", "HEAD"]),
        git(dir, &["rev-parse", "main"])
    );
    assert_ne!(git(dir, &["rev-parse", "main"]), before);
    assert!(git(dir, &["status", "--porcelain"]).is_empty());
    assert!(!dir.join(".git/MERGE_HEAD").exists());
    git(dir, &["fsck", "--no-progress"]);

    // The conflicting branch is intact, with its own change, and its worktree kept.
    let run_id = json["run_id"].as_str().unwrap();
    let branch = format!("fanout/{run_id}/{conflicted}");
    let theirs = git(dir, &["show", &format!("{branch}:a.txt")]);
    assert_eq!(theirs, format!("one\n{}\nthree", conflicted.to_uppercase()));
    let kept = task["worktree"]["path"].as_str().unwrap();
    assert!(Path::new(kept).is_dir());
    // The printed commands name the branch to merge.
    assert!(
        out.stderr.contains(&format!("git merge {branch}")),
        "{}",
        out.stderr
    );

    // `fanout clean --worktrees` removes what is left.
    run(&p, &["clean", "--worktrees"]).expect_code(0);
    assert_no_leftovers(dir);
}

#[test]
fn a_dependent_starts_from_its_dependencys_merged_work() {
    let p = repo(
        r#"
[settings]
isolate = "worktree"
[[task]]
id = "make"
run = "echo made > dep.txt"
[[task]]
id = "use"
after = ["make"]
run = "cat dep.txt > seen.txt"
"#,
    );
    run(&p, &["run", "--no-progress"]).expect_code(0);
    assert_eq!(p.read("seen.txt"), "made\n");
    assert_no_leftovers(p.path());
}

#[test]
fn a_checkout_with_uncommitted_changes_is_refused() {
    let p = repo(
        r#"
[[task]]
id = "t"
isolate = "worktree"
run = "echo x > ran.txt"
"#,
    );
    p.file("a.txt", "changed by hand\n");
    let out = run(&p, &["run", "--no-progress"]);
    out.expect_code(2);
    assert!(out.stderr.contains("uncommitted changes"), "{}", out.stderr);
    assert!(out.stderr.contains("git stash"), "{}", out.stderr);
    assert!(!p.join("ran.txt").exists());
    assert_eq!(p.read("a.txt"), "changed by hand\n");
}

#[test]
fn copy_and_setup_prepare_each_worktree_and_a_failed_setup_fails_the_task() {
    let p = repo(
        r#"
[settings]
isolate = "worktree"
[worktree]
copy = ["local.env"]
setup = "cat local.env > prepared.txt"
[[task]]
id = "t"
run = "cat prepared.txt > out.txt"
"#,
    );
    p.file("local.env", "SECRET=1\n");
    run(&p, &["run", "--no-progress"]).expect_code(0);
    assert_eq!(p.read("out.txt"), "SECRET=1\n");
    // The copied file is the user's, never committed.
    let tracked = git(p.path(), &["ls-files"]);
    assert!(!tracked.contains("local.env"), "{tracked}");

    p.file(
        "fanout.toml",
        "[worktree]\nsetup = \"echo no deps; exit 3\"\n[[task]]\nid = \"t\"\nisolate = \"worktree\"\nrun = \"true\"\n",
    );
    git(p.path(), &["commit", "--quiet", "-am", "failing setup"]);
    let out = run(&p, &["run", "--no-progress"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("worktree setup `echo no deps; exit 3` failed with exit code 3"),
        "{}",
        out.stderr
    );
}

#[test]
fn clean_worktrees_after_a_killed_run_leaves_only_the_main_worktree() {
    let p = repo(
        r#"
[settings]
isolate = "worktree"
jobs = 3
[[task]]
id = "quick"
run = "echo q > q.txt"
[[task]]
id = "slow1"
run = "sleep 30"
[[task]]
id = "slow2"
run = "sleep 30"
"#,
    );
    let mut child = p
        .command(&["run", "--no-progress"])
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let dir = p.path().to_path_buf();
    // While fanout is adding worktrees, `git worktree list` may fail: that is "not yet".
    let started = wait_for(Duration::from_secs(20), || {
        git_command(&dir, &["worktree", "list"])
            .output()
            .is_ok_and(|o| o.status.success() && o.stdout.split(|b| *b == b'\n').count() > 3)
    });
    assert!(started, "the slow tasks' worktrees appear");
    child.kill().unwrap();
    child.wait().unwrap();
    // A git command fanout had started may outlive it for a moment.
    wait_for(Duration::from_secs(10), || {
        !dir.join(".git/index.lock").exists()
    });
    assert!(git(&dir, &["branch", "--list", "fanout/*"]).contains("slow"));

    let out = run(&p, &["clean", "--worktrees"]);
    out.expect_code(0);
    assert!(out.stdout.contains("worktree(s)"), "{}", out.stdout);
    assert_no_leftovers(&dir);
    assert!(git(&dir, &["status", "--porcelain"]).is_empty());
}

const ROADMAP: &str = "# Roadmap

### PRIORITY 65: Recipe management
**Status:** 📝 Planned
Files: shared.txt, recipes.txt

Store recipes.

### PRIORITY 66: Shopping list
**Status:** Planned
Files: shared.txt

Make lists.

### PRIORITY 67: Export
**Status:** 📝 Planned
Files: export.txt

Export everything.

### PRIORITY 68: Old work
**Status:** ✅ Complete
";

#[test]
fn a_roadmap_runs_planned_priorities_serializing_overlapping_files() {
    let p = repo("");
    p.file("ROADMAP.md", ROADMAP);
    git(p.path(), &["add", "ROADMAP.md"]);
    git(p.path(), &["commit", "--quiet", "-m", "roadmap"]);

    let check = run(&p, &["roadmap", "ROADMAP.md", "--check"]);
    check.expect_code(0);
    let text = &check.stdout;
    assert!(text.contains("3 planned priorities"), "{text}");
    let (independent, conflicts) = text.split_once("conflicts").unwrap();
    assert!(
        independent.contains("65 & 67") && independent.contains("66 & 67"),
        "{text}"
    );
    assert!(conflicts.contains("65 & 66  (shared.txt)"), "{text}");

    // The "agent" keeps what it was given and appends to the shared file; were 65 and 66
    // run side by side, their appends would conflict.
    let agent = "cat > got-$FANOUT_PRIORITY.md && case $FANOUT_PRIORITY in 65|66) \
                 sleep 0.3; echo $FANOUT_PRIORITY >> shared.txt;; esac";
    let out = run(
        &p,
        &[
            "roadmap",
            "ROADMAP.md",
            "--agent",
            agent,
            "--max",
            "3",
            "--no-progress",
        ],
    );
    out.expect_code(0);
    for n in ["65", "66", "67"] {
        let got = p.read(&format!("got-{n}.md"));
        assert!(got.starts_with(&format!("### PRIORITY {n}:")), "{got}");
    }
    assert!(p.read("got-65.md").contains("Store recipes."));
    assert!(!p.read("got-65.md").contains("PRIORITY 66"));
    let mut shared: Vec<String> = p.read("shared.txt").lines().map(str::to_owned).collect();
    shared.sort();
    assert_eq!(shared, ["65", "66"]);
    let roadmap = p.read("ROADMAP.md");
    assert_eq!(roadmap.matches("✅ Complete (").count(), 3, "{roadmap}");
    assert!(roadmap.contains("### PRIORITY 68: Old work\n**Status:** ✅ Complete\n"));
    assert_no_leftovers(p.path());
}

#[test]
fn a_roadmap_uses_the_project_files_worktree_settings() {
    let p = repo("");
    p.file("ROADMAP.md", ROADMAP);
    git(p.path(), &["add", "ROADMAP.md"]);
    git(p.path(), &["commit", "--quiet", "-m", "roadmap"]);
    // Untracked: only `[worktree] copy` brings it into the priorities' worktrees.
    p.file("secret.env", "TOKEN=1\n");
    p.file("fanout.toml", "[worktree]\ncopy = [\"secret.env\"]\n");
    git(p.path(), &["add", "fanout.toml"]);
    git(p.path(), &["commit", "--quiet", "-m", "project settings"]);
    let out = run(
        &p,
        &[
            "roadmap",
            "ROADMAP.md",
            "--agent",
            "cat > /dev/null && test -e secret.env",
            "--no-progress",
        ],
    );
    out.expect_code(0);
    assert_eq!(p.read("ROADMAP.md").matches("✅ Complete (").count(), 3);
}

#[test]
fn an_agent_task_in_a_worktree_is_merged_back_only_when_the_agent_succeeded() {
    let p = repo(
        "[agents.claude]\nstart_interval = \"0s\"\n\n\
         [[task]]\nid = \"good\"\nprompt = \"fine\"\nisolate = \"worktree\"\n\n\
         [[task]]\nid = \"bad\"\nprompt = \"ISERROR\"\nisolate = \"worktree\"\n\n\
         [[task]]\nid = \"cx\"\nagent = \"codex\"\nprompt = \"fine too\"\nisolate = \"worktree\"\n",
    );
    p.file(".gitignore", ".fanout/\ncalls/\n");
    git(
        p.path(),
        &[
            "commit",
            "--quiet",
            "-am",
            "ignore the fake agents' records",
        ],
    );
    let out = crate::agents::agent_command(&p, &["run", "--json"], &[("FAKE_AGENT_WRITE", "1")])
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("fanout starts");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // The agent that succeeded had its work merged; the one reporting an error did not.
    assert_eq!(p.read("good.out"), "fine\n", "{stderr}");
    assert_eq!(p.read("cx.out"), "fine too\n");
    assert!(!p.join("bad.out").exists(), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status_of(&json, "good"), "succeeded");
    assert_eq!(status_of(&json, "bad"), "failed");
    // Each agent ran in its own worktree; codex was pointed at it with `-C`.
    let pwd = |id: &str| p.read(&format!("calls/{id}.1.pwd")).trim().to_owned();
    let root = p.path().canonicalize().unwrap();
    for id in ["good", "bad", "cx"] {
        assert_ne!(Path::new(&pwd(id)), root, "{id} ran in the checkout itself");
    }
    let codex = crate::agents::argv(&p, "cx", 1);
    let dir = codex
        .iter()
        .position(|a| a == "-C")
        .map(|i| codex[i + 1].clone());
    assert_eq!(dir, Some(pwd("cx")));
}
