//! What GNU parallel adds to its command line before it reads it, added the same way for
//! `fanout map` and `fanout sem`: the options of its profiles (`~/.parallel/config`, or
//! the files `-J NAME` names) and of `$PARALLEL`, and a script's `#!` line
//! (`--shebang`, `--shebang-wrap`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Parser;
use clap::error::{ContextKind, ContextValue};

use super::args::{Cli, Command, MapArgs};
use super::error::CliError;
use crate::map::shell_quote;

/// `argv` with what GNU parallel would add to it. Any other subcommand's arguments, and
/// arguments that do not parse (their error is told when they are parsed for good), are
/// left as they are.
pub(super) fn expand(argv: Vec<OsString>) -> Result<Vec<OsString>, CliError> {
    let Some(at) = subcommand_at(&argv) else {
        return Ok(argv);
    };
    let argv = shebang(argv, at)?;
    let (head, tail) = argv.split_at(at + 1);
    // Most runs have nothing to add: they are not parsed twice to learn so.
    if !may_name_profile(tail) && std::env::var_os("PARALLEL").is_none_or(|v| v.is_empty()) {
        let defaults = profiles(&[])?;
        if defaults.is_empty() {
            return Ok(argv);
        }
    }
    let Some((given, (options, rest))) = split_options(head, tail) else {
        return Ok(argv);
    };
    if given.plain {
        return Ok(argv);
    }
    let mut lists: Vec<Words> = Vec::new();
    for profile in profiles(&given.profile)? {
        let text = std::fs::read(&profile).map_err(|err| {
            CliError::usage(format!(
                "cannot read the profile {}: {err}",
                profile.display()
            ))
        })?;
        let text = crate::bytes::decode_owned(text);
        // Its lines' words make one list, as in GNU parallel: an option's value may be on
        // the next line.
        let mut list = Words {
            source: profile.display().to_string(),
            words: Vec::new(),
            lines: Vec::new(),
        };
        for (number, line) in text.lines().enumerate() {
            if line.trim_start().starts_with('#') {
                continue;
            }
            let source = format!("{}, line {}", profile.display(), number + 1);
            let words = shell_words(line, &source)?;
            list.lines.extend(std::iter::repeat_n(
                (number + 1, line.to_string()),
                words.len(),
            ));
            list.words.extend(words);
        }
        lists.push(list);
    }
    if let Some(value) = std::env::var_os("PARALLEL").filter(|value| !value.is_empty()) {
        let value = crate::bytes::decode(value.as_encoded_bytes());
        lists.push(Words {
            source: "$PARALLEL".into(),
            words: shell_words(&value, "$PARALLEL")?,
            lines: Vec::new(),
        });
    }
    if lists.is_empty() {
        return Ok(argv);
    }
    // As GNU parallel reads them: each list's options in turn, the command line's last (so
    // that they win), then the words that are no options, in the same order.
    let mut all_options = head.to_vec();
    let mut all_rest = Vec::new();
    for list in &lists {
        let (_, (options, rest)) = split_options(head, &list.words).ok_or_else(|| {
            CliError::usage_with_help(
                list.parse_error(head),
                "`--plain` reads no profile and no $PARALLEL",
            )
        })?;
        all_options.extend_from_slice(options);
        all_rest.extend_from_slice(rest);
    }
    all_options.extend_from_slice(options);
    all_rest.extend_from_slice(rest);
    all_options.extend(all_rest);
    Ok(all_options)
}

/// Whether `words` may give `-J`/`--profile` (alone, with its value, or in a cluster of
/// short options): if not, no profile is named, whatever the words turn out to be.
fn may_name_profile(words: &[OsString]) -> bool {
    words.iter().filter_map(|word| word.to_str()).any(|word| {
        word.starts_with("--profile")
            || (word.starts_with('-') && !word.starts_with("--") && word.contains('J'))
    })
}

/// Where `map` or `sem` is in `argv` (after the program and fanout's global options).
fn subcommand_at(argv: &[OsString]) -> Option<usize> {
    let mut at = 1;
    while let Some(word) = argv.get(at) {
        match word.to_str()? {
            "map" | "sem" => return Some(at),
            "--color" => at += 2,
            option if option.starts_with("--color=") => at += 1,
            _ => return None,
        }
    }
    None
}

/// The options and the command `words` (what follows the subcommand `head` ends with)
/// hold, as parsed and as `words` cut where the options end and the command begins;
/// `None` when they do not parse.
type Split<'a> = (Box<MapArgs>, (&'a [OsString], &'a [OsString]));

