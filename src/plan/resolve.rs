//! From the raw document to the plan's tasks: matrix expansion, effective values (a
//! task's own, else the settings'), unique ids, dependencies as indices (with `blocks`,
//! template ids and globs), declared resources, and cycles. Every problem found is
//! collected; the plan is only used when there are none.

use std::collections::HashMap;
use std::path::PathBuf;

use indexmap::IndexMap;

use crate::graph::{Cycle, Dag};
use crate::plan::decode::{Document, RawRun, RawSettings, RawTask};
use crate::plan::error::{Problem, suggestion};
use crate::plan::matrix::{self, Values, check_placeholders, combinations, substitute};
use crate::plan::model::{Action, AgentOptions, AgentSettings, Settings, Task};
use crate::plan::node::Span;
use crate::plan::values::Text;

/// The plan's parts once everything is linked.
pub(crate) struct Resolved {
    pub(crate) settings: Settings,
    pub(crate) resources: IndexMap<String, u32>,
    pub(crate) env: IndexMap<String, String>,
    pub(crate) tasks: Vec<Task>,
    pub(crate) agents: AgentSettings,
}

/// The tables a project file gives as defaults.
#[derive(Clone, Debug, Default)]
pub(crate) struct Defaults {
    pub(crate) settings: RawSettings,
    pub(crate) resources: IndexMap<String, u32>,
    pub(crate) env: IndexMap<String, String>,
    pub(crate) agents: AgentSettings,
}

impl From<Document> for Defaults {
    fn from(doc: Document) -> Defaults {
        Defaults {
            settings: doc.settings,
            resources: doc.resources,
            env: doc.env,
            agents: doc.agents,
        }
    }
}

/// How many unknown names get a did-you-mean (each costs a pass over every id).
const SUGGESTION_LIMIT: usize = 20;

/// Links `doc` (with `defaults` under it); `source` is the file's text.
pub(crate) fn resolve(
    doc: Document,
    defaults: Defaults,
    source: &str,
    problems: &mut Vec<Problem>,
) -> Resolved {
    let raw_settings = doc.settings.clone().or(defaults.settings);
    let settings = raw_settings.resolve();
    let mut resources = defaults.resources;
    resources.extend(doc.resources);
    let mut env = defaults.env;
    env.extend(doc.env);
    let agents = merge_agents(defaults.agents, doc.agents);
    add_limit_resources(&agents, &mut resources);

    if doc.tasks.is_empty() && problems.is_empty() {
        problems.push(
            Problem::new("the plan has no tasks")
                .help("add a task with an `id` and a `run` command, e.g. `[[task]]`"),
        );
    }
    for t in &doc.tasks {
        check_template(t, source, problems);
        check_uses(t, &resources, problems);
    }

    let mut expander = Expander::new(&doc.tasks, &raw_settings, &settings);
    expander.expand();
    let mut links = Links::new(&expander, source, problems);
    links.link();
    let Links { deps, spans, .. } = links;
    let mut tasks = expander.tasks;
    let ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
    if let Err(Cycle(path)) = Dag::new(deps.clone()) {
        problems.push(cycle_problem(&path, &ids, &deps, &spans));
    }
    for (task, deps) in tasks.iter_mut().zip(deps) {
        task.deps = deps;
    }
    Resolved {
        settings,
        resources,
        env,
        tasks,
        agents,
    }
}

/// The project file's tables alone, with no tasks: the start of a plan whose tasks a
/// command builds in memory.
pub(crate) fn resolve_tables(defaults: Defaults) -> Resolved {
    let mut resources = defaults.resources;
    add_limit_resources(&defaults.agents, &mut resources);
    Resolved {
        settings: defaults.settings.resolve(),
        resources,
        env: defaults.env,
        tasks: Vec::new(),
        agents: defaults.agents,
    }
}

/// A named limit is a counted resource of the same name: its concurrency, or unlimited
/// when it only limits the rate.
fn add_limit_resources(agents: &AgentSettings, resources: &mut IndexMap<String, u32>) {
    for (name, limit) in &agents.limits {
        let capacity = limit.concurrency.unwrap_or(UNLIMITED);
        resources.entry(name.clone()).or_insert(capacity);
    }
}

/// The capacity of a limit that sets no concurrency.
pub(crate) const UNLIMITED: u32 = u32::MAX / 2;

