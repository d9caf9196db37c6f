//! Turning the document tree into the plan's raw parts: settings, resources, environment
//! and task templates, with names resolved (aliases), types checked and durations parsed.
//! Keeps the places of everything later checks need. Cross-task checks (ids,
//! dependencies, matrices, resources) are not done here.

use std::time::Duration;

use indexmap::IndexMap;

use crate::plan::error::Problem;
use crate::plan::model::{
    AgentSettings, Backoff, BudgetSettings, Isolation, LimitSettings, MergeMode, ProfileSettings,
    QueueSettings, Rate, Settings, WorktreeSettings,
};
use crate::plan::node::{Key, Kind, Node, Span};
use crate::plan::values::{
    Field, Text, boolean, count, duration, field, id_list, id_text, integer, match_fields, string,
    string_list, string_map, table, wrong_type,
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
}

/// Settings as written: only what the file sets.
#[derive(Clone, Debug, Default)]
pub(crate) struct RawSettings {
    pub(crate) jobs: Option<usize>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) retries: Option<u32>,
    pub(crate) backoff: RawBackoff,
    pub(crate) keep_going: Option<bool>,
    pub(crate) grace: Option<Duration>,
    pub(crate) retry_failed_serially: Option<bool>,
    pub(crate) systemic_failure_stop: Option<bool>,
    pub(crate) isolate: Option<Isolation>,
    pub(crate) max_cpu: Option<u8>,
    pub(crate) max_memory: Option<u8>,
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
            grace: self.grace.or(defaults.grace),
            retry_failed_serially: self
                .retry_failed_serially
                .or(defaults.retry_failed_serially),
            systemic_failure_stop: self
                .systemic_failure_stop
                .or(defaults.systemic_failure_stop),
            isolate: self.isolate.or(defaults.isolate),
            max_cpu: self.max_cpu.or(defaults.max_cpu),
            max_memory: self.max_memory.or(defaults.max_memory),
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
            grace: self.grace.unwrap_or(d.grace),
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
        }
    }
}

/// A command as written.
#[derive(Clone, Debug)]
pub(crate) enum RawRun {
    Shell(Text),
    Argv(Vec<Text>),
}

/// A task as written: a template when it has a matrix.
#[derive(Clone, Debug, Default)]
pub(crate) struct RawTask {
    /// The whole task, for problems with no better place.
    pub(crate) span: Span,
    pub(crate) id: Option<Text>,
    pub(crate) run: Option<RawRun>,
    pub(crate) prompt: Option<Text>,
    pub(crate) subject: Option<Text>,
    pub(crate) kind: Option<String>,
    pub(crate) required_skill: Option<String>,
    pub(crate) after: Vec<Text>,
    pub(crate) blocks: Vec<Text>,
    /// Matrix keys (with their places) and their values, in the order written.
    pub(crate) matrix: Vec<(Key, Vec<String>)>,
    pub(crate) writes: Vec<Text>,
    /// Resource, amount, place of the amount.
    pub(crate) uses: Vec<(Key, u32)>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) retries: Option<u32>,
    pub(crate) backoff: RawBackoff,
    pub(crate) priority: i64,
    pub(crate) estimate: Option<Duration>,
    pub(crate) env: Vec<(Key, Text)>,
    pub(crate) cwd: Option<Text>,
    pub(crate) inputs: Vec<Text>,
    pub(crate) outputs: Vec<Text>,
    pub(crate) isolate: Option<Isolation>,
    pub(crate) agent: Option<String>,
    pub(crate) prompt_file: Option<Text>,
    pub(crate) model: Option<String>,
    pub(crate) max_turns: Option<u32>,
    pub(crate) allowed_tools: Vec<String>,
    pub(crate) session_id: Option<String>,
    pub(crate) max_usd: Option<f64>,
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
    field("grace", &["kill_grace"]),
    field("retry_failed_serially", &[]),
    field("systemic_failure_stop", &[]),
    field("isolate", &[]),
    field("max_cpu", &[]),
    field("max_memory", &[]),
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
    s.backoff = RawBackoff {
        fixed: f.get("backoff").and_then(|n| backoff_kind(n, problems)),
        delay: f
            .get("backoff_delay")
            .and_then(|n| duration(n, "backoff_delay", problems)),
        max: f
            .get("backoff_max")
            .and_then(|n| duration(n, "backoff_max", problems)),
    };
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
    s.grace = f.get("grace").and_then(|n| duration(n, "grace", problems));
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
    s
}

