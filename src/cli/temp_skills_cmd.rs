//! `fanout skills gc` and `fanout skills keep`: the glue between the temporary skills the
//! store remembers, the rules of [`crate::skills::decide`], and the skill folders in
//! `<state_dir>/skills`. The rules, and applying their verdicts, live in the library
//! ([`crate::skills::collect`]); this file reads the store, hands it over, and prints.

use std::io::Write as _;
use std::time::SystemTime;

use clap::Args;

use super::args::StateArgs;
use super::clock::{from_unix_secs, now};
use super::history::store_error;
use super::store_cmd::state_dir;
use super::{CliError, exit};
use crate::plan::suggestion;
use crate::skills::{self, CollectError, Collected, TemporarySkill, Verdict, temporary_dir};
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

/// `fanout skills gc`.
pub(crate) fn gc(args: GcArgs) -> Result<i32, CliError> {
    let dir = state_dir(&args.state);
    let now = now()?;
    let store = Store::open_existing(&dir).map_err(store_error)?;
    let folders = temporary_dir(&dir);
    let decided = match &store {
        Some(store) => {
            let rows = store.temp_skills().map_err(store_error)?;
            let forget = |name: &str| store.forget_temp_skill(name).map(drop);
            skills::collect(
                rows.iter().map(skill_of).collect(),
                &folders,
                now,
                args.dry_run,
                forget,
            )
            .map_err(|e| match e {
                CollectError::Delete { path, source } => CliError::Internal(anyhow::anyhow!(
                    "failed to delete {}: {source}",
                    path.display()
                )),
                CollectError::Forget(e) => store_error(e),
            })?
        }
        None => Vec::new(),
    };

    if args.state.json {
        let skills: Vec<serde_json::Value> = decided
            .iter()
            .map(|c| {
                serde_json::json!({
                    "name": c.skill.name,
                    "path": c.folder.display().to_string(),
                    "verdict": c.decision.verdict,
                    "rule": c.decision.rule,
                    "reason": c.decision.reason,
                    "uses": c.skill.uses,
                    "created": rfc3339(c.skill.created),
                    "last_used": c.skill.last_used.map(rfc3339),
                    "kept": c.skill.kept,
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
    for Collected {
        skill, decision: d, ..
    } in &decided
    {
        let verb = match (d.verdict, args.dry_run) {
            (Verdict::Keep, _) => "keep",
            (Verdict::Delete, false) => "delete",
            (Verdict::Delete, true) => "would delete",
        };
        deleted += usize::from(d.verdict == Verdict::Delete);
        out.push_str(&format!("{verb} {} — {}\n", skill.name, d.reason));
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
