//! The job log in GNU parallel's format: a header, then one tab-separated line per job as
//! it ends (`Seq Host Starttime JobRuntime Send Receive Exitval Signal Command`), so tools
//! written for `parallel --joblog` read it, and `--resume` / `--resume-failed` can read
//! either tool's log back.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use super::replace::with_slot;
use crate::events::{AttemptStatus, Event, EventSink};
use crate::window::Window;

/// The first line of every job log.
pub const JOBLOG_HEADER: &str =
    "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand";

/// One job's line.
#[derive(Clone, Debug, PartialEq)]
pub struct JoblogEntry {
    /// 1-based job number.
    pub seq: usize,
    pub start: SystemTime,
    pub runtime: Duration,
    /// Bytes the job was given on stdin (`--pipe`'s block).
    pub sent: u64,
    /// Bytes of output the job wrote.
    pub received: u64,
    /// The exit status; -1 when the job was killed for a timeout.
    pub exit_value: i32,
    /// The signal that killed it, or 0.
    pub signal: i32,
    pub command: String,
}

impl JoblogEntry {
    /// When the job started, in seconds since the epoch.
    pub fn start_seconds(&self) -> f64 {
        self.start
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64()
    }

    /// The line as GNU parallel writes it (no newline): times with three decimals, the
    /// runtime right-aligned in ten columns, the host `:` for the local machine.
    pub fn line(&self) -> String {
        let start = self.start_seconds();
        format!(
            "{}\t:\t{:.3}\t{:>10.3}\t{}\t{}\t{}\t{}\t{}",
            self.seq,
            start,
            self.runtime.as_secs_f64(),
            self.sent,
            self.received,
            self.exit_value,
            self.signal,
            self.command
        )
    }
}

/// Appends lines to a job log, each written out as soon as its job ends (so that an
/// interrupted run leaves a log `--resume` can trust).
pub struct JoblogWriter {
    target: Target,
}

enum Target {
    File(BufWriter<File>),
    /// `--joblog -`: each job's line, by job, until it is taken to go out on stdout after
    /// the job's output.
    Stdout(Vec<(usize, String)>),
}

impl JoblogWriter {
    /// Opens `path`: appending when resuming a log that exists, else starting it afresh
    /// with the header. `-` is stdout, as in GNU parallel: the header goes out now, and
    /// each job's line is held for [`JoblogWriter::take_stdout_lines`].
    pub fn open(path: &Path, resume: bool) -> io::Result<JoblogWriter> {
        if is_stdout(path) {
            let mut out = io::stdout().lock();
            writeln!(out, "{JOBLOG_HEADER}")?;
            out.flush()?;
            return Ok(JoblogWriter {
                target: Target::Stdout(Vec::new()),
            });
        }
        let append = resume && path.exists();
        let file = if append {
            OpenOptions::new().append(true).open(path)?
        } else {
            File::create(path)?
        };
        let mut file = BufWriter::new(file);
        if !append {
            writeln!(file, "{JOBLOG_HEADER}")?;
            file.flush()?;
        }
        Ok(JoblogWriter {
            target: Target::File(file),
        })
    }

    /// The lines of jobs that ended since the last call, each with its job's index, for
    /// a log on stdout; none for a log in a file.
    pub fn take_stdout_lines(&mut self) -> Vec<(usize, String)> {
        match &mut self.target {
            Target::Stdout(lines) => std::mem::take(lines),
            Target::File(_) => Vec::new(),
        }
    }

    fn write(&mut self, index: usize, entry: &JoblogEntry) -> io::Result<()> {
        match &mut self.target {
            Target::File(file) => {
                file.write_all(&crate::bytes::encode(&entry.line()))?;
                file.write_all(b"\n")?;
                file.flush()
            }
            Target::Stdout(lines) => {
                lines.push((index, entry.line()));
                Ok(())
            }
        }
    }
}

/// Whether a job log's name stands for stdout (`--joblog -`).
fn is_stdout(path: &Path) -> bool {
    path == Path::new("-")
}

/// Where a [`JoblogRecorder`] puts each job's record: the job log, or the results table
/// (`--results FILE.csv`), which also holds the job's inputs and output.
pub trait JobRecords {
    /// Task `index` ended for good as `entry` says; its stdout and stderr are in the
    /// files `output` names (none: it wrote nothing there), or `None` for a job that did
    /// not run (skipped).
    fn record(
        &mut self,
        index: usize,
        entry: &JoblogEntry,
        output: Option<(Option<&Path>, Option<&Path>)>,
    ) -> io::Result<()>;

    /// Task `index` ended for good, or will never run, and gets no record (fanout
    /// cancelled it, or it is not part of the run).
    fn forget(&mut self, _index: usize) {}
}

