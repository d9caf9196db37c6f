//! Each job's output on fanout's own stdout and stderr, GNU parallel's way: a job's
//! output printed whole when it ends (`--group`), or line by line as it is written, whole
//! lines never mixed (`--line-buffer`), optionally in job order however the jobs
//! finish (`--keep-order`: with `--line-buffer`, the oldest unfinished job's lines go out
//! as they come and the others' wait their turn), optionally each line tagged with the
//! job's inputs (`--tag`) and coloured (`--color`), each job's command line first (`-v`),
//! with an optional progress bar on stderr (`--bar`), or nothing printed when the output
//! is kept elsewhere (`--results`). Reads the attempt logs the runner wrote (stdout in the log, stderr in
//! its own file beside it), or with `--line-buffer` the lines it streams; output of
//! attempts that will be retried is dropped where it has not gone out yet. An attempt's
//! log files are removed once done with (printed, or dropped), so that a long run does not
//! keep them all; a sink that reads them too (`--results`) comes before this one. A halt
//! policy that fires is announced on stderr.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::events::{Event, EventSink, StopCause};
use crate::map::{COLOR_FAILED, COLOR_RESET, job_color, with_slot};
use crate::window::Window;

/// How the job output reporter prints.
#[derive(Clone, Debug, Default)]
pub struct JobOutputOptions {
    /// Print jobs' output in job order rather than as they end.
    pub keep_order: bool,
    /// Prefix each line with the job's tag and a tab.
    pub tag: bool,
    /// Colour each job's lines, a colour per job by its number (`--color`).
    pub color: bool,
    /// Colour a failed job's lines white on red (`--color-failed`).
    pub color_failed: bool,
    /// Draw a progress bar on stderr.
    pub bar: bool,
    /// Print lines as they come (the run must stream them: `RunOptions::stream_lines`).
    pub line_buffer: bool,
    /// Per task: its command line, printed on stdout before its output (`-v`).
    pub commands: Option<Vec<String>>,
    /// Print no job output at all (it is kept elsewhere: `--results`).
    pub silent: bool,
    /// `--files`: keep each job's stdout in a file of its own in this directory, and print
    /// the file's name instead of the output; stderr is dropped. A job given a file name
    /// ([`JobOutput::set_output_file`]) has its name printed instead.
    pub files: Option<PathBuf>,
}

/// A line of output, and whether it went to stderr.
type Line = (bool, Vec<u8>);

/// A finished job's output.
#[derive(Clone, Debug)]
enum Finished {
    /// In its log files.
    Logs {
        stdout: Option<PathBuf>,
        stderr: Option<PathBuf>,
    },
    /// Lines held back while another job's went out.
    Lines(Vec<Line>),
}

/// What is known of a job that takes part in the run, until its output went out.
#[derive(Debug)]
struct Job {
    /// The tag its lines get.
    tag: String,
    /// Its command line, printed before its output (`-v`).
    command: Option<String>,
    /// The slot its latest attempt held, for `{%}` in tags and commands.
    slot: usize,
    /// With `--line-buffer` and commands to print: its command went out.
    announced: bool,
    /// With `--files`: where its stdout is kept already (`--results DIR`).
    output_file: Option<PathBuf>,
    /// Its last attempt failed (`--color-failed`).
    failed: bool,
}

/// See the module documentation.
pub struct JobOutput {
    options: JobOutputOptions,
    /// Per task: the job, until its output went out; `None` for one that does not take
    /// part in the run (`--keep-order` waits only for those that do).
    jobs: Window<Option<Job>>,
    /// With `--keep-order`: the next task to print, and finished tasks waiting for it.
    next: usize,
    waiting: BTreeMap<usize, Finished>,
    /// With `--line-buffer --keep-order`: lines of running jobs whose turn has not come.
    held: BTreeMap<usize, Vec<Line>>,
    /// With `--line-buffer`: the attempt of each running job; lines of any other (one
    /// that ended, a process left behind by it) are not the job's output.
    running: BTreeMap<usize, u32>,
    /// Lines that go out on stdout after a job's output (`--joblog -`), by job, until
    /// they do.
    trailers: BTreeMap<usize, String>,
    bar: Option<ProgressBar>,
    /// Where the output goes instead of fanout's own stdout and stderr (for tests).
    captured: Option<std::cell::RefCell<(Vec<u8>, Vec<u8>)>>,
}

