//! Changing an item's status: one `rename` within the queue directory, which is atomic,
//! so the item is always under exactly one name. A rename never replaces another file:
//! on Linux the kernel refuses it (`RENAME_NOREPLACE`), so a file that appears at the
//! last moment is safe too; where the file system cannot do that, the name is checked
//! just before the rename.

use std::io;
use std::path::Path;

use super::error::QueueError;
use super::item::{ItemName, Status};

/// Renames the item `name` in `dir` to `status`; returns its new name.
pub fn rename_item(dir: &Path, name: &ItemName, status: Status) -> Result<ItemName, QueueError> {
    let renamed = name.with_status(status);
    if renamed == *name {
        return Ok(renamed);
    }
    let from = dir.join(name.file_name());
    let to = dir.join(renamed.file_name());
    rename_no_replace(&from, &to).map_err(|source| QueueError::Rename {
        from: from.clone(),
        to: to.clone(),
        source,
    })?;
    Ok(renamed)
}

/// Renames `from` to `to`, failing with [`io::ErrorKind::AlreadyExists`] when `to` exists.
fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    if let Some(done) = kernel_rename_no_replace(from, to) {
        return done;
    }
    if to.exists() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "a file of that name exists",
        ));
    }
    std::fs::rename(from, to)
}

/// The rename done by the kernel, which checks and renames in one step; `None` when the
/// file system (or the system) cannot.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn kernel_rename_no_replace(from: &Path, to: &Path) -> Option<io::Result<()>> {
    use nix::errno::Errno;
    use nix::fcntl::{AT_FDCWD, RenameFlags, renameat2};

    match renameat2(AT_FDCWD, from, AT_FDCWD, to, RenameFlags::RENAME_NOREPLACE) {
        Ok(()) => Some(Ok(())),
        Err(Errno::EINVAL | Errno::ENOSYS) => None,
        Err(errno) => Some(Err(errno.into())),
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn kernel_rename_no_replace(_from: &Path, _to: &Path) -> Option<io::Result<()>> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_within_the_directory_and_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("001-pending-a.md"), "a").unwrap();
        let name = ItemName::parse("001-pending-a.md").unwrap();
        let name = rename_item(dir.path(), &name, Status::InProgress).unwrap();
        assert_eq!(name.file_name(), "001-in_progress-a.md");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("001-in_progress-a.md")).unwrap(),
            "a"
        );
        assert!(!dir.path().join("001-pending-a.md").exists());

        std::fs::write(dir.path().join("001-completed-a.md"), "other").unwrap();
        let err = rename_item(dir.path(), &name, Status::Completed).unwrap_err();
        assert!(matches!(err, QueueError::Rename { .. }), "{err:?}");
        let read = |file: &str| std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert_eq!(read("001-in_progress-a.md"), "a");
        assert_eq!(read("001-completed-a.md"), "other");
    }

    /// The check is the kernel's, in the rename itself: nothing can slip in between.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn the_kernel_refuses_to_replace_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("from"), dir.path().join("to"));
        std::fs::write(&from, "from").unwrap();
        std::fs::write(&to, "to").unwrap();
        let err = kernel_rename_no_replace(&from, &to)
            .expect("the temporary directory's file system can rename without replacing")
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
        assert_eq!(std::fs::read_to_string(&from).unwrap(), "from");
        assert_eq!(std::fs::read_to_string(&to).unwrap(), "to");

        std::fs::remove_file(&to).unwrap();
        kernel_rename_no_replace(&from, &to).unwrap().unwrap();
        assert_eq!(std::fs::read_to_string(&to).unwrap(), "from");
        assert!(!from.exists());
    }
}
