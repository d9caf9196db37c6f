//! The profiles: which program each agent is, the argv it gets for a task, its default
//! rate limit and start spacing, and how its output is read. The prompt is always one argv
//! element of its own, never part of a shell string.

use std::path::Path;
use std::time::Duration;

use super::result::{self, AgentResult, OutputFormat, Pointers};
use crate::plan::{AgentSettings, ProfileSettings, Task};

/// The built-in profiles, by name.
pub const BUILT_IN: &[&str] = &["claude", "codex", "gemini", "aider"];

/// Why a profile cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("unknown agent `{0}`; the built-in agents are claude, codex, gemini and aider")]
    Unknown(String),
    #[error("agent `{0}` has no `command`; a custom agent needs an argv template")]
    NoCommand(String),
}

/// How to run one agent CLI and read what it says.
#[derive(Clone, Debug)]
pub struct Profile {
    pub name: String,
    format: OutputFormat,
    /// A template from the plan, replacing the built-in command line.
    template: Option<Vec<String>>,
    /// The limit its tasks take from unless they name one (`uses`).
    pub limit: Option<String>,
    /// Least time between two starts of this agent's CLI.
    pub start_interval: Duration,
    rate_limit_patterns: Vec<String>,
    /// The prompt goes to the agent's stdin, not its argv.
    prompt_on_stdin: bool,
}

/// Prompts longer than this go through stdin whatever the profile says: Linux refuses a
/// single argument over 128 KiB.
pub(crate) const LONGEST_ARGV_PROMPT: usize = 100_000;

/// What one attempt asks of the agent.
#[derive(Clone, Copy, Debug)]
pub struct Invocation<'a> {
    pub prompt: &'a str,
    pub model: Option<&'a str>,
    pub max_turns: Option<u32>,
    pub allowed_tools: &'a [String],
    pub session_id: Option<&'a str>,
    /// A skill the agent is told to use.
    pub skill: Option<SkillRef<'a>>,
    pub cwd: &'a Path,
}

/// A skill an agent is told to use: its name, and where its `SKILL.md` is when fanout
/// found or made it.
#[derive(Clone, Copy, Debug)]
pub struct SkillRef<'a> {
    pub name: &'a str,
    pub path: Option<&'a Path>,
    /// Made by fanout from a template (see `fanout skills gc`).
    pub temporary: bool,
}

impl SkillRef<'_> {
    /// The sentence added to the prompt.
    fn sentence(&self) -> String {
        let name = self.name;
        match (self.path, self.temporary) {
            (None, _) => format!("Use the `{name}` skill."),
            (Some(path), false) => format!("Use the `{name}` skill: {}.", path.display()),
            (Some(path), true) => format!(
                "Use the `{name}` skill: {}. It is a temporary skill, made from a template; \
                 improve it with what you learn.",
                path.display()
            ),
        }
    }
}

/// A program and its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentCommand {
    pub program: String,
    pub args: Vec<String>,
    /// What to write to its stdin (then close it); `None`: stdin is `/dev/null`.
    pub stdin: Option<String>,
}

