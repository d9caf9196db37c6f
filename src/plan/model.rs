//! The validated plan: what every later stage (graph, scheduler, runner, reporters) reads.
//!
//! Values here are already checked: ids are unique, dependencies point at real tasks (as
//! indices), matrices are expanded, durations are parsed. Nothing in this file does I/O.

use std::path::PathBuf;
use std::time::Duration;

use indexmap::IndexMap;

/// A plan ready to analyse or run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The file the plan was read from (for messages and the state directory).
    pub path: PathBuf,
    /// The directory tasks run in unless they set `cwd`: the plan file's directory.
    pub base_dir: PathBuf,
    pub settings: Settings,
    /// Named counted resources and their capacities (`[resources] gpu = 1`).
    pub resources: IndexMap<String, u32>,
    /// Environment added to every task.
    pub env: IndexMap<String, String>,
    /// Tasks in plan order (matrix tasks expanded in place).
    pub tasks: Vec<Task>,
    /// Agents, rate limits and budgets (`[agents]`, `[limits]`, `[budget]`).
    pub agents: AgentSettings,
}

/// What the plan says about agents: the default agent, models by task type, custom
/// profiles, named rate limits and the run's budget.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AgentSettings {
    /// The agent of tasks that name none (`[agents] default`); `None`: `claude`.
    pub default_agent: Option<String>,
    /// Task `type` → model; the key `default` applies to every other agent task.
    pub models: IndexMap<String, String>,
    /// `[agents.NAME]` tables: custom profiles, or settings of a built-in one.
    pub profiles: IndexMap<String, ProfileSettings>,
    /// `[limits.NAME]`.
    pub limits: IndexMap<String, LimitSettings>,
    pub budget: BudgetSettings,
}

/// An `[agents.NAME]` table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProfileSettings {
    /// Argv template: `{prompt}`, `{model}`, `{max_turns}`, `{allowed_tools}`,
    /// `{session_id}`, `{cwd}` are replaced inside elements; an element whose placeholder
    /// has no value is left out. Required for a custom profile.
    pub command: Vec<String>,
    /// `json` (one object), `json-lines`, or `text`.
    pub output: Option<String>,
    /// JSON pointers into the result object (or, for JSON lines, into the last event of
    /// type `result_event`).
    pub success: Option<String>,
    pub error: Option<String>,
    pub cost: Option<String>,
    pub tokens_in: Option<String>,
    pub tokens_out: Option<String>,
    pub tokens_cached: Option<String>,
    pub turns: Option<String>,
    pub session: Option<String>,
    pub result_event: Option<String>,
    /// The rate limit its tasks take from unless they say otherwise.
    pub limit: Option<String>,
    /// Least time between two starts of this agent.
    pub start_interval: Option<Duration>,
    /// Extra output patterns (case-insensitive substrings) that mean "rate limited".
    pub rate_limit_patterns: Vec<String>,
    /// `argv` (the default) or `stdin`: how the prompt reaches the agent. Prompts too
    /// long for one argument go through stdin whatever this says.
    pub prompt_via: Option<String>,
}

/// A `[limits.NAME]` table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LimitSettings {
    /// At most this many tasks at once (a counted resource of the same name).
    pub concurrency: Option<u32>,
    /// At most `count` starts per `per`.
    pub rate: Option<Rate>,
    /// Starts allowed at once before the rate applies.
    pub burst: Option<u32>,
    /// Consecutive failures that open the circuit breaker (default 5).
    pub breaker_failures: Option<u32>,
    /// How long an open breaker pauses the limit (default 30 s).
    pub breaker_cooldown: Option<Duration>,
}

/// `"50/min"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
}

/// `[budget]`: what one run may spend on agents.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BudgetSettings {
    pub usd: Option<f64>,
    pub tokens: Option<u64>,
}

