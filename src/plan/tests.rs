//! Tests over the plan fixtures: the good plans load (and agree across formats), and
//! every bad plan fails with the diagnostic recorded in its snapshot.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::plan::{Action, Backoff, LoadOptions, Plan, PlanError, Task, load};

fn fixtures(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/plans")
        .join(kind)
}

fn load_fixture(kind: &str, name: &str) -> Result<Plan, PlanError> {
    load(&fixtures(kind).join(name), &LoadOptions::default())
}

fn render(err: &PlanError) -> String {
    let mut out = String::new();
    // Wide enough that no line wraps: the fixture paths in the text differ in length from
    // one checkout to another.
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .with_width(10_000)
        .render_report(&mut out, err)
        .expect("rendering to a string cannot fail");
    out
}

/// What a task means, without `Debug` noise: for comparing plans across formats.
fn summary(t: &Task) -> String {
    format!("{t:?}")
}

#[test]
fn the_full_plan_loads_with_every_feature() {
    let plan = load_fixture("good", "full.toml").unwrap();
    let s = &plan.settings;
    assert_eq!(s.jobs, 4);
    assert_eq!(s.timeout, Some(Duration::from_secs(600)));
    assert_eq!(s.retries, 1);
    assert_eq!(s.backoff, Backoff::Fixed(Duration::from_secs(2)));
    assert!(!s.keep_going);
    assert_eq!(s.grace, Duration::from_secs(3));
    assert!(s.retry_failed_serially);
    assert!(!s.systemic_failure_stop);
    assert_eq!(plan.resources.get("gpu"), Some(&2));
    assert_eq!(plan.env.get("CI").map(String::as_str), Some("1"));
    assert_eq!(plan.base_dir, fixtures("good").canonicalize().unwrap());

    let ids: Vec<&str> = plan.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "fetch",
            "build-auth",
            "build-user",
            "test-auth-1",
            "test-auth-2",
            "test-user-1",
            "test-user-2",
            "report",
            "lint",
        ]
    );
    let task = |id: &str| plan.tasks.iter().find(|t| t.id == id).unwrap();
    let fetch = task("fetch");
    assert_eq!(fetch.subject.as_deref(), Some("Fetch dependencies"));
    assert_eq!(
        fetch.action,
        Action::Argv(vec!["cargo".into(), "fetch".into()])
    );
    assert_eq!(fetch.priority, 10);
    assert_eq!(fetch.estimate, Some(Duration::from_secs(30)));
    assert_eq!(
        fetch.timeout,
        Some(Duration::from_secs(600)),
        "from the settings"
    );
    assert_eq!(fetch.retries, 1);

    let build = task("build-user");
    assert_eq!(build.action, Action::Shell("cargo build -p user".into()));
    assert_eq!(build.deps, [0]);
    assert_eq!(build.writes, ["target/user/**"]);
    assert_eq!(build.env.get("SERVICE").map(String::as_str), Some("user"));
    assert_eq!(build.cwd.as_deref(), Some(Path::new("services/user")));

    let test = task("test-user-2");
    assert_eq!(
        test.action,
        Action::Shell("cargo test -p user -- --shard 2".into())
    );
    assert_eq!(test.deps, [2], "the sibling build of the same service");
    assert_eq!(test.uses.get("db"), Some(&1));
    assert_eq!(test.timeout, Some(Duration::from_secs(90)));
    assert_eq!(test.retries, 3);
    assert_eq!(
        test.backoff,
        Backoff::Exponential {
            base: Duration::from_secs(1),
            max: Duration::from_secs(20)
        }
    );

    let report = task("report");
    assert_eq!(
        report.action,
        Action::Agent {
            prompt: "Summarize the test results".into()
        }
    );
    assert_eq!(report.kind.as_deref(), Some("docs"));
    assert_eq!(report.required_skill.as_deref(), Some("writing"));
    assert_eq!(
        report.deps,
        [3, 4, 5, 6, 0, 8],
        "all expansions, then `blocks`"
    );

    let lint = task("lint");
    assert_eq!(
        lint.action,
        Action::Shell("cargo clippy -- -D warnings {not a placeholder}".into())
    );
    assert_eq!(lint.deps, [1, 2], "the glob `build-*`");
}

#[test]
fn the_three_formats_load_to_the_same_plan() {
    let toml = load_fixture("good", "full.toml").unwrap();
    for other in ["full.yaml", "full.json"] {
        let plan = load_fixture("good", other).unwrap();
        assert_eq!(plan.settings, toml.settings, "{other}");
        assert_eq!(plan.resources, toml.resources, "{other}");
        assert_eq!(plan.env, toml.env, "{other}");
        let a: Vec<String> = plan.tasks.iter().map(summary).collect();
        let b: Vec<String> = toml.tasks.iter().map(summary).collect();
        assert_eq!(a, b, "{other}");
    }
}