impl JobRecords for JoblogWriter {
    fn record(
        &mut self,
        index: usize,
        entry: &JoblogEntry,
        _: Option<(Option<&Path>, Option<&Path>)>,
    ) -> io::Result<()> {
        self.write(index, entry)
    }
}

/// A job as the job log lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedJob {
    /// Exit value 0 and no signal.
    pub ok: bool,
    pub command: String,
}

/// What a job log says about the jobs it lists, by job number. A job listed twice counts
/// by its last line. A log on stdout (`-`) lists nothing.
pub fn read_joblog(path: &Path) -> io::Result<HashMap<usize, LoggedJob>> {
    if is_stdout(path) {
        return Ok(HashMap::new());
    }
    let text = match std::fs::read(path) {
        Ok(bytes) => crate::bytes::decode_owned(bytes),
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(err) => return Err(err),
    };
    let mut jobs = HashMap::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.splitn(9, '\t').collect();
        let [seq, _, _, _, _, _, exit, signal, command] = fields.as_slice() else {
            continue;
        };
        // The header and damaged lines have no job number.
        let Ok(seq) = seq.trim().parse::<usize>() else {
            continue;
        };
        let ok = exit.trim() == "0" && signal.trim() == "0";
        let command = (*command).to_owned();
        jobs.insert(seq, LoggedJob { ok, command });
    }
    Ok(jobs)
}

/// Writes a job's line to the job log (or its row to the results table) as each job ends
/// for good. Jobs fanout cancelled (interrupt, `--halt now`) get no line, so that
/// `--resume` runs them again.
pub struct JoblogRecorder<W: JobRecords = JoblogWriter> {
    writer: W,
    /// What the Receive column counts.
    received: Received,
    /// Per task, until its line is written.
    jobs: Window<Option<Job>>,
    /// The first error writing the log, for the caller to report.
    error: Option<io::Error>,
}

/// What a job log's Receive column counts, as GNU parallel counts it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Received {
    /// The job's stdout (grouped output, the default).
    #[default]
    Stdout,
    /// Its stdout and its stderr (`--line-buffer`).
    Both,
    /// Nothing (`--ungroup`: the output went straight out, uncounted).
    Nothing,
}

impl Received {
    /// What is counted with `--ungroup` and `--line-buffer` given or not.
    pub fn with(ungroup: bool, line_buffer: bool) -> Received {
        match (ungroup, line_buffer) {
            (true, _) => Received::Nothing,
            (false, true) => Received::Both,
            (false, false) => Received::Stdout,
        }
    }
}

/// The bytes a job is given on stdin: known when the job is made, or counted while it
/// runs (`--round-robin` deals blocks to running jobs).
#[derive(Clone, Debug)]
pub enum Sent {
    Known(u64),
    Counted(Arc<AtomicU64>),
}

impl Default for Sent {
    fn default() -> Self {
        Sent::Known(0)
    }
}

impl Sent {
    /// Whether the job is known to be given nothing.
    pub fn is_known_empty(&self) -> bool {
        matches!(self, Sent::Known(0))
    }

    pub fn bytes(&self) -> u64 {
        match self {
            Sent::Known(bytes) => *bytes,
            Sent::Counted(count) => count.load(Ordering::Relaxed),
        }
    }
}

/// What the log says of a job besides how it ended.
struct Job {
    command: String,
    /// The bytes it is given on stdin.
    sent: Sent,
    /// When its latest attempt started, and in which slot.
    start: Option<SystemTime>,
    slot: usize,
}

impl<W: JobRecords> JoblogRecorder<W> {
    pub fn new(writer: W) -> Self {
        JoblogRecorder {
            writer,
            received: Received::Stdout,
            jobs: Window::new(),
            error: None,
        }
    }

    /// The recorder, its Receive column counting `received`.
    pub fn counting(mut self, received: Received) -> Self {
        self.received = received;
        self
    }

    /// The next task, added while the run is under way: its command line and the bytes it
    /// is given on stdin.
    pub fn add_job(&mut self, command: String, sent: Sent) {
        self.jobs.push(Some(Job {
            command,
            sent,
            start: None,
            slot: 1,
        }));
    }

    /// Task `index`, skipped (`{uniq}`, `{choose_k}`), as GNU parallel logs a skipped
    /// job: exit value -2, no time.
    pub fn skipped(&mut self, index: usize) {
        let Some(job) = self.jobs.take(index) else {
            return;
        };
        let entry = JoblogEntry {
            seq: index + 1,
            start: SystemTime::now(),
            runtime: std::time::Duration::ZERO,
            sent: 0,
            received: 0,
            exit_value: -2,
            signal: 0,
            command: with_slot(&job.command, 1).into_owned(),
        };
        if let Err(err) = self.writer.record(index, &entry, None)
            && self.error.is_none()
        {
            self.error = Some(err);
        }
    }

