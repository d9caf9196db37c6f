//! The skills agent tasks name, settled before a run starts. Each is looked for by name
//! under the skill roots; one found nowhere is a temporary skill, in
//! `<state_dir>/skills/NAME`: created there from the template of `skills new` the first
//! time it is needed, found there afterwards.
//!
//! This file finds and creates; it reads no clock and remembers nothing. Which uses of a
//! temporary skill to count is said here ([`TemporaryUse`]); counting them is the caller's,
//! with whatever store it keeps.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::config::SkillsConfig;
use super::error::SkillsError;
use super::lookup::{can_create, create_temporary, find_named};

/// Where the temporary skills of a state directory live.
pub fn temporary_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("skills")
}

/// The roots to look for the skills of agent tasks under: the `[skills] roots` of
/// `project_file` when it names any, else `.claude/skills` and `skills` in `base_dir`
/// (beside the plan) and `.claude/skills` in `home` (where agents load skills from).
pub fn task_roots(
    project_file: Option<&Path>,
    base_dir: &Path,
    home: Option<&Path>,
) -> Result<Vec<PathBuf>, SkillsError> {
    if let Some(project) = project_file {
        let config = SkillsConfig::from_project_file(project)?;
        if !config.roots.is_empty() {
            return Ok(config.roots);
        }
    }
    let mut roots = vec![base_dir.join(".claude/skills"), base_dir.join("skills")];
    if let Some(home) = home {
        roots.push(home.join(".claude/skills"));
    }
    Ok(roots)
}

/// A skill some agent task names.
#[derive(Clone, Debug)]
struct TaskSkill {
    /// Its `SKILL.md` (absolute); `None` when it exists nowhere and cannot be created.
    skill_md: Option<PathBuf>,
    temporary: bool,
    /// The folder is there (always, for a skill found under a root).
    exists: bool,
}

/// The skills of a run's agent tasks, by name.
#[derive(Debug, Default)]
pub struct TaskSkills {
    skills: HashMap<String, TaskSkill>,
    /// Where temporary skills are created (absolute).
    temporary_dir: PathBuf,
}

/// What [`TaskSkills::provide`] did for one skill.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Provision {
    /// Found under a root, or not a skill of these tasks: nothing to do, no use to count.
    Found,
    /// In no root, and its name could not be a new skill's: nothing created.
    Unnamable,
    /// A temporary skill, ready for the agent; one use to count.
    Temporary(TemporaryUse),
}

/// One use of a temporary skill, as whoever counts them remembers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemporaryUse {
    /// Its folder (absolute).
    pub dir: PathBuf,
    /// Its folder relative to the state directory (`skills/NAME`).
    pub path: String,
    /// Its folder was made by this call, so what was remembered under its name (a folder
    /// deleted by hand) starts again from this use.
    pub created: bool,
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

impl TaskSkills {
    /// Finds the skills called `names` under `roots`, leaving out the temporary skills of
    /// `state_dir` (which are found there by name instead). Reads, writes nothing; with
    /// no names, not even the roots.
    pub fn find(
        names: &[String],
        roots: &[PathBuf],
        state_dir: &Path,
    ) -> Result<TaskSkills, SkillsError> {
        let temporary_dir = absolute(&temporary_dir(state_dir));
        if names.is_empty() {
            return Ok(TaskSkills {
                skills: HashMap::new(),
                temporary_dir,
            });
        }
        let wanted: Vec<&str> = names.iter().map(String::as_str).collect();
        let found = find_named(roots, &wanted, Some(state_dir))?;
        let skills = names
            .iter()
            .map(|name| {
                let skill = match found.get(name) {
                    Some(dir) => TaskSkill {
                        skill_md: Some(absolute(&dir.join("SKILL.md"))),
                        temporary: false,
                        exists: true,
                    },
                    None => {
                        // A name that could not be a skill's (`../../src`) never names a
                        // folder, in the state directory or out of it.
                        let valid = can_create(name);
                        let dir = temporary_dir.join(name);
                        let exists = valid && dir.join("SKILL.md").is_file();
                        TaskSkill {
                            skill_md: valid.then(|| dir.join("SKILL.md")),
                            temporary: true,
                            exists,
                        }
                    }
                };
                (name.clone(), skill)
            })
            .collect();
        Ok(TaskSkills {
            skills,
            temporary_dir,
        })
    }

    /// The `SKILL.md` the agent is told to use for the skill `name`, if there is one.
    pub fn skill_md(&self, name: &str) -> Option<&Path> {
        self.skills.get(name).and_then(|s| s.skill_md.as_deref())
    }

    /// Whether the skill `name` is a temporary one the agent is told about.
    pub fn is_temporary(&self, name: &str) -> bool {
        self.skills
            .get(name)
            .is_some_and(|s| s.temporary && s.skill_md.is_some())
    }

    /// Makes the skill `name` ready for the agent tasks that name it: creates its folder
    /// when it is a temporary skill that does not exist yet.
    pub fn provide(&self, name: &str) -> Result<Provision, SkillsError> {
        let Some(skill) = self.skills.get(name).filter(|s| s.temporary) else {
            return Ok(Provision::Found);
        };
        if skill.skill_md.is_none() {
            return Ok(Provision::Unnamable);
        }
        let created = !skill.exists && create_temporary(&self.temporary_dir, name)?;
        Ok(Provision::Temporary(TemporaryUse {
            dir: self.temporary_dir.join(name),
            path: format!("skills/{name}"),
            created,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn without_a_project_file_the_roots_are_beside_the_plan_and_at_home() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        let home = base.join("home");
        assert_eq!(
            task_roots(None, base, Some(&home)).unwrap(),
            [
                base.join(".claude/skills"),
                base.join("skills"),
                home.join(".claude/skills")
            ]
        );
        assert_eq!(
            task_roots(None, base, None).unwrap(),
            [base.join(".claude/skills"), base.join("skills")]
        );
    }

    #[test]
    fn found_skills_are_used_and_missing_ones_created_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let state = dir.path().join("state");
        std::fs::create_dir_all(root.join("lint")).unwrap();
        std::fs::write(root.join("lint/SKILL.md"), "---\nname: lint\n---\n").unwrap();

        let wanted = names(&["lint", "review", "../../src"]);
        let skills = TaskSkills::find(&wanted, std::slice::from_ref(&root), &state).unwrap();
        assert_eq!(
            skills.skill_md("lint"),
            Some(absolute(&root.join("lint/SKILL.md")).as_path())
        );
        assert!(!skills.is_temporary("lint"));
        assert!(skills.is_temporary("review"));
        assert_eq!(skills.skill_md("../../src"), None);
        assert!(!skills.is_temporary("../../src"));

        assert_eq!(skills.provide("lint").unwrap(), Provision::Found);
        assert_eq!(skills.provide("../../src").unwrap(), Provision::Unnamable);
        let review = absolute(&state.join("skills/review"));
        let used = |created| {
            Provision::Temporary(TemporaryUse {
                dir: review.clone(),
                path: "skills/review".into(),
                created,
            })
        };
        assert_eq!(skills.provide("review").unwrap(), used(true));
        assert!(review.join("SKILL.md").is_file());

        // Found there the next time, not created again.
        let again = TaskSkills::find(&wanted, &[root], &state).unwrap();
        assert_eq!(again.provide("review").unwrap(), used(false));
    }

    #[test]
    fn no_names_read_no_roots() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let skills = TaskSkills::find(&[], &[missing], dir.path()).unwrap();
        assert_eq!(skills.provide("lint").unwrap(), Provision::Found);
    }
}
