//! Just enough Markdown for the skill checks and operations: headings (outside fenced code)
//! and the relative paths a `SKILL.md` points at (links, and mentions of `references/…`,
//! `scripts/…`, `assets/…`). Not a Markdown parser; it renders nothing.

/// A heading line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Heading {
    pub(crate) level: usize,
    pub(crate) text: String,
    /// 0-based line index in the text given.
    pub(crate) line: usize,
}

/// Whether `line` opens or closes a fenced code block.
fn is_fence(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("```") || t.starts_with("~~~")
}

/// Lines of `text` with whether each is inside (or is the edge of) a fenced code block.
pub(crate) fn lines_with_fences(text: &str) -> impl Iterator<Item = (usize, &str, bool)> {
    let mut in_fence = false;
    text.lines().enumerate().map(move |(i, line)| {
        if is_fence(line) {
            in_fence = !in_fence;
            return (i, line, true);
        }
        (i, line, in_fence)
    })
}

/// The ATX headings (`# …`) of `text`, outside fenced code.
pub(crate) fn headings(text: &str) -> Vec<Heading> {
    lines_with_fences(text)
        .filter(|&(_, _, fenced)| !fenced)
        .filter_map(|(i, line, _)| {
            let level = line.bytes().take_while(|&b| b == b'#').count();
            let rest = &line[level..];
            ((1..=6).contains(&level) && (rest.is_empty() || rest.starts_with(' '))).then(|| {
                Heading {
                    level,
                    text: rest.trim().trim_end_matches('#').trim().to_owned(),
                    line: i,
                }
            })
        })
        .collect()
}

/// A relative path mentioned in the text, with the byte offset where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Reference {
    pub(crate) target: String,
    pub(crate) offset: usize,
}

const FOLDERS: [&str; 3] = ["references/", "scripts/", "assets/"];

fn is_path_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | '+' | '@')
}

/// Relative link targets and `references/…`-style mentions in `text`, in order, each once
/// per offset. URLs, anchors and absolute paths are left out.
pub(crate) fn references(text: &str) -> Vec<Reference> {
    let mut out: Vec<Reference> = Vec::new();
    let bytes = text.as_bytes();
    // Markdown links and images: `](target)`; found by `]`, a byte search.
    for at in memchr::memchr_iter(b']', bytes) {
        if bytes.get(at + 1) != Some(&b'(') {
            continue;
        }
        let start = at + 2;
        let rest = &text[start..];
        let (inner, skip) = match rest.strip_prefix('<') {
            Some(r) => (r.split('>').next().unwrap_or(""), 1),
            None => (rest.split([')', ' ', '\n', '\t']).next().unwrap_or(""), 0),
        };
        let target = inner.split('#').next().unwrap_or("");
        if keep_link(target) {
            out.push(Reference {
                target: percent_decode(target),
                offset: start + skip,
            });
        }
    }
    // Mentions of the standard folders: every one ends in `s/`, so look at each `/`.
    let link_offsets: Vec<usize> = out.iter().map(|r| r.offset).collect();
    let mut from = 0;
    for slash in memchr::memchr_iter(b'/', bytes) {
        if slash < from {
            continue;
        }
        let Some(folder) = FOLDERS.iter().find(|f| text[..=slash].ends_with(*f)) else {
            continue;
        };
        let start = slash + 1 - folder.len();
        let (start, before) = if text[..start].ends_with("./") {
            (start - 2, text[..start - 2].chars().next_back())
        } else {
            (start, text[..start].chars().next_back())
        };
        if before.is_some_and(|c| is_path_char(c) || c == '(' && text[..start].ends_with("](")) {
            continue;
        }
        let len: usize = text[start..]
            .chars()
            .take_while(|&c| is_path_char(c))
            .map(char::len_utf8)
            .sum();
        let target = text[start..start + len].trim_end_matches(['.', ',', ':', ';']);
        let name = target.rsplit('/').next().unwrap_or("");
        // A bare folder (`scripts/`) is not a file reference.
        if name.is_empty() || link_offsets.contains(&start) {
            continue;
        }
        out.push(Reference {
            target: target.to_owned(),
            offset: start,
        });
        from = start + len;
    }
    out.sort_by_key(|r| r.offset);
    out
}

fn keep_link(target: &str) -> bool {
    !(target.is_empty()
        || target.contains("://")
        || target.starts_with('/')
        || target.starts_with("mailto:")
        || target.starts_with('{')
        || target.contains('$')
        || target.contains('<'))
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_skip_fenced_code() {
        let h = headings("# Title\n```\n# not\n```\n## Two ##\n#nope\n");
        let t: Vec<_> = h
            .iter()
            .map(|h| (h.level, h.text.as_str(), h.line))
            .collect();
        assert_eq!(t, [(1, "Title", 0), (2, "Two", 4)]);
    }

    #[test]
    fn links_and_folder_mentions_are_found_once() {
        let text = "See [guide](references/guide.md#part), run `scripts/run.py`,\n\
                    ![img](assets/a%20b.png) and [site](https://x.y) or [top](#top).\n\
                    Put files in scripts/ and src/scripts/x.py is not ours.";
        let r: Vec<_> = references(text).into_iter().map(|r| r.target).collect();
        assert_eq!(
            r,
            ["references/guide.md", "scripts/run.py", "assets/a b.png"]
        );
    }
}