/// The plan's agent tables over the project file's, table by table.
fn merge_agents(defaults: AgentSettings, plan: AgentSettings) -> AgentSettings {
    let mut out = defaults;
    out.default_agent = plan.default_agent.or(out.default_agent);
    out.models.extend(plan.models);
    out.profiles.extend(plan.profiles);
    out.limits.extend(plan.limits);
    out.budget.usd = plan.budget.usd.or(out.budget.usd);
    out.budget.tokens = plan.budget.tokens.or(out.budget.tokens);
    out
}

fn task_name(t: &RawTask) -> String {
    t.id.as_ref()
        .map_or_else(|| "a task".to_owned(), |id| format!("task `{}`", id.value))
}

/// Every substituted field of a template may only use its own matrix names.
fn check_template(t: &RawTask, source: &str, problems: &mut Vec<Problem>) {
    let names: Vec<&str> = t.matrix.iter().map(|(k, _)| k.name.as_str()).collect();
    // Most tasks have no braces at all: name the task only when there is something to check.
    let what = std::cell::OnceCell::new();
    let mut check = |text: &Text| {
        if text.value.contains('{') {
            let what = what.get_or_init(|| task_name(t));
            check_placeholders(text, &names, what, source, problems);
        }
    };
    let texts =
        t.id.iter()
            .chain(&t.subject)
            .chain(&t.prompt)
            .chain(&t.cwd)
            .chain(&t.writes)
            .chain(&t.inputs)
            .chain(&t.outputs)
            .chain(t.env.iter().map(|(_, v)| v));
    texts.for_each(&mut check);
    match &t.run {
        Some(RawRun::Shell(s)) => check(s),
        Some(RawRun::Argv(argv)) => argv.iter().for_each(check),
        None => {}
    }
}

fn check_uses(t: &RawTask, resources: &IndexMap<String, u32>, problems: &mut Vec<Problem>) {
    for (key, amount) in &t.uses {
        match resources.get(&key.name) {
            None => problems.push(
                Problem::at(
                    &key.span,
                    format!("unknown resource `{}` in {}", key.name, task_name(t)),
                    "not declared in `[resources]`",
                )
                .help(
                    suggestion(&key.name, resources.keys().map(String::as_str)).unwrap_or_else(
                        || format!("declare it: `[resources]` with `{} = 1`", key.name),
                    ),
                ),
            ),
            Some(&capacity) if *amount > capacity => problems.push(
                Problem::at(
                    &key.span,
                    format!(
                        "{} asks for {amount} of `{}`, whose capacity is {capacity}",
                        task_name(t),
                        key.name
                    ),
                    format!("more than {capacity}"),
                )
                .help("ask for less, or raise the capacity in `[resources]`"),
            ),
            Some(_) => {}
        }
    }
}

/// Builds the expanded tasks and indexes them by id.
struct Expander<'a> {
    raw: &'a [RawTask],
    raw_settings: &'a RawSettings,
    settings: &'a Settings,
    tasks: Vec<Task>,
    /// For each task: its template's index and its matrix values.
    origin: Vec<(usize, Values)>,
    ids: HashMap<String, usize>,
    /// Template id as written → its expansions (matrix tasks only).
    templates: HashMap<&'a str, Vec<usize>>,
    duplicates: Vec<(usize, usize)>,
}

impl<'a> Expander<'a> {
    fn new(raw: &'a [RawTask], raw_settings: &'a RawSettings, settings: &'a Settings) -> Self {
        Expander {
            raw,
            raw_settings,
            settings,
            tasks: Vec::with_capacity(raw.len()),
            origin: Vec::with_capacity(raw.len()),
            ids: HashMap::with_capacity(raw.len()),
            templates: HashMap::new(),
            duplicates: Vec::new(),
        }
    }

    fn expand(&mut self) {
        for (ti, t) in self.raw.iter().enumerate() {
            let Some(id) = &t.id else { continue };
            for values in combinations(&t.matrix) {
                let task = self.instance(t, &values);
                let index = self.tasks.len();
                match self.ids.get(&task.id) {
                    Some(&first) => self.duplicates.push((first, index)),
                    None => {
                        self.ids.insert(task.id.clone(), index);
                    }
                }
                if !t.matrix.is_empty() {
                    self.templates
                        .entry(id.value.as_str())
                        .or_default()
                        .push(index);
                }
                self.tasks.push(task);
                self.origin.push((ti, values));
            }
        }
    }

