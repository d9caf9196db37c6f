//! Matrix tasks: the combinations of a task's matrix values, and the `{name}`
//! placeholders they fill in. `{{` and `}}` are literal braces; `${name}` is left alone
//! (it is the shell's). Checking that every placeholder has a value is done once per
//! template, so substitution itself cannot fail. Which fields are substituted is decided
//! by the caller.

use std::borrow::Cow;
use std::ops::Range;

use crate::plan::error::{Problem, suggestion};
use crate::plan::node::{Key, Span};
use crate::plan::values::Text;

/// One combination: `(name, value)` for every matrix key, in the matrix's order.
pub(crate) type Values = Vec<(String, String)>;

/// Every combination of the matrix's values; the first key varies slowest.
/// An empty matrix has one combination, with no values.
pub(crate) fn combinations(matrix: &[(Key, Vec<String>)]) -> Vec<Values> {
    let mut out: Vec<Values> = vec![Vec::new()];
    for (key, values) in matrix {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut next = prefix.clone();
                    next.push((key.name.clone(), v.clone()));
                    next
                })
            })
            .collect();
    }
    out
}

/// A piece of a template.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Literal(&'a str),
    /// A `{name}` placeholder; the range covers the braces.
    Placeholder(&'a str, Range<usize>),
}

/// Splits `s` into literal text and placeholders.
fn pieces(s: &str) -> Vec<Piece<'_>> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut literal_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'}' if bytes.get(i + 1) == Some(&bytes[i]) => {
                // `{{` or `}}`: keep one brace.
                out.push(Piece::Literal(&s[literal_start..=i]));
                i += 2;
                literal_start = i;
            }
            b'{' if i == 0 || bytes[i - 1] != b'$' => {
                let name_len = bytes[i + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'-')
                    .count();
                let close = i + 1 + name_len;
                let starts_well = bytes
                    .get(i + 1)
                    .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_');
                if starts_well && bytes.get(close) == Some(&b'}') {
                    out.push(Piece::Literal(&s[literal_start..i]));
                    out.push(Piece::Placeholder(&s[i + 1..close], i..close + 1));
                    i = close + 1;
                    literal_start = i;
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out.push(Piece::Literal(&s[literal_start..]));
    out.retain(|p| *p != Piece::Literal(""));
    out
}

/// `s` with placeholders replaced by `values` (unknown ones are kept as written).
pub(crate) fn substitute<'s>(s: &'s str, values: &[(String, String)]) -> Cow<'s, str> {
    if !s.contains(['{', '}']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for piece in pieces(s) {
        match piece {
            Piece::Literal(l) => out.push_str(l),
            Piece::Placeholder(name, range) => match values.iter().find(|(n, _)| n == name) {
                Some((_, v)) => out.push_str(v),
                None => out.push_str(&s[range]),
            },
        }
    }
    Cow::Owned(out)
}

/// The placeholder names in `s` that are not among `names`.
pub(crate) fn unknown_placeholders<'s>(s: &'s str, names: &[&str]) -> Vec<(&'s str, Range<usize>)> {
    if !s.contains('{') {
        return Vec::new();
    }
    pieces(s)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Placeholder(name, range) if !names.contains(&name) => Some((name, range)),
            _ => None,
        })
        .collect()
}

/// Problems for placeholders in `text` with no matrix value; `source` is the file's text,
/// used to point at the placeholder itself when the string is written without escapes.
pub(crate) fn check_placeholders(
    text: &Text,
    names: &[&str],
    task: &str,
    source: &str,
    problems: &mut Vec<Problem>,
) {
    for (name, range) in unknown_placeholders(&text.value, names) {
        let span = inner_span(&text.span, &text.value, source).map_or(text.span.clone(), |start| {
            start + range.start..start + range.end
        });
        let help = if names.is_empty() {
            Some(format!(
                "{task} has no matrix; add `matrix.{name} = [...]`, or write `{{{{{name}}}}}` for literal braces"
            ))
        } else {
            suggestion(name, names.iter().copied()).or_else(|| {
                Some(format!(
                    "the matrix of {task} has {}",
                    names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
        };
        let mut problem = Problem::at(
            &span,
            format!("placeholder `{{{name}}}` in {task} has no matrix value"),
            "no value for this placeholder",
        );
        if let Some(help) = help {
            problem = problem.help(help);
        }
        problems.push(problem);
    }
}

/// Where the string's characters start in the file, if they are written as they are
/// (bare or simply quoted, without escapes).
fn inner_span(span: &Span, value: &str, source: &str) -> Option<usize> {
    let at = |start: usize| source.get(start..start + value.len()) == Some(value);
    if at(span.start) {
        Some(span.start)
    } else if at(span.start + 1) {
        Some(span.start + 1)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> Key {
        Key {
            name: name.to_owned(),
            span: 0..0,
        }
    }

    #[test]
    fn first_key_varies_slowest() {
        let m = vec![
            (key("os"), vec!["linux".into(), "mac".into()]),
            (key("v"), vec!["1".into(), "2".into()]),
        ];
        let combos: Vec<String> = combinations(&m)
            .iter()
            .map(|c| substitute("{os}-{v}", c).into_owned())
            .collect();
        assert_eq!(combos, ["linux-1", "linux-2", "mac-1", "mac-2"]);
        assert_eq!(combinations(&[]), vec![Vec::new()]);
    }

    #[test]
    fn substitutes_placeholders_and_keeps_escapes_and_shell_syntax() {
        let v = vec![("s".to_owned(), "auth".to_owned())];
        assert_eq!(substitute("test-{s}", &v), "test-auth");
        assert_eq!(substitute("{{s}} {s}", &v), "{s} auth");
        assert_eq!(substitute("echo ${s} {}", &v), "echo ${s} {}");
        assert_eq!(substitute("awk '{print $1}'", &v), "awk '{print $1}'");
        assert_eq!(substitute("{other}", &v), "{other}");
    }

    #[test]
    fn finds_unknown_placeholders() {
        assert_eq!(
            unknown_placeholders("a {servce} {s}", &["s"]),
            vec![("servce", 2..10)]
        );
        assert!(unknown_placeholders("x-{ s }", &[]).is_empty());
    }
}
