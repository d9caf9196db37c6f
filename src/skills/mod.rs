//! Agent skills (folders with a `SKILL.md`): finding them, checking them in-process and in
//! parallel against the Agent Skills specification and house rules, caching verdicts by
//! content hash, the operations that document, create, refactor and teach skills, and the
//! temporary skills made for agent tasks, with the rules that collect them.
//! Nothing here spawns a process.

mod atomic;
mod cache;
mod check;
mod collect;
mod config;
mod discover;
mod error;
mod frontmatter;
mod lookup;
mod markdown;
mod ops;
mod problem;
mod render;
mod run;
mod source;
mod spec;
mod task_skills;
mod temporary;
mod yaml;

pub use check::{CHECKS, Checked, OutsideLink};
pub use collect::{Collected, collect};
pub use config::SkillsConfig;
pub use discover::{Discovery, SkillDir, discover};
pub use error::{CollectError, SkillsError};
pub use lookup::{can_create, create_temporary, find_named};
pub use ops::{
    DOCS_MARKER, DocsOutcome, DocsReport, LearnReport, NewReport, RefactorReport, StatsReport,
    TestReport, docs, learn, new_skills, refactor, stats, test_skills,
};
pub use problem::{Pos, Problem, Severity};
pub use render::{json as render_json, marker, sarif as render_sarif, text as render_text};
pub use run::{CheckOptions, CheckRun, SkillResult, Status, Summary, check_roots};
pub use spec::Profile;
pub use task_skills::{Provision, TaskSkills, TemporaryUse, task_roots, temporary_dir};
pub use temporary::{
    Decision, KEEP_USES, ONCE_IDLE, RECENT, Rule, TemporarySkill, UNUSED, Verdict, decide,
};
