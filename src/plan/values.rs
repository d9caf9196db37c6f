//! Reading typed values out of [`Node`]s: strings, integers, durations, lists and maps,
//! and matching a table's keys against the fields it may hold (with aliases, and a
//! did-you-mean for unknown keys). Every mistake becomes a located [`Problem`]; callers
//! get `None` and carry on so that one pass reports every problem.

use std::time::Duration;

use crate::plan::error::{Problem, did_you_mean};
use crate::plan::node::{Key, Kind, Node, Span};

/// A string from the file and where it is.
#[derive(Clone, Debug)]
pub(crate) struct Text {
    pub(crate) value: String,
    pub(crate) span: Span,
}

/// A field a table may hold: its name and the other names it is accepted under.
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) aliases: &'static [&'static str],
}

/// `Field` shorthand for tables of fields.
pub(crate) const fn field(name: &'static str, aliases: &'static [&'static str]) -> Field {
    Field { name, aliases }
}

/// A table's entries sorted by field: `found[i]` is the entry for `fields[i]`. Looked up
/// by the field's name, so that adding a field to a table moves nothing else.
pub(crate) struct Found<'n> {
    fields: &'static [Field],
    found: Vec<Option<(&'n Key, &'n Node)>>,
    /// Where the last lookup ended: fields are mostly asked for in table order, so the
    /// next one is usually the next field.
    cursor: std::cell::Cell<usize>,
}

impl<'n> Found<'n> {
    fn entry(&self, name: &str) -> Option<(&'n Key, &'n Node)> {
        let n = self.fields.len();
        let start = self.cursor.get();
        let i = (0..n)
            .map(|k| (start + k) % n)
            .find(|&i| self.fields[i].name == name)
            .unwrap_or_else(|| panic!("no field `{name}` in this table"));
        self.cursor.set((i + 1) % n);
        self.found[i]
    }

    /// The value of the field `name` (its main name, not an alias), when given.
    pub(crate) fn get(&self, name: &str) -> Option<&'n Node> {
        self.entry(name).map(|(_, n)| n)
    }

    /// The key the field `name` was given under, when given.
    pub(crate) fn key(&self, name: &str) -> Option<&'n Key> {
        self.entry(name).map(|(k, _)| k)
    }
}

/// Matches `entries` against `fields`; keys in `ignored` are accepted and skipped.
/// Unknown keys and a field given twice (under two of its names) are problems.
pub(crate) fn match_fields<'n>(
    entries: &'n [(Key, Node)],
    fields: &'static [Field],
    ignored: &[&str],
    what: &str,
    problems: &mut Vec<Problem>,
) -> Found<'n> {
    let mut found: Vec<Option<(&'n Key, &'n Node)>> = vec![None; fields.len()];
    for (key, node) in entries {
        let name = key.name.as_str();
        let index = fields
            .iter()
            .position(|f| f.name == name || f.aliases.contains(&name));
        match index {
            Some(i) => {
                if let Some((first, _)) = found[i] {
                    problems.push(
                        Problem::new(format!("`{}` is given twice in {what}", fields[i].name))
                            .label(&first.span, "first here")
                            .label(&key.span, "again here")
                            .help(alias_help(&fields[i])),
                    );
                } else {
                    found[i] = Some((key, node));
                }
            }
            None if ignored.contains(&name) => {}
            None => {
                let names = fields
                    .iter()
                    .flat_map(|f| std::iter::once(f.name).chain(f.aliases.iter().copied()));
                let help = match did_you_mean(name, names) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "known fields: {}",
                        fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
                    ),
                };
                problems.push(
                    Problem::at(
                        &key.span,
                        format!("unknown field `{name}` in {what}"),
                        "unknown field",
                    )
                    .help(help),
                );
            }
        }
    }
    Found {
        fields,
        found,
        cursor: std::cell::Cell::new(0),
    }
}

fn alias_help(field: &Field) -> String {
    if field.aliases.is_empty() {
        format!("keep one `{}`", field.name)
    } else {
        let names: Vec<String> = std::iter::once(field.name)
            .chain(field.aliases.iter().copied())
            .map(|n| format!("`{n}`"))
            .collect();
        format!("{} are the same field; keep one", names.join(", "))
    }
}

/// Reports a value of the wrong type.
pub(crate) fn wrong_type(node: &Node, field: &str, expected: &str) -> Problem {
    Problem::at(
        &node.span,
        format!(
            "wrong type for `{field}`: expected {expected}, found {}",
            node.type_name()
        ),
        format!("expected {expected}"),
    )
}

/// The entries of a table.
pub(crate) fn table<'n>(
    node: &'n Node,
    field: &str,
    problems: &mut Vec<Problem>,
) -> Option<&'n [(Key, Node)]> {
    match &node.kind {
        Kind::Map(entries) => Some(entries),
        _ => {
            problems.push(wrong_type(node, field, "a table"));
            None
        }
    }
}

