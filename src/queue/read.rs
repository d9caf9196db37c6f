//! Reading a queue directory: every `.md` file in it (hidden files and other files are
//! left alone) is a work item. Everything is checked before anything is used, and every
//! problem found is reported at once: file names not of the form `NNN-STATUS-SLUG.md`,
//! unreadable texts, `BlockedBy:` lines naming something other than numbers, two items
//! with one number, pending items with no prompt, and cycles. Reads; never writes.
//!
//! A run renames items while others read the queue (`fanout queue status`), and a listing
//! taken during a rename can hold an item under both names or under neither. So a read
//! counts only when the directory held still: every listed file was there, and the
//! listing taken after reading the files is the one taken before. Otherwise the queue is
//! read again after a pause, each pause longer than the one before, until the pauses add
//! up to a few seconds; only then does the read give up. A rename never makes a queue
//! malformed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::error::{ItemProblem, QueueError};
use super::item::{ItemBody, ItemName, NAME_FORM, Status};
use super::model::{Item, Queue};
use crate::graph::{Cycle, Dag};

/// How long, in pauses between reads, a queue that keeps changing while it is read is
/// read again before the read gives up. A run renames items in bursts, and on a busy
/// machine one burst can last a while.
const REREAD_BUDGET: Duration = Duration::from_secs(3);
/// The first pause before reading again a queue that changed; each later one is twice
/// the one before, up to [`LONGEST_REREAD_PAUSE`].
const FIRST_REREAD_PAUSE: Duration = Duration::from_millis(10);
/// The longest pause between two reads.
const LONGEST_REREAD_PAUSE: Duration = Duration::from_millis(200);

/// Reads and checks the queue in `dir`.
pub fn read_queue(dir: &Path) -> Result<Queue, QueueError> {
    read_still(dir, list_items, std::thread::sleep)
}

/// The pauses between reads of a queue that keeps changing: growing from
/// [`FIRST_REREAD_PAUSE`] to [`LONGEST_REREAD_PAUSE`], the last one cut short so that
/// together they make [`REREAD_BUDGET`].
fn reread_pauses() -> impl Iterator<Item = Duration> {
    let mut left = REREAD_BUDGET;
    let mut next = FIRST_REREAD_PAUSE;
    std::iter::from_fn(move || {
        let pause = next.min(left);
        if pause.is_zero() {
            return None;
        }
        left -= pause;
        next = (next * 2).min(LONGEST_REREAD_PAUSE);
        Some(pause)
    })
}

/// Reads the queue with `list` until a read saw it hold still, calling `pause` with each
/// of [`reread_pauses`] before each new read.
fn read_still(
    dir: &Path,
    mut list: impl FnMut(&Path) -> Result<Vec<PathBuf>, QueueError>,
    mut pause: impl FnMut(Duration),
) -> Result<Queue, QueueError> {
    if !dir.is_dir() {
        return Err(QueueError::Missing {
            dir: dir.to_path_buf(),
        });
    }
    let mut pauses = reread_pauses();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let files = list(dir)?;
        let read = read_listed(dir, &files);
        if let Some(read) = read
            && list(dir)? == files
        {
            return read;
        }
        match pauses.next() {
            Some(wait) => pause(wait),
            None => break,
        }
    }
    Err(QueueError::Unsettled {
        dir: dir.to_path_buf(),
        attempts,
    })
}

