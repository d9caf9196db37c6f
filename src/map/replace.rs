//! Replacement strings: `{}`, `{.}`, `{/}`, `{//}`, `{/.}`, `{#}`, `{%}`, `{N}` and
//! `{N.}`, `{N/}`, `{N//}`, `{N/.}`, as GNU parallel defines them. A command is parsed once
//! into a [`Template`]; each job's command line is the template filled with its inputs.

use super::quote::shell_quote;

/// What a replacement string does to an input value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transform {
    /// The value as is (`{}`).
    Whole,
    /// Without its extension (`{.}`): `dir/a.tar.gz` → `dir/a.tar`.
    NoExtension,
    /// The basename (`{/}`): everything after the last `/`.
    Basename,
    /// The dirname (`{//}`), as Perl's `File::Basename::dirname`.
    Dirname,
    /// The basename without its extension (`{/.}`).
    BasenameNoExtension,
}

impl Transform {
    pub fn apply(self, value: &str) -> String {
        match self {
            Transform::Whole => value.to_owned(),
            Transform::NoExtension => strip_extension(value).to_owned(),
            Transform::Basename => basename(value).to_owned(),
            Transform::Dirname => dirname(value),
            Transform::BasenameNoExtension => strip_extension(basename(value)).to_owned(),
        }
    }
}

/// One piece of a parsed command.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    /// `{}`-like: every input (`arg: None`) or input N (1-based).
    Input {
        arg: Option<usize>,
        transform: Transform,
    },
    /// `{#}`: the job's sequence number.
    Seq,
    /// `{%}`: the slot the job runs in, known only when it starts.
    Slot,
}

/// A command with its replacement strings found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

/// How a slot number gets into a command: the slot is only known when the job starts, so
/// the command refers to the variable the runner sets in every job's environment.
pub const SLOT_REFERENCE: &str = "${FANOUT_SLOT}";

impl Template {
    /// Parses `command`. A command without any replacement string gets ` {}` appended (the
    /// inputs as further arguments), as in GNU parallel.
    pub fn parse(command: &str) -> Template {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut rest = command;
        while let Some(open) = rest.find('{') {
            text.push_str(&rest[..open]);
            let after = &rest[open..];
            match after
                .find('}')
                .and_then(|close| replacement(&after[1..close]).map(|piece| (piece, close)))
            {
                Some((piece, close)) => {
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(piece);
                    rest = &after[close + 1..];
                }
                None => {
                    text.push('{');
                    rest = &after[1..];
                }
            }
        }
        text.push_str(rest);
        let has_replacement = !pieces.is_empty();
        if !has_replacement {
            if !text.is_empty() {
                text.push(' ');
            }
            pieces.push(Piece::Text(text));
            pieces.push(Piece::Input {
                arg: None,
                transform: Transform::Whole,
            });
        } else if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Template { pieces }
    }

    /// A template that runs each input itself as the command (GNU parallel with no command).
    pub fn inputs_as_commands() -> Template {
        Template {
            pieces: vec![Piece::Input {
                arg: None,
                transform: Transform::Whole,
            }],
        }
    }

    /// Whether the command refers to the slot (`{%}`).
    pub fn uses_slot(&self) -> bool {
        self.pieces.contains(&Piece::Slot)
    }

    /// The command line of job `seq` (1-based) with inputs `args`. With `quote`, each
    /// value is quoted for the shell; without, values go in as they are (the inputs are
    /// themselves commands).
    pub fn fill(&self, args: &[String], seq: usize, quote: bool) -> String {
        let mut out = String::new();
        let word = |value: String| if quote { shell_quote(&value) } else { value };
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Input {
                    arg: None,
                    transform,
                } => {
                    let words: Vec<String> =
                        args.iter().map(|a| word(transform.apply(a))).collect();
                    out.push_str(&words.join(" "));
                }
                Piece::Input {
                    arg: Some(n),
                    transform,
                } => {
                    // An input that does not exist is nothing at all, not an empty word.
                    if let Some(value) = args.get(n - 1) {
                        out.push_str(&word(transform.apply(value)));
                    }
                }
                Piece::Seq => out.push_str(&seq.to_string()),
                Piece::Slot => out.push_str(SLOT_REFERENCE),
            }
        }
        out
    }
}

