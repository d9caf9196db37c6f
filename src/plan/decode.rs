//! Turning the document tree into the plan's raw parts: settings, resources, environment
//! and task templates, with names resolved (aliases), types checked and durations parsed.
//! Keeps the places of everything later checks need. Cross-task checks (ids,
//! dependencies, matrices, resources) are not done here. Tasks are decoded in
//! `task_table.rs`, the agent tables in `agent_tables.rs` and `[queue]` in
//! `queue_table.rs`; this file holds the document, `[settings]`, `[worktree]` and
//! `[resources]`.

use std::time::Duration;

use indexmap::IndexMap;

use crate::plan::agent_tables::{agents, budget, limits};
use crate::plan::error::Problem;
use crate::plan::model::{
    AgentSettings, Backoff, Isolation, MergeMode, QueueSettings, Settings, WorktreeSettings,
};
use crate::plan::node::{Kind, Node, Span};
use crate::plan::task_table::tasks;
pub(crate) use crate::plan::task_table::{RawRun, RawTask};
use crate::plan::values::{
    Field, Found, boolean, count, duration, field, match_fields, string, string_list, string_map,
    table, wrong_type,
};

/// What one plan file says, before tasks are expanded and linked.
#[derive(Debug, Default)]
pub(crate) struct Document {
    pub(crate) settings: RawSettings,
    pub(crate) resources: IndexMap<String, u32>,
    pub(crate) env: IndexMap<String, String>,
    pub(crate) tasks: Vec<RawTask>,
    pub(crate) agents: AgentSettings,
    /// The `[queue]` table (read from the project file only).
    pub(crate) queue: QueueSettings,
    /// Where the `[queue]` table's key is, when there is one.
    pub(crate) queue_key: Option<Span>,
}

/// Settings as written: only what the file sets.
#[derive(Clone, Debug, Default)]
pub(crate) struct RawSettings {
    pub(crate) jobs: Option<usize>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) retries: Option<u32>,
    pub(crate) backoff: RawBackoff,
    pub(crate) keep_going: Option<bool>,
    pub(crate) max_fail: Option<u32>,
    pub(crate) grace: Option<Duration>,
    pub(crate) slow: Option<Duration>,
    pub(crate) retry_failed_serially: Option<bool>,
    pub(crate) systemic_failure_stop: Option<bool>,
    pub(crate) isolate: Option<Isolation>,
    pub(crate) max_cpu: Option<u8>,
    pub(crate) max_memory: Option<u8>,
    pub(crate) max_load: Option<u32>,
    /// The `[worktree]` table (a project file's is the default of a plan's).
    pub(crate) worktree: RawWorktree,
}

/// The `[worktree]` keys as written.
#[derive(Clone, Debug, Default)]
pub(crate) struct RawWorktree {
    pub(crate) copy: Option<Vec<String>>,
    pub(crate) setup: Option<String>,
    pub(crate) merge: Option<MergeMode>,
    pub(crate) into: Option<String>,
}

impl RawWorktree {
    fn or(self, defaults: RawWorktree) -> RawWorktree {
        RawWorktree {
            copy: self.copy.or(defaults.copy),
            setup: self.setup.or(defaults.setup),
            merge: self.merge.or(defaults.merge),
            into: self.into.or(defaults.into),
        }
    }

    fn resolve(&self) -> WorktreeSettings {
        WorktreeSettings {
            copy: self.copy.clone().unwrap_or_default(),
            setup: self.setup.clone(),
            merge: self.merge.unwrap_or_default(),
            into: self.into.clone(),
        }
    }
}

/// The backoff keys as written (task or settings).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RawBackoff {
    pub(crate) fixed: Option<bool>,
    pub(crate) delay: Option<Duration>,
    pub(crate) max: Option<Duration>,
}

impl RawBackoff {
    /// Each key this one leaves unset is taken from `defaults`.
    pub(crate) fn or(self, defaults: RawBackoff) -> RawBackoff {
        RawBackoff {
            fixed: self.fixed.or(defaults.fixed),
            delay: self.delay.or(defaults.delay),
            max: self.max.or(defaults.max),
        }
    }

