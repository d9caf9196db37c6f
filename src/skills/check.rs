//! Checking one skill folder: from the bytes of its `SKILL.md` and the list of its files to
//! the problems found, under a profile and the house rules. Pure apart from reading
//! `SKILL.md`: rules that need other skills (shared names, links between skills, cycles)
//! are left to the run, which sees them all.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::config::SkillsConfig;
use super::frontmatter;
use super::markdown;
use super::problem::{LineIndex, Pos, Problem, Severity, pos_of_offset};
use super::source::{self, MAX_FILE_BYTES, first_stray_control};
use super::spec::{self, Profile};
use super::yaml;

/// Every check a skill goes through, by the prefix of its rule ids, in order.
pub const CHECKS: [&str; 16] = [
    "file",
    "encoding",
    "frontmatter",
    "yaml",
    "fields",
    "name",
    "description",
    "compatibility",
    "license",
    "metadata",
    "allowed",
    "size",
    "body",
    "headings",
    "links",
    "skills",
];

/// What checking one skill found; this is what the cache keeps.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Checked {
    /// The normalized `name`, when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub problems: Vec<Problem>,
    /// How many of [`CHECKS`] ran (the rest could not: the file was unreadable, say).
    pub checks_run: usize,
    /// Size of `SKILL.md` in bytes.
    pub bytes: u64,
    /// Relative links that leave the skill folder, for the run to resolve.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outside_links: Vec<OutsideLink>,
}

/// A link from `SKILL.md` to a path outside its folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutsideLink {
    /// As written, relative to the skill folder.
    pub target: String,
    pub line: usize,
    pub column: usize,
}

/// Reads `SKILL.md` for [`check`]: its bytes, or the problem that stops checking.
pub(crate) fn read_skill_md(path: &Path) -> Result<Vec<u8>, Problem> {
    use std::io::Read as _;
    let unreadable = |err: std::io::Error| {
        Problem::error(
            "file-unreadable",
            format!("{} cannot be read: {err}", file_name(path)),
        )
    };
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) => {
            let dangling = err.kind() == std::io::ErrorKind::NotFound
                && std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
            if dangling {
                return Err(Problem::error(
                    "file-unreadable",
                    format!(
                        "{} is a symlink to a file that does not exist",
                        file_name(path)
                    ),
                ));
            }
            return Err(unreadable(err));
        }
    };
    // The size from the open file, so the file is looked up once.
    let len = file.metadata().map_err(unreadable)?.len();
    let too_large = |size: String| {
        Problem::error(
            "file-too-large",
            format!(
                "{} has {size} bytes; files over {MAX_FILE_BYTES} bytes are not read",
                file_name(path),
            ),
        )
    };
    if len > MAX_FILE_BYTES {
        return Err(too_large(len.to_string()));
    }
    // One byte more than the size, so a file of the expected size is read without the
    // buffer growing; `take` keeps a file that grows meanwhile under the limit.
    let mut bytes = Vec::with_capacity(len as usize + 1);
    file.by_ref()
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(format!("over {MAX_FILE_BYTES}")));
    }
    Ok(bytes)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "SKILL.md".to_owned())
}

/// Checks one skill whose `SKILL.md` read as `read`, whose folder is named `dir_name` and
/// holds `files` (relative, `/`-separated).
pub(crate) fn check(
    read: Result<Vec<u8>, Problem>,
    dir_name: &str,
    files: &[String],
    profile: Profile,
    config: &SkillsConfig,
) -> Checked {
    let mut out = Checked {
        checks_run: 1,
        ..Checked::default()
    };
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(problem) => {
            out.problems.push(problem);
            return out;
        }
    };
    out.bytes = bytes.len() as u64;
    out.checks_run = 2;
    let source = match source::decode(bytes) {
        Ok(source) => source,
        Err(problem) => {
            out.problems.push(problem);
            return out;
        }
    };
    out.problems.extend(source.problems);
    let text = source.text.as_str();
    out.checks_run = 3;
    let split = match frontmatter::split(text) {
        Ok(split) => split,
        Err(problem) => {
            out.problems.push(problem);
            stray_controls(text, 1, Severity::Error, &mut out.problems);
            return out;
        }
    };
    out.checks_run = 4;
    let frontmatter_ok = stray_controls(
        split.yaml,
        split.yaml_line,
        Severity::Error,
        &mut out.problems,
    );
    stray_controls(
        split.body,
        split.body_line,
        Severity::Warning,
        &mut out.problems,
    );
    for (i, line) in split.yaml.lines().enumerate() {
        if line.starts_with('\t') {
            out.problems.push(
                Problem::error(
                    "yaml-tab",
                    "a tab indents this frontmatter line; YAML indents with spaces only",
                )
                .at(Pos::new(split.yaml_line + i, 1)),
            );
            return out;
        }
    }
    if !frontmatter_ok {
        return out;
    }
    let document = match yaml::parse(split.yaml, split.yaml_line) {
        Ok(document) => document,
        Err(problem) => {
            out.problems.push(problem);
            return out;
        }
    };
    out.problems.extend(document.problems);
    out.checks_run = CHECKS.len();
    let fields = spec::check(document.root.as_ref(), dir_name, profile, &mut out.problems);

    house_rules(&split, &fields, files, out.bytes, config, &mut out);
    out.name = fields.name;
    out.description = fields.description;
    for problem in &mut out.problems {
        if config.errors.contains(&problem.rule) {
            problem.severity = Severity::Error;
        }
    }
    out
}

