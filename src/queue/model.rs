//! The queue as read: its items in number order, and what each pending item waits for.
//! Pure data; reading the directory is `read.rs`, renaming is `rename.rs`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::item::{ItemBody, ItemName, Status};

/// A queue directory's work items, valid: unique numbers, no cycles.
#[derive(Clone, Debug)]
pub struct Queue {
    pub dir: PathBuf,
    /// In number order.
    pub items: Vec<Item>,
}

/// One work item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub name: ItemName,
    pub body: ItemBody,
}

impl Item {
    /// The item's file, in `dir`.
    pub fn path(&self, dir: &Path) -> PathBuf {
        dir.join(self.name.file_name())
    }
}

/// Whether a pending item can run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Readiness {
    /// Everything it waits for is completed.
    Ready,
    /// It waits for these items, which are pending or in progress.
    Waiting { on: Vec<u32> },
    /// It waits for an item that is not in the queue, is blocked, or cannot run itself;
    /// `reason` says which. It stays pending.
    CannotRun { reason: String },
}

impl Queue {
    /// The index of the item numbered `number`.
    pub fn position(&self, number: u32) -> Option<usize> {
        self.items
            .binary_search_by_key(&number, |i| i.name.number)
            .ok()
    }

    /// How many items have each status, in [`Status::ALL`] order.
    pub fn counts(&self) -> [usize; 4] {
        let mut counts = [0; 4];
        for item in &self.items {
            let slot = Status::ALL
                .iter()
                .position(|s| *s == item.name.status)
                .expect("every status is listed");
            counts[slot] += 1;
        }
        counts
    }

    /// Per item: `Some` for pending items, `None` for the others. Items in progress count
    /// as on their way to completion: what waits for them is waiting, not stuck.
    pub fn readiness(&self) -> Vec<Option<Readiness>> {
        let mut memo: HashMap<usize, Readiness> = HashMap::new();
        (0..self.items.len())
            .map(|i| {
                (self.items[i].name.status == Status::Pending)
                    .then(|| self.readiness_of(i, &mut memo))
            })
            .collect()
    }

    fn readiness_of(&self, index: usize, memo: &mut HashMap<usize, Readiness>) -> Readiness {
        if let Some(known) = memo.get(&index) {
            return known.clone();
        }
        let mut waiting = Vec::new();
        let mut stuck = None;
        for &number in &self.items[index].body.blocked_by {
            let Some(dep) = self.position(number) else {
                stuck = Some(format!("it waits for {number}, which is not in the queue"));
                break;
            };
            let dep_name = &self.items[dep].name;
            match dep_name.status {
                Status::Completed => {}
                Status::InProgress => waiting.push(number),
                Status::Blocked => {
                    stuck = Some(format!(
                        "it waits for {}, which is blocked",
                        dep_name.digits
                    ));
                    break;
                }
                // Validated acyclic, so this recursion ends.
                Status::Pending => match self.readiness_of(dep, memo) {
                    Readiness::CannotRun { .. } => {
                        stuck = Some(format!(
                            "it waits for {}, which cannot run",
                            dep_name.digits
                        ));
                        break;
                    }
                    Readiness::Ready | Readiness::Waiting { .. } => waiting.push(number),
                },
            }
        }
        let readiness = match stuck {
            Some(reason) => Readiness::CannotRun { reason },
            None if waiting.is_empty() => Readiness::Ready,
            None => Readiness::Waiting { on: waiting },
        };
        memo.insert(index, readiness.clone());
        readiness
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A queue from `(file name, text)` pairs, without validation.
    pub(crate) fn queue(files: &[(&str, &str)]) -> Queue {
        let mut items: Vec<Item> = files
            .iter()
            .map(|(name, text)| Item {
                name: ItemName::parse(name).unwrap(),
                body: ItemBody::parse(text).unwrap(),
            })
            .collect();
        items.sort_by_key(|i| i.name.number);
        Queue {
            dir: PathBuf::from("q"),
            items,
        }
    }

    #[test]
    fn pending_items_are_ready_waiting_or_stuck() {
        let q = queue(&[
            ("001-completed-a.md", "a"),
            ("002-pending-b.md", "BlockedBy: 1\nb"),
            ("003-pending-c.md", "BlockedBy: 1, 2\nc"),
            ("004-blocked-d.md", "d"),
            ("005-pending-e.md", "BlockedBy: 4\ne"),
            ("006-pending-f.md", "BlockedBy: 5\nf"),
            ("007-pending-g.md", "BlockedBy: 99\ng"),
            ("008-in_progress-h.md", "h"),
            ("009-pending-i.md", "BlockedBy: 8\ni"),
        ]);
        let r = q.readiness();
        assert_eq!(r[0], None);
        assert_eq!(r[1], Some(Readiness::Ready));
        assert_eq!(r[2], Some(Readiness::Waiting { on: vec![2] }));
        assert_eq!(r[3], None);
        let reason = |i: usize| match &r[i] {
            Some(Readiness::CannotRun { reason }) => reason.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(reason(4), "it waits for 004, which is blocked");
        assert_eq!(reason(5), "it waits for 005, which cannot run");
        assert_eq!(reason(6), "it waits for 99, which is not in the queue");
        assert_eq!(r[8], Some(Readiness::Waiting { on: vec![8] }));
        assert_eq!(q.counts(), [6, 1, 1, 1]);
    }
}
