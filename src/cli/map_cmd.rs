//! `fanout map`: from GNU parallel's command line to a plan of one task per job, to the
//! engine's runner, to the job output reporter, the job log and the summary, to GNU
//! parallel's exit status.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use anyhow::Context;
use rand::seq::SliceRandom;
use regex::Regex;

use super::CliError;
use super::args::MapArgs;
use super::run_cmd::{build_dag, new_run_id, seed};
use crate::events::{Event, EventSink, Fanout};
use crate::map::{
    BlockOptions, CommandLine, DEFAULT_BLOCK, InputError, Inputs, JoblogRecorder, JoblogWriter,
    MAP_ERROR, MapSpec, MapStatus, MapTimeout, ReadOptions, ResultsWriter, SourceKind, Template,
    TemplateOptions, Trim, column_names, group_inputs, map_plan, pack_inputs, parse_block_size,
    parse_delay, parse_delimiter, parse_halt, parse_jobs, parse_load, parse_size, parse_timeout,
    read_inputs, read_joblog, record_marks, result_segments, split_blocks, split_command_line,
    with_slot,
};
use crate::report::{JobOutput, JobOutputOptions, SummaryCollector, render_summary};
use crate::runner::{self, RunOptions};
use crate::scheduler::SchedulerConfig;

/// How long a terminated job gets between SIGTERM and SIGKILL (GNU parallel's default
/// `--termseq` adds up to about as much).
const MAP_GRACE: Duration = Duration::from_millis(400);

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
    // `--joblog +FILE`: append to FILE.
    let mut joblog_append = false;
    if let Some(path) = &args.joblog
        && let Some(rest) = path.to_str().and_then(|p| p.strip_prefix('+'))
    {
        args.joblog = Some(rest.into());
        joblog_append = true;
    }
    if (args.resume || args.resume_failed) && args.joblog.is_none() {
        return Err(CliError::usage_with_help(
            "--resume and --resume-failed read the job log, and no --joblog was given",
            "add `--joblog FILE` naming the log of the earlier run",
        ));
    }
    let halt = parse_halt(args.halt.as_deref().unwrap_or("never")).map_err(CliError::usage)?;
    let (timeout, timeout_percent) = match args.timeout.as_deref().map(parse_timeout) {
        None => (None, None),
        Some(Ok(MapTimeout::Fixed(after))) => (Some(after), None),
        Some(Ok(MapTimeout::Percent(percent))) => (None, Some(percent)),
        Some(Err(message)) => return Err(CliError::usage(message)),
    };
    let colsep = args
        .colsep
        .as_deref()
        .map(Regex::new)
        .transpose()
        .map_err(|e| CliError::usage(format!("`--colsep` is not a regular expression: {e}")))?;

    let delay = args
        .delay
        .as_deref()
        .map(|value| parse_delay(value).map_err(CliError::usage))
        .transpose()?;
    let cpus = runner::available_cpus();
    let max_load = args
        .load
        .as_deref()
        .map(|value| parse_load(value, cpus).map_err(CliError::usage))
        .transpose()?;
    let min_free_memory = args
        .memfree
        .as_deref()
        .map(|value| parse_size("--memfree", value).map_err(CliError::usage))
        .transpose()?;

    let line = split_command_line(&args.words, &args.arg_file).map_err(input_error)?;
    let run_id = new_run_id();
    let log_dir = args
        .tmpdir
        .clone()
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("fanout-map-{run_id}-{}", std::process::id()));
    // The job logs, and `--pipe`'s blocks, are only a place for data to wait in.
    let _scratch = Scratch(log_dir.clone());
    let Jobs {
        inputs,
        names,
        results,
        stdin,
        sent,
    } = if args.pipe {
        read_blocks(&args, &line, colsep.is_some(), &log_dir.join("blocks"))?
    } else {
        read_jobs(&args, &line, colsep)?
    };
    let (template, quote) = if line.command.is_empty() {
        (Template::inputs_as_commands(), false)
    } else {
        let options = TemplateOptions {
            replace: args.replace.clone(),
            quote: args.quote,
            names: names.clone(),
            no_append: args.pipe && !args.cat,
            context: args.context_replace,
        };
        (Template::from_words(&line.command, &options), true)
    };
    let tagstring = args.tagstring.as_deref().map(|text| {
        let options = TemplateOptions {
            replace: args.replace.clone(),
            names,
            ..TemplateOptions::default()
        };
        Template::text(text, &options)
    });
    let line_buffer = args.line_buffer || args.ungroup;
    let jobs = match &args.jobs {
        Some(value) => parse_jobs(value, cpus, inputs.len()).map_err(CliError::usage)?,
        None => cpus,
    };
    let inputs = if args.multiple || args.context_replace {
        pack_inputs(inputs, &template, quote, jobs)
    } else {
        inputs
    };
    let base_dir = std::env::current_dir().context("failed to read the current directory")?;
    let spec = MapSpec {
        template,
        quote,
        inputs,
        jobs,
        timeout,
        tries: args.retries.unwrap_or(1),
        grace: MAP_GRACE,
        base_dir,
        max_load,
        min_free_memory,
        stdin,
    };
    let plan = map_plan(&spec);
    let commands: Vec<String> = plan.tasks.iter().map(|t| t.command_line()).collect();

    let selected = match &args.joblog {
        Some(path) if args.resume || args.resume_failed => {
            let done = read_joblog(path)
                .with_context(|| format!("failed to read the job log {}", path.display()))?;
            (1..=plan.tasks.len())
                .map(|seq| match done.get(&seq) {
                    None => true,
                    Some(&ok) => args.resume_failed && !ok,
                })
                .collect()
        }
        _ => vec![true; plan.tasks.len()],
    };

    if args.dry_run {
        let mut out = std::io::stdout().lock();
        let to_run = commands.iter().zip(&selected).filter(|(_, s)| **s);
        for (k, (command, _)) in to_run.enumerate() {
            // The slots the jobs would take were each to end before the next job after
            // them, as GNU parallel's dry run shows them.
            let command = with_slot(command, k % plan.settings.jobs + 1);
            // A closed pipe (`fanout map --dry-run … | head`) is not an error.
            if writeln!(out, "{command}").is_err() {
                break;
            }
        }
        return Ok(0);
    }

    let joblog = args
        .joblog
        .as_deref()
        .map(|path| {
            JoblogWriter::open(path, args.resume || args.resume_failed || joblog_append)
                .with_context(|| format!("failed to write the job log {}", path.display()))
        })
        .transpose()?;

    let dag = build_dag(&plan)?;
    let total = selected.iter().filter(|s| **s).count();
    let run_options = RunOptions {
        run_id,
        log_dir: log_dir.clone(),
        selected: selected.clone(),
        weights: vec![1.0; plan.tasks.len()],
        conflicts: vec![Vec::new(); plan.tasks.len()],
        scheduler: SchedulerConfig {
            jobs: plan.settings.jobs,
            keep_going: true,
            retry_failed_serially: false,
            systemic_failure_stop: false,
            seed: seed(),
            halt,
        },
        grace: plan.settings.grace,
        cache: None,
        known_keys: Vec::new(),
        agents: None,
        separate_stderr: true,
        stream_lines: line_buffer,
        start_delay: delay,
        timeout_percent,
        workspace: None,
    };
    let tags: Vec<String> = match &tagstring {
        Some(tag) => spec
            .inputs
            .iter()
            .enumerate()
            .map(|(i, args)| tag.fill(args, i + 1, false))
            .collect(),
        None => spec.inputs.iter().map(|args| args.join(" ")).collect(),
    };
    let mut output = JobOutput::new(
        JobOutputOptions {
            // Ungrouped output goes out as it comes, in GNU parallel with -k too.
            keep_order: args.keep_order && !args.ungroup,
            tag: args.tag || tagstring.is_some(),
            bar: args.bar,
            line_buffer,
            commands: args.verbose.then(|| commands.clone()),
            silent: args.results.is_some(),
        },
        tags,
        selected.clone(),
    );
    let mut status = MapStatus::new(halt, total);
    let mut collector = SummaryCollector::new(&plan, &selected);
    let mut recorder = joblog.map(|writer| JoblogRecorder::new(writer, commands).with_sent(sent));
    let mut results_writer = args
        .results
        .clone()
        .zip(results)
        .map(|(dir, segments)| ResultsWriter::new(dir, segments));
    let mut held_back = HeldBackNotice::default();
    let result = {
        let mut sinks = Fanout::new();
        sinks.push(&mut output);
        sinks.push(&mut status);
        sinks.push(&mut collector);
        sinks.push(&mut held_back);
        if let Some(recorder) = recorder.as_mut() {
            sinks.push(recorder);
        }
        if let Some(writer) = results_writer.as_mut() {
            sinks.push(writer);
        }
        let runtime = runner::runtime_for(run_options.scheduler.jobs, cpus)
            .context("failed to start the async runtime")?;
        let result = runtime.block_on(runner::run(&plan, &dag, &run_options, &mut sinks));
        result.with_context(|| {
            format!(
                "failed to prepare the output directory {}",
                log_dir.display()
            )
        })?
    };
    if let Some(err) = recorder.and_then(JoblogRecorder::into_error) {
        return Err(CliError::Internal(
            anyhow::Error::new(err).context("failed to write the job log"),
        ));
    }
    if let Some(err) = results_writer.and_then(ResultsWriter::into_error) {
        return Err(CliError::Internal(
            anyhow::Error::new(err).context("failed to write the results (--results)"),
        ));
    }
    if args.summary || std::io::stderr().is_terminal() {
        let mut summary = collector.finish(&dag);
        // The logs are gone; do not point at them.
        for task in &mut summary.tasks {
            task.log = None;
        }
        eprint!("{}", render_summary(&summary));
    }
    Ok(if result.interrupted {
        super::exit::INTERRUPTED
    } else {
        status.exit_code()
    })
}

