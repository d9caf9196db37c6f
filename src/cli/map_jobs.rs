//! Where `fanout map`'s jobs come from: inputs read to their end first (several input
//! groups, `--shuf`, `-m`/`-X`, or a run that must know how many jobs there are), or read
//! as the run goes, one job as soon as its inputs are in (one input file or standard
//! input; `--pipe`'s blocks), as GNU parallel reads them. Each job becomes a task with
//! what the reporters need to know of it.

use std::collections::HashMap;
use std::io::{BufRead, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use rand::seq::SliceRandom;
use regex::Regex;

use super::CliError;
use super::args::MapArgs;
use crate::map::{
    Asker, BlockOptions, BlockSource, CommandLine, Continued, DEFAULT_BLOCK, FileTemplate, Filter,
    GroupBy, GroupFilter, HeaderPattern, InputError, Inputs, MapSpec, ReadOptions, RecordPatterns,
    Records, Sent, Shard, ShardKind, SourceKind, Template, TimedReader, Trim, column_names,
    group_inputs, has_results, header_names, parse_block_size, parse_count, parse_delimiter,
    parse_seconds, parse_size, part_positions, read_header, read_inputs, record_marks,
    result_segments, row, split_blocks, with_slot,
};
use crate::plan::{Action, FilePart};
use crate::runner::FedTask;

/// One job as read: its inputs; with `--results`, its directory's path segments; with
/// `--pipe`, the file it reads on stdin (none with `--cat`), the bytes of it, and the
/// block file that is its own (not `--tee`'s, which every job reads).
#[derive(Debug, Default)]
pub(super) struct Job {
    pub(super) inputs: Vec<String>,
    pub(super) results: Option<Vec<String>>,
    pub(super) stdin: Option<PathBuf>,
    pub(super) sent: Sent,
    pub(super) block: Option<PathBuf>,
    /// With `--pipe-part`: the byte ranges of `stdin` the job reads (empty: all of it).
    pub(super) ranges: Vec<std::ops::Range<u64>>,
}

/// Where the jobs come from.
pub(super) enum JobSource {
    /// Read already, in job order.
    Read(Vec<Job>),
    /// One input file or standard input, read as the run goes: each input (`-n N`: each N
    /// of them) a job.
    Records {
        records: Box<dyn Iterator<Item = Result<String, InputError>> + Send>,
        options: ReadOptions,
        per_job: Option<usize>,
        /// With `--results`: the columns' names.
        columns: Option<Vec<String>>,
    },
    /// `--pipe --tee`: standard input, written to a file under `dir`, for each job of
    /// `inputs` to read whole.
    Tee {
        inputs: Vec<Vec<String>>,
        dir: PathBuf,
    },
    /// `--pipe-part`: the file at `path` cut into parts where GNU parallel cuts it, each a
    /// job that reads the header (`--header :`) and its part straight from the file. With
    /// `skip_first_line`, the file's first line is no one's. With `cat` (`--cat`), each
    /// job's part is copied to a file under that directory, named by `{}`.
    Parts {
        path: PathBuf,
        cat: Option<PathBuf>,
        skip_first_line: bool,
        recstart: Vec<u8>,
        recend: Vec<u8>,
        patterns: Option<RecordPatterns>,
        header: Option<HeaderPattern>,
        block: PartSize,
        slots: usize,
    },
    /// `--pipe --round-robin`: standard input cut into blocks, dealt out in turn to a job
    /// per slot (`slots` of them). With `stream`, through a named pipe under `dir` to each
    /// job, started as its first block is cut; else (a dry run) into a file each, all of
    /// stdin read first.
    RoundRobin {
        options: BlockOptions,
        input: BlockInput,
        dir: PathBuf,
        slots: usize,
        stream: bool,
        /// `--cat`, `--fifo`: a job's named pipe is `{}`, not its stdin.
        cat: bool,
    },
    /// `--pipe --shard` and `--bin`: a job per slot (`slots` of them), each line of
    /// standard input (`before` first) going to the job its value picks, through a named
    /// pipe under `dir`. With `stream` false (a dry run), the jobs alone.
    Sharded {
        shard: Shard,
        before: Vec<u8>,
        dir: PathBuf,
        slots: usize,
        stream: bool,
    },
    /// `--pipe`: standard input cut into blocks as the run goes, each written to a file
    /// under `dir`.
    Blocks {
        options: BlockOptions,
        input: BlockInput,
        dir: PathBuf,
        cat: bool,
    },
}

/// What `--pipe`'s blocks are cut from: standard input, or `--group-by`'s filter of it.
pub(super) enum BlockInput {
    Stdin,
    Grouped(GroupFilter),
}

impl JobSource {
    /// Gives each job to `take`, in job order, until the jobs end or `take` returns
    /// `false`.
    pub(super) fn produce(self, take: &mut dyn FnMut(Job) -> bool) -> anyhow::Result<()> {
        match self {
            JobSource::Read(jobs) => {
                for job in jobs {
                    if !take(job) {
                        break;
                    }
                }
                Ok(())
            }
            JobSource::Records {
                records,
                options,
                per_job,
                columns,
            } => {
                let mut group = Job::default();
                let mut in_group = 0;
                for value in records {
                    let Some(row) = row(value.map_err(input_failure)?, &options) else {
                        continue;
                    };
                    // `-n 0`: each input is a job, and gives it nothing.
                    if per_job != Some(0) {
                        if let Some(columns) = &columns {
                            let segments = result_segments(&row, columns);
                            group.results.get_or_insert_default().extend(segments);
                        }
                        group.inputs.extend(row);
                    }
                    in_group += 1;
                    if in_group >= per_job.unwrap_or(1).max(1) {
                        in_group = 0;
                        if !take(std::mem::take(&mut group)) {
                            return Ok(());
                        }
                    }
                }
                if in_group > 0 {
                    take(group);
                }
                Ok(())
            }
            JobSource::Tee { inputs, dir } => {
                make_dir(&dir)?;
                let path = dir.join("stdin");
                let sent = std::fs::File::create(&path)
                    .and_then(|mut file| std::io::copy(&mut std::io::stdin(), &mut file))
                    .with_context(|| {
                        format!("failed to keep standard input in {}", path.display())
                    })?;
                for inputs in inputs {
                    let job = Job {
                        inputs,
                        results: None,
                        stdin: Some(path.clone()),
                        sent: Sent::Known(sent),
                        block: None,
                        ranges: Vec::new(),
                    };
                    if !take(job) {
                        break;
                    }
                }
                Ok(())
            }
            JobSource::Parts {
                path,
                cat,
                skip_first_line,
                recstart,
                recend,
                patterns,
                header,
                block,
                slots,
            } => {
                let read = |e: std::io::Error| {
                    anyhow::Error::new(e).context(format!("failed to read {}", path.display()))
                };
                let mut file = std::fs::File::open(&path).map_err(read)?;
                let size = file.metadata().map_err(read)?.len();
                // The next line's length, and whether it ends with a newline.
                let mut lines = std::io::BufReader::new(&mut file);
                let mut next_line = || -> std::io::Result<(u64, bool)> {
                    let mut line = Vec::new();
                    lines.read_until(b'\n', &mut line)?;
                    Ok((line.len() as u64, line.ends_with(b"\n")))
                };
                let skip = match skip_first_line {
                    true => next_line().map_err(read)?.0,
                    false => 0,
                };
                let header_len = match &header {
                    Some(pattern) => {
                        let mut from = std::fs::File::open(&path).map_err(read)?;
                        from.seek(std::io::SeekFrom::Start(skip)).map_err(read)?;
                        let mut buf = Vec::new();
                        read_header(&mut from, &mut buf, DEFAULT_BLOCK, pattern)
                            .map_err(read)?
                            .len() as u64
                    }
                    None => 0,
                };
                let block = match block {
                    PartSize::Bytes(bytes) => bytes,
                    PartSize::PerSlot(parts) => 1 + size / slots.max(1) as u64 / parts.max(1),
                };
                let cuts = part_positions(
                    &mut file,
                    size,
                    skip + header_len,
                    block,
                    &recend,
                    &recstart,
                    patterns.as_ref(),
                )
                .map_err(read)?;
                if let Some(dir) = &cat {
                    make_dir(dir)?;
                }
                for (k, part) in cuts.windows(2).enumerate() {
                    let mut ranges = Vec::new();
                    if header_len > 0 {
                        ranges.push(skip..skip + header_len);
                    }
                    ranges.push(part[0]..part[1]);
                    let sent = Sent::Known(header_len + part[1] - part[0]);
                    let job = match &cat {
                        // `--cat`: the part in a file of its own, named by `{}`.
                        Some(dir) => {
                            let copy = dir.join((k + 1).to_string());
                            copy_ranges(&mut file, &ranges, &copy).with_context(|| {
                                format!(
                                    "failed to copy a part of {} to {}",
                                    path.display(),
                                    copy.display()
                                )
                            })?;
                            Job {
                                inputs: vec![crate::bytes::from_path(&copy)],
                                sent,
                                block: Some(copy),
                                ..Job::default()
                            }
                        }
                        None => Job {
                            stdin: Some(path.clone()),
                            sent,
                            ranges,
                            ..Job::default()
                        },
                    };
                    if !take(job) {
                        break;
                    }
                }
                Ok(())
            }
            JobSource::RoundRobin {
                options,
                input,
                dir,
                slots,
                stream: true,
                cat,
            } => {
                make_dir(&dir)?;
                let mut dealer = Dealer::new(dir.clone(), slots);
                dealer.cat = cat;
                let cut = split_blocks(
                    &mut *block_input(&options, input),
                    &options,
                    |header, body| dealer.deal(header, body, take),
                    |warning| crate::bytes::eprint(&format!("fanout map: {warning}\n")),
                );
                dealer.finish(cut)
            }
            JobSource::RoundRobin {
                options,
                input,
                dir,
                slots,
                stream: false,
                cat,
            } => {
                make_dir(&dir)?;
                let mut files: Vec<(PathBuf, std::fs::File, u64)> = Vec::new();
                let mut count = 0;
                split_blocks(
                    &mut *block_input(&options, input),
                    &options,
                    |header, body| {
                        let slot = count % slots.max(1);
                        count += 1;
                        if slot == files.len() {
                            // A job's file starts with the header, once.
                            let path = dir.join(format!("slot-{}", slot + 1));
                            let mut file = std::fs::File::create(&path)?;
                            file.write_all(header)?;
                            files.push((path, file, header.len() as u64));
                        }
                        let (_, file, bytes) = &mut files[slot];
                        file.write_all(body)?;
                        *bytes += body.len() as u64;
                        Ok(())
                    },
                    |warning| crate::bytes::eprint(&format!("fanout map: {warning}\n")),
                )
                .with_context(|| {
                    format!("failed to deal standard input out in {}", dir.display())
                })?;
                for (path, file, sent) in files {
                    drop(file);
                    let job = Job {
                        inputs: match cat {
                            true => vec![crate::bytes::from_path(&path)],
                            false => Vec::new(),
                        },
                        results: None,
                        stdin: (!cat).then(|| path.clone()),
                        sent: Sent::Known(sent),
                        block: Some(path),
                        ranges: Vec::new(),
                    };
                    if !take(job) {
                        break;
                    }
                }
                Ok(())
            }
            JobSource::Sharded {
                stream: false,
                slots,
                ..
            } => {
                for _ in 0..slots.max(1) {
                    if !take(Job::default()) {
                        break;
                    }
                }
                Ok(())
            }
            JobSource::Sharded {
                shard,
                before,
                dir,
                slots,
                stream: true,
            } => {
                make_dir(&dir)?;
                let slots = slots.max(1);
                let mut dealer = Dealer::new(dir.clone(), slots);
                let dealt = deal_lines(&shard, before, &mut dealer, take);
                dealer.finish(dealt)
            }
            JobSource::Blocks {
                options,
                input,
                dir,
                cat,
            } => {
                make_dir(&dir)?;
                let mut count = 0;
                let mut stopped = false;
                let cut = split_blocks(
                    &mut *block_input(&options, input),
                    &options,
                    |header, body| {
                        count += 1;
                        let path = dir.join(count.to_string());
                        let mut file = std::fs::File::create(&path)?;
                        file.write_all(header)?;
                        file.write_all(body)?;
                        let job = Job {
                            inputs: if cat {
                                vec![crate::bytes::from_path(&path)]
                            } else {
                                Vec::new()
                            },
                            results: None,
                            stdin: (!cat).then(|| path.clone()),
                            sent: Sent::Known((header.len() + body.len()) as u64),
                            block: Some(path),
                            ranges: Vec::new(),
                        };
                        if take(job) {
                            Ok(())
                        } else {
                            stopped = true;
                            Err(std::io::Error::other("the run no longer takes jobs"))
                        }
                    },
                    |warning| crate::bytes::eprint(&format!("fanout map: {warning}\n")),
                );
                match cut {
                    Err(_) if stopped => Ok(()),
                    cut => cut.with_context(|| {
                        format!(
                            "failed to cut standard input into blocks in {}",
                            dir.display()
                        )
                    }),
                }
            }
        }
    }

    /// `--round-robin` deals its blocks out to `slots` jobs; `--pipe-part` sizes its
    /// parts by them.
    pub(super) fn set_slots(&mut self, jobs: usize) {
        if let JobSource::RoundRobin { slots, .. }
        | JobSource::Parts { slots, .. }
        | JobSource::Sharded { slots, .. } = self
        {
            *slots = jobs;
        }
    }

    /// Every job, read to the end.
    pub(super) fn read_all(self) -> anyhow::Result<Vec<Job>> {
        let mut jobs = Vec::new();
        self.produce(&mut |job| {
            jobs.push(job);
            true
        })?;
        Ok(jobs)
    }
}

/// What the reporters need to know of a job: its tag, its command line, its bytes on
/// stdin, its `--results` path segments, and whether it runs (`--resume`, `{uniq}` and
/// `{choose_k}` skip some).
#[derive(Debug)]
pub(super) struct JobInfo {
    pub(super) tag: String,
    pub(super) command: String,
    pub(super) sent: Sent,
    pub(super) results: Vec<String>,
    pub(super) selected: bool,
    /// Skipped by `{uniq}` or `{choose_k}`: it does not run, and counts as failed.
    pub(super) skipped: bool,
    /// Its own `--pipe` block (on its stdin, or its `{}` with `--cat`), to remove once the
    /// job is done.
    pub(super) block: Option<PathBuf>,
    /// Its inputs (for `--results FILE.csv`).
    pub(super) inputs: Vec<String>,
    /// The names of files to remove once the job is done (`--template` with
    /// `--cleanup`), the slot still to be written in.
    pub(super) cleanup: Vec<Vec<FilePart>>,
}

/// Turns jobs into tasks.
pub(super) struct JobMaker {
    pub(super) spec: MapSpec,
    /// `--tagstring`; without it a job's tag is its inputs.
    pub(super) tagstring: Option<Template>,
    /// `--results NAME` with replacement strings: the job's results are named by it.
    pub(super) results_name: Option<Template>,
    /// With `--resume`: the jobs the job log has, and whether each succeeded.
    pub(super) done: Option<HashMap<usize, bool>>,
    /// `--resume-failed`: jobs that failed run again.
    pub(super) resume_failed: bool,
    /// `--resume` with a `--results` directory (or names: `true`): a job whose output is
    /// there already is done.
    pub(super) resume_results: Option<(PathBuf, bool)>,
    /// `--filter`: jobs that fail its tests are skipped.
    pub(super) filter: Option<Filter>,
    /// `-o`: the terminal, stdin of the jobs that are given none.
    pub(super) tty: Option<PathBuf>,
    /// `--template`: files each job's shell writes before its command.
    pub(super) files: Vec<FileTemplate>,
    /// `--cleanup`: those files are removed once the job is done.
    pub(super) cleanup: bool,
    /// `-p`: the terminal on which each job that would run is put to the user first.
    pub(super) ask: Option<Asker>,
}

impl JobMaker {
    /// Job `seq` (from 1) as a task, and what the reporters need to know of it.
    pub(super) fn make(&self, seq: usize, job: Job) -> (FedTask, JobInfo) {
        let results = match &self.results_name {
            Some(name) => vec![name.fill(&job.inputs, seq, false)],
            None => job.results.unwrap_or_default(),
        };
        let to_run = match self.done.as_ref().and_then(|done| done.get(&seq)) {
            None => true,
            Some(&ok) => self.resume_failed && !ok,
        } && !self
            .resume_results
            .as_ref()
            .is_some_and(|(dir, named)| has_results(dir, *named, &results));
        let block = job.block.clone();
        // As GNU parallel, a `--pipe` job whose block is empty (its record marks taken out,
        // say) does not start its command: the job succeeds at once.
        let empty_block = block.is_some() && job.sent.is_known_empty();
        let stdin = job.stdin.or_else(|| self.tty.clone());
        let (mut task, perl_skip) = self.spec.task(seq, &job.inputs, stdin);
        task.stdin_ranges = job.ranges;
        // `{uniq}`, `{choose_k}` and `{= skip() =}` skip jobs; the others keep their
        // numbers.
        let command = task.command_line();
        let skipped = to_run
            && (perl_skip
                || self.spec.template.skips(&job.inputs)
                || self
                    .filter
                    .as_ref()
                    .is_some_and(|filter| !filter.passes(&job.inputs, seq))
                // Asked last: only a job that would run is put to the user.
                || self
                    .ask
                    .as_ref()
                    .is_some_and(|ask| !ask.confirms(&with_slot(&command, 1))));
        let selected = to_run && !skipped;
        let tag = match &self.tagstring {
            Some(tag) => tag.fill(&job.inputs, seq, false),
            None => job.inputs.join(" "),
        };

        // `--template`: the runner writes the job's files as it starts it.
        if !empty_block {
            task.files = self
                .files
                .iter()
                .map(|file| file.fill(&job.inputs, seq))
                .collect();
        }
        let cleanup = match self.cleanup {
            true => task.files.iter().map(|file| file.name.clone()).collect(),
            false => Vec::new(),
        };
        let info = JobInfo {
            tag,
            command,
            sent: job.sent,
            results,
            selected,
            skipped,
            block,
            inputs: job.inputs,
            cleanup,
        };
        if empty_block {
            task.action = Action::Argv(vec!["true".to_owned()]);
        }
        (FedTask { task, selected }, info)
    }
}

/// `--csv`'s field separator: `--colsep`'s one character, else a comma.
fn csv_delimiter(args: &MapArgs) -> Result<Option<u8>, CliError> {
    if !args.csv {
        return Ok(None);
    }
    match args.colsep.as_deref().map(str::as_bytes) {
        None => Ok(Some(b',')),
        Some(&[byte]) => Ok(Some(byte)),
        Some(_) => Err(CliError::usage_with_help(
            "with --csv, --colsep is the one character that separates fields",
            "e.g. `--csv --colsep ';'`",
        )),
    }
}

/// How inputs are read: `-d`/`-0`, `-E`, `--trim`, `--colsep`, `--csv`, `-r`, `--header :`.
pub(super) fn read_options(args: &MapArgs, colsep: Option<Regex>) -> Result<ReadOptions, CliError> {
    let header = names_from_first_lines(args);
    Ok(ReadOptions {
        separator: match (&args.delimiter, args.null) {
            (Some(delimiter), _) => parse_delimiter(delimiter).map_err(CliError::usage)?,
            (None, true) => "\0".into(),
            (None, false) => "\n".into(),
        },
        eof: args.eof.clone(),
        trim: match &args.trim {
            Some(value) => Trim::parse(value).map_err(CliError::usage)?,
            // GNU parallel trims columns unless told not to.
            None if args.colsep.is_some() => Trim::Both,
            None => Trim::Neither,
        },
        csv: csv_delimiter(args)?,
        colsep,
        skip_empty: args.no_run_if_empty,
        header,
        skip_first: args.skip_first_line,
        link: args.link,
        continue_lines: !(args.pipe || args.pipe_part) && max_lines(args)?.is_some_and(|n| n > 0),
    })
}

/// `-L N`, `--max-lines[=N]`: at most N inputs to a job, or with `--pipe` records of N
/// lines. `--max-lines` takes 0 as 1; `-L 0` is as `-N 0`.
pub(super) fn max_lines(args: &MapArgs) -> Result<Option<usize>, CliError> {
    let (option, text) = match (&args.lines, &args.max_lines) {
        (Some(text), _) => ("-L", text),
        (None, Some(text)) => ("--max-lines", text),
        (None, None) => return Ok(None),
    };
    let lines = parse_count(option, text).map_err(CliError::usage)?;
    Ok(Some(if option == "-L" { lines } else { lines.max(1) }))
}

/// How many inputs each job takes: `-n`/`-N`, else `-L` (which, with `--pipe`, sizes the
/// records instead).
pub(super) fn inputs_per_job(args: &MapArgs) -> Result<Option<usize>, CliError> {
    let given = args.max_args.or(args.max_replace_args);
    if given.is_some() || args.pipe || args.pipe_part {
        return Ok(given);
    }
    max_lines(args)
}

/// The jobs of `line`'s inputs, and the names `--header :` gave the columns. One input
/// file or standard input is read as the run goes, unless `--shuf`, `-m` or `-X` need
/// every input first.
pub(super) fn input_jobs(
    args: &MapArgs,
    line: &CommandLine,
    options: ReadOptions,
) -> Result<(JobSource, Vec<(String, usize)>), CliError> {
    let one_stream = match line.sources.as_slice() {
        [source] => match &source.kind {
            SourceKind::Stdin => Some(None),
            SourceKind::File(path) if path.as_os_str() == "-" => Some(None),
            SourceKind::File(path) => Some(Some(path.clone())),
            SourceKind::Values(_) => None,
        },
        _ => None,
    };
    let needs_all = args.shuf
        || args.multiple
        || args.context_replace
        || args.xargs
        || args.max_chars.is_some();
    if let (Some(path), false) = (one_stream, needs_all) {
        let mut records = match path {
            Some(path) => Records::open(&path, &options).map_err(input_error)?,
            None => {
                let stdin = std::io::BufReader::with_capacity(64 * 1024, std::io::stdin());
                Records::new(Box::new(stdin), None, &options)
            }
        };
        let mut names = Vec::new();
        if options.skip_first {
            records.next().transpose().map_err(input_error)?;
        }
        if options.header
            && let Some(header) = records.next().transpose().map_err(input_error)?
        {
            names = header_names(header, 0, &options);
        }
        let columns = args.results.as_ref().map(|_| column_names(&names));
        let records: Box<dyn Iterator<Item = _> + Send> = if options.continue_lines {
            Box::new(Continued::new(records, options.skip_empty))
        } else {
            Box::new(records)
        };
        let source = JobSource::Records {
            records,
            options,
            per_job: inputs_per_job(args)?,
            columns,
        };
        names.extend(file_names(args, line));
        return Ok((source, names));
    }
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
    // -m, -X and --xargs pack the inputs into lines later, -L inputs at most to a line.
    let packed = args.multiple || args.context_replace || args.xargs;
    if let (Some(per_job), false) = (inputs_per_job(args)?, packed) {
        inputs = group_inputs(inputs, per_job);
        results = results.map(|segments| group_inputs(segments, per_job));
    }
    let mut jobs: Vec<Job> = match results {
        Some(results) => inputs
            .into_iter()
            .zip(results)
            .map(|(inputs, results)| Job {
                inputs,
                results: Some(results),
                ..Job::default()
            })
            .collect(),
        None => inputs
            .into_iter()
            .map(|inputs| Job {
                inputs,
                ..Job::default()
            })
            .collect(),
    };
    if args.shuf {
        jobs.shuffle(&mut rand::rng());
    }
    let mut names = names;
    names.extend(file_names(args, line));
    Ok((JobSource::Read(jobs), names))
}

/// `--pipe`: standard input cut into blocks, one job per block. Each job reads its block
/// on stdin, or with `--cat` the block file's path is the job's input, `{}`.
pub(super) fn block_jobs(
    args: &MapArgs,
    line: &CommandLine,
    dir: &Path,
) -> Result<JobSource, CliError> {
    if line.command.is_empty() {
        return Err(CliError::usage_with_help(
            "--pipe needs a command to give the blocks to",
            "e.g. `fanout map --pipe wc -l < FILE`",
        ));
    }
    if args.tee {
        return tee_jobs(args, line, dir);
    }
    if args.pipe_part {
        return part_jobs(args, line, dir);
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
        // --group-by splits lines into columns at --colsep.
        (
            args.colsep.is_some()
                && args.group_by.is_none()
                && args.shard.is_none()
                && args.bin.is_none(),
            "--colsep",
        ),
        (args.csv, "--csv"),
    ] {
        if given {
            return Err(CliError::usage(format!(
                "--pipe and {name} do not go together"
            )));
        }
    }
    for (given, name) in [
        (args.recstart.is_some(), "--recstart"),
        (args.regexp, "--regexp"),
    ] {
        if args.group_by.is_some() && given {
            return Err(CliError::usage(format!(
                "--group-by and {name} do not go together: a group's records start where \
                 its value does"
            )));
        }
    }
    let mut header = pipe_header(args)?;
    let block_timeout = args
        .block_timeout
        .as_deref()
        .map(|value| parse_seconds("--block-timeout", value))
        .transpose()
        .map_err(CliError::usage)?
        .filter(|t| !t.is_zero());
    if args.skip_first_line {
        // What follows is read on from where this stops.
        std::io::stdin()
            .lock()
            .read_until(b'\n', &mut Vec::new())
            .map_err(|err| input_error(InputError::Stdin(err)))?;
    }
    let (mut recstart, mut recend) = record_marks(args.recstart.as_deref(), args.recend.as_deref());
    let size = match &args.block {
        Some(text) => parse_block_size(text).map_err(CliError::usage)?,
        None => DEFAULT_BLOCK,
    };
    let sharding = match (&args.shard, &args.bin) {
        (Some(value), _) => Some((ShardKind::Hash, value)),
        (None, Some(value)) => Some((ShardKind::Bin, value)),
        (None, None) => None,
    };
    if let Some((kind, value)) = sharding {
        // The header goes to no job, as in GNU parallel.
        let (_, head, before) = header_first(header.take(), value, size)?;
        let colsep = args.colsep.as_deref().unwrap_or(",");
        let shard = Shard::parse(kind, value, colsep, &head).map_err(CliError::usage)?;
        return Ok(JobSource::Sharded {
            shard,
            before,
            dir: dir.to_owned(),
            slots: 1,
            stream: !args.dry_run,
        });
    }
    let mut input = BlockInput::Stdin;
    if let Some(value) = &args.group_by {
        // The header is no group.
        let (wanted, head, rest) = header_first(header.take(), value, size)?;
        let colsep = args.colsep.as_deref().unwrap_or("\t");
        let group_by = GroupBy::parse(value, colsep, &head).map_err(CliError::usage)?;
        let filter = group_by
            .filter(rest, std::io::stdin())
            .map_err(|err| CliError::usage(err.to_string()))?;
        input = BlockInput::Grouped(filter);
        header = wanted.then(|| HeaderPattern::Given(head));
        // A record starts at each marker, and the markers are taken out.
        recstart = group_by.marker;
        recend = Vec::new();
    }
    let patterns = record_patterns(args)?;
    let options = BlockOptions {
        size,
        recstart,
        recend,
        patterns,
        records: args.max_args.or(args.max_replace_args),
        lines: max_lines(args)?.filter(|&n| n > 0),
        header,
        remove_marks: args.remove_rec_sep || args.group_by.is_some(),
        skip_empty: args.no_run_if_empty,
        timeout: block_timeout,
    };
    if args.round_robin {
        // The number of slots is known later; see `JobSource::set_slots`.
        return Ok(JobSource::RoundRobin {
            options,
            input,
            dir: dir.to_owned(),
            slots: 1,
            stream: !args.dry_run,
            cat: args.cat,
        });
    }
    Ok(JobSource::Blocks {
        options,
        input,
        dir: dir.to_owned(),
        cat: args.cat,
    })
}

/// The header of stdin, read before a perl filter (`--group-by`, `--shard`) takes the rest:
/// what `header` matches, else, when `value` names a column, the first line, where the
/// name is looked up. Whether there was one to read, the header, and what was read past it.
fn header_first(
    header: Option<HeaderPattern>,
    value: &str,
    size: usize,
) -> Result<(bool, Vec<u8>, Vec<u8>), CliError> {
    let wanted = header.or_else(|| {
        GroupBy::names_a_column(value).then(|| HeaderPattern::parse(":").expect("valid"))
    });
    let mut rest = Vec::new();
    let head = match &wanted {
        Some(pattern) => read_header(&mut std::io::stdin(), &mut rest, size, pattern)
            .map_err(|err| input_error(InputError::Stdin(err)))?,
        None => Vec::new(),
    };
    Ok((wanted.is_some(), head, rest))
}

/// Standard input, as blocks are cut from it: read by a thread of its own when a block
/// may be cut short (`--block-timeout`).
fn block_input(options: &BlockOptions, input: BlockInput) -> Box<dyn BlockSource> {
    match (options.timeout, input) {
        (Some(_), BlockInput::Stdin) => Box::new(TimedReader::spawn(std::io::stdin())),
        (None, BlockInput::Stdin) => Box::new(std::io::stdin()),
        (Some(_), BlockInput::Grouped(filter)) => Box::new(TimedReader::spawn(filter)),
        (None, BlockInput::Grouped(filter)) => Box::new(filter),
    }
}

/// `--pipe --round-robin`'s blocks, dealt out in turn to a job per slot through a named
/// pipe each. A slot's job starts with its first block; a job that stopped reading (it
/// ended) gets no more, and its blocks go to the next.
struct Dealer {
    dir: PathBuf,
    slots: usize,
    /// Per started slot: the pipe to its job, `None` once the job stopped reading.
    pipes: Vec<Option<std::fs::File>>,
    /// Per started slot: the bytes its job was given (for the job log's `Send`).
    sent: Vec<Arc<AtomicU64>>,
    /// The slot the next block goes to.
    turn: usize,
    /// The run took no more jobs, or every job stopped reading.
    stopped: bool,
    /// `--cat`, `--fifo`: a job's named pipe is its input, `{}`, not its stdin.
    cat: bool,
}

/// `--shard`, `--bin`: every slot's job started, then each line given to the job its
/// value picks, a batch at a time.
fn deal_lines(
    shard: &Shard,
    before: Vec<u8>,
    dealer: &mut Dealer,
    take: &mut dyn FnMut(Job) -> bool,
) -> std::io::Result<()> {
    const BATCH: usize = 256 * 1024;
    // Once a job stops reading (or never starts: `--filter` skipped it), every job's input
    // ends, as GNU parallel's sharder dies of the broken pipe: lines meant for that job
    // could go nowhere else.
    let broken = |dealer: &mut Dealer| {
        dealer.pipes.clear();
        dealer.stopped = true;
        std::io::Error::other("a job stopped reading")
    };
    for slot in 0..dealer.slots {
        match dealer.deal_to(slot, &[], take) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Err(broken(dealer)),
            started => started?,
        }
    }
    let mut lines = shard.lines(dealer.slots, before, std::io::stdin())?;
    let mut batches: Vec<Vec<u8>> = vec![Vec::new(); dealer.slots];
    let mut held = 0;
    let mut line = Vec::new();
    loop {
        let next = lines.next_line(&mut line)?;
        if let Some(job) = next {
            batches[job].extend_from_slice(&line);
            held += line.len();
        }
        if held >= BATCH || next.is_none() {
            // Once a job stops reading, the others get this batch, and then every job's
            // input ends.
            let mut stopped = false;
            for (slot, batch) in batches.iter_mut().enumerate() {
                if !batch.is_empty() {
                    match dealer.deal_to(slot, batch, take) {
                        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => stopped = true,
                        dealt => dealt?,
                    }
                    batch.clear();
                }
            }
            if stopped {
                return Err(broken(dealer));
            }
            held = 0;
        }
        if next.is_none() {
            return Ok(());
        }
    }
}

