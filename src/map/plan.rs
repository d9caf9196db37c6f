//! A map as a plan: one task per job, in job order, no dependencies, so the engine's
//! runner runs it like any other plan. The task id is the job number.

use std::path::PathBuf;
use std::time::Duration;

use indexmap::IndexMap;

use super::replace::Template;
use crate::plan::{Action, Backoff, Plan, Settings, Task};

/// What a map runs.
#[derive(Clone, Debug)]
pub struct MapSpec {
    pub template: Template,
    /// Quote inputs for the shell (off when the inputs are themselves the commands).
    pub quote: bool,
    /// Each job's inputs, in job order.
    pub inputs: Vec<Vec<String>>,
    pub jobs: usize,
    pub timeout: Option<Duration>,
    /// Attempts per job at most, as GNU parallel's `--retries` counts them (0 and 1: one).
    pub tries: u32,
    /// Time between SIGTERM and SIGKILL when a job is terminated.
    pub grace: Duration,
    /// Where jobs run.
    pub base_dir: PathBuf,
    /// No job starts while this many processes or more are runnable (`--load`).
    pub max_load: Option<f64>,
    /// No job starts while less memory than this, in bytes, is available (`--memfree`).
    pub min_free_memory: Option<u64>,
    /// Each job's stdin, a file (`--pipe`'s blocks), in job order; empty: every job's
    /// stdin is `/dev/null`.
    pub stdin: Vec<PathBuf>,
}

/// The plan of a map: task `i` is job `i + 1`; its command is the template filled with
/// the job's inputs.
pub fn map_plan(spec: &MapSpec) -> Plan {
    let settings = Settings {
        jobs: spec.jobs.max(1),
        timeout: spec.timeout,
        retries: spec.tries.saturating_sub(1),
        backoff: Backoff::Fixed(Duration::ZERO),
        keep_going: true,
        grace: spec.grace,
        retry_failed_serially: false,
        systemic_failure_stop: false,
        max_load: spec.max_load,
        min_free_memory: spec.min_free_memory,
        ..Settings::default()
    };
    let tasks = spec
        .inputs
        .iter()
        .enumerate()
        .map(|(i, args)| {
            let seq = i + 1;
            Task {
                timeout: settings.timeout,
                retries: settings.retries,
                backoff: settings.backoff,
                stdin: spec.stdin.get(i).cloned(),
                ..Task::new(
                    seq.to_string(),
                    Action::Shell(spec.template.fill(args, seq, spec.quote)),
                )
            }
        })
        .collect();
    Plan {
        path: PathBuf::from("fanout map"),
        base_dir: spec.base_dir.clone(),
        settings,
        resources: IndexMap::new(),
        env: IndexMap::new(),
        tasks,
        agents: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_task_per_job_in_order() {
        let spec = MapSpec {
            template: Template::parse("echo {#} {}"),
            quote: true,
            inputs: vec![vec!["a b".into()], vec!["c".into()]],
            jobs: 4,
            timeout: Some(Duration::from_secs(2)),
            tries: 3,
            grace: Duration::from_millis(200),
            base_dir: PathBuf::from("/tmp"),
            stdin: vec![PathBuf::from("/tmp/block-1")],
            max_load: Some(2.0),
            min_free_memory: Some(1 << 20),
        };
        let plan = map_plan(&spec);
        let ids: Vec<&str> = plan.tasks.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["1", "2"]);
        assert_eq!(plan.tasks[0].action, Action::Shell("echo 1 'a b'".into()));
        assert_eq!(plan.tasks[1].action, Action::Shell("echo 2 c".into()));
        assert_eq!(plan.tasks[0].retries, 2);
        assert!(plan.tasks.iter().all(|t| t.deps.is_empty()));
        assert_eq!(plan.settings.jobs, 4);
        assert_eq!(plan.settings.max_load, Some(2.0));
        assert_eq!(plan.settings.min_free_memory, Some(1 << 20));
        assert_eq!(plan.tasks[0].stdin, Some(PathBuf::from("/tmp/block-1")));
        assert_eq!(plan.tasks[1].stdin, None);
    }
}
