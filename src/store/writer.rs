//! The store as a reporter: a sink that turns run events into rows, written by a thread
//! of its own over a bounded channel, in batches, so the runner never waits on SQL. Starts
//! and process groups also go to the run's journal, synchronously, before `emit` returns:
//! every process is on record before it exists (see `journal.rs`).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::Instant;

use rusqlite::{Connection, params};

use super::journal::Journal;
use super::open::{SqlContext, Store, StoreError, to_unix};
use super::process::start_time;
use crate::events::{AgentResult, AttemptStatus, Event, EventSink, RunOutcome};

/// What a run is, recorded when it begins.
#[derive(Clone, Debug)]
pub struct RunRecord {
    pub run_id: String,
    pub plan_path: String,
    pub plan_hash: String,
    /// The command line, for `fanout show`.
    pub args: Vec<String>,
    pub jobs: usize,
    pub resumed_from: Option<String>,
    /// Every task of the run: id, definition hash, and the run it was restored from when
    /// it succeeded earlier and is not run again.
    pub tasks: Vec<(String, String, Option<String>)>,
}

enum Op {
    Started {
        task: String,
        attempt: u32,
        at: f64,
    },
    Spawned {
        task: String,
        attempt: u32,
        pgid: u32,
        pgid_start: Option<u64>,
    },
    Finished {
        task: String,
        attempt: u32,
        status: &'static str,
        exit_code: Option<i32>,
        signal: Option<i32>,
        at: f64,
        duration: f64,
        log: Option<String>,
        cache_key: Option<String>,
        agent: Option<Box<AgentResult>>,
    },
    RunFinished {
        at: f64,
        outcome: &'static str,
        wall: f64,
    },
}

/// See the module documentation.
pub struct StoreSink {
    journal: Option<Journal>,
    /// Operations of the dispatcher's current turn, sent together at its end.
    pending: Vec<Op>,
    tx: Option<SyncSender<Vec<Op>>>,
    /// Set when no more operations will come: the writer stops waiting out its window.
    closing: Arc<AtomicBool>,
    writer: Option<JoinHandle<Result<(), StoreError>>>,
}

impl std::fmt::Debug for StoreSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSink").finish_non_exhaustive()
    }
}

/// The status word stored for an attempt.
pub(crate) fn status_word(status: &AttemptStatus) -> &'static str {
    match status {
        AttemptStatus::Success => "succeeded",
        AttemptStatus::Cached { .. } => "cached",
        AttemptStatus::Failed { .. }
        | AttemptStatus::Signaled { .. }
        | AttemptStatus::AgentFailed { .. } => "failed",
        AttemptStatus::TimedOut { .. } => "timed_out",
        AttemptStatus::SpawnFailed { .. } | AttemptStatus::WorkspaceFailed { .. } => "errored",
        AttemptStatus::MergeConflict { .. } => "merge_conflict",
        AttemptStatus::Cancelled => "cancelled",
    }
}

impl StoreSink {
    /// Records the run and its tasks, then starts the writer thread.
    pub fn start(store: Store, run: &RunRecord) -> Result<StoreSink, StoreError> {
        let Store { mut conn, path } = store;
        let state_dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let tx = conn.transaction().doing("record the run")?;
        let me = std::process::id();
        tx.execute(
            "INSERT INTO runs (id, plan_path, plan_hash, args, started_at, jobs, resumed_from,
                               owner_pid, owner_start)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                run.run_id,
                run.plan_path,
                run.plan_hash,
                serde_json::to_string(&run.args).unwrap_or_default(),
                to_unix(std::time::SystemTime::now()),
                run.jobs as i64,
                run.resumed_from,
                me,
                start_time(me).map(|s| s as i64),
            ],
        )
        .doing("record the run")?;
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO tasks (run_id, task_id, def_hash, restored_from)
                     VALUES (?1, ?2, ?3, ?4)",
                )
                .doing("record the run's tasks")?;
            for (task, hash, restored) in &run.tasks {
                insert
                    .execute(params![run.run_id, task, hash, restored])
                    .doing("record the run's tasks")?;
            }
        }
        tx.commit().doing("record the run")?;
        let journal =
            Journal::create(&state_dir, &run.run_id).map_err(|e| StoreError::StateDir {
                path: state_dir.clone(),
                source: e,
            })?;
        let (sender, receiver) = sync_channel(4096);
        let run_id = run.run_id.clone();
        let closing = Arc::new(AtomicBool::new(false));
        let writer_closing = closing.clone();
        let writer = std::thread::Builder::new()
            .name("fanout-store".into())
            .spawn(move || write_loop(conn, &run_id, receiver, &writer_closing))
            .map_err(|e| StoreError::Sql {
                doing: "start the store writer",
                source: rusqlite::Error::ToSqlConversionFailure(Box::new(e)),
            })?;
        Ok(StoreSink {
            journal: Some(journal),
            pending: Vec::new(),
            tx: Some(sender),
            closing,
            writer: Some(writer),
        })
    }

    /// Hands the turn's operations to the writer.
    fn send_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let ops = std::mem::take(&mut self.pending);
        if let Some(tx) = &self.tx
            && tx.send(ops).is_err()
        {
            // The writer stopped on an error; `finish` reports it.
            self.tx = None;
        }
    }

    /// Sends what is left and tells the writer no more will come.
    fn close(&mut self) {
        self.send_pending();
        self.tx = None;
        self.closing.store(true, Ordering::Release);
        if let Some(writer) = &self.writer {
            writer.thread().unpark();
        }
    }

    /// Waits for everything sent so far to be written, and reports a writer failure.
    /// The journal goes once the database holds everything.
    pub fn finish(mut self) -> Result<(), StoreError> {
        self.close();
        match self.writer.take().map(JoinHandle::join) {
            Some(Ok(Ok(()))) => {
                if let Some(journal) = self.journal.take() {
                    journal.remove();
                }
                Ok(())
            }
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(StoreError::Sql {
                doing: "write the run (the writer thread panicked)",
                source: rusqlite::Error::InvalidQuery,
            }),
            None => Ok(()),
        }
    }
}