impl JobOutput {
    /// `tags[i]`: the tag of task i's lines; `selected[i]`: task i takes part.
    pub fn new(mut options: JobOutputOptions, tags: Vec<String>, selected: Vec<bool>) -> Self {
        let bar = options.bar.then(|| {
            let total = selected.iter().filter(|s| **s).count() as u64;
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{percent:>3}% {pos}:{len} eta {eta} [{bar:30}]")
                    .expect("the template is valid")
                    .progress_chars("=> "),
            );
            bar
        });
        let mut commands = options
            .commands
            .as_mut()
            .map(|c| std::mem::take(c).into_iter());
        let jobs = tags
            .into_iter()
            .zip(selected)
            .map(|(tag, selected)| {
                let command = commands.as_mut().and_then(Iterator::next);
                selected.then(|| Job::new(tag, command))
            })
            .collect();
        JobOutput {
            options,
            jobs,
            next: 0,
            waiting: BTreeMap::new(),
            held: BTreeMap::new(),
            running: BTreeMap::new(),
            trailers: BTreeMap::new(),
            bar,
            captured: None,
        }
    }

    /// The next task, added while the run is under way: the tag of its lines, its command
    /// line (printed with `-v`), and whether it takes part.
    pub fn add_job(&mut self, tag: String, command: String, selected: bool) {
        let command = self.options.commands.is_some().then_some(command);
        self.jobs.push(selected.then(|| Job::new(tag, command)));
        if let Some(bar) = self.bar.as_ref().filter(|_| selected) {
            bar.inc_length(1);
        }
    }

    /// The next task, added while the run is under way, that will not run (`{uniq}`,
    /// `--filter` skip it): as in GNU parallel, its command line goes out with `-v` in its
    /// place, as if it ran and wrote nothing.
    pub fn add_skipped_job(&mut self, tag: String, command: String) {
        let index = self.jobs.len();
        let line = self.options.commands.is_some().then(|| {
            let line = format!("{}\n", with_slot(&command, 1));
            (false, crate::bytes::encode(&line).into_owned())
        });
        self.jobs.push(Some(Job::new(tag, None)));
        // With --files, an empty file's name, as GNU parallel prints for a job it skipped.
        let job = match (&self.options.files, line) {
            (Some(_), None) => Finished::Logs {
                stdout: None,
                stderr: None,
            },
            (_, line) => Finished::Lines(line.into_iter().collect()),
        };
        self.finished(index, job);
    }

    /// With `--files`: job `index`'s stdout is kept in `path` already; print that name.
    pub fn set_output_file(&mut self, index: usize, path: PathBuf) {
        if let Some(job) = self.jobs.value_mut(index) {
            job.output_file = Some(path);
        }
    }

    /// With `--files`: the name to print for job `index` whose stdout is in `stdout` (none:
    /// it wrote nothing), its stdout moved to a file of its own in `dir` if it has none.
    fn keep_output(&self, index: usize, dir: &Path, stdout: Option<&Path>) -> io::Result<PathBuf> {
        if let Some(path) = self.jobs.value(index).and_then(|j| j.output_file.clone()) {
            return Ok(path);
        }
        let (_, path) = tempfile::Builder::new()
            .prefix("par")
            .suffix(".par")
            .rand_bytes(5)
            .tempfile_in(dir)?
            .keep()
            .map_err(|e| e.error)?;
        // Named under `dir` as given, as GNU parallel names it.
        let path = match path.file_name() {
            Some(name) => dir.join(name),
            None => path,
        };
        if let Some(stdout) = stdout
            && std::fs::rename(stdout, &path).is_err()
        {
            std::fs::copy(stdout, &path)?;
        }
        Ok(path)
    }

    /// How many jobs are held (their output has not gone out), for tests of bounded
    /// memory.
    pub fn held_jobs(&self) -> usize {
        self.jobs.held().len()
    }

    /// Whether job `index` takes part in the run and its output has not gone out yet.
    fn pending(&self, index: usize) -> bool {
        self.jobs.value(index).is_some()
    }

    /// The job whose output is next to go out (`--keep-order`).
    fn next_pending(&self) -> usize {
        let mut next = self.next.max(self.jobs.held().start);
        while next < self.jobs.len() && !self.pending(next) {
            next += 1;
        }
        next
    }

    /// Writes to `out` (with `stderr` false) or `err`'s stream.
    fn write(&self, stderr: bool, f: impl FnOnce(&mut dyn Write) -> io::Result<()>) {
        // A closed stdout or stderr is not our error to report.
        let _ = match (&self.captured, stderr) {
            (Some(c), false) => f(&mut c.borrow_mut().0),
            (Some(c), true) => f(&mut c.borrow_mut().1),
            (None, false) => f(&mut io::stdout().lock()),
            (None, true) => f(&mut io::stderr().lock()),
        };
    }

    /// A line to go out on stdout after job `index`'s output (its line of `--joblog -`):
    /// now, if that output went out already (or the job has none: it did not run), else
    /// when it does. With `--keep-order`, lines of jobs that did not run wait their turn
    /// too.
    pub fn trail(&mut self, index: usize, line: String) {
        let waits = if self.options.keep_order {
            index >= self.next
        } else {
            self.pending(index)
        };
        if waits {
            self.trailers.insert(index, line);
        } else {
            self.print_trailer(&line);
        }
    }

    fn print_trailer(&self, line: &str) {
        let print = || {
            self.write(false, |out| {
                out.write_all(&crate::bytes::encode(line))?;
                out.write_all(b"\n")
            })
        };
        match &self.bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    /// Prints the waiting lines of jobs before `end`, in order.
    fn print_trailers_before(&mut self, end: usize) {
        let later = self.trailers.split_off(&end);
        for line in std::mem::replace(&mut self.trailers, later).into_values() {
            self.print_trailer(&line);
        }
    }

    /// Job `index`'s output went out for good: its logs go, and the line after it comes.
    fn done(&mut self, index: usize, job: &Finished) {
        discard(job);
        self.jobs.take(index);
        if let Some(line) = self.trailers.remove(&index) {
            self.print_trailer(&line);
        }
    }

    fn finished(&mut self, index: usize, job: Finished) {
        if !self.options.keep_order {
            self.print(index, &job);
            self.done(index, &job);
            return;
        }
        self.waiting.insert(index, job);
        loop {
            let next = self.next_pending();
            // Jobs passed over did not run; their lines go out in their place.
            self.print_trailers_before(next);
            self.next = next;
            let Some(job) = self.waiting.remove(&self.next) else {
                break;
            };
            self.print(self.next, &job);
            self.done(self.next, &job);
            self.next += 1;
        }
        // The job whose turn it now is goes out live: first what it wrote so far.
        if let Some(lines) = self.held.remove(&self.next) {
            self.print(self.next, &Finished::Lines(lines));
        }
    }

    /// Whether `index`'s lines go out as they come.
    fn live(&self, index: usize) -> bool {
        !self.options.keep_order || index == self.next_pending()
    }

    fn line(&mut self, index: usize, stderr: bool, line: &[u8]) {
        if self.live(index) {
            let job = Finished::Lines(vec![(stderr, line.to_vec())]);
            self.print(index, &job);
        } else {
            self.held
                .entry(index)
                .or_default()
                .push((stderr, line.to_vec()));
        }
    }

    /// Prints what is still waiting (jobs after one that never ran), in order.
    fn flush(&mut self) {
        let mut left = std::mem::take(&mut self.waiting);
        for (index, lines) in std::mem::take(&mut self.held) {
            left.entry(index).or_insert(Finished::Lines(lines));
        }
        for (index, job) in left {
            self.print_trailers_before(index);
            self.print(index, &job);
            self.done(index, &job);
        }
        self.print_trailers_before(usize::MAX);
    }

    /// The command line to print before `index`'s output, with its newline (`-v`).
    fn command(&self, index: usize) -> Option<Vec<u8>> {
        let job = self.jobs.value(index)?;
        let command = with_slot(job.command.as_deref()?, job.slot);
        Some(crate::bytes::encode(&format!("{command}\n")).into_owned())
    }

    /// With `--line-buffer`: the job's command goes out (or waits its turn) as it starts,
    /// once however often the job is tried, unless what waited was dropped with an attempt.
    fn announce(&mut self, index: usize) {
        if self.jobs.value(index).is_none_or(|job| job.announced) {
            return;
        }
        let Some(command) = self.command(index) else {
            return;
        };
        if let Some(job) = self.jobs.value_mut(index) {
            job.announced = true;
        }
        self.line(index, false, &command);
    }

    /// How `index`'s lines are dressed: its tag, and its colour.
    fn dress(&self, index: usize) -> Dress {
        let job = self.jobs.value(index);
        let tag = match (self.options.tag, job) {
            (false, _) => Vec::new(),
            (true, Some(job)) => {
                crate::bytes::encode(&format!("{}\t", with_slot(&job.tag, job.slot))).into_owned()
            }
            (true, None) => b"\t".to_vec(),
        };
        let failed = self.options.color_failed && job.is_some_and(|job| job.failed);
        let color = if failed {
            Some((COLOR_FAILED, COLOR_RESET))
        } else if self.options.color {
            Some((job_color(index + 1), COLOR_RESET))
        } else if self.options.color_failed {
            // As GNU parallel: lines go through the colouring, with no colour.
            Some(("", ""))
        } else {
            None
        };
        Dress { tag, color }
    }

    fn print(&self, index: usize, job: &Finished) {
        if self.options.silent {
            return;
        }
        let dress = self.dress(index);
        if let (Some(dir), Finished::Logs { stdout, .. }) = (&self.options.files, job) {
            let line = match self.keep_output(index, dir, stdout.as_deref()) {
                Ok(path) => {
                    let mut line = path.as_os_str().as_encoded_bytes().to_vec();
                    line.push(b'\n');
                    line
                }
                Err(err) => {
                    eprintln!(
                        "fanout map: could not keep job {}'s output: {err}",
                        index + 1
                    );
                    return;
                }
            };
            // A file's name is tagged, never coloured, as in GNU parallel.
            let dress = Dress {
                tag: dress.tag,
                color: None,
            };
            let print = || self.write(false, |out| dress.write_line(out, &line));
            match &self.bar {
                Some(bar) => bar.suspend(print),
                None => print(),
            }
            return;
        }
        let print = || match job {
            Finished::Logs { stdout, stderr } => {
                if let Some(command) = self.command(index) {
                    self.write(false, |out| dress.write_line(out, &command));
                }
                if let Some(path) = stdout {
                    self.write(false, |out| dress.copy_file(path, out));
                }
                if let Some(path) = stderr {
                    self.write(true, |out| dress.copy_file(path, out));
                }
            }
            Finished::Lines(lines) => {
                for (stderr, line) in lines {
                    self.write(*stderr, |out| dress.write_line(out, line));
                }
            }
        };
        match &self.bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }
}

