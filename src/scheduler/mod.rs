//! The scheduler: a pure state machine over task states. It decides what may start now
//! (slots, counted resources, write locks, priority) and what follows an attempt's outcome
//! (retry after a backoff, dependents ready or skipped, the run stopping). No async, no I/O,
//! no clock of its own: the caller passes `now` as time since the run began.

mod backoff;
mod halt;
mod limits;
mod ready_queue;
mod state;
mod systemic;

#[cfg(test)]
mod fixture;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;

pub use halt::{HaltOn, HaltPolicy, HaltThreshold, HaltWhen};
pub use state::{
    Decision, Outcome, SYSTEMIC_FAILURE_THRESHOLD, Scheduler, SchedulerConfig, Start, StopReason,
    TaskState,
};