    pub(crate) fn resolve(self) -> Backoff {
        let delay = self.delay.unwrap_or(Duration::from_millis(500));
        if self.fixed == Some(true) {
            Backoff::Fixed(delay)
        } else {
            Backoff::Exponential {
                base: delay,
                max: self.max.unwrap_or(Duration::from_secs(60)),
            }
        }
    }
}

impl RawSettings {
    /// Each key this one leaves unset is taken from `defaults`.
    pub(crate) fn or(self, defaults: RawSettings) -> RawSettings {
        RawSettings {
            jobs: self.jobs.or(defaults.jobs),
            timeout: self.timeout.or(defaults.timeout),
            retries: self.retries.or(defaults.retries),
            backoff: self.backoff.or(defaults.backoff),
            keep_going: self.keep_going.or(defaults.keep_going),
            max_fail: self.max_fail.or(defaults.max_fail),
            grace: self.grace.or(defaults.grace),
            slow: self.slow.or(defaults.slow),
            retry_failed_serially: self
                .retry_failed_serially
                .or(defaults.retry_failed_serially),
            systemic_failure_stop: self
                .systemic_failure_stop
                .or(defaults.systemic_failure_stop),
            isolate: self.isolate.or(defaults.isolate),
            max_cpu: self.max_cpu.or(defaults.max_cpu),
            max_memory: self.max_memory.or(defaults.max_memory),
            max_load: self.max_load.or(defaults.max_load),
            worktree: self.worktree.or(defaults.worktree),
        }
    }

    pub(crate) fn resolve(&self) -> Settings {
        let d = Settings::default();
        Settings {
            jobs: self.jobs.unwrap_or(d.jobs),
            timeout: self.timeout.or(d.timeout),
            retries: self.retries.unwrap_or(d.retries),
            backoff: self.backoff.resolve(),
            keep_going: self.keep_going.unwrap_or(d.keep_going),
            max_fail: self.max_fail,
            grace: self.grace.unwrap_or(d.grace),
            slow: self.slow.map_or(d.slow, |s| (!s.is_zero()).then_some(s)),
            retry_failed_serially: self
                .retry_failed_serially
                .unwrap_or(d.retry_failed_serially),
            systemic_failure_stop: self
                .systemic_failure_stop
                .unwrap_or(d.systemic_failure_stop),
            isolate: self.isolate.unwrap_or(d.isolate),
            worktree: self.worktree.resolve(),
            max_cpu: self.max_cpu,
            max_memory: self.max_memory,
            max_load: self.max_load.map(f64::from),
            ..d
        }
    }
}

const TOP_FIELDS: &[Field] = &[
    field("settings", &[]),
    field("resources", &[]),
    field("env", &[]),
    field("task", &["tasks"]),
    field("worktree", &[]),
    field("agents", &[]),
    field("limits", &[]),
    field("budget", &[]),
    field("queue", &[]),
];
/// Tables kept for features to come: accepted, not read.
const RESERVED_TABLES: &[&str] = &["skills", "dashboard"];

/// Decodes a whole document: a table of sections, or a bare array of tasks.
pub(crate) fn document(root: &Node, problems: &mut Vec<Problem>) -> Document {
    let mut doc = Document::default();
    match &root.kind {
        Kind::Array(items) => doc.tasks = tasks(items, problems),
        Kind::Map(entries) => {
            let found = match_fields(entries, TOP_FIELDS, RESERVED_TABLES, "the plan", problems);
            if let Some(node) = found.get("settings") {
                doc.settings = settings(node, problems);
            }
            if let Some(node) = found.get("resources") {
                doc.resources = resources(node, problems);
            }
            if let Some(node) = found.get("env") {
                doc.env = string_map(node, "env", problems)
                    .into_iter()
                    .map(|(k, v)| (k.name, v.value))
                    .collect();
            }
            if let Some(node) = found.get("task") {
                match &node.kind {
                    Kind::Array(items) => doc.tasks = tasks(items, problems),
                    _ => problems.push(wrong_type(node, "task", "an array of tables")),
                }
            }
            if let Some(node) = found.get("worktree") {
                doc.settings.worktree = worktree(node, problems);
            }
            if let Some(node) = found.get("agents") {
                agents(node, &mut doc.agents, problems);
            }
            if let Some(node) = found.get("limits") {
                doc.agents.limits = limits(node, problems);
            }
            if let Some(node) = found.get("budget") {
                doc.agents.budget = budget(node, problems);
            }
            if let Some(node) = found.get("queue") {
                doc.queue = super::queue_table::queue(node, problems);
                doc.queue_key = found.key("queue").map(|k| k.span.clone());
            }
        }
        _ => problems.push(
            Problem::at(
                &root.span,
                format!("a plan is a table, found {}", root.type_name()),
                "expected a table",
            )
            .help("write `[settings]` and `[[task]]` tables, or a JSON array of tasks"),
        ),
    }
    doc
}