    /// Task `index` will not run (it is not part of the run) or was cancelled: it gets no
    /// line.
    pub fn forget(&mut self, index: usize) {
        self.jobs.take(index);
        self.writer.forget(index);
    }

    /// The writer.
    pub fn writer_mut(&mut self) -> &mut W {
        &mut self.writer
    }

    /// The first error met writing the log, if any.
    pub fn into_error(self) -> Option<io::Error> {
        self.error
    }
}

impl<W: JobRecords> EventSink for JoblogRecorder<W> {
    fn emit(&mut self, event: &Event) {
        match event {
            Event::TaskStarted {
                index, at, slot, ..
            } => {
                if let Some(job) = self.jobs.value_mut(*index) {
                    job.start = Some(*at);
                    job.slot = *slot;
                }
            }
            Event::AttemptFinished {
                index,
                status,
                duration,
                at,
                log,
                stderr_log,
                retry_in: None,
                ..
            } => {
                let (exit_value, signal) = match status {
                    AttemptStatus::Success | AttemptStatus::Cached { .. } => (0, 0),
                    AttemptStatus::Failed { exit_code } => (*exit_code, 0),
                    AttemptStatus::Signaled { signal } => (0, *signal),
                    AttemptStatus::TimedOut { .. } => (-1, nix::libc::SIGTERM),
                    AttemptStatus::SpawnFailed { .. } => (127, 0),
                    AttemptStatus::MergeConflict { .. } | AttemptStatus::WorkspaceFailed { .. } => {
                        (1, 0)
                    }
                    AttemptStatus::AgentFailed { .. } => (1, 0),
                    AttemptStatus::Cancelled => {
                        self.forget(*index);
                        return;
                    }
                };
                let Some(job) = self.jobs.take(*index) else {
                    return;
                };
                let entry = JoblogEntry {
                    seq: index + 1,
                    start: job.start.unwrap_or(*at),
                    runtime: *duration,
                    sent: job.sent.bytes(),
                    received: {
                        let size = |path: Option<&std::path::Path>| {
                            path.and_then(|p| p.metadata().ok()).map_or(0, |m| m.len())
                        };
                        match self.received {
                            Received::Stdout => size(log.as_deref()),
                            Received::Both => size(log.as_deref()) + size(stderr_log.as_deref()),
                            Received::Nothing => 0,
                        }
                    },
                    exit_value,
                    signal,
                    command: with_slot(&job.command, job.slot).into_owned(),
                };
                let output = Some((log.as_deref(), stderr_log.as_deref()));
                if let Err(err) = self.writer.record(*index, &entry, output)
                    && self.error.is_none()
                {
                    self.error = Some(err);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_look_like_gnu_parallels() {
        let entry = JoblogEntry {
            seq: 12,
            start: SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_328_639_797),
            runtime: Duration::from_millis(3),
            sent: 7,
            received: 2,
            exit_value: 1,
            signal: 0,
            command: "echo 1; exit 1".into(),
        };
        assert_eq!(
            entry.line(),
            "12\t:\t1795328639.797\t     0.003\t7\t2\t1\t0\techo 1; exit 1"
        );
    }

    #[test]
    fn a_log_reads_back_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let entry = |seq, exit_value, signal| JoblogEntry {
            seq,
            start: SystemTime::now(),
            runtime: Duration::from_millis(5),
            sent: 0,
            received: 0,
            exit_value,
            signal,
            command: "x\ty".into(),
        };
        let mut writer = JoblogWriter::open(&path, false).unwrap();
        writer.write(0, &entry(1, 0, 0)).unwrap();
        writer.write(0, &entry(2, 3, 0)).unwrap();
        drop(writer);
        let mut writer = JoblogWriter::open(&path, true).unwrap();
        writer.write(0, &entry(3, 0, 9)).unwrap();
        writer.write(0, &entry(2, 0, 0)).unwrap();
        drop(writer);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().next(), Some(JOBLOG_HEADER));
        assert_eq!(text.matches("Seq\t").count(), 1);
        let jobs = read_joblog(&path).unwrap();
        let ok: HashMap<usize, bool> = jobs.iter().map(|(&seq, job)| (seq, job.ok)).collect();
        assert_eq!(ok, HashMap::from([(1, true), (2, true), (3, false)]));
        assert_eq!(jobs[&3].command, entry(3, 0, 9).command);
        assert!(read_joblog(&dir.path().join("missing")).unwrap().is_empty());
    }
}
