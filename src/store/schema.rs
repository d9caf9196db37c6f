//! The schema and its numbered migrations, tracked in `PRAGMA user_version`. A database
//! written by a newer fanout (a higher version) is refused, never rewritten.

use rusqlite::Connection;

/// The schema version this fanout writes.
pub const SCHEMA_VERSION: u32 = 4;

/// Migration `i` takes the database from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 0 → 1: runs, task definitions, attempts.
    r"
    CREATE TABLE runs (
        id             TEXT PRIMARY KEY,
        plan_path      TEXT NOT NULL,
        plan_hash      TEXT NOT NULL,
        args           TEXT NOT NULL,
        started_at     REAL NOT NULL,
        ended_at       REAL,
        outcome        TEXT,
        jobs           INTEGER NOT NULL,
        wall_secs      REAL,
        task_time_secs REAL,
        resumed_from   TEXT,
        owner_pid      INTEGER NOT NULL,
        owner_start    INTEGER
    );
    CREATE INDEX runs_plan ON runs(plan_path, started_at);
    CREATE TABLE tasks (
        run_id        TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        task_id       TEXT NOT NULL,
        def_hash      TEXT NOT NULL,
        restored_from TEXT,
        PRIMARY KEY (run_id, task_id)
    );
    CREATE TABLE attempts (
        run_id        TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        task_id       TEXT NOT NULL,
        attempt       INTEGER NOT NULL,
        status        TEXT NOT NULL,
        exit_code     INTEGER,
        signal        INTEGER,
        started_at    REAL NOT NULL,
        ended_at      REAL,
        duration_secs REAL,
        log_path      TEXT,
        cache_key     TEXT,
        pgid          INTEGER,
        pgid_start    INTEGER,
        PRIMARY KEY (run_id, task_id, attempt)
    );
    CREATE INDEX attempts_task ON attempts(task_id, status, ended_at);
    CREATE INDEX attempts_cache ON attempts(task_id, cache_key) WHERE cache_key IS NOT NULL;
    ",
    // 1 → 2: what agent attempts reported.
    r"
    ALTER TABLE attempts ADD COLUMN agent TEXT;
    ALTER TABLE attempts ADD COLUMN model TEXT;
    ALTER TABLE attempts ADD COLUMN cost_usd REAL;
    ALTER TABLE attempts ADD COLUMN tokens_in INTEGER;
    ALTER TABLE attempts ADD COLUMN tokens_out INTEGER;
    ALTER TABLE attempts ADD COLUMN tokens_cached INTEGER;
    ALTER TABLE attempts ADD COLUMN turns INTEGER;
    ALTER TABLE attempts ADD COLUMN session_id TEXT;
    ALTER TABLE attempts ADD COLUMN rate_limited INTEGER;
    ",
    // 2 → 3: temporary skills made for agent tasks. `path` is relative to the state
    // directory; times are seconds since the Unix epoch.
    r"
    CREATE TABLE temp_skills (
        name      TEXT PRIMARY KEY,
        path      TEXT NOT NULL,
        created   REAL NOT NULL,
        uses      INTEGER NOT NULL DEFAULT 0,
        last_used REAL,
        kept      INTEGER NOT NULL DEFAULT 0
    );
    ",
    // 3 → 4: what each cache key was made of (a JSON manifest), to tell what changed
    // since a task's last success.
    r"
    CREATE TABLE manifests (
        key  TEXT PRIMARY KEY,
        body TEXT NOT NULL
    );
    ",
];

/// Why the schema cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "the database was written by a newer fanout (schema version {found}, this fanout knows up to {SCHEMA_VERSION})"
    )]
    TooNew { found: u32 },
    #[error("failed to migrate the database from schema version {from}")]
    Migration {
        from: u32,
        #[source]
        source: rusqlite::Error,
    },
}

/// Brings the database up to [`SCHEMA_VERSION`], one migration per transaction.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), SchemaError> {
    let version = |conn: &Connection| -> Result<u32, rusqlite::Error> {
        conn.query_row("PRAGMA user_version", [], |row| row.get(0))
    };
    let mut current = version(conn).map_err(|source| SchemaError::Migration { from: 0, source })?;
    if current > SCHEMA_VERSION {
        return Err(SchemaError::TooNew { found: current });
    }
    while current < SCHEMA_VERSION {
        let mut step = || -> Result<(), rusqlite::Error> {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            // Another fanout may have migrated while we waited for the lock.
            if version(&tx)? == current {
                tx.execute_batch(MIGRATIONS[current as usize])?;
                tx.pragma_update(None, "user_version", current + 1)?;
            }
            tx.commit()
        };
        step().map_err(|source| SchemaError::Migration {
            from: current,
            source,
        })?;
        current = version(conn).map_err(|source| SchemaError::Migration {
            from: current,
            source,
        })?;
    }
    Ok(())
}
