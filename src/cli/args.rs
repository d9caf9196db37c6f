//! The command line, as clap types. Plain data; no logic.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::plan::{Autonomy, Format};
use crate::report::OutputMode;

/// Run many tasks at once, safely and fast.
#[derive(Debug, Parser)]
#[command(
    name = "fanout",
    version,
    about,
    max_term_width = 100,
    propagate_version = true
)]
#[command(after_help = "Exit codes: 0 all tasks succeeded, 1 some task failed, \
2 bad plan or usage, 3 fanout itself failed (I/O), 130 interrupted.")]
pub struct Cli {
    /// When to use colour (NO_COLOR is respected in `auto`).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show a plan's analysis without running it: waves, critical path, conflicts, speedup.
    Plan(PlanArgs),
    /// Run a plan's tasks: each as soon as its dependencies succeeded, within the limits.
    Run(RunArgs),
    /// List earlier runs, newest first.
    History(HistoryArgs),
    /// Show a run's tasks and attempts, or one task's attempts.
    Show(ShowArgs),
    /// Print the output of a task in a run.
    Logs(LogsArgs),
    /// Figures over every run: speedup, time saved, failure and cache hit rates.
    Stats(StateArgs),
    /// Remove old runs and their logs, or the worktrees runs left.
    Clean(CleanArgs),
    /// Run a command for each input, N at a time (GNU parallel's command line).
    Map(Box<MapArgs>),
    /// Run a command once a slot of a semaphore shared by processes is free (GNU's sem).
    ///
    /// The semaphore has -j N slots (default 1); the command runs in the background, and
    /// `fanout sem --wait` waits until no slot is held.
    Sem(Box<MapArgs>),
    /// Check, test, document, create, refactor and teach agent skills (folders with a SKILL.md).
    Skills(super::skills_cmd::SkillsArgs),
    /// Run a roadmap's planned priorities in parallel worktrees, one command each.
    Roadmap(RoadmapArgs),
    /// Run a directory of work items (Markdown prompts) with agents, or show its state.
    Queue(QueueArgs),
    /// Print a shell's completion script for fanout.
    ///
    /// bash: `eval "$(fanout completions bash)"`, or save it as
    /// `~/.local/share/bash-completion/completions/fanout`. zsh: save it as `_fanout` in a
    /// folder of `$fpath`. fish: save it as `~/.config/fish/completions/fanout.fish`.
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct QueueArgs {
    #[command(subcommand)]
    pub command: QueueCommand,
}

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Run the pending items, items others wait for first, renaming each file as its
    /// status changes: pending → in_progress → completed, or blocked when it fails.
    Run(QueueRunArgs),
    /// Show the items by status, what each waits for, and which pending items are ready.
    Status(QueueStatusArgs),
}

