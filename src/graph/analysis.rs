//! The analysis `fanout plan` shows: counts, waves, critical path, best speedup, conflict
//! groups and whether parallelism pays. Serializable; its JSON form is versioned.
//!
//! Pure arithmetic over the plan and its graph: nothing here runs, times or prints a task.
//! Reporters turn an [`Analysis`] into text, JSON or pictures.

use serde::Serialize;

use super::{Dag, conflict_groups, write_conflicts};
use crate::plan::{Action, Plan};

/// Version of the JSON form of [`Analysis`]; bump on incompatible change.
pub const ANALYSIS_SCHEMA_VERSION: u32 = 1;

/// Below this best speedup, parallelism is not worth the trouble.
const MARGINAL_SPEEDUP: f64 = 1.2;

/// What a plan's structure allows, before anything runs.
///
/// Weights are expected durations in seconds when the plan gives estimates, otherwise
/// every task weighs 1 and the unit is "tasks".
///
/// The best speedup is `total_work / lower_bound`, where
/// `lower_bound = max(critical_path.weight, total_work / jobs, heaviest conflict group)`:
/// no schedule finishes before its heaviest chain, before `jobs` slots could get through
/// all the work, or before the tasks of a conflict group ran one after another (the sum
/// of their weights). The last term treats a whole group as serialized, which is exact
/// when its members all overlap each other and an estimate otherwise.
#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    /// Always [`ANALYSIS_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The plan file.
    pub plan: String,
    /// Number of tasks.
    pub tasks: usize,
    /// Number of dependency edges.
    pub edges: usize,
    /// Maximum number of tasks running at once.
    pub jobs: usize,
    /// Whether any task gave an estimate (weights are then seconds, else task counts).
    pub weighted: bool,
    /// The unit of every weight below.
    pub unit: WeightUnit,
    /// Task ids by wave: wave 0 has no dependencies, wave k waits at most for wave k-1.
    pub waves: Vec<Vec<String>>,
    /// Size of the largest wave.
    pub width: usize,
    /// The heaviest chain of dependencies.
    pub critical_path: CriticalPath,
    /// Sum of all weights: the time one job alone would take.
    pub total_work: f64,
    /// The earliest any schedule could finish (see the type's documentation).
    pub lower_bound: f64,
    /// `total_work / lower_bound` (1 when there is no work).
    pub best_speedup: f64,
    /// Groups of task ids linked by overlapping `writes`, each sorted in plan order.
    pub conflict_groups: Vec<Vec<String>>,
    /// Tasks whose action is a coding agent.
    pub agent_tasks: usize,
    /// Whether parallelism pays, and why not when it does not.
    pub verdict: Verdict,
}

/// The unit of weights in an [`Analysis`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightUnit {
    /// Estimated seconds.
    Seconds,
    /// Every task counts 1.
    Tasks,
}

/// The heaviest path through the graph.
#[derive(Clone, Debug, Serialize)]
pub struct CriticalPath {
    /// Task ids, first task first.
    pub tasks: Vec<String>,
    /// Sum of their weights.
    pub weight: f64,
}

/// Whether running in parallel pays, and why not when it does not.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Verdict {
    /// Running in parallel can be up to `best_speedup` times faster.
    Pays { best_speedup: f64 },
    /// The plan has no tasks.
    NoTasks,
    /// The plan has one task.
    SingleTask,
    /// The critical path holds all the work: each task waits for the one before.
    SingleChain,
    /// One conflict group holds every task, so they run one at a time.
    AllConflicting,
    /// Only one job may run; more jobs would allow up to `speedup_with_more_jobs`.
    OneJob { speedup_with_more_jobs: f64 },
    /// The best speedup is under 1.2×.
    Marginal { best_speedup: f64 },
}

impl Verdict {
    /// Whether parallelism pays.
    pub fn pays(&self) -> bool {
        matches!(self, Verdict::Pays { .. })
    }

    /// One line for people, e.g. "parallelism pays: up to 3.4× faster with 8 jobs".
    pub fn sentence(&self, jobs: usize) -> String {
        let jobs = plural(jobs, "job");
        match self {
            Verdict::Pays { best_speedup } => {
                format!(
                    "parallelism pays: up to {} faster with {jobs}",
                    speedup_label(*best_speedup)
                )
            }
            Verdict::NoTasks => "nothing to run: the plan has no tasks".to_owned(),
            Verdict::SingleTask => {
                "parallelism does not pay: the plan has a single task".to_owned()
            }
            Verdict::SingleChain => {
                "parallelism does not pay: the tasks form a single chain".to_owned()
            }
            Verdict::AllConflicting => "parallelism does not pay: every task's writes \
                                        overlap another's, so they run one at a time"
                .to_owned(),
            Verdict::OneJob {
                speedup_with_more_jobs,
            } => format!(
                "parallelism does not pay: only 1 job may run at a time \
                 (more jobs could make it up to {} faster)",
                speedup_label(*speedup_with_more_jobs)
            ),
            Verdict::Marginal { best_speedup } => {
                format!(
                    "parallelism does not pay: at best {} faster with {jobs}",
                    speedup_label(*best_speedup)
                )
            }
        }
    }
}