/// Reports the first stray control character of `text`; `false` when there was one.
fn stray_controls(
    text: &str,
    first_line: usize,
    severity: Severity,
    out: &mut Vec<Problem>,
) -> bool {
    let Some((offset, c)) = first_stray_control(text) else {
        return true;
    };
    let where_ = if severity == Severity::Error {
        "frontmatter"
    } else {
        "body"
    };
    let message = format!("control character U+{:04X} in the {where_}", u32::from(c));
    let problem = match severity {
        Severity::Error => Problem::error("encoding-control", message),
        Severity::Warning => Problem::warning("encoding-control", message),
    };
    out.push(problem.at(pos_of_offset(text, offset, first_line)));
    false
}

fn house_rules(
    split: &frontmatter::Split<'_>,
    fields: &spec::Fields,
    files: &[String],
    bytes: u64,
    config: &SkillsConfig,
    out: &mut Checked,
) {
    let problems = &mut out.problems;
    if bytes > config.max_bytes {
        problems.push(Problem::warning(
            "size-bytes",
            format!(
                "SKILL.md has {bytes} bytes; keep it under {} (move detail into references/)",
                config.max_bytes
            ),
        ));
    }
    let body_lines = line_count(split.body);
    if body_lines > config.max_body_lines {
        problems.push(
            Problem::warning(
                "body-lines",
                format!(
                    "the body has {body_lines} lines; keep it under {}",
                    config.max_body_lines
                ),
            )
            .at(Pos::new(split.body_line, 1)),
        );
    }
    if let Some(description) = &fields.description {
        let lower = description.to_lowercase();
        if !config.trigger_phrases.is_empty()
            && !config
                .trigger_phrases
                .iter()
                .any(|p| lower.contains(&p.to_lowercase()))
        {
            problems.push(
                Problem::warning(
                    "description-trigger",
                    "the description does not say when to use the skill (e.g. \"Use when …\")",
                )
                .at(fields
                    .description_pos
                    .unwrap_or(Pos::new(split.yaml_line, 1))),
            );
        }
    }
    if !config.required_headings.is_empty() {
        let headings = markdown::headings(split.body);
        for wanted in &config.required_headings {
            if !headings.iter().any(|h| h.text.eq_ignore_ascii_case(wanted)) {
                problems.push(Problem::warning(
                    "headings-required",
                    format!("no `{wanted}` heading"),
                ));
            }
        }
    }

    let references = markdown::references(split.body);
    if references.is_empty() {
        return;
    }
    let known = known_paths(files);
    let mut reported = HashSet::new();
    let lines = LineIndex::new(split.body, split.body_line);
    for reference in references {
        let pos = lines.pos(reference.offset);
        match normalize_relative(&reference.target) {
            None => out.outside_links.push(OutsideLink {
                target: reference.target.clone(),
                line: pos.line,
                column: pos.column,
            }),
            Some(path) => {
                if !known.contains(path.as_str()) && reported.insert(path.clone()) {
                    out.problems.push(
                        Problem::warning(
                            "links-missing",
                            format!("`{}` does not exist in the skill", reference.target),
                        )
                        .at(pos),
                    );
                }
            }
        }
    }
}

/// The number of lines of `text`, as `text.lines().count()` counts them.
fn line_count(text: &str) -> usize {
    let newlines = memchr::memchr_iter(b'\n', text.as_bytes()).count();
    newlines + usize::from(!text.is_empty() && !text.ends_with('\n'))
}

/// Every file of the skill and every folder above one, relative.
fn known_paths(files: &[String]) -> HashSet<&str> {
    let mut known = HashSet::new();
    for file in files {
        known.insert(file.as_str());
        let mut rest = file.as_str();
        while let Some((parent, _)) = rest.rsplit_once('/') {
            known.insert(parent);
            rest = parent;
        }
    }
    known
}

