//! A map as a plan: one task per job, in job order, no dependencies, so the engine's
//! runner runs it like any other plan. The task id is the job number. Jobs read as the
//! run goes are the same tasks, added to the run as they come.

use std::path::PathBuf;
use std::time::Duration;

use indexmap::IndexMap;

use super::replace::Template;
use crate::bytes::encoded_len;
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
    /// Where jobs run.
    pub base_dir: PathBuf,
    /// No job starts while this many processes or more are runnable (`--load`).
    pub max_load: Option<f64>,
    /// No job starts while less memory than this, in bytes, is available (`--memfree`).
    pub min_free_memory: Option<u64>,
    /// Running jobs are stopped while less than twice this memory, in bytes, is available
    /// (`--memsuspend`).
    pub mem_suspend: Option<u64>,
    /// No job starts while the machine swaps (`--noswap`).
    pub no_swap: bool,
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
            retry_failed_serially: false,
            systemic_failure_stop: false,
            max_load: self.max_load,
            min_free_memory: self.min_free_memory,
            mem_suspend: self.mem_suspend,
            no_swap: self.no_swap,
            // No reporter of map's tells of slow jobs: the run need not watch for them.
            slow: None,
            ..Settings::default()
        }
    }

    /// Job `seq` (from 1): the template filled with its `inputs`; `stdin`, a file it
    /// reads on stdin (`--pipe`'s block), or `/dev/null`. And whether a `{= perl =}`
    /// string skipped it.
    pub fn task(&self, seq: usize, inputs: &[String], stdin: Option<PathBuf>) -> (Task, bool) {
        let retries = self.tries.saturating_sub(1);
        let (command, skip) = self.template.fill_job(inputs, seq, self.quote);
        let task = Task {
            timeout: self.timeout,
            retries,
            backoff: Backoff::Fixed(Duration::ZERO),
            stdin,
            ..Task::new(seq.to_string(), Action::Shell(command))
        };
        (task, skip)
    }
}

/// The most bytes of one command line that `-m`, `-X` and `--xargs` fill with inputs,
/// unless `-s` says otherwise: Linux's limit on one argument (`sh -c` gets the whole line
/// as one).
pub const MAX_LINE: usize = 128 * 1024;

/// A command line longer than the limit, with one input alone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("command line too long ({len} >= {limit}) at input {number}: {input}")]
pub struct TooLong {
    pub len: usize,
    pub limit: usize,
    /// The input's position, from 1.
    pub number: usize,
    pub input: String,
}

