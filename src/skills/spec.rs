//! The rules of the Agent Skills specification for a skill's frontmatter (profile `spec`),
//! and the fields Claude Code accepts on top of them (profile `claude-code`). Given the
//! parsed frontmatter and the folder's name it returns problems; it reads no files.
//!
//! Lengths count Unicode scalar values after NFKC normalization, and scalars of any YAML
//! type count as strings, as the specification's reference validator does.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use super::problem::{Pos, Problem};
use super::yaml::{Node, Value};

pub(crate) const MAX_NAME_CHARS: usize = 64;
pub(crate) const MAX_DESCRIPTION_CHARS: usize = 1024;
pub(crate) const MAX_COMPATIBILITY_CHARS: usize = 500;

/// Which set of frontmatter rules applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// The Agent Skills specification (agentskills.io).
    Spec,
    /// The specification plus the fields Claude Code documents.
    ClaudeCode,
}

impl Profile {
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Spec => "spec",
            Profile::ClaudeCode => "claude-code",
        }
    }

    fn allows(self, field: &str) -> bool {
        SPEC_FIELDS.contains(&field)
            || (self == Profile::ClaudeCode && CLAUDE_CODE_FIELDS.contains(&field))
    }
}

const SPEC_FIELDS: &[&str] = &[
    "name",
    "description",
    "license",
    "compatibility",
    "metadata",
    "allowed-tools",
];

const CLAUDE_CODE_FIELDS: &[&str] = &[
    "when_to_use",
    "argument-hint",
    "arguments",
    "disable-model-invocation",
    "user-invocable",
    "disallowed-tools",
    "model",
    "effort",
    "context",
    "agent",
    "background",
    "hooks",
    "paths",
    "shell",
];

/// What the checks after this one need from a frontmatter that had a usable name and
/// description.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Fields {
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) description_pos: Option<Pos>,
}

/// NFKC-normalizes `s`.
pub(crate) fn normalize(s: &str) -> String {
    s.nfkc().collect()
}

/// Checks the frontmatter's root node against `profile`; `dir_name` is the skill folder's name.
pub(crate) fn check(
    root: Option<&Node>,
    dir_name: &str,
    profile: Profile,
    out: &mut Vec<Problem>,
) -> Fields {
    let Some(root) = root else {
        out.push(
            Problem::error("frontmatter-mapping", "the frontmatter is empty").at(Pos::new(1, 1)),
        );
        return Fields::default();
    };
    let Some(entries) = root.as_map() else {
        out.push(
            Problem::error(
                "frontmatter-mapping",
                "the frontmatter must be a YAML mapping of fields (`name: …`)",
            )
            .at(root.pos),
        );
        return Fields::default();
    };

    let unknown: Vec<&Node> = entries
        .iter()
        .map(|(k, _)| k)
        .filter(|k| !k.as_str().is_some_and(|k| profile.allows(k)))
        .collect();
    if let Some(first) = unknown.first() {
        let names: BTreeSet<String> = unknown.iter().map(|k| k.key_text()).collect();
        let names: Vec<String> = names.into_iter().map(|n| format!("`{n}`")).collect();
        let hint = if profile == Profile::Spec {
            "; only name, description, license, compatibility, metadata and allowed-tools are allowed"
        } else {
            ""
        };
        out.push(
            Problem::error(
                "fields-unknown",
                format!(
                    "unknown field{} in frontmatter: {}{hint}",
                    if names.len() == 1 { "" } else { "s" },
                    names.join(", ")
                ),
            )
            .at(first.pos),
        );
    }

    let mut fields = Fields::default();

    match root.get("name") {
        None => {
            out.push(Problem::error("name-required", "missing required field `name`").at(root.pos))
        }
        Some((_, value)) => fields.name = check_name(value, dir_name, out),
    }
    match root.get("description") {
        None => out.push(
            Problem::error(
                "description-required",
                "missing required field `description`",
            )
            .at(root.pos),
        ),
        Some((_, value)) => match scalar(value, "description", out) {
            Some(text) if text.trim().is_empty() => out.push(
                Problem::error("description-empty", "`description` must not be empty")
                    .at(value.pos),
            ),
            Some(text) => {
                let chars = text.chars().count();
                if chars > MAX_DESCRIPTION_CHARS {
                    out.push(
                        Problem::error(
                            "description-length",
                            format!(
                                "`description` has {chars} characters; at most {MAX_DESCRIPTION_CHARS} are allowed"
                            ),
                        )
                        .at(value.pos),
                    );
                }
                fields.description = Some(text.to_owned());
                fields.description_pos = Some(value.pos);
            }
            None => {}
        },
    }
    if let Some((_, value)) = root.get("compatibility")
        && let Some(text) = scalar(value, "compatibility", out)
    {
        let chars = text.chars().count();
        if chars > MAX_COMPATIBILITY_CHARS {
            out.push(
                Problem::error(
                    "compatibility-length",
                    format!(
                        "`compatibility` has {chars} characters; at most {MAX_COMPATIBILITY_CHARS} are allowed"
                    ),
                )
                .at(value.pos),
            );
        }
    }
    if let Some((_, value)) = root.get("license") {
        scalar(value, "license", out);
    }
    if let Some((_, value)) = root.get("metadata") {
        check_metadata(value, out);
    }
    if let Some((_, value)) = root.get("allowed-tools") {
        let list_ok = profile == Profile::ClaudeCode
            && matches!(&value.value, Value::Seq(items) if items.iter().all(|i| i.as_str().is_some()));
        if !list_ok && value.as_str().is_none() {
            let what = if profile == Profile::ClaudeCode {
                "a string or a list of strings"
            } else {
                "a string (tools separated by spaces)"
            };
            out.push(
                Problem::error(
                    "allowed-tools-type",
                    format!("`allowed-tools` must be {what}"),
                )
                .at(value.pos),
            );
        }
    }
    fields
}

