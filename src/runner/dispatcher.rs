//! The dispatcher: the one loop that linearizes everything of a run with `tokio::select!`:
//! attempt ends, Ctrl-C / SIGTERM, and retry timers. It asks the scheduler what may start,
//! launches an executor unit per attempt, feeds outcomes back, and emits events in order.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

mod agent_turns;
mod pacing;
mod suspend;

use nix::sys::signal::Signal;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::agents::{AgentGate, AgentRun};
use super::cache::Cache;
use super::command::ExecPlan;
use super::executor::{
    AttemptEnd, AttemptSpec, StdinFrom, UnitNotice, UnitRequest, resolve_program, run_attempt,
};
use super::load::LoadGate;
use super::median::RunningMedian;
use super::rates::RateGate;
use super::workspace::Workspace;
use crate::events::{AttemptStatus, Event, EventSink, RunOutcome, StopCause};
use crate::graph::Dag;
use crate::plan::{FilePart, Isolation, Plan, Task};
use crate::scheduler::{
    Decision, Outcome, SYSTEMIC_FAILURE_THRESHOLD, Scheduler, SchedulerConfig, StopReason,
    TaskState,
};
use crate::window::Window;

/// How to run a plan.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub run_id: String,
    /// Directory for this run's log files (created if missing).
    pub log_dir: PathBuf,
    /// `selected[i]`: task i takes part (a dependency closure).
    pub selected: Vec<bool>,
    /// Expected seconds per task, for the critical-path priority.
    pub weights: Vec<f64>,
    /// Tasks that must not run alongside each task (overlapping writes).
    pub conflicts: Vec<Vec<usize>>,
    pub scheduler: SchedulerConfig,
    /// How a task's process group is terminated (a timeout, fail-fast, Ctrl-C).
    pub termination: Termination,
    /// Where to look for earlier results of tasks that declare inputs.
    pub cache: Option<Arc<dyn Cache>>,
    /// Cache keys of tasks that are not part of this run but finished earlier (resume).
    pub known_keys: Vec<Option<String>>,
    /// Keep each attempt's stderr apart from its stdout, in a log file of its own (see
    /// [`stderr_log_path`]). `false`: both go into the one log, interleaved as written.
    pub separate_stderr: bool,
    /// Emit each line of output as it is written ([`Event::OutputLine`]), besides the log.
    pub stream_lines: bool,
    /// Where tasks with `isolate = "worktree"` run; `None`: they run in place.
    pub workspace: Option<Arc<dyn Workspace>>,
    /// How to run the plan's agent tasks, and their limits and budget.
    pub agents: Option<Arc<AgentRun>>,
    /// The least time between one start and the next (`fanout map --delay`).
    pub start_delay: Option<Duration>,
    /// A shell command run before each start: exit 0 lets the task start; any other holds
    /// starts back, and it is asked again later (`fanout map --limit`).
    pub start_limit: Option<String>,
    /// Time out tasks without a timeout of their own after this percentage of the median
    /// duration of the successful attempts so far (`fanout map --timeout 200%`); none
    /// before the first success.
    pub timeout_percent: Option<f64>,
    /// The shell that runs shell strings that need one (a Bourne shell); `None`: `/bin/sh`.
    pub shell: Option<String>,
    /// Run every task this much nicer than fanout itself, through `nice -n` as GNU
    /// parallel does, so that all of a shell command's processes are (`fanout map --nice`).
    pub nice: Option<i32>,
    /// Also set this variable to each attempt's slot less one, counting from 0 (GNU
    /// parallel's `--process-slot-var`).
    pub slot_var: Option<String>,
    /// Also set this variable to each attempt's slot padded with zeros to this many
    /// digits (GNU parallel's `{0%}`).
    pub padded_slot_var: Option<(String, usize)>,
    /// Where the number of jobs may change while the run goes on (`fanout map -j FILE`):
    /// asked each time an attempt ends.
    pub jobs_source: Option<Arc<dyn JobsSource>>,
}

/// A number of jobs that may change while a run goes on.
pub trait JobsSource: Send + Sync {
    /// The number of jobs now, when it changed since it was last asked.
    fn changed(&self) -> Option<usize>;
}

impl std::fmt::Debug for dyn JobsSource + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dyn JobsSource")
    }
}

impl std::fmt::Debug for dyn Cache + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dyn Cache")
    }
}

