//! One run per queue: a run holds an exclusive lock (`flock`) on the queue directory
//! while it works. The kernel drops the lock when the process ends, however it ends, so
//! items left `in_progress` while nobody holds the lock belong to a run that is gone.

use std::fs::File;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use super::error::QueueError;

/// The lock on a queue directory, held until dropped.
#[derive(Debug)]
pub struct QueueLock {
    _lock: Flock<File>,
}

impl QueueLock {
    /// Takes the lock, or fails with [`QueueError::Busy`] when another run holds it.
    pub fn acquire(dir: &Path) -> Result<QueueLock, QueueError> {
        let error = |source| QueueError::Lock {
            dir: dir.to_path_buf(),
            source,
        };
        if !dir.is_dir() {
            return Err(QueueError::Missing {
                dir: dir.to_path_buf(),
            });
        }
        let file = File::open(dir).map_err(error)?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => Ok(QueueLock { _lock: lock }),
            Err((_, Errno::EWOULDBLOCK)) => Err(QueueError::Busy {
                dir: dir.to_path_buf(),
            }),
            Err((_, errno)) => Err(error(std::io::Error::from(errno))),
        }
    }

    /// Whether a run holds the lock on `dir` now (false when it cannot be told).
    pub fn is_held(dir: &Path) -> bool {
        matches!(Self::acquire(dir), Err(QueueError::Busy { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_queue_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = QueueLock::acquire(dir.path()).unwrap();
        assert!(QueueLock::is_held(dir.path()));
        assert!(matches!(
            QueueLock::acquire(dir.path()),
            Err(QueueError::Busy { .. })
        ));
        drop(first);
        assert!(!QueueLock::is_held(dir.path()));
        QueueLock::acquire(dir.path()).unwrap();
    }
}
