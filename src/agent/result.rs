//! Reading an agent's result from its output: Claude Code's result object, Codex's JSON
//! lines, Gemini CLI's JSON, Aider's text, or a custom profile's JSON pointers. Also tells
//! a rate-limited attempt from a failed one.

use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;
use serde::Serialize;
use serde_json::Value;

/// What one agent attempt reported about itself.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AgentResult {
    /// The profile that ran it.
    pub agent: String,
    /// The model asked for, if any.
    pub model: Option<String>,
    /// The agent reported success (and the process exited with 0).
    pub success: bool,
    /// The agent's error message when it failed.
    pub error: Option<String>,
    /// Cost in US dollars, where the CLI reports it.
    pub cost_usd: Option<f64>,
    pub tokens_in: Option<u64>,
    pub tokens_out: Option<u64>,
    pub tokens_cached: Option<u64>,
    pub turns: Option<u32>,
    pub session_id: Option<String>,
    /// Set when the attempt failed because of a rate limit.
    pub rate_limited: Option<RateLimitHint>,
}

/// A rate limit met by an attempt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RateLimitHint {
    /// How long the service asked to wait, when it said.
    pub retry_after: Option<Duration>,
}

impl AgentResult {
    /// Tokens in and out (cached input tokens are part of neither).
    pub fn tokens(&self) -> u64 {
        self.tokens_in.unwrap_or(0) + self.tokens_out.unwrap_or(0)
    }
}

/// How a profile's output is laid out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum OutputFormat {
    Claude,
    Codex,
    Gemini,
    Aider,
    /// JSON pointers into one JSON object (or the last JSON-lines event of a type).
    Pointers(Box<Pointers>),
}

/// Where a custom profile's values are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pointers {
    pub(crate) json_lines: bool,
    pub(crate) text_only: bool,
    pub(crate) result_event: Option<String>,
    pub(crate) success: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) cost: Option<String>,
    pub(crate) tokens_in: Option<String>,
    pub(crate) tokens_out: Option<String>,
    pub(crate) tokens_cached: Option<String>,
    pub(crate) turns: Option<String>,
    pub(crate) session: Option<String>,
}

/// Reads `output` (the attempt's log) after the process exited with `exit_code` (`None`:
/// killed or never started).
pub(crate) fn parse(
    format: &OutputFormat,
    output: &str,
    exit_code: Option<i32>,
    rate_limit_patterns: &[String],
) -> AgentResult {
    let mut result = match format {
        OutputFormat::Claude => claude(output),
        OutputFormat::Codex => codex(output),
        OutputFormat::Gemini => gemini(output),
        OutputFormat::Aider => aider(output),
        OutputFormat::Pointers(p) => pointers(p, output),
    };
    let exited_ok = exit_code == Some(0);
    // What the agent said counts only when the process agrees.
    result.success &= exited_ok;
    if !result.success {
        if result.error.is_none() {
            result.error = Some(match exit_code {
                Some(0) => "the agent reported no result".to_owned(),
                Some(code) => format!("the agent exited with status {code}"),
                None => "the agent did not finish".to_owned(),
            });
        }
        result.rate_limited = rate_limit(output, exit_code, rate_limit_patterns);
    }
    result
}

/// JSON values in `output`: the whole text when it is one value, else each line that is.
fn json_values(output: &str) -> Vec<Value> {
    if let Ok(value) = serde_json::from_str::<Value>(output.trim()) {
        return vec![value];
    }
    output
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .filter_map(|l| serde_json::from_str(l.trim()).ok())
        .collect()
}

fn u64_at(v: &Value, pointer: &str) -> Option<u64> {
    let x = v.pointer(pointer)?;
    x.as_u64().or_else(|| x.as_f64().map(|f| f as u64))
}