    fn instance(&self, t: &RawTask, values: &Values) -> Task {
        let sub = |s: &str| substitute(s, values).into_owned();
        let action = match (&t.run, &t.prompt) {
            (Some(RawRun::Shell(s)), _) => Action::Shell(sub(&s.value)),
            (Some(RawRun::Argv(argv)), _) => {
                Action::Argv(argv.iter().map(|a| sub(&a.value)).collect())
            }
            (None, Some(p)) => Action::Agent {
                prompt: sub(&p.value),
            },
            (None, None) if t.prompt_file.is_some() => Action::Agent {
                prompt: String::new(),
            },
            // Reported while decoding; the plan is not used.
            (None, None) => Action::Shell(String::new()),
        };
        Task {
            id: t.id.as_ref().map(|id| sub(&id.value)).unwrap_or_default(),
            subject: t.subject.as_ref().map(|s| sub(&s.value)),
            action,
            deps: Vec::new(),
            writes: t.writes.iter().map(|w| sub(&w.value)).collect(),
            uses: t.uses.iter().map(|(k, n)| (k.name.clone(), *n)).collect(),
            timeout: t.timeout.or(self.settings.timeout),
            slow: t.slow,
            retries: t.retries.unwrap_or(self.settings.retries),
            backoff: t.backoff.or(self.raw_settings.backoff).resolve(),
            priority: t.priority,
            estimate: t.estimate,
            env: t
                .env
                .iter()
                .map(|(k, v)| (k.name.clone(), sub(&v.value)))
                .collect(),
            cwd: t.cwd.as_ref().map(|c| PathBuf::from(sub(&c.value))),
            inputs: t.inputs.iter().map(|w| sub(&w.value)).collect(),
            outputs: t.outputs.iter().map(|w| sub(&w.value)).collect(),
            kind: t.kind.clone(),
            required_skill: t.required_skill.clone(),
            isolate: t.isolate.unwrap_or(self.settings.isolate),
            agent: AgentOptions {
                agent: t.agent.clone(),
                prompt_file: t.prompt_file.as_ref().map(|p| PathBuf::from(sub(&p.value))),
                model: t.model.as_ref().map(|m| sub(m)),
                max_turns: t.max_turns,
                allowed_tools: t.allowed_tools.clone(),
                session_id: t.session_id.as_ref().map(|s| sub(s)),
                max_usd: t.max_usd,
            },
            stdin: None,
            stdin_ranges: Vec::new(),
            files: Vec::new(),
        }
    }

    fn id_span(&self, task: usize) -> &Span {
        let raw = &self.raw[self.origin[task].0];
        raw.id.as_ref().map_or(&raw.span, |id| &id.span)
    }
}

/// Dependencies as indices, each with the place of the entry that made it.
struct Links<'e, 'p> {
    ex: &'e Expander<'e>,
    source: &'e str,
    problems: &'p mut Vec<Problem>,
    deps: Vec<Vec<usize>>,
    spans: Vec<Vec<Span>>,
    suggestions_left: usize,
}

impl<'e, 'p> Links<'e, 'p> {
    fn new(ex: &'e Expander<'e>, source: &'e str, problems: &'p mut Vec<Problem>) -> Self {
        let n = ex.tasks.len();
        Links {
            ex,
            source,
            problems,
            deps: vec![Vec::new(); n],
            spans: vec![Vec::new(); n],
            suggestions_left: SUGGESTION_LIMIT,
        }
    }

    fn link(&mut self) {
        let ex = self.ex;
        for &(first, again) in &ex.duplicates {
            let id = &ex.tasks[again].id;
            let (a, b) = (ex.id_span(first), ex.id_span(again));
            let mut p = Problem::new(format!("duplicate task id `{id}`"));
            p = if a == b {
                p.label(a, "this matrix task makes the same id twice").help(
                    "put a placeholder for every matrix name in the id, e.g. `test-{service}`",
                )
            } else {
                p.label(a, "first defined here")
                    .label(b, "defined again here")
                    .help("task ids must be unique")
            };
            self.problems.push(p);
        }
        for i in 0..ex.tasks.len() {
            let (ti, values) = &ex.origin[i];
            let raw = &ex.raw[*ti];
            for entry in &raw.after {
                for target in self.targets(i, raw, values, entry, "dependency") {
                    self.deps[i].push(target);
                    self.spans[i].push(entry.span.clone());
                }
            }
            for entry in &raw.blocks {
                for target in self.targets(i, raw, values, entry, "task in `blocks`") {
                    self.deps[target].push(i);
                    self.spans[target].push(entry.span.clone());
                }
            }
        }
        dedup(&mut self.deps, &mut self.spans);
    }