/// Each job's inputs, as read, grouped (`-n`) and shuffled (`--shuf`); the column names
/// `--header :` gave; with `--results`, each job's directory under it; and with `--pipe`,
/// each job's block: the file it reads on stdin (none with `--cat`) and its size.
struct Jobs {
    inputs: Vec<Vec<String>>,
    names: Vec<(String, usize)>,
    results: Option<Vec<Vec<String>>>,
    stdin: Vec<std::path::PathBuf>,
    sent: Vec<u64>,
}

fn read_jobs(args: &MapArgs, line: &CommandLine, colsep: Option<Regex>) -> Result<Jobs, CliError> {
    let header = match args.header.as_deref() {
        None => false,
        Some(":") => true,
        Some(other) => return Err(unsupported_header(other)),
    };
    let options = ReadOptions {
        separator: match (&args.delimiter, args.null) {
            (Some(delimiter), _) => parse_delimiter(delimiter).map_err(CliError::usage)?,
            (None, true) => "\0".into(),
            (None, false) => "\n".into(),
        },
        eof: args.eof.clone(),
        trim: match &args.trim {
            Some(value) => Trim::parse(value).map_err(CliError::usage)?,
            // GNU parallel trims columns unless told not to.
            None if colsep.is_some() => Trim::Both,
            None => Trim::Neither,
        },
        colsep,
        skip_empty: args.no_run_if_empty,
        header,
    };
    let Inputs {
        jobs: mut inputs,
        names,
    } = read_inputs(&line.sources, &options, &mut std::io::stdin().lock()).map_err(input_error)?;
    // Named by the inputs as read, before they are grouped.
    let mut results: Option<Vec<Vec<String>>> = args.results.as_ref().map(|_| {
        let columns = column_names(&names);
        inputs
            .iter()
            .map(|job| result_segments(job, &columns))
            .collect()
    });
    if let Some(per_job) = args.max_args.or(args.max_replace_args) {
        inputs = group_inputs(inputs, per_job);
        results = results.map(|segments| group_inputs(segments, per_job));
    }
    if args.shuf {
        let mut order: Vec<usize> = (0..inputs.len()).collect();
        order.shuffle(&mut rand::rng());
        fn reorder(order: &[usize], mut jobs: Vec<Vec<String>>) -> Vec<Vec<String>> {
            order
                .iter()
                .map(|&i| std::mem::take(&mut jobs[i]))
                .collect()
        }
        inputs = reorder(&order, inputs);
        results = results.map(|segments| reorder(&order, segments));
    }
    Ok(Jobs {
        inputs,
        names,
        results,
        stdin: Vec::new(),
        sent: Vec::new(),
    })
}

