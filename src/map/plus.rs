//! `--plus`: GNU parallel's further replacement strings, each doing to an input value
//! what GNU parallel's Perl expression for it does. Path parts: `{+/}` `{+.}` `{+..}`
//! `{+...}` `{..}` `{...}` `{/..}` `{/...}` (so that `{}` = `{+/}/{/}` = `{.}.{+.}` =
//! `{..}.{+..}`). Bash-like edits: `{:-TEXT}` `{:N}` `{:N:M}` `{#RE}` `{##RE}` `{%RE}`
//! `{%%RE}` `{/RE/TO}` `{/#RE/TO}` `{/%RE/TO}` `{//RE/TO}` `{^RE}` `{^^RE}` `{,RE}`
//! `{,,RE}`, where RE is a regular expression, as in GNU parallel (Rust's syntax, in
//! which GNU parallel's usual patterns read the same).

use std::sync::LazyLock;

use regex::Regex;

/// A regular expression, compared by its text.
#[derive(Clone, Debug)]
pub struct Pattern(Regex);

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl Eq for Pattern {}

impl Pattern {
    fn new(pattern: &str) -> Option<Pattern> {
        Regex::new(pattern).ok().map(Pattern)
    }
}

/// Where a `{/RE/TO}`-like replacement applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Where {
    /// The first match (`{/RE/TO}`).
    First,
    /// Every match (`{//RE/TO}`).
    Every,
    /// A match at the start (`{/#RE/TO}`).
    Start,
    /// A match at the end (`{/%RE/TO}`).
    End,
}

/// What a `--plus` replacement string does to a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plus {
    /// `{+/}`: what `{/}` removes, without the last `/`; nothing without a `/`.
    Directory,
    /// `{+.}`, `{+..}`, `{+...}`: the last 1, 2 or 3 extensions (what `{.}`, `{..}`,
    /// `{...}` remove); nothing when there are fewer.
    Extensions(usize),
    /// `{..}`, `{...}`: without its last 2 or 3 extensions (unchanged with fewer).
    NoExtensions(usize),
    /// `{/..}`, `{/...}`: the basename without its last 2 or 3 extensions.
    BasenameNoExtensions(usize),
    /// `{:-TEXT}`: TEXT when the value is empty (or `0`, false to Perl).
    Default(String),
    /// `{:N}`: without its first N characters; `{:N:M}`: M characters from the Nth.
    Substring { from: usize, len: Option<usize> },
    /// `{#RE}`: without the shortest start matching RE; `{##RE}`: the longest.
    StripStart { re: Pattern, longest: bool },
    /// `{%RE}`: without the shortest end matching RE; `{%%RE}`: the longest.
    StripEnd { re: Pattern, longest: bool },
    /// `{/RE/TO}` and the like: matches of RE replaced with TO (`$1` is a group).
    Replace { re: Pattern, to: String, at: Where },
    /// `{^RE}`, `{^^RE}` (upper) and `{,RE}`, `{,,RE}` (lower): a match at the start, or
    /// every match, in upper or lower case.
    Case {
        re: Pattern,
        every: bool,
        upper: bool,
    },
}

