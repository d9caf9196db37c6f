//! `skills refactor`: for each skill whose `SKILL.md` is over a size, moves its largest `##`
//! sections, verbatim, into `references/<slug>.md` and leaves the heading and a link in
//! their place, until it fits or nothing is left to move. No line is lost, and a second run
//! changes nothing: sections already moved are left alone.

use std::collections::HashSet;

use rayon::prelude::*;
use serde::Serialize;

use super::loaded::{Loaded, load};
use crate::skills::atomic::write_atomically;
use crate::skills::discover::SkillDir;
use crate::skills::error::SkillsError;
use crate::skills::markdown::lines_with_fences;

#[derive(Debug, Serialize)]
pub struct MovedSection {
    pub heading: String,
    pub to: String,
    pub bytes: usize,
}

#[derive(Debug, Serialize)]
pub struct RefactorReport {
    pub path: String,
    pub bytes_before: usize,
    pub bytes_after: usize,
    pub moved: Vec<MovedSection>,
    /// Still over the limit after moving everything that could move.
    pub still_over: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A `##` section: byte range in the text, its heading text.
struct Section {
    start: usize,
    end: usize,
    heading: String,
}

fn sections(text: &str, body_start: usize) -> Vec<Section> {
    let body = &text[body_start..];
    let mut starts: Vec<(usize, usize, String)> = Vec::new(); // (offset, level, heading)
    let mut offset = body_start;
    let line_offsets: Vec<usize> = body
        .split_inclusive('\n')
        .map(|l| {
            let o = offset;
            offset += l.len();
            o
        })
        .collect();
    for (i, line, fenced) in lines_with_fences(body) {
        if fenced {
            continue;
        }
        let level = line.bytes().take_while(|&b| b == b'#').count();
        if (1..=2).contains(&level) && line[level..].starts_with(' ') {
            starts.push((line_offsets[i], level, line[level..].trim().to_owned()));
        }
    }
    let mut out = Vec::new();
    for (k, (start, level, heading)) in starts.iter().enumerate() {
        if *level != 2 {
            continue;
        }
        let end = starts.get(k + 1).map_or(text.len(), |next| next.0);
        out.push(Section {
            start: *start,
            end,
            heading: heading.clone(),
        });
    }
    out
}

fn slug(heading: &str) -> String {
    let mut s = String::new();
    for c in heading.to_lowercase().chars() {
        if c.is_alphanumeric() {
            s.push(c);
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    let s = s.trim_end_matches('-').to_owned();
    if s.is_empty() {
        "section".to_owned()
    } else {
        s
    }
}

fn is_stub(section_text: &str) -> bool {
    let mut lines = section_text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty());
    matches!((lines.next(), lines.next()), (Some(l), None) if l.starts_with("See [") && l.contains("](references/"))
}

/// The new `SKILL.md` and the reference files for one skill, or `None` when it fits.
fn plan(skill: &Loaded, max_bytes: usize) -> (String, Vec<(String, String, String)>) {
    let mut text = skill.text.clone();
    let mut written: Vec<(String, String, String)> = Vec::new(); // (rel path, contents, heading)
    let mut taken: HashSet<String> = skill.files.iter().cloned().collect();
    let mut tried: HashSet<String> = HashSet::new();
    while text.len() > max_bytes {
        let candidates = sections(&text, skill.body_start);
        let best = candidates
            .iter()
            .filter(|s| !is_stub(&text[s.start..s.end]) && !tried.contains(&text[s.start..s.end]))
            .max_by_key(|s| s.end - s.start);
        let Some(section) = best else { break };
        let original = text[section.start..section.end].to_owned();
        tried.insert(original.clone());
        let base = slug(&section.heading);
        let mut rel = format!("references/{base}.md");
        let mut n = 2;
        while taken.contains(&rel) {
            rel = format!("references/{base}-{n}.md");
            n += 1;
        }
        let stub = format!(
            "## {}\n\nSee [{}]({rel}).\n\n",
            section.heading,
            section.heading.replace(['[', ']'], "")
        );
        if stub.len() >= original.len() {
            continue;
        }
        taken.insert(rel.clone());
        let mut contents = original.clone();
        if !contents.ends_with('\n') {
            contents.push('\n');
        }
        text.replace_range(section.start..section.end, &stub);
        written.push((rel, contents, section.heading.clone()));
    }
    (text, written)
}

/// Refactors every skill over `max_bytes`; writes unless `dry_run`.
pub fn refactor(
    skills: &[SkillDir],
    max_bytes: usize,
    dry_run: bool,
) -> Result<Vec<RefactorReport>, SkillsError> {
    let planned: Vec<_> = skills
        .par_iter()
        .filter_map(|skill| {
            let loaded = match load(skill) {
                Ok(l) => l,
                Err(why) => {
                    return Some((
                        RefactorReport {
                            path: skill.display.clone(),
                            bytes_before: 0,
                            bytes_after: 0,
                            moved: Vec::new(),
                            still_over: false,
                            message: Some(why),
                        },
                        None,
                    ));
                }
            };
            if loaded.text.len() <= max_bytes {
                return None;
            }
            let (text, moved) = plan(&loaded, max_bytes);
            let report = RefactorReport {
                path: skill.display.clone(),
                bytes_before: loaded.text.len(),
                bytes_after: text.len(),
                moved: moved
                    .iter()
                    .map(|(rel, contents, heading)| MovedSection {
                        heading: heading.clone(),
                        to: rel.clone(),
                        bytes: contents.len(),
                    })
                    .collect(),
                still_over: text.len() > max_bytes,
                message: None,
            };
            let writes = (!moved.is_empty()).then_some((
                loaded.dir.clone(),
                loaded.skill_md.clone(),
                text,
                moved,
            ));
            Some((report, writes))
        })
        .collect();
    let mut reports = Vec::new();
    for (report, writes) in planned {
        if let Some((dir, skill_md, text, moved)) = writes
            && !dry_run
        {
            for (rel, contents, _) in &moved {
                write_atomically(&dir.join(rel), contents.as_bytes())?;
            }
            write_atomically(&skill_md, text.as_bytes())?;
        }
        reports.push(report);
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_words_joined_by_hyphens() {
        assert_eq!(slug("Error Handling & Retries"), "error-handling-retries");
        assert_eq!(slug("!!!"), "section");
    }

    #[test]
    fn stubs_are_recognised() {
        assert!(is_stub("## A\n\nSee [A](references/a.md).\n\n"));
        assert!(!is_stub("## A\n\nText.\n"));
    }
}
