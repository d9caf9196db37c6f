//! Renders a plan's analysis for `fanout plan`: a compact text report, the versioned JSON
//! form (documented in `docs/plan-json.md`), and the graph as Graphviz DOT or Mermaid.
//!
//! Only presentation: every number comes from [`Analysis`] or the [`Dag`]; nothing here
//! decides whether parallelism pays.

use std::fmt::Write as _;

use crate::graph::{Analysis, Dag, WeightUnit, default_weights, plural, speedup_label};
use crate::plan::Plan;

/// Ids shown per list (a wave, the critical path) before "… and N more".
const IDS_SHOWN: usize = 10;

/// Waves listed before the rest are summarized.
const WAVES_SHOWN: usize = 20;

/// The human report: counts, waves, critical path, best speedup, conflicts, verdict.
pub fn render_text(analysis: &Analysis) -> String {
    let a = analysis;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "plan {}: {}, {}, {}",
        a.plan,
        plural(a.tasks, "task"),
        plural(a.edges, "edge"),
        plural(a.jobs, "job")
    );

    let _ = writeln!(out, "waves ({}, widest {}):", a.waves.len(), a.width);
    let number_width = a.waves.len().min(WAVES_SHOWN).to_string().len();
    for (k, wave) in a.waves.iter().take(WAVES_SHOWN).enumerate() {
        let _ = writeln!(out, "  {:>number_width$}  {}", k + 1, id_list(wave, ", "));
    }
    if a.waves.len() > WAVES_SHOWN {
        let _ = writeln!(out, "  … and {} more waves", a.waves.len() - WAVES_SHOWN);
    }

    let path = &a.critical_path;
    if path.tasks.is_empty() {
        out.push_str("critical path: none\n");
    } else {
        let length = plural(path.tasks.len(), "task");
        let heading = match a.unit {
            WeightUnit::Seconds => format!("{length}, {}", seconds(path.weight)),
            WeightUnit::Tasks => length,
        };
        let _ = writeln!(
            out,
            "critical path ({heading}): {}",
            id_list(&path.tasks, " → ")
        );
    }

    let _ = writeln!(
        out,
        "best speedup: {} (work {} / lower bound {})",
        speedup_label(a.best_speedup),
        weight(a.total_work, a.unit),
        weight(a.lower_bound, a.unit)
    );

    if a.conflict_groups.is_empty() {
        out.push_str("conflicts: none\n");
    } else {
        let _ = writeln!(
            out,
            "conflicts: {} serialized by overlapping writes",
            plural(a.conflict_groups.len(), "group")
        );
        for group in &a.conflict_groups {
            let _ = writeln!(out, "  - {}", id_list(group, ", "));
        }
    }
    if a.agent_tasks > 0 {
        let _ = writeln!(out, "agent tasks: {}", a.agent_tasks);
    }
    out.push_str(&a.verdict_sentence());
    out.push('\n');
    out
}

/// The versioned JSON form: pretty-printed, with a trailing newline.
pub fn render_json(analysis: &Analysis) -> String {
    let mut json =
        serde_json::to_string_pretty(analysis).expect("an analysis always serializes to JSON");
    json.push('\n');
    json
}

/// The graph in Graphviz DOT: one node per task, edges from a dependency to its
/// dependent, the critical path (by estimates, else task count) drawn bold and red.
pub fn render_dot(plan: &Plan, dag: &Dag) -> String {
    let on_path = critical_membership(plan, dag);
    let mut out = String::from("digraph fanout {\n  rankdir=LR;\n  node [shape=box];\n");
    for (i, task) in plan.tasks.iter().enumerate() {
        let style = if on_path.nodes[i] {
            " [color=red, penwidth=2]"
        } else {
            ""
        };
        let _ = writeln!(out, "  {}{style};", dot_quoted(&task.id));
    }
    for (i, task) in plan.tasks.iter().enumerate() {
        for &d in dag.deps(i) {
            let style = if on_path.next[d] == Some(i) {
                " [color=red, penwidth=2]"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  {} -> {}{style};",
                dot_quoted(&plan.tasks[d].id),
                dot_quoted(&task.id)
            );
        }
    }
    out.push_str("}\n");
    out
}

