//! Collecting a run's summary from its events: one [`TaskRecord`] per selected task,
//! brought up to date as attempts start and end, and the run's figures when it finishes.
//! Tasks added during the run (`fanout map`'s jobs) that plainly succeeded are folded into
//! the figures as they end, so that a long feed of them keeps no record of each.

use std::collections::BTreeMap;
use std::time::Duration;

use super::summary::{
    AgentSpend, Counts, CriticalPath, RUN_SCHEMA_VERSION, RunSummary, TaskRecord, TaskStatus,
    overlaps, worktree_record,
};
use crate::events::{AttemptStatus, Event, EventSink};
use crate::graph::Dag;
use crate::plan::Plan;

/// Builds a [`RunSummary`] from the events of a run.
#[derive(Debug)]
pub struct SummaryCollector {
    summary: RunSummary,
    /// Position in `summary.tasks` of each plan task, if selected.
    slot: Vec<Option<usize>>,
    /// Records of the selected tasks added during the run, until folded into `folded`.
    fed: BTreeMap<usize, TaskRecord>,
    folded: Folded,
}

/// Tasks added during the run that succeeded, as figures.
#[derive(Debug, Default)]
struct Folded {
    succeeded: usize,
    flaky: usize,
    task_time: Duration,
    /// The longest of them: its duration and id.
    longest: Option<(Duration, String)>,
}

impl SummaryCollector {
    /// `selected[i]`: task i takes part in the run.
    pub fn new(plan: &Plan, selected: &[bool]) -> Self {
        Self::with_restored(plan, selected, &vec![false; plan.tasks.len()])
    }

    /// Like [`SummaryCollector::new`], with `restored[i]`: task i succeeded in the run
    /// being resumed and is reported as such without running.
    pub fn with_restored(plan: &Plan, selected: &[bool], restored: &[bool]) -> Self {
        let mut slot = vec![None; plan.tasks.len()];
        let mut tasks = Vec::new();
        for (i, task) in plan.tasks.iter().enumerate() {
            if selected[i] || restored[i] {
                slot[i] = Some(tasks.len());
                let status = if restored[i] {
                    TaskStatus::Restored
                } else {
                    TaskStatus::NotRun
                };
                tasks.push(new_record(task.id.clone(), i, status));
            }
        }
        SummaryCollector {
            summary: RunSummary {
                schema_version: RUN_SCHEMA_VERSION,
                run_id: String::new(),
                plan: plan.path.clone(),
                jobs: 1,
                started_at: None,
                wall: Duration::ZERO,
                task_time: Duration::ZERO,
                speedup: 0.0,
                efficiency: 0.0,
                critical_path: CriticalPath {
                    tasks: Vec::new(),
                    duration: Duration::ZERO,
                },
                lower_bound: Duration::ZERO,
                wall_over_lower_bound: 0.0,
                counts: Counts::default(),
                interrupted: false,
                stop: None,
                tasks,
                overlaps: Vec::new(),
                agents: None,
                agent_notes: Vec::new(),
            },
            slot,
            fed: BTreeMap::new(),
            folded: Folded::default(),
        }
    }

    fn record(&mut self, index: usize) -> Option<&mut TaskRecord> {
        match self.slot.get(index) {
            Some(slot) => self.summary.tasks.get_mut((*slot)?),
            None => self.fed.get_mut(&index),
        }
    }

    /// Folds task `index`, added during the run and ended for good, into the figures if
    /// it simply succeeded: nothing of it would be shown on its own.
    fn fold(&mut self, index: usize) {
        let plain = self.fed.get(&index).is_some_and(|r| {
            r.status == TaskStatus::Succeeded && r.agent.is_none() && r.worktree.is_none()
        });
        if !plain {
            return;
        }
        let r = self.fed.remove(&index).expect("checked above");
        let f = &mut self.folded;
        f.succeeded += 1;
        f.flaky += usize::from(r.is_flaky());
        f.task_time += r.duration;
        if f.longest.as_ref().is_none_or(|(d, _)| r.duration > *d) {
            f.longest = Some((r.duration, r.id));
        }
    }