fn str_at(v: &Value, pointer: &str) -> Option<String> {
    match v.pointer(pointer)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Claude Code `--output-format json`: one result object. `"subtype": "success"` with
/// `"is_error": true` is a failure.
fn claude(output: &str) -> AgentResult {
    let values = json_values(output);
    let Some(r) = values
        .iter()
        .rev()
        .find(|v| v.get("type").and_then(Value::as_str) == Some("result"))
        .or_else(|| values.iter().rev().find(|v| v.get("subtype").is_some()))
    else {
        return AgentResult::default();
    };
    let subtype = r.get("subtype").and_then(Value::as_str).unwrap_or("");
    let is_error = r.get("is_error").and_then(Value::as_bool).unwrap_or(false);
    let success = subtype == "success" && !is_error;
    AgentResult {
        success,
        error: (!success).then(|| {
            str_at(r, "/result")
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| format!("the agent ended with `{subtype}`"))
        }),
        cost_usd: r.get("total_cost_usd").and_then(Value::as_f64),
        tokens_in: u64_at(r, "/usage/input_tokens"),
        tokens_out: u64_at(r, "/usage/output_tokens"),
        tokens_cached: u64_at(r, "/usage/cache_read_input_tokens"),
        turns: u64_at(r, "/num_turns").map(|n| n as u32),
        session_id: str_at(r, "/session_id"),
        ..AgentResult::default()
    }
}

/// Codex `exec --json`: JSON lines (`thread.started`, `turn.completed` with usage,
/// `turn.failed`, `error`).
fn codex(output: &str) -> AgentResult {
    let mut r = AgentResult::default();
    let mut turns = 0;
    let mut failed = None;
    let mut completed = false;
    for v in json_values(output) {
        match v.get("type").and_then(Value::as_str).unwrap_or("") {
            "thread.started" => r.session_id = str_at(&v, "/thread_id"),
            "turn.completed" => {
                turns += 1;
                completed = true;
                let add = |slot: &mut Option<u64>, p: &str| {
                    if let Some(n) = u64_at(&v, p) {
                        *slot = Some(slot.unwrap_or(0) + n);
                    }
                };
                add(&mut r.tokens_in, "/usage/input_tokens");
                add(&mut r.tokens_out, "/usage/output_tokens");
                add(&mut r.tokens_cached, "/usage/cached_input_tokens");
            }
            "turn.failed" => failed = str_at(&v, "/error/message").or(Some("turn failed".into())),
            "error" => failed = str_at(&v, "/message").or(Some("error".into())),
            _ => {}
        }
    }
    r.turns = (turns > 0).then_some(turns);
    r.success = completed && failed.is_none();
    r.error = failed;
    r
}

/// Gemini CLI `-o json`: `{response, stats: {models: {NAME: {tokens}}}, error}`.
fn gemini(output: &str) -> AgentResult {
    let values = json_values(output);
    let Some(v) = values
        .iter()
        .rev()
        .find(|v| v.get("response").is_some() || v.get("error").is_some())
    else {
        return AgentResult::default();
    };
    let mut r = AgentResult {
        session_id: str_at(v, "/session_id"),
        ..AgentResult::default()
    };
    if let Some(Value::Object(models)) = v.pointer("/stats/models") {
        for m in models.values() {
            let add = |slot: &mut Option<u64>, p: &str| {
                if let Some(n) = u64_at(m, p) {
                    *slot = Some(slot.unwrap_or(0) + n);
                }
            };
            add(&mut r.tokens_in, "/tokens/prompt");
            add(&mut r.tokens_out, "/tokens/candidates");
            add(&mut r.tokens_cached, "/tokens/cached");
        }
    }
    match v.get("error") {
        Some(e) if !e.is_null() => {
            r.error = str_at(e, "/message").or_else(|| Some(e.to_string()));
        }
        _ => r.success = true,
    }
    r
}

static AIDER_TOKENS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"Tokens: ([\d.]+k?) sent(?:, ([\d.]+k?) cache write)?(?:, ([\d.]+k?) cache hit)?, ([\d.]+k?) received\.(?: Cost: \$([\d.]+) message)?",
    )
    .expect("valid")
});

/// `12k` → 12000.
fn aider_count(text: &str) -> u64 {
    match text.strip_suffix('k') {
        Some(k) => (k.parse::<f64>().unwrap_or(0.0) * 1000.0).round() as u64,
        None => text.parse::<f64>().unwrap_or(0.0) as u64,
    }
}