impl Analysis {
    /// The verdict as one line for people.
    pub fn verdict_sentence(&self) -> String {
        self.verdict.sentence(self.jobs)
    }
}

/// A speedup for people: one decimal, rounded down so that "up to" never promises more
/// than the bound (and 1.19 never reads as the 1.2 that would pay), e.g. "2.3×".
pub fn speedup_label(speedup: f64) -> String {
    // The small nudge keeps 2.0 computed as 1.999… from showing as 1.9.
    let tenths = (speedup * 10.0 + 1e-9).floor() / 10.0;
    format!("{tenths:.1}×")
}

/// The weights [`analyse`] expects: each task's estimate in seconds, else 1.
pub fn default_weights(plan: &Plan) -> Vec<f64> {
    plan.tasks
        .iter()
        .map(|t| t.estimate.map_or(1.0, |e| e.as_secs_f64()))
        .collect()
}

/// Analyses a plan. `weights[i]` is task i's expected duration in seconds.
pub fn analyse(plan: &Plan, dag: &Dag, weights: &[f64]) -> Analysis {
    let ids = |indices: &[usize]| -> Vec<String> {
        indices.iter().map(|&i| plan.tasks[i].id.clone()).collect()
    };
    let tasks = plan.tasks.len();
    let jobs = plan.settings.jobs.max(1);
    let weighted = plan.tasks.iter().any(|t| t.estimate.is_some());

    let waves = dag.waves();
    let (path, path_weight) = dag.critical_path(weights);
    let writes: Vec<Vec<String>> = plan.tasks.iter().map(|t| t.writes.clone()).collect();
    let groups = conflict_groups(&write_conflicts(&writes));

    let total_work: f64 = weights.iter().sum();
    let heaviest_group = groups
        .iter()
        .map(|g| g.iter().map(|&i| weights[i]).sum::<f64>())
        .fold(0.0, f64::max);
    let unbounded = path_weight.max(heaviest_group);
    let lower_bound = unbounded.max(total_work / jobs as f64);
    let speedup = |bound: f64| if bound > 0.0 { total_work / bound } else { 1.0 };
    let best_speedup = speedup(lower_bound);

    let verdict = if tasks == 0 {
        Verdict::NoTasks
    } else if tasks == 1 {
        Verdict::SingleTask
    } else if path.len() == tasks || (total_work > 0.0 && path_weight >= total_work * 0.999_999) {
        Verdict::SingleChain
    } else if groups.first().is_some_and(|g| g.len() == tasks) {
        Verdict::AllConflicting
    } else if jobs == 1 {
        Verdict::OneJob {
            speedup_with_more_jobs: speedup(unbounded),
        }
    } else if best_speedup < MARGINAL_SPEEDUP {
        Verdict::Marginal { best_speedup }
    } else {
        Verdict::Pays { best_speedup }
    };

    Analysis {
        schema_version: ANALYSIS_SCHEMA_VERSION,
        plan: plan.path.display().to_string(),
        tasks,
        edges: dag.edge_count(),
        jobs,
        weighted,
        unit: if weighted {
            WeightUnit::Seconds
        } else {
            WeightUnit::Tasks
        },
        width: waves.iter().map(Vec::len).max().unwrap_or(0),
        waves: waves.iter().map(|w| ids(w)).collect(),
        critical_path: CriticalPath {
            tasks: ids(&path),
            weight: path_weight,
        },
        total_work,
        lower_bound,
        best_speedup,
        conflict_groups: groups.iter().map(|g| ids(g)).collect(),
        agent_tasks: plan
            .tasks
            .iter()
            .filter(|t| matches!(t.action, Action::Agent { .. }))
            .count(),
        verdict,
    }
}