impl Job {
    fn new(tag: String, command: Option<String>) -> Job {
        Job {
            tag,
            command,
            slot: 1,
            announced: false,
            output_file: None,
            failed: false,
        }
    }
}

/// Removes a printed job's log files.
fn discard(job: &Finished) {
    if let Finished::Logs { stdout, stderr } = job {
        remove_logs(stdout.as_deref(), stderr.as_deref());
    }
}

/// Removes an attempt's log files (`stdout`: none when it wrote nothing there).
fn remove_logs(stdout: Option<&Path>, stderr: Option<&Path>) {
    for path in [stdout, stderr].into_iter().flatten() {
        let _ = std::fs::remove_file(path);
    }
}

/// How a job's lines are dressed, as GNU parallel dresses them: after its tag and a tab
/// (`--tag`), and on its colour (`--color`).
struct Dress {
    /// The tag and its tab, or nothing.
    tag: Vec<u8>,
    /// The colour a line starts with, and what ends it.
    color: Option<(&'static str, &'static str)>,
}

impl Dress {
    /// Writes one line (its newline, if it has one, last). A tag also follows each
    /// carriage return within the line. A coloured line ends its colour before each carriage
    /// return and starts it again after, and always ends with a newline.
    fn write_line(&self, out: &mut dyn Write, line: &[u8]) -> io::Result<()> {
        self.put(out, line)?;
        out.flush()
    }

