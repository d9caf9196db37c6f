//! Agent profiles: how to run a headless coding agent (Claude Code, Codex, Gemini CLI,
//! Aider, or a custom CLI described in the plan) as a plain process, and how to read its
//! result, cost, tokens and session from what it printed. Nothing here schedules, spawns
//! or waits: the runner runs the command line like any other and hands back the output.

mod profile;
mod result;

pub use profile::{AgentCommand, BUILT_IN, Invocation, Profile, ProfileError, SkillRef};
pub use result::{AgentResult, RateLimitHint};
