//! `fanout skills …`: the clap types of the skill commands and the glue that turns them
//! into calls on [`crate::skills`], prints the result and picks the exit code. No checking
//! or editing happens here.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};

use super::{CliError, exit};
use crate::plan::find_project_file;
use crate::skills::{self, CheckOptions, Profile, SkillsConfig, SkillsError};

#[derive(Debug, Args)]
pub struct SkillsArgs {
    #[command(subcommand)]
    pub command: SkillsCommand,
}

#[derive(Debug, Subcommand)]
pub enum SkillsCommand {
    /// Check every skill under the roots against the specification and the house rules.
    #[command(visible_alias = "validate")]
    Check(CheckArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Folders to search for skills (default: the current directory).
    #[arg(value_name = "ROOT")]
    pub roots: Vec<PathBuf>,
    /// Frontmatter rules: `spec`, or `claude-code` (default: the `[skills]` table of
    /// fanout.toml, else `claude-code` under a `.claude/` folder and `spec` elsewhere).
    #[arg(long, value_enum)]
    pub profile: Option<Profile>,
    /// Print the result as JSON on stdout (same as `--format json`).
    #[arg(long)]
    pub json: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Check every skill afresh, ignoring and not updating the cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Print only skills with problems, and the summary.
    #[arg(short, long)]
    pub quiet: bool,
    /// Where fanout keeps its state, including the check cache (default: .fanout).
    #[arg(long, env = "FANOUT_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

/// Runs a `fanout skills …` command.
pub(crate) fn run(args: SkillsArgs) -> Result<i32, CliError> {
    match args.command {
        SkillsCommand::Check(args) => check(args),
    }
}

fn roots_or_cwd(roots: Vec<PathBuf>) -> Vec<PathBuf> {
    if roots.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        roots
    }
}

fn project_config() -> Result<SkillsConfig, CliError> {
    let cwd = std::env::current_dir()
        .map_err(|e| anyhow::anyhow!("failed to read the current directory: {e}"))?;
    match find_project_file(&cwd) {
        Some(path) => SkillsConfig::from_project_file(&path).map_err(to_cli),
        None => Ok(SkillsConfig::default()),
    }
}

fn to_cli(err: SkillsError) -> CliError {
    match err {
        SkillsError::Write { .. } => CliError::Internal(anyhow::Error::new(err)),
        other => CliError::usage(other.to_string()),
    }
}

/// Writes to stdout; a closed pipe is not an error.
fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn emit_json(value: &serde_json::Value) {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    emit(&text);
}

fn state_dir(explicit: Option<PathBuf>) -> PathBuf {
    explicit.unwrap_or_else(|| Path::new(".fanout").to_path_buf())
}

fn check(args: CheckArgs) -> Result<i32, CliError> {
    let options = CheckOptions {
        profile: args.profile,
        config: project_config()?,
        state_dir: (!args.no_cache).then(|| state_dir(args.state_dir)),
    };
    let run = skills::check_roots(&roots_or_cwd(args.roots), &options).map_err(to_cli)?;
    let format = if args.json {
        CheckFormat::Json
    } else {
        args.format
    };
    match format {
        CheckFormat::Text => emit(&skills::render_text(&run, args.quiet)),
        CheckFormat::Json => emit_json(&skills::render_json(&run)),
        CheckFormat::Sarif => emit_json(&skills::render_sarif(&run)),
    }
    Ok(if run.failed() {
        exit::TASKS_FAILED
    } else {
        exit::SUCCESS
    })
}
