//! Opening the store: the file, its pragmas (WAL, a busy timeout), migrations, and the
//! recovery of runs whose fanout died: their attempts left `running` become
//! `interrupted`, and process groups of theirs still alive are terminated.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use rusqlite::{Connection, OptionalExtension, params};

use super::journal::{Entry, journal_path, read as read_journal};
use super::process::{same_process_alive, started_near_alive};
use super::schema::{SchemaError, migrate};

/// The database file inside a state directory.
pub fn db_path(state_dir: &Path) -> PathBuf {
    state_dir.join("fanout.db")
}

/// Why the store cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("failed to open the store {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("failed to create the state directory {path}")]
    StateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot use the store {path}: {source}")]
    Schema {
        path: PathBuf,
        #[source]
        source: SchemaError,
    },
    #[error("failed to {doing}")]
    Sql {
        doing: &'static str,
        #[source]
        source: rusqlite::Error,
    },
}

pub(crate) trait SqlContext<T> {
    fn doing(self, doing: &'static str) -> Result<T, StoreError>;
}

impl<T> SqlContext<T> for Result<T, rusqlite::Error> {
    fn doing(self, doing: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Sql { doing, source })
    }
}

/// What recovery found and did on open.
#[derive(Clone, Debug, Default)]
pub struct Recovery {
    /// Runs whose fanout died while they ran.
    pub crashed_runs: Vec<String>,
    /// Attempts left `running` by them, now `interrupted`.
    pub interrupted_attempts: usize,
    /// Task process groups of theirs that were still alive and were terminated.
    pub terminated_groups: usize,
}

/// An open store.
#[derive(Debug)]
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the store of `state_dir`, migrates it, and recovers
    /// crashed runs.
    pub fn open(state_dir: &Path) -> Result<(Store, Recovery), StoreError> {
        std::fs::create_dir_all(state_dir).map_err(|source| StoreError::StateDir {
            path: state_dir.to_path_buf(),
            source,
        })?;
        let path = db_path(state_dir);
        let mut conn = connect(&path)?;
        migrate(&mut conn).map_err(|source| StoreError::Schema {
            path: path.clone(),
            source,
        })?;
        let mut store = Store { conn, path };
        let recovery = store.recover()?;
        Ok((store, recovery))
    }

    /// Opens an existing store for reading, without recovery; `None` when there is none.
    pub fn open_existing(state_dir: &Path) -> Result<Option<Store>, StoreError> {
        let path = db_path(state_dir);
        if !path.exists() {
            return Ok(None);
        }
        let mut conn = connect(&path)?;
        migrate(&mut conn).map_err(|source| StoreError::Schema {
            path: path.clone(),
            source,
        })?;
        Ok(Some(Store { conn, path }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The state directory the database is in.
    fn state_dir(&self) -> PathBuf {
        self.path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    }

    fn recover(&mut self) -> Result<Recovery, StoreError> {
        let mut recovery = Recovery::default();
        let state_dir = self.state_dir();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .doing("start recovery")?;
        let open_runs: Vec<(String, u32, Option<i64>)> = {
            let mut stmt = tx
                .prepare("SELECT id, owner_pid, owner_start FROM runs WHERE outcome IS NULL")
                .doing("find unfinished runs")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .doing("find unfinished runs")?
                .collect::<Result<_, _>>()
                .doing("find unfinished runs")?
        };
        let now = unix_now();
        let mut journals = Vec::new();
        for (run, owner_pid, owner_start) in open_runs {
            let owner_alive = owner_start.is_some_and(|s| same_process_alive(owner_pid, s as u64));
            if owner_alive {
                continue; // another fanout is running it right now
            }
            let groups: Vec<(u32, i64)> = {
                let mut stmt = tx
                    .prepare(
                        "SELECT pgid, pgid_start FROM attempts
                         WHERE run_id = ?1 AND status = 'running'
                           AND pgid IS NOT NULL AND pgid_start IS NOT NULL",
                    )
                    .doing("find interrupted attempts")?;
                stmt.query_map([&run], |r| Ok((r.get(0)?, r.get(1)?)))
                    .doing("find interrupted attempts")?
                    .collect::<Result<_, _>>()
                    .doing("find interrupted attempts")?
            };
            let mut groups: Vec<(u32, u64)> =
                groups.into_iter().map(|(g, s)| (g, s as u64)).collect();
            // The journal knows starts and process groups the writer may not have
            // committed before fanout died.
            let journal = journal_path(&state_dir, &run);
            let mut spawned = Vec::new();
            for entry in read_journal(&journal) {
                match entry {
                    Entry::Started { task, attempt } => {
                        tx.execute(
                            "INSERT OR IGNORE INTO attempts (run_id, task_id, attempt, status, started_at)
                             VALUES (?1, ?2, ?3, 'running', ?4)",
                            params![run, task, attempt, now],
                        )
                        .doing("recover a journalled attempt")?;
                    }
                    Entry::Spawned {
                        task,
                        attempt,
                        pgid,
                        start: Some(start),
                    } => spawned.push((task, attempt, pgid, start)),
                    Entry::Spawned { .. } => {}
                    Entry::Ended {
                        task,
                        attempt,
                        status,
                        exit_code,
                        at,
                        duration,
                        log,
                        cache_key,
                    } => {
                        tx.execute(
                            "UPDATE attempts SET status = ?4, exit_code = ?5, ended_at = ?6,
                                    duration_secs = ?7, log_path = ?8, cache_key = ?9
                             WHERE run_id = ?1 AND task_id = ?2 AND attempt = ?3
                               AND status = 'running'",
                            params![
                                run, task, attempt, status, exit_code, at, duration, log, cache_key
                            ],
                        )
                        .doing("recover a journalled attempt")?;
                    }
                }
            }
            // A journalled process group matters while its attempt never ended.
            for (task, attempt, pgid, start) in spawned {
                let status: Option<String> = tx
                    .query_row(
                        "SELECT status FROM attempts
                         WHERE run_id = ?1 AND task_id = ?2 AND attempt = ?3",
                        params![run, task, attempt],
                        |r| r.get(0),
                    )
                    .optional()
                    .doing("recover a journalled attempt")?;
                if matches!(status.as_deref(), None | Some("running"))
                    && !groups.contains(&(pgid, start))
                {
                    groups.push((pgid, start));
                }
            }
            recovery.terminated_groups += terminate_groups(&groups);
            recovery.interrupted_attempts += tx
                .execute(
                    "UPDATE attempts SET status = 'interrupted', ended_at = ?2
                     WHERE run_id = ?1 AND status = 'running'",
                    params![run, now],
                )
                .doing("mark interrupted attempts")?;
            tx.execute(
                "UPDATE runs SET outcome = 'crashed', ended_at = ?2 WHERE id = ?1",
                params![run, now],
            )
            .doing("mark a crashed run")?;
            recovery.crashed_runs.push(run);
            journals.push(journal);
        }
        tx.commit().doing("finish recovery")?;
        for journal in journals {
            let _ = std::fs::remove_file(journal);
        }
        Ok(recovery)
    }
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let open_err = |source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    };
    let conn = Connection::open(path).map_err(open_err)?;
    conn.busy_timeout(Duration::from_secs(30))
        .map_err(open_err)?;
    // Refuse a newer schema before changing anything (even the journal mode).
    let version: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(open_err)?;
    if version > super::schema::SCHEMA_VERSION {
        return Err(StoreError::Schema {
            path: path.to_path_buf(),
            source: SchemaError::TooNew { found: version },
        });
    }
    set_wal(&conn).map_err(open_err)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(open_err)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(open_err)?;
    Ok(conn)
}

/// Switches the database to WAL mode. Two fanouts creating the same new database at once
/// can meet here; the switch takes an exclusive lock that SQLite does not wait for, so
/// retry it for a while.
fn set_wal(conn: &Connection) -> Result<(), rusqlite::Error> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mode: Result<String, _> =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0));
        match mode {
            Ok(_) => return Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e),
        }
    }
}

