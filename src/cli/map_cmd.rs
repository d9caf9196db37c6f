//! `fanout map`: from GNU parallel's command line to a plan of one task per job, to the
//! engine's runner, to the job output reporter, the job log and the summary, to GNU
//! parallel's exit status.

use std::io::{IsTerminal, Write};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Context;
use regex::Regex;

use super::CliError;
use super::args::{ColorChoice, MapArgs};
use super::map_jobs::{
    Job, JobInfo, JobMaker, JobSource, block_jobs, input_error, input_jobs, max_lines, read_options,
};
use super::run_cmd::{build_dag, new_run_id, seed};
use super::sem::{self, Turn};
use super::{completions, entry, gnu_argv};
use crate::events::{AttemptStatus, Event, EventSink, Fanout};
use crate::map::{
    Asker, CpuCounts, FileTemplate, Filter, JoblogRecorder, JoblogWriter, JobsFile, LoggedJob,
    MAP_ERROR, MAX_LINE, MapSpec, MapStatus, MapTimeout, Parens, Received, ResultsTable,
    ResultsWriter, Separators, SourceKind, TableFormat, Template, TemplateOptions, TooLong,
    UserReplacement, column_names, expand_user_replacements, job_shell, local_jobs, map_plan,
    pack_inputs, parse_delay, parse_halt, parse_jobs, parse_limit_size, parse_load, parse_seconds,
    parse_timeout, read_joblog, read_login_file, shell_quote, split_command_line, with_slot,
};
use crate::plan::FilePart;
use crate::report::{JobOutput, JobOutputOptions, LatestLines, SummaryCollector, render_summary};
use crate::runner::{self, RunOptions, TaskFeed, Termination};
use crate::scheduler::{HaltPolicy, HaltThreshold, SchedulerConfig};

/// GNU parallel's termination sequence: TERM three times, then KILL, waiting ever less
/// in between (milliseconds).
const GNU_TERMSEQ: &str = "TERM,200,TERM,100,TERM,50,KILL,25";

/// The GNU parallel whose behaviour `fanout map` follows (`--minversion`).
const GNU_PARALLEL_VERSION: u64 = 20221122;

/// `fanout map`; returns the exit status, errors included (255, printed here).
pub(crate) fn map(args: MapArgs, color: bool) -> i32 {
    match run(args) {
        Ok(code) => code,
        Err(err) => {
            err.print(color);
            MAP_ERROR
        }
    }
}

