//! Entry point: read a plan file, parse it in its format, merge the project file's
//! defaults under it, validate it and expand it. The only I/O of the plan module is
//! reading those two files.

use std::path::{Path, PathBuf};

use crate::plan::Plan;
use crate::plan::decode::{self, Document};
use crate::plan::error::{PlanError, Problem};
use crate::plan::resolve::{Defaults, resolve, resolve_tables};
use crate::plan::syntax;

/// The project file's name.
pub const PROJECT_FILE: &str = "fanout.toml";

/// A plan file's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Toml,
    Yaml,
    Json,
}

impl Format {
    /// The format a file's extension names, if any.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "toml" => Some(Format::Toml),
            "yaml" | "yml" => Some(Format::Yaml),
            "json" | "jsonc" => Some(Format::Json),
            _ => None,
        }
    }
}

/// How to load a plan.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Overrides detection by extension.
    pub format: Option<Format>,
    /// The project file whose tables are defaults (when the plan is not that file itself).
    pub project_file: Option<PathBuf>,
}

/// The nearest `fanout.toml` in `dir` or its parents.
pub fn find_project_file(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(PROJECT_FILE))
        .find(|p| p.is_file())
}

/// Reads, parses, validates and expands the plan at `path`.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Plan, PlanError> {
    let defaults = match &options.project_file {
        Some(project) if !same_file(project, path) => {
            Defaults::from(read_document(project, None)?.0)
        }
        _ => Defaults::default(),
    };
    let (doc, text) = read_document(path, options.format)?;
    let mut problems = Vec::new();
    if let Some(span) = &doc.queue_key
        && path.file_name().is_none_or(|name| name != PROJECT_FILE)
    {
        // Read nowhere but in the project file; anywhere else it would be ignored.
        problems.push(
            Problem::at(
                span,
                format!("`[queue]` is read from the project file ({PROJECT_FILE}) only"),
                "ignored in any other plan file",
            )
            .help(format!(
                "move the table to {PROJECT_FILE}, where `fanout queue` reads it"
            )),
        );
    }
    let resolved = resolve(doc, defaults, &text, &mut problems);
    if !problems.is_empty() {
        return Err(PlanError::located(path, &text, problems));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok(Plan {
        path: path.to_path_buf(),
        base_dir: dir.canonicalize().unwrap_or(dir),
        settings: resolved.settings,
        resources: resolved.resources,
        env: resolved.env,
        tasks: resolved.tasks,
        agents: resolved.agents,
    })
}

/// The settings a project file gives every plan of its project (its `[settings]` and
/// `[worktree]` tables), for commands that build their plan in memory.
pub fn project_settings(project: &Path) -> Result<crate::plan::Settings, PlanError> {
    let (doc, _) = read_document(project, None)?;
    Ok(doc.settings.resolve())
}

/// The project file's `[queue]` table, its `dir` joined to the project file's directory.
pub fn project_queue(project: &Path) -> Result<crate::plan::QueueSettings, PlanError> {
    let (doc, _) = read_document(project, None)?;
    let mut queue = doc.queue;
    if let Some(parent) = project.parent() {
        queue.dir = queue.dir.map(|dir| parent.join(dir));
    }
    Ok(queue)
}

/// A plan with no tasks yet, for commands that build their tasks in memory: the project
/// file's tables (`[settings]`, `[resources]`, `[env]`, `[agents]`, `[limits]`,
/// `[budget]`) when there is one, else the defaults. Its own tasks are not read. `path`
/// names the plan (in the store and in messages); tasks run in `base_dir`.
pub fn project_plan(
    project: Option<&Path>,
    path: PathBuf,
    base_dir: PathBuf,
) -> Result<Plan, PlanError> {
    let defaults = match project {
        Some(project) => Defaults::from(read_document(project, None)?.0),
        None => Defaults::default(),
    };
    let resolved = resolve_tables(defaults);
    Ok(Plan {
        path,
        base_dir,
        settings: resolved.settings,
        resources: resolved.resources,
        env: resolved.env,
        tasks: resolved.tasks,
        agents: resolved.agents,
    })
}

