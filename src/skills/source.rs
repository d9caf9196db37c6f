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

/// Decodes `bytes` (taking them over, so valid text is not copied); `Err` when nothing
/// more can be checked.
pub(crate) fn decode(bytes: Vec<u8>) -> Result<SourceText, Problem> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::error("file-empty", "SKILL.md is empty").at(Pos::START));
    }
    let mut text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let bytes = err.as_bytes();
            let valid = err.utf8_error().valid_up_to();
            let good = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
            let pos = pos_of_offset(good, good.len(), 1);
            return Err(Problem::error(
                "encoding-utf8",
                format!(
                    "SKILL.md is not UTF-8: byte 0x{:02x} at offset {valid} cannot be decoded",
                    bytes[valid],
                ),
            )
            .at(pos));
        }
    };
    let mut problems = Vec::new();
    if text.starts_with('\u{feff}') {
        problems.push(
            Problem::error(
                "encoding-bom",
                "SKILL.md starts with a byte-order mark; the frontmatter must be the very first bytes",
            )
            .at(Pos::START),
        );
        text.drain(..'\u{feff}'.len_utf8());
    }
    if let Some(at) = memchr::memmem::find(text.as_bytes(), b"\r\n") {
        problems.push(
            Problem::warning(
                "encoding-crlf",
                "SKILL.md uses CRLF line endings; prefer LF",
            )
            .at(pos_of_offset(&text, at, 1)),
        );
        text = text.replace("\r\n", "\n");
    }
    Ok(SourceText { text, problems })
}

/// Whether `c` is a control character that has no place in text (tab and newline do).
pub(crate) fn is_stray_control(c: char) -> bool {
    (c.is_control() && c != '\t' && c != '\n') || c == '\u{fffe}' || c == '\u{ffff}'
}

/// Whether `b` can start a stray control character: C0 but tab and newline, DEL, the
/// lead byte of C1 (0xC2 0x80..0x9F) and of U+FFFE and U+FFFF (0xEF).
fn may_start_control(b: u8) -> bool {
    (b < 0x20 && b != b'\t' && b != b'\n') || b == 0x7f || b == 0xc2 || b == 0xef
}

/// The first stray control character in `text`, with its offset.
pub(crate) fn first_stray_control(text: &str) -> Option<(usize, char)> {
    // Blocks of bytes are tested whole first (a loop the compiler turns into vector
    // instructions); only a block with a possible start is looked at byte by byte.
    const BLOCK: usize = 32;
    let bytes = text.as_bytes();
    let mut base = 0;
    for block in bytes.chunks(BLOCK) {
        if block
            .iter()
            .fold(false, |any, &b| any | may_start_control(b))
        {
            for (i, &b) in block.iter().enumerate() {
                if may_start_control(b) {
                    let c = text[base + i..].chars().next().unwrap_or_default();
                    if is_stray_control(c) {
                        return Some((base + i, c));
                    }
                }
            }
        }
        base += block.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_blank_files_are_one_problem() {
        assert_eq!(decode(b"".to_vec()).unwrap_err().rule, "file-empty");
        assert_eq!(decode(b" \n\n".to_vec()).unwrap_err().rule, "file-empty");
    }

    #[test]
    fn bad_utf8_points_at_the_byte() {
        let err = decode(b"---\nname: a\xff\n".to_vec()).unwrap_err();
        assert_eq!(err.rule, "encoding-utf8");
        assert_eq!((err.line, err.column), (Some(2), Some(8)));
    }

    #[test]
    fn bom_is_an_error_and_crlf_a_warning_and_both_are_repaired() {
        let src = decode("\u{feff}---\r\nname: a\r\n".as_bytes().to_vec()).unwrap();
        assert_eq!(src.text, "---\nname: a\n");
        let rules: Vec<_> = src.problems.iter().map(|p| p.rule.as_str()).collect();
        assert_eq!(rules, ["encoding-bom", "encoding-crlf"]);
    }

    #[test]
    fn control_characters_are_found_but_tabs_and_newlines_are_not() {
        assert_eq!(first_stray_control("a\tb\nc"), None);
        assert_eq!(first_stray_control("a\u{7}b"), Some((1, '\u{7}')));
    }

    proptest::proptest! {
        /// The block-wise scan finds what a scan of every character finds, wherever the
        /// character falls in a block (text of printable ASCII, tabs, newlines, C0, DEL,
        /// C1, non-characters and other characters starting with 0xC2 or 0xEF).
        #[test]
        fn the_block_scan_agrees_with_a_plain_scan(
            text in "[a-z \t\n\u{1}\u{d}\u{7f}\u{85}\u{a0}\u{fe0f}\u{fffe}\u{ffff}\u{e9}]{0,80}"
        ) {
            let plain = text.char_indices().find(|&(_, c)| is_stray_control(c));
            proptest::prop_assert_eq!(first_stray_control(&text), plain);
        }
    }
}