impl Dealer {
    fn new(dir: PathBuf, slots: usize) -> Dealer {
        Dealer {
            dir,
            slots: slots.max(1),
            pipes: Vec::new(),
            sent: Vec::new(),
            turn: 0,
            stopped: false,
            cat: false,
        }
    }

    /// The end of the dealing: an error stopping it is none once the jobs stopped reading
    /// (or the run took no more).
    fn finish(&self, dealt: std::io::Result<()>) -> anyhow::Result<()> {
        match dealt {
            Err(_) if self.stopped => Ok(()),
            dealt => dealt.with_context(|| {
                format!(
                    "failed to deal standard input out in {}",
                    self.dir.display()
                )
            }),
        }
    }

    /// Gives `body` to the next slot's job that still reads (`header` first, to a job
    /// that starts with this block); `take` starts jobs.
    fn deal(
        &mut self,
        header: &[u8],
        body: &[u8],
        take: &mut dyn FnMut(Job) -> bool,
    ) -> std::io::Result<()> {
        for _ in 0..self.slots {
            let slot = self.turn;
            self.turn = (self.turn + 1) % self.slots;
            if slot == self.pipes.len() {
                let pipe = self.start(slot, take)?;
                self.pipes.push(pipe);
                let written = match &mut self.pipes[slot] {
                    Some(pipe) => pipe.write_all(header).is_ok(),
                    None => false,
                };
                if written {
                    self.sent[slot].fetch_add(header.len() as u64, Ordering::Relaxed);
                } else {
                    self.pipes[slot] = None;
                }
            }
            let Some(pipe) = &mut self.pipes[slot] else {
                continue;
            };
            match pipe.write_all(body) {
                Ok(()) => {
                    self.sent[slot].fetch_add(body.len() as u64, Ordering::Relaxed);
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => self.pipes[slot] = None,
                Err(e) => return Err(e),
            }
        }
        self.stopped = true;
        Err(std::io::Error::other("no job reads any more"))
    }

    /// Gives `body` to `slot`'s job, starting the jobs of the slots up to it first; a
    /// broken pipe when that job stopped reading.
    fn deal_to(
        &mut self,
        slot: usize,
        body: &[u8],
        take: &mut dyn FnMut(Job) -> bool,
    ) -> std::io::Result<()> {
        while self.pipes.len() <= slot {
            let pipe = self.start(self.pipes.len(), take)?;
            self.pipes.push(pipe);
        }
        let written = match &mut self.pipes[slot] {
            Some(pipe) => pipe.write_all(body),
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        };
        match written {
            Ok(()) => {
                self.sent[slot].fetch_add(body.len() as u64, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    self.pipes[slot] = None;
                }
                Err(e)
            }
        }
    }

    /// Starts `slot`'s job, reading a named pipe; the pipe's writing end once the job
    /// opened it, `None` if the job ended first.
    fn start(
        &mut self,
        slot: usize,
        take: &mut dyn FnMut(Job) -> bool,
    ) -> std::io::Result<Option<std::fs::File>> {
        use std::os::unix::fs::OpenOptionsExt as _;

        let path = self.dir.join(format!("slot-{}", slot + 1));
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600))?;
        let sent = Arc::new(AtomicU64::new(0));
        self.sent.push(Arc::clone(&sent));
        let job = Job {
            inputs: match self.cat {
                true => vec![crate::bytes::from_path(&path)],
                false => Vec::new(),
            },
            results: None,
            stdin: (!self.cat).then(|| path.clone()),
            sent: Sent::Counted(sent),
            block: Some(path.clone()),
            ranges: Vec::new(),
        };
        if !take(job) {
            self.stopped = true;
            return Err(std::io::Error::other("the run no longer takes jobs"));
        }
        // Opening a named pipe to write fails until a reader has it open: wait for the job
        // to open it, or to end (the pipe is removed with the job).
        loop {
            let opened = std::fs::File::options()
                .write(true)
                .custom_flags(nix::libc::O_NONBLOCK)
                .open(&path);
            match opened {
                Ok(pipe) => {
                    let flags = nix::fcntl::OFlag::from_bits_truncate(nix::fcntl::fcntl(
                        &pipe,
                        nix::fcntl::FcntlArg::F_GETFL,
                    )?);
                    nix::fcntl::fcntl(
                        &pipe,
                        nix::fcntl::FcntlArg::F_SETFL(flags - nix::fcntl::OFlag::O_NONBLOCK),
                    )?;
                    return Ok(Some(pipe));
                }
                Err(e) if e.raw_os_error() == Some(nix::libc::ENXIO) && path.exists() => {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                // The job ended and its pipe was removed, between the test and the open.
                Err(e)
                    if matches!(e.raw_os_error(), Some(nix::libc::ENXIO | nix::libc::ENOENT)) =>
                {
                    return Ok(None);
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Copies the byte `ranges` of `from` to a new file at `to`, one after another.
fn copy_ranges(
    from: &mut std::fs::File,
    ranges: &[std::ops::Range<u64>],
    to: &Path,
) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(to)?);
    for range in ranges {
        from.seek(std::io::SeekFrom::Start(range.start))?;
        std::io::copy(&mut (&mut *from).take(range.end - range.start), &mut out)?;
    }
    out.flush()
}

/// Makes `dir`, where `--pipe`'s data waits for its jobs.
fn make_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("failed to make the directory {}", dir.display()))
}

/// How big `--pipe-part`'s parts are, at least: bytes, or the file's size over this many
/// parts per job slot (`--block -N`; GNU parallel's default is 10).
#[derive(Clone, Copy, Debug)]
pub(super) enum PartSize {
    Bytes(u64),
    PerSlot(u64),
}

/// `--pipe-part`: the one file given with `-a` (or `::::`), in parts.
fn part_jobs(args: &MapArgs, line: &CommandLine, dir: &Path) -> Result<JobSource, CliError> {
    let path = match line.sources.as_slice() {
        [source] => match &source.kind {
            SourceKind::File(path) if path.as_os_str() != "-" => path.clone(),
            _ => None.ok_or_else(part_source_error)?,
        },
        _ => return Err(part_source_error()),
    };
    if !path.is_file() {
        return Err(CliError::usage_with_help(
            format!(
                "--pipe-part reads parts of a file, and {} is not one",
                path.display()
            ),
            "for a stream (a pipe, stdin), use --pipe",
        ));
    }
    if args.max_args.or(args.max_replace_args).is_some() {
        return Err(CliError::usage("--pipe-part and -N do not go together"));
    }
    for (given, name) in [
        (args.group_by.is_some(), "--group-by"),
        (args.shard.is_some(), "--shard"),
        (args.bin.is_some(), "--bin"),
        (args.remove_rec_sep, "--remove-rec-sep"),
    ] {
        if given {
            return Err(CliError::usage(format!(
                "--pipe-part and {name} do not go together: use --pipe"
            )));
        }
    }
    if args.lines.is_some() || args.max_lines.is_some() {
        return Err(CliError::usage(
            "--pipe-part and -L (--max-lines) do not go together",
        ));
    }
    let header = pipe_header(args)?;
    let (recstart, recend) = record_marks(args.recstart.as_deref(), args.recend.as_deref());
    let patterns = record_patterns(args)?;
    let block = match args.block.as_deref() {
        // --round-robin: one part per job slot.
        None if args.round_robin => PartSize::PerSlot(1),
        None => PartSize::PerSlot(10),
        Some(text) => match text.strip_prefix('-') {
            Some(parts) => {
                PartSize::PerSlot(parse_size("--block", parts).map_err(CliError::usage)?)
            }
            None => PartSize::Bytes(parse_block_size(text).map_err(CliError::usage)? as u64),
        },
    };
    Ok(JobSource::Parts {
        path,
        cat: args.cat.then(|| dir.to_owned()),
        skip_first_line: args.skip_first_line,
        recstart,
        recend,
        patterns,
        header,
        block,
        slots: 1,
    })
}

/// `--regexp`: the record marks as patterns.
fn record_patterns(args: &MapArgs) -> Result<Option<RecordPatterns>, CliError> {
    if !args.regexp {
        return Ok(None);
    }
    RecordPatterns::new(args.recstart.as_deref(), args.recend.as_deref())
        .map(Some)
        .map_err(CliError::usage)
}

fn part_source_error() -> CliError {
    CliError::usage_with_help(
        "--pipe-part reads parts of one file, given with -a FILE (or :::: FILE)",
        "e.g. `fanout map --pipe-part -a big.log --block 10M wc -l`",
    )
}

/// `--pipe --tee`: every job, one per input of the command line, reads all of stdin.
fn tee_jobs(args: &MapArgs, line: &CommandLine, dir: &Path) -> Result<JobSource, CliError> {
    let reads_stdin = |kind: &SourceKind| match kind {
        SourceKind::Stdin => true,
        SourceKind::File(path) => path.as_os_str() == "-",
        SourceKind::Values(_) => false,
    };
    if line.sources.iter().any(|s| reads_stdin(&s.kind)) {
        return Err(CliError::usage_with_help(
            "--tee gives all of stdin to every job, so the jobs' inputs cannot come from stdin",
            "give them on the command line: `fanout map --pipe --tee 'grep {}' ::: a b < FILE`",
        ));
    }
    let options = read_options(args, None)?;
    let Inputs { jobs, .. } =
        read_inputs(&line.sources, &options, &mut std::io::empty()).map_err(input_error)?;
    Ok(JobSource::Tee {
        inputs: jobs,
        dir: dir.to_owned(),
    })
}

/// `--header` for inputs: any value but `0` has the first line of each input group name
/// its columns; `0` has each file of `::::` (or `-a`) name its own, as GNU parallel reads it
/// (see [`file_names`]).
fn names_from_first_lines(args: &MapArgs) -> bool {
    args.header.as_deref().is_some_and(|text| text != "0")
}

/// `--header 0`: the files of `::::` and `-a` name their columns, `{FILE}`, as written on
/// the command line (not stdin, nor groups of `:::`).
pub(super) fn file_names(args: &MapArgs, line: &CommandLine) -> Vec<(String, usize)> {
    if args.header.as_deref() != Some("0") {
        return Vec::new();
    }
    line.sources
        .iter()
        .enumerate()
        .filter_map(|(k, source)| match &source.kind {
            SourceKind::File(path) if path.as_os_str() != "-" => {
                Some((path.to_string_lossy().into_owned(), k + 1))
            }
            _ => None,
        })
        .collect()
}

/// `--header` with `--pipe` and `--pipe-part`: what it matches at the start of the data
/// goes before every block (`:` the first line, N the first N lines, else a regular
/// expression).
fn pipe_header(args: &MapArgs) -> Result<Option<HeaderPattern>, CliError> {
    args.header
        .as_deref()
        .map(HeaderPattern::parse)
        .transpose()
        .map_err(CliError::usage)
}

/// A problem with the inputs: a usage error when the command line is wrong, fanout's own
/// failure when an input could not be read.
pub(super) fn input_error(err: InputError) -> CliError {
    match &err {
        InputError::NoFiles(_) => CliError::usage(err.to_string()),
        InputError::Read { .. } | InputError::Stdin(_) => CliError::Internal(input_failure(err)),
    }
}

/// An input that could not be read, as fanout's own failure.
fn input_failure(err: InputError) -> anyhow::Error {
    let cause = std::error::Error::source(&err).map(ToString::to_string);
    match cause {
        Some(cause) => anyhow::anyhow!("failed to {err}: {cause}"),
        None => anyhow::anyhow!("failed to {err}"),
    }
}
