//! Where a map's inputs come from and in which order jobs get them: the command line after
//! the command (`::: values`, `:::+ values` linked to the group before, `:::: files`,
//! `::::+ files`), `-a FILE`, or standard input; values split on newlines, NUL bytes or
//! `-d DELIM`, up to an `-E` end-of-file string, lines split into columns by `--colsep`
//! and trimmed by `--trim`, and groups combined in GNU parallel's order
//! (every combination, the first group varying slowest; linked groups side by side, as
//! long as the shortest of them).

use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};

use regex::Regex;

/// Separates the command from inputs, and input groups from each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Separator {
    /// `:::` values, or `:::+` values linked to the group before.
    Values { linked: bool },
    /// `::::` files, or `::::+` files linked to the group before.
    Files { linked: bool },
}

/// The words that separate input groups: `:::` and `::::` unless `--arg-sep` or
/// `--arg-file-sep` name others; each with `+` after it links its group to the one before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Separators {
    pub values: String,
    pub files: String,
}

impl Default for Separators {
    fn default() -> Self {
        Separators {
            values: ":::".into(),
            files: "::::".into(),
        }
    }
}

impl Separators {
    fn of(&self, word: &str) -> Option<Separator> {
        let (base, linked) = match word.strip_suffix('+') {
            Some(base) if base == self.values || base == self.files => (base, true),
            _ => (word, false),
        };
        if base == self.values {
            Some(Separator::Values { linked })
        } else if base == self.files {
            Some(Separator::Files { linked })
        } else {
            None
        }
    }
}

/// Where one group of inputs comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// Values given on the command line.
    Values(Vec<String>),
    /// A file, one input per line (`-` is standard input).
    File(PathBuf),
    /// Standard input, one input per line.
    Stdin,
}

/// One group of inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputSource {
    pub kind: SourceKind,
    /// Linked to the group before (`:::+`, `::::+`): taken side by side with it rather than
    /// in every combination.
    pub linked: bool,
}

/// The words after map's own options, taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandLine {
    /// The command's words (joined with spaces into one shell command, as GNU parallel does).
    pub command: Vec<String>,
    pub sources: Vec<InputSource>,
}

/// A problem with the inputs.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("read the input file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("read the inputs on standard input")]
    Stdin(#[source] std::io::Error),
    #[error("`{0}` must be followed by at least one file")]
    NoFiles(String),
}

/// Splits the words after the options into the command and its input sources, at
/// `separators`. Input files given with `-a` come first, in order, as in GNU parallel.
pub fn split_command_line(
    words: &[String],
    arg_files: &[PathBuf],
    separators: &Separators,
) -> Result<CommandLine, InputError> {
    let separator = |word: &str| separators.of(word);
    let mut sources: Vec<InputSource> = arg_files
        .iter()
        .map(|path| InputSource {
            kind: SourceKind::File(path.clone()),
            linked: false,
        })
        .collect();
    let first = words
        .iter()
        .position(|w| separator(w).is_some())
        .unwrap_or(words.len());
    let command = words[..first].to_vec();
    let mut i = first;
    while i < words.len() {
        let sep = separator(&words[i]).expect("the loop stops at separators");
        let end = words[i + 1..]
            .iter()
            .position(|w| separator(w).is_some())
            .map_or(words.len(), |p| i + 1 + p);
        let group = &words[i + 1..end];
        match sep {
            Separator::Values { linked } => sources.push(InputSource {
                kind: SourceKind::Values(group.to_vec()),
                linked,
            }),
            Separator::Files { linked } => {
                if group.is_empty() {
                    return Err(InputError::NoFiles(words[i].clone()));
                }
                for (k, path) in group.iter().enumerate() {
                    sources.push(InputSource {
                        kind: SourceKind::File(PathBuf::from(crate::bytes::to_os(path))),
                        linked: linked && k == 0,
                    });
                }
            }
        }
        i = end;
    }
    if sources.is_empty() {
        sources.push(InputSource {
            kind: SourceKind::Stdin,
            linked: false,
        });
    }
    Ok(CommandLine { command, sources })
}

/// Which white space is cut from the ends of each input (or of each column).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Trim {
    /// None (`--trim n`; the default without `--colsep`).
    #[default]
    Neither,
    /// From the start (`l`).
    Left,
    /// From the end (`r`).
    Right,
    /// From both ends (`lr`, `rl`; the default with `--colsep`).
    Both,
}

