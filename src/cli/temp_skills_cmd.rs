//! `fanout skills gc` and `fanout skills keep`: the glue between the temporary skills the
//! store remembers, the rules of [`crate::skills::decide`], and the skill folders in
//! `<state_dir>/skills`. The rules live in the library; this file applies their verdicts
//! and prints them.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use clap::Args;

use super::args::StateArgs;
use super::clock::{from_unix_secs, now};
use super::history::store_error;
use super::store_cmd::state_dir;
use super::task_skills::temporary_dir;
use super::{CliError, exit};
use crate::plan::suggestion;
use crate::skills::{self, Decision, TemporarySkill, Verdict};
use crate::store::{Store, TempSkillRow};

#[derive(Debug, Args)]
#[command(
    after_help = "The first rule that applies decides: keep a skill marked with \
`fanout skills keep`, used 3 times or more, or used in the last 7 days; delete one unused \
for 30 days, or used once (or never) and idle for more than 7 days; keep anything else."
)]
pub struct GcArgs {
    #[command(flatten)]
    pub state: StateArgs,
    /// Print the decisions, delete nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct KeepArgs {
    /// The temporary skill that `gc` must never delete.
    #[arg(value_name = "NAME")]
    pub name: String,
    #[command(flatten)]
    pub state: StateArgs,
}

fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

fn skill_of(row: &TempSkillRow) -> TemporarySkill {
    TemporarySkill {
        name: row.name.clone(),
        created: from_unix_secs(row.created),
        uses: row.uses,
        last_used: row.last_used.map(from_unix_secs),
        kept: row.kept,
    }
}

/// Removes a skill folder so that no agent sees half of it: renamed aside, then removed.
fn remove_folder(dir: &Path) -> std::io::Result<()> {
    if std::fs::symlink_metadata(dir).is_err() {
        return Ok(());
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let aside = dir.with_file_name(format!(".{name}.gc.{}", std::process::id()));
    std::fs::rename(dir, &aside)?;
    std::fs::remove_dir_all(&aside)
}

/// `fanout skills gc`.
pub(crate) fn gc(args: GcArgs) -> Result<i32, CliError> {
    let dir = state_dir(&args.state);
    let now = now()?;
    let store = Store::open_existing(&dir).map_err(store_error)?;
    let rows = match &store {
        Some(store) => store.temp_skills().map_err(store_error)?,
        None => Vec::new(),
    };
    let folders = temporary_dir(&dir);
    let mut decided: Vec<(TempSkillRow, Decision, PathBuf)> = Vec::new();
    for row in rows {
        let decision = skills::decide(&skill_of(&row), now);
        let folder = folders.join(&row.name);
        if decision.verdict == Verdict::Delete && !args.dry_run {
            // A name the store holds was checked when its folder was made; a row that
            // says otherwise is not trusted with a path to delete.
            if skills::can_create(&row.name) {
                remove_folder(&folder)
                    .map_err(|e| anyhow::anyhow!("failed to delete {}: {e}", folder.display()))?;
            }
            if let Some(store) = &store {
                store.forget_temp_skill(&row.name).map_err(store_error)?;
            }
        }
        decided.push((row, decision, folder));
    }

    if args.state.json {
        let skills: Vec<serde_json::Value> = decided
            .iter()
            .map(|(row, d, folder)| {
                serde_json::json!({
                    "name": row.name,
                    "path": folder.display().to_string(),
                    "verdict": d.verdict,
                    "rule": d.rule,
                    "reason": d.reason,
                    "uses": row.uses,
                    "created": rfc3339(from_unix_secs(row.created)),
                    "last_used": row.last_used.map(|t| rfc3339(from_unix_secs(t))),
                    "kept": row.kept,
                })
            })
            .collect();
        let doc = serde_json::json!({
            "dry_run": args.dry_run,
            "now": rfc3339(now),
            "skills": skills,
        });
        let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        text.push('\n');
        emit(&text);
        return Ok(exit::SUCCESS);
    }
    if decided.is_empty() {
        emit(&format!("no temporary skills in {}\n", folders.display()));
        return Ok(exit::SUCCESS);
    }
    let mut out = String::new();
    let mut deleted = 0;
    for (row, d, _) in &decided {
        let verb = match (d.verdict, args.dry_run) {
            (Verdict::Keep, _) => "keep",
            (Verdict::Delete, false) => "delete",
            (Verdict::Delete, true) => "would delete",
        };
        deleted += usize::from(d.verdict == Verdict::Delete);
        out.push_str(&format!("{verb} {} — {}\n", row.name, d.reason));
    }
    out.push_str(&format!(
        "{} temporary skill(s): {} kept, {deleted} {}\n",
        decided.len(),
        decided.len() - deleted,
        if args.dry_run {
            "would be deleted"
        } else {
            "deleted"
        }
    ));
    emit(&out);
    Ok(exit::SUCCESS)
}

/// `fanout skills keep NAME`.
pub(crate) fn keep(args: KeepArgs) -> Result<i32, CliError> {
    let dir = state_dir(&args.state);
    let store = Store::open_existing(&dir).map_err(store_error)?;
    let marked = match &store {
        Some(store) => store.keep_temp_skill(&args.name).map_err(store_error)?,
        None => false,
    };
    if !marked {
        let names: Vec<String> = match &store {
            Some(store) => store
                .temp_skills()
                .map_err(store_error)?
                .into_iter()
                .map(|r| r.name)
                .collect(),
            None => Vec::new(),
        };
        let help = suggestion(&args.name, names.iter().map(String::as_str)).unwrap_or_else(|| {
            "`fanout skills gc --dry-run` lists the temporary skills".to_owned()
        });
        return Err(CliError::usage_with_help(
            format!(
                "no temporary skill `{}` in {}",
                args.name,
                temporary_dir(&dir).display()
            ),
            help,
        ));
    }
    if args.state.json {
        emit(&format!(
            "{}\n",
            serde_json::json!({ "name": args.name, "kept": true })
        ));
    } else {
        emit(&format!(
            "keep {}: `fanout skills gc` will not delete it\n",
            args.name
        ));
    }
    Ok(exit::SUCCESS)
}