/// `target` with `.` and `..` resolved, or `None` when it leaves the folder.
pub(crate) fn normalize_relative(target: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// `base` joined with `target`, with `.` and `..` resolved lexically.
pub(crate) fn join_lexically(base: &Path, target: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for c in base.join(target).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules_of(text: &[u8], dir: &str, files: &[&str]) -> Vec<String> {
        let files: Vec<String> = files.iter().map(|s| s.to_string()).collect();
        check(
            Ok(text.to_vec()),
            dir,
            &files,
            Profile::Spec,
            &SkillsConfig::default(),
        )
        .problems
        .into_iter()
        .map(|p| p.rule)
        .collect()
    }

    const GOOD: &str =
        "---\nname: a\ndescription: Use when testing.\n---\n# A\nSee [x](references/x.md).\n";

    #[test]
    fn a_good_skill_has_no_problems_and_runs_every_check() {
        let c = check(
            Ok(GOOD.as_bytes().to_vec()),
            "a",
            &["SKILL.md".into(), "references/x.md".into()],
            Profile::Spec,
            &SkillsConfig::default(),
        );
        assert_eq!(c.problems, []);
        assert_eq!(c.checks_run, CHECKS.len());
        assert_eq!(c.name.as_deref(), Some("a"));
    }

    #[test]
    fn missing_references_are_warnings_at_their_place() {
        let c = check(
            Ok(GOOD.as_bytes().to_vec()),
            "a",
            &[],
            Profile::Spec,
            &SkillsConfig::default(),
        );
        assert_eq!(c.problems.len(), 1);
        let p = &c.problems[0];
        assert_eq!(
            (p.rule.as_str(), p.severity, p.line, p.column),
            ("links-missing", Severity::Warning, Some(6), Some(9))
        );
    }

    #[test]
    fn broken_inputs_are_problems() {
        assert_eq!(rules_of(b"", "a", &[]), ["file-empty"]);
        assert_eq!(
            rules_of(b"---\nname: \xff\n---\n", "a", &[]),
            ["encoding-utf8"]
        );
        assert_eq!(
            rules_of(b"---\nname: a\n", "a", &[]),
            ["frontmatter-unclosed"]
        );
        assert_eq!(
            rules_of(b"---\n- a\n---\n", "a", &[]),
            ["frontmatter-mapping"]
        );
        assert_eq!(
            rules_of(b"---\nname: a\n\tdescription: b\n---\n", "a", &[])[0],
            "yaml-tab"
        );
        assert_eq!(
            rules_of(b"---\nname: a\x07\n---\n", "a", &[]),
            ["encoding-control"]
        );
        assert_eq!(
            rules_of(
                b"---\nname: a\nname: a\ndescription: Use when x.\n---\n",
                "a",
                &[]
            ),
            ["yaml-duplicate-key"]
        );
        assert_eq!(
            rules_of(
                b"\xef\xbb\xbf---\nname: a\ndescription: Use when x.\n---\n",
                "a",
                &[]
            ),
            ["encoding-bom"]
        );
        assert_eq!(
            rules_of(
                b"---\r\nname: a\r\ndescription: Use when x.\r\n---\r\n",
                "a",
                &[]
            ),
            ["encoding-crlf"]
        );
        assert_eq!(
            check(
                Err(Problem::error("file-too-large", "big")),
                "a",
                &[],
                Profile::Spec,
                &SkillsConfig::default()
            )
            .checks_run,
            1
        );
    }

    #[test]
    fn a_description_without_a_trigger_is_a_warning_at_the_description() {
        let c = check(
            Ok(b"---\nname: a\ndescription: Converts files.\n---\n# A\n".to_vec()),
            "a",
            &[],
            Profile::Spec,
            &SkillsConfig::default(),
        );
        let p = &c.problems[0];
        assert_eq!(
            (p.rule.as_str(), p.severity, p.line, p.column),
            ("description-trigger", Severity::Warning, Some(3), Some(14))
        );
    }

    #[test]
    fn house_rules_can_be_made_errors() {
        let config = SkillsConfig {
            errors: vec!["links-missing".into()],
            ..SkillsConfig::default()
        };
        let c = check(
            Ok(GOOD.as_bytes().to_vec()),
            "a",
            &[],
            Profile::Spec,
            &config,
        );
        assert_eq!(c.problems[0].severity, Severity::Error);
    }

    #[test]
    fn relative_paths_normalize_or_leave() {
        assert_eq!(
            normalize_relative("./references/../scripts/a.py").as_deref(),
            Some("scripts/a.py")
        );
        assert_eq!(normalize_relative("../other/SKILL.md"), None);
    }
}
