//! The queue as people read it: `fanout queue status` as text and JSON (the items grouped
//! by status, pending first, with what each waits for, whether each pending item is
//! ready, and the counts), what a run did to the items, and which item files a failed
//! rename left wrong. Renders what it is given; reads nothing.

use std::fmt::Write as _;

use serde_json::json;

use super::item::{ItemName, Status};
use super::model::{Item, Queue, Readiness};
use super::reporter::{ItemOutcome, Misnamed};

/// Version of the JSON form; raised when a field changes meaning or goes away.
pub const QUEUE_SCHEMA_VERSION: u32 = 1;

/// The status table. `run_active`: a run holds the queue now, so items in progress are
/// running (else a run that is gone left them, and the next run starts them again).
pub fn render_status_text(
    queue: &Queue,
    readiness: &[Option<Readiness>],
    run_active: bool,
) -> String {
    let rows: Vec<[String; 5]> = ordered(queue)
        .map(|i| {
            let item = &queue.items[i];
            let state = match (&readiness[i], item.name.status) {
                (Some(r), _) => readiness_text(queue, r),
                (None, Status::InProgress) if run_active => "running".to_owned(),
                (None, Status::InProgress) => {
                    "left by a run that is gone; the next run starts it again".to_owned()
                }
                (None, _) => String::new(),
            };
            [
                item.name.digits.clone(),
                item.name.status.name().to_owned(),
                item.name.slug.clone(),
                blocked_by_text(queue, item),
                state,
            ]
        })
        .collect();
    let header = ["NUMBER", "STATUS", "SLUG", "BLOCKED BY", "STATE"].map(str::to_owned);
    let mut widths = [0; 5];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (n, (cell, width)) in row.iter().zip(widths).enumerate() {
            if n > 0 {
                line.push_str("  ");
            }
            let _ = write!(line, "{cell:width$}");
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let counts = queue.counts();
    let parts: Vec<String> = Status::ALL
        .iter()
        .zip(counts)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let _ = writeln!(out, "\n{} item(s): {}", queue.items.len(), parts.join(", "));
    out
}

/// The documented JSON form of the status.
pub fn status_json(queue: &Queue, readiness: &[Option<Readiness>], run_active: bool) -> String {
    let counts = queue.counts();
    let mut count_map = serde_json::Map::new();
    for (status, n) in Status::ALL.iter().zip(counts) {
        count_map.insert(status.name().to_owned(), n.into());
    }
    let items: Vec<serde_json::Value> = ordered(queue)
        .map(|i| {
            let item = &queue.items[i];
            json!({
                "number": item.name.number,
                "file": item.name.file_name(),
                "status": item.name.status,
                "slug": item.name.slug,
                "blocked_by": item.body.blocked_by,
                "readiness": readiness[i],
            })
        })
        .collect();
    let value = json!({
        "schema_version": QUEUE_SCHEMA_VERSION,
        "dir": queue.dir.display().to_string(),
        "run_active": run_active,
        "total": queue.items.len(),
        "counts": count_map,
        "items": items,
    });
    let mut text = serde_json::to_string_pretty(&value).expect("JSON values serialize");
    text.push('\n');
    text
}

/// What a run did to the queue: how many items completed, failed (and what each is now,
/// with why and where its log is), were stopped, or never started. `names[i]` and
/// `outcomes[i]` belong to the same task.
pub fn render_run_report(names: &[ItemName], outcomes: &[ItemOutcome]) -> String {
    let mut completed = 0;
    let mut failed = Vec::new();
    let mut stopped = Vec::new();
    let mut not_started = Vec::new();
    for (name, outcome) in names.iter().zip(outcomes) {
        match outcome {
            ItemOutcome::Completed => completed += 1,
            ItemOutcome::Failed { reason, log, .. } => failed.push((name, reason, log)),
            ItemOutcome::Stopped | ItemOutcome::Running => stopped.push(name.file_name()),
            ItemOutcome::NotStarted => not_started.push(name.file_name()),
        }
    }
    let mut parts = vec![format!("{completed} completed")];
    if !failed.is_empty() {
        parts.push(format!("{} failed", failed.len()));
    }
    if !stopped.is_empty() {
        parts.push(format!("{} stopped (pending again)", stopped.len()));
    }
    if !not_started.is_empty() {
        parts.push(format!("{} not started (still pending)", not_started.len()));
    }
    let mut out = format!("Queue: {}\n", parts.join(", "));
    if !failed.is_empty() {
        let _ = writeln!(out, "Failed:");
        for (name, reason, log) in failed {
            let _ = write!(out, "  {}: {reason}", name.file_name());
            if let Some(log) = log {
                let _ = write!(out, " (log: {})", log.display());
            }
            out.push('\n');
        }
    }
    for (label, list) in [("Stopped", stopped), ("Not started", not_started)] {
        if !list.is_empty() {
            let _ = writeln!(out, "{label}: {}", list.join(", "));
        }
    }
    out
}

/// The item files a failed rename left with the wrong status, each with what it should be
/// and what to do; empty when there are none.
pub fn render_misnamed(misnamed: &[Misnamed]) -> String {
    if misnamed.is_empty() {
        return String::new();
    }
    let mut out = String::from("Not renamed (the errors are above):\n");
    for Misnamed { name, wanted } in misnamed {
        let should_be = name.with_status(*wanted).file_name();
        let why = match wanted {
            Status::Completed => " (its agent succeeded)",
            Status::Blocked => " (its agent failed)",
            Status::Pending | Status::InProgress => "",
        };
        let todo = match (name.status, wanted) {
            (Status::InProgress, Status::Pending) => "nothing to do, the next run makes it pending",
            (Status::Pending | Status::InProgress, Status::Completed | Status::Blocked) => {
                "rename it by hand, else the next run runs the item again"
            }
            _ => "rename it by hand",
        };
        let _ = writeln!(
            out,
            "  {} should be {should_be}{why}: {todo}",
            name.file_name()
        );
    }
    out
}

/// Item indices grouped by status, in [`Status::ALL`] order, each group by number.
fn ordered(queue: &Queue) -> impl Iterator<Item = usize> + '_ {
    Status::ALL.into_iter().flat_map(move |status| {
        (0..queue.items.len()).filter(move |&i| queue.items[i].name.status == status)
    })
}