fn run(mut args: MapArgs) -> Result<i32, CliError> {
    if let Some(wanted) = &args.minversion {
        let wanted = wanted.trim().parse::<u64>().map_err(|_| {
            CliError::usage_with_help(
                format!("`--minversion {wanted}` is not a version"),
                "GNU parallel's versions are dates: `--minversion 20170422`",
            )
        })?;
        println!("{GNU_PARALLEL_VERSION}");
        return Ok(if wanted <= GNU_PARALLEL_VERSION {
            0
        } else {
            MAP_ERROR
        });
    }
    if args.shebang_not_first {
        return Err(gnu_argv::not_first());
    }
    if let Some((option, instead)) = args.retired.given(args.gnu) {
        return Err(CliError::usage_with_help(
            format!("{option} has been retired from GNU parallel"),
            instead,
        ));
    }
    if let Some((option, instead)) = args.unbuilt.given() {
        return Err(CliError::usage_with_help(
            format!("fanout map does not have GNU parallel's {option}"),
            instead,
        ));
    }
    if args.record_env {
        return gnu_argv::record_env().map(|()| 0);
    }
    if let Some(shell) = &args.shell_completion {
        let shell = completions::shell_named(shell)?;
        // Called as `parallel`, the script completes that name with map's options.
        let name = match entry::called_as().as_deref() {
            Some("parallel") => "parallel",
            _ => "fanout",
        };
        completions::print(shell, name)?;
        return Ok(0);
    }
    if args.max_line_length_allowed {
        println!("{MAX_LINE}");
        return Ok(0);
    }
    if args.show_limits {
        let most = args
            .max_chars
            .map_or(MAX_LINE as u64, |n| n.min(MAX_LINE as u64));
        println!("Maximal size of command: {MAX_LINE}");
        println!("Maximal usable size of command: {most}");
    }
    if args.number_of_cores || args.number_of_threads || args.number_of_sockets {
        let counts = CpuCounts::of_this_machine();
        let count = match (args.number_of_cores, args.number_of_threads) {
            (true, _) => counts.cores,
            (_, true) => counts.threads,
            _ => counts.sockets,
        };
        println!("{count}");
        return Ok(0);
    }
    // As in GNU parallel: -N sizes the jobs itself, and -m, -X and --xargs give way to
    // it; -m and -X spread the inputs over the slots, with --xargs too.
    if args.max_replace_args.is_some() {
        args.multiple = false;
        args.context_replace = false;
        args.xargs = false;
    }
    args.xargs &= !(args.multiple || args.context_replace);
    // `--fifo` is `--cat`, and `--pipe` unless it is `--pipe-part`.
    if args.fifo {
        args.cat = true;
        args.pipe |= !args.pipe_part;
    }
    // `--group-by` cuts `--pipe`'s blocks; `--shard` and `--bin` deal out its lines.
    args.pipe |= args.group_by.is_some() || args.shard.is_some() || args.bin.is_some();
    // `--pipe-part` is `--pipe` whose data is a file's parts.
    args.pipe |= args.pipe_part;
    // `--tty` is `-o`, one job at a time, output as it comes, unless told otherwise.
    if args.tty {
        args.open_tty = true;
        args.jobs.get_or_insert_with(|| "1".into());
        args.ungroup |= !(args.group || args.line_buffer);
    }
    // `-S :` is this machine, where jobs run anyway; `N/:` sets the jobs, unless -j does.
    let mut logins = args.sshlogin.clone();
    for file in &args.sshloginfile {
        logins.extend(read_login_file(file).map_err(CliError::usage)?);
    }
    if let Some(jobs) = local_jobs(&logins).map_err(CliError::usage)? {
        args.jobs.get_or_insert_with(|| jobs.to_string());
    }
    warn_remote_only(&args);
    // `--onall`/`--nonall`: every job on every host, one at a time on each. The one host
    // is this machine: the jobs run one after another, tagged with the host, and the
    // halt policy and exit status count hosts, not jobs.
    let on_all = args.onall || args.nonall;
    if on_all {
        args.jobs = Some("1".into());
        args.halt = None;
        if args.tag && args.tagstring.is_none() {
            args.tagstring = Some(":".into());
        }
    }
    // `--shell-quote` is a dry run whose command lines are quoted for a shell.
    args.dry_run |= args.shell_quote > 0;
    // `--ctag` and `--ctagstring` are `--tag` and `--tagstring`, coloured.
    if args.ctag || args.ctagstring.is_some() {
        args.color = ColorChoice::Always;
    }
    args.tag |= args.ctag;
    if args.tagstring.is_none() {
        args.tagstring = args.ctagstring.take();
    }
    // `--joblog +FILE`: append to FILE.
    let mut joblog_append = false;
    if let Some(path) = &args.joblog
        && let Some(rest) = path.to_str().and_then(|p| p.strip_prefix('+'))
    {
        args.joblog = Some(rest.into());
        joblog_append = true;
    }
    let reads_joblog = args.resume || args.resume_failed || args.retry_failed;
    // Without a job log, `--resume` and `--resume-failed` go by a `--results` directory:
    // a job with output there is done (`--resume-failed` cannot tell failures from it, and
    // runs every job, as GNU parallel does).
    let results_dir = args
        .results
        .clone()
        .filter(|path| TableFormat::of(path).is_none());
    if args.retry_failed && args.joblog.is_none() {
        return Err(CliError::usage_with_help(
            "--retry-failed reads the job log, and no --joblog was given",
            "add `--joblog FILE` naming the log of the earlier run",
        ));
    }
    if reads_joblog && args.joblog.is_none() && results_dir.is_none() {
        let help = match &args.results {
            Some(_) => {
                "add `--joblog FILE` naming the log of the earlier run: a results \
                        table cannot tell which jobs ran"
            }
            None => {
                "add `--joblog FILE` naming the log of the earlier run, or \
                     `--results DIR` naming its results"
            }
        };
        return Err(CliError::usage_with_help(
            "--resume and --resume-failed read the job log or the results directory, and \
             neither was given",
            help,
        ));
    }
    let logged = match &args.joblog {
        Some(path) if reads_joblog => Some(
            read_joblog(path)
                .with_context(|| format!("failed to read the job log {}", path.display()))?,
        ),
        _ => None,
    };
    let cpus = match (
        args.use_cores_instead_of_threads,
        args.use_sockets_instead_of_threads,
    ) {
        (true, _) => CpuCounts::of_this_machine().cores,
        (_, true) => CpuCounts::of_this_machine().sockets,
        _ => runner::available_cpus(),
    };
    // `-j FILE`: the number of jobs is what the file says, read again as jobs end.
    let jobs_file = match args.jobs.as_deref().map(std::path::Path::new) {
        Some(path) if path.is_file() => {
            let (file, says) = JobsFile::open(path, cpus).map_err(CliError::usage)?;
            args.jobs = Some(says);
            Some(std::sync::Arc::new(file))
        }
        _ => None,
    };
    let limits = Limits::parse(&args, cpus)?;
    // GNU parallel's `--semaphore`: one job, run once a slot of the semaphore is free.
    // (Bad option values are errors here, not in a process of its own in the background.)
    let semaphore = sem::wanted(&args);
    let _slot = match semaphore.then(|| sem::take(&mut args, cpus)).transpose()? {
        Some(Turn::Exit(code)) => return Ok(code),
        Some(Turn::Run(held)) => held,
        None => None,
    };
    let halt = limits.halt;
    // With --csv, --colsep is the CSV field separator, not a pattern.
    let colsep = (!args.csv)
        .then_some(args.colsep.as_deref())
        .flatten()
        .map(Regex::new)
        .transpose()
        .map_err(|e| CliError::usage(format!("`--colsep` is not a regular expression: {e}")))?;

    let line = split_command_line(&args.words, &args.arg_file, &separators(&args)?)
        .map_err(input_error)?;
    let run_id = new_run_id();
    let log_dir = args
        .tmpdir
        .clone()
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("fanout-map-{run_id}-{}", std::process::id()));
    // The job logs, and `--pipe`'s blocks, are only a place for data to wait in.
    let _scratch = Scratch(log_dir.clone());
    // `--nonall` with no input source: the command once, with nothing appended.
    let nothing_to_read = args.nonall
        && matches!(line.sources.as_slice(), [source] if source.kind == SourceKind::Stdin);
    let (source, names) = if semaphore || nothing_to_read {
        // One job, with nothing appended to its command (GNU parallel's empty input).
        (JobSource::Read(vec![Job::default()]), Vec::new())
    } else if let Some(logged) = logged.as_ref().filter(|_| args.retry_failed) {
        (retry_jobs(logged), Vec::new())
    } else if args.pipe {
        let source = block_jobs(&args, &line, &log_dir.join("blocks"))?;
        (source, Vec::new())
    } else {
        input_jobs(&args, &line, read_options(&args, colsep)?)?
    };
    let Templates {
        command: mut template,
        quote,
        mut tagstring,
        results_name,
        filter,
        mut files,
    } = templates(&args, &line.command, &names)?;
    // `--latest-line` shows each line as it is written.
    let line_buffer = args.line_buffer || args.ungroup || args.latest_line;
    // `-j 0` (as many at once as there are jobs), a percentage of the jobs in `--halt`,
    // and `{##}` need to know how many jobs there are: every input is read first.
    let jobs_of_all = args
        .jobs
        .as_deref()
        .is_some_and(|value| parse_jobs(value, cpus, usize::MAX) == Ok(usize::MAX));
    let share_of_all = halt.is_some_and(|h| matches!(h.threshold, HaltThreshold::Percent(_)));
    // `--total-jobs N` says how many there are.
    let count_of_all = args.total_jobs.is_none()
        && (template.uses_total()
            || tagstring.as_ref().is_some_and(Template::uses_total)
            || files
                .iter_mut()
                .flat_map(FileTemplate::texts_mut)
                .any(|t| t.uses_total()));
    if jobs_of_all {
        for (given, name) in [
            (args.round_robin, "--round-robin deals blocks"),
            (args.shard.is_some(), "--shard deals lines"),
            (args.bin.is_some(), "--bin deals lines"),
        ] {
            if given {
                return Err(CliError::usage(format!(
                    "{name} out to a number of job slots: give -j N, not -j 0"
                )));
            }
        }
    }
    let source = if jobs_of_all || share_of_all || count_of_all {
        JobSource::Read(source.read_all()?)
    } else {
        source
    };
    let jobs = match (&args.jobs, &source) {
        (Some(value), JobSource::Read(all)) => {
            parse_jobs(value, cpus, all.len()).map_err(CliError::usage)?
        }
        (Some(value), _) => parse_jobs(value, cpus, 0).map_err(CliError::usage)?,
        (None, _) => cpus,
    };
    let mut source = fit_lines(source, &args, &template, quote, jobs)?;
    source.set_slots(jobs);
    template.set_slot_width(jobs);
    for text in tagstring
        .iter_mut()
        .chain(files.iter_mut().flat_map(FileTemplate::texts_mut))
    {
        text.set_slot_width(jobs);
    }
    let padded_slot_var = template.padded_slot_variable();
    let total = match &source {
        _ if args.total_jobs.is_some() => args.total_jobs,
        JobSource::Read(all) => Some(all.len()),
        _ => None,
    };
    if let Some(total) = total {
        template.set_total(total);
        for text in tagstring
            .iter_mut()
            .chain(files.iter_mut().flat_map(FileTemplate::texts_mut))
        {
            text.set_total(total);
        }
    }
    let mut base_dir = std::env::current_dir().context("failed to read the current directory")?;
    if let Some(dir) = &args.wd {
        base_dir = base_dir.join(dir);
        std::fs::create_dir_all(&base_dir).with_context(|| {
            format!(
                "failed to make the working directory {}",
                base_dir.display()
            )
        })?;
    }
    let spec = MapSpec {
        template,
        quote,
        jobs,
        timeout: limits.timeout,
        // A --round-robin, --shard or --bin job reads a stream, which a second try could
        // not read again.
        tries: if args.round_robin || args.shard.is_some() || args.bin.is_some() {
            1
        } else {
            args.retries.unwrap_or(1)
        },
        base_dir,
        max_load: limits.max_load,
        min_free_memory: limits.min_free_memory,
        mem_suspend: limits.mem_suspend,
        no_swap: args.noswap,
    };
    // `-p`: the question takes the place of `-t`'s line, as in GNU parallel.
    let ask = match args.interactive {
        true => Some(Asker::open().map_err(|err| {
            CliError::usage_with_help(
                format!("-p/--interactive asks on the terminal, and there is none ({err})"),
                "run fanout map from a terminal, or without -p",
            )
        })?),
        false => None,
    };
    args.trace &= ask.is_none();
    let plan = map_plan(&spec, Vec::new());
    let resume_results =
        results_dir
            .filter(|_| args.resume)
            .map(|dir| match results_name.is_some() {
                true => (std::path::PathBuf::new(), true),
                false => (dir, false),
            });
    let maker = JobMaker {
        spec,
        tagstring,
        results_name,
        done: logged.map(|logged| done_jobs(&logged, args.retry_failed)),
        resume_failed: args.resume_failed || args.retry_failed,
        resume_results,
        filter,
        tty: args.open_tty.then(terminal).flatten(),
        files,
        cleanup: args.cleanup,
        ask,
    };

    if args.dry_run {
        // Skipped jobs count as failed, as in GNU parallel's dry run.
        let tag = args.tag || args.tagstring.is_some();
        let skipped = dry_run(source, &maker, jobs, args.shell_quote, tag)?;
        return Ok(match on_all {
            true => skipped.min(1),
            false => skipped.min(101),
        } as i32);
    }

    let joblog = args
        .joblog
        .as_deref()
        .map(|path| {
            JoblogWriter::open(path, reads_joblog || joblog_append)
                .with_context(|| format!("failed to write the job log {}", path.display()))
        })
        .transpose()?;

    let dag = build_dag(&plan)?;
    let run_options = RunOptions {
        run_id,
        log_dir: log_dir.clone(),
        selected: Vec::new(),
        weights: Vec::new(),
        conflicts: Vec::new(),
        scheduler: SchedulerConfig {
            jobs: plan.settings.jobs,
            keep_going: true,
            retry_failed_serially: false,
            systemic_failure_stop: false,
            seed: seed(),
            halt,
        },
        termination: limits.termination,
        cache: None,
        known_keys: Vec::new(),
        agents: None,
        separate_stderr: true,
        stream_lines: line_buffer,
        start_delay: limits.delay,
        start_limit: limits.start_limit.clone(),
        timeout_percent: limits.timeout_percent,
        nice: args.nice,
        slot_var: args.process_slot_var.clone(),
        padded_slot_var,
        jobs_source: jobs_file.map(|file| file as std::sync::Arc<dyn runner::JobsSource>),
        shell: Some(job_shell()),
        workspace: None,
    };
    let table = results_table(&args, &names, reads_joblog)?;
    // `-p`: a job is asked about as it is made, so that few are made ahead of the run.
    let read_ahead = match (args.interactive, args.pipe) {
        (true, _) => 1,
        (false, true) => jobs,
        (false, false) => READ_AHEAD,
    };
    let named_results = maker.results_name.is_some();
    let (feed, infos, feeder) = feed_jobs(source, maker, read_ahead)?;
    let mut sinks = MapSinks::new(&args, &plan, infos, halt, joblog, table, named_results);
    let runtime = runner::runtime_for(run_options.scheduler.jobs, cpus)
        .context("failed to start the async runtime")?;
    let result = runtime
        .block_on(runner::run_fed(
            &plan,
            &dag,
            &run_options,
            Some(feed),
            &mut sinks,
        ))
        .with_context(|| {
            format!(
                "failed to prepare the output directory {}",
                log_dir.display()
            )
        })?;
    // A reader still waiting for input that the run no longer takes (it was interrupted
    // or halted) is left behind; one that ended says how.
    if let Some(feeder) = feeder
        && (feeder.is_finished() || !(result.interrupted || sinks.status.halted()))
    {
        feeder
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the input reader failed")))?;
    }
    sinks.finish(&dag)?;
    Ok(if result.interrupted {
        super::exit::INTERRUPTED
    } else if semaphore {
        // A semaphore's one job: its own status, as a shell reports it.
        sinks.status.last_status()
    } else if on_all {
        // One host, which failed if any of its jobs did.
        sinks.status.exit_code().min(1)
    } else {
        sinks.status.exit_code()
    })
}