/// How far a queue run goes on its own (`[queue] autonomy`, `--autonomy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Autonomy {
    /// Stop at the first failure.
    #[value(name = "L1", alias = "l1")]
    L1,
    /// Stop at the first failure.
    #[default]
    #[value(name = "L2", alias = "l2")]
    L2,
    /// Go on past failures (skipping what waits for them); list them all at the end.
    #[value(name = "L3", alias = "l3")]
    L3,
}

impl Autonomy {
    /// The level a project file or the command line names (`"L2"`, or `"l2"`).
    pub fn from_name(name: &str) -> Option<Autonomy> {
        match name {
            "L1" | "l1" => Some(Autonomy::L1),
            "L2" | "l2" => Some(Autonomy::L2),
            "L3" | "l3" => Some(Autonomy::L3),
            _ => None,
        }
    }
}

/// The project file's `[queue]` table: only what it sets. What it leaves unset, the
/// command line or the defaults decide (`.agent/queue`, 5 at once, L2).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueSettings {
    /// The queue directory, joined to the project file's directory.
    pub dir: Option<PathBuf>,
    /// At most this many items at once (never 0).
    pub max_parallel: Option<usize>,
    pub autonomy: Option<Autonomy>,
}

/// An agent task's own settings (all optional).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AgentOptions {
    /// The profile: `claude`, `codex`, `gemini`, `aider` or a custom one.
    pub agent: Option<String>,
    /// Read the prompt from this file (relative to the plan's directory).
    pub prompt_file: Option<PathBuf>,
    pub model: Option<String>,
    pub max_turns: Option<u32>,
    pub allowed_tools: Vec<String>,
    /// Resume or name the agent's session.
    pub session_id: Option<String>,
    /// The most this task may cost; an attempt that reports more fails.
    pub max_usd: Option<f64>,
}

/// How long a task runs before the terminal says it is slow, and again each time as long
/// again has passed (`slow` in `[settings]`; nextest's default).
pub(crate) const DEFAULT_SLOW: Duration = Duration::from_secs(60);

/// Run-wide settings after merging defaults, the project file and the plan file.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Maximum number of tasks running at once (never 0).
    pub jobs: usize,
    /// Default per-task timeout.
    pub timeout: Option<Duration>,
    /// Default number of retries after a failed attempt.
    pub retries: u32,
    /// Default backoff between attempts.
    pub backoff: Backoff,
    /// `true`: dependents of a failed task are skipped, everything else runs.
    /// `false` (fail fast): the first failure stops new starts and terminates running tasks.
    pub keep_going: bool,
    /// With keep-going: once this many tasks failed for good, start nothing new and let
    /// the running ones finish.
    pub max_fail: Option<u32>,
    /// Time between SIGTERM and SIGKILL when a task is terminated.
    pub grace: Duration,
    /// Say so each time a task has run this long more (`None`: never).
    pub slow: Option<Duration>,
    /// After everything else finished, try failed tasks once more, one at a time.
    pub retry_failed_serially: bool,
    /// Stop starting tasks when the first few tasks to finish all failed.
    pub systemic_failure_stop: bool,
    /// Where tasks run unless they say otherwise (`isolate`).
    pub isolate: Isolation,
    /// How isolated tasks get their worktrees and how their work comes back (`[worktree]`).
    pub worktree: WorktreeSettings,
    /// No new task starts while the machine's CPU use is above this percentage.
    pub max_cpu: Option<u8>,
    /// No new task starts while the machine's memory use is above this percentage.
    pub max_memory: Option<u8>,
    /// No new task starts while less memory than this, in bytes, is available (`fanout
    /// map --memfree`; plan files do not set it).
    pub min_free_memory: Option<u64>,
    /// While less than twice this memory, in bytes, is available, only some of the running
    /// tasks go on and the others are stopped (SIGSTOP) until there is more; no new task
    /// starts while less than this (beyond `min_free_memory`) is available and a task runs
    /// (`fanout map --memsuspend`; plan files do not set it).
    pub mem_suspend: Option<u64>,
    /// No new task starts while the machine swaps pages both in and out (`fanout map
    /// --noswap`; plan files do not set it).
    pub no_swap: bool,
    /// No new task starts while this many processes or more are runnable (`max_load`,
    /// `fanout run --load`, `fanout map --load`).
    pub max_load: Option<f64>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            timeout: None,
            retries: 0,
            backoff: Backoff::default(),
            keep_going: true,
            max_fail: None,
            grace: Duration::from_secs(5),
            slow: Some(DEFAULT_SLOW),
            retry_failed_serially: false,
            systemic_failure_stop: true,
            isolate: Isolation::None,
            worktree: WorktreeSettings::default(),
            max_cpu: None,
            max_memory: None,
            min_free_memory: None,
            mem_suspend: None,
            no_swap: false,
            max_load: None,
        }
    }
}