/// The piece a `{…}` stands for, given what is between the braces.
fn replacement(inner: &str) -> Option<Piece> {
    match inner {
        "#" => return Some(Piece::Seq),
        "%" => return Some(Piece::Slot),
        _ => {}
    }
    let digits = inner.bytes().take_while(u8::is_ascii_digit).count();
    let (number, op) = inner.split_at(digits);
    let transform = match op {
        "" => Transform::Whole,
        "." => Transform::NoExtension,
        "/" => Transform::Basename,
        "//" => Transform::Dirname,
        "/." => Transform::BasenameNoExtension,
        _ => return None,
    };
    let arg = if number.is_empty() {
        None
    } else {
        match number.parse::<usize>() {
            Ok(n) if n >= 1 => Some(n),
            _ => return None,
        }
    };
    Some(Piece::Input { arg, transform })
}

/// `s:\.[^/.]*$::`
fn strip_extension(value: &str) -> &str {
    match value.rfind('.') {
        Some(dot) if !value[dot + 1..].contains('/') => &value[..dot],
        _ => value,
    }
}

/// `s:.*/::`
fn basename(value: &str) -> &str {
    value.rsplit_once('/').map_or(value, |(_, base)| base)
}

/// Perl's `File::Basename::dirname` on Unix.
fn dirname(value: &str) -> String {
    let trimmed = value.trim_end_matches('/');
    if trimmed.is_empty() {
        return if value.is_empty() { "." } else { "/" }.into();
    }
    match trimmed.rfind('/') {
        None => ".".into(),
        Some(slash) => {
            let dir = trimmed[..slash].trim_end_matches('/');
            if dir.is_empty() { "/" } else { dir }.into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transforms_match_gnu_parallel() {
        // (input, {.}, {/}, {//}, {/.}) as GNU parallel 20221122 prints them.
        let cases = [
            (".bashrc", "", ".bashrc", ".", ""),
            ("a.tar.gz", "a.tar", "a.tar.gz", ".", "a.tar"),
            ("dir.x/file", "dir.x/file", "file", "dir.x", "file"),
            ("a.", "a", "a.", ".", "a"),
            ("/a", "/a", "a", "/", "a"),
            ("a/b/", "a/b/", "", "a", ""),
            ("/", "/", "", "/", ""),
            ("x/.y", "x/", ".y", "x", ""),
            ("", "", "", ".", ""),
            ("a//b", "a//b", "b", "a", "b"),
        ];
        for (input, no_ext, base, dir, base_no_ext) in cases {
            assert_eq!(Transform::NoExtension.apply(input), no_ext, "{{.}} {input}");
            assert_eq!(Transform::Basename.apply(input), base, "{{/}} {input}");
            assert_eq!(Transform::Dirname.apply(input), dir, "{{//}} {input}");
            assert_eq!(
                Transform::BasenameNoExtension.apply(input),
                base_no_ext,
                "{{/.}} {input}"
            );
        }
    }

    #[test]
    fn commands_are_filled_with_quoted_inputs() {
        let args = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        // (command, inputs, seq, expected command line)
        let cases = [
            ("echo", args(&["a b"]), 1, "echo 'a b'"),
            ("echo", args(&["a", "b c"]), 1, "echo a 'b c'"),
            ("echo {}", args(&["x"]), 1, "echo x"),
            ("echo {} {}", args(&["x", "y"]), 1, "echo x y x y"),
            ("echo {2} {1}", args(&["x", "y"]), 1, "echo y x"),
            ("echo {3}", args(&["x"]), 1, "echo "),
            ("cp {} {.}.bak", args(&["d/f.txt"]), 1, "cp d/f.txt d/f.bak"),
            ("echo {1/.}-{2//}", args(&["a/b.c", "d/e"]), 1, "echo b-d"),
            ("echo {#}:{}", args(&["$HOME"]), 7, "echo 7:'$HOME'"),
            ("echo {%}", args(&["a"]), 1, "echo ${FANOUT_SLOT}"),
            (
                "echo ${HOME} {a,b} {x}",
                args(&["1"]),
                1,
                "echo ${HOME} {a,b} {x} 1",
            ),
            ("echo '{}'", args(&["it's"]), 1, r#"echo ''it'"'"'s''"#),
            ("true", args(&[""]), 1, "true ''"),
        ];
        for (command, inputs, seq, expected) in cases {
            let template = Template::parse(command);
            assert_eq!(template.fill(&inputs, seq, true), expected, "{command}");
        }
        assert!(Template::parse("echo {%}").uses_slot());
        assert!(!Template::parse("echo {}").uses_slot());
        assert_eq!(
            Template::inputs_as_commands().fill(&args(&["echo a; echo b"]), 1, false),
            "echo a; echo b"
        );
    }
}
