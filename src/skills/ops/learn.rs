//! `skills learn`: reads an error log (a Markdown table with columns Skill, Error, Cause,
//! Fix) and adds each row a skill does not have yet to that skill's `| Error | Cause | Fix |`
//! table, creating an `## Errors` section when there is none. Rows are matched by their
//! Error cell, so a second run adds nothing.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Serialize;

use super::loaded::{Loaded, load};
use crate::skills::atomic::write_atomically;
use crate::skills::discover::SkillDir;
use crate::skills::error::SkillsError;

#[derive(Debug, Default, Serialize)]
pub struct LearnReport {
    /// Per skill path: the errors added and those already present.
    pub skills: Vec<SkillLearned>,
    /// Skill names in the log that match no skill.
    pub unknown_skills: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct SkillLearned {
    pub path: String,
    pub added: Vec<String>,
    pub skipped: Vec<String>,
}

#[derive(Clone, Debug)]
struct Row {
    error: String,
    cause: String,
    fix: String,
}

/// The cells of a table line, or `None` when it is not one.
fn cells(line: &str) -> Option<Vec<String>> {
    let t = line.trim();
    if !t.starts_with('|') {
        return None;
    }
    let mut out = Vec::new();
    let mut cell = String::new();
    let mut escaped = false;
    for c in t[1..].chars() {
        match c {
            '|' if !escaped => out.push(std::mem::take(&mut cell).trim().to_owned()),
            _ => cell.push(c),
        }
        escaped = c == '\\';
    }
    if !cell.trim().is_empty() {
        out.push(cell.trim().to_owned());
    }
    Some(out)
}

fn is_separator(cells: &[String]) -> bool {
    !cells.is_empty()
        && cells
            .iter()
            .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':' | ' ')))
}

fn key(error: &str) -> String {
    error.trim().to_lowercase()
}

/// Rows of the log, by skill name, in order.
fn read_log(text: &str) -> Result<Vec<(String, Row)>, SkillsError> {
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let Some(header) = cells(line) else { continue };
        let find = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
        let (Some(s), Some(e), Some(c), Some(f)) =
            (find("skill"), find("error"), find("cause"), find("fix"))
        else {
            continue;
        };
        let mut rows = Vec::new();
        for line in &lines[i + 1..] {
            let Some(row) = cells(line) else { break };
            if is_separator(&row) {
                continue;
            }
            let get = |k: usize| row.get(k).cloned().unwrap_or_default();
            if get(s).is_empty() || get(e).is_empty() {
                continue;
            }
            rows.push((
                get(s).trim_matches('`').to_owned(),
                Row {
                    error: get(e),
                    cause: get(c),
                    fix: get(f),
                },
            ));
        }
        return Ok(rows);
    }
    Err(SkillsError::Refused(
        "the log has no Markdown table with the columns Skill, Error, Cause, Fix".into(),
    ))
}

/// Where a skill's error table is: the line after its last row, and the errors in it.
fn find_table(text: &str) -> Option<(usize, Vec<String>)> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let Some(header) = cells(line) else { continue };
        let names: Vec<String> = header.iter().map(|h| h.to_lowercase()).collect();
        if names != ["error", "cause", "fix"] {
            continue;
        }
        let mut errors = Vec::new();
        let mut end = i + 1;
        while end < lines.len() {
            let Some(row) = cells(lines[end]) else { break };
            if !is_separator(&row) {
                errors.push(key(row.first().map_or("", String::as_str)));
            }
            end += 1;
        }
        let offset: usize = lines[..end].iter().map(|l| l.len()).sum();
        return Some((offset, errors));
    }
    None
}

fn row_line(row: &Row) -> String {
    format!("| {} | {} | {} |\n", row.error, row.cause, row.fix)
}

