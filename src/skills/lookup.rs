//! Finding the skills agent tasks name, and creating the ones that exist nowhere as
//! temporary skills. A skill is found by its folder's name (which the specification says
//! equals its `name`) under the given roots, at any depth; the first root that has it wins.
//! A missing skill is created from the template of `skills new`, the folder built aside
//! and renamed into place, so an agent never sees half of it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::discover::discover;
use super::error::SkillsError;
use super::ops::{is_valid_name, new_skills};

/// The folders of the skills called `names` under `roots` (roots that do not exist are
/// skipped), leaving out every folder inside `exclude`.
pub fn find_named(
    roots: &[PathBuf],
    names: &[&str],
    exclude: Option<&Path>,
) -> Result<HashMap<String, PathBuf>, SkillsError> {
    let mut found = HashMap::new();
    let exclude = exclude.map(|e| e.canonicalize().unwrap_or_else(|_| e.to_path_buf()));
    for root in roots.iter().filter(|r| r.is_dir()) {
        if names.iter().all(|n| found.contains_key(*n)) {
            break;
        }
        for skill in discover(std::slice::from_ref(root))?.skills {
            let Some(name) = skill.dir.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !names.contains(&name) || found.contains_key(name) {
                continue;
            }
            if let Some(exclude) = &exclude {
                let real = skill
                    .dir
                    .canonicalize()
                    .unwrap_or_else(|_| skill.dir.clone());
                if real.starts_with(exclude) {
                    continue;
                }
            }
            found.insert(name.to_owned(), skill.dir);
        }
    }
    Ok(found)
}

/// Whether a skill called `name` may be created (see `fanout skills new`).
pub fn can_create(name: &str) -> bool {
    is_valid_name(name)
}

/// Creates the skill `name` in `into` from the built-in template. Returns `false` when
/// its folder exists already (another fanout created it first), `true` when this call
/// created it.
pub fn create_temporary(into: &Path, name: &str) -> Result<bool, SkillsError> {
    if std::fs::symlink_metadata(into.join(name)).is_ok() {
        return Ok(false);
    }
    match new_skills(&[name.to_owned()], None, into, false) {
        Ok(_) => Ok(true),
        // Created by someone else between the look and the rename.
        Err(_) if into.join(name).join("SKILL.md").is_file() => Ok(false),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skill(root: &Path, rel: &str) {
        let dir = root.join(rel);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("SKILL.md"), "---\nname: x\n---\n").unwrap();
    }

    #[test]
    fn finds_skills_by_folder_name_first_root_first_and_skips_the_excluded() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        skill(root, "a/.claude/skills/lint");
        skill(root, "b/group/lint");
        skill(root, "b/group/deploy");
        skill(root, "b/state/skills/review");
        let roots = [root.join("missing"), root.join("a"), root.join("b")];
        let found = find_named(
            &roots,
            &["lint", "deploy", "review", "nowhere"],
            Some(&root.join("b/state")),
        )
        .unwrap();
        assert_eq!(found["lint"], root.join("a/.claude/skills/lint"));
        assert_eq!(found["deploy"], root.join("b/group/deploy"));
        assert!(!found.contains_key("review"));
        assert!(!found.contains_key("nowhere"));
    }

    #[test]
    fn creates_once_from_the_template() {
        let dir = tempfile::tempdir().unwrap();
        let into = dir.path().join("skills");
        assert!(create_temporary(&into, "lint").unwrap());
        let text = std::fs::read_to_string(into.join("lint/SKILL.md")).unwrap();
        assert!(text.starts_with("---\nname: lint\n"), "{text}");
        std::fs::write(into.join("lint/SKILL.md"), "mine").unwrap();
        assert!(!create_temporary(&into, "lint").unwrap());
        assert_eq!(
            std::fs::read_to_string(into.join("lint/SKILL.md")).unwrap(),
            "mine"
        );
    }

    #[test]
    fn only_valid_names_are_created() {
        for good in ["lint", "pdf-tools", "a1"] {
            assert!(can_create(good), "{good}");
        }
        for bad in ["", "..", "../x", "a/b", "Lint", "a b", "-a", "a\nb", "a--b"] {
            assert!(!can_create(bad), "{bad:?}");
        }
    }
}
