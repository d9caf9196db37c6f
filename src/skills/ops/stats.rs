//! `skills stats`: how many skills and files, how large, the largest skills, and how often
//! each rule fails, from a check run. It changes nothing.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::skills::problem::Severity;
use crate::skills::run::{CheckRun, Status};

#[derive(Debug, Serialize)]
pub struct LargeSkill {
    pub path: String,
    pub bytes: u64,
}

#[derive(Debug, Serialize)]
pub struct StatsReport {
    pub skills: usize,
    pub failing: usize,
    pub files: usize,
    pub skill_md_bytes: u64,
    pub mean_skill_md_bytes: u64,
    pub largest: Vec<LargeSkill>,
    /// Rule id → skills with an error under it.
    pub failing_rules: BTreeMap<String, usize>,
    /// Rule id → skills with a warning under it.
    pub warning_rules: BTreeMap<String, usize>,
}

/// Statistics over a check run; `files` counts the files of every skill.
pub fn stats(run: &CheckRun, files: usize, top: usize) -> StatsReport {
    let bytes: u64 = run.skills.iter().map(|s| s.checked.bytes).sum();
    let mut largest: Vec<LargeSkill> = run
        .skills
        .iter()
        .map(|s| LargeSkill {
            path: s.path.clone(),
            bytes: s.checked.bytes,
        })
        .collect();
    largest.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.path.cmp(&b.path)));
    largest.truncate(top);
    let mut failing_rules = BTreeMap::new();
    let mut warning_rules = BTreeMap::new();
    for skill in &run.skills {
        let mut seen = std::collections::HashSet::new();
        for p in &skill.checked.problems {
            if seen.insert((&p.rule, p.severity)) {
                let map = match p.severity {
                    Severity::Error => &mut failing_rules,
                    Severity::Warning => &mut warning_rules,
                };
                *map.entry(p.rule.clone()).or_insert(0) += 1;
            }
        }
    }
    StatsReport {
        skills: run.skills.len(),
        failing: run
            .skills
            .iter()
            .filter(|s| s.status == Status::Fail)
            .count(),
        files,
        skill_md_bytes: bytes,
        mean_skill_md_bytes: bytes.checked_div(run.skills.len() as u64).unwrap_or(0),
        largest,
        failing_rules,
        warning_rules,
    }
}