#[derive(Debug, Args)]
pub struct QueueRunArgs {
    /// The queue directory: one `NNN-STATUS-SLUG.md` file per work item (default: the
    /// project file's `[queue] dir`, else .agent/queue).
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Run at most N items at once (default: the project file's `[queue] max_parallel`,
    /// else 5).
    #[arg(short = 'j', long, value_name = "N")]
    pub max_parallel: Option<usize>,
    /// L1 and L2 stop at the first failure; L3 goes on and lists every failure at the end
    /// (default: the project file's `[queue] autonomy`, else L2).
    #[arg(long, value_enum)]
    pub autonomy: Option<Autonomy>,
    /// Print the order the items would start in; run, rename and record nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Which agent output to print.
    #[arg(long, value_enum, default_value_t = OutputMode::Failed)]
    pub output: OutputMode,
    /// Print the run's documented JSON result on stdout.
    #[arg(long)]
    pub json: bool,
    /// Never draw a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Where fanout keeps logs and state (default: .fanout in the project's directory).
    #[arg(long, env = "FANOUT_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct QueueStatusArgs {
    /// The queue directory (default: the project file's `[queue] dir`, else .agent/queue).
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RoadmapArgs {
    /// The roadmap (Markdown with `### PRIORITY N: Title` headings).
    pub file: PathBuf,
    /// The command run for each planned priority; it gets the priority's section on
    /// stdin, and runs in the priority's worktree.
    #[arg(long, value_name = "CMD", required_unless_present_any = ["check", "mark_complete"])]
    pub agent: Option<String>,
    /// Run at most N priorities at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub max: usize,
    /// Print the planned priorities, which pairs are independent and which touch the
    /// same files; run nothing.
    #[arg(long)]
    pub check: bool,
    /// Merge into BRANCH (default: the branch checked out).
    #[arg(long, value_name = "BRANCH")]
    pub into: Option<String>,
    /// Keep the worktrees and branches of merged priorities.
    #[arg(long)]
    pub keep_worktrees: bool,
    /// Never draw a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Where fanout keeps logs and state (default: .fanout beside the roadmap).
    #[arg(long, env = "FANOUT_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Mark priority N complete in the roadmap (what each priority's task does last).
    #[arg(long, value_name = "N", hide = true)]
    pub mark_complete: Option<u32>,
}

/// Where the store is, for commands that only read or clean it.
#[derive(Debug, Args)]
pub struct StateArgs {
    /// The state directory (default: .fanout beside the project file, else here).
    #[arg(long, env = "FANOUT_STATE_DIR", value_name = "DIR", global = true)]
    pub state_dir: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub state: StateArgs,
    /// How many runs to list.
    #[arg(short = 'n', long, default_value_t = 20)]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub state: StateArgs,
    /// The run id (or a unique prefix; `last` for the newest run).
    pub run: String,
    /// Show only this task's attempts.
    pub task: Option<String>,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    #[command(flatten)]
    pub state: StateArgs,
    /// The run id (or a unique prefix; `last` for the newest run).
    pub run: String,
    /// The task id.
    pub task: String,
    /// Which attempt (default: the last).
    #[arg(long)]
    pub attempt: Option<u32>,
}

#[derive(Debug, Args)]
pub struct CleanArgs {
    #[command(flatten)]
    pub state: StateArgs,
    /// Remove runs that ended longer ago than this (e.g. 30d, 12h).
    #[arg(long, value_name = "AGE", value_parser = humantime::parse_duration,
          required_unless_present = "worktrees")]
    pub older_than: Option<std::time::Duration>,
    /// Remove the worktrees and `fanout/` branches that finished, crashed or old runs
    /// left in the repository, and prune git's worktree records.
    #[arg(long)]
    pub worktrees: bool,
    /// Print what would be removed, remove nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Where the plan comes from.
#[derive(Debug, Args)]
pub struct PlanSource {
    /// The plan file (TOML, YAML or JSON). Default: the nearest fanout.toml.
    pub file: Option<PathBuf>,
    /// The plan file's format, when its extension does not tell.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub plan_format: Option<Format>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub source: PlanSource,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AnalysisFormat::Text)]
    pub format: AnalysisFormat,
    /// Jobs to assume for the speedup estimate (default: the plan's, else CPUs).
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AnalysisFormat {
    Text,
    Json,
    Dot,
    Mermaid,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub source: PlanSource,
    /// Run only these tasks (ids or globs) and what they depend on.
    #[arg(value_name = "TASK", trailing_var_arg = false)]
    pub tasks: Vec<String>,
    /// Run at most N tasks at once.
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// On a failure, skip its dependents and run everything else.
    #[arg(long, overrides_with = "fail_fast")]
    pub keep_going: bool,
    /// On the first failure, start nothing new and terminate running tasks.
    #[arg(long, overrides_with = "keep_going")]
    pub fail_fast: bool,
    /// Keep going until N tasks have failed, then start nothing new and let the running
    /// ones finish.
    #[arg(long, value_name = "N")]
    pub max_fail: Option<u32>,
    /// Start a task only while fewer than N processes are runnable (as ninja's -l),
    /// whatever the plan says.
    #[arg(short = 'l', long = "load", value_name = "N")]
    pub max_load: Option<u32>,
    /// Retry every failing task up to N times, whatever the plan says.
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,
    /// Time every task out after DURATION (e.g. 90s, 10m), whatever the plan says.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub timeout: Option<std::time::Duration>,
    /// Print the order tasks would start in, and run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// After everything else, retry failed tasks once more, one at a time.
    #[arg(long)]
    pub retry_failed_serially: bool,
    /// Keep starting tasks even when the first ones to finish all failed.
    #[arg(long)]
    pub no_systemic_stop: bool,
    /// Which task output to print.
    #[arg(long, value_enum, default_value_t = OutputMode::Failed)]
    pub output: OutputMode,
    /// Print the documented JSON result on stdout.
    #[arg(long)]
    pub json: bool,
    /// Write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Never draw a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Where fanout keeps logs and state (default: .fanout beside the plan).
    #[arg(long, env = "FANOUT_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Continue the latest unfinished run of this plan (or RUN): tasks that succeeded
    /// there (and whose definition did not change) are not run again.
    #[arg(long, value_name = "RUN", num_args = 0..=1, default_missing_value = "", conflicts_with = "resume_failed")]
    pub resume: Option<String>,
    /// Run again only the tasks that failed in the last run of this plan.
    #[arg(long)]
    pub resume_failed: bool,
    /// Run tasks with `inputs` even when an earlier success had the same inputs.
    #[arg(long)]
    pub no_cache: bool,
    /// Record nothing (no history, resume or cache). For measuring the store's cost.
    #[arg(long, conflicts_with_all = ["resume", "resume_failed"])]
    pub no_store: bool,
    /// Say more: how long hashing inputs took, what was recovered.
    #[arg(short, long)]
    pub verbose: bool,
    /// Merge worktree tasks into BRANCH (default: `[worktree] into`, else the branch
    /// checked out when the run begins).
    #[arg(long, value_name = "BRANCH")]
    pub into: Option<String>,
    /// Keep the worktrees and branches of merged worktree tasks.
    #[arg(long)]
    pub keep_worktrees: bool,
}

/// `fanout map`: GNU parallel's options where the same option exists.
#[derive(Debug, Args)]
#[command(
    args_override_self = true,
    // What --pipe's options go with: --pipe, and the options that imply it.
    group(
        clap::ArgGroup::new("pipe_mode")
            .multiple(true)
            .args(["pipe", "pipe_part", "group_by", "shard", "bin", "fifo"])
    ),
    override_usage = "fanout map [OPTIONS] [COMMAND...] [::: VALUES... | :::+ VALUES... | \
:::: FILES... | ::::+ FILES...]...",
    after_help = "Inputs: `::: a b` gives values; several `:::` groups run every combination \
(the first group varies slowest); `:::+` takes its values side by side with the group \
before; `:::: FILE` and `-a FILE` read one input per line (`-` is stdin); with no input \
group, stdin. Replacement strings: {} {.} {/} {//} {/.} {#} {%} {N} {N.} {N/} {N//} {N/.}; \
a command without any gets the inputs appended. Inputs are quoted for the shell.\n\n\
Output: each job's stdout on stdout and its stderr on stderr, whole when the job ends \
(--group), or line by line as it is written, whole lines never mixed (--line-buffer).\n\n\
Exit status (as GNU parallel): 0 every job succeeded; 1-100 that many jobs failed; 101 \
more than 100 failed; with --halt: fail=1 gives the failing job's own status, fail=N% the \
percentage of failed jobs, success=N 0; 130 interrupted; 255 fanout itself failed."
)]
pub struct MapArgs {
    /// Run N jobs at once: N, +N / -N (CPUs plus or minus N), N% (of CPUs), 0 (all); or a
    /// FILE saying one of these, read again as jobs end.
    #[arg(
        short,
        long,
        value_name = "N",
        allow_hyphen_values = true,
        short_alias = 'P',
        aliases = ["max-procs", "maxprocs"]
    )]
    pub jobs: Option<String>,
    /// Print jobs' output in input order, whatever order they end in.
    #[arg(
        short = 'k',
        long,
        overrides_with = "no_keep_order",
        alias = "keeporder"
    )]
    pub keep_order: bool,
    /// Undo an earlier -k.
    #[arg(
        long,
        aliases = ["nok", "no-k", "nokeeporder"],
        overrides_with = "keep_order",
        hide_short_help = true
    )]
    pub no_keep_order: bool,
    /// Prefix each output line with the job's inputs and a tab.
    #[arg(long)]
    pub tag: bool,
    /// Prefix each output line with STR (replacement strings filled in) and a tab.
    #[arg(allow_hyphen_values = true, long, value_name = "STR", alias = "tag-string", value_parser = any_bytes())]
    pub tagstring: Option<String>,
    /// Colour each job's output lines, a colour per job, as GNU parallel does (and
    /// fanout's own messages: `--color=WHEN` as for every command).
    #[arg(
        long,
        alias = "colour",
        value_enum,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "always",
        default_value_t = ColorChoice::Auto
    )]
    pub color: ColorChoice,
    /// As --tag and --color.
    #[arg(long)]
    pub ctag: bool,
    /// As --tagstring STR and --color.
    #[arg(allow_hyphen_values = true, long, value_name = "STR", alias = "ctag-string", value_parser = any_bytes())]
    pub ctagstring: Option<String>,
    /// Colour a failed job's output lines white on red.
    #[arg(
        long,
        visible_alias = "cf",
        aliases = ["colour-failed", "colorfailed", "colourfailed", "color-fail", "colour-fail", "colorfail", "colourfail"]
    )]
    pub color_failed: bool,
    /// Print each job's output whole when it ends (the default).
    #[arg(long, overrides_with = "line_buffer")]
    pub group: bool,
    /// Print output line by line as jobs write it; lines of different jobs never mix.
    #[arg(
        long,
        overrides_with = "group",
        aliases = ["lb", "linebuffer", "line-buffered", "linebuffered"]
    )]
    pub line_buffer: bool,
    /// Show each job's latest line of output (stdout or stderr) in a row of its own,
    /// redrawn as it writes, in place of its whole output; not on a terminal, each job's
    /// last line as it ends.
    #[arg(long, aliases = ["ll", "latestline"])]
    pub latest_line: bool,
    /// Print output as jobs write it (as --line-buffer: whole lines, never mixed), in
    /// the order it comes even with -k.
    #[arg(short = 'u', long, overrides_with_all = ["group", "line_buffer"])]
    pub ungroup: bool,
    /// Print each job's command line on stdout before its output.
    #[arg(short = 'v', overrides_with = "silent")]
    pub verbose: bool,
    /// Print each job's command line on stderr as it starts (GNU parallel's --verbose).
    #[arg(short = 't', long = "verbose")]
    pub trace: bool,
    /// Undo an earlier -v (print no command lines).
    #[arg(long, overrides_with = "verbose", hide_short_help = true)]
    pub silent: bool,
    /// Give each job N inputs ({} is all of them, {1} … {N} each); the last job gets what
    /// is left. 0: run the command once per input, without the input.
    #[arg(short = 'n', long, value_name = "N", aliases = ["max-args", "maxargs"])]
    pub max_args: Option<usize>,
    /// Give each job as many inputs as spread them evenly over the job slots (and fit a
    /// command line): {} is all of them.
    #[arg(short = 'm', conflicts_with_all = ["pipe", "results"])]
    pub multiple: bool,
    /// As -m, each word holding {} repeated once per input: `x{}y` is `x1y x2y`.
    #[arg(
        short = 'X',
        conflicts_with_all = ["pipe", "multiple", "results"]
    )]
    pub context_replace: bool,
    /// Command lines shorter than N bytes (-m, -X and --xargs fill them to that; a longer
    /// one is an error).
    #[arg(short = 's', long, alias = "maxchars", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_chars: Option<u64>,
    /// As many inputs per job as fit a command line, not spread over the job slots.
    #[arg(
        long,
        conflicts_with_all = ["pipe", "results"]
    )]
    pub xargs: bool,
    /// Take the input groups side by side (as `:::+` does), the shorter ones starting
    /// over, rather than in every combination.
    #[arg(long, alias = "xapply")]
    pub link: bool,
    /// As -n, each word holding {} repeated once per input (as -X does): with -N2,
    /// `x{}y` is `x1y x2y`.
    #[arg(
        short = 'N',
        long = "max-replace-args",
        alias = "maxreplaceargs",
        value_name = "N",
        conflicts_with = "max_args"
    )]
    pub max_replace_args: Option<usize>,
    /// Give each job at most N inputs, an input ending in white space going on in the
    /// next (as -N: a word holding {} is repeated once per input). With --pipe: blocks of
    /// whole N-line records. K, M, G: powers of 1024; k, m, g: of 1000.
    #[arg(allow_hyphen_values = true, short = 'L', value_name = "N")]
    pub lines: Option<String>,
    /// As -L N, N being 1 if not given (or 0): -l, -l2, -l 2, --max-lines 2. A word after
    /// it that is no number is not its N (`-l echo` is -l, then the command).
    #[arg(
        short = 'l',
        long = "max-lines",
        alias = "maxlines",
        value_name = "N",
        num_args = 0..=1,
        default_missing_value = "1",
        conflicts_with = "lines"
    )]
    pub max_lines: Option<String>,
    /// Do not use the first line of input (of the first input source; with --pipe, of
    /// stdin; with --pipe-part, of the file).
    #[arg(long, alias = "skipfirstline")]
    pub skip_first_line: bool,
    /// Use STR instead of {} for the whole input.
    #[arg(allow_hyphen_values = true, short = 'I', value_name = "STR")]
    pub replace: Option<String>,
    /// As -I STR (the old spelling: -iSTR, --replace=STR; with no STR, {} stays).
    #[arg(
        short = 'i',
        long = "replace",
        value_name = "STR",
        num_args = 0..=1,
        default_missing_value = "",
        hide_short_help = true
    )]
    pub replace_deprecated: Option<String>,
    /// Use STR instead of {.} (the input without its extension).
    #[arg(
        allow_hyphen_values = true,
        long = "extensionreplace",
        visible_alias = "er",
        value_name = "STR"
    )]
    pub extension_replace: Option<String>,
    /// Use STR instead of {/} (the input's basename).
    #[arg(
        allow_hyphen_values = true,
        long = "basenamereplace",
        visible_alias = "bnr",
        value_name = "STR"
    )]
    pub basename_replace: Option<String>,
    /// Use STR instead of {//} (the input's dirname).
    #[arg(
        allow_hyphen_values = true,
        long = "dirnamereplace",
        visible_alias = "dnr",
        value_name = "STR"
    )]
    pub dirname_replace: Option<String>,
    /// Use STR instead of {/.} (the input's basename without its extension).
    #[arg(
        allow_hyphen_values = true,
        long = "basenameextensionreplace",
        visible_alias = "bner",
        value_name = "STR"
    )]
    pub basename_extension_replace: Option<String>,
    /// Use STR instead of {#} (the job number).
    #[arg(allow_hyphen_values = true, long = "seqreplace", value_name = "STR")]
    pub seq_replace: Option<String>,
    /// Use STR instead of {%} (the job slot).
    #[arg(allow_hyphen_values = true, long = "slotreplace", value_name = "STR")]
    pub slot_replace: Option<String>,
    /// A replacement string of one's own: 'TAG PERL', the Perl expression changing $_ as
    /// in {= perl =} (a TAG in braces also works for input N: {2..} for {..}).
    #[arg(allow_hyphen_values = true, long, value_name = "'TAG PERL'", value_parser = any_bytes())]
    pub rpl: Vec<String>,
    /// What Perl strings are between, in place of {= and =}: the first half of TEXT is
    /// the left, the rest the right (`--parens ,,,,`: `,,s/a/b/,,`).
    #[arg(allow_hyphen_values = true, long, value_name = "TEXT")]
    pub parens: Option<String>,
    /// Run only the jobs for which TEST, a Perl expression with replacement strings in it,
    /// is true (`--filter '{1} < {2}'`); the others are skipped. May be repeated.
    #[arg(allow_hyphen_values = true, long, value_name = "TEST", value_parser = any_bytes())]
    pub filter: Vec<String>,
    /// Before each job, write FILE with its replacement strings filled in to REPL (a name
    /// with replacement strings too: `--tmpl conf.tmpl={#}.conf`). May be repeated.
    #[arg(
        allow_hyphen_values = true,
        long,
        value_name = "FILE=REPL",
        alias = "tmpl"
    )]
    pub template: Vec<String>,
    /// Remove each job's --template files when the job is done.
    #[arg(long)]
    pub cleanup: bool,
    /// More replacement strings, as GNU parallel's --plus: {+/} {+.} {..} {/..} {##}
    /// {0#} {:-TEXT} {:N:M} {#RE} {%RE} {/RE/TO} {^RE} {uniq} {choose_k} and more.
    #[arg(long)]
    pub plus: bool,
    /// Quote the command for the shell, so that it runs exactly as written.
    #[arg(short = 'q', long)]
    pub quote: bool,
    /// Skip inputs that are empty or only white space.
    #[arg(short = 'r', long, alias = "norunifempty")]
    pub no_run_if_empty: bool,
    /// The first input of each group names its columns: {name} is that column (`0`: each
    /// file of :::: names its own, {FILE}). With --pipe, the header that goes before every
    /// block: `:` the first line, N the first N lines, else a regular expression matched
    /// at the start of stdin.
    #[arg(allow_hyphen_values = true, long, value_name = ":|N|REGEX")]
    pub header: Option<String>,
    /// Keep each job's output in DIR/1/VALUE1/2/VALUE2/…/{seq,stdout,stderr} rather than
    /// print it; with a name ending .csv, .tsv or .json, one table row per job instead
    /// (-.csv and the like: on stdout).
    #[arg(
        long,
        value_name = "DIR",
        aliases = ["res", "result"],
        allow_hyphen_values = true
    )]
    pub results: Option<PathBuf>,
    /// Run the jobs in a random order ({#} numbers them in that order).
    #[arg(long)]
    pub shuf: bool,
    /// Wait at least DURATION between starting one job and the next (seconds, or with a
    /// unit: 100ms, 2s, 1m).
    #[arg(allow_hyphen_values = true, long, value_name = "DURATION")]
    pub delay: Option<String>,
    /// As --delay, when that is not given (GNU parallel's delay between logins to a
    /// remote host, which stands for --delay there too).
    #[arg(
        allow_hyphen_values = true,
        long,
        alias = "ssh-delay",
        value_name = "DURATION",
        hide = true
    )]
    pub sshdelay: Option<String>,
    /// Start a job only while fewer than MAX processes are runnable (MAX, or MAX% of the
    /// CPUs).
    #[arg(allow_hyphen_values = true, long, value_name = "MAX")]
    pub load: Option<String>,
    /// Start a job only while at least SIZE of memory is available (K, M, G, and Ki, Mi,
    /// Gi: powers of 1024; k, m, g: of 1000; 0: no limit).
    #[arg(allow_hyphen_values = true, long, value_name = "SIZE")]
    pub memfree: Option<String>,
    /// While less than twice SIZE of memory is available, stop (SIGSTOP) the younger running
    /// jobs, more of them the less there is (below SIZE, all but the oldest), and continue
    /// them as memory comes back; start a job only while SIZE more than --memfree is
    /// available, or none runs (0: never).
    #[arg(allow_hyphen_values = true, long, value_name = "SIZE")]
    pub memsuspend: Option<String>,
    /// Start a job only while the machine is not swapping (pages both swapped in and out
    /// since the last look).
    #[arg(long)]
    pub noswap: bool,
    /// Before each job starts, run COMMAND (a shell command): exit 0 lets the job start;
    /// any other holds starts back and asks again later. `load N` and `mem SIZE` are
    /// --load N and --memfree SIZE.
    #[arg(allow_hyphen_values = true, long, value_name = "COMMAND")]
    pub limit: Option<String>,
    /// Terminate a job after SECS seconds (SIGTERM to its process group, then SIGKILL), or
    /// after N% of the median duration of the jobs that succeeded so far.
    #[arg(allow_hyphen_values = true, long, value_name = "SECS|N%")]
    pub timeout: Option<String>,
    /// Try each failing job up to N times in all.
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,
    /// When to stop: now|soon,fail|success|done=N or N% (e.g. now,fail=1, soon,fail=10%).
    #[arg(
        long,
        value_name = "WHEN,WHY=N",
        allow_hyphen_values = true,
        aliases = ["halt-on-error", "haltonerror"]
    )]
    pub halt: Option<String>,
    /// Print the commands that would run, and run nothing.
    #[arg(long, aliases = ["dryrun", "dr"])]
    pub dry_run: bool,
    /// As --dry-run, each command line quoted for a shell (to compose commands for a
    /// further fanout map); given twice, quoted twice.
    #[arg(long, aliases = ["shellquote", "shell_quote"], action = clap::ArgAction::Count)]
    pub shell_quote: u8,
    /// Show a progress bar on stderr (also --eta and --progress).
    #[arg(long, alias = "eta", alias = "progress")]
    pub bar: bool,
    /// Log each finished job to FILE in GNU parallel's format (+FILE: append to it).
    #[arg(allow_hyphen_values = true, long, value_name = "FILE", alias = "jl")]
    pub joblog: Option<PathBuf>,
    /// Skip the jobs the job log lists (it needs --joblog).
    #[arg(long)]
    pub resume: bool,
    /// Skip the jobs the job log lists as succeeded; run failed ones again (needs --joblog).
    #[arg(long, alias = "resumefailed")]
    pub resume_failed: bool,
    /// Run the jobs the job log lists as failed again, each with its command as logged;
    /// the command line's command and inputs are ignored (needs --joblog).
    #[arg(long, conflicts_with_all = ["resume", "resume_failed"], alias = "retryfailed")]
    pub retry_failed: bool,
    /// Cut stdin into blocks and give each job one block on its stdin (-N: N records per
    /// block).
    #[arg(long, alias = "spreadstdin")]
    pub pipe: bool,
    /// As --pipe, the data the file given with -a (or ::::), each job a part of it read
    /// straight from the file: --block bytes (-N: N parts per job slot; default -10), cut
    /// after a record.
    #[arg(long, alias = "pipepart")]
    pub pipe_part: bool,
    /// With --pipe: read SIZE bytes at a time; a block ends at the last record end in
    /// them (K, M, G: powers of 1024; k, m, g: of 1000) [default: 1M].
    #[arg(
        long,
        value_name = "SIZE",
        aliases = ["block-size", "blocksize"],
        requires = "pipe_mode",
        allow_hyphen_values = true
    )]
    pub block: Option<String>,
    /// With --pipe: what a record starts with (\n, \t, \0 … read as in printf).
    #[arg(
        allow_hyphen_values = true,
        long,
        value_name = "STR",
        requires = "pipe_mode"
    )]
    pub recstart: Option<String>,
    /// With --pipe: what a record ends with [default: \n, or nothing with --recstart].
    #[arg(
        allow_hyphen_values = true,
        long,
        value_name = "STR",
        requires = "pipe_mode"
    )]
    pub recend: Option<String>,
    /// With --pipe: --recstart and --recend are regular expressions (Perl-like; `^` and `$`
    /// match at line ends).
    #[arg(long, alias = "regex", requires = "pipe_mode")]
    pub regexp: bool,
    /// With --pipe: take the --recstart and --recend marks out of each block.
    #[arg(long = "remove-rec-sep", aliases = ["removerecsep", "rrs"], requires = "pipe_mode")]
    pub remove_rec_sep: bool,
    /// With --pipe (which it implies): lines with the same VALUE make one record, so that
    /// no block splits them (-N1: one group per job). VALUE: a column number or name
    /// (--colsep, default tab; a name is looked up in the first line), then optionally a
    /// Perl expression changing $_; or a Perl expression over the whole line.
    #[arg(
        long,
        value_name = "VALUE",
        alias = "groupby",
        allow_hyphen_values = true
    )]
    pub group_by: Option<String>,
    /// With --pipe (which it implies): a job per slot, each line going to the job a hash
    /// of its VALUE picks, so that equal values meet in one job. VALUE: a column number or
    /// name (--colsep, default `,`), then optionally Perl code changing $_.
    #[arg(allow_hyphen_values = true, long, value_name = "VALUE", conflicts_with_all = ["group_by", "round_robin", "bin"])]
    pub shard: Option<String>,
    /// As --shard, the job picked by the value itself, a number: N to job N, counted round
    /// the jobs.
    #[arg(allow_hyphen_values = true, long, value_name = "VALUE", conflicts_with_all = ["group_by", "round_robin"])]
    pub bin: Option<String>,
    /// With --pipe: give each job its block as a file, named by {}, not on stdin.
    #[arg(long, requires = "pipe_mode")]
    pub cat: bool,
    /// As --pipe --cat (or, with --pipe-part, as --cat): the block is a file named by {}
    /// (GNU parallel's is a named pipe, which a job must open).
    #[arg(long, conflicts_with = "cat")]
    pub fifo: bool,
    /// With --pipe: as many jobs as slots, the blocks dealt out to them in turn.
    #[arg(
        long,
        requires = "pipe_mode",
        conflicts_with = "tee",
        aliases = ["roundrobin", "round"]
    )]
    pub round_robin: bool,
    /// With --pipe: give every job all of stdin (one job per input of `:::`).
    #[arg(long, requires = "pipe", conflicts_with = "cat")]
    pub tee: bool,
    /// Inputs end with a NUL byte rather than a newline.
    #[arg(short = '0', long, conflicts_with = "delimiter")]
    pub null: bool,
    /// Inputs end with DELIM rather than a newline (\n, \t and octal escapes such as \000
    /// read as in printf).
    #[arg(allow_hyphen_values = true, short = 'd', long, value_name = "DELIM", value_parser = any_bytes())]
    pub delimiter: Option<String>,
    /// An input equal to STR ends its group: neither it nor what follows is read.
    #[arg(allow_hyphen_values = true,
        short = 'E',
        short_alias = 'e',
        long = "eof",
        value_name = "STR",
        value_parser = any_bytes()
    )]
    pub eof: Option<String>,
    /// Cut white space from the ends of each input (or column): n (none), l, r, lr
    /// [default: lr with --colsep, else n].
    #[arg(allow_hyphen_values = true, long, value_name = "n|l|r|lr")]
    pub trim: Option<String>,
    /// Split each input into columns {1} {2} … at matches of REGEX.
    #[arg(allow_hyphen_values = true,
        short = 'C',
        long,
        value_name = "REGEX",
        alias = "col-sep",
        value_parser = any_bytes()
    )]
    pub colsep: Option<String>,
    /// Print the name of a file holding each job's stdout instead of the output (kept in
    /// --tmpdir as parXXXXX.par, or in --results DIR); stderr is dropped.
    #[arg(
        long,
        conflicts_with_all = ["line_buffer", "ungroup"],
        aliases = ["output-as-files", "outputasfiles"]
    )]
    pub files: bool,
    /// Read each input as a CSV record (quoted fields may hold the separator, quotes and
    /// newlines); its fields are the columns {1} {2} …. --colsep gives the field separator
    /// (one character; default ,).
    #[arg(long)]
    pub csv: bool,
    /// Read inputs from FILE, one per line (may be repeated).
    #[arg(
        allow_hyphen_values = true,
        short = 'a',
        long = "arg-file",
        value_name = "FILE",
        alias = "argfile"
    )]
    pub arg_file: Vec<PathBuf>,
    /// Use SEP instead of ::: (and SEP+ instead of :::+).
    #[arg(allow_hyphen_values = true, long, alias = "argsep", value_name = "SEP")]
    pub arg_sep: Option<String>,
    /// Use SEP instead of :::: (and SEP+ instead of ::::+).
    #[arg(
        allow_hyphen_values = true,
        long,
        alias = "argfilesep",
        value_name = "SEP"
    )]
    pub arg_file_sep: Option<String>,
    /// Run jobs at this niceness, added to fanout's own (as `nice -n N`).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub nice: Option<i32>,
    /// How a job is terminated (--timeout, --halt now, Ctrl-C): signals each followed by
    /// the milliseconds to wait for it to end (default TERM,200,TERM,100,TERM,50,KILL,25);
    /// a SIGKILL follows to whatever is left.
    #[arg(
        allow_hyphen_values = true,
        long,
        value_name = "SEQUENCE",
        alias = "term-seq"
    )]
    pub termseq: Option<String>,
    /// With --pipe: a block not read whole within DURATION is cut short, after the last
    /// whole record read so far (for slow streams: `tail -f`).
    #[arg(allow_hyphen_values = true,
        long,
        value_name = "DURATION",
        aliases = ["blocktimeout", "bt"],
        requires = "pipe"
    )]
    pub block_timeout: Option<String>,
    /// The number of jobs, for {##} and {0#}, so that the inputs need not all be read
    /// first.
    #[arg(long, value_name = "N", aliases = ["totaljobs", "total"])]
    pub total_jobs: Option<usize>,
    /// Set the environment variable VAR to each job's slot less one (from 0).
    #[arg(
        allow_hyphen_values = true,
        long,
        value_name = "VAR",
        alias = "processslotvar"
    )]
    pub process_slot_var: Option<String>,
    /// Run jobs in DIR (made if missing) rather than the current directory.
    #[arg(allow_hyphen_values = true, long, value_name = "DIR", aliases = ["work-dir", "workdir"])]
    pub wd: Option<PathBuf>,
    /// Print the run summary on stderr at the end (default: when stderr is a terminal).
    #[arg(long)]
    pub summary: bool,
    /// Where jobs' output waits until it is printed (default: the system's temp directory).
    #[arg(
        allow_hyphen_values = true,
        long,
        alias = "tempdir",
        value_name = "DIR"
    )]
    pub tmpdir: Option<PathBuf>,
    /// Ask on the terminal before each job runs (`COMMAND ?...`): only a job whose answer
    /// begins with y runs; the others are skipped and count as failed.
    #[arg(short = 'p', long)]
    pub interactive: bool,
    /// Give each job the terminal as its stdin (for interactive programs), not /dev/null.
    #[arg(short = 'o', long = "open-tty", alias = "opentty")]
    pub open_tty: bool,
    /// As -o, one job at a time (-j1) and output as it comes (-u), unless -j or the output
    /// are given.
    #[arg(long)]
    pub tty: bool,
    /// Accepted for GNU parallel compatibility: jobs here inherit the whole environment,
    /// VAR included.
    #[arg(
        allow_hyphen_values = true,
        long,
        value_name = "VAR",
        hide_short_help = true
    )]
    pub env: Vec<String>,
    /// Print the GNU parallel version whose behaviour fanout map follows and exit: 0 when
    /// it is VERSION or later, else 255 (`--minversion 20170422 && …`).
    #[arg(
        allow_hyphen_values = true,
        long,
        alias = "min-version",
        value_name = "VERSION"
    )]
    pub minversion: Option<String>,
    /// Print the shell code that completes fanout's options and exit (bash, zsh, fish,
    /// elvish, powershell, or auto: the shell fanout was started from):
    /// `eval "$(fanout map --shell-completion auto)"`.
    #[arg(
        allow_hyphen_values = true,
        long,
        alias = "shellcompletion",
        value_name = "SHELL"
    )]
    pub shell_completion: Option<String>,
    /// `--shebang`, `--hashbang` or `--shebang-wrap` anywhere but first, where a script's
    /// `#!` line puts them (read there before the arguments are parsed): an error.
    #[arg(
        long = "shebang",
        aliases = ["hashbang", "shebang-wrap", "shebangwrap"],
        hide = true
    )]
    pub shebang_not_first: bool,
    /// Print the longest command line -m, -X and --xargs fill, and exit.
    #[arg(long, alias = "maxlinelengthallowed")]
    pub max_line_length_allowed: bool,
    /// Print the longest command line -m, -X and --xargs fill (-s N, else the system's),
    /// then go on.
    #[arg(long, alias = "showlimits")]
    pub show_limits: bool,
    /// Accepted for GNU parallel compatibility: a command line longer than -s allows is
    /// always an error.
    #[arg(short = 'x', long = "exit", hide = true)]
    pub exit_if_too_long: bool,
    /// Print the number of CPU cores (as GNU parallel counts them) and exit.
    #[arg(long, aliases = ["number-of-cpus", "numberofcores", "numberofcpus"])]
    pub number_of_cores: bool,
    /// Print the number of CPU threads (hyperthreads; as GNU parallel counts them) and
    /// exit.
    #[arg(long, alias = "numberofthreads")]
    pub number_of_threads: bool,
    /// Print the number of CPU sockets (as GNU parallel counts them) and exit.
    #[arg(long, alias = "numberofsockets")]
    pub number_of_sockets: bool,
    /// Count cores, not threads, as the CPUs of -j N% and -j +N.
    #[arg(long, alias = "usecoresinsteadofthreads")]
    pub use_cores_instead_of_threads: bool,
    /// Count sockets, not threads, as the CPUs of -j N% and -j +N.
    #[arg(
        long,
        aliases = [
            "usesocketsinsteadofthreads",
            "use-cpus-instead-of-cores",
            "usecpusinsteadofcores"
        ]
    )]
    pub use_sockets_instead_of_threads: bool,
    /// Accepted for GNU parallel compatibility (--will-cite, --no-notice).
    #[arg(
        long,
        hide = true,
        aliases = ["willcite", "no-notice", "nonotice", "nn"]
    )]
    pub will_cite: bool,
    /// Accepted for GNU parallel compatibility: fanout is always itself. Lets --tollef by.
    #[arg(long, hide = true)]
    pub gnu: bool,
    /// GNU parallel's retired options: each is an error that names what replaced it.
    #[command(flatten)]
    pub retired: RetiredOptions,
    /// GNU parallel's options that fanout map does not have: each is an error that says
    /// what to use instead.
    #[command(flatten)]
    pub unbuilt: UnbuiltOptions,
    /// Write the names of the environment's variables to `ignored_vars` in GNU parallel's
    /// folder ($PARALLEL_HOME or ~/.parallel), for `--env _`, and exit.
    #[arg(long, alias = "recordenv", hide_short_help = true)]
    pub record_env: bool,
    /// Accepted for GNU parallel compatibility and ignored: it is for env_parallel.
    #[arg(long, hide = true)]
    pub session: bool,
    /// Read the options in the profile NAME (a file in ~/.parallel or $PARALLEL_HOME, or
    /// the path NAME if it begins with / or ./) before the command line's, in place of
    /// ~/.parallel/config. May be given more than once.
    #[arg(allow_hyphen_values = true, short = 'J', long, value_name = "NAME")]
    pub profile: Vec<String>,
    /// Read no profile (~/.parallel/config, -J) and not $PARALLEL.
    #[arg(long)]
    pub plain: bool,
    /// Accepted for GNU parallel compatibility: output waiting to be printed is kept as
    /// it is (--compress; --compress-program and --decompress-program PRG are not run).
    #[arg(long, hide = true)]
    pub compress: bool,
    #[arg(allow_hyphen_values = true,
        long,
        hide = true,
        value_name = "PRG",
        aliases = ["compressprogram", "use-compress-program", "usecompressprogram"]
    )]
    pub compress_program: Option<String>,
    #[arg(allow_hyphen_values = true,
        long,
        hide = true,
        value_name = "PRG",
        aliases = ["decompressprogram", "use-decompress-program", "usedecompressprogram"]
    )]
    pub decompress_program: Option<String>,
    /// Where jobs run: `:`, this machine (`N/:`: N jobs at once), the only place fanout
    /// map runs them. May be repeated, or separated by commas.
    #[arg(
        allow_hyphen_values = true,
        short = 'S',
        long,
        value_name = "LOGIN",
        hide_short_help = true
    )]
    pub sshlogin: Vec<String>,
    /// --sshlogin entries, one a line (`..`: ~/.parallel/sshloginfile).
    #[arg(
        allow_hyphen_values = true,
        long,
        alias = "slf",
        value_name = "FILE",
        hide_short_help = true
    )]
    pub sshloginfile: Vec<PathBuf>,
    /// Run every job on every --sshlogin, one job at a time on each: here, on this
    /// machine, the jobs one after another in input order; `--tag` shows the host (`:`);
    /// the exit status is 1 if any job failed.
    #[arg(long, hide_short_help = true)]
    pub onall: bool,
    /// --onall, and with no input source given the command runs once, with no input
    /// (stdin is not read).
    #[arg(long, hide_short_help = true)]
    pub nonall: bool,
    /// Accepted for GNU parallel compatibility, and ignored with a warning as GNU parallel
    /// ignores them with no remote host: --transfer, --transferfile, --return, --trc,
    /// --basefile.
    #[arg(long, hide = true)]
    pub transfer: bool,
    #[arg(allow_hyphen_values = true,
        long = "transferfile",
        aliases = ["tf", "transfer-file", "transfer-files", "transferfiles"],
        hide = true,
        value_name = "FILE"
    )]
    pub transfer_file: Vec<String>,
    #[arg(
        allow_hyphen_values = true,
        long = "return",
        hide = true,
        value_name = "FILE"
    )]
    pub return_file: Vec<String>,
    #[arg(allow_hyphen_values = true, long, hide = true, value_name = "FILE")]
    pub trc: Vec<String>,
    #[arg(
        allow_hyphen_values = true,
        long,
        alias = "bf",
        hide = true,
        value_name = "FILE"
    )]
    pub basefile: Vec<String>,
    /// Accepted for GNU parallel compatibility, and ignored as GNU parallel ignores them
    /// with no remote host: --ssh, --controlmaster (-M), --filter-hosts, --hgrp,
    /// --rsync-opts.
    #[arg(allow_hyphen_values = true, long, hide = true, value_name = "COMMAND")]
    pub ssh: Option<String>,
    #[arg(short = 'M', long, hide = true)]
    pub controlmaster: bool,
    #[arg(long, hide = true, aliases = ["filterhosts", "filter-host"])]
    pub filter_hosts: bool,
    #[arg(long, hide = true, aliases = ["hostgrp", "hostgroup", "hostgroups"])]
    pub hgrp: bool,
    #[arg(
        long,
        hide = true,
        alias = "rsyncopts",
        value_name = "OPTIONS",
        allow_hyphen_values = true
    )]
    pub rsync_opts: Option<String>,
    /// Work as a counting semaphore (as `fanout sem`): run the command once, when one of
    /// -j N slots (default 1) of the semaphore is free, in the background.
    #[arg(long)]
    pub semaphore: bool,
    /// The semaphore's name (default: the terminal's name, else `default`).
    #[arg(
        allow_hyphen_values = true,
        long = "semaphore-name",
        visible_alias = "id",
        alias = "semaphorename",
        value_name = "NAME"
    )]
    pub semaphore_name: Option<String>,
    /// A semaphore not free within SECS is taken anyway; with -SECS, give up (exit 1).
    #[arg(
        long = "semaphore-timeout",
        visible_alias = "st",
        alias = "semaphoretimeout",
        value_name = "SECS",
        allow_hyphen_values = true
    )]
    pub semaphore_timeout: Option<String>,
    /// With --semaphore: run the command in the foreground, and exit with its status.
    #[arg(long, overrides_with = "bg")]
    pub fg: bool,
    /// With --semaphore: run the command in the background (the default).
    #[arg(long, overrides_with = "fg")]
    pub bg: bool,
    /// With --semaphore: wait until no slot of the semaphore is held.
    #[arg(long)]
    pub wait: bool,
    /// A semaphore's slot is held for this process already (its stdin is the slot's
    /// file), or was not free in time and is not needed.
    #[arg(long, hide = true)]
    pub semaphore_held: bool,
    /// The command, then the input groups.
    #[arg(
        value_name = "COMMAND",
        trailing_var_arg = true,
        num_args = 0..,
        value_parser = any_bytes()
    )]
    pub words: Vec<String>,
}

