//! The spawn journal: one small append-only file per running run, written synchronously
//! on the dispatcher's thread at the end of each of its turns — so before the attempts
//! started in the turn spawn their processes — with starts, process groups and ends. A write to a file survives the writer being killed, so
//! after a crash the journal tells which attempts were started and which process groups
//! may still be alive, even when the SQLite writer thread had not committed them yet. The
//! runner so never waits on SQL, and recovery never misses a process. A run that ends
//! normally removes its journal.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// Where a run's journal lives.
pub(crate) fn journal_path(state_dir: &Path, run_id: &str) -> PathBuf {
    state_dir.join("journal").join(format!("{run_id}.jsonl"))
}

/// What a journal line says.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Entry {
    Started {
        task: String,
        attempt: u32,
    },
    Spawned {
        task: String,
        attempt: u32,
        pgid: u32,
        start: Option<u64>,
    },
    /// The attempt ended: its status word, exit code, end time, duration, log and key.
    Ended {
        task: String,
        attempt: u32,
        status: String,
        exit_code: Option<i64>,
        at: f64,
        duration: f64,
        log: Option<String>,
        cache_key: Option<String>,
    },
}

/// An open journal.
#[derive(Debug)]
pub(crate) struct Journal {
    file: File,
    path: PathBuf,
    /// Lines gathered in the dispatcher's current turn.
    pending: String,
}

impl Journal {
    pub(crate) fn create(state_dir: &Path, run_id: &str) -> std::io::Result<Journal> {
        let path = journal_path(state_dir, run_id);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(Journal {
            file,
            path,
            pending: String::new(),
        })
    }

    fn line(&mut self, value: serde_json::Value) {
        self.pending.push_str(&value.to_string());
        self.pending.push('\n');
    }

    /// Writes the gathered lines, in one write.
    pub(crate) fn flush(&mut self) {
        if !self.pending.is_empty() {
            let _ = self.file.write_all(self.pending.as_bytes());
            self.pending.clear();
        }
    }

    pub(crate) fn started(&mut self, task: &str, attempt: u32) {
        self.line(serde_json::json!(["started", task, attempt]));
    }

    pub(crate) fn spawned(&mut self, task: &str, attempt: u32, pgid: u32, start: Option<u64>) {
        self.line(serde_json::json!(["spawned", task, attempt, pgid, start]));
    }

    #[expect(clippy::too_many_arguments, reason = "one journal line's fields")]
    pub(crate) fn ended(
        &mut self,
        task: &str,
        attempt: u32,
        status: &str,
        exit_code: Option<i32>,
        at: f64,
        duration: f64,
        log: Option<&str>,
        cache_key: Option<&str>,
    ) {
        self.line(serde_json::json!([
            "ended", task, attempt, status, exit_code, at, duration, log, cache_key
        ]));
    }

    /// Removes the journal: everything in it is in the database.
    pub(crate) fn remove(mut self) {
        self.pending.clear();
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.flush();
    }
}

/// The entries of a journal (an unreadable or torn last line is skipped).
pub(crate) fn read(path: &Path) -> Vec<Entry> {
    let Ok(file) = File::open(path) else {
        return Vec::new();
    };
    BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| {
            let v: Vec<serde_json::Value> = serde_json::from_str(&line).ok()?;
            let task = v.get(1)?.as_str()?.to_owned();
            let attempt = u32::try_from(v.get(2)?.as_u64()?).ok()?;
            match v.first()?.as_str()? {
                "started" => Some(Entry::Started { task, attempt }),
                "spawned" => Some(Entry::Spawned {
                    task,
                    attempt,
                    pgid: u32::try_from(v.get(3)?.as_u64()?).ok()?,
                    start: v.get(4).and_then(serde_json::Value::as_u64),
                }),
                "ended" => Some(Entry::Ended {
                    task,
                    attempt,
                    status: v.get(3)?.as_str()?.to_owned(),
                    exit_code: v.get(4).and_then(serde_json::Value::as_i64),
                    at: v.get(5)?.as_f64()?,
                    duration: v.get(6)?.as_f64()?,
                    log: v.get(7).and_then(|l| l.as_str()).map(str::to_owned),
                    cache_key: v.get(8).and_then(|k| k.as_str()).map(str::to_owned),
                }),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_a_torn_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::create(dir.path(), "run1").unwrap();
        j.started("a\tb\n\"c\"", 1);
        j.spawned("a\tb\n\"c\"", 1, 4242, Some(99));
        j.ended(
            "a\tb\n\"c\"",
            1,
            "succeeded",
            Some(0),
            12.5,
            0.25,
            None,
            Some("k"),
        );
        j.flush();
        std::fs::OpenOptions::new()
            .append(true)
            .open(journal_path(dir.path(), "run1"))
            .unwrap()
            .write_all(b"[\"spawned\", \"x\"")
            .unwrap();
        let entries = read(&journal_path(dir.path(), "run1"));
        assert_eq!(
            entries,
            vec![
                Entry::Started {
                    task: "a\tb\n\"c\"".into(),
                    attempt: 1
                },
                Entry::Spawned {
                    task: "a\tb\n\"c\"".into(),
                    attempt: 1,
                    pgid: 4242,
                    start: Some(99)
                },
                Entry::Ended {
                    task: "a\tb\n\"c\"".into(),
                    attempt: 1,
                    status: "succeeded".into(),
                    exit_code: Some(0),
                    at: 12.5,
                    duration: 0.25,
                    log: None,
                    cache_key: Some("k".into())
                },
            ]
        );
        j.remove();
        assert!(!journal_path(dir.path(), "run1").exists());
    }
}
