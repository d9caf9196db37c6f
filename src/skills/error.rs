//! Errors of the skill operations that stop a whole command (a root that does not exist, a
//! state directory that cannot be written). A broken skill is never one of these: it is a
//! problem reported for that skill.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SkillsError {
    #[error("read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("find skills: {} does not exist", path.display())]
    NoRoot { path: PathBuf },
    #[error("read the [skills] table of {}: {message}", path.display())]
    Config { path: PathBuf, message: String },
    /// The request cannot be carried out as asked; nothing was written.
    #[error("{0}")]
    Refused(String),
}

/// Why `skills gc` stopped applying its verdicts; what it did before stays done. `E` is
/// the error of whatever forgets the deleted skills.
#[derive(Debug, thiserror::Error)]
pub enum CollectError<E> {
    #[error("delete {}", path.display())]
    Delete {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("forget a deleted temporary skill")]
    Forget(#[source] E),
}