/// SIGTERM to every recorded group that is still the same group, up to two seconds'
/// grace, then SIGKILL. Returns how many were alive.
///
/// A group is still ours when its leader runs and started just before the recorded
/// reading of the clock (see `process.rs`), or when the
/// leader is gone but the group still has members: Linux does not hand out a number
/// that is still in use as a process group id, so such members can only be the task's.
fn terminate_groups(groups: &[(u32, u64)]) -> usize {
    let alive: Vec<u32> = groups
        .iter()
        .filter(|(pgid, start)| {
            started_near_alive(*pgid, *start)
                || (super::process::start_time(*pgid).is_none() && !group_gone(*pgid))
        })
        .map(|(pgid, _)| *pgid)
        .collect();
    let signal = |pgid: u32, sig| {
        if let Ok(raw) = i32::try_from(pgid) {
            let _ = killpg(Pid::from_raw(raw), sig);
        }
    };
    for &pgid in &alive {
        signal(pgid, Signal::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline && !alive.iter().all(|&p| group_gone(p)) {
        std::thread::sleep(Duration::from_millis(20));
    }
    for &pgid in &alive {
        signal(pgid, Signal::SIGKILL);
    }
    alive.len()
}

fn group_gone(pgid: u32) -> bool {
    !crate::runner::group_alive(pgid)
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> f64 {
    to_unix(std::time::SystemTime::now())
}

pub(crate) fn to_unix(t: std::time::SystemTime) -> f64 {
    t.duration_since(std::time::SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::{CommandExt, ExitStatusExt};

    use super::super::journal::Journal;
    use super::*;

    #[test]
    fn recovery_finds_what_only_the_journal_knows_and_ends_its_processes() {
        let dir = tempfile::tempdir().unwrap();
        let (store, first) = Store::open(dir.path()).unwrap();
        assert!(first.crashed_runs.is_empty());
        // A run whose fanout is gone (no process has this pid), with nothing committed
        // about its attempt: only the journal saw it start.
        store
            .conn
            .execute(
                "INSERT INTO runs (id, plan_path, plan_hash, args, started_at, jobs, owner_pid, owner_start)
                 VALUES ('r1', 'plan.toml', 'h', '[]', 0, 1, 2147483647, 1)",
                [],
            )
            .unwrap();
        drop(store);
        // Long enough to be seen ending by a signal, not of itself.
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .process_group(0)
            .spawn()
            .unwrap();
        let mut journal = Journal::create(dir.path(), "r1").unwrap();
        journal.started("task", 1);
        journal.spawned("task", 1, child.id(), crate::runner::boot_clock_ticks());
        drop(journal);

        let (store, recovery) = Store::open(dir.path()).unwrap();
        assert_eq!(recovery.crashed_runs, ["r1"]);
        assert_eq!(recovery.interrupted_attempts, 1);
        assert_eq!(recovery.terminated_groups, 1);
        let status = child.wait().unwrap();
        assert!(status.signal().is_some(), "the task survived: {status:?}");
        let row: String = store
            .conn
            .query_row(
                "SELECT status FROM attempts WHERE run_id = 'r1' AND task_id = 'task'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(row, "interrupted");
        assert!(!super::super::journal::journal_path(dir.path(), "r1").exists());
    }
}