/// A word that may hold any bytes: those that are not UTF-8 are carried as
/// [`crate::bytes`] says.
fn any_bytes() -> impl clap::builder::TypedValueParser<Value = String> {
    use clap::builder::TypedValueParser as _;
    use std::os::unix::ffi::OsStrExt as _;
    clap::builder::OsStringValueParser::new()
        .map(|word| crate::bytes::decode(word.as_bytes()).into_owned())
}

/// Options GNU parallel has retired. Each is an error that names its replacement, as in
/// GNU parallel, rather than an unknown option.
#[derive(Args, Clone, Debug, Default)]
pub struct RetiredOptions {
    #[arg(short = 'g', hide = true)]
    pub g: bool,
    #[arg(short = 'B', hide = true, value_name = "FILE")]
    pub b: Option<String>,
    #[arg(short = 'T', hide = true)]
    pub t: bool,
    #[arg(short = 'U', hide = true, value_name = "STRING")]
    pub u: Option<String>,
    #[arg(short = 'W', hide = true, value_name = "DIR")]
    pub w: Option<String>,
    #[arg(short = 'Y', hide = true)]
    pub y: bool,
    #[arg(short = 'H', hide = true, value_name = "N")]
    pub h: Option<String>,
    #[arg(long, hide = true, value_name = "DBURL")]
    pub sql: Option<String>,
    #[arg(long, hide = true, alias = "ctrl-c")]
    pub ctrlc: bool,
    #[arg(long, hide = true, aliases = ["no-ctrl-c", "no-ctrlc"])]
    pub noctrlc: bool,
    #[arg(long, hide = true)]
    pub tollef: bool,
}