/// `1 task`, `2 tasks`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use indexmap::IndexMap;

    use super::*;
    use crate::plan::{Settings, Task};

    /// A task for tests: `run` is a shell command, `deps` are indices.
    fn task(id: &str, deps: &[usize]) -> Task {
        Task {
            deps: deps.to_vec(),
            ..Task::new(id, Action::Shell("true".to_owned()))
        }
    }

    /// A plan for tests with `jobs` slots.
    fn plan(tasks: Vec<Task>, jobs: usize) -> Plan {
        Plan {
            path: PathBuf::from("plans/test.toml"),
            base_dir: PathBuf::from("plans"),
            settings: Settings {
                jobs,
                ..Settings::default()
            },
            resources: IndexMap::new(),
            env: IndexMap::new(),
            tasks,
            agents: Default::default(),
        }
    }

    fn analysis_of(plan: &Plan) -> Analysis {
        let dag = Dag::new(plan.tasks.iter().map(|t| t.deps.clone()).collect()).unwrap();
        analyse(plan, &dag, &default_weights(plan))
    }

    fn with_writes(mut t: Task, writes: &[&str]) -> Task {
        t.writes = writes.iter().map(|w| (*w).to_owned()).collect();
        t
    }

    #[test]
    fn a_wide_plan_pays() {
        let p = plan(
            vec![
                task("build", &[]),
                task("a", &[0]),
                task("b", &[0]),
                task("c", &[0]),
                task("d", &[0]),
                task("pack", &[1, 2, 3, 4]),
            ],
            8,
        );
        let a = analysis_of(&p);
        assert_eq!(a.tasks, 6);
        assert_eq!(a.edges, 8);
        assert_eq!(a.width, 4);
        assert_eq!(a.waves.len(), 3);
        assert_eq!(a.critical_path.tasks, vec!["build", "a", "pack"]);
        assert_eq!(a.lower_bound, 3.0);
        assert_eq!(a.verdict, Verdict::Pays { best_speedup: 2.0 });
        assert_eq!(a.unit, WeightUnit::Tasks);
        assert_eq!(
            a.verdict_sentence(),
            "parallelism pays: up to 2.0× faster with 8 jobs"
        );
    }

    #[test]
    fn estimates_weigh_the_critical_path_and_jobs_bound_the_speedup() {
        let mut slow = task("slow", &[]);
        slow.estimate = Some(Duration::from_secs(10));
        let fast: Vec<Task> = (0..10).map(|i| task(&format!("f{i}"), &[])).collect();
        let p = plan(std::iter::once(slow).chain(fast).collect(), 2);
        let a = analysis_of(&p);
        assert!(a.weighted);
        assert_eq!(a.critical_path.tasks, vec!["slow"]);
        assert_eq!(a.total_work, 20.0);
        // max(10, 20 / 2) = 10.
        assert_eq!(a.lower_bound, 10.0);
        assert_eq!(a.verdict, Verdict::Pays { best_speedup: 2.0 });
    }

    #[test]
    fn conflict_groups_bound_the_speedup() {
        let p = plan(
            vec![
                with_writes(task("a", &[]), &["out/**"]),
                with_writes(task("b", &[]), &["out/b.txt"]),
                with_writes(task("c", &[]), &["out/c.txt"]),
                with_writes(task("d", &[]), &["elsewhere/d"]),
            ],
            4,
        );
        let a = analysis_of(&p);
        assert_eq!(a.conflict_groups, vec![vec!["a", "b", "c"]]);
        assert_eq!(a.lower_bound, 3.0);
        assert_eq!(
            a.verdict,
            Verdict::Pays {
                best_speedup: 4.0 / 3.0
            }
        );
    }

    #[test]
    fn reasons_parallelism_does_not_pay() {
        let chain = plan(vec![task("a", &[]), task("b", &[0]), task("c", &[1])], 8);
        assert_eq!(analysis_of(&chain).verdict, Verdict::SingleChain);

        let single = plan(vec![task("a", &[])], 8);
        assert_eq!(analysis_of(&single).verdict, Verdict::SingleTask);

        let empty = plan(Vec::new(), 8);
        assert_eq!(analysis_of(&empty).verdict, Verdict::NoTasks);
        assert_eq!(analysis_of(&empty).best_speedup, 1.0);

        let clash = plan(
            vec![
                with_writes(task("a", &[]), &["x"]),
                with_writes(task("b", &[]), &["x"]),
            ],
            8,
        );
        assert_eq!(analysis_of(&clash).verdict, Verdict::AllConflicting);

        let one_job = plan(vec![task("a", &[]), task("b", &[])], 1);
        assert_eq!(
            analysis_of(&one_job).verdict,
            Verdict::OneJob {
                speedup_with_more_jobs: 2.0
            }
        );

        let mut long = task("long", &[]);
        long.estimate = Some(Duration::from_secs(20));
        let marginal = plan(vec![long, task("short", &[])], 8);
        let a = analysis_of(&marginal);
        assert_eq!(a.verdict, Verdict::Marginal { best_speedup: 1.05 });
        assert!(!a.verdict.pays());
        assert_eq!(
            a.verdict_sentence(),
            "parallelism does not pay: at best 1.0× faster with 8 jobs"
        );
    }

    #[test]
    fn speedups_round_down() {
        assert_eq!(speedup_label(1.19), "1.1×");
        assert_eq!(speedup_label(7.0 / 3.0), "2.3×");
        assert_eq!(speedup_label(0.3 * 3.0 / 0.9 * 2.0), "2.0×");
    }

    #[test]
    fn counts_agent_tasks() {
        let mut agent = task("review", &[]);
        agent.action = Action::Agent {
            prompt: "review the diff".to_owned(),
        };
        let p = plan(vec![agent, task("b", &[])], 2);
        assert_eq!(analysis_of(&p).agent_tasks, 1);
    }
}