/// The limits `fanout map`'s options set: `--halt`, `--timeout`, `--delay`, `--load`,
/// `--memfree`, `--memsuspend`, `--termseq`.
struct Limits {
    halt: Option<HaltPolicy>,
    timeout: Option<Duration>,
    timeout_percent: Option<f64>,
    delay: Option<Duration>,
    max_load: Option<f64>,
    min_free_memory: Option<u64>,
    mem_suspend: Option<u64>,
    /// `--limit COMMAND`: asked before each start.
    start_limit: Option<String>,
    termination: Termination,
}

impl Limits {
    fn parse(args: &MapArgs, cpus: usize) -> Result<Limits, CliError> {
        let halt = parse_halt(args.halt.as_deref().unwrap_or("never")).map_err(CliError::usage)?;
        let (timeout, timeout_percent) = match args.timeout.as_deref().map(parse_timeout) {
            None => (None, None),
            Some(Ok(MapTimeout::Fixed(after))) => (Some(after), None),
            Some(Ok(MapTimeout::Percent(percent))) => (None, Some(percent)),
            Some(Err(message)) => return Err(CliError::usage(message)),
        };
        // GNU parallel's --sshdelay spaces the starts on each remote host; with none, it
        // stands for --delay.
        let delay = match (&args.delay, &args.sshdelay) {
            (Some(value), _) => Some(parse_delay(value)),
            (None, Some(value)) => Some(parse_seconds("--sshdelay", value)),
            (None, None) => None,
        }
        .transpose()
        .map_err(CliError::usage)?;
        // `--limit 'load N'` and `--limit 'mem SIZE'` are GNU parallel's own limits,
        // `--load N` and `--memfree SIZE`; any other is a command asked before each start.
        let (mut load, mut memfree, mut start_limit) =
            (args.load.as_deref(), args.memfree.as_deref(), None);
        if let Some(command) = args.limit.as_deref() {
            match command
                .split_once(char::is_whitespace)
                .map(|(k, v)| (k, v.trim()))
            {
                Some(("load", value)) => load = load.or(Some(value)),
                Some(("mem", value)) => memfree = memfree.or(Some(value)),
                Some(("io", _)) => {
                    return Err(CliError::usage_with_help(
                        format!("`--limit {command}`: the I/O limit is not built"),
                        "give a command of your own that exits 0 when a job may start",
                    ));
                }
                _ => start_limit = Some(command.to_owned()),
            }
        }
        let max_load = load
            .map(|value| parse_load(value, cpus).map_err(CliError::usage))
            .transpose()?;
        let min_free_memory = memfree
            .map(|value| parse_limit_size("--memfree", value).map_err(CliError::usage))
            .transpose()?
            .flatten();
        let mem_suspend = args
            .memsuspend
            .as_deref()
            .map(|value| parse_limit_size("--memsuspend", value).map_err(CliError::usage))
            .transpose()?
            .flatten();
        let termination = Termination::parse(args.termseq.as_deref().unwrap_or(GNU_TERMSEQ))
            .map_err(CliError::usage)?;
        Ok(Limits {
            halt,
            timeout,
            timeout_percent,
            delay,
            max_load,
            min_free_memory,
            mem_suspend,
            start_limit,
            termination,
        })
    }
}