/// An item number as its file writes it, when the item is there.
fn digits(queue: &Queue, number: u32) -> String {
    queue.position(number).map_or_else(
        || number.to_string(),
        |i| queue.items[i].name.digits.clone(),
    )
}

fn blocked_by_text(queue: &Queue, item: &Item) -> String {
    let numbers: Vec<String> = item
        .body
        .blocked_by
        .iter()
        .map(|&n| digits(queue, n))
        .collect();
    if numbers.is_empty() {
        "-".to_owned()
    } else {
        numbers.join(", ")
    }
}

fn readiness_text(queue: &Queue, readiness: &Readiness) -> String {
    match readiness {
        Readiness::Ready => "ready".to_owned(),
        Readiness::Waiting { on } => {
            let on: Vec<String> = on.iter().map(|&n| digits(queue, n)).collect();
            format!("waiting for {}", on.join(", "))
        }
        Readiness::CannotRun { reason } => format!("cannot run: {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::model::tests::queue;

    #[test]
    fn the_table_groups_items_by_status() {
        let q = queue(&[
            ("001-completed-setup.md", "a"),
            ("002-pending-api.md", "BlockedBy: 1\nb"),
            ("003-pending-ui.md", "BlockedBy: 2\nc"),
            ("004-blocked-login.md", "d"),
            ("005-pending-docs.md", "BlockedBy: 4\ne"),
            ("006-in_progress-x.md", "f"),
        ]);
        let text = render_status_text(&q, &q.readiness(), false);
        assert_eq!(
            text,
            "\
NUMBER  STATUS       SLUG   BLOCKED BY  STATE
002     pending      api    001         ready
003     pending      ui     002         waiting for 002
005     pending      docs   004         cannot run: it waits for 004, which is blocked
006     in_progress  x      -           left by a run that is gone; the next run starts it again
001     completed    setup  -
004     blocked      login  -

6 item(s): 3 pending, 1 in_progress, 1 completed, 1 blocked
"
        );
        assert!(
            render_status_text(&q, &q.readiness(), true).contains("x      -           running\n")
        );
    }

    #[test]
    fn the_run_report_lists_every_failure() {
        let names: Vec<ItemName> = [
            "001-completed-a.md",
            "002-blocked-b.md",
            "003-pending-c.md",
            "004-pending-d.md",
            "005-blocked-e.md",
        ]
        .iter()
        .map(|n| ItemName::parse(n).unwrap())
        .collect();
        let outcomes = [
            ItemOutcome::Completed,
            ItemOutcome::Failed {
                reason: "exit code 1".into(),
                log: Some("logs/002-b.log".into()),
                now: Status::Blocked,
            },
            ItemOutcome::Stopped,
            ItemOutcome::NotStarted,
            ItemOutcome::Failed {
                reason: "timed out after 1s".into(),
                log: None,
                now: Status::Blocked,
            },
        ];
        assert_eq!(
            render_run_report(&names, &outcomes),
            "\
Queue: 1 completed, 2 failed, 1 stopped (pending again), 1 not started (still pending)
Failed:
  002-blocked-b.md: exit code 1 (log: logs/002-b.log)
  005-blocked-e.md: timed out after 1s
Stopped: 003-pending-c.md
Not started: 004-pending-d.md
"
        );
    }

    #[test]
    fn misnamed_items_say_what_they_should_be_and_what_to_do() {
        let misnamed = |name: &str, wanted| Misnamed {
            name: ItemName::parse(name).unwrap(),
            wanted,
        };
        assert_eq!(render_misnamed(&[]), "");
        assert_eq!(
            render_misnamed(&[
                misnamed("001-in_progress-a.md", Status::Completed),
                misnamed("002-in_progress-b.md", Status::Blocked),
                misnamed("003-in_progress-c.md", Status::Pending),
            ]),
            "\
Not renamed (the errors are above):
  001-in_progress-a.md should be 001-completed-a.md (its agent succeeded): rename it by hand, else the next run runs the item again
  002-in_progress-b.md should be 002-blocked-b.md (its agent failed): rename it by hand, else the next run runs the item again
  003-in_progress-c.md should be 003-pending-c.md: nothing to do, the next run makes it pending
"
        );
    }

    #[test]
    fn the_json_has_counts_and_readiness() {
        let q = queue(&[
            ("001-completed-setup.md", "a"),
            ("002-pending-api.md", "BlockedBy: 1, 3\nb"),
            ("003-pending-ui.md", "c"),
        ]);
        let value: serde_json::Value =
            serde_json::from_str(&status_json(&q, &q.readiness(), false)).unwrap();
        assert_eq!(value["counts"]["pending"], 2);
        assert_eq!(value["counts"]["completed"], 1);
        assert_eq!(value["total"], 3);
        assert_eq!(value["items"][0]["file"], "002-pending-api.md");
        assert_eq!(value["items"][0]["blocked_by"], json!([1, 3]));
        assert_eq!(
            value["items"][0]["readiness"],
            json!({"state": "waiting", "on": [3]})
        );
        assert_eq!(value["items"][1]["readiness"], json!({"state": "ready"}));
        assert_eq!(value["items"][2]["status"], "completed");
        assert_eq!(value["items"][2]["readiness"], serde_json::Value::Null);
    }
}
