//! Finding and loading the plan a command works on: the file given, or the project's
//! `fanout.toml`, with the project file's tables as defaults.

use std::path::{Path, PathBuf};

use super::CliError;
use super::args::PlanSource;
use crate::plan::{self, LoadOptions, PROJECT_FILE, Plan};

/// Loads the plan named by `source` (or the nearest project file).
pub(crate) fn load_plan(source: &PlanSource) -> Result<Plan, CliError> {
    let cwd = std::env::current_dir()
        .map_err(|e| anyhow::anyhow!("failed to read the current directory: {e}"))?;
    let project_file = plan::find_project_file(&cwd);
    let path: PathBuf = match (&source.file, &project_file) {
        (Some(file), _) => file.clone(),
        (None, Some(project)) => project.clone(),
        (None, None) => {
            return Err(CliError::usage_with_help(
                format!(
                    "no plan file given, and no {PROJECT_FILE} in {} or its parents",
                    cwd.display()
                ),
                "pass a plan file: `fanout run plan.toml`",
            ));
        }
    };
    let project_file = project_file.filter(|p| !same_file(p, &path));
    let options = LoadOptions {
        format: source.plan_format,
        project_file,
    };
    Ok(plan::load(&path, &options)?)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