/// Where a task runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Isolation {
    /// In the plan's directory (or its `cwd`), shared with every other task.
    #[default]
    None,
    /// In a git worktree of its own, on a branch of its own, merged back when it succeeds.
    Worktree,
}

/// How a successful isolated task's branch comes back into the integration branch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MergeMode {
    /// A merge commit with the task's branch as second parent.
    #[default]
    Merge,
    /// One new commit on the integration branch with the task's changes.
    Squash,
    /// Only when the integration branch has not moved since the task started.
    FfOnly,
    /// Nothing is merged: the task's branch is kept for the user.
    None,
}

impl MergeMode {
    /// The name used in plans.
    pub fn name(self) -> &'static str {
        match self {
            MergeMode::Merge => "merge",
            MergeMode::Squash => "squash",
            MergeMode::FfOnly => "ff-only",
            MergeMode::None => "none",
        }
    }
}

/// The `[worktree]` table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorktreeSettings {
    /// Untracked files and directories (relative to the plan's directory) copied into
    /// each new worktree.
    pub copy: Vec<String>,
    /// A shell command run in each new worktree before its task.
    pub setup: Option<String>,
    pub merge: MergeMode,
    /// The integration branch; `None`: the branch checked out when the run begins.
    pub into: Option<String>,
}

/// How long to wait before attempt `n + 1` after attempt `n` failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backoff {
    /// `base * 2^(attempt-1)`, capped at `max`, with full jitter applied by the scheduler.
    Exponential { base: Duration, max: Duration },
    /// Always the same delay.
    Fixed(Duration),
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::Exponential {
            base: Duration::from_millis(500),
            max: Duration::from_secs(60),
        }
    }
}

/// One task of the plan.
#[derive(Clone, Debug)]
pub struct Task {
    /// Unique id (after matrix expansion).
    pub id: String,
    /// A human title.
    pub subject: Option<String>,
    /// What the task does.
    pub action: Action,
    /// Indices (into `Plan::tasks`) of the tasks this one waits for; no duplicates.
    pub deps: Vec<usize>,
    /// Path globs this task writes; tasks whose globs overlap never run at once.
    pub writes: Vec<String>,
    /// Counted resources this task holds while it runs.
    pub uses: IndexMap<String, u32>,
    /// Effective timeout (task's own, else the settings').
    pub timeout: Option<Duration>,
    /// The task's own slow period (`slow`), if it has one; zero: no slow notices. Else
    /// the settings' holds.
    pub slow: Option<Duration>,
    /// Effective retries.
    pub retries: u32,
    /// Effective backoff.
    pub backoff: Backoff,
    /// Higher runs first among ready tasks.
    pub priority: i64,
    /// The user's estimate of the task's duration (weights the critical path).
    pub estimate: Option<Duration>,
    /// Environment added for this task (after the plan's).
    pub env: IndexMap<String, String>,
    /// Working directory, relative to `Plan::base_dir` unless absolute.
    pub cwd: Option<PathBuf>,
    /// Path globs (relative to the task's directory) whose contents, with the command,
    /// environment, directory and the dependencies' keys, make the task's cache key.
    /// Empty: the task is never cached.
    pub inputs: Vec<String>,
    /// Paths the task produces: a cached result counts only while they all exist.
    pub outputs: Vec<String>,
    /// The task's `type`, as in hand-written task arrays.
    pub kind: Option<String>,
    /// The skill an agent task asks for (`required_skill`).
    pub required_skill: Option<String>,
    /// Where the task runs: shared directory or a worktree of its own.
    pub isolate: Isolation,
    /// Agent settings of an agent task.
    pub agent: AgentOptions,
    /// A file the task reads on stdin (`fanout map --pipe`'s blocks); plan files do not
    /// set it. `None`: `/dev/null`.
    pub stdin: Option<PathBuf>,
    /// With `stdin`: only these byte ranges of the file, one after another
    /// (`fanout map --pipe-part`); empty: all of it.
    pub stdin_ranges: Vec<std::ops::Range<u64>>,
    /// Files written just before each attempt starts (`fanout map --template`); plan
    /// files do not set them.
    pub files: Vec<PreparedFile>,
}

