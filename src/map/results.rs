//! `--results DIR`: each job's output kept in a directory named after its inputs, GNU
//! parallel's layout: `DIR/1/VALUE1/2/VALUE2/…/{seq,stdout,stderr}`, where each number is
//! the input's column (or, with `--header :`, the column's name) and each value is escaped
//! (`\` as `\\`, `/` as `\_`, tab and newline as `\t` and `\n`). A job's files hold its last
//! attempt's output.
//!
//! `--results NAME` where NAME holds replacement strings (`out/{1}.txt`): each job's NAME
//! filled in is the file of its stdout, with `.err` and `.seq` added for the others; or,
//! when it ends in `/`, the directory of its `stdout`, `stderr` and `seq`.

use std::io;
use std::path::{Path, PathBuf};

use crate::events::{AttemptStatus, Event, EventSink};
use crate::map::with_slot;
use crate::window::Window;

/// One input value as a directory name. Values that are no name of their own (the empty
/// value, `.` and `..`) are written `\0`, `\.` and `\.\.`, so every job keeps its own
/// directory.
pub fn escape_value(value: &str) -> String {
    match value {
        "" => return r"\0".into(),
        "." => return r"\.".into(),
        ".." => return r"\.\.".into(),
        _ => {}
    }
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '/' => out.push_str(r"\_"),
            '\t' => out.push_str(r"\t"),
            '\n' => out.push_str(r"\n"),
            c => out.push(c),
        }
    }
    out
}

/// Each column's name in the results directories: the name `--header :` gave it (from
/// `names`: name and position), else its number from 1. Columns after the last named one
/// are numbered by [`result_segments`].
pub fn column_names(names: &[(String, usize)]) -> Vec<String> {
    let width = names
        .iter()
        .map(|(_, position)| *position)
        .max()
        .unwrap_or(0);
    let mut columns: Vec<String> = (1..=width).map(|k| k.to_string()).collect();
    for (name, position) in names {
        columns[position - 1].clone_from(name);
    }
    columns
}

/// The path segments of a job with `inputs`: each column's name (its number from 1, or
/// `names[k]` when given) and its escaped value.
pub fn result_segments(inputs: &[String], names: &[String]) -> Vec<String> {
    inputs
        .iter()
        .enumerate()
        .flat_map(|(k, value)| {
            let column = names.get(k).cloned().unwrap_or_else(|| (k + 1).to_string());
            [escape_value(&column), escape_value(value)]
        })
        .collect()
}

/// Writes each finished job's output under its directory (see the module documentation).
pub struct ResultsWriter {
    dir: PathBuf,
    /// Each job's segments are one: its name (see the module documentation).
    named: bool,
    /// Per task: its path segments under `dir`, until its output is written.
    segments: Window<Option<Vec<String>>>,
    error: Option<io::Error>,
}

impl ResultsWriter {
    pub fn new(dir: PathBuf) -> ResultsWriter {
        ResultsWriter {
            dir,
            named: false,
            segments: Window::new(),
            error: None,
        }
    }

    /// The next task, added while the run is under way, and its path segments.
    pub fn add_job(&mut self, segments: Vec<String>) {
        self.segments.push(Some(segments));
    }

    /// A writer whose jobs each come with their own name (`--results out/{1}.txt`).
    pub fn named() -> ResultsWriter {
        ResultsWriter {
            named: true,
            ..ResultsWriter::new(PathBuf::new())
        }
    }

    /// The file a job with these segments keeps its stdout in.
    pub fn stdout_path(&self, segments: &[String]) -> PathBuf {
        match self.files(segments) {
            Files::Folder(dir) => dir.join("stdout"),
            Files::Named(path) => path,
        }
    }

    /// Where a job with these segments keeps its output.
    fn files(&self, segments: &[String]) -> Files {
        files(&self.dir, self.named, segments)
    }

    /// Task `index` will not run: it gets no directory.
    pub fn forget(&mut self, index: usize) {
        self.segments.take(index);
    }

    /// Task `index` was skipped (`--filter`, `{uniq}`, `skip()`): its directory holds its
    /// number and no output, as GNU parallel's does.
    pub fn skipped(&mut self, index: usize) {
        if let Err(err) = self.write(index, index + 1, None, None)
            && self.error.is_none()
        {
            self.error = Some(err);
        }
    }

    /// The first error met writing the results, if any.
    pub fn into_error(self) -> Option<io::Error> {
        self.error
    }