/// The graph as a Mermaid flowchart: node names are the ids made safe for Mermaid, the
/// labels the ids themselves; the critical path's tasks are in the `critical` class.
pub fn render_mermaid(plan: &Plan, dag: &Dag) -> String {
    let on_path = critical_membership(plan, dag);
    let names = mermaid_names(plan);
    let mut out = String::from("flowchart TD\n");
    for (i, task) in plan.tasks.iter().enumerate() {
        let _ = writeln!(out, "  {}[\"{}\"]", names[i], mermaid_label(&task.id));
    }
    for i in 0..plan.tasks.len() {
        for &d in dag.deps(i) {
            let _ = writeln!(out, "  {} --> {}", names[d], names[i]);
        }
    }
    let critical: Vec<&str> = (0..plan.tasks.len())
        .filter(|&i| on_path.nodes[i])
        .map(|i| names[i].as_str())
        .collect();
    if !critical.is_empty() {
        out.push_str("  classDef critical stroke:#d33,stroke-width:3px\n");
        let _ = writeln!(out, "  class {} critical", critical.join(","));
    }
    out
}

/// Which tasks are on the critical path, and for each the next task on it.
struct CriticalMembership {
    nodes: Vec<bool>,
    next: Vec<Option<usize>>,
}

fn critical_membership(plan: &Plan, dag: &Dag) -> CriticalMembership {
    let (path, _) = dag.critical_path(&default_weights(plan));
    let mut nodes = vec![false; dag.len()];
    let mut next = vec![None; dag.len()];
    for (k, &i) in path.iter().enumerate() {
        nodes[i] = true;
        next[i] = path.get(k + 1).copied();
    }
    CriticalMembership { nodes, next }
}