fn split_options<'a>(head: &[OsString], words: &'a [OsString]) -> Option<Split<'a>> {
    let argv: Vec<&OsString> = head.iter().chain(words).collect();
    let Ok(Cli {
        command: Command::Map(parsed) | Command::Sem(parsed),
        ..
    }) = Cli::try_parse_from(argv)
    else {
        return None;
    };
    let count = parsed.words.len();
    let cut = words.len().checked_sub(count)?;
    // A `--` before the command belongs to it.
    let cut = match cut.checked_sub(1) {
        Some(before) if words[before] == "--" => before,
        _ => cut,
    };
    Some((parsed, words.split_at(cut)))
}

/// The words of a profile or of `$PARALLEL`, and where each came from.
struct Words {
    /// The profile's path, or `$PARALLEL`.
    source: String,
    words: Vec<OsString>,
    /// For a profile: each word's line, by number and text.
    lines: Vec<(usize, String)>,
}

impl Words {
    /// Why the words do not parse after `head`, in clap's words (its first line), and
    /// where: the profile's line that gives the word clap names, and its column.
    fn parse_error(&self, head: &[OsString]) -> String {
        let err = match Cli::try_parse_from(head.iter().chain(&self.words)) {
            Ok(_) => return format!("in {}: not fanout map's options", self.source),
            Err(err) => err,
        };
        let text = err.to_string();
        let first = text.lines().next().unwrap_or_default();
        let why = first.strip_prefix("error: ").unwrap_or(first);
        // The word clap names: a value it refused, else the argument.
        let named = [ContextKind::InvalidValue, ContextKind::InvalidArg]
            .into_iter()
            .find_map(|kind| match err.get(kind) {
                Some(ContextValue::String(value)) => value.split_whitespace().next(),
                _ => None,
            });
        let place = named.and_then(|named| {
            let at = self.words.iter().position(|word| {
                word.to_str()
                    .is_some_and(|word| word == named || word.starts_with(&format!("{named}=")))
            })?;
            let (number, line) = self.lines.get(at)?;
            let column = line.find(named).map_or(1, |offset| offset + 1);
            Some(format!(
                "{}, line {number}, column {column}: {why}: {line}",
                self.source
            ))
        });
        place.unwrap_or_else(|| format!("in {}: {why}", self.source))
    }
}

/// A line of a profile or `$PARALLEL` split into words as a shell splits them.
fn shell_words(text: &str, source: &str) -> Result<Vec<OsString>, CliError> {
    let words = shlex::split(text).ok_or_else(|| {
        CliError::usage_with_help(
            format!("{source}: a quote is not closed: {text}"),
            "quote as in a shell: `--tagstring 'a b'`",
        )
    })?;
    Ok(words.iter().map(|word| crate::bytes::to_os(word)).collect())
}

/// `--record-env`: the names of the environment's variables, one a line, in
/// `ignored_vars` of GNU parallel's folder (the first of [`config_dirs`], else
/// `~/.parallel`), which `--env _` leaves out.
pub(super) fn record_env() -> Result<(), CliError> {
    let dir = config_dirs().into_iter().next().unwrap_or_else(|| {
        Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".parallel")
    });
    let path = dir.join("ignored_vars");
    let mut names = Vec::new();
    for (name, _) in std::env::vars_os() {
        names.extend_from_slice(name.as_encoded_bytes());
        names.push(b'\n');
    }
    std::fs::write(&path, names).map_err(|err| {
        CliError::usage_with_help(
            format!("cannot write to {}: {err}", path.display()),
            "make the folder first, or set PARALLEL_HOME to one that exists",
        )
    })
}

/// The folders GNU parallel reads profiles from that exist: `$PARALLEL_HOME`,
/// `$XDG_CONFIG_HOME/parallel`, each of `$XDG_CONFIG_DIRS` with `/parallel`, and
/// `~/.parallel`.
fn config_dirs() -> Vec<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    let mut dirs: Vec<PathBuf> = var("PARALLEL_HOME")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    if let Some(home) = var("XDG_CONFIG_HOME") {
        dirs.push(Path::new(&home).join("parallel"));
    }
    if let Some(list) = var("XDG_CONFIG_DIRS") {
        dirs.extend(std::env::split_paths(&list).map(|dir| dir.join("parallel")));
    }
    if let Some(home) = var("HOME") {
        dirs.push(Path::new(&home).join(".parallel"));
    }
    dirs.retain(|dir| dir.is_dir());
    dirs
}