impl Trim {
    /// `--trim VALUE`: `n`, `l`, `r`, `lr` or `rl`.
    pub fn parse(value: &str) -> Result<Trim, String> {
        match value {
            "n" => Ok(Trim::Neither),
            "l" => Ok(Trim::Left),
            "r" => Ok(Trim::Right),
            "lr" | "rl" => Ok(Trim::Both),
            other => Err(format!(
                "`--trim {other}` is not a way to trim: give n, l, r, lr or rl"
            )),
        }
    }

    fn apply(self, value: &str) -> &str {
        // White space as Perl's \s sees it.
        let space = |c: char| c.is_ascii_whitespace() || c == '\x0b';
        match self {
            Trim::Neither => value,
            Trim::Left => value.trim_start_matches(space),
            Trim::Right => value.trim_end_matches(space),
            Trim::Both => value.trim_matches(space),
        }
    }
}

/// `-d DELIM` as GNU parallel reads it: characters, where `\t`, `\n` and `\r` are a tab,
/// a newline and a carriage return, and `\NNN` or `\N` (octal) is that character, read
/// in that order, one after the other, as GNU parallel's `unquote_printf` does. Nothing
/// else is an escape (`\\` stays two backslashes).
pub fn parse_delimiter(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err(
            "`-d` needs a delimiter: a character such as , or an escape such as \\n".into(),
        );
    }
    let text = text
        .replace("\\t", "\t")
        .replace("\\n", "\n")
        .replace("\\r", "\r");
    // An octal escape is a byte, as in GNU parallel (`\351` is 0xE9, not é).
    let octal = |caps: &regex::Captures| {
        let code = u8::from_str_radix(&caps[1], 8).unwrap_or(0);
        crate::bytes::byte_char(code).to_string()
    };
    let three = Regex::new(r"\\([0-7]{3})").expect("a valid pattern");
    let one = Regex::new(r"\\([0-7])").expect("a valid pattern");
    let text = three.replace_all(&text, octal);
    Ok(one.replace_all(&text, octal).into_owned())
}

/// How values are read.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// What ends each input: a newline, NUL (`-0`) or `-d DELIM`.
    pub separator: String,
    /// `-E STR`: an input equal to STR ends its group; it and what follows are not read.
    pub eof: Option<String>,
    /// What is cut from the ends of each input, or of each column with `--colsep`.
    pub trim: Trim,
    /// Split each input into columns (`--colsep`).
    pub colsep: Option<Regex>,
    /// `--csv`: each input is a CSV record (which may go on over several lines inside
    /// quotes), its fields separated by this byte; its fields are the columns.
    pub csv: Option<u8>,
    /// Skip inputs that are empty or only white space (`-r`).
    pub skip_empty: bool,
    /// The first input of each group names its columns (`--header :`).
    pub header: bool,
    /// `--skip-first-line`: the first input of the first group is dropped, before any
    /// header.
    pub skip_first: bool,
    /// `--link`: every group side by side, as many jobs as the longest has inputs, the
    /// shorter ones starting over.
    pub link: bool,
    /// `-L`: an input ending in white space goes on in the next one (`a ` then `b` is the
    /// one input `a b`).
    pub continue_lines: bool,
}

impl Default for ReadOptions {
    /// Inputs end with newlines; nothing else is said.
    fn default() -> Self {
        ReadOptions {
            separator: "\n".into(),
            eof: None,
            trim: Trim::Neither,
            colsep: None,
            csv: None,
            skip_empty: false,
            header: false,
            skip_first: false,
            link: false,
            continue_lines: false,
        }
    }
}

/// Each job's inputs, and the names the groups' first lines gave their columns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inputs {
    /// Each job's inputs (`{1}`, `{2}`, …), in job order.
    pub jobs: Vec<Vec<String>>,
    /// With `--header :`: each column's name and its position (`{name}` is `{position}`).
    pub names: Vec<(String, usize)>,
}