    /// The tasks an `after` or `blocks` entry of task `i` names.
    fn targets(
        &mut self,
        i: usize,
        raw: &RawTask,
        values: &Values,
        entry: &Text,
        what: &str,
    ) -> Vec<usize> {
        let ex = self.ex;
        let task = &ex.tasks[i].id;
        let own: Vec<&str> = values.iter().map(|(n, _)| n.as_str()).collect();
        if entry.value.contains('{') && !matrix::unknown_placeholders(&entry.value, &own).is_empty()
        {
            if let Some(expansions) = ex.templates.get(entry.value.as_str()) {
                return expansions.clone();
            }
            if !own.is_empty() {
                let mut found = Vec::new();
                check_placeholders(entry, &own, &task_name(raw), self.source, &mut found);
                if let Some(p) = found.into_iter().next() {
                    self.problems.push(p);
                }
                return Vec::new();
            }
        }
        let name = substitute(&entry.value, values);
        if name.contains(['*', '?']) {
            return self.glob(i, entry, &name, what);
        }
        match ex.ids.get(name.as_ref()) {
            Some(&j) if j == i => {
                self.problems.push(
                    Problem::at(
                        &entry.span,
                        format!("task `{task}` depends on itself"),
                        "this is the task itself",
                    )
                    .help("remove this entry"),
                );
                Vec::new()
            }
            Some(&j) => vec![j],
            None => {
                let help = if self.suggestions_left > 0 {
                    self.suggestions_left -= 1;
                    let candidates = ex.ids.keys().map(String::as_str);
                    let templates = ex.templates.keys().copied();
                    suggestion(&name, candidates.chain(templates))
                } else {
                    None
                };
                let mut p = Problem::at(
                    &entry.span,
                    format!("unknown {what} `{name}` in task `{task}`"),
                    "no task has this id",
                );
                if let Some(help) = help {
                    p = p.help(help);
                }
                self.problems.push(p);
                Vec::new()
            }
        }
    }

    fn glob(&mut self, i: usize, entry: &Text, pattern: &str, what: &str) -> Vec<usize> {
        let task = &self.ex.tasks[i].id;
        let matcher = match globset::Glob::new(pattern) {
            Ok(g) => g.compile_matcher(),
            Err(e) => {
                self.problems.push(Problem::at(
                    &entry.span,
                    format!("invalid pattern `{pattern}` in task `{task}`: {}", e.kind()),
                    "invalid pattern",
                ));
                return Vec::new();
            }
        };
        let found: Vec<usize> = (0..self.ex.tasks.len())
            .filter(|&j| j != i && matcher.is_match(&self.ex.tasks[j].id))
            .collect();
        if found.is_empty() {
            self.problems.push(
                Problem::at(
                    &entry.span,
                    format!("{what} pattern `{pattern}` in task `{task}` matches no task"),
                    "matches nothing",
                )
                .help("`*` and `?` match task ids; check the pattern"),
            );
        }
        found
    }
}

/// Keeps the first of each dependency (and its place), in order.
fn dedup(deps: &mut [Vec<usize>], spans: &mut [Vec<Span>]) {
    let mut seen = vec![usize::MAX; deps.len()];
    for (i, (ds, ss)) in deps.iter_mut().zip(spans.iter_mut()).enumerate() {
        if ds.len() < 2 {
            continue;
        }
        let mut keep = 0;
        for k in 0..ds.len() {
            if seen[ds[k]] != i {
                seen[ds[k]] = i;
                ds.swap(keep, k);
                ss.swap(keep, k);
                keep += 1;
            }
        }
        ds.truncate(keep);
        ss.truncate(keep);
    }
}

fn cycle_problem(
    path: &[usize],
    ids: &[&str],
    deps: &[Vec<usize>],
    spans: &[Vec<Span>],
) -> Problem {
    let mut shown: Vec<&str> = path.iter().map(|&i| ids[i]).collect();
    shown.push(ids[path[0]]);
    let mut p = Problem::new(format!("dependency cycle: {}", shown.join(" → ")));
    for (k, &a) in path.iter().enumerate() {
        let b = path[(k + 1) % path.len()];
        if let Some(pos) = deps[a].iter().position(|&d| d == b) {
            p = p.label(
                &spans[a][pos],
                format!("`{}` waits for `{}`", ids[a], ids[b]),
            );
        }
    }
    p.help("a task cannot wait for itself, even through others; remove one of these dependencies")
}
