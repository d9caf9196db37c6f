//! A queue as a plan for the ordinary runner: one agent task per pending item that can
//! run, its prompt the item's text, its dependencies the pending items its `BlockedBy:`
//! names (completed ones are satisfied already), and a priority that makes items others
//! wait for go first. Pure: the caller reads the queue and runs the plan.

use crate::graph::Dag;
use crate::plan::{Action, Plan, Task};

use super::item::Status;
use super::model::{Queue, Readiness};

/// The plan of a queue's runnable items.
#[derive(Clone, Debug)]
pub struct QueuePlan {
    pub plan: Plan,
    /// Per task: the index of its item in the queue.
    pub items: Vec<usize>,
}

/// Adds a task for every pending item that can run to `base` (the project's plan, with
/// its settings and agents, and no tasks). Items in progress must have been made pending
/// again first: nothing else is running while a run holds the queue.
///
/// Each task's priority is the number of tasks that wait for it, directly or through
/// others, so an item others wait for starts before one nothing waits for; among equals
/// the scheduler prefers the longest remaining path, then the lower number.
pub fn queue_plan(queue: &Queue, readiness: &[Option<Readiness>], mut base: Plan) -> QueuePlan {
    let items: Vec<usize> = readiness
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r, Some(Readiness::Ready | Readiness::Waiting { .. })))
        .map(|(i, _)| i)
        .collect();
    let task_of = |number: u32| {
        queue
            .position(number)
            .and_then(|item| items.iter().position(|&i| i == item))
    };
    let settings = &base.settings;
    let mut tasks: Vec<Task> = items
        .iter()
        .map(|&i| {
            let item = &queue.items[i];
            let deps: Vec<usize> = item
                .body
                .blocked_by
                .iter()
                .filter_map(|&n| {
                    let dep = task_of(n);
                    debug_assert!(
                        dep.is_some()
                            || queue.position(n).map(|d| queue.items[d].name.status)
                                == Some(Status::Completed),
                        "a runnable item waits only for completed or runnable items"
                    );
                    dep
                })
                .collect();
            Task {
                subject: Some(item.name.slug.clone()),
                deps,
                timeout: settings.timeout,
                retries: settings.retries,
                backoff: settings.backoff,
                ..Task::new(
                    item.name.id(),
                    Action::Agent {
                        prompt: item.body.prompt.clone(),
                    },
                )
            }
        })
        .collect();
    let dag = Dag::new(tasks.iter().map(|t| t.deps.clone()).collect())
        .expect("a validated queue has no cycles");
    for (index, task) in tasks.iter_mut().enumerate() {
        task.priority = waiting_for(&dag, index) as i64;
    }
    base.tasks = tasks;
    QueuePlan { plan: base, items }
}

/// How many tasks wait for `task`, directly or through others.
fn waiting_for(dag: &Dag, task: usize) -> usize {
    let mut seen = vec![false; dag.len()];
    let mut stack = vec![task];
    let mut count = 0;
    while let Some(t) = stack.pop() {
        for &d in dag.dependents(t) {
            if !seen[d] {
                seen[d] = true;
                count += 1;
                stack.push(d);
            }
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::plan::project_plan;
    use crate::queue::model::tests::queue;

    #[test]
    fn runnable_pending_items_become_agent_tasks() {
        let q = queue(&[
            ("001-completed-setup.md", "done"),
            ("002-pending-api.md", "BlockedBy: 1\nBuild the API"),
            ("003-pending-ui.md", "BlockedBy: 2\nBuild the UI"),
            ("004-pending-docs.md", "BlockedBy: 3, 2\nWrite docs"),
            ("005-pending-misc.md", "Tidy up"),
            ("006-pending-stuck.md", "BlockedBy: 42\nNever"),
            ("007-blocked-old.md", "Failed"),
        ]);
        let base = project_plan(None, PathBuf::from("q"), PathBuf::from(".")).unwrap();
        let QueuePlan { plan, items } = queue_plan(&q, &q.readiness(), base);
        assert_eq!(items, [1, 2, 3, 4]);
        let ids: Vec<&str> = plan.tasks.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["002-api", "003-ui", "004-docs", "005-misc"]);
        let deps: Vec<&[usize]> = plan.tasks.iter().map(|t| t.deps.as_slice()).collect();
        assert_eq!(deps, [&[][..], &[0], &[1, 0], &[]]);
        let priorities: Vec<i64> = plan.tasks.iter().map(|t| t.priority).collect();
        assert_eq!(priorities, [2, 1, 0, 0]);
        assert_eq!(
            plan.tasks[0].action,
            Action::Agent {
                prompt: "Build the API".into()
            }
        );
        assert_eq!(plan.tasks[0].subject.as_deref(), Some("api"));
    }
}