    /// How many records are held, for tests of bounded memory.
    pub fn held_records(&self) -> usize {
        self.summary.tasks.len() + self.fed.len()
    }

    /// The summary so far (complete after `RunFinished`), with the derived figures
    /// computed over `dag`.
    pub fn finish(mut self, dag: &Dag) -> RunSummary {
        let planned = self.summary.tasks.len();
        self.summary
            .tasks
            .extend(std::mem::take(&mut self.fed).into_values());
        let folded = std::mem::take(&mut self.folded);
        let s = &mut self.summary;
        let mut counts = Counts {
            total: s.tasks.len() + folded.succeeded,
            succeeded: folded.succeeded,
            flaky: folded.flaky,
            ..Counts::default()
        };
        for t in &s.tasks {
            match t.status {
                TaskStatus::Succeeded => counts.succeeded += 1,
                TaskStatus::Cached => counts.cached += 1,
                TaskStatus::Restored => counts.restored += 1,
                TaskStatus::Failed => counts.failed += 1,
                TaskStatus::TimedOut => counts.timed_out += 1,
                TaskStatus::Errored => counts.errored += 1,
                TaskStatus::Skipped => counts.skipped += 1,
                TaskStatus::Cancelled => counts.cancelled += 1,
                TaskStatus::NotRun => counts.not_run += 1,
                TaskStatus::MergeConflict => counts.merge_conflict += 1,
            }
        }
        counts.flaky += s.tasks.iter().filter(|t| t.is_flaky()).count();
        s.counts = counts;
        s.overlaps = overlaps(&s.tasks);
        s.task_time = s.tasks.iter().map(|t| t.duration).sum::<Duration>() + folded.task_time;
        for t in &s.tasks {
            if let Some(spend) = &t.agent {
                s.agents
                    .get_or_insert_with(AgentSpend::default)
                    .merge(spend);
            }
        }
        let wall = s.wall.as_secs_f64();
        s.speedup = if wall > 0.0 {
            s.task_time.as_secs_f64() / wall
        } else {
            0.0
        };
        s.efficiency = s.speedup / s.jobs.max(1) as f64;

        let mut weights = vec![0.0; dag.len()];
        for t in &s.tasks[..planned] {
            weights[t.index] = t.duration.as_secs_f64();
        }
        let (path, mut weight) = dag.critical_path(&weights);
        let mut path: Vec<String> = path
            .into_iter()
            .filter(|&i| weights[i] > 0.0)
            .filter_map(|i| self.slot[i].map(|k| s.tasks[k].id.clone()))
            .collect();
        // Tasks added during the run depend on none: each is a path of its own.
        let fed = s.tasks[planned..].iter().map(|t| (t.duration, &t.id));
        for (duration, id) in fed.chain(folded.longest.as_ref().map(|(d, id)| (*d, id))) {
            let w = duration.as_secs_f64();
            if w > weight {
                (path, weight) = (vec![id.clone()], w);
            }
        }
        s.critical_path = CriticalPath {
            tasks: path,
            duration: Duration::from_secs_f64(weight),
        };
        let per_job = s.task_time.as_secs_f64() / s.jobs.max(1) as f64;
        s.lower_bound = Duration::from_secs_f64(weight.max(per_job));
        s.wall_over_lower_bound = if s.lower_bound.is_zero() {
            0.0
        } else {
            wall / s.lower_bound.as_secs_f64()
        };
        self.summary
    }
}

