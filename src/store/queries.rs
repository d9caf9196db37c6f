//! Reading the store: what resume restores, cache lookups, remembered durations, and the
//! rows behind `history`, `show`, `logs`, `stats` and `clean`.

use std::collections::HashMap;
use std::path::PathBuf;

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use super::open::{SqlContext, Store, StoreError, unix_now};

/// A run, as listed by `fanout history`.
#[derive(Clone, Debug, Serialize)]
pub struct RunRow {
    pub id: String,
    pub plan: String,
    pub started_at: f64,
    pub ended_at: Option<f64>,
    /// `succeeded`, `failed`, `interrupted`, `crashed`, or null while running.
    pub outcome: Option<String>,
    pub jobs: i64,
    pub wall_secs: Option<f64>,
    pub task_time_secs: Option<f64>,
    pub resumed_from: Option<String>,
    pub args: Vec<String>,
    pub tasks: i64,
    pub failed: i64,
}

/// One attempt, as `fanout show` lists it.
#[derive(Clone, Debug, Serialize)]
pub struct AttemptRow {
    pub task: String,
    pub attempt: i64,
    pub status: String,
    pub exit_code: Option<i64>,
    pub signal: Option<i64>,
    pub started_at: f64,
    pub ended_at: Option<f64>,
    pub duration_secs: Option<f64>,
    pub log: Option<String>,
    pub cache_key: Option<String>,
}

/// One task of a run with its attempts.
#[derive(Clone, Debug, Serialize)]
pub struct TaskRow {
    pub task: String,
    pub restored_from: Option<String>,
    pub attempts: Vec<AttemptRow>,
}

/// What resuming a run starts from.
#[derive(Clone, Debug)]
pub struct ResumePoint {
    pub run_id: String,
    pub outcome: Option<String>,
    /// Tasks that succeeded in that run (or were restored in it): definition hash and
    /// cache key.
    pub succeeded: HashMap<String, (String, Option<String>)>,
    /// Tasks whose last attempt in that run failed, timed out or could not start.
    pub failed: Vec<String>,
}

/// An earlier successful attempt with a given cache key.
#[derive(Clone, Debug)]
pub struct CachedResult {
    pub run_id: String,
    pub log: Option<PathBuf>,
}

/// Figures over every run in the store.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    pub runs: i64,
    pub tasks_run: i64,
    pub attempts: i64,
    pub failed_attempts: i64,
    pub cached: i64,
    /// Mean of task time / wall over finished runs.
    pub mean_speedup: f64,
    /// Σ(summed task time − wall) over finished runs, in seconds.
    pub time_saved_secs: f64,
    /// Failed attempts / attempts run.
    pub failure_rate: f64,
    /// Cached / (cached + tasks run with inputs).
    pub cache_hit_rate: f64,
    /// Agent attempts, and what they reported, summed.
    pub agent_attempts: i64,
    pub cost_usd: f64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub tokens_cached: i64,
    pub rate_limited: i64,
}

const RUN_COLUMNS: &str = "r.id, r.plan_path, r.started_at, r.ended_at, r.outcome, r.jobs,
    r.wall_secs, r.task_time_secs, r.resumed_from, r.args,
    (SELECT COUNT(*) FROM tasks t WHERE t.run_id = r.id),
    (SELECT COUNT(DISTINCT a.task_id) FROM attempts a WHERE a.run_id = r.id
        AND a.status IN ('failed', 'timed_out', 'errored', 'merge_conflict')
        AND a.attempt = (SELECT MAX(b.attempt) FROM attempts b
                         WHERE b.run_id = r.id AND b.task_id = a.task_id))";

fn run_row(r: &Row<'_>) -> rusqlite::Result<RunRow> {
    let args: String = r.get(9)?;
    Ok(RunRow {
        id: r.get(0)?,
        plan: r.get(1)?,
        started_at: r.get(2)?,
        ended_at: r.get(3)?,
        outcome: r.get(4)?,
        jobs: r.get(5)?,
        wall_secs: r.get(6)?,
        task_time_secs: r.get(7)?,
        resumed_from: r.get(8)?,
        args: serde_json::from_str(&args).unwrap_or_default(),
        tasks: r.get(10)?,
        failed: r.get(11)?,
    })
}