/// Parses `text` as a plan in `format`, without project defaults or a file.
#[cfg(test)]
pub(crate) fn load_str(path: &Path, text: &str, format: Format) -> Result<Plan, PlanError> {
    let doc = parse_document(path, text, format)?;
    let mut problems = Vec::new();
    let resolved = resolve(doc, Defaults::default(), text, &mut problems);
    if !problems.is_empty() {
        return Err(PlanError::located(path, text, problems));
    }
    Ok(Plan {
        path: path.to_path_buf(),
        base_dir: PathBuf::from("."),
        settings: resolved.settings,
        resources: resolved.resources,
        env: resolved.env,
        tasks: resolved.tasks,
        agents: resolved.agents,
    })
}

/// Reads and decodes one file; problems found while decoding end the load.
fn read_document(path: &Path, format: Option<Format>) -> Result<(Document, String), PlanError> {
    let format = format.or_else(|| Format::from_path(path)).ok_or_else(|| {
        PlanError::whole_file(
            path,
            Problem::new(match path.extension() {
                Some(ext) => format!(
                    "cannot tell the format of a `.{}` file",
                    ext.to_string_lossy()
                ),
                None => "cannot tell the format of a file without an extension".to_owned(),
            })
            .help("name it .toml, .yaml or .json, or pass `--format toml|yaml|json`"),
        )
    })?;
    let text = std::fs::read_to_string(path).map_err(|e| {
        PlanError::whole_file(
            path,
            Problem::new(format!("cannot read `{}`: {e}", path.display())),
        )
    })?;
    let doc = parse_document(path, &text, format)?;
    Ok((doc, text))
}