/// `"none"` or `"worktree"`.
fn isolation(node: &Node, problems: &mut Vec<Problem>) -> Option<Isolation> {
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

const TASK_FIELDS: &[Field] = &[
    field("id", &[]),
    field("run", &["command", "cmd"]),
    field("subject", &["title"]),
    field("description", &[]),
    field("prompt", &[]),
    field("type", &[]),
    field("required_skill", &["skill"]),
    field(
        "after",
        &["blockedBy", "blocked_by", "depends_on", "deps", "needs"],
    ),
    field("blocks", &[]),
    field("matrix", &[]),
    field("writes", &[]),
    field("uses", &[]),
    field("timeout", &[]),
    field("retries", &[]),
    field("backoff", &[]),
    field("backoff_delay", &[]),
    field("backoff_max", &[]),
    field("priority", &[]),
    field("estimate", &[]),
    field("env", &[]),
    field("cwd", &["dir"]),
    field("inputs", &[]),
    field("outputs", &[]),
    field("isolate", &[]),
    field("agent", &[]),
    field("prompt_file", &[]),
    field("model", &[]),
    field("max_turns", &[]),
    field("allowed_tools", &["allowedTools"]),
    field("session_id", &[]),
    field("max_usd", &[]),
];
/// Keys of hand-written task lists that mean nothing to a run.
const IGNORED_TASK_FIELDS: &[&str] = &["activeForm", "status", "owner", "metadata"];

fn tasks(items: &[Node], problems: &mut Vec<Problem>) -> Vec<RawTask> {
    items.iter().filter_map(|n| task(n, problems)).collect()
}

fn task(node: &Node, problems: &mut Vec<Problem>) -> Option<RawTask> {
    let entries = table(node, "task", problems)?;
    let mut t = RawTask {
        span: node.span.clone(),
        ..RawTask::default()
    };
    // The id first, so that other messages can name the task.
    let id_node = entries.iter().find(|(k, _)| k.name == "id").map(|(_, n)| n);
    t.id = id_node.and_then(|n| id_text(n, "id", problems));
    let what = match &t.id {
        Some(id) => format!("task `{}`", id.value),
        None => "a task".to_owned(),
    };
    let f = match_fields(entries, TASK_FIELDS, IGNORED_TASK_FIELDS, &what, problems);
    if t.id.is_none() && id_node.is_none() {
        problems.push(
            Problem::at(&node.span, "task without an `id`", "this task")
                .help("give every task a unique `id`"),
        );
    }
    t.run = f.get("run").and_then(|n| run(n, &what, problems));
    t.subject = f
        .get("subject")
        .and_then(|n| string(n, "subject", problems));
    let _description = f
        .get("description")
        .and_then(|n| string(n, "description", problems));
    t.prompt = f.get("prompt").and_then(|n| string(n, "prompt", problems));
    t.kind = f
        .get("type")
        .and_then(|n| string(n, "type", problems))
        .map(|s| s.value);
    t.required_skill = f
        .get("required_skill")
        .and_then(|n| string(n, "required_skill", problems))
        .map(|s| s.value);
    t.after = f
        .get("after")
        .map_or_else(Vec::new, |n| id_list(n, "after", problems));
    t.blocks = f
        .get("blocks")
        .map_or_else(Vec::new, |n| id_list(n, "blocks", problems));
    t.matrix = f
        .get("matrix")
        .map_or_else(Vec::new, |n| matrix(n, problems));
    t.writes = f
        .get("writes")
        .map_or_else(Vec::new, |n| string_list(n, "writes", problems));
    t.uses = f.get("uses").map_or_else(Vec::new, |n| uses(n, problems));
    t.timeout = f
        .get("timeout")
        .and_then(|n| duration(n, "timeout", problems));
    t.retries = f
        .get("retries")
        .and_then(|n| count(n, "retries", 0, problems));
    t.backoff = RawBackoff {
        fixed: f.get("backoff").and_then(|n| backoff_kind(n, problems)),
        delay: f
            .get("backoff_delay")
            .and_then(|n| duration(n, "backoff_delay", problems)),
        max: f
            .get("backoff_max")
            .and_then(|n| duration(n, "backoff_max", problems)),
    };
    t.priority = f
        .get("priority")
        .and_then(|n| integer(n, "priority", problems))
        .unwrap_or(0);
    t.estimate = f
        .get("estimate")
        .and_then(|n| duration(n, "estimate", problems));
    t.env = f
        .get("env")
        .map_or_else(Vec::new, |n| string_map(n, "env", problems));
    t.cwd = f.get("cwd").and_then(|n| string(n, "cwd", problems));
    t.inputs = f
        .get("inputs")
        .map_or_else(Vec::new, |n| string_list(n, "inputs", problems));
    t.outputs = f
        .get("outputs")
        .map_or_else(Vec::new, |n| string_list(n, "outputs", problems));
    t.isolate = f.get("isolate").and_then(|n| isolation(n, problems));

    t.agent = f
        .get("agent")
        .and_then(|n| string(n, "agent", problems))
        .map(|s| s.value);
    t.prompt_file = f
        .get("prompt_file")
        .and_then(|n| string(n, "prompt_file", problems));
    t.model = f
        .get("model")
        .and_then(|n| string(n, "model", problems))
        .map(|s| s.value);
    t.max_turns = f
        .get("max_turns")
        .and_then(|n| count(n, "max_turns", 1, problems));
    t.allowed_tools = f.get("allowed_tools").map_or_else(Vec::new, |n| {
        string_list(n, "allowed_tools", problems)
            .into_iter()
            .map(|t| t.value)
            .collect()
    });
    t.session_id = f
        .get("session_id")
        .and_then(|n| string(n, "session_id", problems))
        .map(|s| s.value);
    t.max_usd = f.get("max_usd").and_then(|n| money(n, "max_usd", problems));
    if t.prompt.is_some() && t.prompt_file.is_some() {
        problems.push(
            Problem::new(format!("{what} has both `prompt` and `prompt_file`"))
                .label(&f.key("prompt").expect("found").span, "a prompt")
                .label(
                    &f.key("prompt_file").expect("found").span,
                    "and a prompt file",
                )
                .help("keep one of them"),
        );
    }

    // A `run` or `prompt` given but invalid was reported already.
    match (
        f.get("run").or(f.get("prompt")).or(f.get("prompt_file")),
        &t.run,
        &t.prompt,
    ) {
        (None, _, _) => problems.push(
            Problem::at(
                t.id.as_ref().map_or(&node.span, |id| &id.span),
                format!("{what} has nothing to run"),
                "neither `run` nor `prompt`",
            )
            .help("give the task a `run` command, or a `prompt` for an agent"),
        ),
        (_, Some(_), Some(_)) => problems.push(
            Problem::new(format!("{what} has both `run` and `prompt`"))
                .label(&f.key("run").expect("found").span, "a command")
                .label(&f.key("prompt").expect("found").span, "and a prompt")
                .help("a task has either run or prompt; split it into two tasks"),
        ),
        _ => {}
    }
    Some(t)
}

fn run(node: &Node, what: &str, problems: &mut Vec<Problem>) -> Option<RawRun> {
    let empty = |problems: &mut Vec<Problem>| {
        problems.push(
            Problem::at(
                &node.span,
                format!("empty `run` in {what}"),
                "this command is empty",
            )
            .help("write the command to run, or remove the task"),
        );
    };
    match &node.kind {
        Kind::Str(s) => {
            if s.trim().is_empty() {
                empty(problems);
                return None;
            }
            Some(RawRun::Shell(Text {
                value: s.clone(),
                span: node.span.clone(),
            }))
        }
        Kind::Array(items) => {
            let argv: Vec<Text> = items
                .iter()
                .filter_map(|i| string(i, "run", problems))
                .collect();
            if argv.len() != items.len() {
                return None;
            }
            if argv.first().is_none_or(|a| a.value.is_empty()) {
                empty(problems);
                return None;
            }
            Some(RawRun::Argv(argv))
        }
        _ => {
            problems.push(wrong_type(node, "run", "a string or an array of strings"));
            None
        }
    }
}

fn matrix(node: &Node, problems: &mut Vec<Problem>) -> Vec<(Key, Vec<String>)> {
    let Some(entries) = table(node, "matrix", problems) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        let Kind::Array(items) = &value.kind else {
            problems.push(wrong_type(value, &key.name, "an array of values"));
            continue;
        };
        if items.is_empty() {
            problems.push(Problem::at(
                &value.span,
                format!("matrix `{}` has no values", key.name),
                "empty",
            ));
            continue;
        }
        let mut values = Vec::with_capacity(items.len());
        for item in items {
            match item.scalar_text() {
                Some(v) => values.push(v),
                None => problems.push(wrong_type(item, &key.name, "a string or a number")),
            }
        }
        out.push((key.clone(), values));
    }
    out
}