impl EventSink for SummaryCollector {
    fn emit(&mut self, event: &Event) {
        match event {
            Event::RunStarted {
                run_id, jobs, at, ..
            } => {
                self.summary.run_id = run_id.clone();
                self.summary.jobs = *jobs;
                self.summary.started_at = Some(*at);
            }
            Event::TaskAdded {
                index,
                task,
                selected,
            } => {
                if *selected {
                    let record = new_record(task.clone(), *index, TaskStatus::NotRun);
                    self.fed.insert(*index, record);
                }
            }
            Event::TaskStarted {
                index,
                attempt,
                at,
                offset,
                ..
            } => {
                if let Some(r) = self.record(*index) {
                    r.attempts = *attempt;
                    r.start.get_or_insert(*at);
                    r.start_offset.get_or_insert(*offset);
                }
            }
            Event::AttemptFinished {
                index,
                status,
                duration,
                at,
                offset,
                log,
                agent,
                hashing,
                retry_in,
                ..
            } => {
                if let Some(r) = self.record(*index) {
                    r.ran_because = hashing.as_ref().and_then(|h| h.changed.clone());
                    if let Some(result) = agent {
                        r.agent.get_or_insert_with(AgentSpend::default).add(result);
                    }
                    r.duration += *duration;
                    r.end = Some(*at);
                    r.end_offset = Some(*offset);
                    r.log.clone_from(log);
                    r.exit_code = None;
                    r.signal = None;
                    r.error = None;
                    r.status = match status {
                        AttemptStatus::Success => TaskStatus::Succeeded,
                        AttemptStatus::Cached { .. } => TaskStatus::Cached,
                        AttemptStatus::Failed { exit_code } => {
                            r.exit_code = Some(*exit_code);
                            TaskStatus::Failed
                        }
                        AttemptStatus::Signaled { signal } => {
                            r.signal = Some(*signal);
                            TaskStatus::Failed
                        }
                        AttemptStatus::TimedOut { .. } => TaskStatus::TimedOut,
                        AttemptStatus::SpawnFailed { message } => {
                            r.error = Some(message.clone());
                            TaskStatus::Errored
                        }
                        AttemptStatus::AgentFailed { message } => {
                            r.error = Some(message.clone());
                            TaskStatus::Failed
                        }
                        AttemptStatus::Cancelled => TaskStatus::Cancelled,
                        AttemptStatus::MergeConflict { .. } => TaskStatus::MergeConflict,
                        AttemptStatus::WorkspaceFailed { message } => {
                            r.error = Some(message.clone());
                            TaskStatus::Errored
                        }
                    };
                }
                if retry_in.is_none() {
                    self.fold(*index);
                }
            }
            Event::WorkspaceFinished { index, outcome, .. } => {
                if let Some(r) = self.record(*index) {
                    r.changed = outcome.changed().to_vec();
                    r.merge_order = outcome.order();
                    r.worktree = Some(worktree_record(outcome));
                }
            }
            Event::TaskSkipped { index, because, .. } => {
                if let Some(r) = self.record(*index) {
                    r.status = TaskStatus::Skipped;
                    r.skipped_because = Some(because.clone());
                }
            }
            Event::RunStopping { cause } => {
                if self.summary.stop.is_none() {
                    self.summary.stop = Some(cause.clone());
                }
            }
            Event::RunFinished {
                wall, interrupted, ..
            } => {
                self.summary.wall = *wall;
                self.summary.interrupted = *interrupted;
            }
            Event::TaskWithheld { index, reason, .. } => {
                if let Some(r) = self.record(*index) {
                    r.status = TaskStatus::NotRun;
                    r.withheld = Some(reason.clone());
                }
            }
            Event::LimitChanged { limit, reason, .. } => {
                self.summary
                    .agent_notes
                    .push(format!("limit `{limit}`: {reason}"));
            }
            Event::BudgetWarning {
                spent_usd,
                spent_tokens,
                budget_usd,
                budget_tokens,
            } => {
                self.summary.agent_notes.push(budget_note(
                    *spent_usd,
                    *spent_tokens,
                    *budget_usd,
                    *budget_tokens,
                ));
            }
            Event::SerialRetry { .. }
            | Event::KillingNow
            | Event::AttemptSpawned { .. }
            | Event::TaskSlow { .. }
            | Event::OutputLine { .. }
            | Event::HeldBack { .. }
            | Event::Suspended { .. } => {}
        }
    }
}

