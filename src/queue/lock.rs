//! One run per queue: a run holds an exclusive lock (`flock`) on the queue directory
//! while it works. The kernel drops the lock when the process ends, however it ends, so
//! items left `in_progress` while nobody holds the lock belong to a run that is gone.
//! `fanout queue status` asks whether a run holds the lock by taking it for an instant,
//! so a run that starts at that instant tries again for a moment before giving up.

use std::fs::File;
use std::path::Path;
use std::time::Duration;

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

    /// Takes the lock like [`QueueLock::acquire`], but tries again for about 200 ms while it
    /// is busy: a `fanout queue status` holds it for an instant to see whether a run does.
    pub fn acquire_patiently(dir: &Path) -> Result<QueueLock, QueueError> {
        const RETRIES: usize = 20;
        const PAUSE: Duration = Duration::from_millis(10);
        Self::acquire_retrying(dir, RETRIES, || std::thread::sleep(PAUSE))
    }

    /// Takes the lock, trying again up to `retries` times while it is busy, calling
    /// `between` before each new try.
    fn acquire_retrying(
        dir: &Path,
        retries: usize,
        mut between: impl FnMut(),
    ) -> Result<QueueLock, QueueError> {
        let mut result = Self::acquire(dir);
        for _ in 0..retries {
            if !matches!(result, Err(QueueError::Busy { .. })) {
                break;
            }
            between();
            result = Self::acquire(dir);
        }
        result
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

    #[test]
    fn a_lock_held_for_a_moment_is_taken_once_it_is_let_go() {
        let dir = tempfile::tempdir().unwrap();
        let mut held = Some(QueueLock::acquire(dir.path()).unwrap());
        let mut pauses = 0;
        let lock = QueueLock::acquire_retrying(dir.path(), 5, || {
            pauses += 1;
            held = None;
        });
        assert!(lock.is_ok(), "{lock:?}");
        assert_eq!(pauses, 1);
        assert!(QueueLock::is_held(dir.path()));
    }

    #[test]
    fn a_lock_held_throughout_is_busy_after_the_retries() {
        let dir = tempfile::tempdir().unwrap();
        let _held = QueueLock::acquire(dir.path()).unwrap();
        let mut pauses = 0;
        let lock = QueueLock::acquire_retrying(dir.path(), 3, || pauses += 1);
        assert!(matches!(lock, Err(QueueError::Busy { .. })), "{lock:?}");
        assert_eq!(pauses, 3);
    }
}