/// The scalar text of `value`, or a type problem.
fn scalar<'n>(value: &'n Node, field: &str, out: &mut Vec<Problem>) -> Option<&'n str> {
    let text = value.as_str();
    if text.is_none() {
        out.push(
            Problem::error(
                &format!("{field}-type"),
                format!("`{field}` must be a string, not a {}", kind(value)),
            )
            .at(value.pos),
        );
    }
    text
}

fn kind(node: &Node) -> &'static str {
    match node.value {
        Value::Scalar(_) => "string",
        Value::Seq(_) => "list",
        Value::Map(_) => "mapping",
    }
}

fn check_name(value: &Node, dir_name: &str, out: &mut Vec<Problem>) -> Option<String> {
    let raw = scalar(value, "name", out)?;
    if raw.trim().is_empty() {
        out.push(Problem::error("name-empty", "`name` must not be empty").at(value.pos));
        return None;
    }
    let name = normalize(raw.trim());
    let at = value.pos;
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        out.push(
            Problem::error(
                "name-length",
                format!(
                    "name `{name}` has {chars} characters; at most {MAX_NAME_CHARS} are allowed"
                ),
            )
            .at(at),
        );
    }
    if name != name.to_lowercase() {
        out.push(
            Problem::error(
                "name-case",
                format!(
                    "name `{name}` must be lowercase (`{}`)",
                    name.to_lowercase()
                ),
            )
            .at(at),
        );
    }
    if name.starts_with('-') || name.ends_with('-') {
        out.push(
            Problem::error(
                "name-hyphen",
                format!("name `{name}` must not start or end with a hyphen"),
            )
            .at(at),
        );
    }
    if name.contains("--") {
        out.push(
            Problem::error(
                "name-hyphen",
                format!("name `{name}` must not contain `--`"),
            )
            .at(at),
        );
    }
    let bad: BTreeSet<char> = name
        .chars()
        .filter(|&c| !(c.is_alphanumeric() || c == '-'))
        .collect();
    if !bad.is_empty() {
        let shown: Vec<String> = bad.iter().map(|c| format!("{c:?}")).collect();
        out.push(
            Problem::error(
                "name-chars",
                format!(
                    "name `{name}` may hold only letters, digits and hyphens, not {}",
                    shown.join(", ")
                ),
            )
            .at(at),
        );
    }
    if normalize(dir_name) != name {
        out.push(
            Problem::error(
                "name-folder",
                format!("name `{name}` differs from the folder's name `{dir_name}`"),
            )
            .at(at),
        );
    }
    Some(name)
}