/// The `--plus` operation `op` names (what follows the input number, if any, between the
/// braces); `None` when it names none, or its regular expression does not parse.
pub(super) fn plus_op(op: &str) -> Option<Plus> {
    static PARAMETERS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"^(?::-(?P<default>.+)|:(?P<from>\d+)(?::(?P<len>\d+))?",
            r"|(?P<hash>##?)(?P<hash_re>[^#].*)|(?P<pct>%%?)(?P<pct_re>.+)",
            r"|/(?P<first>[^#%/]+)/(?P<first_to>.*)|/(?P<anchor>[#%/])(?P<anchor_re>.+?)/(?P<anchor_to>.*)",
            r"|(?P<case>\^\^?|,,?)(?P<case_re>.+))$",
        ))
        .expect("a valid pattern")
    });
    Some(match op {
        "+/" => Plus::Directory,
        "+." => Plus::Extensions(1),
        "+.." => Plus::Extensions(2),
        "+..." => Plus::Extensions(3),
        ".." => Plus::NoExtensions(2),
        "..." => Plus::NoExtensions(3),
        "/.." => Plus::BasenameNoExtensions(2),
        "/..." => Plus::BasenameNoExtensions(3),
        _ => {
            let caps = PARAMETERS.captures(op)?;
            let text = |name: &str| caps.name(name).map(|m| m.as_str());
            if let Some(default) = text("default") {
                Plus::Default(default.to_owned())
            } else if let Some(from) = text("from") {
                Plus::Substring {
                    from: from.parse().ok()?,
                    len: text("len").map(str::parse).transpose().ok()?,
                }
            } else if let Some(hash) = text("hash") {
                let longest = hash == "##";
                let re = text("hash_re")?;
                let re = if longest {
                    format!("^(?:{re})")
                } else {
                    format!("^(?U:{re})")
                };
                Plus::StripStart {
                    re: Pattern::new(&re)?,
                    longest,
                }
            } else if let Some(pct) = text("pct") {
                let longest = pct == "%%";
                let re = text("pct_re")?;
                let re = if longest {
                    format!("(?:{re})$")
                } else {
                    format!("^(?U:{re})$")
                };
                Plus::StripEnd {
                    re: Pattern::new(&re)?,
                    longest,
                }
            } else if let Some(re) = text("first") {
                Plus::Replace {
                    re: Pattern::new(re)?,
                    to: text("first_to")?.to_owned(),
                    at: Where::First,
                }
            } else if let Some(anchor) = text("anchor") {
                let re = text("anchor_re")?;
                let (re, at) = match anchor {
                    "#" => (format!("^(?:{re})"), Where::Start),
                    "%" => (format!("(?:{re})$"), Where::End),
                    _ => (re.to_owned(), Where::Every),
                };
                Plus::Replace {
                    re: Pattern::new(&re)?,
                    to: text("anchor_to")?.to_owned(),
                    at,
                }
            } else {
                let case = text("case")?;
                let re = text("case_re")?;
                let every = case.len() == 2;
                let re = if every {
                    re.to_owned()
                } else {
                    format!("^(?:{re})")
                };
                Plus::Case {
                    re: Pattern::new(&re)?,
                    every,
                    upper: case.starts_with('^'),
                }
            }
        }
    })
}

/// `n` extensions at the end: `\.[^/.]*` `n` times.
fn extensions(n: usize) -> &'static Regex {
    static TWO: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\.[^/.]*\.[^/.]*$").expect("a valid pattern"));
    static THREE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\.[^/.]*\.[^/.]*\.[^/.]*$").expect("a valid pattern"));
    if n == 2 { &TWO } else { &THREE }
}

