//! Entry point: read a plan file, parse it in its format, validate it, expand it.

use std::path::{Path, PathBuf};

use crate::plan::Plan;

/// The project file's name.
pub const PROJECT_FILE: &str = "fanout.toml";

/// A plan file's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Toml,
    Yaml,
    Json,
}

/// How to load a plan.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Overrides detection by extension.
    pub format: Option<Format>,
    /// The project file whose tables are defaults (when the plan is not that file itself).
    pub project_file: Option<PathBuf>,
}

/// A plan that cannot be used: one or more located problems.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("invalid plan")]
pub struct PlanError {}

/// The nearest `fanout.toml` in `dir` or its parents.
pub fn find_project_file(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(PROJECT_FILE))
        .find(|p| p.is_file())
}

/// Reads, parses, validates and expands the plan at `path`.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Plan, PlanError> {
    let _ = (path, options);
    unimplemented!("plan::load")
}