fn check_metadata(value: &Node, out: &mut Vec<Problem>) {
    let Some(entries) = value.as_map() else {
        out.push(
            Problem::error(
                "metadata-type",
                format!(
                    "`metadata` must be a mapping of strings to strings, not a {}",
                    kind(value)
                ),
            )
            .at(value.pos),
        );
        return;
    };
    for (key, item) in entries {
        if key.as_str().is_none() || item.as_str().is_none() {
            out.push(
                Problem::error(
                    "metadata-type",
                    format!(
                        "`metadata.{}` must be a string, not a {}",
                        key.key_text(),
                        kind(item)
                    ),
                )
                .at(item.pos),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::skills::yaml;

    fn rules(yaml_text: &str, dir: &str, profile: Profile) -> Vec<String> {
        let doc = yaml::parse(yaml_text, 2).unwrap();
        let mut out = Vec::new();
        check(doc.root.as_ref(), dir, profile, &mut out);
        out.into_iter().map(|p| p.rule).collect()
    }

    #[test]
    fn a_good_frontmatter_passes() {
        let y = "name: pdf\ndescription: Use when reading PDFs.\nlicense: MIT\nmetadata:\n  version: 1.0\n";
        assert!(rules(y, "pdf", Profile::Spec).is_empty());
    }

    #[test]
    fn name_rules() {
        assert_eq!(
            rules("name: Pdf\ndescription: d\n", "Pdf", Profile::Spec),
            ["name-case"]
        );
        assert_eq!(
            rules("name: -a\ndescription: d\n", "-a", Profile::Spec),
            ["name-hyphen"]
        );
        assert_eq!(
            rules("name: a--b\ndescription: d\n", "a--b", Profile::Spec),
            ["name-hyphen"]
        );
        assert_eq!(
            rules("name: a_b\ndescription: d\n", "a_b", Profile::Spec),
            ["name-chars"]
        );
        assert_eq!(
            rules("name: a\ndescription: d\n", "b", Profile::Spec),
            ["name-folder"]
        );
        let long = "a".repeat(65);
        assert_eq!(
            rules(
                &format!("name: {long}\ndescription: d\n"),
                &long,
                Profile::Spec
            ),
            ["name-length"]
        );
        // NFKC: a full-width letter equals its plain form.
        assert!(rules("name: ｐdf\ndescription: d\n", "pdf", Profile::Spec).is_empty());
        assert!(rules("name: café\ndescription: d\n", "café", Profile::Spec).is_empty());
    }

    #[test]
    fn unknown_fields_are_named_in_one_problem() {
        let doc = yaml::parse("name: a\ndescription: d\nversion: 1\nauthor: x\n", 2).unwrap();
        let mut out = Vec::new();
        check(doc.root.as_ref(), "a", Profile::Spec, &mut out);
        assert_eq!(out.len(), 1);
        assert!(
            out[0].message.contains("`author`, `version`"),
            "{}",
            out[0].message
        );
        assert_eq!(out[0].line, Some(4));
    }

    #[test]
    fn the_claude_code_profile_accepts_its_fields() {
        let y = "name: a\ndescription: d\nmodel: opus\nallowed-tools:\n  - Read\n";
        assert_eq!(
            rules(y, "a", Profile::Spec),
            ["fields-unknown", "allowed-tools-type"]
        );
        assert!(rules(y, "a", Profile::ClaudeCode).is_empty());
    }

    #[test]
    fn required_fields_lengths_and_types() {
        assert_eq!(
            rules("name: a\n", "a", Profile::Spec),
            ["description-required"]
        );
        assert_eq!(
            rules("description: d\n", "a", Profile::Spec),
            ["name-required"]
        );
        let d = "x".repeat(1025);
        assert_eq!(
            rules(&format!("name: a\ndescription: {d}\n"), "a", Profile::Spec),
            ["description-length"]
        );
        assert_eq!(
            rules("name: a\ndescription: d\nmetadata: x\n", "a", Profile::Spec),
            ["metadata-type"]
        );
        assert_eq!(
            rules("name: a\ndescription: ''\n", "a", Profile::Spec),
            ["description-empty"]
        );
        assert_eq!(rules("- a\n", "a", Profile::Spec), ["frontmatter-mapping"]);
    }
}