impl Profile {
    /// The profile called `name`: a built-in one (with the plan's `[agents.NAME]` settings
    /// over it) or a custom one from the plan.
    pub fn named(name: &str, settings: &AgentSettings) -> Result<Profile, ProfileError> {
        let custom = settings.profiles.get(name);
        let (format, limit, interval) = match name {
            "claude" => (OutputFormat::Claude, Some("anthropic"), 1000),
            "codex" => (OutputFormat::Codex, Some("openai"), 0),
            "gemini" => (OutputFormat::Gemini, Some("google"), 0),
            // Aider talks to whichever provider its model is from: its limit is its own.
            "aider" => (OutputFormat::Aider, Some("aider"), 0),
            _ => {
                let custom = custom.ok_or_else(|| ProfileError::Unknown(name.to_owned()))?;
                if custom.command.is_empty() {
                    return Err(ProfileError::NoCommand(name.to_owned()));
                }
                (OutputFormat::Pointers(Box::new(pointers(custom))), None, 0)
            }
        };
        let empty = ProfileSettings::default();
        let custom = custom.unwrap_or(&empty);
        // A built-in profile given pointers reads its output through them.
        let format =
            if BUILT_IN.contains(&name) && (custom.output.is_some() || custom.cost.is_some()) {
                OutputFormat::Pointers(Box::new(pointers(custom)))
            } else {
                format
            };
        Ok(Profile {
            name: name.to_owned(),
            format,
            template: (!custom.command.is_empty()).then(|| custom.command.clone()),
            limit: custom.limit.clone().or(limit.map(str::to_owned)),
            start_interval: custom
                .start_interval
                .unwrap_or(Duration::from_millis(interval)),
            rate_limit_patterns: custom.rate_limit_patterns.clone(),
            prompt_on_stdin: custom.prompt_via.as_deref() == Some("stdin"),
        })
    }

    /// The profile of an agent task: its own `agent`, else the plan's default, else claude.
    pub fn name_for<'a>(task: &'a Task, settings: &'a AgentSettings) -> &'a str {
        task.agent
            .agent
            .as_deref()
            .or(settings.default_agent.as_deref())
            .unwrap_or("claude")
    }

    /// The model of an agent task: its own, else the one `[agents.models]` gives its
    /// `type`, else that table's `default`.
    pub fn model_for<'a>(task: &'a Task, settings: &'a AgentSettings) -> Option<&'a str> {
        task.agent
            .model
            .as_deref()
            .or_else(|| {
                task.kind
                    .as_ref()
                    .and_then(|k| settings.models.get(k))
                    .map(String::as_str)
            })
            .or_else(|| settings.models.get("default").map(String::as_str))
    }

    /// The command line of one attempt.
    pub fn command(&self, inv: &Invocation<'_>) -> AgentCommand {
        let prompt = match &inv.skill {
            Some(skill) => format!("{}\n\n{}", inv.prompt, skill.sentence()),
            None => inv.prompt.to_owned(),
        };
        let on_stdin = self.prompt_on_stdin
            || prompt.len() > LONGEST_ARGV_PROMPT
            || self
                .template
                .as_ref()
                .is_some_and(|t| !t.iter().any(|e| e.contains("{prompt}")));
        if let Some(template) = &self.template {
            let mut command = from_template(template, inv, (!on_stdin).then_some(&*prompt));
            command.stdin = on_stdin.then_some(prompt);
            return command;
        }
        let mut args: Vec<String> = Vec::new();
        let mut push = |a: &str| args.push(a.to_owned());
        let program = match self.format {
            OutputFormat::Claude | OutputFormat::Pointers(_) => {
                push("-p");
                push("--output-format");
                push("json");
                if let Some(m) = inv.model {
                    push("--model");
                    push(m);
                }
                if let Some(n) = inv.max_turns {
                    push("--max-turns");
                    push(&n.to_string());
                }
                if !inv.allowed_tools.is_empty() {
                    push("--allowedTools");
                    push(&inv.allowed_tools.join(","));
                }
                if let Some(s) = inv.session_id {
                    push("--session-id");
                    push(s);
                }
                // `--` ends the options: a prompt starting with `-` stays the prompt.
                // Without a prompt argument, `claude -p` reads it from stdin.
                if !on_stdin {
                    push("--");
                }
                "claude"
            }
            OutputFormat::Codex => {
                push("exec");
                push("--json");
                push("-C");
                push(&inv.cwd.display().to_string());
                if let Some(m) = inv.model {
                    push("--model");
                    push(m);
                }
                push("--");
                // `-`: read the instructions from stdin.
                if on_stdin {
                    push("-");
                }
                "codex"
            }
            OutputFormat::Gemini => {
                if let Some(m) = inv.model {
                    push("--model");
                    push(m);
                }
                push("-o");
                push("json");
                push("--approval-mode");
                push("auto_edit");
                // Piped stdin is the prompt of a headless run.
                if !on_stdin {
                    push("-p");
                }
                "gemini"
            }
            OutputFormat::Aider => {
                push("--yes-always");
                push("--no-auto-commits");
                push("--no-pretty");
                if let Some(m) = inv.model {
                    push("--model");
                    push(m);
                }
                if on_stdin {
                    push("--message-file");
                    push("/dev/stdin");
                } else {
                    push("--message");
                }
                "aider"
            }
        };
        let stdin = if on_stdin {
            Some(prompt)
        } else {
            args.push(prompt);
            None
        };
        AgentCommand {
            program: program.to_owned(),
            args,
            stdin,
        }
    }

