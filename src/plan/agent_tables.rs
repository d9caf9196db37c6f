//! The agent tables of a plan or project file: `[agents]` (the default agent, models by
//! task type, and one table per profile), `[limits.NAME]` (concurrency, rate, burst,
//! breaker) and `[budget]`. Only decodes and checks the values; agents are resolved to
//! profiles and limits to resources later.

use std::time::Duration;

use indexmap::IndexMap;

use crate::plan::decode::money;
use crate::plan::error::Problem;
use crate::plan::model::{AgentSettings, BudgetSettings, LimitSettings, ProfileSettings, Rate};
use crate::plan::node::Node;
use crate::plan::values::{
    Field, count, duration, field, integer, match_fields, string, string_list, string_map, table,
};

const PROFILE_FIELDS: &[Field] = &[
    field("command", &["argv"]),
    field("output", &[]),
    field("success", &[]),
    field("error", &[]),
    field("cost", &[]),
    field("tokens_in", &[]),
    field("tokens_out", &[]),
    field("tokens_cached", &[]),
    field("turns", &[]),
    field("session", &[]),
    field("result_event", &[]),
    field("limit", &[]),
    field("start_interval", &[]),
    field("rate_limit_patterns", &[]),
    field("prompt_via", &[]),
];

/// `[agents]`: `default`, `[agents.models]` and one table per profile.
pub(crate) fn agents(node: &Node, out: &mut AgentSettings, problems: &mut Vec<Problem>) {
    let Some(entries) = table(node, "agents", problems) else {
        return;
    };
    for (key, value) in entries {
        match key.name.as_str() {
            "default" => out.default_agent = string(value, "default", problems).map(|s| s.value),
            "models" => {
                out.models = string_map(value, "models", problems)
                    .into_iter()
                    .map(|(k, v)| (k.name, v.value))
                    .collect();
            }
            name => {
                let what = format!("`[agents.{name}]`");
                let Some(entries) = table(value, name, problems) else {
                    continue;
                };
                let f = match_fields(entries, PROFILE_FIELDS, &[], &what, problems);
                let text = |name: &str, problems: &mut Vec<Problem>| {
                    f.get(name)
                        .and_then(|n| string(n, name, problems))
                        .map(|s| s.value)
                };
                let texts = |name: &str, problems: &mut Vec<Problem>| {
                    f.get(name).map_or_else(Vec::new, |n| {
                        string_list(n, name, problems)
                            .into_iter()
                            .map(|t| t.value)
                            .collect()
                    })
                };
                let profile = ProfileSettings {
                    command: texts("command", problems),
                    output: text("output", problems),
                    success: text("success", problems),
                    error: text("error", problems),
                    cost: text("cost", problems),
                    tokens_in: text("tokens_in", problems),
                    tokens_out: text("tokens_out", problems),
                    tokens_cached: text("tokens_cached", problems),
                    turns: text("turns", problems),
                    session: text("session", problems),
                    result_event: text("result_event", problems),
                    limit: text("limit", problems),
                    start_interval: f
                        .get("start_interval")
                        .and_then(|n| duration(n, "start_interval", problems)),
                    rate_limit_patterns: texts("rate_limit_patterns", problems),
                    prompt_via: text("prompt_via", problems),
                };
                if let Some(output) = &profile.output
                    && !matches!(output.as_str(), "json" | "json-lines" | "text")
                {
                    problems.push(
                        Problem::at(
                            &f.get("output").expect("found").span,
                            format!("unknown output `{output}` in {what}"),
                            "expected \"json\", \"json-lines\" or \"text\"",
                        )
                        .help("`output` says how to read the agent's result"),
                    );
                }
                if let Some(via) = &profile.prompt_via
                    && !matches!(via.as_str(), "argv" | "stdin")
                {
                    problems.push(
                        Problem::at(
                            &f.get("prompt_via").expect("found").span,
                            format!("unknown prompt_via `{via}` in {what}"),
                            "expected \"argv\" or \"stdin\"",
                        )
                        .help("`prompt_via` says how the agent gets its prompt"),
                    );
                }
                out.profiles.insert(name.to_owned(), profile);
            }
        }
    }
}

const LIMIT_FIELDS: &[Field] = &[
    field("concurrency", &[]),
    field("rate", &[]),
    field("burst", &[]),
    field("breaker_failures", &[]),
    field("breaker_cooldown", &[]),
];

/// `[limits.NAME]` tables.
pub(crate) fn limits(node: &Node, problems: &mut Vec<Problem>) -> IndexMap<String, LimitSettings> {
    let Some(entries) = table(node, "limits", problems) else {
        return IndexMap::new();
    };
    let mut out = IndexMap::new();
    for (key, value) in entries {
        let what = format!("`[limits.{}]`", key.name);
        let Some(fields) = table(value, &key.name, problems) else {
            continue;
        };
        let f = match_fields(fields, LIMIT_FIELDS, &[], &what, problems);
        let limit = LimitSettings {
            concurrency: f
                .get("concurrency")
                .and_then(|n| count(n, "concurrency", 1, problems)),
            rate: f.get("rate").and_then(|n| rate(n, problems)),
            burst: f.get("burst").and_then(|n| count(n, "burst", 1, problems)),
            breaker_failures: f
                .get("breaker_failures")
                .and_then(|n| count(n, "breaker_failures", 1, problems)),
            breaker_cooldown: f
                .get("breaker_cooldown")
                .and_then(|n| duration(n, "breaker_cooldown", problems)),
        };
        out.insert(key.name.clone(), limit);
    }
    out
}

/// `"50/min"`, `"10/s"`, `"1000/hour"`, `"3/10s"`.
fn rate(node: &Node, problems: &mut Vec<Problem>) -> Option<Rate> {
    let text = string(node, "rate", problems)?;
    match parse_rate(&text.value) {
        Some(rate) => Some(rate),
        None => {
            problems.push(
                Problem::at(
                    &node.span,
                    format!("invalid rate `{}`", text.value),
                    "not a rate",
                )
                .help("write a count per period, such as \"50/min\", \"5/s\" or \"1000/hour\""),
            );
            None
        }
    }
}

pub(crate) fn parse_rate(text: &str) -> Option<Rate> {
    let (count, per) = text.split_once('/')?;
    let count: u32 = count.trim().parse().ok().filter(|&n| n > 0)?;
    let per = match per.trim() {
        "s" | "sec" | "second" => Duration::from_secs(1),
        "m" | "min" | "minute" => Duration::from_secs(60),
        "h" | "hour" => Duration::from_secs(3600),
        "d" | "day" => Duration::from_secs(86_400),
        other => humantime::parse_duration(other).ok()?,
    };
    (!per.is_zero()).then_some(Rate { count, per })
}

const BUDGET_FIELDS: &[Field] = &[field("usd", &[]), field("tokens", &[])];

pub(crate) fn budget(node: &Node, problems: &mut Vec<Problem>) -> BudgetSettings {
    let Some(entries) = table(node, "budget", problems) else {
        return BudgetSettings::default();
    };
    let f = match_fields(entries, BUDGET_FIELDS, &[], "`[budget]`", problems);
    BudgetSettings {
        usd: f.get("usd").and_then(|n| money(n, "usd", problems)),
        tokens: f.get("tokens").and_then(|n| {
            let i = integer(n, "tokens", problems)?;
            match u64::try_from(i) {
                Ok(t) => Some(t),
                Err(_) => {
                    problems.push(Problem::at(
                        &n.span,
                        format!("`tokens` must be 0 or more, found {i}"),
                        "expected a positive count",
                    ));
                    None
                }
            }
        }),
    }
}
