//! The entry point: parse the arguments, run the command, print any error, and map the
//! outcome to the exit code. The one place where results become exit codes.

use super::args::{Cli, ColorChoice, Command};
use super::{
    completions, exit, gnu_argv, map_cmd, queue_cmd, roadmap_cmd, run_cmd, skills_cmd, store_cmd,
};

use std::io::IsTerminal;

use clap::Parser;

/// Parses the process arguments, runs the command, prints any error, and returns the exit
/// code. `main` only passes it to the OS.
pub fn main_entry() -> i32 {
    // GNU parallel's profiles, $PARALLEL and #! lines, for `fanout map` and `fanout sem`.
    let argv = match gnu_argv::expand(args()) {
        Ok(argv) => argv,
        Err(err) => {
            err.print(use_color(ColorChoice::Auto));
            return crate::map::MAP_ERROR;
        }
    };
    // clap takes any word after `map -l` for its number, where GNU parallel takes only a
    // number: `-l echo {}` is `-l`, then the command. When -l took a word (which may also
    // have let an option of the command be read as fanout's, or failed), the arguments are
    // parsed again with that -l bare, if that is what it was.
    let again = || {
        bare_max_lines(&argv)
            .and_then(|argv| Cli::try_parse_from(argv).ok())
            .filter(is_bare_max_lines)
    };
    let parsed = match Cli::try_parse_from(&argv) {
        Ok(cli) if max_lines_given(&cli) => Ok(again().unwrap_or(cli)),
        Ok(cli) => Ok(cli),
        Err(err) => again().ok_or(err),
    };
    let cli = match parsed {
        Ok(cli) => cli,
        Err(err) => {
            // Help and version are not errors.
            let code = if err.use_stderr() {
                exit::USAGE
            } else {
                exit::SUCCESS
            };
            let _ = err.print();
            return code;
        }
    };
    let color = use_color(cli.color);
    console::set_colors_enabled(color);
    console::set_colors_enabled_stderr(color);
    let result = match cli.command {
        Command::Run(args) => run_cmd::run(args, color),
        Command::Plan(args) => run_cmd::plan(args),
        Command::History(args) => store_cmd::history(args),
        Command::Show(args) => store_cmd::show(args),
        Command::Logs(args) => store_cmd::logs(args),
        Command::Stats(args) => store_cmd::stats(args),
        Command::Clean(args) => store_cmd::clean(args),
        Command::Map(args) => Ok(map_cmd::map(*args, color)),
        Command::Sem(mut args) => {
            args.semaphore = true;
            Ok(map_cmd::map(*args, color))
        }
        Command::Skills(args) => skills_cmd::run(args),
        Command::Roadmap(args) => roadmap_cmd::roadmap(args, color),
        Command::Queue(args) => queue_cmd::queue(args, color),
        Command::Completions(args) => {
            completions::print(args.shell, "fanout").map(|()| exit::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            err.print(color);
            err.exit_code()
        }
    }
}

/// The process's arguments, as `fanout`'s: a link named `sem` or `parallel` to the
/// program is `fanout sem` or `fanout map`, so that scripts written for GNU parallel run
/// unchanged.
pub(super) fn args() -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let command = match called_as().as_deref() {
        Some("sem") => Some("sem"),
        Some("parallel") => Some("map"),
        _ => None,
    };
    if let Some(command) = command {
        args.insert(1.min(args.len()), command.into());
    }
    args
}

/// The name fanout was called by (its file name, without the folder), if it has one.
pub(super) fn called_as() -> Option<String> {
    let arg0 = std::env::args_os().next()?;
    let name = std::path::Path::new(&arg0).file_name()?;
    name.to_str().map(str::to_string)
}

/// Whether `fanout map`'s `-l` (`--max-lines`) was given.
fn max_lines_given(cli: &Cli) -> bool {
    matches!(&cli.command, Command::Map(map) | Command::Sem(map) if map.max_lines.is_some())
}

/// Whether `fanout map`'s `-l` was given without a number.
fn is_bare_max_lines(cli: &Cli) -> bool {
    matches!(&cli.command, Command::Map(map) | Command::Sem(map) if map.max_lines.as_deref() == Some("1"))
}

/// The arguments with the first `-l` (or `--max-lines`, or a cluster ending in `l`)
/// followed by a word that is no number written `--max-lines=1`, to be parsed again so
/// that the word and what follows it are the command's.
fn bare_max_lines(argv: &[std::ffi::OsString]) -> Option<Vec<std::ffi::OsString>> {
    let at = argv.windows(2).position(|pair| {
        let (Some(option), Some(next)) = (pair[0].to_str(), pair[1].to_str()) else {
            return false;
        };
        let short = option.len() > 1
            && option.starts_with('-')
            && !option.starts_with("--")
            && option.ends_with('l');
        let long = option == "--max-lines" || option == "--maxlines";
        (short || long) && next.parse::<f64>().is_err()
    })?;
    let mut fixed = argv.to_vec();
    let option = argv[at].to_str().unwrap_or_default();
    match option.strip_suffix('l') {
        // A cluster such as `-kl`: `-k`, then `--max-lines=1`.
        Some(rest) if rest.len() > 1 && !option.starts_with("--") => {
            fixed[at] = rest.into();
            fixed.insert(at + 1, "--max-lines=1".into());
        }
        _ => fixed[at] = "--max-lines=1".into(),
    }
    Some(fixed)
}

/// Colour on stderr: `auto` means a terminal and no `NO_COLOR`.
fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stderr().is_terminal()
        }
    }
}