/// The item files in `dir`, sorted.
fn list_items(dir: &Path) -> Result<Vec<PathBuf>, QueueError> {
    let read_error = |source| QueueError::ReadDir {
        dir: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        let path = entry.path();
        let name = entry.file_name();
        let is_item = !name.as_encoded_bytes().starts_with(b".")
            && name.as_encoded_bytes().ends_with(b".md")
            && path.is_file();
        if is_item {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Reads and checks the listed files; `None` when one of them is gone (renamed since).
fn read_listed(dir: &Path, files: &[PathBuf]) -> Option<Result<Queue, QueueError>> {
    let mut problems = Vec::new();
    let mut items = Vec::new();
    for path in files {
        match read_item(path, &mut problems) {
            Ok(Some(item)) => items.push(item),
            Ok(None) => {}
            Err(Gone) => return None,
        }
    }
    items.sort_by(|a, b| (a.name.number, &a.name.digits).cmp(&(b.name.number, &b.name.digits)));
    let unique = check_numbers(dir, &items, &mut problems);
    if unique {
        check_cycles(dir, &items, &mut problems);
    }
    Some(if problems.is_empty() {
        Ok(Queue {
            dir: dir.to_path_buf(),
            items,
        })
    } else {
        Err(QueueError::Malformed {
            dir: dir.to_path_buf(),
            problems,
        })
    })
}

/// A listed file that is no longer there.
struct Gone;

/// Reads one item, adding what is wrong with it to `problems` (`Ok(None)` then).
fn read_item(path: &Path, problems: &mut Vec<ItemProblem>) -> Result<Option<Item>, Gone> {
    let problem = |line, message: String, help: Option<String>| ItemProblem {
        file: path.to_path_buf(),
        line,
        message,
        help,
    };
    let file_name = path.file_name().unwrap_or_default().to_string_lossy();
    let name = match ItemName::parse(&file_name) {
        Ok(name) => name,
        Err(why) => {
            problems.push(problem(
                None,
                format!("not a work item's name: {why}"),
                Some(format!(
                    "name work items {NAME_FORM}; keep other files out of the queue directory"
                )),
            ));
            return Ok(None);
        }
    };
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => {
                problems.push(problem(None, "its text is not UTF-8".into(), None));
                return Ok(None);
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Gone),
        Err(e) => {
            problems.push(problem(None, format!("failed to read it: {e}"), None));
            return Ok(None);
        }
    };
    let body = match ItemBody::parse(&text) {
        Ok(body) => body,
        Err(p) => {
            problems.push(problem(
                Some(p.line),
                p.message,
                Some(
                    "write `BlockedBy: 001, 002` with the numbers of the items it waits for".into(),
                ),
            ));
            return Ok(None);
        }
    };
    let runs = matches!(name.status, Status::Pending | Status::InProgress);
    if runs && body.prompt.is_empty() {
        problems.push(problem(
            None,
            "it has no prompt: its text is empty apart from the `BlockedBy:` line".into(),
            Some("write what the agent should do in the file".into()),
        ));
    }
    Ok(Some(Item { name, body }))
}

/// Reports every item that has the number of an earlier one; true when there is none.
fn check_numbers(dir: &Path, items: &[Item], problems: &mut Vec<ItemProblem>) -> bool {
    let mut first: BTreeMap<u32, &Item> = BTreeMap::new();
    let mut unique = true;
    for item in items {
        match first.get(&item.name.number) {
            Some(earlier) => {
                unique = false;
                problems.push(ItemProblem {
                    file: item.path(dir),
                    line: None,
                    message: format!(
                        "number {} is also the number of {}",
                        item.name.number,
                        earlier.name.file_name()
                    ),
                    help: Some("give every work item a number of its own".into()),
                });
            }
            None => {
                first.insert(item.name.number, item);
            }
        }
    }
    unique
}

/// Reports a cycle of `BlockedBy:` lines, at the first item's line. Numbers of items that
/// are not in the queue are left to readiness.
fn check_cycles(dir: &Path, items: &[Item], problems: &mut Vec<ItemProblem>) {
    let index: BTreeMap<u32, usize> = items
        .iter()
        .enumerate()
        .map(|(i, item)| (item.name.number, i))
        .collect();
    let deps: Vec<Vec<usize>> = items
        .iter()
        .map(|item| {
            item.body
                .blocked_by
                .iter()
                .filter_map(|n| index.get(n).copied())
                .collect()
        })
        .collect();
    if let Err(Cycle(path)) = Dag::new(deps) {
        let first = &items[path[0]];
        let mut names: Vec<&str> = path
            .iter()
            .map(|&i| items[i].name.digits.as_str())
            .collect();
        names.push(&first.name.digits);
        problems.push(ItemProblem {
            file: first.path(dir),
            line: first.body.blocked_by_line,
            message: format!(
                "the items wait for each other in a cycle: {}",
                names.join(" waits for ")
            ),
            help: Some("remove one of these numbers from its `BlockedBy:` line".into()),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    fn problems(files: &[(&str, &str)]) -> Vec<String> {
        let d = dir(files);
        match read_queue(d.path()) {
            Err(QueueError::Malformed { problems, .. }) => problems
                .iter()
                .map(|p| {
                    let file = p.file.file_name().unwrap().to_string_lossy();
                    match p.line {
                        Some(line) => format!("{file}:{line}: {}", p.message),
                        None => format!("{file}: {}", p.message),
                    }
                })
                .collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_items_in_number_order_and_ignores_other_files() {
        let d = dir(&[
            ("010-pending-later.md", "BlockedBy: 2\nLater"),
            ("002-completed-first.md", "First"),
            (".hidden.md", "x"),
            ("notes.txt", "x"),
        ]);
        std::fs::create_dir(d.path().join("sub.md")).unwrap();
        let q = read_queue(d.path()).unwrap();
        let names: Vec<String> = q.items.iter().map(|i| i.name.file_name()).collect();
        assert_eq!(names, ["002-completed-first.md", "010-pending-later.md"]);
        assert_eq!(q.items[1].body.blocked_by, [2]);
        assert_eq!(q.items[1].body.prompt, "Later");
    }

    #[test]
    fn every_problem_is_reported_with_its_file() {
        let found = problems(&[
            ("README.md", "about"),
            ("001-pending-a.md", "Title\nBlockedBy: 2, x\n"),
            ("002-pending-b.md", "b"),
            ("02-completed-c.md", "c"),
            ("003-pending-d.md", "BlockedBy: 2\n"),
        ]);
        assert_eq!(
            found,
            [
                "001-pending-a.md:2: `BlockedBy:` lists `x`, which is not an item number",
                "003-pending-d.md: it has no prompt: its text is empty apart from the `BlockedBy:` line",
                "README.md: not a work item's name: a work item's name starts with its number",
                "02-completed-c.md: number 2 is also the number of 002-pending-b.md",
            ]
        );
    }

    #[test]
    fn a_cycle_is_reported_with_its_path() {
        let found = problems(&[
            ("001-pending-a.md", "x\nBlockedBy: 3\n"),
            ("002-pending-b.md", "BlockedBy: 1\nb"),
            ("003-pending-c.md", "BlockedBy: 2, 9\nc"),
        ]);
        assert_eq!(
            found,
            [
                "001-pending-a.md:2: the items wait for each other in a cycle: 001 waits for 003 waits for 002 waits for 001"
            ]
        );
        assert_eq!(
            problems(&[("004-pending-self.md", "BlockedBy: 4\nme")]),
            ["004-pending-self.md:1: the items wait for each other in a cycle: 004 waits for 004"]
        );
    }

    /// A lister that gives `first` the first time, then what is in the directory.
    fn stale_once(first: Vec<&str>) -> impl FnMut(&Path) -> Result<Vec<PathBuf>, QueueError> {
        let mut first = Some(first);
        move |dir| match first.take() {
            Some(names) => Ok(names.iter().map(|n| dir.join(n)).collect()),
            None => list_items(dir),
        }
    }

    fn names(queue: &Queue) -> Vec<String> {
        queue.items.iter().map(|i| i.name.file_name()).collect()
    }

    #[test]
    fn an_item_listed_under_a_name_it_no_longer_has_is_read_again() {
        let d = dir(&[("001-in_progress-a.md", "a"), ("002-pending-b.md", "b")]);
        // Listed during its rename: under both names, the old one gone by the read.
        let mut pauses = 0;
        let q = read_still(
            d.path(),
            stale_once(vec![
                "001-in_progress-a.md",
                "001-pending-a.md",
                "002-pending-b.md",
            ]),
            |_| pauses += 1,
        )
        .unwrap();
        assert_eq!(names(&q), ["001-in_progress-a.md", "002-pending-b.md"]);
        assert_eq!(pauses, 1);

        // Listed under its old name only.
        let q = read_still(
            d.path(),
            stale_once(vec!["001-pending-a.md", "002-pending-b.md"]),
            |_| {},
        )
        .unwrap();
        assert_eq!(names(&q), ["001-in_progress-a.md", "002-pending-b.md"]);
    }

    #[test]
    fn an_item_missing_from_a_listing_is_read_again() {
        let d = dir(&[("001-completed-a.md", "a"), ("002-pending-b.md", "b")]);
        let q = read_still(d.path(), stale_once(vec!["002-pending-b.md"]), |_| {}).unwrap();
        assert_eq!(names(&q), ["001-completed-a.md", "002-pending-b.md"]);
    }

    #[test]
    fn a_queue_that_never_holds_still_is_not_called_malformed() {
        let d = dir(&[("001-in_progress-a.md", "a")]);
        let mut pauses = Vec::new();
        let err = read_still(
            d.path(),
            |dir| Ok(vec![dir.join("001-pending-a.md")]),
            |pause| pauses.push(pause),
        )
        .unwrap_err();
        // It gave up only after pausing for the whole budget, in growing pauses, with
        // a read after each.
        assert!(
            matches!(err, QueueError::Unsettled { attempts, .. } if attempts == pauses.len() + 1),
            "{err:?}"
        );
        assert_eq!(pauses.iter().sum::<Duration>(), REREAD_BUDGET, "{pauses:?}");
        assert_eq!(pauses[..2], [FIRST_REREAD_PAUSE, 2 * FIRST_REREAD_PAUSE]);
        let (_, all_but_last) = pauses.split_last().unwrap();
        assert!(all_but_last.windows(2).all(|w| w[0] <= w[1]), "{pauses:?}");
        assert!(
            pauses.iter().all(|p| *p <= LONGEST_REREAD_PAUSE),
            "{pauses:?}"
        );
    }

    #[test]
    fn a_missing_directory_is_its_own_error() {
        let d = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_queue(&d.path().join("nope")),
            Err(QueueError::Missing { .. })
        ));
    }
}
