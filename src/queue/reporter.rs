//! The queue's reporter: it follows a run's events and renames each item's file as its
//! status changes. `pending` → `in_progress` when its task starts (before its agent is
//! spawned); → `completed` when its last attempt succeeds; → `blocked` when it fails.
//! An attempt fanout itself ended (fail-fast, Ctrl-C), or an agent that could not be
//! started at all, puts the item back to `pending`: nothing is wrong with the item.
//! Items never started stay `pending`. The runner knows nothing of this; a failed rename
//! is kept for the caller to report, with the items whose files it left wrong, and the
//! run goes on.

use std::path::{Path, PathBuf};

use crate::events::{AttemptStatus, Event, EventSink};
use crate::report::failure_detail;

use super::error::QueueError;
use super::item::{ItemName, Status};
use super::rename::rename_item;

/// What became of one item in a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemOutcome {
    /// Never started: a dependency failed, the run stopped first, or the budget was spent.
    NotStarted,
    /// Started, and its last attempt has not ended.
    Running,
    Completed,
    /// Its last attempt failed (`reason` says how); the item is now `now`: blocked, or
    /// pending when its agent could not be started.
    Failed {
        reason: String,
        log: Option<PathBuf>,
        now: Status,
    },
    /// fanout ended its attempt (fail-fast, Ctrl-C): pending again.
    Stopped,
}

/// An item whose file does not say what became of it: a rename failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Misnamed {
    /// Its file's name now.
    pub name: ItemName,
    /// The status its file should have.
    pub wanted: Status,
}

/// Renames items as the run's events come; one entry per task of the queue's plan.
#[derive(Debug)]
pub struct QueueReporter {
    dir: PathBuf,
    names: Vec<ItemName>,
    /// The status each item's file should have: the last one it was renamed to, or tried.
    wanted: Vec<Status>,
    outcomes: Vec<ItemOutcome>,
    errors: Vec<QueueError>,
}

impl QueueReporter {
    /// `names[i]` is the current name of task i's item, in `dir`.
    pub fn new(dir: &Path, names: Vec<ItemName>) -> QueueReporter {
        let outcomes = vec![ItemOutcome::NotStarted; names.len()];
        let wanted = names.iter().map(|n| n.status).collect();
        QueueReporter {
            dir: dir.to_path_buf(),
            names,
            wanted,
            outcomes,
            errors: Vec::new(),
        }
    }

    /// Each task's item, under its current name.
    pub fn names(&self) -> &[ItemName] {
        &self.names
    }

    pub fn outcomes(&self) -> &[ItemOutcome] {
        &self.outcomes
    }

    /// Renames that failed.
    pub fn errors(&self) -> &[QueueError] {
        &self.errors
    }

    /// Renames that failed, handed over (to print them with their causes).
    pub fn take_errors(&mut self) -> Vec<QueueError> {
        std::mem::take(&mut self.errors)
    }

    /// The items whose files do not have the status they should, because a rename failed.
    pub fn misnamed(&self) -> Vec<Misnamed> {
        self.names
            .iter()
            .zip(&self.wanted)
            .filter(|(name, wanted)| name.status != **wanted)
            .map(|(name, &wanted)| Misnamed {
                name: name.clone(),
                wanted,
            })
            .collect()
    }

    /// After the run: an item whose attempt never ended (the run itself failed) is made
    /// pending again, so no item stays `in_progress` without a run.
    pub fn finish(&mut self) {
        for task in 0..self.names.len() {
            if self.outcomes[task] == ItemOutcome::Running {
                self.outcomes[task] = ItemOutcome::Stopped;
                self.set(task, Status::Pending);
            }
        }
    }

    fn set(&mut self, task: usize, status: Status) {
        self.wanted[task] = status;
        match rename_item(&self.dir, &self.names[task], status) {
            Ok(name) => self.names[task] = name,
            Err(err) => self.errors.push(err),
        }
    }
}

