//! The skills agent tasks name (`skill`, `required_skill`), settled before a run starts:
//! the glue between the plan, [`crate::skills::TaskSkills`] (which finds and creates them)
//! and the store (which counts the uses of temporary skills).
//!
//! The roots are the `[skills] roots` of the project file, else `.claude/skills` and
//! `skills` beside the plan and `~/.claude/skills`. Agents are told the path of the
//! `SKILL.md` they are to use.
//!
//! The store counts the uses of temporary skills: one per run, recorded when the run is
//! prepared (before any task starts) for each temporary skill that some selected agent task
//! names, whether that task then runs or is skipped. `--dry-run` creates and records
//! nothing; `--no-store` creates the skill but records no use.

use std::path::Path;

use super::CliError;
use super::history::store_error;
use crate::agent::SkillRef;
use crate::plan::{Action, PROJECT_FILE, Plan, find_project_file};
use crate::skills::{self, Provision, SkillsError, TaskSkills};
use crate::store::Store;

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

fn usage(err: SkillsError) -> CliError {
    CliError::usage(format!("failed to {err}"))
}

/// The roots to look for skills under, from the project file (the plan itself, or the
/// one found from the current directory) and the home directory.
fn roots(plan: &Plan) -> Result<Vec<std::path::PathBuf>, CliError> {
    let project = if plan.path.file_name() == Some(PROJECT_FILE.as_ref()) {
        Some(plan.path.clone())
    } else {
        let cwd = std::env::current_dir()
            .map_err(|e| anyhow::anyhow!("failed to read the current directory: {e}"))?;
        find_project_file(&cwd)
    };
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty());
    skills::task_roots(
        project.as_deref(),
        &plan.base_dir,
        home.as_deref().map(Path::new),
    )
    .map_err(usage)
}

/// Finds the skills the selected agent tasks name. Reads, writes nothing.
pub(crate) fn resolve(
    plan: &Plan,
    selected: &[bool],
    state_dir: &Path,
) -> Result<TaskSkills, CliError> {
    let names = named(plan, selected);
    let roots = if names.is_empty() {
        Vec::new()
    } else {
        roots(plan)?
    };
    TaskSkills::find(&names, &roots, state_dir).map_err(usage)
}

/// What the agent is told about the skill `name`.
pub(crate) fn skill_ref<'a>(skills: &'a TaskSkills, name: &'a str) -> SkillRef<'a> {
    SkillRef {
        name,
        path: skills.skill_md(name),
        temporary: skills.is_temporary(name),
    }
}

/// Creates the temporary skills the selected agent tasks need and, with a store,
/// records one use of each. Says on stderr what it created or could not.
pub(crate) fn provide(
    skills: &TaskSkills,
    plan: &Plan,
    selected: &[bool],
    store: Option<&Store>,
) -> Result<(), CliError> {
    let mut now = None;
    for name in named(plan, selected) {
        let provision = skills.provide(&name).map_err(|e| {
            CliError::Internal(
                anyhow::Error::new(e)
                    .context(format!("failed to create the temporary skill `{name}`")),
            )
        })?;
        let used = match provision {
            Provision::Found => continue,
            Provision::Unnamable => {
                eprintln!(
                    "warning: the skill `{name}` is in no skill root, and is not a valid name \
                     for a new one (lowercase letters, digits and single hyphens); none created"
                );
                continue;
            }
            Provision::Temporary(used) => used,
        };
        if used.created {
            eprintln!(
                "note: the skill `{name}` is in no skill root; created {} from the template",
                used.dir.display()
            );
        }
        if let Some(store) = store {
            let at = match now {
                Some(at) => at,
                None => *now.insert(super::clock::unix_secs(super::clock::now()?)),
            };
            store
                .record_temp_skill_use(&name, &used.path, at, used.created)
                .map_err(store_error)?;
        }
    }
    Ok(())
}