/// Where an attempt's stderr goes when [`RunOptions::separate_stderr`] is set: beside its
/// log, with the extension `stderr` (`build.log` → `build.stderr`). Created at the first
/// byte, like the log.
pub fn stderr_log_path(log: &Path) -> PathBuf {
    log.with_extension("stderr")
}

/// How the run ended, for the exit code.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// Whether every selected task succeeded.
    pub all_succeeded: bool,
    pub interrupted: bool,
    pub wall: Duration,
    /// The most tasks whose state the run held at once. Tasks added during the run are
    /// let go of once they ended for good, so a long feed keeps this near the tasks
    /// running and waiting.
    pub peak_held: usize,
}

/// The log file name of a task's attempt (see [`crate::plan::safe_file_stem`]).
pub fn log_file_name(id: &str, index: usize, attempt: u32) -> String {
    let stem = crate::plan::safe_file_stem(id, index);
    if attempt <= 1 {
        format!("{stem}.log")
    } else {
        format!("{stem}.attempt{attempt}.log")
    }
}

/// How a task's process group is terminated: each signal in turn, each followed by a wait
/// of at most its duration for the group to end; then SIGKILL to whatever is left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Termination {
    pub steps: Vec<(Signal, Duration)>,
}

impl Termination {
    /// SIGTERM, and SIGKILL once `grace` has passed.
    pub fn after_grace(grace: Duration) -> Termination {
        Termination {
            steps: vec![(Signal::SIGTERM, grace)],
        }
    }

    /// A sequence written as GNU parallel's `--termseq`: signals (`TERM`, `SIGINT`, `9`)
    /// each followed by the milliseconds to wait after it, `TERM,200,KILL,25`.
    pub fn parse(text: &str) -> Result<Termination, String> {
        let items: Vec<&str> = text.split(',').map(str::trim).collect();
        if !items.len().is_multiple_of(2) || items.iter().any(|i| i.is_empty()) {
            return Err(format!(
                "`{text}` is not a termination sequence: give signals each followed by \
                 milliseconds, e.g. TERM,200,TERM,100,KILL,25"
            ));
        }
        let steps = items
            .chunks(2)
            .map(|pair| {
                let signal = parse_signal(pair[0])
                    .ok_or_else(|| format!("`{}` in `{text}` is not a signal", pair[0]))?;
                let ms: u64 = pair[1].parse().map_err(|_| {
                    format!("`{}` in `{text}` is not a number of milliseconds", pair[1])
                })?;
                Ok((signal, Duration::from_millis(ms)))
            })
            .collect::<Result<_, String>>()?;
        Ok(Termination { steps })
    }
}

/// A signal by name (`TERM`, `SIGTERM`, `term`) or number.
fn parse_signal(text: &str) -> Option<Signal> {
    if let Ok(number) = text.parse::<i32>() {
        return Signal::try_from(number).ok();
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse().ok()
}

/// How many more tasks than slots the run takes from its feed ahead of their start.
const FEED_BATCH: usize = 64;

/// A task to add to a run under way ([`run_fed`]). Unless `selected`, it only holds its
/// place (its index) and does not run.
#[derive(Clone, Debug)]
pub struct FedTask {
    pub task: Task,
    pub selected: bool,
}

/// Where a run gets tasks it did not have when it began: they arrive while it runs, and
/// the run ends once the sender is gone and all is done.
pub type TaskFeed = mpsc::Receiver<FedTask>;

/// A task of the plan, or one added while the run is under way.
enum TaskRef<'a> {
    Planned(&'a Task),
    Fed(Arc<Task>),
}

impl std::ops::Deref for TaskRef<'_> {
    type Target = Task;

    fn deref(&self) -> &Task {
        match self {
            TaskRef::Planned(task) => task,
            TaskRef::Fed(task) => task,
        }
    }
}

