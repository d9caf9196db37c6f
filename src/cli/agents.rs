//! Preparing a plan's agent tasks for the runner: the prompt (from `prompt_file` when
//! given), the profile and its command line, the model (`[agents.models]`), the skill it
//! is told to use, the limit the task takes from, and the run's budget.

use std::sync::Arc;

use super::CliError;
use super::task_skills::skill_ref;
use crate::agent::{Invocation, Profile};
use crate::plan::{Action, Plan};
use crate::runner::{AgentLaunch, AgentRun, LimitRule};
use crate::skills::TaskSkills;

/// The agent side of the run, or `None` when no selected task is an agent task. Adds the
/// default limit of each task's profile to its `uses` when the plan declares that limit.
/// Tasks are told the skills they name as `skills` found or will make them.
pub(crate) fn agent_run(
    plan: &mut Plan,
    selected: &[bool],
    skills: &TaskSkills,
) -> Result<Option<Arc<AgentRun>>, CliError> {
    let any = plan
        .tasks
        .iter()
        .zip(selected)
        .any(|(t, s)| *s && matches!(t.action, Action::Agent { .. }));
    if !any {
        return Ok(None);
    }
    let settings = plan.agents.clone();
    let mut run = AgentRun {
        tasks: vec![None; plan.tasks.len()],
        profiles: Vec::new(),
        limits: settings
            .limits
            .iter()
            .map(|(name, limit)| LimitRule {
                name: name.clone(),
                resource: limit
                    .concurrency
                    .and_then(|_| plan.resources.get_index_of(name)),
                settings: limit.clone(),
            })
            .collect(),
        budget: settings.budget,
    };
    for (index, task) in plan.tasks.iter_mut().enumerate() {
        let Action::Agent { prompt } = &mut task.action else {
            continue;
        };
        if !selected[index] {
            continue;
        }
        if let Some(file) = &task.agent.prompt_file {
            let path = plan.base_dir.join(file);
            *prompt = std::fs::read_to_string(&path).map_err(|e| {
                CliError::usage(format!(
                    "failed to read the prompt file {} of task `{}`: {e}",
                    path.display(),
                    task.id
                ))
            })?;
        }
        let name = Profile::name_for(task, &settings).to_owned();
        let profile = match run.profiles.iter().position(|p| p.name == name) {
            Some(i) => i,
            None => {
                let profile = Profile::named(&name, &settings).map_err(|e| {
                    CliError::usage_with_help(
                        format!("task `{}`: {e}", task.id),
                        "define it in the plan: `[agents.NAME] command = [\"my-agent\", \"{prompt}\"]`",
                    )
                })?;
                run.profiles.push(profile);
                run.profiles.len() - 1
            }
        };
        // The limit it takes from: one it names in `uses`, else its profile's default.
        let named = run
            .limits
            .iter()
            .position(|l| task.uses.contains_key(&l.name));
        let default = run.profiles[profile]
            .limit
            .as_ref()
            .and_then(|d| run.limits.iter().position(|l| &l.name == d));
        let limit = named.or(default);
        if named.is_none()
            && let Some(l) = default
        {
            task.uses.insert(run.limits[l].name.clone(), 1);
        }
        let model = Profile::model_for(task, &settings).map(str::to_owned);
        let cwd = match &task.cwd {
            Some(dir) => plan.base_dir.join(dir),
            None => plan.base_dir.clone(),
        };
        let Action::Agent { prompt } = &task.action else {
            continue;
        };
        let command = run.profiles[profile].command(&Invocation {
            prompt,
            model: model.as_deref(),
            max_turns: task.agent.max_turns,
            allowed_tools: &task.agent.allowed_tools,
            session_id: task.agent.session_id.as_deref(),
            skill: task.required_skill.as_deref().map(|s| skill_ref(skills, s)),
            cwd: &cwd,
        });
        run.tasks[index] = Some(AgentLaunch {
            profile,
            command,
            model,
            limit,
            max_usd: task.agent.max_usd,
        });
    }
    Ok(Some(Arc::new(run)))
}