fn uses(node: &Node, problems: &mut Vec<Problem>) -> Vec<(Key, u32)> {
    let Some(entries) = table(node, "uses", problems) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|(k, v)| {
            let n = count(v, &k.name, 1, problems)?;
            Some((
                Key {
                    name: k.name.clone(),
                    span: k.span.start..v.span.end,
                },
                n,
            ))
        })
        .collect()
}

/// A non-negative amount of money (an integer or a float).
fn money(node: &Node, field: &str, problems: &mut Vec<Problem>) -> Option<f64> {
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

const PROFILE_FIELDS: &[Field] = &[
    field("command", &["argv"]),
    field("output", &[]),
    field("success", &[]),
    field("error", &[]),
    field("cost", &[]),
    field("tokens_in", &[]),
    field("tokens_out", &[]),
    field("tokens_cached", &[]),
    field("turns", &[]),
    field("session", &[]),
    field("result_event", &[]),
    field("limit", &[]),
    field("start_interval", &[]),
    field("rate_limit_patterns", &[]),
    field("prompt_via", &[]),
];

/// `[agents]`: `default`, `[agents.models]` and one table per profile.
fn agents(node: &Node, out: &mut AgentSettings, problems: &mut Vec<Problem>) {
    let Some(entries) = table(node, "agents", problems) else {
        return;
    };
    for (key, value) in entries {
        match key.name.as_str() {
            "default" => out.default_agent = string(value, "default", problems).map(|s| s.value),
            "models" => {
                out.models = string_map(value, "models", problems)
                    .into_iter()
                    .map(|(k, v)| (k.name, v.value))
                    .collect();
            }
            name => {
                let what = format!("`[agents.{name}]`");
                let Some(entries) = table(value, name, problems) else {
                    continue;
                };
                let f = match_fields(entries, PROFILE_FIELDS, &[], &what, problems);
                let text = |name: &str, problems: &mut Vec<Problem>| {
                    f.get(name)
                        .and_then(|n| string(n, name, problems))
                        .map(|s| s.value)
                };
                let texts = |name: &str, problems: &mut Vec<Problem>| {
                    f.get(name).map_or_else(Vec::new, |n| {
                        string_list(n, name, problems)
                            .into_iter()
                            .map(|t| t.value)
                            .collect()
                    })
                };
                let profile = ProfileSettings {
                    command: texts("command", problems),
                    output: text("output", problems),
                    success: text("success", problems),
                    error: text("error", problems),
                    cost: text("cost", problems),
                    tokens_in: text("tokens_in", problems),
                    tokens_out: text("tokens_out", problems),
                    tokens_cached: text("tokens_cached", problems),
                    turns: text("turns", problems),
                    session: text("session", problems),
                    result_event: text("result_event", problems),
                    limit: text("limit", problems),
                    start_interval: f
                        .get("start_interval")
                        .and_then(|n| duration(n, "start_interval", problems)),
                    rate_limit_patterns: texts("rate_limit_patterns", problems),
                    prompt_via: text("prompt_via", problems),
                };
                if let Some(output) = &profile.output
                    && !matches!(output.as_str(), "json" | "json-lines" | "text")
                {
                    problems.push(
                        Problem::at(
                            &f.get("output").expect("found").span,
                            format!("unknown output `{output}` in {what}"),
                            "expected \"json\", \"json-lines\" or \"text\"",
                        )
                        .help("`output` says how to read the agent's result"),
                    );
                }
                if let Some(via) = &profile.prompt_via
                    && !matches!(via.as_str(), "argv" | "stdin")
                {
                    problems.push(
                        Problem::at(
                            &f.get("prompt_via").expect("found").span,
                            format!("unknown prompt_via `{via}` in {what}"),
                            "expected \"argv\" or \"stdin\"",
                        )
                        .help("`prompt_via` says how the agent gets its prompt"),
                    );
                }
                out.profiles.insert(name.to_owned(), profile);
            }
        }
    }
}

const LIMIT_FIELDS: &[Field] = &[
    field("concurrency", &[]),
    field("rate", &[]),
    field("burst", &[]),
    field("breaker_failures", &[]),
    field("breaker_cooldown", &[]),
];

/// `[limits.NAME]` tables.
fn limits(node: &Node, problems: &mut Vec<Problem>) -> IndexMap<String, LimitSettings> {
    let Some(entries) = table(node, "limits", problems) else {
        return IndexMap::new();
    };
    let mut out = IndexMap::new();
    for (key, value) in entries {
        let what = format!("`[limits.{}]`", key.name);
        let Some(fields) = table(value, &key.name, problems) else {
            continue;
        };
        let f = match_fields(fields, LIMIT_FIELDS, &[], &what, problems);
        let limit = LimitSettings {
            concurrency: f
                .get("concurrency")
                .and_then(|n| count(n, "concurrency", 1, problems)),
            rate: f.get("rate").and_then(|n| rate(n, problems)),
            burst: f.get("burst").and_then(|n| count(n, "burst", 1, problems)),
            breaker_failures: f
                .get("breaker_failures")
                .and_then(|n| count(n, "breaker_failures", 1, problems)),
            breaker_cooldown: f
                .get("breaker_cooldown")
                .and_then(|n| duration(n, "breaker_cooldown", problems)),
        };
        out.insert(key.name.clone(), limit);
    }
    out
}

/// `"50/min"`, `"10/s"`, `"1000/hour"`, `"3/10s"`.
fn rate(node: &Node, problems: &mut Vec<Problem>) -> Option<Rate> {
    let text = string(node, "rate", problems)?;
    match parse_rate(&text.value) {
        Some(rate) => Some(rate),
        None => {
            problems.push(
                Problem::at(
                    &node.span,
                    format!("invalid rate `{}`", text.value),
                    "not a rate",
                )
                .help("write a count per period, such as \"50/min\", \"5/s\" or \"1000/hour\""),
            );
            None
        }
    }
}

pub(crate) fn parse_rate(text: &str) -> Option<Rate> {
    let (count, per) = text.split_once('/')?;
    let count: u32 = count.trim().parse().ok().filter(|&n| n > 0)?;
    let per = match per.trim() {
        "s" | "sec" | "second" => Duration::from_secs(1),
        "m" | "min" | "minute" => Duration::from_secs(60),
        "h" | "hour" => Duration::from_secs(3600),
        "d" | "day" => Duration::from_secs(86_400),
        other => humantime::parse_duration(other).ok()?,
    };
    (!per.is_zero()).then_some(Rate { count, per })
}

const BUDGET_FIELDS: &[Field] = &[field("usd", &[]), field("tokens", &[])];

fn budget(node: &Node, problems: &mut Vec<Problem>) -> BudgetSettings {
    let Some(entries) = table(node, "budget", problems) else {
        return BudgetSettings::default();
    };
    let f = match_fields(entries, BUDGET_FIELDS, &[], "`[budget]`", problems);
    BudgetSettings {
        usd: f.get("usd").and_then(|n| money(n, "usd", problems)),
        tokens: f.get("tokens").and_then(|n| {
            let i = integer(n, "tokens", problems)?;
            match u64::try_from(i) {
                Ok(t) => Some(t),
                Err(_) => {
                    problems.push(Problem::at(
                        &n.span,
                        format!("`tokens` must be 0 or more, found {i}"),
                        "expected a positive count",
                    ));
                    None
                }
            }
        }),
    }
}
