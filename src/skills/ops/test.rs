//! `skills test`: quick behavioural checks per skill — the frontmatter loads, the body is
//! not empty, the description has a trigger phrase, every referenced file can be read. It
//! changes nothing.

use rayon::prelude::*;
use serde::Serialize;

use super::loaded::load;
use crate::skills::check::normalize_relative;
use crate::skills::discover::SkillDir;
use crate::skills::markdown;

/// One test of one skill.
#[derive(Debug, Serialize)]
pub struct TestCase {
    pub test: &'static str,
    pub passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The tests of one skill.
#[derive(Debug, Serialize)]
pub struct TestReport {
    pub path: String,
    pub passed: bool,
    pub tests: Vec<TestCase>,
}

fn case(test: &'static str, failure: Option<String>) -> TestCase {
    TestCase {
        test,
        passed: failure.is_none(),
        message: failure,
    }
}

/// Tests every skill; `triggers` are the phrases (case-insensitive) a description needs.
pub fn test_skills(skills: &[SkillDir], triggers: &[String]) -> Vec<TestReport> {
    skills
        .par_iter()
        .map(|skill| {
            let tests = match load(skill) {
                Err(why) => vec![case("frontmatter-loads", Some(why))],
                Ok(loaded) => {
                    let mut tests = Vec::new();
                    let is_map = loaded.root.as_ref().is_some_and(|r| r.as_map().is_some());
                    tests.push(case(
                        "frontmatter-loads",
                        (!is_map).then(|| "the frontmatter is not a mapping".to_owned()),
                    ));
                    tests.push(case(
                        "body-not-empty",
                        loaded
                            .body()
                            .trim()
                            .is_empty()
                            .then(|| "the body is empty".to_owned()),
                    ));
                    let description = loaded.field("description").unwrap_or("").to_lowercase();
                    let has_trigger = triggers.is_empty()
                        || triggers
                            .iter()
                            .any(|t| description.contains(&t.to_lowercase()));
                    tests.push(case(
                        "description-trigger",
                        (!has_trigger).then(|| {
                            format!(
                                "the description has none of the trigger phrases ({})",
                                triggers.join(", ")
                            )
                        }),
                    ));
                    let unreadable: Vec<String> = markdown::references(loaded.body())
                        .into_iter()
                        .filter_map(|r| {
                            let rel = normalize_relative(&r.target)?;
                            let path = loaded.dir.join(&rel);
                            let readable = if path.is_dir() {
                                std::fs::read_dir(&path).is_ok()
                            } else {
                                std::fs::read(&path).is_ok()
                            };
                            (!readable).then_some(r.target)
                        })
                        .collect();
                    tests.push(case(
                        "references-readable",
                        (!unreadable.is_empty())
                            .then(|| format!("cannot read {}", unreadable.join(", "))),
                    ));
                    tests
                }
            };
            TestReport {
                path: skill.display.clone(),
                passed: tests.iter().all(|t| t.passed),
                tests,
            }
        })
        .collect()
}
