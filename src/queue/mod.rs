//! The work-item queue: a directory of Markdown files named `NNN-STATUS-SLUG.md`, each an
//! agent's prompt with a `BlockedBy:` line, whose status lives in its file name. This
//! module reads and checks the directory, says which pending items can run, turns them
//! into a plan for the ordinary runner, and renames items as a run's events come. It
//! runs nothing itself and prints nothing.

mod error;
mod item;
mod lock;
mod model;
mod plan;
mod read;
mod rename;
mod reporter;
mod view;

pub use error::{ItemProblem, QueueError};
pub use item::{ItemBody, ItemName, NAME_FORM, Status};
pub use lock::QueueLock;
pub use model::{Item, Queue, Readiness};
pub use plan::{QueuePlan, queue_plan};
pub use read::read_queue;
pub use rename::rename_item;
pub use reporter::{ItemOutcome, Misnamed, QueueReporter};
pub use view::{
    QUEUE_SCHEMA_VERSION, render_misnamed, render_run_report, render_status_text, status_json,
};
