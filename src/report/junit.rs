//! JUnit XML from a run summary, for CI systems that display test reports.

use std::path::Path;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestRerun, TestSuite};

use super::format::signal_name;
use super::summary::{RunSummary, TaskStatus};

/// Serializes the summary as JUnit XML.
pub fn junit_xml(s: &RunSummary) -> String {
    let name = s
        .plan
        .file_name()
        .map_or_else(|| "fanout".into(), |n| n.to_string_lossy().into_owned());
    let mut suite = TestSuite::new(name);
    suite.set_time(s.wall);
    for t in &s.tasks {
        let status = match t.status {
            TaskStatus::Succeeded | TaskStatus::Cached | TaskStatus::Restored => {
                let mut st = TestCaseStatus::success();
                // A flaky task's failed attempts, as nextest reports flaky tests.
                if t.is_flaky() {
                    st.add_reruns((1..t.attempts).map(|attempt| {
                        let mut rerun = TestRerun::new(NonSuccessKind::Failure);
                        rerun.set_message(format!("attempt {attempt} failed"));
                        rerun
                    }));
                }
                st
            }
            TaskStatus::Skipped | TaskStatus::NotRun | TaskStatus::Cancelled => {
                let mut st = TestCaseStatus::skipped();
                let msg = match &t.skipped_because {
                    Some(dep) => format!("dependency {dep} did not succeed"),
                    None => t.status.label().to_owned(),
                };
                st.set_message(msg);
                st
            }
            TaskStatus::Failed
            | TaskStatus::TimedOut
            | TaskStatus::Errored
            | TaskStatus::MergeConflict => {
                let kind = if t.status == TaskStatus::Errored {
                    NonSuccessKind::Error
                } else {
                    NonSuccessKind::Failure
                };
                let mut st = TestCaseStatus::non_success(kind);
                let msg = match (t.exit_code, t.signal, &t.error) {
                    (Some(code), ..) => format!("exit code {code}"),
                    (_, Some(sig), _) => format!("killed by {}", signal_name(sig)),
                    (_, _, Some(err)) => err.clone(),
                    _ if t.status == TaskStatus::MergeConflict => {
                        let paths = t.worktree.as_ref().map(|w| w.conflicts.join(", "));
                        format!("merge conflict in {}", paths.unwrap_or_default())
                    }
                    _ => t.status.label().to_owned(),
                };
                st.set_message(msg);
                st
            }
        };
        let mut case = TestCase::new(t.id.clone(), status);
        case.set_time(t.duration);
        suite.add_test_case(case);
    }
    let mut report = Report::new("fanout");
    report.set_time(s.wall);
    report.add_test_suite(suite);
    report.to_string().unwrap_or_default()
}

/// Writes the JUnit XML file, atomically (a temporary file renamed into place).
pub fn write_junit(s: &RunSummary, path: &Path) -> std::io::Result<()> {
    let xml = junit_xml(s);
    let tmp = path.with_extension("xml.tmp");
    std::fs::write(&tmp, xml)?;
    std::fs::rename(&tmp, path)
}
