//! Turning the bytes of a `SKILL.md` into text the checks can read: undecodable bytes, a
//! byte-order mark, CRLF line endings, control characters and empty files become problems
//! with a position instead of crashes. It does not look at frontmatter or Markdown.

use super::problem::{Pos, Problem, pos_of_offset};

/// Files larger than this are not read at all.
pub(crate) const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// `SKILL.md` as text with line endings made `\n` and any byte-order mark removed, and the
/// problems found on the way.
#[derive(Debug)]
pub(crate) struct SourceText {
    pub(crate) text: String,
    pub(crate) problems: Vec<Problem>,
}

/// Decodes `bytes`; `Err` when nothing more can be checked.
pub(crate) fn decode(bytes: &[u8]) -> Result<SourceText, Problem> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::error("file-empty", "SKILL.md is empty").at(Pos::START));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let good = std::str::from_utf8(&bytes[..err.valid_up_to()]).unwrap_or_default();
            let pos = pos_of_offset(good, good.len(), 1);
            return Err(Problem::error(
                "encoding-utf8",
                format!(
                    "SKILL.md is not UTF-8: byte 0x{:02x} at offset {} cannot be decoded",
                    bytes[err.valid_up_to()],
                    err.valid_up_to()
                ),
            )
            .at(pos));
        }
    };
    let mut problems = Vec::new();
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => {
            problems.push(
                Problem::error(
                    "encoding-bom",
                    "SKILL.md starts with a byte-order mark; the frontmatter must be the very first bytes",
                )
                .at(Pos::START),
            );
            rest
        }
        None => text,
    };
    let text = if let Some(at) = text.find("\r\n") {
        problems.push(
            Problem::warning(
                "encoding-crlf",
                "SKILL.md uses CRLF line endings; prefer LF",
            )
            .at(pos_of_offset(text, at, 1)),
        );
        text.replace("\r\n", "\n")
    } else {
        text.to_owned()
    };
    Ok(SourceText { text, problems })
}

/// Whether `c` is a control character that has no place in text (tab and newline do).
pub(crate) fn is_stray_control(c: char) -> bool {
    (c.is_control() && c != '\t' && c != '\n') || c == '\u{fffe}' || c == '\u{ffff}'
}

/// The first stray control character in `text`, with its offset.
pub(crate) fn first_stray_control(text: &str) -> Option<(usize, char)> {
    // Scan bytes: every stray control character starts with one of these bytes (C0 and
    // DEL are ASCII, C1 is 0xC2 0x80..0x9F, U+FFFE and U+FFFF start with 0xEF).
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if (b < 0x20 && b != b'\t' && b != b'\n') || b == 0x7f || b == 0xc2 || b == 0xef {
            let c = text[i..].chars().next().unwrap_or_default();
            if is_stray_control(c) {
                return Some((i, c));
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_blank_files_are_one_problem() {
        assert_eq!(decode(b"").unwrap_err().rule, "file-empty");
        assert_eq!(decode(b" \n\n").unwrap_err().rule, "file-empty");
    }

    #[test]
    fn bad_utf8_points_at_the_byte() {
        let err = decode(b"---\nname: a\xff\n").unwrap_err();
        assert_eq!(err.rule, "encoding-utf8");
        assert_eq!((err.line, err.column), (Some(2), Some(8)));
    }

    #[test]
    fn bom_is_an_error_and_crlf_a_warning_and_both_are_repaired() {
        let src = decode("\u{feff}---\r\nname: a\r\n".as_bytes()).unwrap();
        assert_eq!(src.text, "---\nname: a\n");
        let rules: Vec<_> = src.problems.iter().map(|p| p.rule.as_str()).collect();
        assert_eq!(rules, ["encoding-bom", "encoding-crlf"]);
    }

    #[test]
    fn control_characters_are_found_but_tabs_and_newlines_are_not() {
        assert_eq!(first_stray_control("a\tb\nc"), None);
        assert_eq!(first_stray_control("a\u{7}b"), Some((1, '\u{7}')));
    }
}
