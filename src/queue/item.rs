//! One work item: a Markdown file named `NNN-STATUS-SLUG.md`. Its number names it, its
//! status is part of its file name (so a rename is the whole state change), its
//! `BlockedBy:` line lists the numbers it waits for, and the rest of its text is the
//! agent's prompt. Reading names and texts only; this file does no I/O.

use serde::Serialize;

/// Where a work item stands. Part of its file name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting to run.
    Pending,
    /// Its agent is running (or a run that is gone left it so).
    InProgress,
    /// Its agent succeeded.
    Completed,
    /// Its agent failed; it waits for a person (rename it to `pending` to run it again).
    Blocked,
}

impl Status {
    /// Every status, in the order a status table lists them.
    pub const ALL: [Status; 4] = [
        Status::Pending,
        Status::InProgress,
        Status::Completed,
        Status::Blocked,
    ];

    /// The name used in file names.
    pub fn name(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::InProgress => "in_progress",
            Status::Completed => "completed",
            Status::Blocked => "blocked",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A work item's file name, taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemName {
    /// The number, as a number: `007` and `7` are the same item.
    pub number: u32,
    /// The number as written (`007`), kept through renames.
    pub digits: String,
    pub status: Status,
    pub slug: String,
}

/// The form every work item's file name has.
pub const NAME_FORM: &str = "NNN-STATUS-SLUG.md, STATUS one of pending, in_progress, \
completed, blocked (e.g. 001-pending-add-login.md)";

impl ItemName {
    /// Reads `NNN-STATUS-SLUG.md`; `Err` says what is wrong with it.
    pub fn parse(file_name: &str) -> Result<ItemName, String> {
        let stem = file_name
            .strip_suffix(".md")
            .ok_or("a work item's name ends in `.md`")?;
        let digits_end = stem
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(stem.len());
        let (digits, rest) = stem.split_at(digits_end);
        if digits.is_empty() {
            return Err("a work item's name starts with its number".into());
        }
        let number: u32 = digits
            .parse()
            .map_err(|_| format!("the number {digits} is too large"))?;
        let rest = rest
            .strip_prefix('-')
            .ok_or("the number is followed by `-` and a status")?;
        let word = rest.split('-').next().unwrap_or(rest);
        let status = Status::ALL
            .into_iter()
            .find(|s| s.name() == word)
            .ok_or_else(|| format!("`{word}` is not a status"))?;
        let slug = rest[word.len()..].strip_prefix('-').unwrap_or("");
        if slug.is_empty() {
            return Err("the status is followed by a name (the slug)".into());
        }
        Ok(ItemName {
            number,
            digits: digits.to_owned(),
            status,
            slug: slug.to_owned(),
        })
    }

    /// The file name, with the current status.
    pub fn file_name(&self) -> String {
        format!("{}-{}-{}.md", self.digits, self.status.name(), self.slug)
    }

    /// The same item with another status.
    pub fn with_status(&self, status: Status) -> ItemName {
        ItemName {
            status,
            ..self.clone()
        }
    }

    /// The item's name without its status (`001-add-login`): it stays the same through
    /// renames, so it is the task's id in runs and in the store.
    pub fn id(&self) -> String {
        format!("{}-{}", self.digits, self.slug)
    }
}

/// A work item's text taken apart: what it waits for, and the prompt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemBody {
    /// The numbers of the items it waits for, in the order given, without repeats.
    pub blocked_by: Vec<u32>,
    /// The 1-based line of the `BlockedBy:` line, when there is one.
    pub blocked_by_line: Option<usize>,
    /// The text without the `BlockedBy:` line, without blank lines around it.
    pub prompt: String,
}

/// Something wrong in a work item's text, at a line (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodyProblem {
    pub line: usize,
    pub message: String,
}

/// The key of the line that lists what an item waits for (case does not matter).
const BLOCKED_BY: &str = "blockedby";

impl ItemBody {
    /// Reads a work item's text. `BlockedBy:` takes numbers separated by commas or spaces
    /// (`#` before a number is allowed); nothing, `none` or `-` means it waits for nothing.
    /// A byte-order mark at the start (editors on Windows write one) is not part of the
    /// text: it would hide a `BlockedBy:` on the first line.
    pub fn parse(text: &str) -> Result<ItemBody, BodyProblem> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut blocked_by = Vec::new();
        let mut blocked_by_line = None;
        let mut kept = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let Some(list) = blocked_by_value(line) else {
                kept.push(line);
                continue;
            };
            if let Some(first) = blocked_by_line {
                return Err(BodyProblem {
                    line: number,
                    message: format!("a second `BlockedBy:` line (the first is line {first})"),
                });
            }
            blocked_by_line = Some(number);
            if list.trim().eq_ignore_ascii_case("none") || list.trim() == "-" {
                continue;
            }
            for word in list.split([',', ' ', '\t']).filter(|w| !w.is_empty()) {
                let digits = word.strip_prefix('#').unwrap_or(word);
                let value = (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| digits.parse::<u32>().ok())
                    .flatten()
                    .ok_or_else(|| BodyProblem {
                        line: number,
                        message: format!(
                            "`BlockedBy:` lists `{word}`, which is not an item number"
                        ),
                    })?;
                if !blocked_by.contains(&value) {
                    blocked_by.push(value);
                }
            }
        }
        let prompt = kept.join("\n").trim_matches('\n').trim_end().to_owned();
        Ok(ItemBody {
            blocked_by,
            blocked_by_line,
            prompt,
        })
    }
}

