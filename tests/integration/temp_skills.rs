//! Temporary skills: made for agent tasks that name a skill no root has, counted per run,
//! and collected by `fanout skills gc` at clock times set with `FANOUT_NOW`.

use crate::agents::{argv, run_agents};
use crate::harness::{Project, RunOutput};

/// Day 0 of every test, in seconds since 1970.
const DAY0: u64 = 1_800_000_000;

fn at(day: u64) -> String {
    (DAY0 + day * 86_400).to_string()
}

/// A plan of one agent task per skill, `use-NAME` naming `NAME`.
fn plan(p: &Project, skills: &[&str]) {
    let mut text = String::from("[agents.claude]\nstart_interval = \"0s\"\n");
    for s in skills {
        text.push_str(&format!(
            "\n[[task]]\nid = \"use-{s}\"\nprompt = \"work with {s}\"\nskill = \"{s}\"\n"
        ));
    }
    p.file("plan.toml", &text);
}

/// `fanout run plan.toml TASKS…` on `day`, with the project as the home directory (so
/// that no skill of the machine's own `~/.claude/skills` is found).
fn run_on(p: &Project, day: u64, tasks: &[&str]) -> RunOutput {
    let ids: Vec<String> = tasks.iter().map(|t| format!("use-{t}")).collect();
    let mut args = vec!["run", "plan.toml", "--no-progress"];
    args.extend(ids.iter().map(String::as_str));
    let home = p.path().display().to_string();
    let out = run_agents(p, &args, &[("FANOUT_NOW", &at(day)), ("HOME", &home)]);
    out.expect_code(0);
    out
}