fn dot_quoted(id: &str) -> String {
    let mut quoted = String::with_capacity(id.len() + 2);
    quoted.push('"');
    for c in id.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            _ => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// Unique Mermaid node names: letters, digits and `_`; other characters become `_`, and a
/// clash with an earlier name (or the keyword `end`) gets a numeric suffix.
fn mermaid_names(plan: &Plan) -> Vec<String> {
    let mut taken = std::collections::HashSet::new();
    plan.tasks
        .iter()
        .map(|task| {
            let mut base: String = task
                .id
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            if base.is_empty() {
                base.push_str("task");
            }
            let mut name = base.clone();
            let mut suffix = 1;
            while name.eq_ignore_ascii_case("end") || !taken.insert(name.clone()) {
                suffix += 1;
                name = format!("{base}_{suffix}");
            }
            name
        })
        .collect()
}

/// A label safe inside `["…"]`, using Mermaid's entity codes.
fn mermaid_label(id: &str) -> String {
    let mut label = String::with_capacity(id.len());
    for c in id.chars() {
        match c {
            '#' => label.push_str("#35;"),
            '"' => label.push_str("#quot;"),
            '<' => label.push_str("#lt;"),
            '>' => label.push_str("#gt;"),
            '\n' => label.push(' '),
            _ => label.push(c),
        }
    }
    label
}

/// Up to [`IDS_SHOWN`] ids joined by `separator`, then "… and N more".
fn id_list(ids: &[String], separator: &str) -> String {
    let mut list = ids
        .iter()
        .take(IDS_SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(separator);
    if ids.len() > IDS_SHOWN {
        let _ = write!(list, "{separator}… and {} more", ids.len() - IDS_SHOWN);
    }
    list
}

fn weight(value: f64, unit: WeightUnit) -> String {
    match unit {
        WeightUnit::Seconds => seconds(value),
        WeightUnit::Tasks if value.fract() == 0.0 && value == 1.0 => "1 task".to_owned(),
        WeightUnit::Tasks if value.fract() == 0.0 => format!("{value:.0} tasks"),
        WeightUnit::Tasks => format!("{value:.1} tasks"),
    }
}

/// "4.5s", "42s", "3m 05s", "2h 01m".
fn seconds(value: f64) -> String {
    if value < 10.0 && value.fract() != 0.0 {
        return format!("{value:.1}s");
    }
    let whole = value.round() as u64;
    match whole {
        0..60 => format!("{whole}s"),
        60..3600 => format!("{}m {:02}s", whole / 60, whole % 60),
        _ => format!("{}h {:02}m", whole / 3600, whole % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use indexmap::IndexMap;

    use super::*;
    use crate::graph::analyse;
    use crate::plan::{Action, Settings, Task};

    fn task(id: &str, deps: &[usize]) -> Task {
        Task {
            deps: deps.to_vec(),
            ..Task::new(id, Action::Shell("true".to_owned()))
        }
    }

    fn writing(mut task: Task, globs: &[&str]) -> Task {
        task.writes = globs.iter().map(|g| (*g).to_owned()).collect();
        task
    }

    fn taking(mut task: Task, secs: u64) -> Task {
        task.estimate = Some(Duration::from_secs(secs));
        task
    }

    fn plan(tasks: Vec<Task>, jobs: usize) -> Plan {
        Plan {
            path: PathBuf::from("examples/build.toml"),
            base_dir: PathBuf::from("examples"),
            settings: Settings {
                jobs,
                ..Settings::default()
            },
            resources: IndexMap::new(),
            env: IndexMap::new(),
            tasks,
            agents: Default::default(),
        }
    }

    fn dag(plan: &Plan) -> Dag {
        Dag::new(plan.tasks.iter().map(|t| t.deps.clone()).collect()).unwrap()
    }

    fn analysis(plan: &Plan) -> Analysis {
        analyse(plan, &dag(plan), &default_weights(plan))
    }

    /// build, lint → three tests → package; two tests write the same report.
    fn build_plan() -> Plan {
        let mut review = task("review", &[0]);
        review.action = Action::Agent {
            prompt: "review the build".to_owned(),
        };
        plan(
            vec![
                task("build", &[]),
                task("lint", &[]),
                writing(task("test-auth", &[0]), &["reports/auth/**"]),
                writing(task("test-user", &[0]), &["reports/*.xml"]),
                writing(task("test-product", &[0]), &["reports/product.xml"]),
                task("package", &[1, 2, 3, 4]),
                review,
            ],
            8,
        )
    }

    #[test]
    fn text_of_an_unweighted_plan() {
        insta::assert_snapshot!(render_text(&analysis(&build_plan())));
    }

    #[test]
    fn text_of_a_weighted_plan() {
        let p = plan(
            vec![
                taking(task("fetch", &[]), 12),
                taking(task("compile", &[0]), 185),
                taking(task("docs", &[0]), 180),
                task("index", &[2]),
                taking(task("bundle", &[1, 3]), 4),
            ],
            4,
        );
        insta::assert_snapshot!(render_text(&analysis(&p)));
    }

    #[test]
    fn text_shortens_long_lists() {
        let mut tasks = vec![task("root", &[])];
        tasks.extend((1..=25).map(|i| task(&format!("leaf-{i:02}"), &[0])));
        for k in 0..24 {
            let previous = tasks.len() - 1;
            tasks.push(task(&format!("chain-{k:02}"), &[previous]));
        }
        let text = render_text(&analysis(&plan(tasks, 16)));
        assert!(text.contains("… and 15 more\n"), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn text_says_why_parallelism_does_not_pay() {
        let p = plan(vec![task("a", &[]), task("b", &[0]), task("c", &[1])], 1);
        insta::assert_snapshot!(render_text(&analysis(&p)));
    }

    #[test]
    fn json_form() {
        let p = build_plan();
        let json = render_json(&analysis(&p));
        assert!(json.starts_with("{\n  \"schema_version\": 1,"), "{json}");
        assert!(json.ends_with("}\n"));
        insta::assert_snapshot!(json);
    }

    /// Ids that need escaping in both formats.
    fn awkward_plan() -> Plan {
        plan(
            vec![
                task("say \"hi\"", &[]),
                task("a-b", &[0]),
                task("a_b", &[0]),
                task("end", &[1, 2]),
                task("c:\\tmp #1", &[]),
            ],
            2,
        )
    }

    #[test]
    fn dot_graph() {
        let p = build_plan();
        insta::assert_snapshot!(render_dot(&p, &dag(&p)));
    }

    #[test]
    fn dot_escapes_ids() {
        let p = awkward_plan();
        insta::assert_snapshot!(render_dot(&p, &dag(&p)));
    }

    #[test]
    fn mermaid_flowchart() {
        let p = build_plan();
        insta::assert_snapshot!(render_mermaid(&p, &dag(&p)));
    }

    #[test]
    fn mermaid_names_are_safe_and_unique() {
        let p = awkward_plan();
        assert_eq!(
            mermaid_names(&p),
            vec!["say__hi_", "a_b", "a_b_2", "end_2", "c__tmp__1"]
        );
        insta::assert_snapshot!(render_mermaid(&p, &dag(&p)));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(seconds(4.5), "4.5s");
        assert_eq!(seconds(42.0), "42s");
        assert_eq!(seconds(185.0), "3m 05s");
        assert_eq!(seconds(7260.0), "2h 01m");
        assert_eq!(weight(1.0, WeightUnit::Tasks), "1 task");
        assert_eq!(weight(7.0, WeightUnit::Tasks), "7 tasks");
    }
}
