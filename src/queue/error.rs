//! What can go wrong with a work-item queue: a directory that is not there or cannot be
//! read, malformed items (each problem naming its file, and its line where there is one),
//! a directory that kept changing while it was read, a queue another run is working on,
//! and renames that failed.

use std::path::PathBuf;

/// One thing wrong with one work item. Displays as `FILE:LINE: message` (the help is
/// for the caller to show beneath).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemProblem {
    /// The item's file.
    pub file: PathBuf,
    /// The 1-based line, when the problem is in the text.
    pub line: Option<usize>,
    pub message: String,
    pub help: Option<String>,
}

impl std::fmt::Display for ItemProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Why a queue could not be read or worked on.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("there is no queue directory {}", dir.display())]
    Missing { dir: PathBuf },
    #[error("failed to read the queue directory {}", dir.display())]
    ReadDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Bad input: nothing was run or renamed.
    #[error("{} has {} malformed work item problem(s)", dir.display(), problems.len())]
    Malformed {
        dir: PathBuf,
        problems: Vec<ItemProblem>,
    },
    /// Files were renamed or removed while the queue was read, every time it was read.
    #[error("the queue directory {} kept changing while it was read ({attempts} times)", dir.display())]
    Unsettled { dir: PathBuf, attempts: usize },
    #[error("another fanout run is working on the queue {}", dir.display())]
    Busy { dir: PathBuf },
    #[error("failed to lock the queue directory {}", dir.display())]
    Lock {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to rename {} to {}", from.display(), to.display())]
    Rename {
        from: PathBuf,
        to: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
