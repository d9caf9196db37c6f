//! The entry point: parse the arguments, run the command, print any error, and map the
//! outcome to the exit code. The one place where results become exit codes.

use super::args::{Cli, ColorChoice, Command};
use super::{exit, map_cmd, queue_cmd, roadmap_cmd, run_cmd, skills_cmd, store_cmd};

use std::io::IsTerminal;

use clap::Parser;

/// Parses the process arguments, runs the command, prints any error, and returns the exit
/// code. `main` only passes it to the OS.
pub fn main_entry() -> i32 {
    let cli = match Cli::try_parse_from(args()) {
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
    let called = args
        .first()
        .and_then(|arg0| std::path::Path::new(arg0).file_name())
        .and_then(|name| name.to_str());
    let command = match called {
        Some("sem") => Some("sem"),
        Some("parallel") => Some("map"),
        _ => None,
    };
    if let Some(command) = command {
        args.insert(1.min(args.len()), command.into());
    }
    args
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
