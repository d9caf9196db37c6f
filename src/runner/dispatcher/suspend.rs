//! `fanout map --memsuspend SIZE`: while less than twice SIZE of memory is available, the
//! oldest running tasks (the first in the plan or feed, as GNU parallel ranks its jobs by
//! sequence number, a retry keeping its place) go on and the younger ones are stopped
//! (SIGSTOP to their process groups), fewer going on the less memory there is
//! ([`load::to_keep_running`]); they are continued (SIGCONT) as memory comes back. Looked
//! at every [`load::RECHECK`] while tasks run, and at once when one ends. A task that is
//! being terminated is left alone from then on: the executor continues it after each
//! signal, so that a stopped one can act on it.

use std::time::Duration;

use nix::sys::signal::Signal;

use super::Dispatcher;
use crate::events::Event;
use crate::runner::load;
use crate::runner::unix::signal_group;

/// The running attempts' process groups, oldest first, and which are stopped.
#[derive(Debug)]
pub(super) struct Suspender {
    size: u64,
    running: Vec<Running>,
    /// When memory is next looked at (since the run began).
    next_check: Duration,
}

#[derive(Debug)]
struct Running {
    index: usize,
    pgid: u32,
    stopped: bool,
}

impl Suspender {
    pub(super) fn new(size: u64) -> Suspender {
        Suspender {
            size,
            running: Vec::new(),
            next_check: Duration::ZERO,
        }
    }

    fn stopped(&self) -> usize {
        self.running.iter().filter(|r| r.stopped).count()
    }
}

impl Dispatcher<'_> {
    /// Notes that task `index`'s attempt runs as process group `pgid`.
    pub(super) fn track_spawn(&mut self, index: usize, pgid: u32) {
        if let Some(suspender) = &mut self.suspender {
            let at = suspender.running.partition_point(|r| r.index < index);
            suspender.running.insert(
                at,
                Running {
                    index,
                    pgid,
                    stopped: false,
                },
            );
        }
    }

    /// Forgets task `index`'s attempt, which ended or is being terminated; the others are
    /// looked at again at once, so that a stopped one goes on before a new task starts.
    pub(super) fn untrack(&mut self, index: usize) {
        let now = self.now();
        if let Some(suspender) = &mut self.suspender {
            let before = suspender.running.len();
            suspender.running.retain(|r| r.index != index);
            if suspender.running.len() < before {
                suspender.next_check = now;
            }
        }
    }

    /// When memory must be looked at next, while tasks run.
    pub(super) fn memory_check_due(&self) -> Option<Duration> {
        self.suspender
            .as_ref()
            .filter(|s| !s.running.is_empty())
            .map(|s| s.next_check)
    }

    /// Stops and continues running tasks by the memory available now, when it is time to
    /// look; says so when the number of stopped tasks changes.
    pub(super) fn suspend_by_memory(&mut self) {
        let now = self.now();
        let Some(suspender) = &mut self.suspender else {
            return;
        };
        if suspender.running.is_empty() || now < suspender.next_check {
            return;
        }
        suspender.next_check = now + load::RECHECK;
        let Some(free) = load::available_memory() else {
            return;
        };
        let before = suspender.stopped();
        let keep = load::to_keep_running(free, suspender.size, suspender.running.len());
        for (n, running) in suspender.running.iter_mut().enumerate() {
            let stop = n >= keep;
            if stop != running.stopped {
                let signal = if stop {
                    Signal::SIGSTOP
                } else {
                    Signal::SIGCONT
                };
                signal_group(running.pgid, signal);
                running.stopped = stop;
            }
        }
        let stopped = suspender.stopped();
        if stopped != before {
            let reason = format!(
                "{} of memory available, less than twice --memsuspend {}",
                load::mebibytes(free),
                load::mebibytes(suspender.size)
            );
            self.sink.emit(&Event::Suspended {
                tasks: stopped,
                reason: (stopped > 0).then_some(reason),
            });
        }
    }
}