/// Aider `--no-pretty`: plain text with a `Tokens: … Cost: …` line per message.
fn aider(output: &str) -> AgentResult {
    let mut r = AgentResult {
        success: true,
        ..AgentResult::default()
    };
    let mut turns = 0;
    for c in AIDER_TOKENS.captures_iter(output) {
        turns += 1;
        let n = |i: usize| c.get(i).map_or(0, |m| aider_count(m.as_str()));
        r.tokens_in = Some(r.tokens_in.unwrap_or(0) + n(1));
        r.tokens_cached = Some(r.tokens_cached.unwrap_or(0) + n(3));
        r.tokens_out = Some(r.tokens_out.unwrap_or(0) + n(4));
        if let Some(cost) = c.get(5).and_then(|m| m.as_str().parse::<f64>().ok()) {
            r.cost_usd = Some(r.cost_usd.unwrap_or(0.0) + cost);
        }
    }
    r.turns = (turns > 0).then_some(turns);
    r
}

/// A custom profile's result, read through its JSON pointers.
fn pointers(p: &Pointers, output: &str) -> AgentResult {
    if p.text_only {
        return AgentResult {
            success: true,
            ..AgentResult::default()
        };
    }
    let values = json_values(output);
    let found = if p.json_lines {
        match &p.result_event {
            Some(kind) => values
                .iter()
                .rev()
                .find(|v| v.get("type").and_then(Value::as_str) == Some(kind)),
            None => values.last(),
        }
    } else {
        values.last()
    };
    let Some(v) = found else {
        return AgentResult::default();
    };
    let get = |ptr: &Option<String>| ptr.as_deref().and_then(|p| v.pointer(p));
    let error = get(&p.error)
        .filter(|e| !e.is_null() && *e != &Value::Bool(false))
        .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned));
    let success = match get(&p.success) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.as_str(), "success" | "ok" | "true"),
        Some(_) => false,
        None => error.is_none(),
    };
    AgentResult {
        success: success && error.is_none(),
        error,
        cost_usd: get(&p.cost).and_then(Value::as_f64),
        tokens_in: p.tokens_in.as_deref().and_then(|x| u64_at(v, x)),
        tokens_out: p.tokens_out.as_deref().and_then(|x| u64_at(v, x)),
        tokens_cached: p.tokens_cached.as_deref().and_then(|x| u64_at(v, x)),
        turns: p
            .turns
            .as_deref()
            .and_then(|x| u64_at(v, x))
            .map(|n| n as u32),
        session_id: p.session.as_deref().and_then(|x| str_at(v, x)),
        ..AgentResult::default()
    }
}

static RATE_LIMITED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b429\b|rate[ _-]?limit|overloaded|too many requests|resource[ _]exhausted")
        .expect("valid")
});
static RETRY_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)retry[ _-]?after["':= ]*\s*(\d+(?:\.\d+)?)\s*(ms|s|seconds?)?"#)
        .expect("valid")
});

