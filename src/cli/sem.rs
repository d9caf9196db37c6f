//! `fanout sem` and `fanout map --semaphore`: GNU parallel's counting semaphore for shell
//! scripts. The command runs once, when one of the semaphore's -j N slots (default 1) is
//! free. In the background (the default), `fanout` returns as soon as the slot is taken
//! and a process of its own runs the command holding it, so a loop of `fanout sem -j4 …`
//! runs four at a time; `--fg` runs it here and exits with its status; `--wait` waits
//! until no slot is held.

use std::io::IsTerminal;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context;

use super::CliError;
use super::args::MapArgs;
use crate::map::{Held, Semaphore, parse_jobs, parse_seconds, semaphore_root};

/// Whether `args` ask for the semaphore: `--semaphore`, or an option only it has.
pub(super) fn wanted(args: &MapArgs) -> bool {
    args.semaphore
        || args.semaphore_name.is_some()
        || args.semaphore_timeout.is_some()
        || args.fg
        || args.bg
        || args.wait
        || args.semaphore_held
}

/// What the run does once the semaphore had its say.
pub(super) enum Turn {
    /// Run the one job here, holding this slot (none: it is held already, or was not
    /// free in time and is taken anyway).
    Run(Option<Held>),
    /// Nothing more to run here: exit with this code.
    Exit(i32),
}

/// Takes a slot of the semaphore `args` name, or waits for it to be idle (`--wait`), or
/// hands a slot taken to a process of its own that runs the command (`--bg`). A
/// semaphore has one slot unless -j says otherwise.
pub(super) fn take(args: &mut MapArgs, cpus: usize) -> Result<Turn, CliError> {
    let slots = match args.jobs.as_deref() {
        Some(value) => parse_jobs(value, cpus, 1).map_err(CliError::usage)?,
        None => 1,
    };
    if args.semaphore_held {
        // A process of our own started to run the command, and the slot came with it.
        return Ok(Turn::Run(None));
    }
    let name = args.semaphore_name.clone().unwrap_or_else(terminal_name);
    let semaphore = Semaphore::open(&semaphore_root(), &name, slots)
        .with_context(|| format!("failed to open the semaphore {name}"))?;
    if args.wait {
        semaphore
            .wait_idle()
            .with_context(|| format!("failed to wait for the semaphore {name}"))?;
        return Ok(Turn::Exit(0));
    }
    if args.words.is_empty() {
        return Err(CliError::usage_with_help(
            "a semaphore runs a command, and none was given",
            "e.g. `fanout sem -j4 gzip big.log`, then `fanout sem --wait`",
        ));
    }
    let (timeout, give_up) = match args.semaphore_timeout.as_deref() {
        None => (None, false),
        Some(value) => {
            let (text, give_up) = match value.strip_prefix('-') {
                Some(rest) => (rest, true),
                None => (value, false),
            };
            let seconds = parse_seconds("--semaphore-timeout", text).map_err(CliError::usage)?;
            // 0 waits for ever, as in GNU parallel.
            (Some(seconds).filter(|s| !s.is_zero()), give_up)
        }
    };
    let held = semaphore
        .acquire(timeout)
        .with_context(|| format!("failed to take a slot of the semaphore {name}"))?;
    if held.is_none() {
        let waited = timeout.unwrap_or(Duration::ZERO).as_secs_f64();
        if give_up {
            eprintln!("fanout: the semaphore {name} was not free within {waited}s; giving up");
            return Ok(Turn::Exit(1));
        }
        eprintln!("fanout: the semaphore {name} was not free within {waited}s; running anyway");
    }
    if args.fg {
        return Ok(Turn::Run(held));
    }
    hand_on(held)?;
    Ok(Turn::Exit(0))
}

/// Starts this command again as a process of its own that runs the command in the
/// foreground, holding `held`, and does not wait for it. The slot goes as its stdin (a
/// job's stdin is never fanout's), so it holds the lock with the same open file until it
/// ends.
fn hand_on(held: Option<Held>) -> Result<(), CliError> {
    let exe = std::env::current_exe().context("failed to find fanout's own program")?;
    let mut words: Vec<std::ffi::OsString> = super::entry::args().into_iter().skip(1).collect();
    // The subcommand is the first word that names one (global options take no such
    // value); the flag goes right after it, before the command.
    let at = words
        .iter()
        .position(|w| w == "sem" || w == "map")
        .map_or(0, |i| i + 1);
    words.insert(at, "--semaphore-held".into());
    let stdin = match &held {
        Some(held) => Stdio::from(
            held.share()
                .context("failed to hand the semaphore's slot on")?,
        ),
        // Not free in time, and taken anyway: the process runs without a slot.
        None => Stdio::null(),
    };
    Command::new(exe)
        .args(words)
        .stdin(stdin)
        .spawn()
        .context("failed to start the semaphore's command in the background")?;
    // The slot is the new process's now: giving it back here would give it back for
    // both, since the lock belongs to the open file they share.
    std::mem::forget(held);
    Ok(())
}

/// The terminal this process reads from (`/dev/pts/3`), as GNU parallel names a
/// semaphore by default; `default` where there is none.
fn terminal_name() -> String {
    if std::io::stdin().is_terminal()
        && let Ok(path) = std::fs::read_link("/proc/self/fd/0")
    {
        return path.display().to_string();
    }
    "default".into()
}
