//! `fanout skills …`: discovery, the specification's rules, broken input, output formats,
//! the cache, and parity with the reference validator on the shared collections.

use std::path::{Path, PathBuf};

use crate::harness::{Project, RunOutput};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/skills")
}

/// The shared collections beside the repository, when present.
fn shared_collections() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/skills");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: ../shared/corpus not present");
        None
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A project holding a copy of the fixtures under `skills/`.
fn project_with_fixtures() -> Project {
    let p = Project::new();
    copy_dir(&fixtures(), &p.join("skills"));
    p
}

/// Text output with the timing replaced.
fn stable(out: &RunOutput) -> String {
    let (head, tail) = out.stdout.trim_end().rsplit_once("; ").unwrap();
    assert!(tail.ends_with('s'), "no timing at the end: {tail}");
    format!("{head}; [time]\n")
}

fn statuses(json: &serde_json::Value) -> Vec<(String, String, bool)> {
    json["skills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
                s["cached"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[test]
fn check_reports_every_fixture_with_markers_positions_and_a_summary() {
    let p = project_with_fixtures();
    let out = p.fanout(&["skills", "check", "skills"]);
    out.expect_code(1);
    insta::assert_snapshot!(stable(&out), @r"
    [FAIL]   skills/broken/bad-name
             SKILL.md:2:7: error[name-case]: name `Bad_Name` must be lowercase (`bad_name`)
             SKILL.md:2:7: error[name-chars]: name `Bad_Name` may hold only letters, digits and hyphens, not '_'
             SKILL.md:2:7: error[name-folder]: name `Bad_Name` differs from the folder's name `bad-name`
    [FAIL]   skills/broken/duplicate-keys
             SKILL.md:4:1: error[yaml-duplicate-key]: duplicate key `name` (first on line 2)
    [FAIL]   skills/broken/empty
             SKILL.md:1:1: error[file-empty]: SKILL.md is empty
    [FAIL]   skills/broken/long-description
             SKILL.md:3:14: error[description-length]: `description` has 1039 characters; at most 1024 are allowed
    [FAIL]   skills/broken/missing-description
             SKILL.md:2:1: error[description-required]: missing required field `description`
    [WARN]   skills/broken/missing-link
             SKILL.md:7:17: warning[links-missing]: `references/guide.md` does not exist in the skill
    [FAIL]   skills/broken/no-frontmatter
             SKILL.md:1:1: error[frontmatter-missing]: SKILL.md must start with YAML frontmatter: a `---` line, the fields, another `---` line
    [FAIL]   skills/broken/not-mapping
             SKILL.md:2:1: error[frontmatter-mapping]: the frontmatter must be a YAML mapping of fields (`name: …`)
    [FAIL]   skills/broken/tabs
             SKILL.md:3:1: error[yaml-tab]: a tab indents this frontmatter line; YAML indents with spaces only
    [FAIL]   skills/broken/unclosed
             SKILL.md:1:1: error[frontmatter-unclosed]: the frontmatter opened on line 1 is never closed by a `---` line
    [FAIL]   skills/broken/unknown-fields
             SKILL.md:4:1: error[fields-unknown]: unknown fields in frontmatter: `author`, `version`; only name, description, license, compatibility, metadata and allowed-tools are allowed
    [FAIL]   skills/broken/yaml-syntax
             SKILL.md:4:1: error[yaml-syntax]: the frontmatter is not valid YAML: invalid indentation in multiline quoted scalar
    [OK]     skills/good/.claude/skills/deploy
    [OK]     skills/good/pdf-tools
    14 skills: 3 passed, 11 failed, 1 warned (0 cached); 160 checks run, 148 passed; [time]
    ");
}

#[test]
fn good_skills_pass_and_validate_is_an_alias() {
    let p = project_with_fixtures();
    let out = p.fanout(&["skills", "validate", "skills/good"]);
    out.expect_code(0);
    assert!(
        out.stdout.contains("[OK]     skills/good/pdf-tools"),
        "{}",
        out.stdout
    );
}

#[test]
fn claude_code_fields_pass_under_dot_claude_and_fail_under_the_spec_profile() {
    let p = project_with_fixtures();
    p.fanout(&["skills", "check", "--no-cache", "skills/good/.claude"])
        .expect_code(0);
    let out = p.fanout(&[
        "skills",
        "check",
        "--no-cache",
        "--profile",
        "spec",
        "skills/good/.claude",
    ]);
    out.expect_code(1);
    assert!(out.stdout.contains("fields-unknown"), "{}", out.stdout);
    assert!(out.stdout.contains("allowed-tools-type"), "{}", out.stdout);
}

#[test]
fn the_skills_table_of_fanout_toml_chooses_the_profile_and_promotes_house_rules() {
    let p = project_with_fixtures();
    p.file(
        "fanout.toml",
        "[skills]\nprofile = \"claude-code\"\nerrors = [\"links-missing\"]\n",
    );
    let out = p.fanout(&[
        "skills",
        "check",
        "--no-cache",
        "skills/broken/missing-link",
    ]);
    out.expect_code(1);
    assert!(
        out.stdout.contains("error[links-missing]"),
        "{}",
        out.stdout
    );
}

#[test]
fn second_run_is_cached_until_a_file_changes() {
    let p = project_with_fixtures();
    let first = p.fanout(&["skills", "check", "--json", "skills/good"]);
    first.expect_code(0);
    assert!(statuses(&first.json()).iter().all(|s| !s.2));
    assert!(p.join(".fanout/skills-cache.json").is_file());

    let second = p.fanout(&["skills", "check", "skills/good"]);
    second.expect_code(0);
    assert!(
        second.stdout.contains("[CACHED] skills/good/pdf-tools"),
        "{}",
        second.stdout
    );
    assert!(second.stdout.contains("(2 cached)"), "{}", second.stdout);

    // A referenced file changes: that skill is checked again, the other stays cached.
    p.file(
        "skills/good/pdf-tools/references/forms.md",
        "# Forms\n\nNew.\n",
    );
    let third = p
        .fanout(&["skills", "check", "--json", "skills/good"])
        .json();
    let s = statuses(&third);
    assert_eq!(
        s,
        [
            (
                "skills/good/.claude/skills/deploy".into(),
                "ok".into(),
                true
            ),
            ("skills/good/pdf-tools".into(), "ok".into(), false),
        ]
    );

    let forced = p.fanout(&["skills", "check", "--no-cache", "skills/good"]);
    assert!(!forced.stdout.contains("[CACHED]"), "{}", forced.stdout);
}

#[test]
fn the_state_dir_comes_from_the_flag_or_the_environment() {
    let p = project_with_fixtures();
    p.fanout(&["skills", "check", "--state-dir", "st", "skills/good"])
        .expect_code(0);
    assert!(p.join("st/skills-cache.json").is_file());
    let out = p
        .command(&["skills", "check", "skills/good"])
        .env("FANOUT_STATE_DIR", p.join("env-state"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(p.join("env-state/skills-cache.json").is_file());
    assert!(!p.join(".fanout").exists());
}

#[test]
fn a_failing_skill_stays_failing_when_cached() {
    let p = project_with_fixtures();
    p.fanout(&["skills", "check", "skills/broken/bad-name"])
        .expect_code(1);
    let out = p.fanout(&["skills", "check", "skills/broken/bad-name"]);
    out.expect_code(1);
    assert!(
        out.stdout
            .contains("[FAIL]   skills/broken/bad-name (cached)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("name-case"), "{}", out.stdout);
}

#[test]
fn json_output_has_summary_skills_and_located_problems() {
    let p = project_with_fixtures();
    let out = p.fanout(&["skills", "check", "--json", "skills/broken/bad-name"]);
    out.expect_code(1);
    let json = out.json();
    assert_eq!(json["version"], 1);
    assert_eq!(json["summary"]["skills"], 1);
    assert_eq!(json["summary"]["failed"], 1);
    let problem = &json["skills"][0]["problems"][0];
    assert_eq!(problem["rule"], "name-case");
    assert_eq!(problem["severity"], "error");
    assert_eq!(problem["line"], 2);
    assert_eq!(problem["column"], 7);
    assert_eq!(json["skills"][0]["profile"], "spec");
}

#[test]
fn sarif_output_locates_results_in_skill_md() {
    let p = project_with_fixtures();
    let out = p.fanout(&[
        "skills",
        "check",
        "--format",
        "sarif",
        "skills/broken/unknown-fields",
    ]);
    out.expect_code(1);
    let sarif = out.json();
    assert_eq!(sarif["version"], "2.1.0");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "fields-unknown");
    assert_eq!(result["level"], "error");
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "skills/broken/unknown-fields/SKILL.md"
    );
    assert_eq!(location["region"]["startLine"], 4);
    assert_eq!(sarif["runs"][0]["tool"]["driver"]["name"], "fanout");
}

/// Writes a skill named `name` whose `SKILL.md` holds `bytes`.
fn raw_skill(p: &Project, name: &str, bytes: &[u8]) {
    let dir = p.join(&format!("raw/{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("SKILL.md"), bytes).unwrap();
}

#[test]
fn broken_bytes_and_files_are_per_skill_problems_never_crashes() {
    let p = Project::new();
    let good =
        |name: &str| format!("---\nname: {name}\ndescription: Use when testing.\n---\n# Body\n");
    raw_skill(
        &p,
        "not-utf8",
        b"---\nname: not-utf8\ndescription: caf\xe9\n---\n",
    );
    raw_skill(&p, "bom", format!("\u{feff}{}", good("bom")).as_bytes());
    raw_skill(&p, "crlf", good("crlf").replace('\n', "\r\n").as_bytes());
    raw_skill(
        &p,
        "control",
        b"---\nname: control\x01\ndescription: Use when x.\n---\n",
    );
    raw_skill(
        &p,
        "body-control",
        format!("{}\x07bell\n", good("body-control")).as_bytes(),
    );
    let mut big = good("too-large").into_bytes();
    big.resize(10 * 1024 * 1024 + 1, b'x');
    raw_skill(&p, "too-large", &big);
    std::fs::create_dir_all(p.join("raw/dangling")).unwrap();
    std::os::unix::fs::symlink("nowhere.md", p.join("raw/dangling/SKILL.md")).unwrap();

    let out = p.fanout(&["skills", "check", "--json", "--no-cache", "raw"]);
    out.expect_code(1);
    let json = out.json();
    let rules: Vec<(String, String, Vec<String>)> = json["skills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["path"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("raw/")
                    .to_owned(),
                s["status"].as_str().unwrap().to_owned(),
                s["problems"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["rule"].as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect();
    let expect = |path: &str, status: &str, rules: &[&str]| {
        (
            path.to_owned(),
            status.to_owned(),
            rules.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        rules,
        [
            expect("body-control", "warn", &["encoding-control"]),
            expect("bom", "fail", &["encoding-bom"]),
            expect("control", "fail", &["encoding-control"]),
            expect("crlf", "warn", &["encoding-crlf"]),
            expect("dangling", "fail", &["file-unreadable"]),
            expect("not-utf8", "fail", &["encoding-utf8"]),
            expect("too-large", "fail", &["file-too-large"]),
        ]
    );
    let utf8 = &json["skills"][5]["problems"][0];
    assert_eq!(
        (utf8["line"].as_u64(), utf8["column"].as_u64()),
        (Some(3), Some(17))
    );
}

#[test]
fn links_between_skills_resolve_and_cycles_and_shared_names_are_reported() {
    let p = Project::new();
    let skill = |dir: &str, name: &str, body: &str| {
        p.file(
            &format!("{dir}/SKILL.md"),
            &format!("---\nname: {name}\ndescription: Use when testing.\n---\n{body}\n"),
        );
    };
    skill("a", "a", "See [b](../b/SKILL.md).");
    skill(
        "b",
        "b",
        "See [a](../a/SKILL.md) and [gone](../gone/SKILL.md).",
    );
    skill("c/x", "x", "Alone.");
    skill("d/x", "x", "Alone too.");
    let out = p.fanout(&["skills", "check", "--json", "--no-cache"]);
    out.expect_code(0);
    let json = out.json();
    let rules_of = |i: usize| -> Vec<String> {
        json["skills"][i]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["rule"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(json["skills"][0]["path"], "a");
    assert_eq!(rules_of(0), ["skills-cycle"]);
    assert_eq!(rules_of(1), ["skills-cycle", "links-missing"]);
    assert_eq!(rules_of(2), ["skills-duplicate-name"]);
    assert_eq!(rules_of(3), ["skills-duplicate-name"]);
}

#[test]
fn a_missing_root_is_a_usage_error() {
    let p = Project::new();
    let out = p.fanout(&["skills", "check", "nowhere"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("nowhere does not exist"),
        "{}",
        out.stderr
    );
}

/// The reference validator's verdicts, recorded by `scripts/skills-ref-verdicts.sh`.
fn reference_verdicts() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/skills-ref-verdicts.tsv"),
    )
    .unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let mut parts = l.splitn(3, '\t');
            let mut next = || parts.next().unwrap_or_default().to_owned();
            (next(), next(), next())
        })
        .collect()
}

#[test]
fn spec_verdicts_equal_the_reference_validator_on_the_shared_collections() {
    let Some(shared) = shared_collections() else {
        return;
    };
    let p = Project::new();
    let out = p.fanout(&[
        "skills",
        "check",
        "--json",
        "--no-cache",
        "--profile",
        "spec",
        shared.to_str().unwrap(),
    ]);
    let json = out.json();
    let prefix = format!("{}/", shared.to_str().unwrap());
    let ours: std::collections::HashMap<String, String> = statuses(&json)
        .into_iter()
        .map(|(path, status, _)| {
            let verdict = if status == "fail" { "fail" } else { "pass" };
            (
                path.trim_start_matches(&prefix).to_owned(),
                verdict.to_owned(),
            )
        })
        .collect();
    let reference = reference_verdicts();
    assert_eq!(
        ours.len(),
        reference.len(),
        "a different set of skill folders"
    );
    let mut differences = Vec::new();
    for (path, verdict, message) in &reference {
        // Documented difference: the reference validator rejects flow-style YAML values.
        if message.contains("flow") && message.contains("Invalid YAML") {
            continue;
        }
        if ours.get(path) != Some(verdict) {
            differences.push(format!(
                "{path}: skills-ref {verdict}, fanout {:?}",
                ours.get(path)
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