#[test]
fn a_json_task_list_is_a_plan() {
    let plan = load_fixture("good", "task-list.json").unwrap();
    let ids: Vec<&str> = plan.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3"]);
    assert_eq!(plan.tasks[1].deps, [0]);
    assert_eq!(plan.tasks[2].deps, [0, 1]);
    assert_eq!(plan.tasks[1].required_skill.as_deref(), Some("rust"));
    assert_eq!(plan.tasks[1].kind.as_deref(), Some("feature"));
    assert!(
        matches!(&plan.tasks[0].action, Action::Agent { prompt } if prompt.starts_with("Create"))
    );
}

#[test]
fn every_good_fixture_loads() {
    for entry in std::fs::read_dir(fixtures("good")).unwrap() {
        let path = entry.unwrap().path();
        if let Err(e) = load(&path, &LoadOptions::default()) {
            panic!("{}:\n{}", path.display(), render(&e));
        }
    }
}

#[test]
fn every_bad_fixture_fails_as_recorded() {
    let dir = fixtures("bad");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    assert!(paths.len() >= 18, "one fixture per kind of problem");
    let dir_text = dir.display().to_string();
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let err = match load(&path, &LoadOptions::default()) {
            Ok(_) => panic!("{name} loaded, but it is a bad plan"),
            Err(e) => e,
        };
        assert!(!err.problems().is_empty(), "{name}");
        let rendered = render(&err).replace(&dir_text, "[FIXTURES]");
        insta::assert_snapshot!(name, rendered);
    }
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let err = load_fixture("good", "no-such-plan.toml").unwrap_err();
    assert_eq!(err.problems().len(), 1);
    let problem = &err.problems()[0];
    assert!(
        problem.message.starts_with("cannot read `"),
        "{}",
        problem.message
    );
    assert_eq!((problem.line, problem.column), (0, 0));
    assert!(err.to_string().ends_with("no-such-plan.toml: 1 problem"));
}

/// A generated plan of 100,000 tasks and 300,000 edges, in `format`.
fn large_plan(format: crate::plan::Format) -> String {
    use std::fmt::Write;
    let n = 100_000;
    let deps = |i: usize| -> Vec<String> {
        if i < 8 {
            Vec::new()
        } else {
            [i - 1, i - 3, i / 2]
                .iter()
                .map(|d| format!("\"t{d}\""))
                .collect()
        }
    };
    let mut out = String::with_capacity(n * 80);
    match format {
        crate::plan::Format::Toml => {
            for i in 0..n {
                let d = deps(i).join(", ");
                writeln!(
                    out,
                    "[[task]]\nid = \"t{i}\"\nrun = \"echo {i}\"\nafter = [{d}]\n"
                )
                .unwrap();
            }
        }
        _ => {
            out.push('[');
            for i in 0..n {
                let d = deps(i).join(",");
                let sep = if i + 1 < n { "," } else { "" };
                writeln!(
                    out,
                    "{{\"id\":\"t{i}\",\"run\":\"echo {i}\",\"after\":[{d}]}}{sep}"
                )
                .unwrap();
            }
            out.push(']');
        }
    }
    out
}

/// Plans of 100,000 tasks load whole in both formats. How fast is measured by
/// `scripts/bench/plan_scale.py`, not here.
#[test]
fn large_plans_load_whole() {
    use crate::plan::Format;
    let dir = tempfile::tempdir().unwrap();
    for (format, name) in [(Format::Json, "large.json"), (Format::Toml, "large.toml")] {
        let path = dir.path().join(name);
        std::fs::write(&path, large_plan(format)).unwrap();
        let plan = load(&path, &LoadOptions::default()).unwrap();
        let edges: usize = plan.tasks.iter().map(|t| t.deps.len()).sum();
        assert_eq!(plan.tasks.len(), 100_000, "{name}");
        assert!(edges >= 299_000, "{name}: {edges} edges");
        assert_eq!(plan.tasks[99_999].id, "t99999", "{name}");
    }
}

#[test]
fn the_error_can_cross_threads_and_be_a_report() {
    fn assert_error<E: miette::Diagnostic + std::error::Error + Send + Sync + 'static>() {}
    assert_error::<PlanError>();
    let err = load_fixture("bad", "cycle.toml").unwrap_err();
    let report = miette::Report::new(err);
    assert!(report.to_string().ends_with("cycle.toml: 1 problem"));
}

mod properties {
    //! Any plan text, however wrong, loads or fails with a diagnostic: never a panic.
    use super::*;
    use proptest::prelude::*;

    fn pick(values: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
        proptest::sample::select(values)
    }