/// Says on stderr when jobs begin to wait for the machine (`--load`, `--memfree`), and
/// why: once each time they begin to, not at each look at the machine.
#[derive(Default)]
struct HeldBackNotice {
    waiting: bool,
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
    }
}

/// Removes its directory, and everything in it, when dropped.
struct Scratch(std::path::PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `--pipe`: stdin cut into blocks, each written to a file under `dir`, one job per
/// block. Each job reads its block on stdin, or with `--cat` the file's path is the job's
/// input, `{}`.
fn read_blocks(
    args: &MapArgs,
    line: &CommandLine,
    colsep: bool,
    dir: &std::path::Path,
) -> Result<Jobs, CliError> {
    if line.command.is_empty() {
        return Err(CliError::usage_with_help(
            "--pipe needs a command to give the blocks to",
            "e.g. `fanout map --pipe wc -l < FILE`",
        ));
    }
    if !matches!(line.sources.as_slice(), [source] if source.kind == SourceKind::Stdin) {
        return Err(CliError::usage_with_help(
            "--pipe reads its data on standard input, and inputs were given (`:::`, `::::` or -a)",
            "give the data on stdin: `fanout map --pipe CMD < FILE`",
        ));
    }
    for (given, name) in [
        (args.results.is_some(), "--results"),
        (args.shuf, "--shuf"),
        (colsep, "--colsep"),
    ] {
        if given {
            return Err(CliError::usage(format!(
                "--pipe and {name} do not go together"
            )));
        }
    }
    let header = match args.header.as_deref() {
        None => false,
        Some(":") => true,
        Some(other) => return Err(unsupported_header(other)),
    };
    let (recstart, recend) = record_marks(args.recstart.as_deref(), args.recend.as_deref());
    let options = BlockOptions {
        size: match &args.block {
            Some(text) => parse_block_size(text).map_err(CliError::usage)?,
            None => DEFAULT_BLOCK,
        },
        recstart,
        recend,
        records: args.max_args.or(args.max_replace_args),
        header,
        skip_empty: args.no_run_if_empty,
    };
    std::fs::create_dir_all(dir)
        .with_context(|| format!("failed to make the directory {}", dir.display()))?;
    let (mut files, mut sent) = (Vec::new(), Vec::new());
    split_blocks(
        &mut std::io::stdin().lock(),
        &options,
        |header, body| {
            let path = dir.join((files.len() + 1).to_string());
            let mut file = std::fs::File::create(&path)?;
            file.write_all(header)?;
            file.write_all(body)?;
            files.push(path);
            sent.push((header.len() + body.len()) as u64);
            Ok(())
        },
        |warning| eprintln!("fanout map: {warning}"),
    )
    .with_context(|| {
        format!(
            "failed to cut standard input into blocks in {}",
            dir.display()
        )
    })?;
    let (inputs, stdin) = if args.cat {
        let paths = files.iter().map(|p| vec![p.display().to_string()]);
        (paths.collect(), Vec::new())
    } else {
        (vec![Vec::new(); files.len()], files)
    };
    Ok(Jobs {
        inputs,
        names: Vec::new(),
        results: None,
        stdin,
        sent,
    })
}

fn unsupported_header(value: &str) -> CliError {
    CliError::usage_with_help(
        format!("`--header {value}` is not supported"),
        "use `--header :`: the first line of each input group names its columns",
    )
}

/// A problem with the inputs: a usage error when the command line is wrong, fanout's own
/// failure when an input could not be read.
fn input_error(err: InputError) -> CliError {
    match &err {
        InputError::NoFiles(_) => CliError::usage(err.to_string()),
        InputError::Read { .. } | InputError::Stdin(_) => {
            let cause = std::error::Error::source(&err).map(ToString::to_string);
            CliError::Internal(match cause {
                Some(cause) => anyhow::anyhow!("failed to {err}: {cause}"),
                None => anyhow::anyhow!("failed to {err}"),
            })
        }
    }
}
