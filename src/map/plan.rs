//! A map as a plan: one task per job, in job order, no dependencies, so the engine's
//! runner runs it like any other plan. The task id is the job number. Jobs read as the
//! run goes are the same tasks, added to the run as they come.

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
}

impl MapSpec {
    /// The run's settings.
    pub fn settings(&self) -> Settings {
        Settings {
            jobs: self.jobs.max(1),
            timeout: self.timeout,
            retries: self.tries.saturating_sub(1),
            backoff: Backoff::Fixed(Duration::ZERO),
            keep_going: true,
            grace: self.grace,
            retry_failed_serially: false,
            systemic_failure_stop: false,
            max_load: self.max_load,
            min_free_memory: self.min_free_memory,
            ..Settings::default()
        }
    }

    /// Job `seq` (from 1): the template filled with its `inputs`; `stdin`, a file it
    /// reads on stdin (`--pipe`'s block), or `/dev/null`.
    pub fn task(&self, seq: usize, inputs: &[String], stdin: Option<PathBuf>) -> Task {
        let retries = self.tries.saturating_sub(1);
        Task {
            timeout: self.timeout,
            retries,
            backoff: Backoff::Fixed(Duration::ZERO),
            stdin,
            ..Task::new(
                seq.to_string(),
                Action::Shell(self.template.fill(inputs, seq, self.quote)),
            )
        }
    }
}

/// The most bytes of one command line that `-m` and `-X` fill with inputs.
pub const MAX_LINE: usize = 128 * 1024;

/// `-m` / `-X`: the inputs spread over the jobs as evenly as `jobs` slots take them,
/// ⌈inputs / jobs⌉ to a job as GNU parallel spreads them, fewer where the command line
/// would pass [`MAX_LINE`] bytes. A job gets at least one input, however long.
pub fn pack_inputs(
    inputs: Vec<Vec<String>>,
    template: &Template,
    quote: bool,
    jobs: usize,
) -> Vec<Vec<String>> {
    let per_job = inputs.len().div_ceil(jobs.max(1));
    let base = template.fill(&[], 1, quote).len();
    let mut packed = Vec::new();
    let (mut job, mut count, mut len) = (Vec::new(), 0, base);
    for input in inputs {
        // What one more input adds to the line: its words and a space.
        let cost = template.fill(&input, 1, quote).len().saturating_sub(base) + 1;
        if count > 0 && (count == per_job || len + cost > MAX_LINE) {
            packed.push(std::mem::take(&mut job));
            (count, len) = (0, base);
        }
        job.extend(input);
        count += 1;
        len += cost;
    }
    if count > 0 {
        packed.push(job);
    }
    packed
}

/// The plan of a map whose jobs are `tasks` (task `i` is job `i + 1`; none when they
/// are added as the run goes).
pub fn map_plan(spec: &MapSpec, tasks: Vec<Task>) -> Plan {
    Plan {
        path: PathBuf::from("fanout map"),
        base_dir: spec.base_dir.clone(),
        settings: spec.settings(),
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
    fn packed_inputs_spread_evenly_and_fit_a_command_line() {
        let inputs = |n: usize| (1..=n).map(|i| vec![i.to_string()]).collect::<Vec<_>>();
        let sizes = |packed: &[Vec<String>]| packed.iter().map(Vec::len).collect::<Vec<_>>();
        let echo = Template::parse("echo");
        // As GNU parallel spreads them: 7 over 2 slots, 10 over 3, 5 over 3.
        assert_eq!(sizes(&pack_inputs(inputs(7), &echo, true, 2)), [4, 3]);
        assert_eq!(sizes(&pack_inputs(inputs(10), &echo, true, 3)), [4, 4, 2]);
        assert_eq!(sizes(&pack_inputs(inputs(5), &echo, true, 3)), [2, 2, 1]);
        assert_eq!(
            pack_inputs(inputs(3), &echo, true, 1),
            [vec!["1", "2", "3"]]
        );
        assert!(pack_inputs(Vec::new(), &echo, true, 4).is_empty());
        // Long inputs: as many as fit, each line within the limit, every input once.
        let long: Vec<Vec<String>> = (0..100)
            .map(|i| vec![format!("{i:05}{}", "x".repeat(10_000))])
            .collect();
        let packed = pack_inputs(long.clone(), &echo, true, 1);
        assert!(packed.len() > 1);
        for job in &packed {
            assert!(echo.fill(job, 1, true).len() <= MAX_LINE, "{}", job.len());
        }
        assert_eq!(packed.concat(), long.concat());
        // One input longer than the limit still runs, alone.
        let huge = vec![vec!["y".repeat(MAX_LINE)], vec!["z".into()]];
        assert_eq!(sizes(&pack_inputs(huge, &echo, true, 1)), [1, 1]);
    }

    #[test]
    fn one_task_per_job_in_order() {
        let spec = MapSpec {
            template: Template::parse("echo {#} {}"),
            quote: true,
            jobs: 4,
            timeout: Some(Duration::from_secs(2)),
            tries: 3,
            grace: Duration::from_millis(200),
            base_dir: PathBuf::from("/tmp"),
            max_load: Some(2.0),
            min_free_memory: Some(1 << 20),
        };
        let tasks = vec![
            spec.task(1, &["a b".into()], Some(PathBuf::from("/tmp/block-1"))),
            spec.task(2, &["c".into()], None),
        ];
        let plan = map_plan(&spec, tasks);
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