/// The strings of one's own that stand for replacement strings (`-I STR`, `--er STR` …),
/// each with what is between the braces of the one it replaces.
fn renames(args: &MapArgs) -> Vec<(String, &'static str)> {
    [
        (&args.replace, ""),
        (&args.replace_deprecated, ""),
        (&args.extension_replace, "."),
        (&args.basename_replace, "/"),
        (&args.dirname_replace, "//"),
        (&args.basename_extension_replace, "/."),
        (&args.seq_replace, "#"),
        (&args.slot_replace, "%"),
    ]
    .into_iter()
    .filter_map(|(text, stands_for)| Some((text.clone()?, stands_for)))
    .collect()
}

/// `-o`: the terminal jobs read, if there is one; without, a warning, and jobs read
/// /dev/null as usual.
fn terminal() -> Option<std::path::PathBuf> {
    let tty = std::path::PathBuf::from("/dev/tty");
    match std::fs::File::open(&tty) {
        Ok(_) => Some(tty),
        Err(err) => {
            eprintln!("fanout map: no terminal for -o/--tty ({err}): jobs read /dev/null");
            None
        }
    }
}

/// What the command line's replacement strings are filled into, their `{= perl =}`
/// strings compiled.
struct Templates {
    command: Template,
    /// Whether the command's inputs are quoted for a shell.
    quote: bool,
    tagstring: Option<Template>,
    /// `--results NAME` where NAME holds replacement strings: each job's own name.
    results_name: Option<Template>,
    /// `--filter`'s tests.
    filter: Option<Filter>,
    /// `--template`'s files.
    files: Vec<FileTemplate>,
}