/// Reads every source: each job's inputs, and with `--header :` the columns' names.
pub fn read_inputs(
    sources: &[InputSource],
    options: &ReadOptions,
    stdin: &mut dyn Read,
) -> Result<Inputs, InputError> {
    let separator = options.separator.as_str();
    let mut names = Vec::new();
    let mut groups: Vec<Vec<Vec<String>>> = Vec::new();
    let mut stdin_bytes: Option<Vec<u8>> = None;
    for (i, source) in sources.iter().enumerate() {
        let mut values: Box<dyn Iterator<Item = Result<String, InputError>>> = match &source.kind {
            // A value holding newlines is several inputs, as it is for GNU parallel.
            SourceKind::Values(values) => {
                let values: Vec<String> = values
                    .iter()
                    .flat_map(|v| v.split(separator).map(str::to_owned).collect::<Vec<_>>())
                    .take_while(|v| options.eof.as_ref() != Some(v))
                    .collect();
                Box::new(values.into_iter().map(Ok))
            }
            SourceKind::Stdin => {
                let bytes = read_stdin(&mut stdin_bytes, stdin)?.to_vec();
                Box::new(Records::new(
                    Box::new(io::Cursor::new(bytes)),
                    None,
                    options,
                ))
            }
            SourceKind::File(path) if path.as_os_str() == "-" => {
                let bytes = read_stdin(&mut stdin_bytes, stdin)?.to_vec();
                Box::new(Records::new(
                    Box::new(io::Cursor::new(bytes)),
                    None,
                    options,
                ))
            }
            SourceKind::File(path) => Box::new(Records::open(path, options)?),
        };
        if i == 0 && options.skip_first {
            values.next().transpose()?;
        }
        if options.header
            && let Some(header) = values.next().transpose()?
        {
            names.extend(header_names(header, names.len(), options));
        }
        if options.continue_lines {
            values = Box::new(Continued::new(values, options.skip_empty));
        }
        let mut rows = Vec::new();
        for value in values {
            rows.extend(row(value?, options));
        }
        // Beside other sources, an empty one is one empty value, as in GNU parallel: the
        // other sources' jobs still run (`::: a b :::` is `a ` and `b `).
        if rows.is_empty() && sources.len() > 1 {
            rows.push(vec![String::new()]);
        }
        match groups.last_mut() {
            Some(previous) if source.linked && !options.link => {
                previous.truncate(rows.len());
                for (row, more) in previous.iter_mut().zip(rows) {
                    row.extend(more);
                }
            }
            _ => groups.push(rows),
        }
    }
    let jobs = if options.link {
        link(&groups)
    } else {
        combine(&groups)
    };
    Ok(Inputs { jobs, names })
}

fn read_stdin<'a>(
    cache: &'a mut Option<Vec<u8>>,
    stdin: &mut dyn Read,
) -> Result<&'a [u8], InputError> {
    if cache.is_none() {
        let mut bytes = Vec::new();
        stdin.read_to_end(&mut bytes).map_err(InputError::Stdin)?;
        *cache = Some(bytes);
    }
    Ok(cache.as_deref().unwrap_or_default())
}

/// A file's or standard input's records, one at a time as they arrive: each ended (or,
/// the last, separated) by the separator, up to the `-E` end-of-file string; nothing at
/// all is no record.
pub struct Records {
    reader: Box<dyn BufRead + Send>,
    separator: Vec<u8>,
    eof: Option<String>,
    /// The file read, for errors; `None`: standard input.
    path: Option<PathBuf>,
    /// `--csv`: a record whose quotes are not closed goes on past the separator.
    csv: bool,
    ended: bool,
}

impl Records {
    /// The records of `reader`, which is the file `path` (`None`: standard input).
    pub fn new(
        reader: Box<dyn BufRead + Send>,
        path: Option<PathBuf>,
        options: &ReadOptions,
    ) -> Records {
        Records {
            reader,
            separator: crate::bytes::encode(&options.separator).into_owned(),
            eof: options.eof.clone(),
            path,
            csv: options.csv.is_some(),
            ended: false,
        }
    }

    /// The records of the file at `path`.
    pub fn open(path: &Path, options: &ReadOptions) -> Result<Records, InputError> {
        let file = std::fs::File::open(path).map_err(|source| InputError::Read {
            path: path.to_owned(),
            source,
        })?;
        let reader = Box::new(io::BufReader::with_capacity(64 * 1024, file));
        Ok(Records::new(reader, Some(path.to_owned()), options))
    }

    fn error(&self, source: io::Error) -> InputError {
        match &self.path {
            Some(path) => InputError::Read {
                path: path.clone(),
                source,
            },
            None => InputError::Stdin(source),
        }
    }

