//! Choosing which tasks a run takes: the ids or globs given on the command line, plus
//! everything they depend on.

use globset::Glob;

use super::CliError;
use crate::graph::Dag;
use crate::plan::Plan;

/// Membership vector of the tasks to run. No patterns: every task.
pub(crate) fn select_tasks(
    plan: &Plan,
    dag: &Dag,
    patterns: &[String],
) -> Result<Vec<bool>, CliError> {
    if patterns.is_empty() {
        return Ok(vec![true; plan.tasks.len()]);
    }
    let mut roots = Vec::new();
    for pattern in patterns {
        let before = roots.len();
        if pattern.contains(['*', '?', '[', '{']) {
            let matcher = Glob::new(pattern)
                .map_err(|e| CliError::usage(format!("invalid task pattern `{pattern}`: {e}")))?
                .compile_matcher();
            roots.extend(
                (0..plan.tasks.len()).filter(|&i| matcher.is_match(plan.tasks[i].id.as_str())),
            );
        } else if let Some(i) = plan.tasks.iter().position(|t| t.id == *pattern) {
            roots.push(i);
        }
        if roots.len() == before {
            let best = plan
                .tasks
                .iter()
                .map(|t| (strsim::jaro_winkler(&t.id, pattern), &t.id))
                .filter(|(score, _)| *score > 0.8)
                .max_by(|a, b| a.0.total_cmp(&b.0));
            let message = format!("no task matches `{pattern}`");
            return Err(match best {
                Some((_, id)) => {
                    CliError::usage_with_help(message, format!("did you mean `{id}`?"))
                }
                None => CliError::usage_with_help(message, "`fanout plan` lists the plan's tasks"),
            });
        }
    }
    Ok(dag.closure(&roots))
}