/// The new text of a skill with `rows` learned, and what was added and skipped.
fn apply(text: &str, rows: &[Row]) -> (String, Vec<String>, Vec<String>) {
    let (at, mut present) = find_table(text).unwrap_or((usize::MAX, Vec::new()));
    let mut added = Vec::new();
    let mut skipped = Vec::new();
    let mut new_rows = String::new();
    for row in rows {
        if present.contains(&key(&row.error)) {
            skipped.push(row.error.clone());
        } else {
            present.push(key(&row.error));
            added.push(row.error.clone());
            new_rows.push_str(&row_line(row));
        }
    }
    if added.is_empty() {
        return (text.to_owned(), added, skipped);
    }
    let mut out = text.to_owned();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    let table = format!("| Error | Cause | Fix |\n|---|---|---|\n{new_rows}");
    if at != usize::MAX {
        let at = at.min(out.len());
        let prefix = if out[..at].ends_with('\n') { "" } else { "\n" };
        out.insert_str(at, &format!("{prefix}{new_rows}"));
    } else if let Some(heading) = out
        .match_indices("\n## Errors\n")
        .next()
        .map(|(i, m)| i + m.len())
    {
        out.insert_str(heading, &format!("\n{table}"));
    } else {
        out.push_str(&format!("\n## Errors\n\n{table}"));
    }
    (out, added, skipped)
}

/// Learns the log at `log` into `skills`; writes unless `dry_run`.
pub fn learn(log: &Path, skills: &[SkillDir], dry_run: bool) -> Result<LearnReport, SkillsError> {
    let text = std::fs::read_to_string(log).map_err(|source| SkillsError::Read {
        path: log.to_owned(),
        source,
    })?;
    let rows = read_log(&text)?;
    let loaded: Vec<Loaded> = skills.iter().filter_map(|s| load(s).ok()).collect();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for (i, skill) in loaded.iter().enumerate() {
        by_name.entry(skill.name()).or_insert(i);
        if let Some(dir) = skill.dir.file_name() {
            by_name
                .entry(dir.to_string_lossy().into_owned())
                .or_insert(i);
        }
    }
    let mut per_skill: BTreeMap<usize, Vec<Row>> = BTreeMap::new();
    let mut report = LearnReport::default();
    for (name, row) in rows {
        match by_name.get(&name) {
            Some(&i) => per_skill.entry(i).or_default().push(row),
            None if !report.unknown_skills.contains(&name) => report.unknown_skills.push(name),
            None => {}
        }
    }
    for (i, rows) in per_skill {
        let skill = &loaded[i];
        let (new_text, added, skipped) = apply(&skill.text, &rows);
        if !added.is_empty() && !dry_run {
            write_atomically(&skill.skill_md, new_text.as_bytes())?;
        }
        report.skills.push(SkillLearned {
            path: skill.path.clone(),
            added,
            skipped,
        });
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(e: &str) -> Row {
        Row {
            error: e.into(),
            cause: "c".into(),
            fix: "f".into(),
        }
    }

    #[test]
    fn adds_an_errors_section_then_extends_its_table_and_is_idempotent() {
        let text = "---\nname: a\n---\n# A\n";
        let (once, added, _) = apply(text, &[row("E1")]);
        assert_eq!(added, ["E1"]);
        assert!(
            once.ends_with("## Errors\n\n| Error | Cause | Fix |\n|---|---|---|\n| E1 | c | f |\n")
        );
        let (twice, added, skipped) = apply(&once, &[row("E1"), row("E2")]);
        assert_eq!(
            (added, skipped),
            (vec!["E2".to_owned()], vec!["E1".to_owned()])
        );
        assert!(
            twice.ends_with("| E1 | c | f |\n| E2 | c | f |\n"),
            "{twice}"
        );
        let (thrice, added, _) = apply(&twice, &[row("E1"), row("E2")]);
        assert!(added.is_empty());
        assert_eq!(thrice, twice);
    }

    #[test]
    fn reads_log_columns_in_any_order() {
        let log = "# Log\n\n| Error | Skill | Fix | Cause |\n|--|--|--|--|\n| boom | `pdf` | retry | net |\n";
        let rows = read_log(log).unwrap();
        assert_eq!(rows[0].0, "pdf");
        assert_eq!(
            (rows[0].1.error.as_str(), rows[0].1.cause.as_str()),
            ("boom", "net")
        );
    }
}
