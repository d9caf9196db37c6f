//! `fanout plan`: the analysis in each output format, and every bad plan refused with a
//! located message, exit code 2 and nothing run or written.

use std::path::{Path, PathBuf};

use crate::harness::Project;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plans")
}

#[test]
fn text_analysis_of_the_example_plan() {
    // A copy, so that durations remembered from runs of the example do not weigh in.
    let p = Project::new();
    std::fs::copy(examples().join("build.toml"), p.join("build.toml")).unwrap();
    let out = p.fanout(&["plan", "build.toml"]);
    out.expect_code(0);
    insta::assert_snapshot!(out.stdout.replace("build.toml", "[PLAN]"));
}

#[test]
fn json_analysis_is_versioned_and_complete() {
    let p = Project::new();
    let plan = examples().join("build.toml");
    let out = p.fanout(&["plan", plan.to_str().unwrap(), "--format", "json"]);
    out.expect_code(0);
    let json = out.json();
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["tasks"], 10);
    assert_eq!(json["waves"].as_array().unwrap().len(), 4);
    assert_eq!(json["critical_path"]["tasks"][0], "fetch");
    assert_eq!(json["verdict"]["kind"], "pays");
}

#[test]
fn dot_and_mermaid_draw_every_edge() {
    let p = Project::new();
    p.file(
        "plan.yaml",
        "tasks:\n  - id: a\n    run: 'true'\n  - id: b\n    run: 'true'\n    after: [a]\n",
    );
    let dot = p.fanout(&["plan", "plan.yaml", "--format", "dot"]);
    dot.expect_code(0);
    assert!(dot.stdout.starts_with("digraph"), "{}", dot.stdout);
    assert!(dot.stdout.contains("\"a\" -> \"b\""), "{}", dot.stdout);
    let mermaid = p.fanout(&["plan", "plan.yaml", "--format", "mermaid"]);
    mermaid.expect_code(0);
    assert!(
        mermaid.stdout.starts_with("flowchart"),
        "{}",
        mermaid.stdout
    );
    assert!(mermaid.stdout.contains("-->"), "{}", mermaid.stdout);
}

#[test]
fn a_single_chain_is_told_it_does_not_pay() {
    let p = Project::new();
    p.file(
        "chain.json",
        r#"[{"id": "a", "run": "true"}, {"id": "b", "run": "true", "blockedBy": ["a"]}]"#,
    );
    let out = p.fanout(&["plan", "chain.json", "--jobs", "4"]);
    out.expect_code(0);
    assert!(out.stdout.contains("does not pay"), "{}", out.stdout);
    assert!(out.stdout.contains("single chain"), "{}", out.stdout);
}

#[test]
fn the_json_task_array_example_shows_its_agent_tasks() {
    let p = Project::new();
    let plan = examples().join("tasks.json");
    let out = p.fanout(&["plan", plan.to_str().unwrap(), "--format", "json"]);
    out.expect_code(0);
    assert_eq!(out.json()["agent_tasks"], 4);
}

/// Every bad-plan fixture, through both `plan` and `run`: exit 2, a located message
/// (snapshotted), and no state written.
#[test]
fn every_bad_plan_is_refused_with_its_location() {
    let dir = fixtures().join("bad");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(
        names.len() >= 18,
        "expected the bad-plan fixtures, found {names:?}"
    );
    for name in names {
        let p = Project::new();
        std::fs::copy(dir.join(&name), p.join(&name)).unwrap();
        for command in ["plan", "run"] {
            let out = p.fanout(&[command, &name]);
            assert_eq!(out.code, 2, "{command} {name}: {}", out.stderr);
            assert!(
                out.stdout.is_empty(),
                "{command} {name} printed: {}",
                out.stdout
            );
            assert!(!p.join(".fanout").exists(), "{command} {name} wrote state");
            if command == "run" {
                let text = out.stderr.replace(p.path().to_str().unwrap(), "[DIR]");
                insta::assert_snapshot!(format!("bad_plan__{name}"), text);
            }
        }
    }
}

#[test]
fn a_missing_plan_file_is_a_clear_error() {
    let p = Project::new();
    let out = p.fanout(&["run", "nope.toml"]);
    out.expect_code(2);
    assert!(out.stderr.contains("nope.toml"), "{}", out.stderr);
}