struct Dispatcher<'a> {
    plan: &'a Plan,
    /// Tasks added while the run is under way; task `plan.tasks.len() + k` is `fed[k]`,
    /// until it ended for good (`None`, and its id is kept in `fed_ids` until all before
    /// it ended too; then everything about them is let go of).
    fed: Window<Option<Arc<Task>>>,
    fed_ids: Window<String>,
    /// The first task whose attempt failed, for a stop that names it after it was let go.
    first_failure: Option<(usize, String)>,
    /// Every task of the plan itself has ended, so that nothing will ask about those
    /// added during the run any more once they ended.
    plan_ended: bool,
    /// See [`RunResult::peak_held`].
    peak_held: usize,
    /// Where more tasks come from, until it closes or the run stops.
    feed: Option<TaskFeed>,
    options: &'a RunOptions,
    /// How many tasks may run at once: the scheduler's, or what `options.jobs_source`
    /// said last.
    jobs: usize,
    /// `options.termination`, shared with every attempt.
    termination: Arc<Termination>,
    sink: &'a mut dyn EventSink,
    scheduler: Scheduler,
    started_at: Instant,
    units: JoinSet<AttemptEnd>,
    handles: HashMap<usize, mpsc::UnboundedSender<UnitRequest>>,
    notices: mpsc::UnboundedSender<UnitNotice>,
    /// Cache keys of tasks that finished, for their dependents' keys.
    keys: Window<Option<String>>,
    /// Programs already looked up on PATH.
    programs: HashMap<String, Option<PathBuf>>,
    /// The slot (1..=jobs) each running attempt holds, by task.
    slots: HashMap<usize, usize>,
    /// Slots given back, lowest first; slots above `slots_issued` were never used yet.
    free_slots: BinaryHeap<Reverse<usize>>,
    slots_issued: usize,
    interrupted: bool,
    /// Budget, rate limits and start spacing of agent tasks.
    gate: Option<AgentGate>,
    /// Rate limits of the other tasks.
    rates: Option<RateGate>,
    /// Holds new starts back while the machine is too busy (`max_cpu`, `max_memory`).
    load: Option<LoadGate>,
    /// Why starts are held back right now.
    held_back: Option<String>,
    /// When the last attempt started (for [`RunOptions::start_delay`]).
    last_launch: Option<Duration>,
    /// When running attempts are next due a slow notice: (due, task, attempt, started).
    slow_checks: BinaryHeap<Reverse<(Duration, usize, u32, Duration)>>,
    /// With [`RunOptions::timeout_percent`]: the successful attempts' durations.
    succeeded: RunningMedian,
    /// With `mem_suspend` in the settings: the running tasks to stop while memory is short.
    suspender: Option<suspend::Suspender>,
}

/// Runs the selected tasks of `plan` to the end (or until interrupted), emitting events.
pub async fn run(
    plan: &Plan,
    dag: &Dag,
    options: &RunOptions,
    sink: &mut dyn EventSink,
) -> std::io::Result<RunResult> {
    run_fed(plan, dag, options, None, sink).await
}