const SETTINGS_FIELDS: &[Field] = &[
    field("jobs", &[]),
    field("timeout", &[]),
    field("retries", &[]),
    field("backoff", &[]),
    field("backoff_delay", &[]),
    field("backoff_max", &[]),
    field("keep_going", &[]),
    field("fail_fast", &[]),
    field("max_fail", &[]),
    field("grace", &["kill_grace"]),
    field("slow", &["slow_timeout"]),
    field("retry_failed_serially", &[]),
    field("systemic_failure_stop", &[]),
    field("isolate", &[]),
    field("max_cpu", &[]),
    field("max_memory", &[]),
    field("max_load", &[]),
];

/// A percentage from 1 to 100.
fn percent(node: &Node, name: &str, problems: &mut Vec<Problem>) -> Option<u8> {
    let n = count(node, name, 1, problems)?;
    match u8::try_from(n) {
        Ok(p) if p <= 100 => Some(p),
        _ => {
            problems.push(
                Problem::at(&node.span, format!("`{name}` is a percentage"), "above 100")
                    .help("give a number from 1 to 100"),
            );
            None
        }
    }
}

fn settings(node: &Node, problems: &mut Vec<Problem>) -> RawSettings {
    let mut s = RawSettings::default();
    let Some(entries) = table(node, "settings", problems) else {
        return s;
    };
    let f = match_fields(entries, SETTINGS_FIELDS, &[], "`[settings]`", problems);
    s.jobs = f
        .get("jobs")
        .and_then(|n| count(n, "jobs", 1, problems))
        .map(|n| n as usize);
    s.timeout = f
        .get("timeout")
        .and_then(|n| duration(n, "timeout", problems));
    s.retries = f
        .get("retries")
        .and_then(|n| count(n, "retries", 0, problems));
    s.backoff = backoff(&f, problems);
    let keep_going = f
        .get("keep_going")
        .and_then(|n| boolean(n, "keep_going", problems));
    let fail_fast = f
        .get("fail_fast")
        .and_then(|n| boolean(n, "fail_fast", problems));
    if let (Some(k), Some(ff)) = (keep_going, fail_fast)
        && k == ff
    {
        let (kk, fk) = (
            f.key("keep_going").expect("found"),
            f.key("fail_fast").expect("found"),
        );
        problems.push(
            Problem::new(format!("`fail_fast = {ff}` contradicts `keep_going = {k}`"))
                .label(&kk.span, format!("keep_going = {k}"))
                .label(&fk.span, format!("fail_fast = {ff}"))
                .help("`fail_fast` is the opposite of `keep_going`; keep one of them"),
        );
    }
    s.keep_going = keep_going.or(fail_fast.map(|ff| !ff));
    s.max_fail = f
        .get("max_fail")
        .and_then(|n| count(n, "max_fail", 1, problems));
    s.grace = f.get("grace").and_then(|n| duration(n, "grace", problems));
    s.slow = f.get("slow").and_then(|n| duration(n, "slow", problems));
    s.retry_failed_serially = f
        .get("retry_failed_serially")
        .and_then(|n| boolean(n, "retry_failed_serially", problems));
    s.systemic_failure_stop = f
        .get("systemic_failure_stop")
        .and_then(|n| boolean(n, "systemic_failure_stop", problems));
    s.isolate = f.get("isolate").and_then(|n| isolation(n, problems));
    s.max_cpu = f
        .get("max_cpu")
        .and_then(|n| percent(n, "max_cpu", problems));
    s.max_memory = f
        .get("max_memory")
        .and_then(|n| percent(n, "max_memory", problems));
    s.max_load = f
        .get("max_load")
        .and_then(|n| count(n, "max_load", 1, problems));
    s
}