impl Plus {
    pub fn apply(&self, value: &str) -> String {
        match self {
            // s:/[^/]*$:: || s:.*$::
            Plus::Directory => value.rfind('/').map_or("", |at| &value[..at]).to_owned(),
            // s:.*\.:: || s:.*$::
            Plus::Extensions(1) => value.rfind('.').map_or("", |at| &value[at + 1..]).into(),
            // s:.*\.([^/.]*\.[^/.]*)$:$1: || s:.*$::
            Plus::Extensions(n) => extensions(*n)
                .find(value)
                .map_or(String::new(), |m| value[m.start() + 1..].to_owned()),
            // s:\.[^/.]*\.[^/.]*$::
            Plus::NoExtensions(n) => extensions(*n).replace(value, "").into_owned(),
            Plus::BasenameNoExtensions(n) => {
                let base = value.rsplit_once('/').map_or(value, |(_, base)| base);
                extensions(*n).replace(base, "").into_owned()
            }
            Plus::Default(text) => match value {
                "" | "0" => text.clone(),
                _ => value.to_owned(),
            },
            Plus::Substring { from, len } => {
                let rest = value.chars().skip(*from);
                match len {
                    None => rest.collect(),
                    Some(len) => rest.take(*len).collect(),
                }
            }
            Plus::StripStart { re, .. } => match re.0.find(value) {
                Some(m) => value[m.end()..].to_owned(),
                None => value.to_owned(),
            },
            Plus::StripEnd { re, longest: true } => match re.0.find(value) {
                Some(m) => value[..m.start()].to_owned(),
                None => value.to_owned(),
            },
            // The shortest end the pattern matches whole.
            Plus::StripEnd { re, longest: false } => {
                let ends = (0..=value.len())
                    .rev()
                    .filter(|&at| value.is_char_boundary(at));
                for at in ends {
                    if re.0.is_match(&value[at..]) {
                        return value[..at].to_owned();
                    }
                }
                value.to_owned()
            }
            Plus::Replace { re, to, at } => match at {
                Where::First => re.0.replacen(value, 1, to.as_str()).into_owned(),
                Where::Every | Where::Start | Where::End => {
                    re.0.replace_all(value, to.as_str()).into_owned()
                }
            },
            Plus::Case { re, every, upper } => {
                let limit = if *every { 0 } else { 1 };
                re.0.replacen(value, limit, |caps: &regex::Captures| {
                    if *upper {
                        caps[0].to_uppercase()
                    } else {
                        caps[0].to_lowercase()
                    }
                })
                .into_owned()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(op: &str, value: &str) -> String {
        plus_op(op)
            .unwrap_or_else(|| panic!("{op} is a --plus string"))
            .apply(value)
    }

    #[test]
    fn path_parts_put_the_value_together_again() {
        // {} = {+/}/{/} = {.}.{+.} = {..}.{+..} = {...}.{+...}, where each part exists.
        let value = "d.x/s/f.a.b.c";
        assert_eq!(apply("+/", value), "d.x/s");
        assert_eq!(apply("+.", value), "c");
        assert_eq!(apply("+..", value), "b.c");
        assert_eq!(apply("+...", value), "a.b.c");
        assert_eq!(apply("..", value), "d.x/s/f.a");
        assert_eq!(apply("...", value), "d.x/s/f");
        assert_eq!(apply("/..", value), "f.a");
        assert_eq!(apply("/...", value), "f");
        // Fewer extensions than asked for: the part is empty, the rest unchanged.
        assert_eq!(apply("+..", "a.b"), "");
        assert_eq!(apply("..", "a.b"), "a.b");
        assert_eq!(apply("+/", "file"), "");
    }

    #[test]
    fn bash_like_edits_take_the_shortest_or_longest_match() {
        assert_eq!(
            apply("#a*", "aab"),
            "aab",
            "the shortest start may be empty"
        );
        assert_eq!(apply("##a*", "aab"), "b");
        assert_eq!(apply("%b*", "abb"), "abb");
        assert_eq!(apply("%%b*", "abb"), "a");
        assert_eq!(apply("%.b", "a.b.b"), "a.b");
        assert_eq!(apply("/b/X", "abb"), "aXb");
        assert_eq!(apply("//b/X", "abb"), "aXX");
        assert_eq!(apply("/#a/X", "aba"), "Xba");
        assert_eq!(apply("/%a/X", "aba"), "abX");
        assert_eq!(apply("/(b+)/<$1>", "abb"), "a<bb>");
        assert_eq!(apply("^a", "aXa"), "AXa");
        assert_eq!(apply(",,X", "XaX"), "xax");
        assert_eq!(apply(":-none", "0"), "none");
        assert_eq!(apply(":1:2", "é€xy"), "€x");
        assert_eq!(apply(":9", "abc"), "");
    }

    #[test]
    fn what_is_not_a_plus_string_is_none() {
        for op in [
            "", "+", "+....", "#", "##", "###a", "%", ":", ":x", "/a", "//a", "^", "#(",
        ] {
            assert_eq!(plus_op(op), None, "{op:?}");
        }
    }
}