/// Like [`run`], and with `feed`, also the tasks that arrive on it while the run is under
/// way, each as it arrives ([`Event::TaskAdded`]), until the feed closes. They have no
/// dependencies, conflict with no task, and pass no rate limit.
pub async fn run_fed(
    plan: &Plan,
    dag: &Dag,
    options: &RunOptions,
    feed: Option<TaskFeed>,
    sink: &mut dyn EventSink,
) -> std::io::Result<RunResult> {
    std::fs::create_dir_all(&options.log_dir)?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigterm = signal(SignalKind::terminate())?;
    let (notices, mut notices_rx) = mpsc::unbounded_channel();
    let mut keys = options.known_keys.clone();
    keys.resize(plan.tasks.len(), None);
    let scheduler = Scheduler::new(
        plan,
        dag,
        &options.selected,
        &options.weights,
        &options.conflicts,
        options.scheduler.clone(),
    );
    let mut dispatcher = Dispatcher {
        plan,
        fed: Window::new(),
        fed_ids: Window::new(),
        first_failure: None,
        plan_ended: false,
        peak_held: 0,
        feed,
        options,
        jobs: options.scheduler.jobs,
        termination: Arc::new(options.termination.clone()),
        sink,
        scheduler,
        started_at: Instant::now(),
        units: JoinSet::new(),
        handles: HashMap::new(),
        notices,
        keys: keys.into(),
        programs: HashMap::new(),
        slots: HashMap::new(),
        free_slots: BinaryHeap::new(),
        slots_issued: 0,
        interrupted: false,
        gate: options.agents.as_deref().map(AgentGate::new),
        rates: RateGate::new(plan, options.agents.as_deref()),
        load: LoadGate::new(&plan.settings),
        held_back: None,
        last_launch: None,
        slow_checks: BinaryHeap::new(),
        succeeded: RunningMedian::default(),
        suspender: plan.settings.mem_suspend.map(suspend::Suspender::new),
    };
    dispatcher.sink.emit(&Event::RunStarted {
        run_id: options.run_id.clone(),
        plan: plan.path.clone(),
        tasks: options.selected.iter().filter(|s| **s).count(),
        jobs: options.scheduler.jobs,
        log_dir: options.log_dir.clone(),
        at: SystemTime::now(),
    });

    let mut interrupts = 0;
    loop {
        dispatcher.tell_slow();
        dispatcher.suspend_by_memory();
        let mut held_back = dispatcher.machine_busy();
        if !held_back {
            held_back = dispatcher.start_ready();
        }
        if dispatcher.scheduler.is_stopped() {
            // Tasks that arrive now would not run: stop taking them.
            dispatcher.feed = None;
        }
        if dispatcher.units.is_empty()
            && dispatcher.scheduler.is_finished()
            && dispatcher.feed.is_none()
        {
            break;
        }
        // What sinks must record before this turn's attempts spawn, they record now.
        dispatcher.sink.flush();
        let wakeup = dispatcher.wakeup(held_back);
        tokio::select! {
            biased;
            Some(notice) = notices_rx.recv() => dispatcher.notice(notice),
            Some(joined) = dispatcher.units.join_next() => {
                let end = joined.unwrap_or_else(|err| panic!("an executor unit failed: {err}"));
                dispatcher.attempt_ended(end);
            }
            fed = next_fed(&mut dispatcher.feed), if dispatcher.wants_tasks() => dispatcher.add_fed(fed),
            _ = sigint.recv() => { interrupts += 1; dispatcher.interrupt(interrupts); }
            _ = sigterm.recv() => { interrupts += 1; dispatcher.interrupt(interrupts); }
            () = sleep_until(wakeup) => {}
        }
    }

    // Notices of attempts that ended in the same turn as they spawned.
    while let Ok(notice) = notices_rx.try_recv() {
        dispatcher.notice(notice);
    }
    let wall = dispatcher.started_at.elapsed();
    let result = RunResult {
        all_succeeded: dispatcher.scheduler.all_succeeded(),
        interrupted: dispatcher.interrupted,
        wall,
        peak_held: dispatcher.peak_held.max(dispatcher.scheduler.held_tasks()),
    };
    dispatcher.sink.emit(&Event::RunFinished {
        at: SystemTime::now(),
        wall,
        interrupted: dispatcher.interrupted,
        outcome: if result.interrupted {
            RunOutcome::Interrupted
        } else if result.all_succeeded {
            RunOutcome::Succeeded
        } else {
            RunOutcome::Failed
        },
    });
    Ok(result)
}