/// `"none"` or `"worktree"`.
pub(crate) fn isolation(node: &Node, problems: &mut Vec<Problem>) -> Option<Isolation> {
    let text = string(node, "isolate", problems)?;
    match text.value.as_str() {
        "none" => Some(Isolation::None),
        "worktree" => Some(Isolation::Worktree),
        other => {
            problems.push(
                Problem::at(
                    &node.span,
                    format!("unknown isolation `{other}`"),
                    "expected \"worktree\" or \"none\"",
                )
                .help("`isolate = \"worktree\"` runs the task in a git worktree of its own"),
            );
            None
        }
    }
}

const WORKTREE_FIELDS: &[Field] = &[
    field("copy", &[]),
    field("setup", &[]),
    field("merge", &[]),
    field("into", &[]),
];

fn worktree(node: &Node, problems: &mut Vec<Problem>) -> RawWorktree {
    let mut w = RawWorktree::default();
    let Some(entries) = table(node, "worktree", problems) else {
        return w;
    };
    let f = match_fields(entries, WORKTREE_FIELDS, &[], "`[worktree]`", problems);
    w.copy = f.get("copy").map(|n| {
        string_list(n, "copy", problems)
            .into_iter()
            .map(|t| t.value)
            .collect()
    });
    w.setup = f
        .get("setup")
        .and_then(|n| string(n, "setup", problems))
        .map(|t| t.value)
        .filter(|s| !s.trim().is_empty());
    w.merge = f.get("merge").and_then(|n| {
        let text = string(n, "merge", problems)?;
        let mode = [
            MergeMode::Merge,
            MergeMode::Squash,
            MergeMode::FfOnly,
            MergeMode::None,
        ]
        .into_iter()
        .find(|m| m.name() == text.value);
        if mode.is_none() {
            problems.push(
                Problem::at(
                    &n.span,
                    format!("unknown merge mode `{}`", text.value),
                    "expected \"merge\", \"squash\", \"ff-only\" or \"none\"",
                )
                .help("`merge` says how a task's branch comes back into the integration branch"),
            );
        }
        mode
    });
    w.into = f
        .get("into")
        .and_then(|n| string(n, "into", problems))
        .map(|t| t.value);
    w
}

/// `"exponential"` → `Some(false)`, `"fixed"` → `Some(true)`.
/// The `backoff`, `backoff_delay` and `backoff_max` fields of a table that has them
/// (`[settings]` and a task).
pub(crate) fn backoff(f: &Found<'_>, problems: &mut Vec<Problem>) -> RawBackoff {
    RawBackoff {
        fixed: f.get("backoff").and_then(|n| backoff_kind(n, problems)),
        delay: f
            .get("backoff_delay")
            .and_then(|n| duration(n, "backoff_delay", problems)),
        max: f
            .get("backoff_max")
            .and_then(|n| duration(n, "backoff_max", problems)),
    }
}

fn backoff_kind(node: &Node, problems: &mut Vec<Problem>) -> Option<bool> {
    let text = string(node, "backoff", problems)?;
    match text.value.as_str() {
        "exponential" => Some(false),
        "fixed" => Some(true),
        other => {
            problems.push(
                Problem::at(
                    &node.span,
                    format!("unknown backoff `{other}`"),
                    "expected \"exponential\" or \"fixed\"",
                )
                .help("`backoff` is \"exponential\" or \"fixed\""),
            );
            None
        }
    }
}

fn resources(node: &Node, problems: &mut Vec<Problem>) -> IndexMap<String, u32> {
    let Some(entries) = table(node, "resources", problems) else {
        return IndexMap::new();
    };
    entries
        .iter()
        .filter_map(|(k, v)| Some((k.name.clone(), count(v, &k.name, 1, problems)?)))
        .collect()
}

/// A non-negative amount of money (an integer or a float).
pub(crate) fn money(node: &Node, field: &str, problems: &mut Vec<Problem>) -> Option<f64> {
    let value = match node.kind {
        Kind::Int(i) => i as f64,
        Kind::Float(f) => f,
        _ => {
            problems.push(wrong_type(node, field, "a number of US dollars"));
            return None;
        }
    };
    if value.is_finite() && value >= 0.0 {
        Some(value)
    } else {
        problems.push(Problem::at(
            &node.span,
            format!("`{field}` must be 0 or more, found {value}"),
            "expected a positive amount",
        ));
        None
    }
}
