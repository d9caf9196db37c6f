//! `fanout skills …`: the clap types of the skill commands and the glue that turns them
//! into calls on [`crate::skills`], prints the result and picks the exit code. No checking
//! or editing happens here.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};

use super::temp_skills_cmd::{self, GcArgs, KeepArgs};
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
    /// Test each skill: frontmatter loads, body not empty, trigger phrase, files readable.
    Test(TestArgs),
    /// Write a README.md per skill from its frontmatter and headings.
    Docs(DocsArgs),
    /// Create skills from a template, frontmatter filled in.
    New(NewArgs),
    /// Move the largest sections of oversized skills into references/.
    Refactor(RefactorArgs),
    /// Add the rows of an error log to each skill's Error | Cause | Fix table.
    Learn(LearnArgs),
    /// Counts, sizes, the largest skills and how often each rule fails.
    Stats(StatsArgs),
    /// Delete the temporary skills made for agent tasks that are no longer used.
    Gc(GcArgs),
    /// Mark a temporary skill so that `gc` never deletes it.
    Keep(KeepArgs),
}

/// Flags every operation takes.
#[derive(Debug, Args)]
pub struct OpFlags {
    /// Say what would change, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Folders to search for skills (default: the current directory).
    #[arg(value_name = "ROOT")]
    pub roots: Vec<PathBuf>,
    /// A phrase the description must contain (repeatable; default: the `[skills]`
    /// trigger-phrases, e.g. "use when").
    #[arg(long, value_name = "PHRASE")]
    pub trigger: Vec<String>,
    #[command(flatten)]
    pub flags: OpFlags,
}

#[derive(Debug, Args)]
pub struct DocsArgs {
    #[arg(value_name = "ROOT")]
    pub roots: Vec<PathBuf>,
    /// Write nothing; fail when a generated README is stale or missing.
    #[arg(long)]
    pub check: bool,
    #[command(flatten)]
    pub flags: OpFlags,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// Names of the skills to create.
    #[arg(value_name = "NAME", required = true)]
    pub names: Vec<String>,
    /// A folder to copy for each skill; `{{name}}` in its files becomes the name.
    #[arg(long, value_name = "DIR")]
    pub template: Option<PathBuf>,
    /// Where to create the skills (default: the current directory).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub into: PathBuf,
    #[command(flatten)]
    pub flags: OpFlags,
}

#[derive(Debug, Args)]
pub struct RefactorArgs {
    #[arg(value_name = "ROOT")]
    pub roots: Vec<PathBuf>,
    /// The size SKILL.md must fit in (default: the `[skills]` max-bytes, else 15360).
    #[arg(long, value_name = "BYTES")]
    pub max_bytes: Option<u64>,
    #[command(flatten)]
    pub flags: OpFlags,
}

#[derive(Debug, Args)]
pub struct LearnArgs {
    /// The error log: a Markdown table with columns Skill, Error, Cause, Fix.
    #[arg(value_name = "LOG")]
    pub log: PathBuf,
    #[arg(value_name = "ROOT")]
    pub roots: Vec<PathBuf>,
    #[command(flatten)]
    pub flags: OpFlags,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[arg(value_name = "ROOT")]
    pub roots: Vec<PathBuf>,
    /// How many of the largest skills to list.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    #[arg(long, value_enum)]
    pub profile: Option<Profile>,
    /// Check every skill afresh, ignoring and not updating the cache.
    #[arg(long)]
    pub no_cache: bool,
    #[arg(long, env = "FANOUT_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    #[command(flatten)]
    pub flags: OpFlags,
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
        SkillsCommand::Test(args) => test(args),
        SkillsCommand::Docs(args) => docs(args),
        SkillsCommand::New(args) => new(args),
        SkillsCommand::Refactor(args) => refactor(args),
        SkillsCommand::Learn(args) => learn(args),
        SkillsCommand::Stats(args) => stats(args),
        SkillsCommand::Gc(args) => temp_skills_cmd::gc(args),
        SkillsCommand::Keep(args) => temp_skills_cmd::keep(args),
    }
}