impl Drop for StoreSink {
    fn drop(&mut self) {
        self.close();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

impl EventSink for StoreSink {
    fn flush(&mut self) {
        if let Some(journal) = &mut self.journal {
            journal.flush();
        }
        self.send_pending();
    }

    fn emit(&mut self, event: &Event) {
        let op = match event {
            Event::TaskStarted {
                task, attempt, at, ..
            } => {
                if let Some(journal) = &mut self.journal {
                    journal.started(task, *attempt);
                }
                Op::Started {
                    task: task.clone(),
                    attempt: *attempt,
                    at: to_unix(*at),
                }
            }
            Event::AttemptSpawned {
                task,
                attempt,
                pid,
                boot_ticks,
                ..
            } => {
                let pgid_start = *boot_ticks;
                if let Some(journal) = &mut self.journal {
                    journal.spawned(task, *attempt, *pid, pgid_start);
                }
                Op::Spawned {
                    task: task.clone(),
                    attempt: *attempt,
                    pgid: *pid,
                    pgid_start,
                }
            }
            Event::AttemptFinished {
                task,
                attempt,
                status,
                duration,
                at,
                log,
                cache_key,
                agent,
                ..
            } => Op::Finished {
                task: task.clone(),
                attempt: *attempt,
                status: status_word(status),
                exit_code: match status {
                    AttemptStatus::Failed { exit_code } => Some(*exit_code),
                    AttemptStatus::Success => Some(0),
                    _ => None,
                },
                signal: match status {
                    AttemptStatus::Signaled { signal } => Some(*signal),
                    _ => None,
                },
                at: to_unix(*at),
                duration: duration.as_secs_f64(),
                log: log.as_ref().map(|p| p.display().to_string()),
                cache_key: cache_key.clone(),
                agent: agent.clone(),
            },
            Event::RunFinished {
                at, wall, outcome, ..
            } => Op::RunFinished {
                at: to_unix(*at),
                outcome: match outcome {
                    RunOutcome::Succeeded => "succeeded",
                    RunOutcome::Failed => "failed",
                    RunOutcome::Interrupted => "interrupted",
                },
                wall: wall.as_secs_f64(),
            },
            _ => return,
        };
        if let (
            Some(journal),
            Op::Finished {
                task,
                attempt,
                status,
                exit_code,
                at,
                duration,
                log,
                cache_key,
                ..
            },
        ) = (&mut self.journal, &op)
        {
            journal.ended(
                task,
                *attempt,
                status,
                *exit_code,
                *at,
                *duration,
                log.as_deref(),
                cache_key.as_deref(),
            );
        }
        self.pending.push(op);
    }
}

/// How long the writer gathers operations into one transaction. Nothing waits on the
/// database during a run (the journal holds what recovery needs), so fewer, larger
/// transactions cost the run less.
const BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(25);

/// The writer thread: batches of operations, one transaction each. An attempt that
/// starts and ends within one batch becomes a single row insert. After the first
/// operation of a batch the thread sleeps out the window rather than waking for each
/// turn's operations: on a machine whose cores the tasks keep busy, every wake-up is a
/// context switch taken from them.
fn write_loop(
    mut conn: Connection,
    run_id: &str,
    rx: Receiver<Vec<Op>>,
    closing: &AtomicBool,
) -> Result<(), StoreError> {
    while let Ok(first) = rx.recv() {
        let deadline = Instant::now() + BATCH_WINDOW;
        while !closing.load(Ordering::Acquire) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::park_timeout(left);
        }
        let tx = conn.transaction().doing("write run events")?;
        let mut batch = Batch::default();
        for op in first.into_iter().chain(rx.try_iter().flatten()) {
            batch.add(&tx, run_id, op)?;
        }
        batch.write(&tx, run_id)?;
        tx.commit().doing("write run events")?;
    }
    Ok(())
}

/// Attempts started in the current batch, with what else the batch says of them.
#[derive(Default)]
struct Batch {
    started: indexmap::IndexMap<(String, u32), NewAttempt>,
}

struct NewAttempt {
    at: f64,
    group: Option<(u32, Option<u64>)>,
    finished: Option<Op>,
}

impl Batch {
    fn add(&mut self, conn: &Connection, run_id: &str, op: Op) -> Result<(), StoreError> {
        match op {
            Op::Started { task, attempt, at } => {
                self.started.insert(
                    (task, attempt),
                    NewAttempt {
                        at,
                        group: None,
                        finished: None,
                    },
                );
            }
            Op::Spawned {
                task,
                attempt,
                pgid,
                pgid_start,
            } if self.started.contains_key(&(task.clone(), attempt)) => {
                if let Some(new) = self.started.get_mut(&(task, attempt)) {
                    new.group = Some((pgid, pgid_start));
                }
            }
            Op::Finished {
                ref task, attempt, ..
            } if self.started.contains_key(&(task.clone(), attempt)) => {
                let key = (task.clone(), attempt);
                if let Some(new) = self.started.get_mut(&key) {
                    new.finished = Some(op);
                }
            }
            op @ Op::RunFinished { .. } => {
                self.write(conn, run_id)?;
                apply(conn, run_id, op)?;
            }
            other => apply(conn, run_id, other)?,
        }
        Ok(())
    }

