//! The skill operations beyond checking: test, docs, new, refactor, learn and stats. Each
//! works on every skill in parallel, computes its changes first and writes them only when
//! asked (never with `dry_run`), each file atomically.

mod docs;
mod learn;
mod loaded;
mod new;
mod refactor;
mod stats;
mod test;

pub use docs::{DOCS_MARKER, DocsOutcome, DocsReport, docs};
pub use learn::{LearnReport, learn};
pub(crate) use new::is_valid_name;
pub use new::{NewReport, new_skills};
pub use refactor::{RefactorReport, refactor};
pub use stats::{StatsReport, stats};
pub use test::{TestReport, test_skills};