    fn next_record(&mut self) -> io::Result<Option<String>> {
        let Some(&last) = self.separator.last() else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        loop {
            if self.reader.read_until(last, &mut bytes)? == 0 {
                // The end: what was read is the last record, if anything was.
                return Ok((!bytes.is_empty()).then(|| crate::bytes::decode_owned(bytes)));
            }
            // A CSV record goes on while a quote is open, as GNU parallel counts them.
            let open_quote = self.csv && bytes.iter().filter(|&&b| b == b'"').count() % 2 == 1;
            if bytes.ends_with(&self.separator) && !open_quote {
                bytes.truncate(bytes.len() - self.separator.len());
                return Ok(Some(crate::bytes::decode_owned(bytes)));
            }
        }
    }
}

impl Iterator for Records {
    type Item = Result<String, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        match self.next_record() {
            Ok(Some(record)) if self.eof.as_ref() != Some(&record) => Some(Ok(record)),
            Ok(_) => {
                self.ended = true;
                None
            }
            Err(err) => {
                self.ended = true;
                Some(Err(self.error(err)))
            }
        }
    }
}

/// Inputs as `-L` reads them: one that ends in white space goes on in the next, as GNU
/// parallel joins them; with `-r`, an input only of white space is skipped rather than
/// joined on.
pub struct Continued<I> {
    inputs: I,
    skip_empty: bool,
}

impl<I> Continued<I> {
    pub fn new(inputs: I, skip_empty: bool) -> Continued<I> {
        Continued { inputs, skip_empty }
    }
}

impl<I: Iterator<Item = Result<String, InputError>>> Iterator for Continued<I> {
    type Item = Result<String, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut pending: Option<String> = None;
        loop {
            let input = match self.inputs.next() {
                None => return pending.map(Ok),
                Some(Err(err)) => return Some(Err(err)),
                Some(Ok(input)) => match pending.take() {
                    Some(mut before) => {
                        before.push_str(&input);
                        before
                    }
                    None => input,
                },
            };
            if self.skip_empty && input.trim().is_empty() {
                continue;
            }
            if input.ends_with(|c: char| c.is_ascii_whitespace() || c == '\x0b') {
                pending = Some(input);
                continue;
            }
            return Some(Ok(input));
        }
    }
}

/// `--header :`: the column names a group's first input gives, numbered on from
/// `columns_before` (the columns of the groups before it).
pub fn header_names(
    header: String,
    columns_before: usize,
    options: &ReadOptions,
) -> Vec<(String, usize)> {
    // Names are taken as written, untrimmed, as GNU parallel takes them.
    let header = columns(header, options, Trim::Neither);
    header
        .into_iter()
        .enumerate()
        .map(|(k, name)| (name, columns_before + k + 1))
        .collect()
}

/// An input as a job takes it: its columns, trimmed; `None` when `-r` skips it.
pub fn row(value: String, options: &ReadOptions) -> Option<Vec<String>> {
    if options.skip_empty && value.trim().is_empty() {
        return None;
    }
    Some(columns(value, options, options.trim))
}

fn columns(value: String, options: &ReadOptions, trim: Trim) -> Vec<String> {
    if let Some(delimiter) = options.csv {
        return csv_fields(&value, delimiter)
            .iter()
            .map(|c| trim.apply(c).to_owned())
            .collect();
    }
    match &options.colsep {
        Some(re) => re.split(&value).map(|c| trim.apply(c).to_owned()).collect(),
        None if trim == Trim::Neither => vec![value],
        None => vec![trim.apply(&value).to_owned()],
    }
}

/// The fields of a CSV record (`"` quotes, `""` a quote inside them); an empty record is
/// one empty field, as GNU parallel has it.
fn csv_fields(record: &str, delimiter: u8) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(record.as_bytes());
    let mut fields = csv::ByteRecord::new();
    match reader.read_byte_record(&mut fields) {
        Ok(true) => fields
            .iter()
            // The record is text already, and so each field.
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect(),
        _ => vec![String::new()],
    }
}

/// Jobs of `per_job` inputs each (`-n N`): the inputs of consecutive jobs taken together,
/// the last job getting what is left. With 0, every job keeps its place but gets no input.
pub fn group_inputs(jobs: Vec<Vec<String>>, per_job: usize) -> Vec<Vec<String>> {
    if per_job == 0 {
        return jobs.into_iter().map(|_| Vec::new()).collect();
    }
    jobs.chunks(per_job).map(<[Vec<String>]>::concat).collect()
}