/// `-m`, `-X`, `--xargs`: each job as many inputs as fit on a command line shorter than
/// `limit` bytes, as GNU parallel fills them. With `spread` (`-m`, `-X`), once the inputs
/// left fit on one line they are spread over the `jobs` slots instead, ⌈left / jobs⌉ to a
/// job, and every later job takes as many. `most` (`-L`) caps the inputs of a line. An
/// input too long for a line of its own is an error, as in GNU parallel.
pub fn pack_inputs(
    inputs: Vec<Vec<String>>,
    template: &Template,
    quote: bool,
    jobs: usize,
    spread: bool,
    most: Option<usize>,
    limit: usize,
) -> Result<Vec<Vec<String>>, TooLong> {
    // What an input adds to a line that has others: its words, and a space before them
    // wherever the inputs go; measured as the line with it twice less the line with it
    // once (a line with no inputs at all is not the line less its inputs: `-X` keeps a
    // word of its own there).
    let gaps = template.input_places();
    let added = |input: &[String]| {
        let once = encoded_len(&template.fill(input, 1, quote));
        let twice = encoded_len(&template.fill(&[input, input].concat(), 1, quote));
        twice.saturating_sub(once + gaps)
    };
    let base = match inputs.first() {
        Some(first) => encoded_len(&template.fill(first, 1, quote)).saturating_sub(added(first)),
        None => 0,
    };
    let mut queue: std::collections::VecDeque<Vec<String>> = inputs.into();
    let mut packed = Vec::new();
    let mut per_job: Option<usize> = most.map(|n| n.max(1));
    let mut spread_done = !spread;
    let mut number = 0;
    while let Some(first) = queue.pop_front() {
        number += 1;
        let mut len = base + added(&first);
        if len >= limit {
            return Err(TooLong {
                len,
                limit,
                number,
                input: first.join(" "),
            });
        }
        let mut job = vec![first];
        while per_job.is_none_or(|most| job.len() < most) {
            let Some(next) = queue.front() else {
                break;
            };
            let longer = len + added(next) + gaps;
            if longer >= limit {
                break;
            }
            len = longer;
            job.extend(queue.pop_front());
            number += 1;
        }
        if !spread_done && queue.is_empty() {
            spread_done = true;
            if job.len() > 1 {
                let most = job.len().div_ceil(jobs.max(1));
                per_job = Some(most);
                for input in job.split_off(most).into_iter().rev() {
                    number -= 1;
                    queue.push_front(input);
                }
            }
        }
        packed.push(job.concat());
    }
    Ok(packed)
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
    fn packed_inputs_fill_lines_then_spread_as_gnu_parallel_does() {
        let inputs = |n: usize| (1..=n).map(|i| vec![i.to_string()]).collect::<Vec<_>>();
        let sizes = |packed: &[Vec<String>]| packed.iter().map(Vec::len).collect::<Vec<_>>();
        let echo = Template::parse("echo");
        let pack =
            |n, jobs, spread, limit| pack_inputs(inputs(n), &echo, true, jobs, spread, None, limit);
        // All fit on one line: spread over the slots, ⌈n / jobs⌉ to a job.
        assert_eq!(sizes(&pack(7, 2, true, MAX_LINE).unwrap()), [4, 3]);
        assert_eq!(sizes(&pack(10, 3, true, MAX_LINE).unwrap()), [4, 4, 2]);
        assert_eq!(sizes(&pack(5, 3, true, MAX_LINE).unwrap()), [2, 2, 1]);
        assert_eq!(pack(3, 1, true, MAX_LINE).unwrap(), [vec!["1", "2", "3"]]);
        assert!(pack(0, 4, true, MAX_LINE).unwrap().is_empty());
        // Lines shorter than 12 bytes: "echo 1 2 3" (10) fits, then what is left (7, 8)
        // is spread over 2 slots.
        assert_eq!(sizes(&pack(8, 2, true, 12).unwrap()), [3, 3, 1, 1]);
        // --xargs: full lines, no spreading.
        assert_eq!(sizes(&pack(11, 2, false, 10).unwrap()), [2, 2, 2, 2, 2, 1]);
        // -L caps the inputs of a line; the spreading at the end goes on under it.
        let capped = |n, jobs, spread| {
            pack_inputs(inputs(n), &echo, true, jobs, spread, Some(2), MAX_LINE).unwrap()
        };
        assert_eq!(sizes(&capped(4, 2, true)), [2, 1, 1]);
        assert_eq!(sizes(&capped(5, 2, false)), [2, 2, 1]);
        // Every line within the limit, every input once.
        let long: Vec<Vec<String>> = (0..100)
            .map(|i| vec![format!("{i:05}{}", "x".repeat(10_000))])
            .collect();
        let packed = pack_inputs(long.clone(), &echo, true, 1, true, None, MAX_LINE).unwrap();
        assert!(packed.len() > 1);
        for job in &packed {
            assert!(echo.fill(job, 1, true).len() < MAX_LINE, "{}", job.len());
        }
        assert_eq!(packed.concat(), long.concat());
        // The length counts every place the inputs go.
        let twice = Template::parse("echo {} {}");
        let packed = pack_inputs(inputs(9), &twice, true, 1, false, None, 20).unwrap();
        for job in &packed {
            assert!(twice.fill(job, 1, true).len() < 20, "{job:?}");
        }
        assert_eq!(packed.concat().len(), 9);
        // An input too long for a line of its own is an error.
        let err = pack(3, 1, false, 6).unwrap_err();
        assert_eq!((err.len, err.limit, err.number), (6, 6, 1));
        assert_eq!(
            err.to_string(),
            "command line too long (6 >= 6) at input 1: 1"
        );
    }

    #[test]
    fn one_task_per_job_in_order() {
        let spec = MapSpec {
            template: Template::parse("echo {#} {}"),
            quote: true,
            jobs: 4,
            timeout: Some(Duration::from_secs(2)),
            tries: 3,
            base_dir: PathBuf::from("/tmp"),
            max_load: Some(2.0),
            min_free_memory: Some(1 << 20),
            mem_suspend: Some(1 << 30),
            no_swap: true,
        };
        let tasks = vec![
            spec.task(1, &["a b".into()], Some(PathBuf::from("/tmp/block-1")))
                .0,
            spec.task(2, &["c".into()], None).0,
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
        assert_eq!(plan.settings.mem_suspend, Some(1 << 30));
        assert!(plan.settings.no_swap);
        assert_eq!(plan.tasks[0].stdin, Some(PathBuf::from("/tmp/block-1")));
        assert_eq!(plan.tasks[1].stdin, None);
    }
}
