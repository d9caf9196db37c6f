//! Turning a [`CheckRun`] into what people and tools read: the text report (one line per
//! skill with its marker, its problems beneath, a summary), the JSON document, and SARIF
//! 2.1.0 for code-scanning tools. It decides nothing about verdicts.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::problem::Severity;
use super::run::{CheckRun, SkillResult, Status};

/// The marker in front of a skill's line.
pub fn marker(skill: &SkillResult) -> &'static str {
    match (skill.status, skill.cached) {
        (Status::Fail, _) => "[FAIL]",
        (Status::Warn, _) => "[WARN]",
        (Status::Ok, true) => "[CACHED]",
        (Status::Ok, false) => "[OK]",
    }
}

/// The text report. `quiet` leaves out skills without problems.
pub fn text(run: &CheckRun, quiet: bool) -> String {
    let mut out = String::new();
    for skill in &run.skills {
        if quiet && skill.status == Status::Ok {
            continue;
        }
        let cached = if skill.cached && skill.status != Status::Ok {
            " (cached)"
        } else {
            ""
        };
        let _ = writeln!(out, "{:<8} {}{cached}", marker(skill), skill.path);
        let file = skill
            .skill_md
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for p in &skill.checked.problems {
            let place = match (p.line, p.column) {
                (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
                _ => file.clone(),
            };
            let level = match p.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let _ = writeln!(out, "         {place}: {level}[{}]: {}", p.rule, p.message);
        }
    }
    for notice in &run.notices {
        let _ = writeln!(out, "note: {notice}");
    }
    let s = run.summary();
    let _ = writeln!(
        out,
        "{} skills: {} passed, {} failed, {} warned ({} cached); {} checks run, {} passed; {:.2}s",
        s.skills,
        s.passed,
        s.failed,
        s.warned,
        s.cached,
        s.checks_run,
        s.checks_passed,
        run.elapsed.as_secs_f64()
    );
    out
}

/// The JSON document (documented in `docs/skills-json.md`).
pub fn json(run: &CheckRun) -> Value {
    json!({
        "version": 1,
        "summary": run.summary(),
        "skills": run.skills,
        "notices": run.notices,
    })
}

/// A SARIF 2.1.0 log: one result per problem, located in the skill's `SKILL.md`.
pub fn sarif(run: &CheckRun) -> Value {
    let mut rules: Vec<&str> = run
        .skills
        .iter()
        .flat_map(|s| s.checked.problems.iter().map(|p| p.rule.as_str()))
        .collect();
    rules.sort_unstable();
    rules.dedup();
    let results: Vec<Value> = run
        .skills
        .iter()
        .flat_map(|skill| {
            let uri = format!(
                "{}/{}",
                skill.path,
                skill
                    .skill_md
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            );
            skill.checked.problems.iter().map(move |p| {
                let mut location = json!({ "artifactLocation": { "uri": uri } });
                if let (Some(line), Some(column)) = (p.line, p.column) {
                    location["region"] = json!({ "startLine": line, "startColumn": column });
                }
                json!({
                    "ruleId": p.rule,
                    "level": match p.severity { Severity::Error => "error", Severity::Warning => "warning" },
                    "message": { "text": p.message },
                    "locations": [{ "physicalLocation": location }],
                })
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "fanout",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://agentskills.io",
                "rules": rules.iter().map(|r| json!({ "id": r })).collect::<Vec<_>>(),
            }},
            "results": results,
        }],
    })
}
