//! Roadmaps: a Markdown file of priorities, each under a heading like
//! `### PRIORITY 65: Recipe management`, with a status (`Planned`, `In progress`,
//! `Complete`, with or without an emoji) in the heading or on a `Status:` line, and
//! optional `Files:` lines naming what it touches. Parsing and marking a priority
//! complete are pure text work; no I/O here.

/// Where a priority stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriorityStatus {
    Planned,
    InProgress,
    Complete,
    /// No marker found.
    Unknown,
}

/// One priority of a roadmap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Priority {
    pub number: u32,
    pub title: String,
    pub status: PriorityStatus,
    /// Paths from its `Files:` lines, in order.
    pub files: Vec<String>,
    /// Its whole section, heading included.
    pub section: String,
    /// The line (0-based) holding its status marker, if any.
    status_line: Option<usize>,
}

fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|c| *c == '#').count();
    if level == 0 || level > 6 {
        return None;
    }
    line[level..]
        .strip_prefix(' ')
        .map(|rest| (level, rest.trim()))
}

/// `PRIORITY 65: Title` → (65, "Title"), case-insensitively, a `:` or `-`/`—` after the
/// number being optional.
fn priority_heading(text: &str) -> Option<(u32, String)> {
    let rest = text
        .get(..9)
        .filter(|p| p.eq_ignore_ascii_case("priority "))
        .map(|_| &text[9..])?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let number = digits.parse().ok()?;
    let title = rest[digits.len()..]
        .trim_start_matches([':', ' ', '-', '—', '–'])
        .trim();
    Some((number, title.to_owned()))
}

fn status_in(text: &str) -> Option<PriorityStatus> {
    let lower = text.to_lowercase();
    if lower.contains("complete") || text.contains('✅') {
        Some(PriorityStatus::Complete)
    } else if lower.contains("in progress") || lower.contains("in-progress") {
        Some(PriorityStatus::InProgress)
    } else if lower.contains("planned") || text.contains('📝') {
        Some(PriorityStatus::Planned)
    } else {
        None
    }
}

/// A line's text without list markers and emphasis: `- **Files:** a` → `Files: a`.
fn plain(line: &str) -> String {
    line.trim()
        .trim_start_matches(['-', '*', '+', '>'])
        .replace("**", "")
        .replace("__", "")
        .trim()
        .to_owned()
}

fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let head = line.get(..name.len())?;
    head.eq_ignore_ascii_case(name)
        .then(|| line[name.len()..].strip_prefix(':'))
        .flatten()
        .map(str::trim)
}

/// Every priority of `text`, in order.
pub fn parse_roadmap(text: &str) -> Vec<Priority> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some((level, htext)) = heading(lines[i]) else {
            i += 1;
            continue;
        };
        let Some((number, mut title)) = priority_heading(htext) else {
            i += 1;
            continue;
        };
        let end = (i + 1..lines.len())
            .find(|&j| heading(lines[j]).is_some_and(|(l, _)| l <= level))
            .unwrap_or(lines.len());
        let mut status = None;
        let mut status_line = None;
        let mut files = Vec::new();
        for (j, line) in lines.iter().enumerate().take(end).skip(i + 1) {
            let p = plain(line);
            if let Some(value) = field(&p, "status")
                && status.is_none()
            {
                status = status_in(value);
                status_line = status.map(|_| j);
            }
            if let Some(value) = field(&p, "files") {
                files.extend(
                    value
                        .split(',')
                        .map(|f| f.trim().trim_matches('`').trim())
                        .filter(|f| !f.is_empty())
                        .map(str::to_owned),
                );
            }
        }
        if status.is_none()
            && let Some(s) = status_in(&title)
        {
            status = Some(s);
            status_line = Some(i);
            // The marker is not part of the title.
            for marker in ["📝", "✅", "Planned", "In progress", "Complete"] {
                title = title.replace(marker, "");
            }
            title = title
                .trim()
                .trim_end_matches(['-', '—', '(', ')', '[', ']', ' '])
                .to_owned();
        }
        out.push(Priority {
            number,
            title,
            status: status.unwrap_or(PriorityStatus::Unknown),
            files,
            section: lines[i..end].join("\n") + "\n",
            status_line,
        });
        i = end;
    }
    out
}

/// `text` with priority `number` marked `✅ Complete (date)`; `None` when it has no
/// status marker to replace.
pub fn mark_complete(text: &str, number: u32, date: &str) -> Option<String> {
    let priority = parse_roadmap(text)
        .into_iter()
        .find(|p| p.number == number)?;
    let at = priority.status_line?;
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let replaced = replace_marker(&lines[at], &format!("✅ Complete ({date})"));
    lines[at] = replaced;
    let mut out = lines.join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    Some(out)
}

fn replace_marker(line: &str, done: &str) -> String {
    for marker in [
        "📝 Planned",
        "✅ Complete",
        "🚧 In progress",
        "In progress",
        "Planned",
        "Complete",
        "planned",
        "in progress",
        "📝",
    ] {
        if let Some(pos) = line.find(marker) {
            return format!("{}{done}{}", &line[..pos], &line[pos + marker.len()..]);
        }
    }
    format!("{line} {done}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROADMAP: &str = "# Roadmap

### PRIORITY 65: Recipe management
**Status:** 📝 Planned
Files: `src/recipes.rs`, src/db.rs

Store recipes.

### PRIORITY 66: Shopping list — In progress
- Files: src/list.rs

### PRIORITY 67: Export ✅ Complete
";

    #[test]
    fn priorities_are_read_with_status_and_files() {
        let ps = parse_roadmap(ROADMAP);
        assert_eq!(ps.len(), 3);
        assert_eq!(ps[0].number, 65);
        assert_eq!(ps[0].title, "Recipe management");
        assert_eq!(ps[0].status, PriorityStatus::Planned);
        assert_eq!(ps[0].files, ["src/recipes.rs", "src/db.rs"]);
        assert!(ps[0].section.contains("Store recipes."));
        assert!(!ps[0].section.contains("PRIORITY 66"));
        assert_eq!(ps[1].status, PriorityStatus::InProgress);
        assert_eq!(ps[1].title, "Shopping list");
        assert_eq!(ps[2].status, PriorityStatus::Complete);
        assert_eq!(ps[2].title, "Export");
    }

    #[test]
    fn marking_complete_replaces_the_marker_only() {
        let text = mark_complete(ROADMAP, 65, "2026-01-02").unwrap();
        assert!(
            text.contains("**Status:** ✅ Complete (2026-01-02)"),
            "{text}"
        );
        assert_eq!(parse_roadmap(&text)[0].status, PriorityStatus::Complete);
        let text = mark_complete(ROADMAP, 66, "2026-01-02").unwrap();
        assert!(
            text.contains("Shopping list — ✅ Complete (2026-01-02)"),
            "{text}"
        );
        assert_eq!(text.lines().count(), ROADMAP.lines().count());
    }
}