impl EventSink for QueueReporter {
    fn emit(&mut self, event: &Event) {
        match event {
            Event::TaskStarted { index, .. } if *index < self.names.len() => {
                self.outcomes[*index] = ItemOutcome::Running;
                self.set(*index, Status::InProgress);
            }
            Event::AttemptFinished {
                index,
                status,
                retry_in: None,
                log,
                agent,
                ..
            } if *index < self.names.len() => {
                let (outcome, now) = match status {
                    s if s.is_success() => (ItemOutcome::Completed, Status::Completed),
                    AttemptStatus::Cancelled => (ItemOutcome::Stopped, Status::Pending),
                    s => {
                        let now = if matches!(s, AttemptStatus::SpawnFailed { .. }) {
                            Status::Pending
                        } else {
                            Status::Blocked
                        };
                        let mut reason = failure_detail(s);
                        if let Some(error) = agent.as_ref().and_then(|a| a.error.as_ref())
                            && !reason.contains(error.as_str())
                        {
                            reason = format!("{reason}: {error}");
                        }
                        let outcome = ItemOutcome::Failed {
                            reason,
                            log: log.clone(),
                            now,
                        };
                        (outcome, now)
                    }
                };
                self.outcomes[*index] = outcome;
                self.set(*index, now);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;

    fn started(index: usize) -> Event {
        Event::TaskStarted {
            index,
            task: format!("t{index}"),
            attempt: 1,
            slot: 1,
            at: SystemTime::now(),
            offset: Duration::ZERO,
        }
    }

    fn finished(index: usize, status: AttemptStatus, retry_in: Option<Duration>) -> Event {
        Event::test_finished(index, 1, status, retry_in)
    }

    fn files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn items_are_renamed_as_their_tasks_start_and_end() {
        let dir = tempfile::tempdir().unwrap();
        let names: Vec<ItemName> = [
            "1-pending-ok",
            "2-pending-fails",
            "3-pending-stopped",
            "4-pending-no-agent",
            "5-pending-never",
        ]
        .iter()
        .map(|n| {
            std::fs::write(dir.path().join(format!("{n}.md")), "x").unwrap();
            ItemName::parse(&format!("{n}.md")).unwrap()
        })
        .collect();
        let mut reporter = QueueReporter::new(dir.path(), names);
        for i in 0..4 {
            reporter.emit(&started(i));
        }
        assert_eq!(
            files(dir.path()),
            [
                "1-in_progress-ok.md",
                "2-in_progress-fails.md",
                "3-in_progress-stopped.md",
                "4-in_progress-no-agent.md",
                "5-pending-never.md"
            ]
        );
        // A failed attempt that will be tried again leaves the item in progress.
        reporter.emit(&finished(
            1,
            AttemptStatus::Failed { exit_code: 1 },
            Some(Duration::from_secs(1)),
        ));
        assert!(dir.path().join("2-in_progress-fails.md").exists());
        reporter.emit(&finished(0, AttemptStatus::Success, None));
        reporter.emit(&finished(1, AttemptStatus::Failed { exit_code: 1 }, None));
        reporter.emit(&finished(2, AttemptStatus::Cancelled, None));
        reporter.emit(&finished(
            3,
            AttemptStatus::SpawnFailed {
                message: "no such program".into(),
            },
            None,
        ));
        reporter.finish();
        assert_eq!(
            files(dir.path()),
            [
                "1-completed-ok.md",
                "2-blocked-fails.md",
                "3-pending-stopped.md",
                "4-pending-no-agent.md",
                "5-pending-never.md"
            ]
        );
        assert!(reporter.errors().is_empty());
        assert!(reporter.misnamed().is_empty());
        let outcomes = reporter.outcomes();
        assert_eq!(outcomes[0], ItemOutcome::Completed);
        assert_eq!(
            outcomes[1],
            ItemOutcome::Failed {
                reason: "exit code 1".into(),
                log: None,
                now: Status::Blocked
            }
        );
        assert_eq!(outcomes[2], ItemOutcome::Stopped);
        assert_eq!(outcomes[4], ItemOutcome::NotStarted);
    }

    #[test]
    fn a_rename_that_fails_is_kept_and_the_rest_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("2-pending-b.md"), "x").unwrap();
        let names = vec![
            ItemName::parse("1-pending-gone.md").unwrap(),
            ItemName::parse("2-pending-b.md").unwrap(),
        ];
        let mut reporter = QueueReporter::new(dir.path(), names);
        reporter.emit(&started(0));
        reporter.emit(&started(1));
        assert_eq!(reporter.errors().len(), 1);
        assert_eq!(files(dir.path()), ["2-in_progress-b.md"]);
        // Ended without its attempt finishing: pending again.
        reporter.finish();
        assert_eq!(files(dir.path()), ["2-pending-b.md"]);
        // Pending is what the item's name says, so no file is left wrong.
        assert!(reporter.misnamed().is_empty());
    }

    #[test]
    fn an_item_whose_file_could_not_be_completed_is_misnamed() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["1-pending-a.md", "2-pending-b.md"] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        let names = ["1-pending-a.md", "2-pending-b.md"]
            .map(|n| ItemName::parse(n).unwrap())
            .to_vec();
        let mut reporter = QueueReporter::new(dir.path(), names);
        reporter.emit(&started(0));
        reporter.emit(&started(1));
        // Something takes the name item 1 would have.
        std::fs::write(dir.path().join("1-completed-a.md"), "in the way").unwrap();
        reporter.emit(&finished(0, AttemptStatus::Success, None));
        reporter.emit(&finished(1, AttemptStatus::Success, None));
        reporter.finish();
        assert_eq!(reporter.errors().len(), 1);
        assert_eq!(
            reporter.misnamed(),
            [Misnamed {
                name: ItemName::parse("1-in_progress-a.md").unwrap(),
                wanted: Status::Completed,
            }]
        );
        assert_eq!(reporter.outcomes()[0], ItemOutcome::Completed);
    }
}