    /// One task of a TOML plan, its fields drawn from values both good and bad.
    fn task() -> impl Strategy<Value = String> {
        (
            pick(&["a", "b", "c", "", "a b", "x-{v}", "é", "a\\\"q"]),
            pick(&["true", "", "echo {v}", "echo {w}"]),
            prop::collection::vec(pick(&["a", "b", "c", "zz", "", "x-1", "*"]), 0..3),
            pick(&["", "timeout = \"1s\"", "timeout = \"x\"", "timeout = \"-1s\"", "timeout = 5", "timeout = \"99999999999999999999h\""]),
            pick(&["", "retries = -1", "retries = 3", "retries = 99999999999999999999", "retries = \"2\""]),
            pick(&["", "matrix.v = [\"1\", \"2\"]", "matrix.v = []", "matrix.v = [1, true]", "matrix = 3", "matrix.v = [\"1\"]\nmatrix.w = [\"2\", \"3\"]"]),
            pick(&["", "writes = [\"**\"]", "writes = [\"a/[\"]", "writes = [\"\"]", "writes = \"x\""]),
            pick(&["", "uses = { db = 1 }", "uses = { gpu = 9 }", "uses = { db = -1 }", "uses = 3"]),
            pick(&["", "priority = 10", "estimate = \"2s\"", "estimate = \"x\"", "unknown = 1", "backoff = \"fixed\"", "backoff = \"nope\""]),
        )
            .prop_map(|(id, run, after, timeout, retries, matrix, writes, uses, other)| {
                let after: Vec<String> = after.iter().map(|a| format!("\"{a}\"")).collect();
                format!(
                    "[[task]]\nid = \"{id}\"\nrun = \"{run}\"\nafter = [{}]\n{timeout}\n{retries}\n{matrix}\n{writes}\n{uses}\n{other}\n",
                    after.join(", ")
                )
            })
    }

    fn plan() -> impl Strategy<Value = String> {
        (
            pick(&[
                "",
                "[settings]\njobs = 0",
                "[settings]\njobs = 2",
                "[settings]\njobs = -1",
                "[settings]\njobs = \"x\"\ntimeout = \"1m\"",
                "[settings]\nkeep_going = 3",
            ]),
            pick(&[
                "",
                "[resources]\ndb = 1",
                "[resources]\ndb = 0",
                "[resources]\ndb = -4",
                "[resources]\ndb = \"x\"",
            ]),
            prop::collection::vec(task(), 0..5),
        )
            .prop_map(|(settings, resources, tasks)| {
                format!("{settings}\n{resources}\n{}", tasks.concat())
            })
    }

    fn load_text(text: &str, name: &str) -> Result<Plan, PlanError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        load(&path, &LoadOptions::default())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn any_toml_plan_loads_or_fails_with_a_diagnostic(text in plan()) {
            match load_text(&text, "plan.toml") {
                Ok(plan) => {
                    // Validation refused cycles: a plan that loads makes a graph.
                    let deps = plan.tasks.iter().map(|t| t.deps.clone()).collect();
                    prop_assert!(crate::graph::Dag::new(deps).is_ok());
                }
                Err(err) => {
                    let shown = render(&err);
                    prop_assert!(!shown.is_empty());
                }
            }
        }

        #[test]
        fn any_json_task_array_loads_or_fails_with_a_diagnostic(
            tasks in prop::collection::vec(
                (
                    pick(&["\"1\"", "\"2\"", "1", "null", "\"\"", "[]"]),
                    pick(&["", ", \"subject\": \"s\"", ", \"subject\": 3"]),
                    pick(&["", ", \"prompt\": \"p\"", ", \"run\": \"true\"", ", \"run\": [\"true\"]", ", \"run\": []"]),
                    pick(&["", ", \"blockedBy\": [\"1\"]", ", \"blockedBy\": [\"2\", \"9\"]", ", \"blockedBy\": \"1\"", ", \"blockedBy\": [1]"]),
                    pick(&["", ", \"type\": \"t\"", ", \"required_skill\": \"k\"", ", \"extra\": {}"]),
                ),
                0..4,
            ),
        ) {
            let objects: Vec<String> = tasks
                .iter()
                .map(|(id, subject, action, blocked, other)| {
                    format!("{{\"id\": {id}{subject}{action}{blocked}{other}}}")
                })
                .collect();
            let text = format!("[{}]", objects.join(", "));
            if let Err(err) = load_text(&text, "tasks.json") {
                prop_assert!(!render(&err).is_empty());
            }
        }

        #[test]
        fn any_bytes_load_or_fail_with_a_diagnostic(
            bytes in prop::collection::vec(any::<u8>(), 0..200),
            name in pick(&["p.toml", "p.yaml", "p.json"]),
        ) {
            let text = String::from_utf8_lossy(&bytes);
            if let Err(err) = load_text(&text, name) {
                prop_assert!(!render(&err).is_empty());
            }
        }
    }
}