/// A file written just before an attempt starts: its name and contents, each made of
/// parts, the slot the attempt runs in where a part asks for it. A relative name is
/// relative to fanout's own working directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedFile {
    pub name: Vec<FilePart>,
    pub contents: Vec<FilePart>,
}

/// A part of a [`PreparedFile`]'s name or contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilePart {
    Text(String),
    /// The attempt's slot, padded with zeros to this many digits.
    Slot {
        width: usize,
    },
}

impl FilePart {
    /// `parts` with the slot written in.
    pub fn render(parts: &[FilePart], slot: usize) -> String {
        let mut out = String::new();
        for part in parts {
            match part {
                FilePart::Text(text) => out.push_str(text),
                FilePart::Slot { width } => out.push_str(&format!("{slot:0width$}")),
            }
        }
        out
    }
}

/// What running a task means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// A shell string. Executed directly when it has no shell metacharacters.
    Shell(String),
    /// An argv array, run without a shell.
    Argv(Vec<String>),
    /// A prompt for a coding agent (see [`Task::agent`]).
    Agent { prompt: String },
}

impl Task {
    /// A task that does `action`, with nothing else said: no dependencies, writes or
    /// resources, no timeout or retries, the default backoff, priority 0, no isolation.
    pub fn new(id: impl Into<String>, action: Action) -> Task {
        Task {
            id: id.into(),
            subject: None,
            action,
            deps: Vec::new(),
            writes: Vec::new(),
            uses: IndexMap::new(),
            timeout: None,
            slow: None,
            retries: 0,
            backoff: Backoff::default(),
            priority: 0,
            estimate: None,
            env: IndexMap::new(),
            cwd: None,
            inputs: Vec::new(),
            outputs: Vec::new(),
            kind: None,
            required_skill: None,
            isolate: Isolation::None,
            agent: AgentOptions::default(),
            stdin: None,
            stdin_ranges: Vec::new(),
            files: Vec::new(),
        }
    }

    /// The text to show for the task's command.
    pub fn command_line(&self) -> String {
        match &self.action {
            Action::Shell(s) => s.clone(),
            Action::Argv(v) => v.join(" "),
            Action::Agent { prompt } => format!("agent: {prompt}"),
        }
    }
}

/// A task id as a file, directory or branch name: the id itself when it is plainly safe
/// (ASCII letters, digits, `.`, `_`, `-`; not starting with `.` or `-`, no `..`, not
/// ending in `.lock`), else the id cleaned and made unique with the task's index.
pub fn safe_file_stem(id: &str, index: usize) -> String {
    let plain = !id.is_empty()
        && !id.starts_with(['.', '-'])
        && !id.ends_with(".lock")
        && !id.contains("..")
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if plain {
        return id.to_owned();
    }
    let cleaned: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    format!("{cleaned}-{index}")
}