fn fanout_on(p: &Project, day: u64, args: &[&str]) -> RunOutput {
    let out = p.command(args).env("FANOUT_NOW", at(day)).output().unwrap();
    RunOutput {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `(name, path, uses, created day, last used day, kept)` of every recorded skill.
fn rows(p: &Project) -> Vec<(String, String, i64, f64, Option<f64>, bool)> {
    let conn = rusqlite::Connection::open(p.join(".fanout/fanout.db")).unwrap();
    let day = |secs: f64| (secs - DAY0 as f64) / 86_400.0;
    let mut stmt = conn
        .prepare("SELECT name, path, uses, created, last_used, kept FROM temp_skills ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            day(r.get(3)?),
            r.get::<_, Option<f64>>(4)?.map(day),
            r.get(5)?,
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn exists(p: &Project, skill: &str) -> bool {
    p.join(&format!(".fanout/skills/{skill}/SKILL.md"))
        .is_file()
}

#[test]
fn a_missing_skill_is_made_from_the_template_and_each_run_counts_one_use() {
    let p = Project::new();
    plan(&p, &["lint"]);
    let first = run_on(&p, 0, &[]);
    let skill_md = p.read(".fanout/skills/lint/SKILL.md");
    assert!(skill_md.starts_with("---\nname: lint\n"), "{skill_md}");
    assert!(skill_md.contains("# lint"), "{skill_md}");
    assert!(
        first
            .stderr
            .contains("the skill `lint` is in no skill root; created"),
        "{}",
        first.stderr
    );
    assert_eq!(
        rows(&p),
        [(
            "lint".into(),
            "skills/lint".into(),
            1,
            0.0,
            Some(0.0),
            false
        )]
    );
    // The agent is told where the skill is, and that it is a template to improve.
    let prompt = argv(&p, "use-lint", 1).pop().unwrap();
    let path = p.join(".fanout/skills/lint/SKILL.md");
    assert!(
        prompt.contains(&format!("Use the `lint` skill: {}.", path.display())),
        "{prompt}"
    );
    assert!(prompt.contains("temporary skill"), "{prompt}");

    // The next run finds it where it was made: used again, not made again.
    p.file(
        ".fanout/skills/lint/SKILL.md",
        "---\nname: lint\n---\nlearned\n",
    );
    let second = run_on(&p, 2, &[]);
    assert!(!second.stderr.contains("created"), "{}", second.stderr);
    assert_eq!(
        p.read(".fanout/skills/lint/SKILL.md"),
        "---\nname: lint\n---\nlearned\n"
    );
    assert_eq!(
        rows(&p),
        [(
            "lint".into(),
            "skills/lint".into(),
            2,
            0.0,
            Some(2.0),
            false
        )]
    );
}

#[test]
fn a_skill_in_a_root_is_used_where_it_is_and_not_counted() {
    let p = Project::new();
    plan(&p, &["deploy", "review"]);
    p.file(".claude/skills/deploy/SKILL.md", "---\nname: deploy\n---\n");
    run_on(&p, 0, &[]);
    let prompt = argv(&p, "use-deploy", 1).pop().unwrap();
    let path = p.join(".claude/skills/deploy/SKILL.md");
    assert!(
        prompt.ends_with(&format!("Use the `deploy` skill: {}.", path.display())),
        "{prompt}"
    );
    assert!(!exists(&p, "deploy"));
    assert!(exists(&p, "review"));
    assert_eq!(rows(&p).len(), 1);

    // `[skills] roots` in the project file replaces the default roots.
    let q = Project::new();
    plan(&q, &["deploy"]);
    q.file("fanout.toml", "[skills]\nroots = [\"agent-skills\"]\n");
    q.file(
        "agent-skills/ops/deploy/SKILL.md",
        "---\nname: deploy\n---\n",
    );
    run_on(&q, 0, &[]);
    let prompt = argv(&q, "use-deploy", 1).pop().unwrap();
    assert!(
        prompt.contains("agent-skills/ops/deploy/SKILL.md"),
        "{prompt}"
    );
    assert!(!exists(&q, "deploy"));
}

#[test]
fn a_dry_run_makes_and_records_nothing() {
    let p = Project::new();
    plan(&p, &["lint"]);
    let out = run_agents(&p, &["run", "plan.toml", "--dry-run"], &[]);
    out.expect_code(0);
    assert!(!p.join(".fanout/skills").exists());
    assert!(!p.join(".fanout/fanout.db").exists());
}

#[test]
fn gc_keeps_and_deletes_by_the_rules_at_the_clock_it_is_given() {
    let p = Project::new();
    plan(&p, &["once", "twice", "often", "marked"]);
    run_on(&p, 0, &["once", "twice", "often", "marked"]);
    run_on(&p, 1, &["twice", "often"]);
    run_on(&p, 2, &["often"]);
    fanout_on(&p, 2, &["skills", "keep", "marked"]).expect_code(0);

    // Day 7: everything was used in the last 7 days.
    let out = fanout_on(&p, 7, &["skills", "gc", "--dry-run"]);
    out.expect_code(0);
    assert_eq!(
        out.stdout,
        "keep marked — marked with `fanout skills keep`\n\
         keep often — used 3 times\n\
         keep once — used once, last 7 days ago\n\
         keep twice — used 2 times, last 6 days ago\n\
         4 temporary skill(s): 4 kept, 0 would be deleted\n"
    );

    // Day 9: `once` is idle for more than 7 days; a dry run says so and deletes nothing.
    let out = fanout_on(&p, 9, &["skills", "gc", "--dry-run"]);
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("would delete once — used once, idle 9 days\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("keep twice — used 2 times, idle 8 days; deleted once unused for 30 days\n"),
        "{}",
        out.stdout
    );
    assert!(exists(&p, "once"));
    assert_eq!(rows(&p).len(), 4);

    let out = fanout_on(&p, 9, &["skills", "gc"]);
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("delete once — used once, idle 9 days\n"),
        "{}",
        out.stdout
    );
    assert!(!exists(&p, "once"));
    assert!(!p.join(".fanout/skills/once").exists());
    assert!(exists(&p, "twice") && exists(&p, "often") && exists(&p, "marked"));
    let names: Vec<String> = rows(&p).into_iter().map(|r| r.0).collect();
    assert_eq!(names, ["marked", "often", "twice"]);

    // Day 31: `twice` is unused for 30 days; the often used and the marked stay.
    let out = fanout_on(&p, 31, &["skills", "gc", "--json"]);
    out.expect_code(0);
    let json = out.json();
    let verdicts: Vec<(&str, &str, &str)> = json["skills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap(),
                s["verdict"].as_str().unwrap(),
                s["rule"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("marked", "keep", "marked"),
            ("often", "keep", "often-used"),
            ("twice", "delete", "unused"),
        ]
    );
    assert_eq!(json["skills"][2]["reason"], "unused for 30 days");
    assert!(!exists(&p, "twice"));
    assert!(exists(&p, "often") && exists(&p, "marked"));

    // A skill deleted by gc is made afresh when a task names it again.
    run_on(&p, 40, &["once"]);
    assert!(exists(&p, "once"));
    let once = rows(&p).into_iter().find(|r| r.0 == "once").unwrap();
    assert_eq!((once.2, once.3), (1, 40.0));
}

#[test]
fn keep_refuses_a_name_that_is_no_temporary_skill() {
    let p = Project::new();
    plan(&p, &["lint"]);
    let out = p.fanout(&["skills", "keep", "lint"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("no temporary skill `lint`"),
        "{}",
        out.stderr
    );
    run_on(&p, 0, &[]);
    let out = p.fanout(&["skills", "keep", "lnit"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("did you mean `lint`?"),
        "{}",
        out.stderr
    );
    assert!(!rows(&p)[0].5);
    p.fanout(&["skills", "keep", "lint"]).expect_code(0);
    assert!(rows(&p)[0].5);
}

#[test]
fn gc_reads_a_first_schema_store_and_a_bad_clock_is_a_usage_error() {
    let p = Project::new();
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store/schema-v1.db");
    std::fs::create_dir_all(p.join(".fanout")).unwrap();
    std::fs::copy(&fixture, p.join(".fanout/fanout.db")).unwrap();
    let out = p.fanout(&["skills", "gc"]);
    out.expect_code(0);
    assert!(
        out.stdout.starts_with("no temporary skills in"),
        "{}",
        out.stdout
    );
    assert!(rows(&p).is_empty());

    for bad in ["next tuesday", "1e300"] {
        let out = p
            .command(&["skills", "gc"])
            .env("FANOUT_NOW", bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("FANOUT_NOW"));
    }
}

#[test]
fn a_skill_name_that_leaves_the_state_directory_names_no_folder() {
    let p = Project::new();
    // A real skill outside the state directory, which the bad name points at.
    p.file(
        "src/SKILL.md",
        "---\nname: src\ndescription: Use when never.\n---\n",
    );
    p.file(
        "plan.toml",
        "[agents.claude]\nstart_interval = \"0s\"\n\n[[task]]\nid = \"bad\"\nprompt = \"go\"\nskill = \"../../src\"\n",
    );
    let home = p.path().display().to_string();
    let out = run_agents(
        &p,
        &["run", "plan.toml"],
        &[("FANOUT_NOW", &at(0)), ("HOME", &home)],
    );
    out.expect_code(0);
    assert!(out.stderr.contains("is not a valid name"), "{}", out.stderr);
    assert!(rows(&p).is_empty());
    let prompt = argv(&p, "bad", 1).pop().unwrap();
    assert!(!prompt.contains("SKILL.md"), "{prompt}");
    assert!(!prompt.contains("temporary"), "{prompt}");
}