    /// Inserts the batch's new attempts, each as it stands now.
    fn write(&mut self, conn: &Connection, run_id: &str) -> Result<(), StoreError> {
        for ((task, attempt), new) in self.started.drain(..) {
            let (pgid, pgid_start) = new.group.map_or((None, None), |(g, s)| (Some(g), s));
            conn.prepare_cached(
                "INSERT OR REPLACE INTO attempts
                     (run_id, task_id, attempt, status, started_at, pgid, pgid_start)
                 VALUES (?1, ?2, ?3, 'running', ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    run_id,
                    task,
                    attempt,
                    new.at,
                    pgid,
                    pgid_start.map(|v| v as i64)
                ])
            })
            .doing("record a started attempt")?;
            if let Some(finished) = new.finished {
                apply(conn, run_id, finished)?;
            }
        }
        Ok(())
    }
}

fn apply(conn: &Connection, run_id: &str, op: Op) -> Result<(), StoreError> {
    match op {
        Op::Started { task, attempt, at } => {
            conn.prepare_cached(
                "INSERT OR REPLACE INTO attempts (run_id, task_id, attempt, status, started_at)
                 VALUES (?1, ?2, ?3, 'running', ?4)",
            )
            .and_then(|mut s| s.execute(params![run_id, task, attempt, at]))
            .doing("record a started attempt")?;
        }
        Op::Spawned {
            task,
            attempt,
            pgid,
            pgid_start,
        } => {
            conn.prepare_cached(
                "UPDATE attempts SET pgid = ?4, pgid_start = ?5
                 WHERE run_id = ?1 AND task_id = ?2 AND attempt = ?3",
            )
            .and_then(|mut s| {
                s.execute(params![
                    run_id,
                    task,
                    attempt,
                    pgid,
                    pgid_start.map(|v| v as i64)
                ])
            })
            .doing("record an attempt's process group")?;
        }
        Op::Finished {
            task,
            attempt,
            status,
            exit_code,
            signal,
            at,
            duration,
            log,
            cache_key,
            agent,
        } => {
            conn.prepare_cached(
                "UPDATE attempts SET status = ?4, exit_code = ?5, signal = ?6, ended_at = ?7,
                        duration_secs = ?8, log_path = ?9, cache_key = ?10
                 WHERE run_id = ?1 AND task_id = ?2 AND attempt = ?3",
            )
            .and_then(|mut s| {
                s.execute(params![
                    run_id, task, attempt, status, exit_code, signal, at, duration, log, cache_key
                ])
            })
            .doing("record a finished attempt")?;
            if let Some(a) = agent {
                conn.prepare_cached(
                    "UPDATE attempts SET agent = ?4, model = ?5, cost_usd = ?6, tokens_in = ?7,
                            tokens_out = ?8, tokens_cached = ?9, turns = ?10, session_id = ?11,
                            rate_limited = ?12
                     WHERE run_id = ?1 AND task_id = ?2 AND attempt = ?3",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        run_id,
                        task,
                        attempt,
                        a.agent,
                        a.model,
                        a.cost_usd,
                        a.tokens_in.map(|n| n as i64),
                        a.tokens_out.map(|n| n as i64),
                        a.tokens_cached.map(|n| n as i64),
                        a.turns,
                        a.session_id,
                        a.rate_limited.is_some(),
                    ])
                })
                .doing("record what the agent reported")?;
            }
        }
        Op::RunFinished { at, outcome, wall } => {
            conn.execute(
                "UPDATE runs SET ended_at = ?2, outcome = ?3, wall_secs = ?4,
                        task_time_secs = (SELECT COALESCE(SUM(duration_secs), 0)
                                          FROM attempts WHERE run_id = ?1 AND status != 'cached')
                 WHERE id = ?1",
                params![run_id, at, outcome, wall],
            )
            .doing("record the end of the run")?;
        }
    }
    Ok(())
}