/// The text after `BlockedBy:` when `line` is that line. A list marker (`- `, `* `) before
/// it and `**` around the key are allowed: `- **BlockedBy:** 001`.
fn blocked_by_value(line: &str) -> Option<&str> {
    let rest = line.trim_start();
    let rest = rest
        .strip_prefix("- ")
        .or_else(|| rest.strip_prefix("* "))
        .map_or(rest, str::trim_start);
    let rest = rest.strip_prefix("**").unwrap_or(rest);
    if !rest
        .get(..BLOCKED_BY.len())?
        .eq_ignore_ascii_case(BLOCKED_BY)
    {
        return None;
    }
    let rest = &rest[BLOCKED_BY.len()..];
    let rest = rest.strip_prefix("**").unwrap_or(rest);
    let rest = rest.strip_prefix(':')?;
    Some(rest.strip_prefix("**").unwrap_or(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_taken_apart_and_put_back() {
        let name = ItemName::parse("007-in_progress-add-login-page.md").unwrap();
        assert_eq!(name.number, 7);
        assert_eq!(name.status, Status::InProgress);
        assert_eq!(name.slug, "add-login-page");
        assert_eq!(name.id(), "007-add-login-page");
        assert_eq!(
            name.with_status(Status::Completed).file_name(),
            "007-completed-add-login-page.md"
        );
        assert_eq!(name.file_name(), "007-in_progress-add-login-page.md");
    }

    #[test]
    fn bad_names_say_what_is_wrong() {
        for (name, why) in [
            ("notes.txt", "ends in `.md`"),
            ("pending-x.md", "starts with its number"),
            ("001pending-x.md", "followed by `-`"),
            ("001-done-x.md", "`done` is not a status"),
            ("001-pending.md", "followed by a name"),
            ("001-pending-.md", "followed by a name"),
            ("99999999999-pending-x.md", "too large"),
        ] {
            let err = ItemName::parse(name).unwrap_err();
            assert!(err.contains(why), "{name}: {err}");
        }
    }

    #[test]
    fn the_blocked_by_line_is_read_and_left_out_of_the_prompt() {
        let body = ItemBody::parse("# Add login\n\nBlockedBy: 001, #3 2 3\n\nWrite the page.\n\n")
            .unwrap();
        assert_eq!(body.blocked_by, [1, 3, 2]);
        assert_eq!(body.blocked_by_line, Some(3));
        assert_eq!(body.prompt, "# Add login\n\n\nWrite the page.");

        for marked in ["- BlockedBy: 4", "**BlockedBy:** 4", "* **BlockedBy**: #4"] {
            let body = ItemBody::parse(&format!("{marked}\nDo it")).unwrap();
            assert_eq!(body.blocked_by, [4], "{marked}");
            assert_eq!(body.prompt, "Do it");
        }
        let body = ItemBody::parse("BlockedByNothing: 4\nBlocked by: the API").unwrap();
        assert_eq!(body.blocked_by_line, None);

        for nothing in ["BlockedBy:", "blockedby: none", "BlockedBy: -"] {
            let body = ItemBody::parse(&format!("{nothing}\nDo it")).unwrap();
            assert!(body.blocked_by.is_empty(), "{nothing}");
            assert_eq!(body.prompt, "Do it");
        }
        let body = ItemBody::parse("Just do it").unwrap();
        assert_eq!(body.blocked_by_line, None);
    }

    #[test]
    fn a_byte_order_mark_does_not_hide_a_first_blocked_by_line() {
        let body = ItemBody::parse("\u{feff}BlockedBy: 2\nDo it\n").unwrap();
        assert_eq!(body.blocked_by, [2]);
        assert_eq!(body.blocked_by_line, Some(1));
        assert_eq!(body.prompt, "Do it");
        let body = ItemBody::parse("\u{feff}# Title\nDo it").unwrap();
        assert_eq!(body.prompt, "# Title\nDo it");
    }

    #[test]
    fn a_bad_blocked_by_line_is_located() {
        let err = ItemBody::parse("Title\nBlockedBy: 1, two\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("`two`"), "{}", err.message);
        let err = ItemBody::parse("BlockedBy: 1\nBlockedBy: 2\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("second"), "{}", err.message);
    }
}