    /// Reads an attempt's result from its output.
    pub fn read_result(
        &self,
        output: &str,
        exit_code: Option<i32>,
        model: Option<&str>,
    ) -> AgentResult {
        let mut r = result::parse(&self.format, output, exit_code, &self.rate_limit_patterns);
        r.agent.clone_from(&self.name);
        r.model = model.map(str::to_owned);
        r
    }
}

fn pointers(p: &ProfileSettings) -> Pointers {
    Pointers {
        json_lines: p.output.as_deref() == Some("json-lines"),
        text_only: p.output.as_deref() == Some("text"),
        result_event: p.result_event.clone(),
        success: p.success.clone(),
        error: p.error.clone(),
        cost: p.cost.clone(),
        tokens_in: p.tokens_in.clone(),
        tokens_out: p.tokens_out.clone(),
        tokens_cached: p.tokens_cached.clone(),
        turns: p.turns.clone(),
        session: p.session.clone(),
    }
}

/// Fills the placeholders of each element; an element whose placeholder has no value is
/// left out (so is `{prompt}`'s when the prompt goes through stdin). Substitution happens
/// inside single argv elements, never in a shell.
fn from_template(template: &[String], inv: &Invocation<'_>, prompt: Option<&str>) -> AgentCommand {
    let max_turns = inv.max_turns.map(|n| n.to_string());
    let tools = (!inv.allowed_tools.is_empty()).then(|| inv.allowed_tools.join(","));
    let cwd = inv.cwd.display().to_string();
    let values: [(&str, Option<&str>); 6] = [
        ("{model}", inv.model),
        ("{max_turns}", max_turns.as_deref()),
        ("{allowed_tools}", tools.as_deref()),
        ("{session_id}", inv.session_id),
        ("{cwd}", Some(&cwd)),
        ("{prompt}", prompt),
    ];
    let mut out = Vec::with_capacity(template.len());
    'elements: for element in template {
        let mut text = element.clone();
        // The prompt last, so that braces in it are never taken for placeholders.
        for (name, value) in values {
            if text.contains(name) {
                match value {
                    Some(v) if name == "{prompt}" => {
                        let (before, after) = text.split_once(name).expect("contains");
                        text = format!("{before}{v}{after}");
                    }
                    Some(v) => text = text.replace(name, v),
                    None => continue 'elements,
                }
            }
        }
        out.push(text);
    }
    let mut out = out.into_iter();
    AgentCommand {
        program: out.next().unwrap_or_default(),
        args: out.collect(),
        stdin: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv<'a>(prompt: &'a str, tools: &'a [String]) -> Invocation<'a> {
        Invocation {
            prompt,
            model: Some("opus"),
            max_turns: Some(4),
            allowed_tools: tools,
            session_id: None,
            skill: None,
            cwd: Path::new("/repo"),
        }
    }

    #[test]
    fn claude_gets_the_prompt_as_one_element() {
        let p = Profile::named("claude", &AgentSettings::default()).unwrap();
        let tools = vec!["Read".to_owned(), "Edit".to_owned()];
        let prompt = "say \"hi\" $(rm -rf ~) `x`\nnext";
        let c = p.command(&inv(prompt, &tools));
        assert_eq!(c.program, "claude");
        assert_eq!(
            c.args,
            [
                "-p",
                "--output-format",
                "json",
                "--model",
                "opus",
                "--max-turns",
                "4",
                "--allowedTools",
                "Read,Edit",
                "--",
                prompt
            ]
        );
        assert_eq!(p.limit.as_deref(), Some("anthropic"));
        // Every built-in profile takes from a limit of its own unless a task names one.
        let limits: Vec<Option<String>> = BUILT_IN
            .iter()
            .map(|name| {
                Profile::named(name, &AgentSettings::default())
                    .unwrap()
                    .limit
            })
            .collect();
        assert_eq!(
            limits,
            [
                Some("anthropic".to_owned()),
                Some("openai".to_owned()),
                Some("google".to_owned()),
                Some("aider".to_owned())
            ]
        );
        assert_eq!(p.start_interval, Duration::from_secs(1));
    }

    #[test]
    fn the_skill_is_named_with_its_path_when_known() {
        let p = Profile::named("claude", &AgentSettings::default()).unwrap();
        let told = |skill: SkillRef<'_>| {
            let mut inv = inv("Fix it.", &[]);
            inv.skill = Some(skill);
            p.command(&inv).args.pop().unwrap()
        };
        let path = Path::new("/repo/.claude/skills/lint/SKILL.md");
        let mut skill = SkillRef {
            name: "lint",
            path: None,
            temporary: false,
        };
        assert_eq!(told(skill), "Fix it.\n\nUse the `lint` skill.");
        skill.path = Some(path);
        assert_eq!(
            told(skill),
            "Fix it.\n\nUse the `lint` skill: /repo/.claude/skills/lint/SKILL.md."
        );
        skill.temporary = true;
        assert!(
            told(skill).ends_with("SKILL.md. It is a temporary skill, made from a template; improve it with what you learn."),
            "{}",
            told(skill)
        );
    }

    #[test]
    fn templates_fill_elements_and_drop_unset_ones() {
        let mut settings = AgentSettings::default();
        settings.profiles.insert(
            "mine".into(),
            ProfileSettings {
                command: vec![
                    "my-agent".into(),
                    "--session={session_id}".into(),
                    "--model={model}".into(),
                    "{prompt}".into(),
                ],
                ..ProfileSettings::default()
            },
        );
        let p = Profile::named("mine", &settings).unwrap();
        let c = p.command(&inv("a {model} b", &[]));
        assert_eq!(c.program, "my-agent");
        assert_eq!(c.args, ["--model=opus", "a {model} b"]);
        assert!(matches!(
            Profile::named("nobody", &settings),
            Err(ProfileError::Unknown(_))
        ));
    }

    #[test]
    fn long_prompts_and_stdin_profiles_keep_the_prompt_out_of_argv() {
        let p = Profile::named("claude", &AgentSettings::default()).unwrap();
        let long = "x".repeat(LONGEST_ARGV_PROMPT + 1);
        let c = p.command(&inv(&long, &[]));
        assert_eq!(c.stdin.as_deref(), Some(long.as_str()));
        assert!(!c.args.iter().any(|a| a == &long || a == "--"));
        let short = p.command(&inv("hi", &[]));
        assert_eq!(short.stdin, None);
        assert_eq!(short.args.last().map(String::as_str), Some("hi"));

        let mut settings = AgentSettings::default();
        settings.profiles.insert(
            "gemini".into(),
            ProfileSettings {
                prompt_via: Some("stdin".into()),
                ..ProfileSettings::default()
            },
        );
        let g = Profile::named("gemini", &settings).unwrap();
        let c = g.command(&inv("hi", &[]));
        assert_eq!(c.stdin.as_deref(), Some("hi"));
        assert_eq!(
            c.args,
            [
                "--model",
                "opus",
                "-o",
                "json",
                "--approval-mode",
                "auto_edit"
            ]
        );
    }
}