fn parse_document(path: &Path, text: &str, format: Format) -> Result<Document, PlanError> {
    let root = syntax::parse(text, format).map_err(|p| PlanError::located(path, text, p))?;
    let mut problems = Vec::new();
    let doc = decode::document(&root, &mut problems);
    if problems.is_empty() {
        Ok(doc)
    } else {
        Err(PlanError::located(path, text, problems))
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::plan::{Action, Backoff, Settings};

    fn plan(text: &str, format: Format) -> Plan {
        load_str(Path::new("plan"), text, format).unwrap_or_else(|e| {
            let problems: Vec<String> = e.problems().iter().map(|p| p.message.clone()).collect();
            panic!("{e}: {problems:#?}")
        })
    }

    fn problems(text: &str, format: Format) -> Vec<(String, usize, usize)> {
        let err = load_str(Path::new("plan"), text, format).unwrap_err();
        err.problems()
            .iter()
            .map(|p| (p.message.clone(), p.line, p.column))
            .collect()
    }

    fn ids(plan: &Plan) -> Vec<&str> {
        plan.tasks.iter().map(|t| t.id.as_str()).collect()
    }

    #[test]
    fn parses_toml() {
        let p = plan(
            "[settings]\njobs = 3\n[[task]]\nid = \"a\"\nrun = \"echo a\"\n",
            Format::Toml,
        );
        assert_eq!(p.settings.jobs, 3);
        assert_eq!(p.tasks[0].action, Action::Shell("echo a".into()));
    }

    #[test]
    fn parses_yaml() {
        let p = plan(
            "settings:\n  retries: 2\ntask:\n  - id: a\n    run: [echo, a]\n  - id: b\n    prompt: do b\n    needs: a\n",
            Format::Yaml,
        );
        assert_eq!(p.settings.retries, 2);
        assert_eq!(
            p.tasks[0].action,
            Action::Argv(vec!["echo".into(), "a".into()])
        );
        assert_eq!(p.tasks[1].deps, [0]);
    }

    #[test]
    fn parses_json_with_comments() {
        let p = plan(
            r#"{ // the plan
              "tasks": [{ "id": "a", "cmd": "echo a", "dir": "sub" }] }"#,
            Format::Json,
        );
        assert_eq!(p.tasks[0].cwd.as_deref(), Some(Path::new("sub")));
    }

    #[test]
    fn reads_the_task_list_shape() {
        let p = plan(
            r#"[{"id":"1","subject":"Set up","prompt":"...","blockedBy":[]},{"id":"2","subject":"...","prompt":"...","blockedBy":["1"],"required_skill":"x","type":"feature"}]"#,
            Format::Json,
        );
        assert_eq!(ids(&p), ["1", "2"]);
        assert_eq!(p.tasks[0].subject.as_deref(), Some("Set up"));
        assert_eq!(p.tasks[1].deps, [0]);
        assert_eq!(p.tasks[1].required_skill.as_deref(), Some("x"));
        assert_eq!(p.tasks[1].kind.as_deref(), Some("feature"));
        assert_eq!(
            p.tasks[1].action,
            Action::Agent {
                prompt: "...".into()
            }
        );
    }

    #[test]
    fn accepts_every_alias() {
        for (alias, after) in [
            ("blockedBy", "blockedBy"),
            ("blocked_by", "blocked_by"),
            ("depends_on", "depends_on"),
            ("deps", "deps"),
            ("needs", "needs"),
        ] {
            let text = format!(
                "[[task]]\nid = \"a\"\ncommand = \"x\"\n[[task]]\nid = \"b\"\ncmd = \"y\"\ntitle = \"B\"\nskill = \"s\"\ndir = \"d\"\n{after} = [\"a\"]\n"
            );
            let p = plan(&text, Format::Toml);
            assert_eq!(p.tasks[1].deps, [0], "{alias}");
            assert_eq!(p.tasks[1].subject.as_deref(), Some("B"));
            assert_eq!(p.tasks[1].required_skill.as_deref(), Some("s"));
        }
    }

    #[test]
    fn an_alias_and_its_field_together_are_a_problem() {
        let found = problems(
            "[[task]]\nid = \"a\"\nrun = \"x\"\ncmd = \"y\"\n",
            Format::Toml,
        );
        assert_eq!(
            found,
            [("`run` is given twice in task `a`".to_owned(), 3, 1)]
        );
    }

    #[test]
    fn settings_fall_back_to_defaults_and_tasks_to_settings() {
        let p = plan(
            "[settings]\nfail_fast = true\nbackoff_delay = 2\n[[task]]\nid = \"a\"\nrun = \"x\"\nbackoff = \"fixed\"\n",
            Format::Toml,
        );
        let d = Settings::default();
        assert!(!p.settings.keep_going);
        assert_eq!(p.settings.jobs, d.jobs);
        assert_eq!(p.settings.grace, Duration::from_secs(5));
        assert_eq!(
            p.settings.backoff,
            Backoff::Exponential {
                base: Duration::from_secs(2),
                max: Duration::from_secs(60)
            }
        );
        assert_eq!(p.tasks[0].backoff, Backoff::Fixed(Duration::from_secs(2)));
    }

    #[test]
    fn matrix_tasks_expand_in_place_and_link_by_value() {
        let p = plan(
            r#"
[[task]]
id = "first"
run = "x"

[[task]]
id = "build-{svc}"
run = ["make", "{svc}"]
matrix.svc = ["a", "b"]

[[task]]
id = "test-{svc}"
run = "test {svc} {{literal}}"
matrix.svc = ["a", "b"]
after = ["build-{svc}"]

[[task]]
id = "all"
run = "x"
after = ["test-{svc}"]
"#,
            Format::Toml,
        );
        assert_eq!(
            ids(&p),
            ["first", "build-a", "build-b", "test-a", "test-b", "all"]
        );
        assert_eq!(
            p.tasks[2].action,
            Action::Argv(vec!["make".into(), "b".into()])
        );
        assert_eq!(p.tasks[3].deps, [1]);
        assert_eq!(p.tasks[4].deps, [2]);
        assert_eq!(p.tasks[4].action, Action::Shell("test b {literal}".into()));
        assert_eq!(p.tasks[5].deps, [3, 4]);
    }

    #[test]
    fn a_matrix_id_without_placeholder_repeats_itself() {
        let found = problems(
            "[[task]]\nid = \"t\"\nrun = \"x {v}\"\nmatrix.v = [1, 2]\n",
            Format::Toml,
        );
        assert_eq!(found, [("duplicate task id `t`".to_owned(), 2, 6)]);
    }

    #[test]
    fn dependencies_are_deduplicated_and_blocks_reverse_them() {
        let p = plan(
            r#"[{"id": "a", "run": "x", "blocks": ["c"]},
                {"id": "b", "run": "x"},
                {"id": "c", "run": "x", "after": ["b", "a", "b", "?"]}]"#,
            Format::Json,
        );
        // Edges in the order they are met: `a`'s `blocks` comes first in the file.
        assert_eq!(p.tasks[2].deps, [0, 1]);
    }

    #[test]
    fn reports_every_problem_of_a_pass_with_its_place() {
        let found = problems(
            "[[task]]\nid = \"a\"\nrun = \"x\"\nafter = [\"b\"]\n\n[[task]]\nid = \"c\"\nrun = \"x\"\nafter = [\"c\"]\n",
            Format::Toml,
        );
        assert_eq!(
            found,
            [
                ("unknown dependency `b` in task `a`".to_owned(), 4, 10),
                ("task `c` depends on itself".to_owned(), 9, 10),
            ]
        );
    }

    #[test]
    fn the_project_file_gives_defaults_key_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join(PROJECT_FILE);
        std::fs::write(
            &project,
            "[settings]\njobs = 8\nretries = 2\n[resources]\ngpu = 1\n[env]\nA = \"project\"\nB = \"project\"\n[[task]]\nid = \"project-task\"\nrun = \"x\"\n",
        )
        .unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let plan_path = sub.join("plan.yaml");
        std::fs::write(
            &plan_path,
            "settings:\n  jobs: 2\nenv:\n  B: plan\ntasks:\n  - id: t\n    run: x\n    uses: { gpu: 1 }\n",
        )
        .unwrap();
        assert_eq!(find_project_file(&sub), Some(project.clone()));
        let options = LoadOptions {
            format: None,
            project_file: Some(project.clone()),
        };
        let p = load(&plan_path, &options).unwrap();
        assert_eq!(p.settings.jobs, 2, "the plan's own key wins");
        assert_eq!(p.settings.retries, 2, "the project's key fills in");
        assert_eq!(p.tasks[0].retries, 2);
        assert_eq!(p.resources.get("gpu"), Some(&1));
        assert_eq!(p.env["A"], "project");
        assert_eq!(p.env["B"], "plan");
        assert_eq!(ids(&p), ["t"], "the project's tasks are not merged");
        assert_eq!(p.base_dir, sub.canonicalize().unwrap());

        // The project file as the plan itself: its own tasks.
        let p = load(&project, &options).unwrap();
        assert_eq!(ids(&p), ["project-task"]);
        assert_eq!(p.settings.jobs, 8);
    }

    #[test]
    fn a_project_plan_has_the_project_tables_and_no_tasks() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join(PROJECT_FILE);
        std::fs::write(
            &project,
            "[settings]\nretries = 2\n[env]\nA = \"1\"\n[agents]\ndefault = \"codex\"\n[limits.openai]\nconcurrency = 2\n[[task]]\nid = \"t\"\nrun = \"x\"\n",
        )
        .unwrap();
        let p = project_plan(Some(&project), dir.path().join("q"), dir.path().into()).unwrap();
        assert!(p.tasks.is_empty());
        assert_eq!(p.settings.retries, 2);
        assert_eq!(p.env["A"], "1");
        assert_eq!(p.agents.default_agent.as_deref(), Some("codex"));
        assert_eq!(p.resources.get("openai"), Some(&2));

        let p = project_plan(None, dir.path().join("q"), dir.path().into()).unwrap();
        assert_eq!(p.settings, Settings::default());
        assert_eq!(p.agents.default_agent, None);
    }

    #[test]
    fn the_queue_table_is_read_with_its_dir_beside_the_project_file() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join(PROJECT_FILE);
        std::fs::write(
            &project,
            "[queue]\ndir = \"work/items\"\nmax_parallel = 2\nautonomy = \"L3\"\n",
        )
        .unwrap();
        let queue = project_queue(&project).unwrap();
        assert_eq!(queue.dir, Some(dir.path().join("work/items")));
        assert_eq!(queue.max_parallel, Some(2));
        assert_eq!(queue.autonomy, Some(crate::plan::Autonomy::L3));

        std::fs::write(&project, "[settings]\njobs = 2\n").unwrap();
        assert_eq!(
            project_queue(&project).unwrap(),
            crate::plan::QueueSettings::default()
        );
    }

    #[test]
    fn bad_queue_values_are_refused_at_their_place() {
        let found = problems(
            "[queue]\nmax_parallel = 0\nautonomy = \"L4\"\ndirr = \"q\"\n",
            Format::Toml,
        );
        let messages: Vec<&str> = found.iter().map(|(m, _, _)| m.as_str()).collect();
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(messages[0].contains("dirr"), "{found:?}");
        assert_eq!(
            found[1..],
            [
                (
                    "`max_parallel` must be at least 1, found 0".to_owned(),
                    2,
                    16
                ),
                ("unknown autonomy `L4`".to_owned(), 3, 12),
            ]
        );
    }

    #[test]
    fn format_follows_the_extension_unless_given() {
        assert_eq!(Format::from_path(Path::new("a.yml")), Some(Format::Yaml));
        assert_eq!(Format::from_path(Path::new("a.JSON")), Some(Format::Json));
        assert_eq!(Format::from_path(Path::new("a.plan")), None);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tasks.plan");
        std::fs::write(&path, "[[task]]\nid = \"a\"\nrun = \"x\"\n").unwrap();
        assert!(load(&path, &LoadOptions::default()).is_err());
        let options = LoadOptions {
            format: Some(Format::Toml),
            project_file: None,
        };
        assert_eq!(ids(&load(&path, &options).unwrap()), ["a"]);
    }

    #[test]
    fn agent_tables_are_read_and_limits_become_resources() {
        let p = plan(
            "[agents]\ndefault = \"codex\"\n[agents.models]\nsecurity = \"opus\"\n[limits.anthropic]\nconcurrency = 3\nrate = \"50/min\"\nburst = 5\n[limits.slow]\nrate = \"3/10s\"\n[budget]\nusd = 20\ntokens = 5_000_000\n[[task]]\nid = \"r\"\nprompt = \"review\"\nagent = \"claude\"\nmax_usd = 1.5\nallowed_tools = [\"Read\"]\n",
            Format::Toml,
        );
        assert_eq!(p.resources.get("anthropic"), Some(&3));
        assert!(p.resources.contains_key("slow"));
        assert_eq!(p.agents.default_agent.as_deref(), Some("codex"));
        assert_eq!(
            p.agents.models.get("security").map(String::as_str),
            Some("opus")
        );
        let limit = &p.agents.limits["anthropic"];
        assert_eq!(limit.burst, Some(5));
        assert_eq!(
            p.agents.limits["slow"].rate,
            Some(crate::plan::Rate {
                count: 3,
                per: std::time::Duration::from_secs(10)
            })
        );
        assert_eq!(p.agents.budget.usd, Some(20.0));
        assert_eq!(p.agents.budget.tokens, Some(5_000_000));
        let t = &p.tasks[0];
        assert_eq!(t.agent.agent.as_deref(), Some("claude"));
        assert_eq!(t.agent.max_usd, Some(1.5));
        assert_eq!(t.agent.allowed_tools, ["Read"]);
    }
}
