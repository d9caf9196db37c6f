//! A problem found in a skill: the rule it breaks, how serious it is, what is wrong, and
//! where in `SKILL.md` (line and column, 1-based) when there is a place to point at. Plain
//! data, shared by the checks, the cache and the reporters; it decides nothing.

use serde::{Deserialize, Serialize};

/// How much a problem counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Reported; the skill still passes.
    Warning,
    /// The skill fails.
    Error,
}

/// One problem in one skill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// A stable rule id, e.g. `name-case`; its prefix before the first `-` is the check.
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    /// 1-based line in `SKILL.md`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column (in characters) in `SKILL.md`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl Problem {
    pub fn error(rule: &str, message: impl Into<String>) -> Self {
        Problem {
            rule: rule.to_owned(),
            severity: Severity::Error,
            message: message.into(),
            line: None,
            column: None,
        }
    }

    pub fn warning(rule: &str, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(rule, message)
        }
    }

    /// The same problem, placed at a position.
    #[must_use]
    pub fn at(mut self, pos: Pos) -> Self {
        self.line = Some(pos.line);
        self.column = Some(pos.column);
        self
    }

    /// The check this problem belongs to: the rule id up to its first `-`.
    pub fn check(&self) -> &str {
        self.rule.split('-').next().unwrap_or(&self.rule)
    }
}

/// A 1-based line and column in `SKILL.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    pub const START: Pos = Pos { line: 1, column: 1 };

    pub fn new(line: usize, column: usize) -> Self {
        Pos { line, column }
    }
}

/// The 1-based position of byte `offset` in `text`, counting columns in characters.
pub(crate) fn pos_of_offset(text: &str, offset: usize, first_line: usize) -> Pos {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Pos::new(first_line + line, before[line_start..].chars().count() + 1)
}

/// Positions of many offsets in one text, without rescanning it for each.
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    first_line: usize,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str, first_line: usize) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex {
            text,
            first_line,
            line_starts,
        }
    }

    pub(crate) fn pos(&self, offset: usize) -> Pos {
        let offset = floor_char_boundary(self.text, offset.min(self.text.len()));
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        Pos::new(
            self.first_line + line,
            self.text[start..offset].chars().count() + 1,
        )
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_from_the_first_and_columns_in_characters() {
        let text = "ab\ncé d\n";
        assert_eq!(pos_of_offset(text, 0, 1), Pos::new(1, 1));
        assert_eq!(pos_of_offset(text, 3, 1), Pos::new(2, 1));
        assert_eq!(pos_of_offset(text, 7, 2), Pos::new(3, 4));
    }

    #[test]
    fn a_line_index_agrees_with_scanning() {
        let text = "ab\ncé d\n\nx";
        let index = LineIndex::new(text, 3);
        for offset in [0, 2, 3, 5, 6, 8, 9, 10] {
            assert_eq!(
                index.pos(offset),
                pos_of_offset(text, offset, 3),
                "{offset}"
            );
        }
    }

    #[test]
    fn the_check_is_the_rule_prefix() {
        assert_eq!(Problem::error("name-case", "x").check(), "name");
        assert_eq!(Problem::error("encoding", "x").check(), "encoding");
    }
}