/// GNU parallel's options that fanout map does not have.
#[derive(Args, Debug, Clone, Default)]
pub struct UnbuiltOptions {
    #[arg(long, hide = true)]
    pub embed: bool,
    #[arg(long, hide = true)]
    pub tmux: bool,
    #[arg(long, hide = true, alias = "tmux-pane")]
    pub tmuxpane: bool,
    #[arg(long, hide = true, alias = "sqlmaster", value_name = "DBURL")]
    pub sql_master: Option<String>,
    #[arg(long, hide = true, alias = "sqlworker", value_name = "DBURL")]
    pub sql_worker: Option<String>,
    #[arg(long, hide = true, alias = "sqlandworker", value_name = "DBURL")]
    pub sql_and_worker: Option<String>,
}

impl UnbuiltOptions {
    /// The first option given that fanout map does not have, and what to do instead.
    pub fn given(&self) -> Option<(&'static str, &'static str)> {
        let sql = "fanout map keeps its jobs in --joblog FILE or --results FILE.csv instead";
        let watch = "watch each job's output as it comes with --line-buffer --tag, or \
                     --latest-line";
        [
            (
                self.embed,
                "--embed",
                "fanout is one program: ship it beside your script and call `fanout map`",
            ),
            (self.tmux, "--tmux", watch),
            (self.tmuxpane, "--tmuxpane", watch),
            (self.sql_master.is_some(), "--sql-master", sql),
            (self.sql_worker.is_some(), "--sql-worker", sql),
            (self.sql_and_worker.is_some(), "--sql-and-worker", sql),
        ]
        .into_iter()
        .find(|(given, ..)| *given)
        .map(|(_, option, instead)| (option, instead))
    }
}

impl RetiredOptions {
    /// The first retired option given, and what to do instead.
    pub fn given(&self, gnu: bool) -> Option<(&'static str, &'static str)> {
        [
            (self.g, "-g", "use --group instead"),
            (self.b.is_some(), "-B", "use --bf instead"),
            (self.t, "-T", "use --tty instead"),
            (self.u.is_some(), "-U", "use --er instead"),
            (self.w.is_some(), "-W", "use --wd instead"),
            (self.y, "-Y", "use --shebang instead"),
            (self.h.is_some(), "-H", "use --halt instead"),
            // GNU parallel's --sqlmaster took its place; fanout map keeps no SQL table.
            (
                self.sql.is_some(),
                "--sql",
                "fanout map keeps its jobs in --joblog FILE or --results FILE.csv instead",
            ),
            (self.ctrlc, "--ctrlc", "remove it"),
            (self.noctrlc, "--noctrlc", "remove it"),
            (
                self.tollef && !gnu,
                "--tollef",
                "remove --tollef, or add --gnu to let it by",
            ),
        ]
        .into_iter()
        .find(|(given, ..)| *given)
        .map(|(_, option, instead)| (option, instead))
    }
}