/// The profiles to read: those `-J` names (each a path if it begins with `/` or `./`,
/// else a file in the profile folders), or without `-J` the default ones that exist
/// (`/etc/parallel/config`, `config` in each folder, `~/.parallelrc`).
fn profiles(named: &[String]) -> Result<Vec<PathBuf>, CliError> {
    let dirs = config_dirs();
    if named.is_empty() {
        let home = std::env::var_os("HOME").map(|home| Path::new(&home).join(".parallelrc"));
        let defaults = std::iter::once(PathBuf::from("/etc/parallel/config"))
            .chain(dirs.iter().map(|dir| dir.join("config")))
            .chain(home);
        return Ok(defaults.filter(|path| path.is_file()).collect());
    }
    let mut found = Vec::new();
    for name in named {
        let paths: Vec<PathBuf> = if name.starts_with('/') || name.starts_with("./") {
            vec![PathBuf::from(name)]
        } else {
            dirs.iter().map(|dir| dir.join(name)).collect()
        };
        let before = found.len();
        found.extend(paths.into_iter().filter(|path| path.is_file()));
        if found.len() == before {
            let looked = match dirs.is_empty() || name.starts_with('/') || name.starts_with("./") {
                true => String::new(),
                false => format!(
                    " in {}",
                    dirs.iter()
                        .map(|dir| dir.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            return Err(CliError::usage_with_help(
                format!("no profile `{name}`{looked}"),
                "a profile is a file of options in ~/.parallel (or $PARALLEL_HOME): \
                 `-J NAME` reads ~/.parallel/NAME",
            ));
        }
    }
    Ok(found)
}

/// A script's `#!` line turned into `fanout map`'s command line, as GNU parallel turns it:
///
/// - `#!/usr/bin/parallel --shebang OPTIONS COMMAND` runs COMMAND for each line of the
///   script after the first: `fanout map --skip-first-line -a SCRIPT OPTIONS COMMAND`;
/// - `#!/usr/bin/parallel --shebang-wrap OPTIONS PROGRAM` runs PROGRAM on the script for
///   each of the script's arguments: `fanout map OPTIONS PROGRAM SCRIPT ::: ARGUMENTS`
///   (with `--pipe`, once per block of its stdin).
///
/// Linux gives a `#!` line's words as one argument (`--shebang -r wget`), `env -S` as
/// words of their own; both are read. `--hashbang` is `--shebang`.
fn shebang(mut argv: Vec<OsString>, at: usize) -> Result<Vec<OsString>, CliError> {
    let Some(first) = argv.get(at + 1).and_then(|word| word.to_str()) else {
        return Ok(argv);
    };
    // Linux's one word of a `#!` line that has the flag after other options.
    if first.starts_with('-')
        && SHEBANG_FLAGS
            .iter()
            .any(|flag| first.contains(&format!(" {flag}")))
    {
        return Err(not_first());
    }
    let (wrap, rest) = if let Some(rest) = ["--shebang-wrap", "--shebangwrap"]
        .iter()
        .find_map(|flag| first.strip_prefix(flag))
    {
        (true, rest)
    } else if let Some(rest) = ["--shebang", "--hashbang"]
        .iter()
        .find_map(|flag| first.strip_prefix(flag))
    {
        (false, rest)
    } else {
        return Ok(argv);
    };
    if !rest.is_empty() && !rest.starts_with(' ') {
        return Ok(argv);
    }
    let line = shell_words(rest, "the #! line")?;
    let after: Vec<OsString> = argv.split_off(at + 2);
    argv.truncate(at + 1);
    if !wrap {
        // The script is the last argument, as GNU parallel takes it.
        let mut after = after;
        let Some(script) = after.pop() else {
            return Err(CliError::usage(
                "--shebang goes in a script's #! line: the script's name comes last",
            ));
        };
        argv.extend(["--skip-first-line".into(), "-a".into(), script]);
        argv.extend(line);
        argv.extend(after);
        return Ok(argv);
    }
    // The script is the first argument that is a file whose #! line wraps, so that the
    // words `env -S` split off the line are told from the script's own arguments.
    let script_at = if line.is_empty() {
        after.iter().position(|word| wraps(Path::new(word)))
    } else {
        (!after.is_empty()).then_some(0)
    };
    let Some(script_at) = script_at else {
        return Err(CliError::usage(
            "--shebang-wrap goes in a script's #! line: no script was given",
        ));
    };
    let mut after = after;
    let arguments = after.split_off(script_at + 1);
    let script = after
        .pop()
        .expect("the script is in the words before its arguments");
    // The program that runs the script: without one, the script would run itself, and
    // so fanout again, without end.
    let mut parser = line;
    parser.extend(after);
    let head = &argv[..=at];
    let parsed = split_options(head, &parser);
    if parsed
        .as_ref()
        .is_none_or(|(_, (_, program))| program.is_empty())
    {
        return Err(CliError::usage_with_help(
            "--shebang-wrap needs the program that runs the script, after its options",
            "`#!/usr/bin/parallel --shebang-wrap -k /usr/bin/python3`",
        ));
    }
    if parsed.is_some_and(|(options, _)| options.pipe) && !arguments.is_empty() {
        return Err(CliError::usage_with_help(
            "a --shebang-wrap --pipe script reads its data on stdin, and was given arguments",
            "give the data on stdin: `./script < FILE`",
        ));
    }
    argv.extend(parser);
    // One word of the command, whatever it holds.
    argv.push(crate::bytes::to_os(&shell_quote(&crate::bytes::decode(
        script.as_encoded_bytes(),
    ))));
    if !arguments.is_empty() {
        argv.push(":::".into());
        argv.extend(arguments);
    }
    Ok(argv)
}

/// The flags of a `#!` line, which come first in it.
const SHEBANG_FLAGS: [&str; 4] = ["--shebang", "--hashbang", "--shebang-wrap", "--shebangwrap"];

/// The error for a `#!` line's flag that is not its first word.
pub(super) fn not_first() -> CliError {
    CliError::usage_with_help(
        "--shebang, --hashbang and --shebang-wrap must be the first option",
        "as a script's #! line gives them: `#!/usr/bin/parallel --shebang -k COMMAND`",
    )
}

/// Whether `path` is a script whose `#!` line holds `--shebang-wrap`.
fn wraps(path: &Path) -> bool {
    use std::io::{BufRead, Read};
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut first = Vec::new();
    let _ = std::io::BufReader::new(file)
        .take(4096)
        .read_until(b'\n', &mut first);
    first.starts_with(b"#!")
        && String::from_utf8_lossy(&first)
            .split_whitespace()
            .any(|word| word == "--shebang-wrap" || word == "--shebangwrap")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<OsString> {
        text.split(' ').map(OsString::from).collect()
    }

    #[test]
    fn options_are_told_from_the_command() {
        let head = words("fanout map");
        let split = |text: &str| {
            let list = words(text);
            let (_, (options, rest)) = split_options(&head, &list).unwrap();
            (options.to_vec(), rest.to_vec())
        };
        assert_eq!(
            split("-k -j 2 echo -n"),
            (words("-k -j 2"), words("echo -n"))
        );
        assert_eq!(
            split("--tag echo ::: a"),
            (words("--tag"), words("echo ::: a"))
        );
        assert_eq!(split("-k -- -x"), (words("-k"), words("-- -x")));
        assert_eq!(split("-v").0, words("-v"));
        assert!(split_options(&head, &words("--no-such-option echo")).is_none());
    }

    #[test]
    fn words_that_may_name_a_profile_are_seen() {
        for named in ["-J x", "-kJ x", "-Jx", "--profile x", "--profile=x"] {
            assert!(may_name_profile(&words(named)), "{named}");
        }
        for plain in ["-k echo", "--jobs 2 echo", "echo J", "--tagstring J"] {
            assert!(!may_name_profile(&words(plain)), "{plain}");
        }
    }

    #[test]
    fn the_subcommand_is_found_after_global_options() {
        assert_eq!(subcommand_at(&words("fanout map -k")), Some(1));
        assert_eq!(subcommand_at(&words("fanout --color never sem x")), Some(3));
        assert_eq!(subcommand_at(&words("fanout --color=never map")), Some(2));
        assert_eq!(subcommand_at(&words("fanout run map")), None);
    }

    #[test]
    fn a_shebang_line_in_one_word_becomes_the_command_line() {
        let argv = vec![
            OsString::from("parallel"),
            "map".into(),
            "--shebang -k echo 'a b'".into(),
            "./script".into(),
        ];
        assert_eq!(
            shebang(argv, 1).unwrap(),
            words("parallel map --skip-first-line -a ./script -k echo")
                .into_iter()
                .chain([OsString::from("a b")])
                .collect::<Vec<_>>()
        );
        let argv = words("parallel map --shebang-wrap\u{20}/usr/bin/python3");
        let mut argv = argv[..2].to_vec();
        argv.extend(["--shebang-wrap -k /usr/bin/python3".into(), "s.py".into()]);
        argv.extend(words("x y"));
        assert_eq!(
            shebang(argv, 1).unwrap(),
            words("parallel map -k /usr/bin/python3 s.py ::: x y")
        );
        // Not a shebang: left as it is.
        let argv = words("fanout map --shebangs echo");
        assert_eq!(shebang(argv.clone(), 1).unwrap(), argv);
    }
}