    /// [`Dress::write_line`], unflushed.
    fn put(&self, out: &mut dyn Write, line: &[u8]) -> io::Result<()> {
        let tag = &self.tag[..];
        match self.color {
            None if tag.is_empty() => out.write_all(line)?,
            None => {
                out.write_all(tag)?;
                let mut rest = line;
                while let Some(at) = rest.iter().position(|b| *b == b'\r')
                    && at + 1 < rest.len()
                {
                    out.write_all(&rest[..=at])?;
                    out.write_all(tag)?;
                    rest = &rest[at + 1..];
                }
                out.write_all(rest)?;
            }
            Some((color, reset)) => {
                let line = line.strip_suffix(b"\n").unwrap_or(line);
                let mut parts = line.split(|b| *b == b'\r');
                let first = parts.next().unwrap_or_default();
                out.write_all(color.as_bytes())?;
                out.write_all(tag)?;
                out.write_all(first)?;
                for part in parts {
                    out.write_all(reset.as_bytes())?;
                    out.write_all(b"\r")?;
                    out.write_all(color.as_bytes())?;
                    out.write_all(tag)?;
                    out.write_all(part)?;
                }
                out.write_all(reset.as_bytes())?;
                out.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    /// Copies a log to `out`, each line dressed. A missing file (no output) copies nothing.
    fn copy_file(&self, path: &Path, out: &mut dyn Write) -> io::Result<()> {
        let Ok(file) = File::open(path) else {
            return Ok(());
        };
        let mut reader = BufReader::new(file);
        if self.tag.is_empty() && self.color.is_none() {
            io::copy(&mut reader, out)?;
        } else {
            let mut line = Vec::new();
            while reader.read_until(b'\n', &mut line)? > 0 {
                self.put(out, &line)?;
                line.clear();
            }
        }
        out.flush()
    }
}

impl EventSink for JobOutput {
    fn emit(&mut self, event: &Event) {
        match event {
            Event::TaskStarted {
                index,
                attempt,
                slot,
                ..
            } => {
                if let Some(job) = self.jobs.value_mut(*index) {
                    job.slot = *slot;
                }
                if self.options.line_buffer {
                    self.running.insert(*index, *attempt);
                    self.announce(*index);
                }
            }
            Event::OutputLine {
                index,
                attempt,
                stderr,
                line,
            } if self.options.line_buffer && self.running.get(index) == Some(attempt) => {
                self.line(*index, *stderr, line);
            }
            Event::AttemptFinished {
                index,
                log,
                stderr_log,
                retry_in: Some(_),
                ..
            } => {
                // What an attempt that will be retried wrote is not the job's output. Its
                // command, if it was waiting with that output, goes out with the next try.
                if self.options.line_buffer {
                    self.running.remove(index);
                    if self.held.remove(index).is_some()
                        && let Some(job) = self.jobs.value_mut(*index)
                    {
                        job.announced = false;
                    }
                }
                remove_logs(log.as_deref(), stderr_log.as_deref());
            }
            Event::AttemptFinished {
                index,
                status,
                log,
                stderr_log,
                retry_in: None,
                ..
            } => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
                if let Some(job) = self.jobs.value_mut(*index) {
                    job.failed = !status.is_success();
                }
                let job = if self.options.line_buffer {
                    // The lines are here; the logs are not needed.
                    remove_logs(log.as_deref(), stderr_log.as_deref());
                    self.running.remove(index);
                    if self.live(*index) {
                        // Out already, line by line.
                        Finished::Lines(Vec::new())
                    } else {
                        Finished::Lines(self.held.remove(index).unwrap_or_default())
                    }
                } else {
                    Finished::Logs {
                        stdout: log.clone(),
                        stderr: stderr_log.clone(),
                    }
                };
                self.finished(*index, job);
            }
            Event::RunStopping {
                cause: StopCause::Halt { task, now },
            } => {
                let running = if *now {
                    "terminating running jobs"
                } else {
                    "waiting for running jobs to finish"
                };
                let line = format!("fanout: halting after job {task}; {running}");
                match &self.bar {
                    Some(bar) => bar.println(line),
                    None => eprintln!("{line}"),
                }
            }
            Event::RunFinished { .. } => {
                self.flush();
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;

    fn line_buffered(keep_order: bool, jobs: usize) -> JobOutput {
        let mut out = JobOutput::new(
            JobOutputOptions {
                keep_order,
                line_buffer: true,
                tag: true,
                ..JobOutputOptions::default()
            },
            (1..=jobs).map(|j| format!("j{j}")).collect(),
            vec![true; jobs],
        );
        out.captured = Some(Default::default());
        out
    }

    fn started(index: usize, attempt: u32) -> Event {
        Event::TaskStarted {
            index,
            task: format!("{}", index + 1),
            attempt,
            slot: 1,
            at: SystemTime::UNIX_EPOCH,
            offset: Duration::ZERO,
        }
    }

    fn line(index: usize, attempt: u32, text: &str) -> Event {
        Event::OutputLine {
            index,
            attempt,
            stderr: false,
            line: text.as_bytes().to_vec(),
        }
    }

    fn finished(index: usize, attempt: u32, retry_in: Option<Duration>) -> Event {
        Event::test_finished(
            index,
            attempt,
            crate::events::AttemptStatus::Success,
            retry_in,
        )
    }

    fn stdout(out: &JobOutput) -> String {
        let captured = out.captured.as_ref().unwrap().borrow();
        String::from_utf8(captured.0.clone()).unwrap()
    }

    #[test]
    fn keep_order_with_line_buffer_streams_the_oldest_job_and_holds_the_others() {
        let mut out = line_buffered(true, 2);
        out.emit(&started(0, 1));
        out.emit(&started(1, 1));
        out.emit(&line(1, 1, "b1\n"));
        out.emit(&line(0, 1, "a1\n"));
        // Job 1 is the oldest: its line is out, job 2's waits.
        assert_eq!(stdout(&out), "j1\ta1\n");
        out.emit(&finished(1, 1, None));
        assert_eq!(stdout(&out), "j1\ta1\n");
        out.emit(&line(0, 1, "a2\n"));
        out.emit(&finished(0, 1, None));
        assert_eq!(stdout(&out), "j1\ta1\nj1\ta2\nj2\tb1\n");
    }

    #[test]
    fn lines_of_a_retried_or_ended_attempt_are_dropped_where_not_yet_out() {
        let mut out = line_buffered(true, 2);
        out.emit(&started(0, 1));
        out.emit(&started(1, 1));
        out.emit(&line(1, 1, "first try\n"));
        out.emit(&finished(1, 1, Some(Duration::ZERO)));
        out.emit(&started(1, 2));
        out.emit(&line(1, 2, "second try\n"));
        // A process of the first attempt left behind writes on: not the job's output.
        out.emit(&line(1, 1, "stray\n"));
        out.emit(&finished(1, 2, None));
        out.emit(&line(1, 2, "after the end\n"));
        out.emit(&finished(0, 1, None));
        assert_eq!(stdout(&out), "j2\tsecond try\n");
    }

    #[test]
    fn commands_go_out_once_before_their_jobs_lines() {
        let mut out = JobOutput::new(
            JobOutputOptions {
                keep_order: true,
                line_buffer: true,
                tag: true,
                commands: Some(vec!["echo a".into(), "echo b".into()]),
                ..JobOutputOptions::default()
            },
            vec!["j1".into(), "j2".into()],
            vec![true; 2],
        );
        out.captured = Some(Default::default());
        out.emit(&started(0, 1));
        out.emit(&started(1, 1));
        out.emit(&line(1, 1, "b try 1\n"));
        // Job 2 waits its turn; its first try's command and line are dropped with it.
        out.emit(&finished(1, 1, Some(Duration::ZERO)));
        out.emit(&started(1, 2));
        out.emit(&line(0, 1, "a\n"));
        out.emit(&finished(0, 1, None));
        // Job 2 is live now; a retry after this does not print its command again.
        out.emit(&line(1, 2, "b try 2\n"));
        out.emit(&finished(1, 2, Some(Duration::ZERO)));
        out.emit(&started(1, 3));
        out.emit(&line(1, 3, "b try 3\n"));
        out.emit(&finished(1, 3, None));
        assert_eq!(
            stdout(&out),
            "j1\techo a\nj1\ta\nj2\techo b\nj2\tb try 2\nj2\tb try 3\n"
        );
    }

    #[test]
    fn a_job_is_let_go_of_once_its_output_and_all_before_it_went_out() {
        for keep_order in [true, false] {
            let mut out = line_buffered(keep_order, 0);
            out.add_job("j1".into(), String::new(), true);
            out.add_job("j2".into(), String::new(), false);
            out.add_job("j3".into(), String::new(), true);
            out.add_job("j4".into(), String::new(), true);
            for index in [0, 2, 3] {
                out.emit(&started(index, 1));
            }
            out.emit(&line(3, 1, "d\n"));
            out.emit(&finished(3, 1, None));
            // Job 1 still runs: nothing after it is let go of.
            assert_eq!(out.held_jobs(), 4, "keep order: {keep_order}");
            out.emit(&line(0, 1, "a\n"));
            out.emit(&finished(0, 1, None));
            // Job 2 never runs, job 3 runs on.
            assert_eq!(out.held_jobs(), 2, "keep order: {keep_order}");
            out.emit(&line(2, 1, "c\n"));
            out.emit(&finished(2, 1, None));
            assert_eq!(out.held_jobs(), 0, "keep order: {keep_order}");
            let expected = if keep_order {
                "j1\ta\nj3\tc\nj4\td\n"
            } else {
                "j4\td\nj1\ta\nj3\tc\n"
            };
            assert_eq!(stdout(&out), expected);
        }
    }

    #[test]
    fn tags_prefix_every_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("1.log");
        std::fs::write(&path, "a\nb\nno newline").unwrap();
        let tagged = Dress {
            tag: b"x y\t".to_vec(),
            color: None,
        };
        let mut out = Vec::new();
        tagged.copy_file(&path, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "x y\ta\nx y\tb\nx y\tno newline"
        );
        let mut out = Vec::new();
        tagged
            .copy_file(&dir.path().join("missing"), &mut out)
            .unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn a_tag_follows_each_carriage_return_within_a_line() {
        let tagged = Dress {
            tag: b"t\t".to_vec(),
            color: None,
        };
        let mut out = Vec::new();
        tagged.write_line(&mut out, b"a\rb\r\n").unwrap();
        tagged.write_line(&mut out, b"c\r").unwrap();
        assert_eq!(out, b"t\ta\rt\tb\rt\t\nt\tc\r");
    }

    #[test]
    fn a_coloured_line_ends_its_colour_around_carriage_returns_and_ends_with_a_newline() {
        let coloured = Dress {
            tag: b"t\t".to_vec(),
            color: Some(("<", ">")),
        };
        let mut out = Vec::new();
        coloured.write_line(&mut out, b"a\rb\n").unwrap();
        coloured.write_line(&mut out, b"c").unwrap();
        assert_eq!(out, b"<t\ta>\r<t\tb>\n<t\tc>\n");
    }
}
