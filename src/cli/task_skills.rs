//! The skills agent tasks name (`skill`, `required_skill`), settled before a run starts.
//!
//! Each is looked for by name under the skill roots: the `[skills] roots` of the project
//! file, else `.claude/skills` and `skills` beside the plan and `~/.claude/skills` (where
//! agents load skills from). One found nowhere is a temporary skill, in
//! `<state_dir>/skills/NAME`: created there from the template of `fanout skills new` the
//! first time, found there afterwards. Agents are told the path of the `SKILL.md` they
//! are to use.
//!
//! The store counts the uses of temporary skills: one per run, recorded when the run is
//! prepared (before any task starts) for each temporary skill that some selected agent task
//! names, whether that task then runs or is skipped. `--dry-run` creates and records
//! nothing; `--no-store` creates the skill but records no use.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::CliError;
use super::history::store_error;
use crate::agent::SkillRef;
use crate::plan::{Action, PROJECT_FILE, Plan, find_project_file};
use crate::skills::{self, SkillsConfig};
use crate::store::Store;

/// Where the temporary skills of a state directory live.
pub(crate) fn temporary_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("skills")
}

/// A skill some selected agent task names.
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
pub(crate) struct TaskSkills {
    skills: HashMap<String, TaskSkill>,
    /// Where temporary skills are created.
    temporary_dir: PathBuf,
}

/// The names of the skills the selected agent tasks name, each once, in plan order.
fn named(plan: &Plan, selected: &[bool]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (task, _) in plan.tasks.iter().zip(selected).filter(|(_, s)| **s) {
        if let (Action::Agent { .. }, Some(name)) = (&task.action, &task.required_skill)
            && !names.contains(name)
        {
            names.push(name.clone());
        }
    }
    names
}

/// The roots to look for skills under: the project file's `[skills] roots`, else the
/// defaults beside the plan and in the home directory.
fn roots(plan: &Plan) -> Result<Vec<PathBuf>, CliError> {
    let project = if plan.path.file_name() == Some(PROJECT_FILE.as_ref()) {
        Some(plan.path.clone())
    } else {
        let cwd = std::env::current_dir()
            .map_err(|e| anyhow::anyhow!("failed to read the current directory: {e}"))?;
        find_project_file(&cwd)
    };
    if let Some(project) = project {
        let config = SkillsConfig::from_project_file(&project)
            .map_err(|e| CliError::usage(format!("failed to {e}")))?;
        if !config.roots.is_empty() {
            return Ok(config.roots);
        }
    }
    let mut roots = vec![
        plan.base_dir.join(".claude/skills"),
        plan.base_dir.join("skills"),
    ];
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        roots.push(Path::new(&home).join(".claude/skills"));
    }
    Ok(roots)
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Finds the skills the selected agent tasks name. Reads, writes nothing.
pub(crate) fn resolve(
    plan: &Plan,
    selected: &[bool],
    state_dir: &Path,
) -> Result<TaskSkills, CliError> {
    let temporary_dir = absolute(&temporary_dir(state_dir));
    let names = named(plan, selected);
    if names.is_empty() {
        return Ok(TaskSkills {
            skills: HashMap::new(),
            temporary_dir,
        });
    }
    let wanted: Vec<&str> = names.iter().map(String::as_str).collect();
    let found = skills::find_named(&roots(plan)?, &wanted, Some(state_dir))
        .map_err(|e| CliError::usage(format!("failed to {e}")))?;
    let skills = names
        .into_iter()
        .map(|name| {
            let skill = match found.get(&name) {
                Some(dir) => TaskSkill {
                    skill_md: Some(absolute(&dir.join("SKILL.md"))),
                    temporary: false,
                    exists: true,
                },
                None => {
                    // A name that could not be a skill's (`../../src`) never names a
                    // folder, in the state directory or out of it.
                    let valid = skills::can_create(&name);
                    let dir = temporary_dir.join(&name);
                    let exists = valid && dir.join("SKILL.md").is_file();
                    TaskSkill {
                        skill_md: valid.then(|| dir.join("SKILL.md")),
                        temporary: true,
                        exists,
                    }
                }
            };
            (name, skill)
        })
        .collect();
    Ok(TaskSkills {
        skills,
        temporary_dir,
    })
}

impl TaskSkills {
    /// What the agent is told about the skill `name`.
    pub(crate) fn skill_ref<'a>(&'a self, name: &'a str) -> SkillRef<'a> {
        let skill = self.skills.get(name);
        SkillRef {
            name,
            path: skill.and_then(|s| s.skill_md.as_deref()),
            temporary: skill.is_some_and(|s| s.temporary && s.skill_md.is_some()),
        }
    }

    /// Creates the temporary skills the selected agent tasks need and, with a store,
    /// records one use of each. Says on stderr what it created or could not.
    pub(crate) fn provide(
        &self,
        plan: &Plan,
        selected: &[bool],
        store: Option<&Store>,
    ) -> Result<(), CliError> {
        let mut now = None;
        for name in named(plan, selected) {
            let Some(skill) = self.skills.get(&name).filter(|s| s.temporary) else {
                continue;
            };
            if skill.skill_md.is_none() {
                eprintln!(
                    "warning: the skill `{name}` is in no skill root, and is not a valid name \
                     for a new one (lowercase letters, digits and single hyphens); none created"
                );
                continue;
            }
            let created = !skill.exists
                && skills::create_temporary(&self.temporary_dir, &name).map_err(|e| {
                    CliError::Internal(
                        anyhow::Error::new(e)
                            .context(format!("failed to create the temporary skill `{name}`")),
                    )
                })?;
            if created {
                eprintln!(
                    "note: the skill `{name}` is in no skill root; created {} from the template",
                    self.temporary_dir.join(&name).display()
                );
            }
            if let Some(store) = store {
                let at = match now {
                    Some(at) => at,
                    None => *now.insert(super::clock::unix_secs(super::clock::now()?)),
                };
                store
                    .record_temp_skill_use(&name, &format!("skills/{name}"), at, created)
                    .map_err(store_error)?;
            }
        }
        Ok(())
    }
}