impl Store {
    /// Runs, newest first; `limit` of them.
    pub fn runs(&self, limit: usize) -> Result<Vec<RunRow>, StoreError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs r ORDER BY r.started_at DESC LIMIT ?1");
        let mut stmt = self.conn.prepare(&sql).doing("list runs")?;
        stmt.query_map([limit as i64], run_row)
            .doing("list runs")?
            .collect::<Result<_, _>>()
            .doing("list runs")
    }

    /// One run by id, or by a unique prefix of its id.
    pub fn run(&self, id: &str) -> Result<Option<RunRow>, StoreError> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs r WHERE r.id = ?1 OR r.id LIKE ?1 || '%'
             ORDER BY r.id = ?1 DESC, r.started_at DESC LIMIT 2"
        );
        let mut stmt = self.conn.prepare(&sql).doing("find a run")?;
        let rows: Vec<RunRow> = stmt
            .query_map([id], run_row)
            .doing("find a run")?
            .collect::<Result<_, _>>()
            .doing("find a run")?;
        Ok(match rows.as_slice() {
            [one] => Some(one.clone()),
            [exact, ..] if exact.id == id => Some(exact.clone()),
            _ => None,
        })
    }

    /// The newest run of a plan.
    pub fn latest_run(&self, plan_path: &str) -> Result<Option<RunRow>, StoreError> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs r WHERE r.plan_path = ?1
             ORDER BY r.started_at DESC LIMIT 1"
        );
        self.conn
            .query_row(&sql, [plan_path], run_row)
            .optional()
            .doing("find the latest run")
    }

    /// The tasks of a run with their attempts, in the order they were recorded.
    pub fn run_tasks(&self, run_id: &str) -> Result<Vec<TaskRow>, StoreError> {
        let mut tasks: Vec<TaskRow> = {
            let mut stmt = self
                .conn
                .prepare(
                    "SELECT task_id, restored_from FROM tasks WHERE run_id = ?1 ORDER BY rowid",
                )
                .doing("list a run's tasks")?;
            stmt.query_map([run_id], |r| {
                Ok(TaskRow {
                    task: r.get(0)?,
                    restored_from: r.get(1)?,
                    attempts: Vec::new(),
                })
            })
            .doing("list a run's tasks")?
            .collect::<Result<_, _>>()
            .doing("list a run's tasks")?
        };
        let position: HashMap<String, usize> = tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.task.clone(), i))
            .collect();
        let mut stmt = self
            .conn
            .prepare(
                "SELECT task_id, attempt, status, exit_code, signal, started_at, ended_at,
                        duration_secs, log_path, cache_key
                 FROM attempts WHERE run_id = ?1 ORDER BY started_at, attempt",
            )
            .doing("list a run's attempts")?;
        let attempts = stmt
            .query_map([run_id], |r| {
                Ok(AttemptRow {
                    task: r.get(0)?,
                    attempt: r.get(1)?,
                    status: r.get(2)?,
                    exit_code: r.get(3)?,
                    signal: r.get(4)?,
                    started_at: r.get(5)?,
                    ended_at: r.get(6)?,
                    duration_secs: r.get(7)?,
                    log: r.get(8)?,
                    cache_key: r.get(9)?,
                })
            })
            .doing("list a run's attempts")?;
        for attempt in attempts {
            let attempt = attempt.doing("list a run's attempts")?;
            if let Some(&i) = position.get(&attempt.task) {
                tasks[i].attempts.push(attempt);
            }
        }
        Ok(tasks)
    }

    /// What resuming `run_id` keeps and what it runs again.
    pub fn resume_point(&self, run_id: &str) -> Result<Option<ResumePoint>, StoreError> {
        let Some(run) = self.run(run_id)? else {
            return Ok(None);
        };
        let mut succeeded = HashMap::new();
        let mut failed = Vec::new();
        for task in self.run_tasks(&run.id)? {
            let def: String = self
                .conn
                .query_row(
                    "SELECT def_hash FROM tasks WHERE run_id = ?1 AND task_id = ?2",
                    params![run.id, task.task],
                    |r| r.get(0),
                )
                .doing("read a task definition")?;
            let last = task.attempts.iter().max_by_key(|a| a.attempt);
            match last {
                Some(a) if matches!(a.status.as_str(), "succeeded" | "cached") => {
                    succeeded.insert(task.task.clone(), (def, a.cache_key.clone()));
                }
                Some(a)
                    if matches!(
                        a.status.as_str(),
                        "failed" | "timed_out" | "errored" | "merge_conflict"
                    ) =>
                {
                    failed.push(task.task.clone());
                }
                None if task.restored_from.is_some() => {
                    let key = self.restored_key(&task.task, task.restored_from.as_deref())?;
                    succeeded.insert(task.task.clone(), (def, key));
                }
                _ => {}
            }
        }
        Ok(Some(ResumePoint {
            run_id: run.id,
            outcome: run.outcome,
            succeeded,
            failed,
        }))
    }

    /// The cache key a restored task had where it last ran.
    fn restored_key(&self, task: &str, from: Option<&str>) -> Result<Option<String>, StoreError> {
        let Some(from) = from else { return Ok(None) };
        self.conn
            .query_row(
                "SELECT cache_key FROM attempts WHERE run_id = ?1 AND task_id = ?2
                 AND status IN ('succeeded', 'cached') ORDER BY attempt DESC LIMIT 1",
                params![from, task],
                |r| r.get(0),
            )
            .optional()
            .map(Option::flatten)
            .doing("read a restored task's key")
    }

    /// Remembers what `key` was made of (once: a key is made of one thing only).
    pub fn record_manifest(&self, key: &str, body: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("INSERT OR IGNORE INTO manifests (key, body) VALUES (?1, ?2)")
            .and_then(|mut s| s.execute(params![key, body]))
            .map(|_| ())
            .doing("record a cache key's manifest")
    }

    /// Whether what `key` was made of is recorded.
    pub fn has_manifest(&self, key: &str) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached("SELECT 1 FROM manifests WHERE key = ?1")
            .and_then(|mut s| s.exists(params![key]))
            .doing("look up a cache key's manifest")
    }

    /// What `key` was made of, if that was recorded.
    pub fn manifest(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .prepare_cached("SELECT body FROM manifests WHERE key = ?1")
            .and_then(|mut s| s.query_row(params![key], |r| r.get(0)).optional())
            .doing("read a cache key's manifest")
    }

    /// The key of the latest successful attempt of `task` that had one.
    pub fn last_success_key(&self, task: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT cache_key FROM attempts
                 WHERE task_id = ?1 AND cache_key IS NOT NULL AND status = 'succeeded'
                 ORDER BY ended_at DESC LIMIT 1",
            )
            .and_then(|mut s| s.query_row(params![task], |r| r.get(0)).optional())
            .doing("look up the last success")
    }

    /// An earlier successful attempt of `task` with `key`.
    pub fn cache_lookup(&self, task: &str, key: &str) -> Result<Option<CachedResult>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT run_id, log_path FROM attempts
                 WHERE task_id = ?1 AND cache_key = ?2 AND status = 'succeeded'
                 ORDER BY ended_at DESC LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(params![task, key], |r| {
                    let log: Option<String> = r.get(1)?;
                    Ok(CachedResult {
                        run_id: r.get(0)?,
                        log: log.map(PathBuf::from),
                    })
                })
                .optional()
            })
            .doing("look up the cache")
    }

    /// Figures over all runs.
    pub fn stats(&self) -> Result<Stats, StoreError> {
        let mut s = Stats::default();
        let (runs, speedup, saved): (i64, Option<f64>, Option<f64>) = self
            .conn
            .query_row(
                "SELECT COUNT(*),
                        AVG(CASE WHEN wall_secs > 0 THEN task_time_secs / wall_secs END),
                        SUM(CASE WHEN wall_secs IS NOT NULL THEN task_time_secs - wall_secs END)
                 FROM runs",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .doing("compute statistics")?;
        s.runs = runs;
        s.mean_speedup = speedup.unwrap_or(0.0);
        s.time_saved_secs = saved.unwrap_or(0.0);
        let (attempts, failed, cached, tasks_run, keyed): (i64, i64, i64, i64, i64) = self
            .conn
            .query_row(
                "SELECT COUNT(*) FILTER (WHERE status != 'cached'),
                        COUNT(*) FILTER (WHERE status IN ('failed', 'timed_out', 'errored', 'merge_conflict')),
                        COUNT(*) FILTER (WHERE status = 'cached'),
                        COUNT(DISTINCT run_id || char(0) || task_id) FILTER (WHERE status != 'cached'),
                        COUNT(*) FILTER (WHERE cache_key IS NOT NULL AND status != 'cached')
                 FROM attempts",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .doing("compute statistics")?;
        s.attempts = attempts;
        s.failed_attempts = failed;
        s.cached = cached;
        s.tasks_run = tasks_run;
        s.failure_rate = if attempts > 0 {
            failed as f64 / attempts as f64
        } else {
            0.0
        };
        s.cache_hit_rate = if cached + keyed > 0 {
            cached as f64 / (cached + keyed) as f64
        } else {
            0.0
        };
        let (agents, cost, tin, tout, tcached, limited): (i64, f64, i64, i64, i64, i64) = self
            .conn
            .query_row(
                "SELECT COUNT(*), COALESCE(SUM(cost_usd), 0), COALESCE(SUM(tokens_in), 0),
                        COALESCE(SUM(tokens_out), 0), COALESCE(SUM(tokens_cached), 0),
                        COALESCE(SUM(rate_limited), 0)
                 FROM attempts WHERE agent IS NOT NULL",
                [],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .doing("compute statistics")?;
        s.agent_attempts = agents;
        s.cost_usd = cost;
        s.tokens_in = tin;
        s.tokens_out = tout;
        s.tokens_cached = tcached;
        s.rate_limited = limited;
        Ok(s)
    }

    /// Deletes runs that ended more than `age` ago (and their attempts). Returns their ids.
    pub fn delete_runs_older_than(
        &mut self,
        age: std::time::Duration,
    ) -> Result<Vec<String>, StoreError> {
        let cutoff = unix_now() - age.as_secs_f64();
        let tx = self.conn.transaction().doing("clean old runs")?;
        let ids: Vec<String> = {
            let mut stmt = tx
                .prepare("SELECT id FROM runs WHERE COALESCE(ended_at, started_at) < ?1 AND outcome IS NOT NULL")
                .doing("clean old runs")?;
            stmt.query_map([cutoff], |r| r.get(0))
                .doing("clean old runs")?
                .collect::<Result<_, _>>()
                .doing("clean old runs")?
        };
        for id in &ids {
            tx.execute("DELETE FROM runs WHERE id = ?1", [id])
                .doing("clean old runs")?;
        }
        // What keys no attempt had any more were made of is not needed any more.
        tx.execute(
            "DELETE FROM manifests WHERE key NOT IN
                 (SELECT cache_key FROM attempts WHERE cache_key IS NOT NULL)",
            [],
        )
        .doing("clean old runs")?;
        tx.commit().doing("clean old runs")?;
        Ok(ids)
    }
}

/// The median of the last five successful durations of each task (seconds).
pub fn median_durations(store: &Store) -> Result<HashMap<String, f64>, StoreError> {
    let mut stmt = store
        .conn
        .prepare(
            "SELECT task_id, duration_secs FROM (
                 SELECT task_id, duration_secs,
                        ROW_NUMBER() OVER (PARTITION BY task_id ORDER BY ended_at DESC) AS n
                 FROM attempts WHERE status = 'succeeded' AND duration_secs IS NOT NULL)
             WHERE n <= 5",
        )
        .doing("read remembered durations")?;
    let mut all: HashMap<String, Vec<f64>> = HashMap::new();
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, f64>(1)?)))
        .doing("read remembered durations")?;
    for row in rows {
        let (task, d) = row.doing("read remembered durations")?;
        all.entry(task).or_default().push(d);
    }
    Ok(all
        .into_iter()
        .map(|(task, mut ds)| {
            ds.sort_by(f64::total_cmp);
            let n = ds.len();
            let median = if n % 2 == 1 {
                ds[n / 2]
            } else {
                (ds[n / 2 - 1] + ds[n / 2]) / 2.0
            };
            (task, median)
        })
        .collect())
}
