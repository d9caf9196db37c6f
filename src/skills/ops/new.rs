//! `skills new`: creates skills from a template (a built-in one, or a folder whose files
//! may use `{{name}}`), with the frontmatter's `name` filled in. Every name is checked
//! before anything is written: an invalid name, a name given twice, or a folder that
//! exists refuses the whole request. Each skill appears at once: built in a temporary
//! folder beside it, then renamed into place.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::skills::error::SkillsError;
use crate::skills::spec::{self, Profile};
use crate::skills::yaml;

const BUILT_IN_SKILL_MD: &str = "---
name: {{name}}
description: Describe what {{name}} does. Use when …
---
# {{name}}

## When to use

Say when an agent should reach for this skill.

## Instructions

1. The first step.
";

#[derive(Debug, Serialize)]
pub struct NewReport {
    pub name: String,
    pub path: String,
    pub files: Vec<String>,
}

fn template_files(template: Option<&Path>) -> Result<Vec<(String, Vec<u8>)>, SkillsError> {
    let Some(dir) = template else {
        return Ok(vec![(
            "SKILL.md".into(),
            BUILT_IN_SKILL_MD.as_bytes().to_vec(),
        )]);
    };
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| SkillsError::Read {
            path: dir.to_owned(),
            source: e.into(),
        })?;
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
            let bytes = std::fs::read(entry.path()).map_err(|source| SkillsError::Read {
                path: entry.path().to_owned(),
                source,
            })?;
            files.push((rel.to_string_lossy().replace('\\', "/"), bytes));
        }
    }
    if !files.iter().any(|(f, _)| f == "SKILL.md") {
        return Err(SkillsError::Refused(format!(
            "the template {} has no SKILL.md",
            dir.display()
        )));
    }
    Ok(files)
}

fn fill(bytes: &[u8], name: &str) -> Vec<u8> {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.replace("{{name}}", name).into_bytes(),
        Err(_) => bytes.to_vec(),
    }
}

/// Sets the frontmatter's `name:` line to `name` when the template has one without the
/// placeholder.
fn set_name(skill_md: &str, name: &str) -> String {
    let mut out = String::with_capacity(skill_md.len());
    let mut in_frontmatter = false;
    for (i, line) in skill_md.split_inclusive('\n').enumerate() {
        if line.trim_end() == "---" {
            in_frontmatter = i == 0;
        }
        if in_frontmatter && i > 0 && line.starts_with("name:") {
            out.push_str(&format!("name: {name}\n"));
        } else {
            out.push_str(line);
        }
    }
    out
}

/// Whether `name` is a valid name for a new skill: the specification's rules (lowercase
/// letters, digits and single hyphens), and nothing a path or YAML would read otherwise.
pub(crate) fn is_valid_name(name: &str) -> bool {
    let mut problems = Vec::new();
    let doc = yaml::parse(&format!("name: {name}\ndescription: x\n"), 1);
    if let Ok(doc) = doc {
        spec::check(doc.root.as_ref(), name, Profile::Spec, &mut problems);
    }
    !problems
        .iter()
        .any(|p| p.rule.starts_with("name") || p.rule.starts_with("yaml"))
        && !name.contains(['/', ':', '#'])
        && !name.contains(|c: char| c.is_whitespace() || c.is_control())
}

/// Creates one skill per name under `into`; nothing is written when any name is refused
/// or with `dry_run`.
pub fn new_skills(
    names: &[String],
    template: Option<&Path>,
    into: &Path,
    dry_run: bool,
) -> Result<Vec<NewReport>, SkillsError> {
    let mut refusals = Vec::new();
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            refusals.push(format!("`{name}` is asked for twice"));
            continue;
        }
        if !is_valid_name(name) {
            refusals.push(format!(
                "`{name}` is not a valid skill name (lowercase letters, digits and single hyphens)"
            ));
            continue;
        }
        if std::fs::symlink_metadata(into.join(name)).is_ok() {
            refusals.push(format!("`{name}` exists: {}", into.join(name).display()));
        }
    }
    if !refusals.is_empty() {
        return Err(SkillsError::Refused(format!(
            "refused, nothing written: {}",
            refusals.join("; ")
        )));
    }
    let files = template_files(template)?;
    let mut reports = Vec::new();
    for name in names {
        let target = into.join(name);
        if !dry_run {
            create_skill(&target, name, &files)?;
        }
        reports.push(NewReport {
            name: name.clone(),
            path: target.display().to_string(),
            files: files.iter().map(|(f, _)| f.clone()).collect(),
        });
    }
    Ok(reports)
}

fn create_skill(target: &Path, name: &str, files: &[(String, Vec<u8>)]) -> Result<(), SkillsError> {
    let parent = target.parent().unwrap_or(Path::new("."));
    let fail = |path: &Path| {
        let path: PathBuf = path.to_owned();
        move |source| SkillsError::Write { path, source }
    };
    std::fs::create_dir_all(parent).map_err(fail(parent))?;
    let tmp = parent.join(format!(".{name}.new.{}", std::process::id()));
    let result = (|| {
        for (rel, bytes) in files {
            let path = tmp.join(rel);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut bytes = fill(bytes, name);
            if rel == "SKILL.md" {
                bytes = set_name(&String::from_utf8_lossy(&bytes), name).into_bytes();
            }
            std::fs::write(&path, bytes)?;
        }
        std::fs::rename(&tmp, target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result.map_err(fail(target))
}
