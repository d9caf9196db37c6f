//! The `[queue]` table of a project file: where `fanout queue` finds its items, how many
//! run at once and how far a run goes on its own. Only decodes and checks the values;
//! the directory is joined to the project file's directory by the loader, and the
//! command line's flags are weighed against these by the queue command.

use std::path::PathBuf;

use crate::plan::error::Problem;
use crate::plan::model::{Autonomy, QueueSettings};
use crate::plan::node::Node;
use crate::plan::values::{Field, count, field, match_fields, string, table};

const QUEUE_FIELDS: &[Field] = &[
    field("dir", &[]),
    field("max_parallel", &[]),
    field("autonomy", &[]),
];

/// `[queue]` as written (its `dir` not yet joined to anything).
pub(crate) fn queue(node: &Node, problems: &mut Vec<Problem>) -> QueueSettings {
    let Some(entries) = table(node, "queue", problems) else {
        return QueueSettings::default();
    };
    let f = match_fields(entries, QUEUE_FIELDS, &[], "`[queue]`", problems);
    QueueSettings {
        dir: f.get("dir").and_then(|n| {
            let text = string(n, "dir", problems)?;
            if text.value.trim().is_empty() {
                problems.push(
                    Problem::at(&n.span, "empty `dir` in `[queue]`", "no directory")
                        .help("name the queue directory, such as \".agent/queue\""),
                );
                return None;
            }
            Some(PathBuf::from(text.value))
        }),
        max_parallel: f
            .get("max_parallel")
            .and_then(|n| count(n, "max_parallel", 1, problems))
            .map(|n| n as usize),
        autonomy: f.get("autonomy").and_then(|n| autonomy(n, problems)),
    }
}

/// `"L1"`, `"L2"` or `"L3"`.
fn autonomy(node: &Node, problems: &mut Vec<Problem>) -> Option<Autonomy> {
    let text = string(node, "autonomy", problems)?;
    let level = Autonomy::from_name(&text.value);
    if level.is_none() {
        problems.push(
            Problem::at(
                &node.span,
                format!("unknown autonomy `{}`", text.value),
                "expected \"L1\", \"L2\" or \"L3\"",
            )
            .help("L1 and L2 stop at the first failure; L3 goes on past failures"),
        );
    }
    level
}
