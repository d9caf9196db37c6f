//! The runner: one dispatcher that linearizes everything (attempt ends, signals, retry
//! timers) and one executor unit per attempt that supervises a process group. It asks the
//! scheduler what to start and tells it what ended; it never prints, it emits events.

mod agents;
mod cache;
mod command;
mod dispatcher;
mod executor;
mod load;
mod median;
mod rates;
mod runtime;
mod unix;
mod workspace;

pub use agents::{
    AgentLaunch, AgentRun, BREAKER_COOLDOWN, BREAKER_FAILURES, BUDGET_WARNING_SHARE, LimitRule,
    RAISE_AFTER_SUCCESSES,
};
pub use cache::{Cache, CacheHit, CacheKey};
pub use command::{ExecPlan, needs_shell};
pub use dispatcher::{
    FedTask, JobsSource, RunOptions, RunResult, TaskFeed, Termination, log_file_name, run, run_fed,
    stderr_log_path,
};
pub use runtime::{available_cpus, runtime_for};
#[cfg(test)]
pub(crate) use unix::boot_clock_ticks;
pub(crate) use unix::{TICKS_PER_SECOND, group_alive};
pub use workspace::{Workspace, WorkspaceOutcome};
