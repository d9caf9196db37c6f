//! Splitting `SKILL.md` into its YAML frontmatter and its Markdown body: the frontmatter
//! must open on the very first line with `---` and close with another `---` line. This
//! file only finds the boundaries; it does not parse YAML or read Markdown.

use super::problem::{Pos, Problem};

/// The two parts of a `SKILL.md`, borrowed from its text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Split<'a> {
    /// The YAML between the delimiter lines (each line keeps its `\n`).
    pub(crate) yaml: &'a str,
    /// The line of `SKILL.md` where `yaml` starts (always 2).
    pub(crate) yaml_line: usize,
    /// The Markdown after the closing delimiter.
    pub(crate) body: &'a str,
    /// The line of `SKILL.md` where `body` starts.
    pub(crate) body_line: usize,
}

fn is_delimiter(line: &str) -> bool {
    line.trim_end_matches([' ', '\t', '\n']) == "---"
}

/// Splits `text` (with `\n` line endings).
pub(crate) fn split(text: &str) -> Result<Split<'_>, Problem> {
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or_default();
    if !is_delimiter(first) {
        return Err(Problem::error(
            "frontmatter-missing",
            "SKILL.md must start with YAML frontmatter: a `---` line, the fields, another `---` line",
        )
        .at(Pos::START));
    }
    let yaml_start = first.len();
    let mut offset = yaml_start;
    for (index, line) in lines.enumerate() {
        if is_delimiter(line) {
            return Ok(Split {
                yaml: &text[yaml_start..offset],
                yaml_line: 2,
                body: &text[offset + line.len()..],
                body_line: index + 3,
            });
        }
        offset += line.len();
    }
    Err(Problem::error(
        "frontmatter-unclosed",
        "the frontmatter opened on line 1 is never closed by a `---` line",
    )
    .at(Pos::START))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_delimiter_lines() {
        let s = split("---\nname: a\n---\n# Body\n").unwrap();
        assert_eq!(s.yaml, "name: a\n");
        assert_eq!(s.body, "# Body\n");
        assert_eq!(s.body_line, 4);
    }

    #[test]
    fn a_dashed_line_inside_a_value_is_not_a_delimiter() {
        let s = split("---\ndescription: a --- b\n---\n").unwrap();
        assert_eq!(s.yaml, "description: a --- b\n");
    }

    #[test]
    fn missing_and_unclosed_frontmatter_are_errors() {
        assert_eq!(split("# Title\n").unwrap_err().rule, "frontmatter-missing");
        assert_eq!(
            split("---\nname: a\n").unwrap_err().rule,
            "frontmatter-unclosed"
        );
    }
}
