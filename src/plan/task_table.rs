//! A task as written in a plan file, decoded: its fields under their names and aliases,
//! its command (a shell string or an argv array), matrix, resources and agent fields,
//! each checked for its type, with the places later checks need. Expanding matrices and
//! linking tasks is not done here.

use std::time::Duration;

use crate::plan::decode::{RawBackoff, backoff, isolation, money};
use crate::plan::error::Problem;
use crate::plan::model::Isolation;
use crate::plan::node::{Key, Kind, Node, Span};
use crate::plan::values::{
    Field, Text, count, duration, field, id_list, id_text, integer, match_fields, string,
    string_list, string_map, table, wrong_type,
};

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
    pub(crate) slow: Option<Duration>,
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
    field("slow", &["slow_timeout"]),
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

pub(crate) fn tasks(items: &[Node], problems: &mut Vec<Problem>) -> Vec<RawTask> {
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
    t.slow = f.get("slow").and_then(|n| duration(n, "slow", problems));
    t.retries = f
        .get("retries")
        .and_then(|n| count(n, "retries", 0, problems));
    t.backoff = backoff(&f, problems);
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