/// The next task on `feed`; `None` once it closed. Pending forever without a feed.
async fn next_fed(feed: &mut Option<TaskFeed>) -> Option<FedTask> {
    match feed {
        Some(feed) => feed.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl<'a> Dispatcher<'a> {
    fn now(&self) -> Duration {
        self.started_at.elapsed()
    }

    /// Task `index`, which must not have ended for good if it was added during the run.
    fn task(&self, index: usize) -> TaskRef<'a> {
        match self.plan.tasks.get(index) {
            Some(task) => TaskRef::Planned(task),
            None => TaskRef::Fed(
                self.fed[index - self.plan.tasks.len()]
                    .clone()
                    .expect("a task added during the run is kept until it ends"),
            ),
        }
    }

    fn task_id(&self, index: usize) -> String {
        if let Some(task) = self.plan.tasks.get(index) {
            return task.id.clone();
        }
        match self.fed_ids.get(index - self.plan.tasks.len()) {
            Some(id) => id.clone(),
            None => match &self.first_failure {
                Some((first, id)) if *first == index => id.clone(),
                _ => format!("#{}", index + 1),
            },
        }
    }

    /// Lets go of task `index` if it was added during the run and has ended for good: a
    /// long feed keeps only the ids of the tasks done with.
    fn release(&mut self, index: usize) {
        let Some(k) = index.checked_sub(self.plan.tasks.len()) else {
            return;
        };
        let done = match self.scheduler.state(index) {
            TaskState::Succeeded | TaskState::Cancelled | TaskState::NotRun => true,
            TaskState::Failed => !self.options.scheduler.retry_failed_serially,
            _ => false,
        };
        if done {
            self.fed[k] = None;
            self.forget_ended();
        }
    }

    /// Lets go of the tasks added during the run that ended for good, oldest first, up to
    /// the first that has not; not while a failed task may still get a serial retry.
    fn forget_ended(&mut self) {
        if self.options.scheduler.retry_failed_serially {
            return;
        }
        let k = self.fed.forget_while(Option::is_none);
        if k == self.fed_ids.held().start || !self.plan_has_ended() {
            return;
        }
        self.peak_held = self.peak_held.max(self.scheduler.held_tasks());
        let index = self.plan.tasks.len() + k;
        self.fed_ids.forget_before(k);
        self.keys.forget_before(index);
        self.scheduler.forget_before(index);
    }

    fn plan_has_ended(&mut self) -> bool {
        self.plan_ended = self.plan_ended
            || (0..self.plan.tasks.len()).all(|i| self.scheduler.state(i).is_final());
        self.plan_ended
    }

    /// Whether to take more tasks from the feed: only while fewer are ready than the
    /// slots and a batch, so that a feed faster than its tasks waits in the feed (bounded)
    /// and not in the run, and is taken from a batch at a time rather than a task at a time.
    fn wants_tasks(&self) -> bool {
        self.scheduler.ready_count() < self.jobs.max(1) + FEED_BATCH
    }

    /// Takes in `fed` and whatever else the feed holds already, while it wants tasks;
    /// closes the feed at its end.
    fn add_fed(&mut self, fed: Option<FedTask>) {
        let Some(mut fed) = fed else {
            self.feed = None;
            return;
        };
        loop {
            let FedTask { task, selected } = fed;
            let index = self.scheduler.add_task(self.plan, &task, 1.0, selected);
            self.keys.push(None);
            self.sink.emit(&Event::TaskAdded {
                index,
                task: task.id.clone(),
                selected,
            });
            self.fed_ids.push(task.id.clone());
            // One that only holds its place is never needed again.
            self.fed.push(selected.then(|| Arc::new(task)));
            if !selected {
                self.forget_ended();
            }
            if !self.wants_tasks() {
                return;
            }
            match self.feed.as_mut().map(TaskFeed::try_recv) {
                Some(Ok(next)) => fed = next,
                Some(Err(mpsc::error::TryRecvError::Disconnected)) => {
                    self.feed = None;
                    return;
                }
                Some(Err(mpsc::error::TryRecvError::Empty)) | None => return,
            }
        }
    }

    /// Starts what may start now; whether the machine's load stopped it (then it looks
    /// again after a while).
    fn start_ready(&mut self) -> bool {
        while self.delay_end().is_none()
            && let Some(start) = self.scheduler.start_next(self.now())
        {
            if !self.rate_allows(start.task) || !self.admit(start.task) {
                continue;
            }
            if !self.limit_allows(start.task) {
                break;
            }
            self.launch(start.task, start.attempt);
            // With `mem_suspend`, a task may start while none runs whatever the memory:
            // the gate is asked again after each start, so that only one does.
            if self.suspender.is_some() && self.machine_busy() {
                return true;
            }
        }
        false
    }

    fn notice(&mut self, notice: UnitNotice) {
        match notice {
            UnitNotice::Spawned {
                index,
                attempt,
                pid,
                boot_ticks,
            } => {
                self.track_spawn(index, pid);
                self.sink.emit(&Event::AttemptSpawned {
                    index,
                    task: self.task_id(index),
                    attempt,
                    pid,
                    boot_ticks,
                });
            }
            UnitNotice::Terminating { index } => self.untrack(index),
            UnitNotice::Line {
                index,
                attempt,
                stderr,
                line,
            } => self.sink.emit(&Event::OutputLine {
                index,
                attempt,
                stderr,
                line,
            }),
        }
    }

    /// Attempt `attempt` of task `index` ends at once, as a program that cannot start: it
    /// has no command (validation keeps agent tasks and empty commands out of a run;
    /// should one get here).
    fn fail_to_start(&mut self, index: usize, attempt: u32, message: String) {
        let end = AttemptEnd {
            index,
            attempt,
            status: AttemptStatus::SpawnFailed { message },
            duration: Duration::ZERO,
            log: None,
            stderr_log: None,
            cache_key: None,
            hashing: None,
            workspace: None,
        };
        self.units.spawn(async move { end });
    }

    fn launch(&mut self, index: usize, attempt: u32) {
        let task = self.task(index);
        let log = self
            .options
            .log_dir
            .join(log_file_name(&task.id, index, attempt));
        let offset = self.now();
        self.launched(index, attempt, offset);
        // Given back when the attempt ends, however it ends.
        let slot = self.take_slot(index);
        self.sink.emit(&Event::TaskStarted {
            index,
            task: task.id.clone(),
            attempt,
            slot,
            at: SystemTime::now(),
            offset,
        });
        let stdin = match (self.agent_launch(index), &task.stdin) {
            (Some(launch), _) => launch
                .command
                .stdin
                .clone()
                .map_or(StdinFrom::Null, StdinFrom::Text),
            (None, Some(path)) if !task.stdin_ranges.is_empty() => {
                StdinFrom::Ranges(path.clone(), task.stdin_ranges.clone())
            }
            (None, Some(path)) => StdinFrom::File(path.clone()),
            (None, None) => StdinFrom::Null,
        };
        let judge = self.judge(index);
        let exec = self
            .agent_launch(index)
            .map(|l| ExecPlan {
                program: l.command.program.clone(),
                args: l.command.args.clone(),
            })
            .or_else(|| {
                let shell = self.options.shell.as_deref().unwrap_or("/bin/sh");
                ExecPlan::for_action_in(&task.action, shell)
            })
            .map(|exec| match self.options.nice {
                Some(increment) => exec.niced(increment),
                None => exec,
            });
        let Some(exec) = exec else {
            self.fail_to_start(index, attempt, "the task has no command to run".into());
            return;
        };
        // A plan or task that sets PATH gets exec's own search, with its PATH.
        let sets_path = self.plan.env.contains_key("PATH") || task.env.contains_key("PATH");
        let program_path = if sets_path {
            None
        } else {
            self.programs
                .entry(exec.program.clone())
                .or_insert_with(|| {
                    resolve_program(&exec.program, std::env::var_os("PATH").as_deref())
                })
                .clone()
        };
        let cache = match &self.options.cache {
            Some(cache) if !task.inputs.is_empty() => {
                let dep_keys = task.deps.iter().map(|&d| self.keys[d].clone()).collect();
                Some((cache.clone(), dep_keys))
            }
            _ => None,
        };
        let mut env = self.task_env(index, attempt);
        push_slot_env(&mut env, index, slot);
        if let Some(name) = &self.options.slot_var {
            env.push((name.clone(), (slot - 1).to_string()));
        }
        if let Some((name, width)) = &self.options.padded_slot_var {
            env.push((name.clone(), format!("{slot:0width$}")));
        }
        let stderr_log = self.options.separate_stderr.then(|| stderr_log_path(&log));
        let spec = AttemptSpec {
            index,
            attempt,
            exec,
            program_path,
            cache,
            notices: self.notices.clone(),
            stream_lines: self.options.stream_lines,
            judge,
            env,
            stdin,
            stderr_log,
            cwd: resolve_cwd(&self.plan.base_dir, task.cwd.as_deref()),
            log: log.clone(),
            timeout: task.timeout.or_else(|| self.relative_timeout()),
            termination: self.termination.clone(),
            // The files the attempt reads, with its slot in them.
            files: task
                .files
                .iter()
                .map(|file| {
                    let name = FilePart::render(&file.name, slot);
                    (
                        crate::bytes::to_os(&name).into(),
                        FilePart::render(&file.contents, slot),
                    )
                })
                .collect(),
            workspace: match task.isolate {
                Isolation::Worktree => self.options.workspace.clone(),
                Isolation::None => None,
            },
        };
        let (tx, rx) = mpsc::unbounded_channel();
        self.handles.insert(index, tx);
        self.units.spawn(run_attempt(spec, rx));
    }

    fn task_env(&self, index: usize, attempt: u32) -> Vec<(String, String)> {
        let task = self.task(index);
        let mut env: Vec<(String, String)> = self
            .plan
            .env
            .iter()
            .chain(task.env.iter())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        env.push(("FANOUT_TASK_ID".into(), task.id.clone()));
        env.push(("FANOUT_RUN_ID".into(), self.options.run_id.clone()));
        env.push(("FANOUT_ATTEMPT".into(), attempt.to_string()));
        env
    }

    fn attempt_ended(&mut self, end: AttemptEnd) {
        let AttemptEnd {
            index,
            attempt,
            status,
            duration,
            log,
            stderr_log,
            cache_key,
            hashing,
            workspace,
        } = end;
        self.handles.remove(&index);
        self.untrack(index);
        if let Some(outcome) = workspace {
            self.sink.emit(&Event::WorkspaceFinished {
                index,
                task: self.task_id(index),
                attempt,
                outcome,
            });
        }
        self.keys[index].clone_from(&cache_key);
        if let Some(slot) = self.slots.remove(&index) {
            self.free_slots.push(Reverse(slot));
        }
        let (status, agent, agent_events) = self.agent_ended(index, status, log.as_deref());
        if status == AttemptStatus::Success && self.options.timeout_percent.is_some() {
            self.succeeded.add(duration);
        }
        let outcome = match &status {
            AttemptStatus::Success | AttemptStatus::Cached { .. } => Outcome::Success,
            AttemptStatus::Cancelled => Outcome::Cancelled,
            _ => Outcome::Failure,
        };
        let rate_limited = agent
            .as_ref()
            .and_then(|a| a.rate_limited)
            .filter(|_| outcome == Outcome::Failure);
        let decisions = match (rate_limited, &self.gate) {
            (Some(hint), Some(gate)) => {
                let delay = gate.rate_limit_delay(index, hint.retry_after);
                self.scheduler.rate_limited(index, delay, self.now())
            }
            _ => self.scheduler.finished(index, outcome, self.now()),
        };
        if outcome == Outcome::Failure && self.first_failure.is_none() {
            self.first_failure = Some((index, self.task_id(index)));
        }
        let retry_in = decisions.iter().find_map(|d| match d {
            Decision::Retry { task, delay, .. } if *task == index => Some(*delay),
            _ => None,
        });
        self.sink.emit(&Event::AttemptFinished {
            index,
            task: self.task_id(index),
            attempt,
            status,
            duration,
            at: SystemTime::now(),
            offset: self.now(),
            log,
            stderr_log,
            retry_in,
            cache_key,
            hashing,
            agent: agent.map(Box::new),
        });
        for event in &agent_events {
            self.sink.emit(event);
        }
        self.apply(decisions);
        self.release(index);
        if let Some(jobs) = self.options.jobs_source.as_ref().and_then(|s| s.changed()) {
            self.jobs = jobs;
            self.scheduler.set_jobs(jobs);
        }
    }

    fn apply(&mut self, decisions: Vec<Decision>) {
        for decision in decisions {
            match decision {
                Decision::Retry { .. } => {}
                Decision::Skipped { task, because } => self.sink.emit(&Event::TaskSkipped {
                    index: task,
                    task: self.task_id(task),
                    because: self.task_id(because),
                }),
                Decision::SerialRetry { task } => self.sink.emit(&Event::SerialRetry {
                    index: task,
                    task: self.task_id(task),
                }),
                Decision::Stop { reason } => {
                    let cause = match reason {
                        StopReason::FailFast { task } => {
                            self.request_all(UnitRequest::Terminate);
                            StopCause::FailFast {
                                task: self.task_id(task),
                            }
                        }
                        StopReason::Systemic { first } => StopCause::Systemic {
                            first_task: self.task_id(first),
                            count: SYSTEMIC_FAILURE_THRESHOLD,
                        },
                        StopReason::Interrupted => {
                            self.request_all(UnitRequest::Terminate);
                            StopCause::Interrupted
                        }
                        StopReason::Halt { task, now } => {
                            if now {
                                self.request_all(UnitRequest::Terminate);
                            }
                            StopCause::Halt {
                                task: self.task_id(task),
                                now,
                            }
                        }
                    };
                    self.sink.emit(&Event::RunStopping { cause });
                }
            }
        }
    }

    /// The lowest slot number no running attempt holds.
    fn take_slot(&mut self, index: usize) -> usize {
        let slot = match self.free_slots.pop() {
            Some(Reverse(slot)) => slot,
            None => {
                self.slots_issued += 1;
                self.slots_issued
            }
        };
        self.slots.insert(index, slot);
        slot
    }

    fn interrupt(&mut self, count: u32) {
        self.interrupted = true;
        if count == 1 {
            // The scheduler answers with a stop, whose handling terminates running units.
            let decisions = self.scheduler.stop(StopReason::Interrupted);
            self.apply(decisions);
        } else {
            self.sink.emit(&Event::KillingNow);
            self.request_all(UnitRequest::Kill);
        }
    }

    fn request_all(&mut self, request: UnitRequest) {
        for handle in self.handles.values() {
            // A unit that already ended dropped its receiver: nothing to do.
            let _ = handle.send(request);
        }
    }
}

/// The attempt's slot and position, under fanout's names and GNU parallel's (so that
/// commands written for `parallel` find them).
fn push_slot_env(env: &mut Vec<(String, String)>, index: usize, slot: usize) {
    let slot = slot.to_string();
    let seq = (index + 1).to_string();
    env.push(("FANOUT_SLOT".into(), slot.clone()));
    env.push(("FANOUT_SEQ".into(), seq.clone()));
    env.push(("PARALLEL_JOBSLOT".into(), slot));
    env.push(("PARALLEL_SEQ".into(), seq));
}

fn resolve_cwd(base: &Path, cwd: Option<&Path>) -> PathBuf {
    match cwd {
        Some(dir) => base.join(dir),
        None => base.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn termination_sequences_read_as_gnu_parallel_writes_them() {
        let ms = Duration::from_millis;
        assert_eq!(
            Termination::parse("TERM,200,SIGINT,100,9,25")
                .unwrap()
                .steps,
            [
                (Signal::SIGTERM, ms(200)),
                (Signal::SIGINT, ms(100)),
                (Signal::SIGKILL, ms(25))
            ]
        );
        assert_eq!(
            Termination::parse("hup, 0").unwrap().steps,
            [(Signal::SIGHUP, ms(0))]
        );
        for bad in [
            "TERM",
            "TERM,200,KILL",
            "NOPE,1",
            "TERM,soon",
            "",
            "TERM,,KILL,1",
        ] {
            assert!(Termination::parse(bad).is_err(), "{bad:?}");
        }
    }

    /// Feeds `tasks` (through a channel holding at most 8) to a run with no plan tasks of
    /// its own, 2 at a time.
    fn run_feed(tasks: Vec<Task>) -> RunResult {
        let dir = tempfile::tempdir().unwrap();
        let plan = Plan {
            path: dir.path().join("plan"),
            base_dir: dir.path().to_path_buf(),
            settings: crate::plan::Settings::default(),
            resources: Default::default(),
            env: Default::default(),
            tasks: Vec::new(),
            agents: Default::default(),
        };
        let dag = Dag::new(Vec::new()).unwrap();
        let options = RunOptions {
            run_id: "test".into(),
            log_dir: dir.path().join("logs"),
            selected: Vec::new(),
            weights: Vec::new(),
            conflicts: Vec::new(),
            scheduler: SchedulerConfig {
                jobs: 2,
                keep_going: true,
                retry_failed_serially: false,
                systemic_failure_stop: false,
                seed: 1,
                halt: None,
            },
            termination: Termination::after_grace(Duration::from_secs(1)),
            cache: None,
            known_keys: Vec::new(),
            separate_stderr: true,
            stream_lines: false,
            workspace: None,
            agents: None,
            start_delay: None,
            start_limit: None,
            timeout_percent: None,
            shell: None,
            nice: None,
            slot_var: None,
            padded_slot_var: None,
            jobs_source: None,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (tx, rx) = mpsc::channel(8);
            let feeder = tokio::spawn(async move {
                for task in tasks {
                    let selected = !task.id.starts_with("excluded");
                    tx.send(FedTask { task, selected }).await.unwrap();
                }
            });
            let mut sink = crate::events::Fanout::new();
            let result = run_fed(&plan, &dag, &options, Some(rx), &mut sink).await;
            feeder.await.unwrap();
            result.unwrap()
        })
    }

    fn task(id: String, program: &str) -> Task {
        Task::new(id, crate::plan::Action::Argv(vec![program.into()]))
    }

    #[test]
    fn a_long_feed_is_let_go_of_as_its_tasks_end() {
        let tasks = (0..600).map(|i| {
            let id = if i % 7 == 3 {
                format!("excluded{i}")
            } else {
                format!("t{i}")
            };
            task(id, "true")
        });
        let result = run_feed(tasks.collect());
        assert!(result.all_succeeded);
        assert_held_bounded(&result);
    }

    /// The 2 running, a batch ready to start, and those that ended out of order: never the
    /// whole feed.
    fn assert_held_bounded(result: &RunResult) {
        assert!(
            result.peak_held < 2 * FEED_BATCH,
            "held {} tasks at once",
            result.peak_held
        );
    }

    #[test]
    fn a_failure_let_go_of_still_fails_the_run() {
        let mut tasks: Vec<Task> = (0..200).map(|i| task(format!("t{i}"), "true")).collect();
        tasks[5] = task("fails".into(), "false");
        let result = run_feed(tasks);
        assert!(!result.all_succeeded);
        assert_held_bounded(&result);
    }

    #[test]
    fn log_names_are_safe_and_unique() {
        assert_eq!(log_file_name("build", 0, 1), "build.log");
        assert_eq!(log_file_name("build", 0, 2), "build.attempt2.log");
        assert_eq!(log_file_name("a/b", 3, 1), "a_b-3.log");
        assert_eq!(log_file_name("a_b", 4, 1), "a_b.log");
        assert_eq!(log_file_name("..", 5, 1), "__-5.log");
    }
}