/// The roots given, else the project file's `[skills] roots`, else the current directory.
fn roots_or_cwd(roots: Vec<PathBuf>) -> Result<Vec<PathBuf>, CliError> {
    if !roots.is_empty() {
        return Ok(roots);
    }
    let configured = project_config()?.roots;
    Ok(if configured.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        configured
    })
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
    let run = skills::check_roots(&roots_or_cwd(args.roots)?, &options).map_err(to_cli)?;
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
    let code = if run.failed() {
        exit::TASKS_FAILED
    } else {
        exit::SUCCESS
    };
    // Thousands of results are freed by the exit itself, sooner than one by one.
    std::mem::forget(run);
    Ok(code)
}

fn found(roots: Vec<PathBuf>) -> Result<Vec<skills::SkillDir>, CliError> {
    Ok(skills::discover(&roots_or_cwd(roots)?)
        .map_err(to_cli)?
        .skills)
}

fn code(ok: bool) -> i32 {
    if ok {
        exit::SUCCESS
    } else {
        exit::TASKS_FAILED
    }
}

fn would(dry_run: bool, verb: &str) -> String {
    if dry_run {
        format!("would {verb}")
    } else {
        verb.to_owned()
    }
}

fn test(args: TestArgs) -> Result<i32, CliError> {
    let triggers = if args.trigger.is_empty() {
        project_config()?.trigger_phrases
    } else {
        args.trigger
    };
    let reports = skills::test_skills(&found(args.roots)?, &triggers);
    let ok = reports.iter().all(|r| r.passed);
    if args.flags.json {
        emit_json(&serde_json::json!({ "skills": reports }));
    } else {
        let mut out = String::new();
        for r in &reports {
            out.push_str(&format!(
                "{:<8} {}\n",
                if r.passed { "[OK]" } else { "[FAIL]" },
                r.path
            ));
            for t in r.tests.iter().filter(|t| !t.passed) {
                out.push_str(&format!(
                    "         {}: {}\n",
                    t.test,
                    t.message.as_deref().unwrap_or("")
                ));
            }
        }
        let failed = reports.iter().filter(|r| !r.passed).count();
        out.push_str(&format!(
            "{} skills tested: {} passed, {failed} failed\n",
            reports.len(),
            reports.len() - failed
        ));
        emit(&out);
    }
    Ok(code(ok))
}

fn docs(args: DocsArgs) -> Result<i32, CliError> {
    use skills::DocsOutcome;
    let reports =
        skills::docs(&found(args.roots)?, args.flags.dry_run, args.check).map_err(to_cli)?;
    let failed =
        |o: DocsOutcome| args.check && matches!(o, DocsOutcome::Stale | DocsOutcome::Missing);
    let ok = !reports.iter().any(|r| failed(r.outcome));
    if args.flags.json {
        emit_json(
            &serde_json::json!({ "dry_run": args.flags.dry_run, "check": args.check, "skills": reports }),
        );
    } else {
        let mut out = String::new();
        for r in &reports {
            let what = match r.outcome {
                DocsOutcome::Written => would(args.flags.dry_run, "write"),
                DocsOutcome::Fresh => "fresh".into(),
                DocsOutcome::Stale => "stale".into(),
                DocsOutcome::Missing => "missing".into(),
                DocsOutcome::NotOurs => "not generated by fanout; left alone".into(),
                DocsOutcome::Unreadable => {
                    format!("skipped: {}", r.message.as_deref().unwrap_or(""))
                }
            };
            out.push_str(&format!("{}/README.md: {what}\n", r.path));
        }
        emit(&out);
    }
    Ok(code(ok))
}

fn new(args: NewArgs) -> Result<i32, CliError> {
    let reports = skills::new_skills(
        &args.names,
        args.template.as_deref(),
        &args.into,
        args.flags.dry_run,
    )
    .map_err(to_cli)?;
    if args.flags.json {
        emit_json(&serde_json::json!({ "dry_run": args.flags.dry_run, "created": reports }));
    } else {
        let mut out = String::new();
        for r in &reports {
            out.push_str(&format!(
                "{} {} ({})\n",
                would(args.flags.dry_run, "create"),
                r.path,
                r.files.join(", ")
            ));
        }
        emit(&out);
    }
    Ok(exit::SUCCESS)
}

