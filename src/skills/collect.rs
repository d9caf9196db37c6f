//! Applying the verdicts of `fanout skills gc` to the temporary skills of a state
//! directory: a skill to delete loses its folder (renamed aside first, so that no agent
//! sees half of it) and is forgotten by whoever remembers it, through the `forget` the
//! caller passes. The rules themselves are in `temporary`; printing is the caller's.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::error::CollectError;
use super::lookup::can_create;
use super::temporary::{Decision, TemporarySkill, Verdict, decide};

/// What `gc` did, or would do, with one temporary skill.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collected {
    pub skill: TemporarySkill,
    pub decision: Decision,
    /// Its folder.
    pub folder: PathBuf,
    /// Its folder was deleted (when it was there) and it was forgotten; never on a dry run.
    pub deleted: bool,
}

/// Decides on each of `skills` at time `now` and, unless `dry_run`, deletes the folders
/// (in `dir`, the state directory's temporary skills) of those to delete and has `forget`
/// forget them. Stops at the first failure; what was deleted before it stays deleted.
pub fn collect<E>(
    skills: Vec<TemporarySkill>,
    dir: &Path,
    now: SystemTime,
    dry_run: bool,
    mut forget: impl FnMut(&str) -> Result<(), E>,
) -> Result<Vec<Collected>, CollectError<E>> {
    let mut collected = Vec::with_capacity(skills.len());
    for skill in skills {
        let decision = decide(&skill, now);
        let folder = dir.join(&skill.name);
        let deleted = decision.verdict == Verdict::Delete && !dry_run;
        if deleted {
            // A name that is remembered was checked when its folder was made; a record
            // that says otherwise is not trusted with a path to delete.
            if can_create(&skill.name) {
                remove_folder(&folder).map_err(|source| CollectError::Delete {
                    path: folder.clone(),
                    source,
                })?;
            }
            forget(&skill.name).map_err(CollectError::Forget)?;
        }
        collected.push(Collected {
            skill,
            decision,
            folder,
            deleted,
        });
    }
    Ok(collected)
}

/// Removes a skill folder so that no agent sees half of it: renamed aside, then removed.
fn remove_folder(dir: &Path) -> std::io::Result<()> {
    if std::fs::symlink_metadata(dir).is_err() {
        return Ok(());
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let aside = dir.with_file_name(format!(".{name}.gc.{}", std::process::id()));
    std::fs::rename(dir, &aside)?;
    std::fs::remove_dir_all(&aside)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn skill(name: &str, uses: u64) -> TemporarySkill {
        TemporarySkill {
            name: name.into(),
            created: UNIX_EPOCH,
            uses,
            last_used: Some(UNIX_EPOCH),
            kept: false,
        }
    }

    fn folder(dir: &Path, name: &str) {
        std::fs::create_dir_all(dir.join(name)).unwrap();
        std::fs::write(dir.join(name).join("SKILL.md"), "x").unwrap();
    }

    #[test]
    fn deletes_and_forgets_what_the_rules_delete() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        folder(dir, "old");
        folder(dir, "often");
        let now = UNIX_EPOCH + Duration::from_secs(365 * 86_400);
        let skills = vec![skill("old", 1), skill("often", 3), skill("../gone", 1)];

        let mut forgotten = Vec::new();
        let dry = collect(skills.clone(), dir, now, true, |name: &str| {
            forgotten.push(name.to_owned());
            Ok::<_, std::io::Error>(())
        })
        .unwrap();
        assert!(dry.iter().all(|c| !c.deleted));
        assert!(forgotten.is_empty());
        assert!(dir.join("old").is_dir());

        let done = collect(skills, dir, now, false, |name: &str| {
            forgotten.push(name.to_owned());
            Ok::<_, std::io::Error>(())
        })
        .unwrap();
        let deleted: Vec<(&str, bool)> = done
            .iter()
            .map(|c| (c.skill.name.as_str(), c.deleted))
            .collect();
        assert_eq!(
            deleted,
            [("old", true), ("often", false), ("../gone", true)]
        );
        assert_eq!(forgotten, ["old", "../gone"]);
        assert!(!dir.join("old").exists());
        assert!(dir.join("often").is_dir());
        assert_eq!(done[0].folder, dir.join("old"));
    }

    #[test]
    fn a_failure_to_forget_stops() {
        let dir = tempfile::tempdir().unwrap();
        let now = UNIX_EPOCH + Duration::from_secs(365 * 86_400);
        let err = collect(vec![skill("old", 1)], dir.path(), now, false, |_: &str| {
            Err("locked")
        })
        .unwrap_err();
        assert!(matches!(err, CollectError::Forget("locked")));
    }
}