fn templates(
    args: &MapArgs,
    command: &[String],
    names: &[(String, usize)],
) -> Result<Templates, CliError> {
    let user = args
        .rpl
        .iter()
        .map(|text| UserReplacement::parse(text))
        .collect::<Result<Vec<_>, _>>()
        .map_err(CliError::usage)?;
    let parens = match &args.parens {
        Some(text) => Parens::parse(text).map_err(CliError::usage)?,
        None => Parens::default(),
    };
    let command: Vec<String> = command
        .iter()
        .map(|word| expand_user_replacements(word, &user, &parens))
        .collect();
    // GNU parallel's -N and -L (not -n, nor --max-lines) replace in context, as -X does.
    let context = args.context_replace
        || args.max_replace_args.is_some()
        || (args.lines.is_some() && !args.multiple && !args.xargs);
    let (mut template, quote) = if command.is_empty() || args.retry_failed {
        (Template::inputs_as_commands(), false)
    } else {
        let options = TemplateOptions {
            renames: renames(args),
            quote: args.quote,
            names: names.to_vec(),
            no_append: args.pipe && !args.cat,
            context,
            plus: args.plus,
            parens: parens.clone(),
        };
        (Template::from_words(&command, &options), true)
    };
    let text = |text: &str| {
        let options = TemplateOptions {
            renames: renames(args),
            names: names.to_vec(),
            plus: args.plus,
            parens: parens.clone(),
            ..TemplateOptions::default()
        };
        Template::text(&expand_user_replacements(text, &user, &parens), &options)
    };
    // A tag and a results name replace in context too, as in GNU parallel.
    let in_context = |text: &str| {
        let options = TemplateOptions {
            renames: renames(args),
            names: names.to_vec(),
            context,
            plus: args.plus,
            parens: parens.clone(),
            ..TemplateOptions::default()
        };
        Template::text(&expand_user_replacements(text, &user, &parens), &options)
    };
    let mut tagstring = args.tagstring.as_deref().map(in_context);
    let mut results_name = args
        .results
        .as_deref()
        .filter(|path| TableFormat::of(path).is_none())
        .map(|path| in_context(&crate::bytes::from_path(path)))
        .filter(|name| !name.is_plain());
    if let Some(name) = &mut results_name {
        name.start_perl().map_err(CliError::usage)?;
    }
    let mut tests: Vec<Template> = args.filter.iter().map(|test| text(test)).collect();
    for test in &mut tests {
        test.start_perl().map_err(CliError::usage)?;
    }
    let filter = match tests.is_empty() {
        true => None,
        false => Some(Filter::new(tests).map_err(CliError::usage)?),
    };
    template.start_perl().map_err(CliError::usage)?;
    if let Some(tag) = &mut tagstring {
        tag.start_perl().map_err(CliError::usage)?;
    }
    let files = args
        .template
        .iter()
        .map(|value| {
            FileTemplate::parse(value, |t| {
                let mut template = text(t);
                template.start_perl()?;
                Ok(template)
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(CliError::usage)?;
    Ok(Templates {
        command: template,
        quote,
        files,
        tagstring,
        results_name,
        filter,
    })
}

/// Options for remote hosts that do nothing here: the first of them given is ignored
/// with GNU parallel's warning.
fn warn_remote_only(args: &MapArgs) {
    let ignored = [
        (!args.trc.is_empty(), "--trc"),
        (args.transfer, "--transfer"),
        (!args.transfer_file.is_empty(), "--transferfile"),
        (!args.return_file.is_empty(), "--return"),
        (args.cleanup && args.template.is_empty(), "--cleanup"),
        (!args.basefile.is_empty(), "--basefile"),
    ];
    if let Some((_, name)) = ignored.iter().find(|(given, _)| *given) {
        eprintln!("fanout map: {name} ignored as there are no remote --sshlogin");
    }
}

/// `--dry-run`: each job's command line on stdout, nothing run.
/// Prints the command lines the jobs would run, one a line (each quoted for a shell
/// `quotes` times, as `--shell-quote` prints them; after its tag with `tag`), those of
/// jobs that would be skipped too, as GNU parallel does; how many those are.
fn dry_run(
    source: JobSource,
    maker: &JobMaker,
    jobs: usize,
    quotes: u8,
    tag: bool,
) -> anyhow::Result<usize> {
    let mut out = std::io::stdout().lock();
    let (mut seq, mut k, mut skipped) = (0, 0, 0);
    source.produce(&mut |job| {
        seq += 1;
        let files: Vec<_> = maker
            .files
            .iter()
            .map(|file| file.fill(&job.inputs, seq))
            .collect();
        let (_, info) = maker.make(seq, job);
        if info.skipped {
            skipped += 1;
        } else if !info.selected {
            return true;
        }
        // The slots the jobs would take were each to end before the next job after
        // them, as GNU parallel's dry run shows them.
        let slot = k % jobs + 1;
        // As GNU parallel's dry run, `--template` files are written (for the jobs that
        // would run, as in a run).
        for file in files.into_iter().filter(|_| !info.skipped) {
            let name = FilePart::render(&file.name, slot);
            let contents = FilePart::render(&file.contents, slot);
            if let Err(err) =
                std::fs::write(crate::bytes::to_os(&name), crate::bytes::encode(&contents))
            {
                crate::bytes::eprint(&format!("fanout map: could not write {name}: {err}\n"));
            }
        }
        let mut command = with_slot(&info.command, slot);
        for _ in 0..quotes {
            command = shell_quote(&command).into();
        }
        // With --tag, the tag before the line, as GNU parallel prints it.
        if tag {
            command = format!("{}\t{command}", with_slot(&info.tag, slot)).into();
        }
        k += 1;
        // A closed pipe (`fanout map --dry-run … | head`) is not an error.
        out.write_all(&crate::bytes::encode(&command)).is_ok() && out.write_all(b"\n").is_ok()
    })?;
    Ok(skipped)
}

impl MapSinks {
    /// After the run: the first error writing the results table, job log or results, else
    /// the summary, if one is to be printed.
    fn finish(&mut self, dag: &crate::graph::Dag) -> Result<(), CliError> {
        let failed = |err: std::io::Error, what: &str| {
            CliError::Internal(anyhow::Error::new(err).context(format!("failed to write {what}")))
        };
        if let Some(err) = self.table.take().and_then(JoblogRecorder::into_error) {
            return Err(failed(err, "the results table"));
        }
        if let Some(err) = self.joblog.take().and_then(JoblogRecorder::into_error) {
            return Err(failed(err, "the job log"));
        }
        if let Some(err) = self.results.take().and_then(ResultsWriter::into_error) {
            return Err(failed(err, "the results (--results)"));
        }
        if let Some(collector) = self.collector.take() {
            let mut summary = collector.finish(dag);
            // The logs are gone; do not point at them.
            for task in &mut summary.tasks {
                task.log = None;
            }
            eprint!("{}", render_summary(&summary));
        }
        Ok(())
    }
}

/// The words that separate input groups (`--arg-sep`, `--arg-file-sep`).
fn separators(args: &MapArgs) -> Result<Separators, CliError> {
    let separators = Separators {
        values: args.arg_sep.clone().unwrap_or_else(|| ":::".into()),
        files: args.arg_file_sep.clone().unwrap_or_else(|| "::::".into()),
    };
    if separators.values.is_empty()
        || separators.files.is_empty()
        || separators.values == separators.files
    {
        return Err(CliError::usage(
            "--arg-sep and --arg-file-sep need a word each, and different words",
        ));
    }
    Ok(separators)
}

/// `-m`, `-X`, `--xargs`: the inputs packed into command lines shorter than the limit
/// (`-s`, else [`MAX_LINE`]); with `-s` alone, every line checked against it, so that
/// none runs if one is too long.
fn fit_lines(
    source: JobSource,
    args: &MapArgs,
    template: &Template,
    quote: bool,
    jobs: usize,
) -> Result<JobSource, CliError> {
    let limit = args
        .max_chars
        .map_or(MAX_LINE, |n| usize::try_from(n).unwrap_or(usize::MAX));
    Ok(match source {
        JobSource::Read(all) if args.multiple || args.context_replace || args.xargs => {
            let inputs = all.into_iter().map(|job| job.inputs).collect();
            // -m and -X spread the inputs over the slots; --xargs fills each line. -L and
            // -n cap the inputs of a line.
            let most = match (max_lines(args)?, args.max_args) {
                (Some(lines), Some(n)) => Some(lines.min(n)),
                (lines, n) => lines.or(n),
            };
            let packed = pack_inputs(inputs, template, quote, jobs, !args.xargs, most, limit)
                .map_err(|err| CliError::usage(err.to_string()))?;
            let packed = packed.into_iter().map(|inputs| Job {
                inputs,
                ..Job::default()
            });
            JobSource::Read(packed.collect())
        }
        JobSource::Read(all) if args.max_chars.is_some() => {
            for (k, job) in all.iter().enumerate() {
                let len = crate::bytes::encoded_len(&template.fill(&job.inputs, k + 1, quote));
                if len >= limit {
                    let input = job.inputs.join(" ");
                    let err = TooLong {
                        len,
                        limit,
                        number: k + 1,
                        input,
                    };
                    return Err(CliError::usage(err.to_string()));
                }
            }
            JobSource::Read(all)
        }
        source => source,
    })
}

/// Which jobs the job log says are done with, by number, and whether each succeeded; for
/// `--retry-failed`, every number up to the last, all but the failed ones done.
fn done_jobs(
    logged: &std::collections::HashMap<usize, LoggedJob>,
    retry_failed: bool,
) -> std::collections::HashMap<usize, bool> {
    let last = logged.keys().copied().max().unwrap_or(0);
    let ok = |seq| logged.get(&seq).is_none_or(|job: &LoggedJob| job.ok);
    if retry_failed {
        (1..=last).map(|seq| (seq, ok(seq))).collect()
    } else {
        logged.iter().map(|(&seq, job)| (seq, job.ok)).collect()
    }
}

/// `--results FILE.csv` (or .tsv, .json): a table rather than directories, its input
/// columns named by `--header :`. `resumed`: the run resumes one from its job log; the
/// table keeps that one's rows.
fn results_table(
    args: &MapArgs,
    names: &[(String, usize)],
    resumed: bool,
) -> Result<Option<JoblogRecorder<ResultsTable>>, CliError> {
    let Some(path) = args.results.as_deref() else {
        return Ok(None);
    };
    let Some(format) = TableFormat::of(path) else {
        return Ok(None);
    };
    let names = if args.header.is_some() {
        column_names(names)
    } else {
        Vec::new()
    };
    let table = ResultsTable::create(path, format, names, resumed)
        .with_context(|| format!("failed to write the results table {}", path.display()))?;
    Ok(Some(JoblogRecorder::new(table)))
}

/// `--retry-failed`: a job for each number up to the last the job log lists, its input the
/// logged command (run as it is); which of them run again, `JobMaker` decides.
fn retry_jobs(logged: &std::collections::HashMap<usize, LoggedJob>) -> JobSource {
    let last = logged.keys().copied().max().unwrap_or(0);
    let jobs = (1..=last).map(|seq| Job {
        inputs: logged
            .get(&seq)
            .map(|job| vec![job.command.clone()])
            .unwrap_or_default(),
        ..Job::default()
    });
    JobSource::Read(jobs.collect())
}

/// Says on stderr when jobs begin to wait for the machine (`--load`, `--memfree`), or
/// running jobs begin to be stopped for memory (`--memsuspend`), and why: once each time
/// they begin to, not at each look at the machine.
#[derive(Default)]
struct HeldBackNotice {
    waiting: bool,
    suspending: bool,
}

impl EventSink for HeldBackNotice {
    fn emit(&mut self, event: &Event) {
        if let Event::HeldBack { reason } = event {
            if let Some(reason) = reason
                && !self.waiting
            {
                eprintln!("fanout map: jobs wait to start: {reason}");
            }
            self.waiting = reason.is_some();
        }
        if let Event::Suspended { tasks, reason } = event {
            if let Some(reason) = reason
                && !self.suspending
            {
                eprintln!("fanout map: {tasks} running job(s) stopped: {reason}");
            }
            self.suspending = reason.is_some();
        }
    }
}

/// `-t`: a command line on stderr, with the bytes its inputs stand for.
fn print_trace(command: &str) {
    let mut line = crate::bytes::encode(command).into_owned();
    line.push(b'\n');
    let _ = std::io::stderr().write_all(&line);
}

/// Removes its directory, and everything in it, when dropped.
struct Scratch(std::path::PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// How many jobs read ahead wait for the run to take them: enough that the run never
/// waits for the reader, few enough that a long input is never all in memory. `--pipe`'s
/// blocks, each a file of up to `--block` bytes, wait only one per job slot.
const READ_AHEAD: usize = 1024;

/// The jobs, as tasks on a feed for the run, and what the reporters need to know of each
/// on a channel beside it (sent before its task). Jobs read already are all on the feed
/// before the run begins, so it takes them all at once (unless each is asked about first,
/// `-p`); others are read on a thread of their own as the run goes, which stops when the
/// run no longer takes them.
type Feeder = Option<std::thread::JoinHandle<anyhow::Result<()>>>;

fn feed_jobs(
    source: JobSource,
    maker: JobMaker,
    read_ahead: usize,
) -> Result<(TaskFeed, mpsc::Receiver<JobInfo>, Feeder), CliError> {
    let (info_tx, info_rx) = mpsc::channel();
    match source {
        // Jobs that are asked about (`-p`) are made as the run goes, even when read
        // already: the first starts once it is answered, not once every one is.
        JobSource::Read(all) if maker.ask.is_none() => {
            let (task_tx, task_rx) = tokio::sync::mpsc::channel(all.len().max(1));
            for (k, job) in all.into_iter().enumerate() {
                let (task, info) = maker.make(k + 1, job);
                let _ = info_tx.send(info);
                task_tx.try_send(task).map_err(|_| {
                    anyhow::anyhow!("the run's feed holds fewer jobs than were read")
                })?;
            }
            Ok((task_rx, info_rx, None))
        }
        source => feed_as_made(source, maker, read_ahead, info_tx, info_rx),
    }
}

/// The jobs of `source`, made on a thread of their own as the run takes them.
fn feed_as_made(
    source: JobSource,
    maker: JobMaker,
    read_ahead: usize,
    info_tx: mpsc::Sender<JobInfo>,
    info_rx: mpsc::Receiver<JobInfo>,
) -> Result<(TaskFeed, mpsc::Receiver<JobInfo>, Feeder), CliError> {
    let (task_tx, task_rx) = tokio::sync::mpsc::channel(read_ahead.max(1));
    let feeder = std::thread::Builder::new()
        .name("fanout-map-inputs".into())
        .spawn(move || {
            let mut seq = 0;
            source.produce(&mut |job| {
                seq += 1;
                let (task, info) = maker.make(seq, job);
                info_tx.send(info).is_ok() && task_tx.blocking_send(task).is_ok()
            })
        })
        .context("failed to start the input reader")?;
    Ok((task_rx, info_rx, Some(feeder)))
}

/// The map's reporters. Each job that joins the run gives them what they need to know of
/// it (from the channel beside the feed) before they see its first event.
struct MapSinks {
    infos: mpsc::Receiver<JobInfo>,
    output: JobOutput,
    status: MapStatus,
    collector: Option<SummaryCollector>,
    held_back: HeldBackNotice,
    joblog: Option<JoblogRecorder>,
    results: Option<ResultsWriter>,
    /// `--results FILE.csv` (.tsv, .json).
    table: Option<JoblogRecorder<ResultsTable>>,
    /// The `--pipe` block of each job that has not ended yet, and the `--template` files
    /// its attempts wrote, to remove (`--cleanup`).
    blocks: std::collections::HashMap<usize, Vec<std::path::PathBuf>>,
    /// The names of each job's `--template` files, to remove (`--cleanup`), the slot to
    /// be written in as each attempt starts.
    cleanup: std::collections::HashMap<usize, Vec<Vec<FilePart>>>,
    /// `--files`: print the names of files holding the jobs' output.
    files: bool,
    /// `-t`: the command line of each job not ended yet, printed on stderr as the job
    /// starts.
    traced: Option<std::collections::HashMap<usize, String>>,
    /// Skipped jobs not logged yet (see [`MapSinks::log_skipped`]).
    skipped: std::collections::BTreeSet<usize>,
    /// `--latest-line`: each job's latest line, in its place of the output.
    latest: Option<LatestLines>,
    /// Whether jobs' lines are tagged.
    tagged: bool,
}

impl MapSinks {
    /// The reporters `args` ask for; each job's details come on `infos`.
    fn new(
        args: &MapArgs,
        plan: &crate::plan::Plan,
        infos: mpsc::Receiver<JobInfo>,
        halt: Option<HaltPolicy>,
        joblog: Option<JoblogWriter>,
        table: Option<JoblogRecorder<ResultsTable>>,
        // `--results` names each job's files itself.
        named_results: bool,
    ) -> MapSinks {
        // The job log and the results table count a job's output alike.
        let received = Received::with(args.ungroup, args.line_buffer);
        MapSinks {
            infos,
            output: JobOutput::new(
                JobOutputOptions {
                    // Ungrouped output goes out as it comes, in GNU parallel with -k too.
                    keep_order: args.keep_order && !args.ungroup,
                    // Ungrouped output goes out raw: untagged and, in GNU parallel,
                    // uncoloured too.
                    tag: (args.tag || args.tagstring.is_some()) && !args.ungroup,
                    color: args.color == ColorChoice::Always && !args.ungroup,
                    color_failed: args.color_failed && !args.ungroup,
                    // --latest-line's rows take the terminal.
                    bar: args.bar && !(args.latest_line && std::io::stdout().is_terminal()),
                    line_buffer: (args.line_buffer || args.ungroup) && !args.latest_line,
                    commands: args.verbose.then(Vec::new),
                    silent: (args.results.is_some() && !args.files) || args.latest_line,
                    files: args
                        .files
                        .then(|| args.tmpdir.clone().unwrap_or_else(std::env::temp_dir)),
                },
                Vec::new(),
                Vec::new(),
            ),
            status: MapStatus::new(halt, 0),
            // A record per job, kept only for a summary that will be printed.
            collector: (args.summary || std::io::stderr().is_terminal())
                .then(|| SummaryCollector::new(plan, &[])),
            held_back: HeldBackNotice::default(),
            joblog: joblog.map(|writer| JoblogRecorder::new(writer).counting(received)),
            results: args
                .results
                .clone()
                .filter(|path| TableFormat::of(path).is_none())
                .map(|dir| match named_results {
                    true => ResultsWriter::named(),
                    false => ResultsWriter::new(dir),
                }),
            table: table.map(|table| table.counting(received)),
            blocks: std::collections::HashMap::new(),
            cleanup: std::collections::HashMap::new(),
            files: args.files,
            traced: args.trace.then(std::collections::HashMap::new),
            skipped: std::collections::BTreeSet::new(),
            latest: args
                .latest_line
                .then(|| LatestLines::new(std::io::stdout().is_terminal(), args.keep_order)),
            tagged: args.tag || args.tagstring.is_some(),
        }
    }

    /// Logs the skipped jobs before `before` (all of them with `None`) in the job log and
    /// the results table.
    fn log_skipped(&mut self, before: Option<usize>) {
        // Most starts have none before them: nothing to do for each.
        let none = self
            .skipped
            .first()
            .is_none_or(|first| before.is_some_and(|before| *first >= before));
        if none {
            return;
        }
        let later = match before {
            Some(index) => self.skipped.split_off(&index),
            None => std::collections::BTreeSet::new(),
        };
        for index in std::mem::replace(&mut self.skipped, later) {
            if let Some(recorder) = self.joblog.as_mut() {
                recorder.skipped(index);
            }
            if let Some(table) = self.table.as_mut() {
                table.skipped(index);
            }
        }
        self.trail_joblog();
    }

    fn sinks(&mut self) -> Fanout<'_> {
        let mut sinks = Fanout::new();
        // Before the output, which removes each job's logs once it is done with them: the
        // results copy them, the job log counts their bytes.
        // The job log is not here: it goes first (see `emit`).
        if let Some(writer) = self.results.as_mut() {
            sinks.push(writer);
        }
        if let Some(table) = self.table.as_mut() {
            sinks.push(table);
        }
        sinks.push(&mut self.output);
        if let Some(latest) = self.latest.as_mut() {
            sinks.push(latest);
        }
        sinks.push(&mut self.status);
        if let Some(collector) = self.collector.as_mut() {
            sinks.push(collector);
        }
        sinks.push(&mut self.held_back);
        sinks
    }
}

impl EventSink for MapSinks {
    fn emit(&mut self, event: &Event) {
        if let Event::TaskAdded { index, .. } = event
            && let Ok(info) = self.infos.recv()
        {
            if let Some(latest) = self.latest.as_mut() {
                let tag = self.tagged.then(|| info.tag.clone());
                latest.add_job(*index, tag, info.selected);
            }
            if info.skipped {
                self.output.add_skipped_job(info.tag, info.command.clone());
                // `-t`: as if it started.
                if self.traced.is_some() {
                    print_trace(&with_slot(&info.command, 1));
                }
            } else {
                self.output
                    .add_job(info.tag, info.command.clone(), info.selected);
            }
            if info.selected {
                self.status.add_job();
            }
            if info.skipped {
                self.status.skipped();
                self.skipped.insert(*index);
            }
            if let Some(table) = &mut self.table {
                table.add_job(info.command.clone(), info.sent.clone());
                table.writer_mut().add_job(info.inputs);
                if !info.selected && !info.skipped {
                    table.forget(*index);
                }
            }
            if let Some(traced) = self.traced.as_mut().filter(|_| info.selected) {
                traced.insert(*index, info.command.clone());
            }
            if let Some(recorder) = &mut self.joblog {
                recorder.add_job(info.command, info.sent);
                if !info.selected && !info.skipped {
                    recorder.forget(*index);
                }
            }
            if let Some(writer) = &mut self.results {
                if self.files {
                    let stdout = writer.stdout_path(&info.results);
                    self.output.set_output_file(*index, stdout);
                }
                writer.add_job(info.results);
                if info.skipped {
                    writer.skipped(*index);
                } else if !info.selected {
                    writer.forget(*index);
                }
            }
            // The block of a job that will not run goes now: a named pipe dealt to (with
            // `--round-robin` and `--shard`) then reads as a job that stopped reading.
            match info.block {
                Some(block) if info.selected => {
                    self.blocks.entry(*index).or_default().push(block);
                }
                Some(block) => {
                    let _ = std::fs::remove_file(block);
                }
                None => {}
            }
            if !info.cleanup.is_empty() {
                self.cleanup.insert(*index, info.cleanup);
            }
        }
        // A job that could not start wrote nothing: where GNU parallel's shell would say
        // why, fanout does.
        if let Event::AttemptFinished {
            index,
            status: AttemptStatus::SpawnFailed { message },
            ..
        } = event
        {
            crate::bytes::eprint(&format!("fanout map: job {}: {message}\n", index + 1));
        }
        if let Event::TaskStarted { index, slot, .. } = event
            && let Some(names) = self.cleanup.get(index)
        {
            let written = names
                .iter()
                .map(|name| crate::bytes::to_os(&FilePart::render(name, *slot)).into());
            self.blocks.entry(*index).or_default().extend(written);
        }
        if let (Some(traced), Event::TaskStarted { index, slot, .. }) = (&self.traced, event)
            && let Some(command) = traced.get(index)
        {
            print_trace(&with_slot(command, *slot));
        }
        // A skipped job's row goes in the job log and the results table where GNU
        // parallel's goes, which "runs" it in its turn: as the next job starts.
        match event {
            Event::TaskStarted { index, .. } => self.log_skipped(Some(*index)),
            Event::RunFinished { .. } => self.log_skipped(None),
            _ => {}
        }
        // The job log first, so that a log on stdout (`--joblog -`) gives each job's line
        // to the output before the output sees the job end, to go out after it.
        if let Some(recorder) = self.joblog.as_mut() {
            recorder.emit(event);
        }
        self.trail_joblog();
        self.sinks().emit(event);
        // A job's `--pipe` block and `--template` files are done with once the job ended
        // for good.
        if let Event::AttemptFinished {
            index,
            retry_in: None,
            ..
        } = event
            && let Some(files) = self.blocks.remove(index)
        {
            self.cleanup.remove(index);
            for file in files {
                let _ = std::fs::remove_file(file);
            }
        }
        if let (
            Some(traced),
            Event::AttemptFinished {
                index,
                retry_in: None,
                ..
            },
        ) = (&mut self.traced, event)
        {
            traced.remove(index);
        }
    }

    fn flush(&mut self) {
        if let Some(recorder) = self.joblog.as_mut() {
            recorder.flush();
        }
        self.trail_joblog();
        self.sinks().flush();
    }
}

impl MapSinks {
    /// `--joblog -`: the lines of jobs that ended go to the output, each to go out after
    /// its job's output.
    fn trail_joblog(&mut self) {
        if let Some(recorder) = self.joblog.as_mut() {
            for (index, line) in recorder.writer_mut().take_stdout_lines() {
                self.output.trail(index, line);
            }
        }
    }
}