    fn write(
        &mut self,
        index: usize,
        seq: usize,
        stdout: Option<&Path>,
        stderr: Option<&Path>,
    ) -> io::Result<()> {
        let segments = self.segments.take(index).unwrap_or_default();
        let (dir, [seq_file, out, err]) = match self.files(&segments) {
            Files::Folder(dir) => {
                let files = ["seq", "stdout", "stderr"].map(|name| dir.join(name));
                (dir, files)
            }
            Files::Named(path) => {
                let with = |end: &str| {
                    let mut name = path.clone().into_os_string();
                    name.push(end);
                    PathBuf::from(name)
                };
                let dir = path.parent().map(Path::to_owned).unwrap_or_default();
                (dir, [with(".seq"), path.clone(), with(".err")])
            }
        };
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(&dir)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
        }
        std::fs::write(seq_file, seq.to_string())?;
        copy_or_empty(stdout, &out)?;
        copy_or_empty(stderr, &err)
    }
}

/// Where a job with these segments keeps its output under `dir` (`named`: its one
/// segment is its name).
fn files(dir: &Path, named: bool, segments: &[String]) -> Files {
    match (named, segments) {
        (true, [name]) if !name.ends_with('/') => Files::Named(dir.join(crate::bytes::to_os(name))),
        (true, [name]) => Files::Folder(dir.join(crate::bytes::to_os(name))),
        _ => Files::Folder(job_dir(dir, segments)),
    }
}

/// Whether an earlier run left a job's output under `dir` (see [`ResultsWriter::new`] and
/// [`ResultsWriter::named`] for `named`): what `--resume` skips a job for when there is no
/// job log, as in GNU parallel: its `stdout`, or the file its name gives.
pub fn has_results(dir: &Path, named: bool, segments: &[String]) -> bool {
    match files(dir, named, segments) {
        Files::Folder(dir) => dir.join("stdout").exists(),
        Files::Named(path) => path.is_file(),
    }
}

/// Where a job's output goes.
enum Files {
    /// `stdout`, `stderr` and `seq` in this directory.
    Folder(PathBuf),
    /// Stdout in this file; stderr and the number beside it, with `.err` and `.seq`.
    Named(PathBuf),
}

/// The directory under `dir` of the job whose path segments are `segments`; its output is
/// in the files `stdout` and `stderr` there.
pub fn job_dir(dir: &Path, segments: &[String]) -> PathBuf {
    segments.iter().fold(dir.to_owned(), |dir, segment| {
        dir.join(crate::bytes::to_os(segment))
    })
}

/// Copies `from` to `to`; an absent `from` (no output) makes `to` empty.
fn copy_or_empty(from: Option<&Path>, to: &Path) -> io::Result<()> {
    match from.map(|from| std::fs::copy(from, to)) {
        Some(Ok(_)) => Ok(()),
        Some(Err(e)) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => std::fs::write(to, b""),
    }
}

impl EventSink for ResultsWriter {
    fn emit(&mut self, event: &Event) {
        match event {
            // A name's `{%}` is the slot the job got.
            Event::TaskStarted { index, slot, .. } if self.named => {
                if let Some(Some([name])) = self.segments.get_mut(*index).map(|s| s.as_deref_mut())
                {
                    *name = with_slot(name, *slot).into_owned();
                }
            }
            Event::AttemptFinished {
                index,
                status,
                log,
                stderr_log,
                retry_in: None,
                ..
            } if *status != AttemptStatus::Cancelled => {
                if let Err(err) =
                    self.write(*index, index + 1, log.as_deref(), stderr_log.as_deref())
                    && self.error.is_none()
                {
                    self.error = Some(err);
                }
            }
            Event::AttemptFinished {
                index,
                retry_in: None,
                ..
            } => {
                self.segments.take(*index);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_as_gnu_parallel_escapes_them() {
        // (value, directory name); GNU parallel 20221122 for all but the last three, which
        // it leaves as they are (so that `..` writes beside the results directory).
        let cases = [
            ("a", "a"),
            ("a/b", r"a\_b"),
            (r"c\d", r"c\\d"),
            (r"e\_f", r"e\\_f"),
            ("n\tl", r"n\tl"),
            (" x ", " x "),
            ("l1\nl2", r"l1\nl2"),
            ("", r"\0"),
            (".", r"\."),
            ("..", r"\.\."),
        ];
        for (value, name) in cases {
            assert_eq!(escape_value(value), name, "{value:?}");
        }
    }

    #[test]
    fn segments_name_each_column() {
        let inputs = vec!["a/b".to_owned(), "1".to_owned()];
        assert_eq!(result_segments(&inputs, &[]), ["1", r"a\_b", "2", "1"]);
        let names = vec!["file".to_owned()];
        assert_eq!(
            result_segments(&inputs, &names),
            ["file", r"a\_b", "2", "1"]
        );
        let named = [("h".to_owned(), 1), ("x".to_owned(), 3)];
        assert_eq!(column_names(&named), ["h", "2", "x"]);
        assert!(column_names(&[]).is_empty());
    }
}