/// The groups side by side: job k takes row k of each group, a group shorter than the
/// longest starting over from its first row. No jobs when a group is empty.
fn link(groups: &[Vec<Vec<String>>]) -> Vec<Vec<String>> {
    if groups.iter().any(Vec::is_empty) {
        return Vec::new();
    }
    let longest = groups.iter().map(Vec::len).max().unwrap_or(0);
    (0..longest)
        .map(|k| groups.iter().flat_map(|g| g[k % g.len()].clone()).collect())
        .collect()
}

/// Every combination of one row per group, the first group varying slowest.
fn combine(groups: &[Vec<Vec<String>>]) -> Vec<Vec<String>> {
    let mut jobs: Vec<Vec<String>> = vec![Vec::new()];
    for group in groups {
        let mut next = Vec::with_capacity(jobs.len() * group.len());
        for job in &jobs {
            for row in group {
                let mut combined = job.clone();
                combined.extend(row.iter().cloned());
                next.push(combined);
            }
        }
        jobs = next;
    }
    if groups.is_empty() { Vec::new() } else { jobs }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &[&str]) -> Vec<String> {
        s.iter().map(|w| (*w).to_owned()).collect()
    }

    fn inputs(line: &[&str], stdin: &str, null: bool, colsep: Option<&str>) -> Vec<Vec<String>> {
        let line = split_command_line(&words(line), &[], &Separators::default()).unwrap();
        let options = ReadOptions {
            separator: if null { "\0" } else { "\n" }.into(),
            colsep: colsep.map(|c| Regex::new(c).unwrap()),
            ..ReadOptions::default()
        };
        read_inputs(&line.sources, &options, &mut stdin.as_bytes())
            .unwrap()
            .jobs
    }

    #[test]
    fn csv_records_go_on_while_a_quote_is_open() {
        let options = ReadOptions {
            csv: Some(b','),
            ..ReadOptions::default()
        };
        let text = "a,\"b\nc\"\n\"d\"\"\",e\n\"open\n";
        let reader = Box::new(io::Cursor::new(text.as_bytes().to_vec()));
        let records: Vec<String> = Records::new(reader, None, &options)
            .map(Result::unwrap)
            .collect();
        assert_eq!(records, ["a,\"b\nc\"", "\"d\"\"\",e", "\"open\n"]);
        let rows: Vec<Vec<String>> = records
            .into_iter()
            .map(|r| row(r, &options).unwrap())
            .collect();
        assert_eq!(rows, [vec!["a", "b\nc"], vec!["d\"", "e"], vec!["open\n"]]);
        assert_eq!(row(String::new(), &options).unwrap(), [""]);
    }

    #[test]
    fn the_command_ends_at_the_first_separator() {
        let line = split_command_line(
            &words(&["echo", "-n", ":::", "a", ":::+", "b"]),
            &[],
            &Separators::default(),
        )
        .unwrap();
        assert_eq!(line.command, ["echo", "-n"]);
        assert_eq!(line.sources.len(), 2);
        assert!(line.sources[1].linked);
        let line = split_command_line(&words(&["echo"]), &[], &Separators::default()).unwrap();
        assert_eq!(line.sources[0].kind, SourceKind::Stdin);
        assert!(
            split_command_line(&words(&["echo", "::::"]), &[], &Separators::default()).is_err()
        );
    }

    #[test]
    fn jobs_come_in_gnu_parallel_order() {
        let rows = |v: &[&[&str]]| -> Vec<Vec<String>> { v.iter().map(|r| words(r)).collect() };
        // (command line, stdin, null, colsep, expected inputs per job)
        type Case<'a> = (
            Vec<&'a str>,
            &'a str,
            bool,
            Option<&'a str>,
            Vec<Vec<String>>,
        );
        let cases: Vec<Case> = vec![
            (
                vec![":::", "a", "b"],
                "",
                false,
                None,
                rows(&[&["a"], &["b"]]),
            ),
            (
                vec![":::", "a", "b", ":::", "1", "2"],
                "",
                false,
                None,
                rows(&[&["a", "1"], &["a", "2"], &["b", "1"], &["b", "2"]]),
            ),
            (
                vec![":::", "a", "b", ":::+", "1", "2", "3", ":::", "x"],
                "",
                false,
                None,
                rows(&[&["a", "1", "x"], &["b", "2", "x"]]),
            ),
            (
                vec![":::", "l1\nl2"],
                "",
                false,
                None,
                rows(&[&["l1"], &["l2"]]),
            ),
            (vec![":::", "l1\nl2"], "", true, None, rows(&[&["l1\nl2"]])),
            (vec![":::", ""], "", false, None, rows(&[&[""]])),
            (
                vec![],
                "a\n\nb\n",
                false,
                None,
                rows(&[&["a"], &[""], &["b"]]),
            ),
            (vec![], "a\nb", false, None, rows(&[&["a"], &["b"]])),
            (vec![], "", false, None, rows(&[])),
            (vec![], "\n", false, None, rows(&[&[""]])),
            (vec![], "a\0b c\0", true, None, rows(&[&["a"], &["b c"]])),
            (
                vec![],
                "a,b\nc,d\n",
                false,
                Some(","),
                rows(&[&["a", "b"], &["c", "d"]]),
            ),
            (
                vec!["::::", "-", ":::", "x", "y"],
                "1\n2\n",
                false,
                None,
                rows(&[&["1", "x"], &["1", "y"], &["2", "x"], &["2", "y"]]),
            ),
        ];
        for (line, stdin, null, colsep, expected) in cases {
            assert_eq!(
                inputs(&line, stdin, null, colsep),
                expected,
                "{line:?} {stdin:?}"
            );
        }
    }

    #[test]
    fn empty_inputs_can_be_skipped() {
        let line = split_command_line(
            &words(&[":::", "a", "", " \t", ":::", "1", ""]),
            &[],
            &Separators::default(),
        )
        .unwrap();
        let options = ReadOptions {
            skip_empty: true,
            ..ReadOptions::default()
        };
        let jobs = read_inputs(&line.sources, &options, &mut "".as_bytes())
            .unwrap()
            .jobs;
        assert_eq!(jobs, [words(&["a", "1"])]);
        let line = split_command_line(&words(&[]), &[], &Separators::default()).unwrap();
        let jobs = read_inputs(&line.sources, &options, &mut "a\n\n  \nb\n".as_bytes())
            .unwrap()
            .jobs;
        assert_eq!(jobs, [words(&["a"]), words(&["b"])]);
    }

    #[test]
    fn delimiters_read_printf_escapes() {
        assert_eq!(parse_delimiter(",").unwrap(), ",");
        assert_eq!(parse_delimiter("::").unwrap(), "::");
        assert_eq!(parse_delimiter("\\t").unwrap(), "\t");
        assert_eq!(parse_delimiter("\\n").unwrap(), "\n");
        assert_eq!(parse_delimiter("\\000").unwrap(), "\0");
        assert_eq!(parse_delimiter("\\0").unwrap(), "\0");
        assert_eq!(parse_delimiter("\\101x").unwrap(), "Ax");
        // As GNU parallel reads them: two digits are one octal escape and a digit, and a
        // doubled backslash is two backslashes.
        assert_eq!(parse_delimiter("\\12").unwrap(), "\u{1}2");
        assert_eq!(parse_delimiter("a\\\\b").unwrap(), "a\\\\b");
        // GNU parallel reads no hexadecimal escapes: they are characters.
        assert_eq!(parse_delimiter("\\x58").unwrap(), "\\x58");
        assert!(parse_delimiter("").is_err());
    }

    #[test]
    fn inputs_end_at_the_end_of_file_string_and_are_trimmed_as_asked() {
        let line = split_command_line(
            &words(&[":::", " a ", "STOP", "b"]),
            &[],
            &Separators::default(),
        )
        .unwrap();
        let options = ReadOptions {
            eof: Some("STOP".into()),
            trim: Trim::Left,
            ..ReadOptions::default()
        };
        let jobs = read_inputs(&line.sources, &options, &mut "".as_bytes())
            .unwrap()
            .jobs;
        assert_eq!(jobs, [words(&["a "])]);
        assert_eq!(Trim::parse("rl"), Ok(Trim::Both));
        assert!(Trim::parse("x").is_err());
        assert_eq!(Trim::Both.apply("\x0b\t a \n"), "a");
    }

    #[test]
    fn jobs_take_n_inputs_each() {
        let jobs = vec![words(&["a", "1"]), words(&["b", "2"]), words(&["c", "3"])];
        assert_eq!(
            group_inputs(jobs.clone(), 2),
            [words(&["a", "1", "b", "2"]), words(&["c", "3"])]
        );
        assert_eq!(group_inputs(jobs.clone(), 1), jobs);
        assert_eq!(group_inputs(jobs.clone(), 5), [jobs.concat()]);
        assert_eq!(group_inputs(jobs, 0), vec![Vec::<String>::new(); 3]);
        assert!(group_inputs(Vec::new(), 2).is_empty());
    }

    #[test]
    fn first_lines_can_name_the_columns() {
        let options = |colsep: Option<&str>| ReadOptions {
            colsep: colsep.map(|c| Regex::new(c).unwrap()),
            header: true,
            ..ReadOptions::default()
        };
        let names = |v: &[(&str, usize)]| -> Vec<(String, usize)> {
            v.iter().map(|(n, p)| ((*n).to_owned(), *p)).collect()
        };
        let line = split_command_line(
            &words(&["::::", "-", ":::", "x", "1", "2"]),
            &[],
            &Separators::default(),
        )
        .unwrap();
        let got = read_inputs(
            &line.sources,
            &options(Some(",")),
            &mut "a,b\n1,2\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(got.names, names(&[("a", 1), ("b", 2), ("x", 3)]));
        assert_eq!(got.jobs, [words(&["1", "2", "1"]), words(&["1", "2", "2"])]);
        // A group with nothing but its header has no values, so there are no jobs.
        let line = split_command_line(&words(&[":::", "h"]), &[], &Separators::default()).unwrap();
        let got = read_inputs(&line.sources, &options(None), &mut "".as_bytes()).unwrap();
        assert_eq!(got.names, names(&[("h", 1)]));
        assert!(got.jobs.is_empty());
    }

    #[test]
    fn records_arrive_one_at_a_time_whatever_the_reads() {
        let read = |input: &str, separator: &str, eof: Option<&str>| {
            let options = ReadOptions {
                separator: separator.into(),
                eof: eof.map(str::to_owned),
                ..ReadOptions::default()
            };
            // One byte per read: separators come in pieces.
            let reader = io::BufReader::with_capacity(1, io::Cursor::new(input.to_owned()));
            Records::new(Box::new(reader), None, &options)
                .collect::<Result<Vec<_>, _>>()
                .unwrap()
        };
        assert_eq!(read("a::b:c::::d", "::", None), ["a", "b:c", "", "d"]);
        assert_eq!(read("a\nb\n", "\n", None), ["a", "b"]);
        assert_eq!(read("a\n\n", "\n", None), ["a", ""]);
        assert_eq!(read("\n", "\n", None), [""]);
        assert!(read("", "\n", None).is_empty());
        assert_eq!(read("a\nSTOP\nb\n", "\n", Some("STOP")), ["a"]);
        // The same as reading them all at once.
        let all = |input: &str, separator: &str| {
            let options = ReadOptions {
                separator: separator.into(),
                ..ReadOptions::default()
            };
            let line = split_command_line(&words(&["echo"]), &[], &Separators::default()).unwrap();
            read_inputs(&line.sources, &options, &mut input.as_bytes())
                .unwrap()
                .jobs
                .concat()
        };
        for (input, separator) in [("x,,y,", ","), ("p\0q", "\0"), ("é\né", "\n")] {
            assert_eq!(
                read(input, separator, None),
                all(input, separator),
                "{input:?}"
            );
        }
    }

    #[test]
    fn other_separators_and_linked_groups() {
        let separators = Separators {
            values: ",,".into(),
            files: "//".into(),
        };
        let line = split_command_line(
            &words(&["echo", ":::", ",,", "a", "b", ",,+", "1", "//", "f"]),
            &[],
            &separators,
        )
        .unwrap();
        assert_eq!(line.command, ["echo", ":::"]);
        assert_eq!(line.sources.len(), 3);
        assert!(line.sources[1].linked);
        assert_eq!(line.sources[2].kind, SourceKind::File("f".into()));
        // --link: side by side, the shorter groups starting over.
        let groups = |g: &[&[&str]]| -> Vec<Vec<Vec<String>>> {
            g.iter()
                .map(|rows| rows.iter().map(|r| words(&[r])).collect())
                .collect()
        };
        assert_eq!(
            link(&groups(&[&["a", "b"], &["1", "2", "3"]])),
            [words(&["a", "1"]), words(&["b", "2"]), words(&["a", "3"])]
        );
        assert!(link(&groups(&[&["a"], &[]])).is_empty());
    }
}