fn refactor(args: RefactorArgs) -> Result<i32, CliError> {
    let max = match args.max_bytes {
        Some(max) => max,
        None => project_config()?.max_bytes,
    };
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    let reports = skills::refactor(&found(args.roots)?, max, args.flags.dry_run).map_err(to_cli)?;
    if args.flags.json {
        emit_json(
            &serde_json::json!({ "dry_run": args.flags.dry_run, "max_bytes": max, "skills": reports }),
        );
    } else {
        let mut out = String::new();
        for r in &reports {
            if let Some(message) = &r.message {
                out.push_str(&format!("{}: skipped: {message}\n", r.path));
                continue;
            }
            out.push_str(&format!(
                "{}: {} -> {} bytes{}\n",
                r.path,
                r.bytes_before,
                r.bytes_after,
                if r.still_over {
                    " (still over: no section left to move)"
                } else {
                    ""
                }
            ));
            for m in &r.moved {
                out.push_str(&format!(
                    "  {} `{}` to {}\n",
                    would(args.flags.dry_run, "move"),
                    m.heading,
                    m.to
                ));
            }
        }
        out.push_str(&format!("{} skills over {max} bytes\n", reports.len()));
        emit(&out);
    }
    Ok(exit::SUCCESS)
}

fn learn(args: LearnArgs) -> Result<i32, CliError> {
    let report =
        skills::learn(&args.log, &found(args.roots)?, args.flags.dry_run).map_err(to_cli)?;
    if args.flags.json {
        emit_json(
            &serde_json::json!({ "dry_run": args.flags.dry_run, "skills": report.skills, "unknown_skills": report.unknown_skills }),
        );
    } else {
        let mut out = String::new();
        for s in &report.skills {
            out.push_str(&format!(
                "{}: {} {}, skipped {} already present\n",
                s.path,
                would(args.flags.dry_run, "added"),
                s.added.len(),
                s.skipped.len()
            ));
            for e in &s.added {
                out.push_str(&format!("  + {e}\n"));
            }
        }
        for name in &report.unknown_skills {
            out.push_str(&format!(
                "no skill named `{name}`; its rows were not learned\n"
            ));
        }
        emit(&out);
    }
    Ok(exit::SUCCESS)
}

fn stats(args: StatsArgs) -> Result<i32, CliError> {
    let roots = roots_or_cwd(args.roots)?;
    let options = CheckOptions {
        profile: args.profile,
        config: project_config()?,
        state_dir: (!args.no_cache).then(|| state_dir(args.state_dir)),
    };
    let run = skills::check_roots(&roots, &options).map_err(to_cli)?;
    let files = skills::discover(&roots)
        .map_err(to_cli)?
        .skills
        .iter()
        .map(|s| s.files.len())
        .sum();
    let report = skills::stats(&run, files, args.top);
    if args.flags.json {
        emit_json(&serde_json::json!(report));
    } else {
        let mut out = format!(
            "{} skills ({} failing), {} files; SKILL.md: {} bytes in all, {} on average\n",
            report.skills,
            report.failing,
            report.files,
            report.skill_md_bytes,
            report.mean_skill_md_bytes
        );
        out.push_str("\nlargest SKILL.md:\n");
        for l in &report.largest {
            out.push_str(&format!("  {:>8}  {}\n", l.bytes, l.path));
        }
        let histogram =
            |title: &str, map: &std::collections::BTreeMap<String, usize>, out: &mut String| {
                if map.is_empty() {
                    return;
                }
                out.push_str(&format!("\n{title}:\n"));
                let mut rows: Vec<_> = map.iter().collect();
                rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
                let top = *rows[0].1;
                for (rule, n) in rows {
                    let bar = "#".repeat((n * 40).div_ceil(top.max(1)));
                    out.push_str(&format!("  {rule:<24} {n:>6}  {bar}\n"));
                }
            };
        histogram("failing rules (skills)", &report.failing_rules, &mut out);
        histogram("warnings (skills)", &report.warning_rules, &mut out);
        emit(&out);
    }
    Ok(exit::SUCCESS)
}
