//! Shell completion scripts, generated from the command-line definition itself
//! (`clap_complete`), so that they never fall behind the options.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use super::args::Cli;
use super::error::CliError;

/// Prints `shell`'s completion script for the program called `name`: `parallel` completes
/// `fanout map`'s options (the program called by that name is `fanout map`), any other name
/// the whole of fanout.
pub(super) fn print(shell: Shell, name: &str) -> Result<(), CliError> {
    let mut command = Cli::command();
    let mut command = if name == "parallel" {
        command
            .find_subcommand_mut("map")
            .map(|map| map.clone().name("parallel").bin_name("parallel"))
            .unwrap_or(command)
    } else {
        command
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, name, &mut script);
    match std::io::stdout().write_all(&script) {
        // A reader that stopped early (`| head`) wanted no more.
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => Err(anyhow::Error::new(err)
            .context("cannot print the completion script")
            .into()),
        _ => Ok(()),
    }
}

/// The shell `--shell-completion` names: a shell's name, or `auto` for the shell fanout was
/// started from (its parent process), else `$SHELL`.
pub(super) fn shell_named(name: &str) -> Result<Shell, CliError> {
    let shell = if name == "auto" {
        parent_shell().or_else(Shell::from_env)
    } else {
        name.parse::<Shell>().ok()
    };
    shell.ok_or_else(|| {
        let what = if name == "auto" {
            "the shell fanout was started from is not one it can complete for".to_string()
        } else {
            format!("`--shell-completion {name}`: no such shell")
        };
        CliError::usage_with_help(what, "name one: bash, zsh, fish, elvish or powershell")
    })
}

/// The shell that started this process, by its parent's command name (Linux's `/proc`).
fn parent_shell() -> Option<Shell> {
    let parent = std::os::unix::process::parent_id();
    let name = std::fs::read_to_string(format!("/proc/{parent}/comm")).ok()?;
    Shell::from_shell_path(name.trim())
}
