//! Quoting values for a POSIX shell the way GNU parallel does, so that `--dry-run` prints
//! the same command lines and inputs with spaces, quotes, `$`, `;` or newlines stay data.

/// `value` as one shell word: as is when it holds only characters no shell treats
/// specially (`-_.+/`, ASCII letters and digits), `''` when empty, else inside single
/// quotes with each `'` written as `'"'"'` (and the empty `''` that leaves at either end
/// dropped).
pub fn shell_quote(value: &str) -> String {
    if value.is_empty() {
        return "''".into();
    }
    let plain = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+' | b'/'));
    if plain {
        return value.into();
    }
    let quoted = format!("'{}'", value.replace('\'', r#"'"'"'"#));
    let quoted = quoted.strip_prefix("''").unwrap_or(&quoted);
    quoted.strip_suffix("''").unwrap_or(quoted).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it_like_gnu_parallel() {
        // Expected values are what GNU parallel 20221122 prints with --dry-run.
        let cases = [
            ("abc-_.+/9", "abc-_.+/9"),
            ("", "''"),
            ("a b", "'a b'"),
            ("it's", r#"'it'"'"'s'"#),
            ("'", r#""'""#),
            ("'a'", r#""'"'a'"'""#),
            ("$x", "'$x'"),
            ("a;b", "'a;b'"),
            ("é", "'é'"),
            ("a\"b", "'a\"b'"),
            ("l1\nl2", "'l1\nl2'"),
            ("~", "'~'"),
            ("*", "'*'"),
            ("a=b", "'a=b'"),
            ("@%:", "'@%:'"),
        ];
        for (value, expected) in cases {
            assert_eq!(shell_quote(value), expected, "{value:?}");
        }
    }

    #[test]
    fn the_shell_reads_back_what_was_quoted() {
        for value in [
            "a b",
            "it's",
            "''",
            "$(echo no)",
            "a\nb",
            "`x`",
            "\\",
            "é ü",
        ] {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", shell_quote(value)))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(out.stdout).unwrap(), value);
        }
    }
}
