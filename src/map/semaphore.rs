//! A counting semaphore shared by processes, for shell scripts (GNU parallel's
//! `--semaphore`, its `sem`): a directory per name holding one file per slot, each taken
//! with an exclusive `flock` for as long as its command runs. The kernel lets go of a lock
//! when the process holding it ends, however it ends, so a crash never leaves a slot
//! taken (GNU parallel cleans up after dead holders by their process ids instead).

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// The semaphore named `name`, with `slots` slots, kept under a root directory.
#[derive(Clone, Debug)]
pub struct Semaphore {
    dir: PathBuf,
    slots: usize,
}

/// A slot taken; dropping it gives the slot back.
#[derive(Debug)]
pub struct Held {
    lock: Flock<File>,
}

impl Held {
    /// The slot's file, open on the same lock: a process given it holds the slot with
    /// this one, for as long as either keeps it open.
    pub fn share(&self) -> io::Result<File> {
        self.lock.try_clone()
    }
}

/// Where semaphores live: `$FANOUT_SEMAPHORE_DIR`, else `$XDG_RUNTIME_DIR/fanout/semaphores`,
/// else `~/.cache/fanout/semaphores`, else under the temporary directory.
pub fn semaphore_root() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("FANOUT_SEMAPHORE_DIR") {
        return dir.into();
    }
    if let Some(dir) = var("XDG_RUNTIME_DIR") {
        return Path::new(&dir).join("fanout/semaphores");
    }
    if let Some(home) = var("HOME") {
        return Path::new(&home).join(".cache/fanout/semaphores");
    }
    std::env::temp_dir().join("fanout-semaphores")
}

impl Semaphore {
    /// The semaphore `name` under `root` (its directory made if missing), with `slots`
    /// slots (at least one).
    pub fn open(root: &Path, name: &str, slots: usize) -> io::Result<Semaphore> {
        let dir = root.join(dir_name(name));
        std::fs::create_dir_all(&dir)?;
        Ok(Semaphore {
            dir,
            slots: slots.max(1),
        })
    }

    /// A free slot, if there is one now.
    pub fn try_acquire(&self) -> io::Result<Option<Held>> {
        for slot in 1..=self.slots {
            let file = self.slot_file(slot)?;
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(lock) => return Ok(Some(Held { lock })),
                Err((_, Errno::EWOULDBLOCK)) => continue,
                Err((_, errno)) => return Err(errno.into()),
            }
        }
        Ok(None)
    }

    /// Waits for a free slot: `None` when `timeout` passed first. Looks again and again,
    /// less often as the wait goes on (up to five times a second).
    pub fn acquire(&self, timeout: Option<Duration>) -> io::Result<Option<Held>> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            if let Some(held) = self.try_acquire()? {
                return Ok(Some(held));
            }
            if timeout.is_some_and(|t| start.elapsed() >= t) {
                return Ok(None);
            }
            std::thread::sleep(pause);
            pause = (pause * 3 / 2).min(Duration::from_millis(200));
        }
    }

    /// Waits until no slot of the semaphore (of whatever count it was taken with) is
    /// held.
    pub fn wait_idle(&self) -> io::Result<()> {
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            let Ok(file) = OpenOptions::new().read(true).open(&path) else {
                continue;
            };
            // Blocks until the holder lets go; then lets go at once.
            Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, errno)| errno)?;
        }
        Ok(())
    }

    fn slot_file(&self, slot: usize) -> io::Result<File> {
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(self.dir.join(format!("slot-{slot}")))
    }
}

/// A name as one directory's name: `/` and anything but letters, digits, `-`, `_` and `.`
/// written as `%XX`, so that `/dev/pts/3` and `a/b` stay apart and stay one level.
fn dir_name(name: &str) -> String {
    let mut out = String::from("id-");
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_and_given_back() {
        let root = tempfile::tempdir().unwrap();
        let sem = Semaphore::open(root.path(), "jobs", 2).unwrap();
        let first = sem.try_acquire().unwrap().expect("a free slot");
        let second = sem.try_acquire().unwrap().expect("a second free slot");
        assert!(sem.try_acquire().unwrap().is_none(), "both slots are taken");
        assert!(
            sem.acquire(Some(Duration::from_millis(30)))
                .unwrap()
                .is_none(),
            "a wait with a timeout gives up"
        );
        drop(first);
        let third = sem.try_acquire().unwrap();
        assert!(third.is_some(), "a slot given back is free again");
        drop((second, third));
    }

    #[test]
    fn other_names_are_other_semaphores() {
        let root = tempfile::tempdir().unwrap();
        let a = Semaphore::open(root.path(), "/dev/pts/1", 1).unwrap();
        let b = Semaphore::open(root.path(), "_dev_pts_1", 1).unwrap();
        let _held = a.try_acquire().unwrap().expect("a's slot");
        assert!(b.try_acquire().unwrap().is_some());
        assert!(a.try_acquire().unwrap().is_none());
    }

    #[test]
    fn waiting_for_idle_returns_once_every_slot_is_given_back() {
        let root = tempfile::tempdir().unwrap();
        let sem = Semaphore::open(root.path(), "w", 3).unwrap();
        let held = sem.try_acquire().unwrap().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = {
            let sem = sem.clone();
            std::thread::spawn(move || {
                sem.wait_idle().unwrap();
                tx.send(()).unwrap();
            })
        };
        assert!(
            rx.recv_timeout(Duration::from_millis(100)).is_err(),
            "a slot is still held"
        );
        drop(held);
        rx.recv_timeout(Duration::from_secs(10))
            .expect("the wait ends once the slot is given back");
        waiter.join().unwrap();
    }
}