/// "spent $15.20 of $20.00 (76%)".
pub(crate) fn budget_note(
    spent_usd: f64,
    spent_tokens: u64,
    budget_usd: Option<f64>,
    budget_tokens: Option<u64>,
) -> String {
    let mut parts = Vec::new();
    if let Some(b) = budget_usd {
        let share = if b > 0.0 {
            spent_usd / b * 100.0
        } else {
            100.0
        };
        parts.push(format!("${spent_usd:.2} of ${b:.2} ({share:.0}%)"));
    }
    if let Some(b) = budget_tokens {
        let share = if b > 0 {
            spent_tokens as f64 / b as f64 * 100.0
        } else {
            100.0
        };
        parts.push(format!("{spent_tokens} of {b} tokens ({share:.0}%)"));
    }
    format!("budget: spent {}", parts.join(", "))
}

/// The record of a task that has not started.
fn new_record(id: String, index: usize, status: TaskStatus) -> TaskRecord {
    TaskRecord {
        id,
        index,
        status,
        exit_code: None,
        signal: None,
        attempts: 0,
        start: None,
        end: None,
        duration: Duration::ZERO,
        log: None,
        skipped_because: None,
        agent: None,
        withheld: None,
        error: None,
        ran_because: None,
        changed: Vec::new(),
        worktree: None,
        merge_order: None,
        start_offset: None,
        end_offset: None,
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    fn finished(index: usize, attempt: u32, status: AttemptStatus, ms: u64, retry: bool) -> Event {
        let mut event =
            Event::test_finished(index, attempt, status, retry.then_some(Duration::ZERO));
        if let Event::AttemptFinished { duration, .. } = &mut event {
            *duration = Duration::from_millis(ms);
        }
        event
    }

    fn started(index: usize, attempt: u32) -> Event {
        Event::TaskStarted {
            index,
            task: (index + 1).to_string(),
            attempt,
            slot: 1,
            at: SystemTime::UNIX_EPOCH,
            offset: Duration::ZERO,
        }
    }

    #[test]
    fn tasks_added_during_the_run_that_succeed_are_folded_into_the_figures() {
        let plan = Plan {
            path: "map".into(),
            base_dir: ".".into(),
            settings: crate::plan::Settings::default(),
            resources: Default::default(),
            env: Default::default(),
            tasks: Vec::new(),
            agents: Default::default(),
        };
        let mut c = SummaryCollector::new(&plan, &[]);
        for index in 0..4 {
            c.emit(&Event::TaskAdded {
                index,
                task: (index + 1).to_string(),
                selected: index != 3,
            });
        }
        c.emit(&started(0, 1));
        c.emit(&finished(0, 1, AttemptStatus::Success, 30, false));
        c.emit(&started(1, 1));
        c.emit(&finished(
            1,
            1,
            AttemptStatus::Failed { exit_code: 2 },
            10,
            false,
        ));
        c.emit(&started(2, 1));
        c.emit(&finished(
            2,
            1,
            AttemptStatus::Failed { exit_code: 1 },
            50,
            true,
        ));
        // Until it ended for good, the retried task keeps its record.
        assert_eq!(c.held_records(), 2);
        c.emit(&started(2, 2));
        c.emit(&finished(2, 2, AttemptStatus::Success, 20, false));
        // Only the failure is left to show on its own.
        assert_eq!(c.held_records(), 1);

        let s = c.finish(&Dag::new(Vec::new()).unwrap());
        assert_eq!(
            (
                s.counts.total,
                s.counts.succeeded,
                s.counts.failed,
                s.counts.flaky
            ),
            (3, 2, 1, 1)
        );
        assert_eq!(s.task_time, Duration::from_millis(110));
        assert_eq!(s.critical_path.tasks, ["3"]);
        assert_eq!(s.critical_path.duration, Duration::from_millis(70));
        let failed: Vec<_> = s
            .tasks
            .iter()
            .map(|t| (t.id.as_str(), t.exit_code))
            .collect();
        assert_eq!(failed, [("2", Some(2))]);
    }
}
