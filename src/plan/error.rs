//! Located problems in a plan file and the error that carries them all.
//!
//! Decoding and validation collect [`Problem`]s (a message, labelled byte ranges, a hint);
//! [`PlanError`] turns them into diagnostics with line and column, rendered by miette the
//! way cargo and just point at a place. Nothing here decides what is wrong.

use std::fmt;
use std::path::{Path, PathBuf};

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};

use crate::plan::node::Span;

/// One problem while it is being collected: byte ranges, not yet lines and columns.
#[derive(Clone, Debug)]
pub(crate) struct Problem {
    message: String,
    labels: Vec<(Span, Option<String>)>,
    help: Option<String>,
}

impl Problem {
    pub(crate) fn new(message: impl Into<String>) -> Problem {
        Problem {
            message: message.into(),
            labels: Vec::new(),
            help: None,
        }
    }

    /// A problem with one label at `span`.
    pub(crate) fn at(span: &Span, message: impl Into<String>, label: impl Into<String>) -> Problem {
        Problem::new(message).label(span, label)
    }

    pub(crate) fn label(mut self, span: &Span, text: impl Into<String>) -> Problem {
        let text = text.into();
        self.labels
            .push((span.clone(), (!text.is_empty()).then_some(text)));
        self
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Problem {
        self.help = Some(help.into());
        self
    }
}

/// One problem of a plan, located.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{message}")]
pub struct PlanProblem {
    /// What is wrong, in lowercase.
    pub message: String,
    /// 1-based line of the first label; 0 when the problem concerns the whole file.
    pub line: usize,
    /// 1-based column (in characters) of the first label; 0 when there is no place.
    pub column: usize,
    /// What to do about it, when something helps.
    pub help: Option<String>,
    labels: Vec<LabeledSpan>,
}

impl Diagnostic for PlanProblem {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
}

/// A plan that cannot be used: every problem found, each with its place in the file.
#[derive(Debug)]
pub struct PlanError {
    path: PathBuf,
    source: Option<NamedSource<String>>,
    problems: Vec<PlanProblem>,
}

impl PlanError {
    /// Problems in `text`, the content of `path`.
    pub(crate) fn located(path: &Path, text: &str, problems: Vec<Problem>) -> PlanError {
        let lines = LineIndex::new(text);
        let problems = problems
            .into_iter()
            .map(|p| {
                let (line, column) = p
                    .labels
                    .first()
                    .map_or((0, 0), |(span, _)| lines.line_column(text, span.start));
                let labels = p
                    .labels
                    .into_iter()
                    .map(|(span, text)| LabeledSpan::new(text, span.start, span.len()))
                    .collect();
                PlanProblem {
                    message: p.message,
                    line,
                    column,
                    help: p.help,
                    labels,
                }
            })
            .collect();
        PlanError {
            path: path.to_path_buf(),
            source: Some(NamedSource::new(
                path.display().to_string(),
                text.to_owned(),
            )),
            problems,
        }
    }

    /// A problem with the file as a whole (it cannot be read, its format is unknown).
    pub(crate) fn whole_file(path: &Path, problem: Problem) -> PlanError {
        PlanError {
            path: path.to_path_buf(),
            source: None,
            problems: vec![PlanProblem {
                message: problem.message,
                line: 0,
                column: 0,
                help: problem.help,
                labels: Vec::new(),
            }],
        }
    }

    /// The file the problems are in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every problem found, in the order they were found.
    pub fn problems(&self) -> &[PlanProblem] {
        &self.problems
    }
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "invalid plan {}: {n} problem{}",
            self.path.display(),
            if n == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for PlanError {}

impl Diagnostic for PlanError {
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.problems.iter().map(|p| p as &dyn Diagnostic)))
    }
}

/// Byte offsets of line starts, to turn offsets into 1-based lines and columns.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { starts }
    }

    fn line_column(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let column = text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line, column + 1)
    }
}

/// The closest of `candidates` to `word`, if one is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `did you mean `x`?` for a help line.
pub(crate) fn suggestion<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    did_you_mean(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based_and_count_characters() {
        let text = "ab\nçd\n";
        let lines = LineIndex::new(text);
        assert_eq!(lines.line_column(text, 0), (1, 1));
        assert_eq!(lines.line_column(text, 3), (2, 1));
        assert_eq!(lines.line_column(text, 5), (2, 2));
        assert_eq!(lines.line_column(text, 7), (3, 1));
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("dependson", ["depends_on", "after", "run"]),
            Some("depends_on")
        );
        assert_eq!(did_you_mean("zzz", ["depends_on", "after"]), None);
    }
}