pub(crate) fn string(node: &Node, field: &str, problems: &mut Vec<Problem>) -> Option<Text> {
    match &node.kind {
        Kind::Str(s) => Some(Text {
            value: s.clone(),
            span: node.span.clone(),
        }),
        _ => {
            problems.push(wrong_type(node, field, "a string"));
            None
        }
    }
}

/// A string, or an integer taken as its digits (task ids in hand-written JSON).
pub(crate) fn id_text(node: &Node, field: &str, problems: &mut Vec<Problem>) -> Option<Text> {
    match &node.kind {
        Kind::Str(_) | Kind::Int(_) => Some(Text {
            value: node.scalar_text()?,
            span: node.span.clone(),
        }),
        _ => {
            problems.push(wrong_type(node, field, "a string"));
            None
        }
    }
}

/// A list of ids: an array of strings (or integers), or one string.
pub(crate) fn id_list(node: &Node, field: &str, problems: &mut Vec<Problem>) -> Vec<Text> {
    match &node.kind {
        Kind::Array(items) => items
            .iter()
            .filter_map(|item| id_text(item, field, problems))
            .collect(),
        Kind::Str(_) | Kind::Int(_) => id_text(node, field, problems).into_iter().collect(),
        _ => {
            problems.push(wrong_type(node, field, "an array of strings"));
            Vec::new()
        }
    }
}

/// An array of strings, or one string.
pub(crate) fn string_list(node: &Node, field: &str, problems: &mut Vec<Problem>) -> Vec<Text> {
    match &node.kind {
        Kind::Array(items) => items
            .iter()
            .filter_map(|item| string(item, field, problems))
            .collect(),
        Kind::Str(_) => string(node, field, problems).into_iter().collect(),
        _ => {
            problems.push(wrong_type(node, field, "an array of strings"));
            Vec::new()
        }
    }
}

pub(crate) fn boolean(node: &Node, field: &str, problems: &mut Vec<Problem>) -> Option<bool> {
    match node.kind {
        Kind::Bool(b) => Some(b),
        _ => {
            problems.push(wrong_type(node, field, "a boolean (true or false)"));
            None
        }
    }
}

pub(crate) fn integer(node: &Node, field: &str, problems: &mut Vec<Problem>) -> Option<i64> {
    match node.kind {
        Kind::Int(i) => Some(i),
        _ => {
            problems.push(wrong_type(node, field, "an integer"));
            None
        }
    }
}

/// An integer of at least `min` that fits in `u32`.
pub(crate) fn count(
    node: &Node,
    field: &str,
    min: u32,
    problems: &mut Vec<Problem>,
) -> Option<u32> {
    let i = integer(node, field, problems)?;
    match u32::try_from(i) {
        Ok(n) if n >= min => Some(n),
        _ => {
            problems.push(Problem::at(
                &node.span,
                format!("`{field}` must be at least {min}, found {i}"),
                format!("expected an integer ≥ {min}"),
            ));
            None
        }
    }
}

const DURATION_HELP: &str = "expected a duration such as \"90s\", \"10m\" or \"1h 30m\"";

/// A duration: a string such as "1h 30m", or a number of seconds.
pub(crate) fn duration(node: &Node, field: &str, problems: &mut Vec<Problem>) -> Option<Duration> {
    let bad = |problems: &mut Vec<Problem>, shown: String| {
        problems.push(
            Problem::at(
                &node.span,
                format!("invalid duration {shown} for `{field}`"),
                "not a duration",
            )
            .help(DURATION_HELP),
        );
        None
    };
    match &node.kind {
        Kind::Str(s) => match humantime::parse_duration(s.trim()) {
            Ok(d) => Some(d),
            Err(_) => bad(problems, format!("`{s}`")),
        },
        Kind::Int(i) => match u64::try_from(*i) {
            Ok(secs) => Some(Duration::from_secs(secs)),
            Err(_) => bad(problems, i.to_string()),
        },
        Kind::Float(f) => match Duration::try_from_secs_f64(*f) {
            Ok(d) => Some(d),
            Err(_) => bad(problems, f.to_string()),
        },
        _ => {
            problems.push(wrong_type(node, field, "a duration").help(DURATION_HELP));
            None
        }
    }
}

/// A map of names to strings (numbers and booleans are taken as their text).
pub(crate) fn string_map(
    node: &Node,
    field: &str,
    problems: &mut Vec<Problem>,
) -> Vec<(Key, Text)> {
    let Some(entries) = table(node, field, problems) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|(key, value)| match &value.kind {
            Kind::Map(_) | Kind::Array(_) | Kind::Null | Kind::Other(_) => {
                problems.push(wrong_type(value, &key.name, "a string"));
                None
            }
            _ => Some((
                key.clone(),
                Text {
                    value: value.scalar_text()?,
                    span: value.span.clone(),
                },
            )),
        })
        .collect()
}