/// Whether a failed attempt's output says it met a rate limit, and for how long to wait.
fn rate_limit(output: &str, exit_code: Option<i32>, extra: &[String]) -> Option<RateLimitHint> {
    // Exit status 75 (EX_TEMPFAIL) is how several CLIs say "try again later".
    let lower = output.to_lowercase();
    let matched = exit_code == Some(75)
        || RATE_LIMITED.is_match(output)
        || extra
            .iter()
            .any(|p| !p.is_empty() && lower.contains(&p.to_lowercase()));
    if !matched {
        return None;
    }
    let retry_after = RETRY_AFTER.captures(output).and_then(|c| {
        let n: f64 = c[1].parse().ok()?;
        let secs = match c.get(2).map(|m| m.as_str()) {
            Some("ms") => n / 1000.0,
            _ => n,
        };
        Duration::try_from_secs_f64(secs).ok()
    });
    Some(RateLimitHint { retry_after })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_result_objects_are_read() {
        let out = r#"{"type":"result","subtype":"success","is_error":false,"duration_ms":1200,"num_turns":3,"result":"done","session_id":"abc","total_cost_usd":0.0125,"usage":{"input_tokens":100,"output_tokens":20,"cache_read_input_tokens":5}}"#;
        let r = parse(&OutputFormat::Claude, out, Some(0), &[]);
        assert!(r.success);
        assert_eq!(r.cost_usd, Some(0.0125));
        assert_eq!(
            (r.tokens_in, r.tokens_out, r.tokens_cached),
            (Some(100), Some(20), Some(5))
        );
        assert_eq!(r.turns, Some(3));
        assert_eq!(r.session_id.as_deref(), Some("abc"));
    }

    #[test]
    fn claude_success_with_is_error_is_a_failure() {
        let out = "noise on stderr\n{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":true,\"result\":\"API Error: 500\"}\n";
        let r = parse(&OutputFormat::Claude, out, Some(0), &[]);
        assert!(!r.success);
        assert_eq!(r.error.as_deref(), Some("API Error: 500"));
        assert_eq!(r.rate_limited, None);
    }

    #[test]
    fn rate_limits_are_recognized_with_their_hint() {
        let out = "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":true,\"result\":\"API Error: 429 rate_limit_error, retry-after: 7\"}";
        let r = parse(&OutputFormat::Claude, out, Some(1), &[]);
        assert_eq!(
            r.rate_limited,
            Some(RateLimitHint {
                retry_after: Some(Duration::from_secs(7))
            })
        );
        let r = parse(
            &OutputFormat::Aider,
            "quota gone",
            Some(1),
            &["quota".into()],
        );
        assert!(r.rate_limited.is_some());
        let r = parse(&OutputFormat::Aider, "syntax error", Some(1), &[]);
        assert!(r.rate_limited.is_none());
    }

    #[test]
    fn codex_json_lines_are_summed() {
        let out = r#"{"type":"thread.started","thread_id":"t-1"}
{"type":"turn.started"}
{"type":"item.completed","item":{"id":"i","type":"agent_message","text":"hi"}}
{"type":"turn.completed","usage":{"input_tokens":10,"cached_input_tokens":4,"output_tokens":3}}
{"type":"turn.completed","usage":{"input_tokens":5,"cached_input_tokens":0,"output_tokens":2}}
"#;
        let r = parse(&OutputFormat::Codex, out, Some(0), &[]);
        assert!(r.success);
        assert_eq!(
            (r.tokens_in, r.tokens_out, r.tokens_cached),
            (Some(15), Some(5), Some(4))
        );
        assert_eq!(r.turns, Some(2));
        assert_eq!(r.session_id.as_deref(), Some("t-1"));
        let failed = parse(
            &OutputFormat::Codex,
            "{\"type\":\"turn.failed\",\"error\":{\"message\":\"boom\"}}",
            Some(1),
            &[],
        );
        assert_eq!(failed.error.as_deref(), Some("boom"));
    }

    #[test]
    fn gemini_stats_are_summed_over_models() {
        let out = r#"{"response":"ok","stats":{"models":{"a":{"tokens":{"prompt":10,"candidates":2,"cached":1}},"b":{"tokens":{"prompt":5,"candidates":1,"cached":0}}}}}"#;
        let r = parse(&OutputFormat::Gemini, out, Some(0), &[]);
        assert!(r.success);
        assert_eq!(
            (r.tokens_in, r.tokens_out, r.tokens_cached),
            (Some(15), Some(3), Some(1))
        );
        let e = parse(
            &OutputFormat::Gemini,
            r#"{"error":{"type":"ApiError","message":"bad","code":1}}"#,
            Some(1),
            &[],
        );
        assert_eq!(e.error.as_deref(), Some("bad"));
    }

    #[test]
    fn aider_token_lines_are_summed() {
        let out = "Applied edit\nTokens: 2.5k sent, 1k cache hit, 120 received. Cost: $0.01 message, $0.01 session.\nTokens: 500 sent, 30 received. Cost: $0.002 message, $0.012 session.\n";
        let r = parse(&OutputFormat::Aider, out, Some(0), &[]);
        assert!(r.success);
        assert_eq!(
            (r.tokens_in, r.tokens_out, r.tokens_cached),
            (Some(3000), Some(150), Some(1000))
        );
        assert!((r.cost_usd.unwrap() - 0.012).abs() < 1e-9);
    }

    #[test]
    fn pointers_read_custom_output() {
        let p = Pointers {
            success: Some("/ok".into()),
            cost: Some("/billing/usd".into()),
            tokens_in: Some("/t/in".into()),
            session: Some("/sid".into()),
            ..Pointers::default()
        };
        let r = parse(
            &OutputFormat::Pointers(Box::new(p)),
            r#"{"ok":true,"billing":{"usd":0.5},"t":{"in":9},"sid":"s"}"#,
            Some(0),
            &[],
        );
        assert!(r.success);
        assert_eq!(r.cost_usd, Some(0.5));
        assert_eq!(r.tokens_in, Some(9));
        assert_eq!(r.session_id.as_deref(), Some("s"));
    }
}
