//! Changing an item's status: one `rename` within the queue directory, which is atomic,
//! so the item is always under exactly one name. A rename never replaces another file.

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
    let error = |source| QueueError::Rename {
        from: from.clone(),
        to: to.clone(),
        source,
    };
    if to.exists() {
        return Err(error(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "a file of that name exists",
        )));
    }
    std::fs::rename(&from, &to).map_err(error)?;
    Ok(renamed)
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
        assert!(dir.path().join("001-in_progress-a.md").exists());
    }
}
