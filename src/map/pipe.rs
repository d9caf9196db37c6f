//! `--pipe`: stdin cut into blocks, one block per job on the job's stdin, cut where GNU
//! parallel cuts them. A block ends after the last record end that fits in `--block`
//! bytes (one long record makes the block grow, by GNU parallel's rule), or after every
//! `-N` records, or, with `--block-timeout`, after the last record end read when a block
//! takes too long to come.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use regex::bytes::Regex;

use super::options::parse_size;

/// How stdin is cut into blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockOptions {
    /// Bytes read at a time (`--block`); a block holds at most this many, unless one
    /// record is longer.
    pub size: usize,
    /// What a record starts with (`--recstart`), escapes already read.
    pub recstart: Vec<u8>,
    /// What a record ends with (`--recend`), escapes already read.
    pub recend: Vec<u8>,
    /// `--regexp`: `--recstart` and `--recend` are regular expressions, and these stand
    /// for `recstart` and `recend`.
    pub patterns: Option<RecordPatterns>,
    /// `-N`: each block holds exactly this many records (the last one fewer).
    pub records: Option<usize>,
    /// `-L`: records are this many lines: a block ends after a multiple of them (with
    /// `-N`, each block holds `-N` times `-L` records).
    pub lines: Option<usize>,
    /// `--header`: what it matches at the start of the input goes before every block.
    pub header: Option<HeaderPattern>,
    /// `--remove-rec-sep`: the record marks are taken out of each block (every
    /// `recend` then `recstart` between records, `recstart` at its start, `recend` at its
    /// end).
    pub remove_marks: bool,
    /// `-r`: lines holding only white space are dropped.
    pub skip_empty: bool,
    /// `--block-timeout`: a block not read whole within this long is cut short, after the
    /// last whole record read so far (the input must be a [`TimedReader`] for reads to
    /// stop waiting).
    pub timeout: Option<Duration>,
}

/// `--header` with `--pipe`: the header is what this matches at the very start of the
/// input, or a header read already (`--group-by` reads it before its filter).
#[derive(Clone, Debug)]
pub enum HeaderPattern {
    Matching(Regex),
    Given(Vec<u8>),
}

impl HeaderPattern {
    /// Reads `--header`'s value as GNU parallel does: `:` is the first line, a number N the
    /// first N lines, anything else a regular expression (`.*\n.*\n`).
    pub fn parse(text: &str) -> Result<HeaderPattern, String> {
        let pattern = match text {
            ":" => r"(?:.*\n)".to_owned(),
            _ if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
                let lines: usize = text
                    .parse()
                    .map_err(|_| format!("`--header {text}`: too many lines"))?;
                format!(r"(?:.*\n){{{lines}}}")
            }
            _ => text.to_owned(),
        };
        let bad =
            |err: regex::Error| format!("`--header {text}` is not a regular expression: {err}");
        // Checked alone first, so that an error shows the pattern as it was given.
        regex::bytes::RegexBuilder::new(&pattern)
            .unicode(false)
            .build()
            .map_err(bad)?;
        Regex::new(&format!(r"(?-u)\A(?:{pattern})"))
            .map(HeaderPattern::Matching)
            .map_err(bad)
    }
}

impl PartialEq for HeaderPattern {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (HeaderPattern::Matching(a), HeaderPattern::Matching(b)) => a.as_str() == b.as_str(),
            (HeaderPattern::Given(a), HeaderPattern::Given(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for HeaderPattern {}

/// `--regexp`: `--recstart` and `--recend` as regular expressions, matched as GNU
/// parallel matches them (Perl's `m` flag when cutting blocks from a stream, `s` when
/// cutting parts of a file and taking marks out). A split between records is where an
/// end is followed by a start.
#[derive(Clone, Debug)]
pub struct RecordPatterns {
    /// An end then a start, with `^` and `$` at line ends; `fanout_end` is the end.
    between_lines: Regex,
    /// An end then a start, `.` matching a newline too; `fanout_end` is the end.
    between: Regex,
    /// A start at the start of a block.
    start: Regex,
    /// An end at the end of a block, or before its last newline, `fanout_nl`.
    end: Regex,
}

impl RecordPatterns {
    /// The patterns, with GNU parallel's defaults: with neither given a record ends with a
    /// newline; with one given the other is empty, and an empty `--recend` alone is any
    /// one byte.
    pub fn new(recstart: Option<&str>, recend: Option<&str>) -> Result<RecordPatterns, String> {
        let (start, end) = match (recstart, recend) {
            (None, None) => ("", "\n"),
            (Some(start), None) => (start, ""),
            (None, Some("")) => ("", "(?s:.)"),
            (None, Some(end)) => ("", end),
            (Some(start), Some(end)) => (start, end),
        };
        for (option, pattern) in [("--recstart", start), ("--recend", end)] {
            regex::bytes::RegexBuilder::new(pattern)
                .unicode(false)
                .build()
                .map_err(|err| {
                    format!("`{option} {pattern}` is not a regular expression: {err}")
                })?;
        }
        let build = |pattern: String| {
            regex::bytes::RegexBuilder::new(&pattern)
                .unicode(false)
                .build()
                .map_err(|err| format!("--recstart and --recend do not go together: {err}"))
        };
        // Groups of fanout's own are named, so that the patterns' own groups do not count.
        Ok(RecordPatterns {
            between_lines: build(format!("(?m)(?P<fanout_end>(?:{end}))(?:{start})"))?,
            between: build(format!("(?s)(?P<fanout_end>(?:{end}))(?:{start})"))?,
            start: build(format!(r"(?s)\A(?:{start})"))?,
            end: build(format!(r"(?s)(?:{end})(?P<fanout_nl>\n?)\z"))?,
        })
    }

    /// Where records may split in `haystack`, in order: the ends of the end part of the
    /// non-overlapping matches of `regex`.
    fn all_splits<'h>(regex: &'h Regex, haystack: &'h [u8]) -> impl Iterator<Item = usize> + 'h {
        regex
            .captures_iter(haystack)
            .filter_map(|c| c.name("fanout_end").map(|end| end.end()))
    }

    /// [`RecordPatterns::all_splits`] but at the very start: a record in a stream is
    /// never empty.
    fn splits<'h>(regex: &'h Regex, haystack: &'h [u8]) -> impl Iterator<Item = usize> + 'h {
        Self::all_splits(regex, haystack).filter(|&at| at > 0)
    }

    /// The split after the `n`th record of a stream's buffer.
    fn nth_split(&self, haystack: &[u8], n: usize) -> Option<usize> {
        Self::splits(&self.between_lines, haystack).nth(n.max(1) - 1)
    }

    /// The last split in a stream's buffer.
    fn last_split(&self, haystack: &[u8]) -> Option<usize> {
        Self::splits(&self.between_lines, haystack).last()
    }

    /// With `-N`, the input's first block when it does not start with a record: what comes
    /// before the first split, as GNU parallel passes it on alone.
    fn garbage(&self, haystack: &[u8]) -> Option<usize> {
        if self.start.is_match(haystack) {
            return None;
        }
        Self::splits(&self.between_lines, haystack).next()
    }

    /// The last split in a part's bytes read so far (`--pipe-part`), as GNU parallel
    /// matches `^(.*END)START` on what it read.
    fn last_part_split(&self, haystack: &[u8]) -> Option<usize> {
        // At the very start too: the part then ends where the block does.
        Self::all_splits(&self.between, haystack).last()
    }

    /// `block` with its marks taken out (`--remove-rec-sep`), as GNU parallel takes them:
    /// every end followed by a start, then a start at the start and an end at the end.
    fn without_marks(&self, block: &[u8]) -> Vec<u8> {
        let out = self.between_lines.replace_all(block, &b""[..]);
        let out = self.start.replace(&out, &b""[..]).into_owned();
        self.end.replace(&out, &b"${fanout_nl}"[..]).into_owned()
    }
}

impl PartialEq for RecordPatterns {
    fn eq(&self, other: &Self) -> bool {
        self.between_lines.as_str() == other.between_lines.as_str()
    }
}

impl Eq for RecordPatterns {}

/// What blocks are cut from: a stream read as it is, or a [`TimedReader`] whose reads
/// give up at a deadline.
pub trait BlockSource {
    /// Reads some bytes into `into`: how many (0 at the end of the input), or `None` when
    /// `deadline` passed first.
    fn read_by(&mut self, into: &mut [u8], deadline: Option<Instant>) -> io::Result<Option<usize>>;
}

impl<R: Read + ?Sized> BlockSource for R {
    fn read_by(&mut self, into: &mut [u8], _: Option<Instant>) -> io::Result<Option<usize>> {
        read_some(self, into).map(Some)
    }
}

/// A stream read by a thread of its own, so that a read can give up at a deadline while
/// the thread goes on waiting for data.
pub struct TimedReader {
    chunks: Receiver<io::Result<Vec<u8>>>,
    /// What came and was not handed on yet.
    pending: Vec<u8>,
    ended: bool,
}

impl TimedReader {
    /// Reads `input` on a thread of its own, a few chunks ahead at most.
    pub fn spawn(mut input: impl Read + Send + 'static) -> TimedReader {
        let (sender, chunks) = mpsc::sync_channel(4);
        std::thread::spawn(move || {
            loop {
                let mut chunk = vec![0; 64 * 1024];
                let read = read_some(&mut input, &mut chunk).map(|n| {
                    chunk.truncate(n);
                    chunk
                });
                let last = !matches!(&read, Ok(chunk) if !chunk.is_empty());
                if sender.send(read).is_err() || last {
                    break;
                }
            }
        });
        TimedReader {
            chunks,
            pending: Vec::new(),
            ended: false,
        }
    }
}

impl BlockSource for TimedReader {
    fn read_by(&mut self, into: &mut [u8], deadline: Option<Instant>) -> io::Result<Option<usize>> {
        if self.pending.is_empty() && !self.ended {
            let chunk = match deadline {
                None => self.chunks.recv().map_err(|_| ()),
                Some(at) => match self
                    .chunks
                    .recv_timeout(at.saturating_duration_since(Instant::now()))
                {
                    Err(RecvTimeoutError::Timeout) => return Ok(None),
                    other => other.map_err(|_| ()),
                },
            };
            match chunk {
                Ok(Ok(chunk)) if !chunk.is_empty() => self.pending = chunk,
                Ok(Err(err)) => return Err(err),
                // The end, or a reader that is gone.
                _ => self.ended = true,
            }
        }
        let n = self.pending.len().min(into.len());
        into[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(Some(n))
    }
}

/// GNU parallel's `--block` default: 1 MiB.
pub const DEFAULT_BLOCK: usize = 1 << 20;

/// The largest block GNU parallel grows to (2 GiB less one byte).
const MAX_BLOCK: usize = (1 << 31) - 1;

/// `--block SIZE`, in bytes, at most the largest block GNU parallel reads.
pub fn parse_block_size(text: &str) -> Result<usize, String> {
    parse_size("--block", text).map(|bytes| bytes.min(MAX_BLOCK as u64) as usize)
}

/// `--recstart` and `--recend` as GNU parallel reads them: with neither given a record
/// ends with a newline; with one given, the other is empty. `\n`, `\t`, `\r`, `\0`, `\\`,
/// `\'` and `\"` are read as in printf.
pub fn record_marks(recstart: Option<&str>, recend: Option<&str>) -> (Vec<u8>, Vec<u8>) {
    let (start, end) = match (recstart, recend) {
        (None, None) => ("", "\n"),
        (Some(start), None) => (start, ""),
        (None, Some(end)) => ("", end),
        (Some(start), Some(end)) => (start, end),
    };
    (unescape(start), unescape(end))
}

fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes().peekable();
    while let Some(b) = bytes.next() {
        let escaped = match (b, bytes.peek()) {
            (b'\\', Some(b'n')) => Some(b'\n'),
            (b'\\', Some(b't')) => Some(b'\t'),
            (b'\\', Some(b'r')) => Some(b'\r'),
            (b'\\', Some(b'0')) => Some(b'\0'),
            (b'\\', Some(&c @ (b'\\' | b'\'' | b'"'))) => Some(c),
            _ => None,
        };
        match escaped {
            Some(c) => {
                bytes.next();
                out.push(c);
            }
            None => out.push(b),
        }
    }
    out
}

/// Reads `input` to its end and hands each block to `block` with the header that goes
/// before it (empty without `--header`), in order. `warn` hears when a record longer
/// than the block made the block grow.
pub fn split_blocks(
    input: &mut (impl BlockSource + ?Sized),
    options: &BlockOptions,
    mut block: impl FnMut(&[u8], &[u8]) -> io::Result<()>,
    mut warn: impl FnMut(String),
) -> io::Result<()> {
    let mut block = |header: &[u8], body: &[u8]| -> io::Result<()> {
        match (&options.patterns, options.remove_marks) {
            (Some(patterns), true) => block(header, &patterns.without_marks(body)),
            (None, true) => block(
                header,
                &without_marks(body, &options.recstart, &options.recend),
            ),
            (_, false) => block(header, body),
        }
    };
    let mut size = options.size.clamp(1, MAX_BLOCK);
    let mut buf: Vec<u8> = Vec::new();
    let header = match &options.header {
        Some(pattern) => read_header(input, &mut buf, size, pattern)?,
        None => Vec::new(),
    };
    let separator: Vec<u8> = [options.recend.as_slice(), &options.recstart].concat();
    let blank_lines = options
        .skip_empty
        .then(|| Regex::new(r"(?m-u)^\s*\n").expect("a valid pattern"));
    let nth_split = |haystack: &[u8], n: usize| match &options.patterns {
        Some(patterns) => patterns.nth_split(haystack, n),
        None => nth_match(haystack, &separator, n.max(1)).map(|at| at + options.recend.len()),
    };
    let last_split = |haystack: &[u8]| match &options.patterns {
        Some(patterns) => patterns.last_split(haystack),
        None => last_match(haystack, &separator).map(|at| at + options.recend.len()),
    };
    // With `--regexp -N`, what comes before the first record is a block of its own.
    let mut garbage = options
        .patterns
        .as_ref()
        .filter(|_| options.records.is_some());
    loop {
        let want = size - buf.len() % size;
        let deadline = options.timeout.map(|t| Instant::now() + t);
        let (eof, cut_short) = fill(input, &mut buf, want, deadline)?;
        if let Some(blank) = &blank_lines {
            buf = blank.replace_all(&buf, &b""[..]).into_owned();
            if buf.is_empty() {
                if eof {
                    break;
                }
                continue;
            }
        }
        // Blocks are handed on from `buf[..done]`, which is dropped once, after.
        let mut done = 0;
        let records = match (options.records, options.lines) {
            (Some(n), Some(lines)) => Some(n.saturating_mul(lines)),
            (records, _) => records,
        };
        match records {
            // Every n records, as far as the buffer goes; a match at the very start
            // does not count (GNU parallel looks from the second byte on).
            Some(n) => {
                if let Some(end) = garbage.take().and_then(|p| p.garbage(&buf)) {
                    block(&header, &buf[..end])?;
                    done = end;
                }
                while done < buf.len() {
                    let Some(at) = nth_split(&buf[done..], n) else {
                        break;
                    };
                    let end = done + at;
                    block(&header, &buf[done..end])?;
                    done = end;
                }
            }
            // Up to the last newline after a whole number of -L lines.
            None if options.lines.is_some() => {
                let lines = options.lines.unwrap_or(1).max(1);
                let newlines = memchr::memchr_iter(b'\n', &buf).count();
                let keep = newlines - newlines % lines;
                if keep > 0
                    && let Some(at) = memchr::memchr_iter(b'\n', &buf).nth(keep - 1)
                {
                    done = at + 1;
                    block(&header, &buf[..done])?;
                }
            }
            // Up to the last record boundary in the buffer.
            None if !eof => {
                if let Some(at) = last_split(&buf) {
                    done = at;
                    if done > 0 {
                        block(&header, &buf[..done])?;
                    }
                }
            }
            None => {}
        }
        buf.drain(..done);
        if eof {
            break;
        }
        if done == 0 && size < MAX_BLOCK && !cut_short {
            let old = size;
            size = ((size as f64 * 1.3 + 1.0).ceil() as usize).min(MAX_BLOCK);
            warn(format!(
                "a record was longer than {old} bytes: the block grows to {size} bytes"
            ));
        }
    }
    if !buf.is_empty() {
        block(&header, &buf)?;
    }
    Ok(())
}

/// `block` without its record marks, as GNU parallel's `--remove-rec-sep` takes them
/// out: each `recend` followed by `recstart`, then a `recstart` at the start and a `recend`
/// at the end.
fn without_marks(block: &[u8], recstart: &[u8], recend: &[u8]) -> Vec<u8> {
    let between = [recend, recstart].concat();
    let mut out = Vec::with_capacity(block.len());
    let mut rest = block;
    while let Some(at) = memchr::memmem::find(rest, &between).filter(|_| !between.is_empty()) {
        out.extend_from_slice(&rest[..at]);
        rest = &rest[at + between.len()..];
    }
    out.extend_from_slice(rest);
    if out.starts_with(recstart) {
        out.drain(..recstart.len());
    }
    if out.ends_with(recend) {
        out.truncate(out.len() - recend.len());
    }
    out
}

/// The header `pattern` matches at the start of the input, read `size` bytes at a time
/// until it matches (as GNU parallel reads it); what was read after it stays in `buf`.
/// When the input ends first there is no header, and what was read is data.
pub fn read_header(
    input: &mut (impl BlockSource + ?Sized),
    buf: &mut Vec<u8>,
    size: usize,
    pattern: &HeaderPattern,
) -> io::Result<Vec<u8>> {
    let pattern = match pattern {
        HeaderPattern::Given(header) => return Ok(header.clone()),
        HeaderPattern::Matching(pattern) => pattern,
    };
    loop {
        let start = buf.len();
        buf.resize(start + size, 0);
        let n = input.read_by(&mut buf[start..], None)?.unwrap_or(0);
        buf.truncate(start + n);
        if n == 0 {
            return Ok(Vec::new());
        }
        if let Some(header) = pattern.find(buf) {
            return Ok(buf.drain(..header.end()).collect());
        }
    }
}

/// Reads `want` more bytes into `buf`, up to the end or the deadline; says whether the
/// end was met, and whether the deadline cut the reading short.
fn fill(
    input: &mut (impl BlockSource + ?Sized),
    buf: &mut Vec<u8>,
    want: usize,
    deadline: Option<Instant>,
) -> io::Result<(bool, bool)> {
    let start = buf.len();
    buf.resize(start + want, 0);
    let mut got = 0;
    let (mut eof, mut cut_short) = (false, false);
    while got < want {
        match input.read_by(&mut buf[start + got..], deadline)? {
            None => {
                cut_short = true;
                break;
            }
            Some(0) => {
                eof = true;
                break;
            }
            Some(n) => got += n,
        }
    }
    buf.truncate(start + got);
    Ok((eof, cut_short))
}

fn read_some(input: &mut (impl Read + ?Sized), into: &mut [u8]) -> io::Result<usize> {
    loop {
        match input.read(into) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

/// Where the `n`th match of `needle` starts, counting only matches from the second byte
/// on.
fn nth_match(haystack: &[u8], needle: &[u8], n: usize) -> Option<usize> {
    let mut at = 0;
    for _ in 0..n {
        at = find(haystack, needle, at + 1)?;
    }
    Some(at)
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > haystack.len() {
        return None;
    }
    if needle.is_empty() {
        return Some(from);
    }
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

fn last_match(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(haystack.len());
    }
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// `--pipe-part`: where `file` (of `size` bytes, its first `skip` bytes a header) is cut,
/// as GNU parallel cuts it: the first cut after the header, then every `block` bytes moved
/// on to just after the next `recend` + `recstart` (anywhere, when both are empty), and
/// the end. Consecutive cuts bound one job's part; a file of no more than its header has
/// none.
pub fn part_positions(
    file: &mut (impl Read + Seek),
    size: u64,
    skip: u64,
    block: u64,
    recend: &[u8],
    recstart: &[u8],
    patterns: Option<&RecordPatterns>,
) -> io::Result<Vec<u64>> {
    let separator: Vec<u8> = [recend, recstart].concat();
    let block = block.max(1);
    let mut positions = vec![skip];
    let mut pos = block + skip;
    while pos < size {
        if separator.is_empty() && patterns.is_none() {
            positions.push(pos);
        } else {
            file.seek(SeekFrom::Start(pos))?;
            let mut buf = Vec::new();
            let mut chunk = vec![0; 128 * 1024];
            loop {
                let n = read_some(file, &mut chunk)?;
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                // A pattern's split is its last in what was read so far, as GNU parallel
                // matches `^(.*END)START` on each read.
                let split = match patterns {
                    Some(patterns) => patterns.last_part_split(&buf),
                    None => find(&buf, &separator, 0).map(|at| at + recend.len()),
                };
                if let Some(at) = split {
                    pos += at as u64;
                    positions.push(pos);
                    break;
                }
            }
        }
        pos += block;
    }
    if positions.last() != Some(&size) {
        positions.push(size);
    }
    if positions.len() == 1 {
        positions.clear();
    }
    Ok(positions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(input: &str, options: &BlockOptions) -> Vec<String> {
        let mut out = Vec::new();
        split_blocks(
            &mut input.as_bytes(),
            options,
            |header, body| {
                out.push(format!(
                    "{}{}",
                    String::from_utf8_lossy(header),
                    String::from_utf8_lossy(body)
                ));
                Ok(())
            },
            |_| {},
        )
        .unwrap();
        out
    }

    fn lines(size: usize) -> BlockOptions {
        BlockOptions {
            size,
            recstart: Vec::new(),
            recend: b"\n".to_vec(),
            patterns: None,
            records: None,
            lines: None,
            header: None,
            remove_marks: false,
            skip_empty: false,
            timeout: None,
        }
    }

    #[test]
    fn minus_l_cuts_blocks_after_whole_records_of_n_lines() {
        let by = |n| BlockOptions {
            lines: Some(n),
            ..lines(7)
        };
        // 7 bytes hold 3 lines: the block ends after 2, a whole record.
        assert_eq!(
            blocks("1\n2\n3\n4\n5\n", &by(2)),
            ["1\n2\n", "3\n4\n", "5\n"]
        );
        assert_eq!(
            blocks("1\n2\n3\n4\n5\n6\n", &by(3)),
            ["1\n2\n3\n", "4\n5\n6\n"]
        );
        // With -N: N records of L lines each.
        let both = BlockOptions {
            records: Some(2),
            ..by(2)
        };
        assert_eq!(blocks("1\n2\n3\n4\n5\n", &both), ["1\n2\n3\n4\n", "5\n"]);
    }

    #[test]
    fn blocks_end_at_the_last_record_end_that_fits() {
        assert_eq!(blocks("a\nb\nc", &lines(2)), ["a\n", "b\n", "c"]);
        assert_eq!(blocks("a\nb\ncc\nd\n", &lines(5)), ["a\nb\n", "cc\nd\n"]);
        assert_eq!(blocks("", &lines(5)), Vec::<String>::new());
    }

    #[test]
    fn a_long_record_grows_the_block_as_gnu_parallel_does() {
        // Checked against GNU parallel: `--block 3` gives blocks of 2, 11 and 5 bytes.
        let sizes: Vec<usize> = blocks("a\nbbbbbbbbbb\nc\nddd", &lines(3))
            .iter()
            .map(String::len)
            .collect();
        assert_eq!(sizes, [2, 11, 5]);
    }

    #[test]
    fn n_records_per_block_skip_a_match_at_the_very_start() {
        let options = BlockOptions {
            records: Some(1),
            ..lines(1000)
        };
        assert_eq!(blocks("\n\na\n\nb\n", &options), ["\n\n", "a\n", "\nb\n"]);
        let two = BlockOptions {
            records: Some(2),
            ..lines(3)
        };
        assert_eq!(blocks("1\n2\n3\n4\n5\n", &two), ["1\n2\n", "3\n4\n", "5\n"]);
    }

    #[test]
    fn record_starts_and_ends_split_between_them() {
        let (recstart, recend) = record_marks(Some(">"), None);
        let options = BlockOptions {
            recstart,
            recend,
            records: Some(1),
            ..lines(100)
        };
        assert_eq!(blocks("ab>x\n>y\n", &options), ["ab", ">x\n", ">y\n"]);
        assert_eq!(record_marks(None, Some("\\n;")), (vec![], b"\n;".to_vec()));
        assert_eq!(record_marks(None, Some("\\\\n")), (vec![], b"\\n".to_vec()));
        assert_eq!(record_marks(None, None), (vec![], b"\n".to_vec()));
    }

    #[test]
    fn headers_are_a_line_n_lines_or_what_a_pattern_matches_at_the_start() {
        let header = |text: &str, data: &str| {
            let pattern = HeaderPattern::parse(text).unwrap();
            let options = BlockOptions {
                header: Some(pattern),
                records: Some(1),
                ..lines(1000)
            };
            blocks(data, &options)
        };
        assert_eq!(header(":", "h\nr\n"), ["h\nr\n"]);
        assert_eq!(header("2", "h\ni\nr\ns\n"), ["h\ni\nr\n", "h\ni\ns\n"]);
        assert_eq!(header("0", "r\ns\n"), ["r\n", "s\n"]);
        assert_eq!(header("#.*\n", "#h\nr\n"), ["#h\nr\n"]);
        // Only at the very start: no match there is no header.
        assert_eq!(header("r.*\n", "h\nr\n"), ["h\n", "r\n"]);
        // Too few lines for the header: no header, and the lines are data.
        assert_eq!(header("3", "h\nr\n"), ["h\n", "r\n"]);
        let err = HeaderPattern::parse("(").unwrap_err();
        assert!(
            err.starts_with("`--header (` is not a regular expression"),
            "{err}"
        );
    }

    #[test]
    fn remove_rec_sep_takes_the_record_marks_out_of_each_block() {
        let options = BlockOptions {
            remove_marks: true,
            records: Some(2),
            ..lines(1000)
        };
        assert_eq!(blocks("a\nb\nc\n", &options), ["ab", "c"]);
        let (recstart, recend) = record_marks(Some(">"), Some(";"));
        let options = BlockOptions {
            recstart,
            recend,
            ..options
        };
        assert_eq!(blocks(">x;>y;>z;", &options), ["xy", "z"]);
    }

    #[test]
    fn the_header_goes_before_every_block() {
        let options = BlockOptions {
            header: Some(HeaderPattern::parse(":").unwrap()),
            records: Some(2),
            ..lines(1000)
        };
        assert_eq!(
            blocks("h\nr1\nr2\nr3\n", &options),
            ["h\nr1\nr2\n", "h\nr3\n"]
        );
    }

    #[test]
    fn a_block_that_takes_too_long_is_cut_after_the_last_whole_record() {
        // A stream that writes two records and half of a third, then waits, then ends.
        let (reader, mut writer) = std::io::pipe().unwrap();
        let feeder = std::thread::spawn(move || {
            use std::io::Write as _;
            writer.write_all(b"a\nb\nc").unwrap();
            std::thread::sleep(Duration::from_millis(500));
            writer.write_all(b"c\nd\n").unwrap();
        });
        let options = BlockOptions {
            timeout: Some(Duration::from_millis(100)),
            ..lines(1 << 20)
        };
        let mut got = Vec::new();
        let mut input = TimedReader::spawn(reader);
        split_blocks(
            &mut input,
            &options,
            |_, body| {
                got.push(String::from_utf8_lossy(body).into_owned());
                Ok(())
            },
            |_| {},
        )
        .unwrap();
        feeder.join().unwrap();
        assert_eq!(got, ["a\nb\n", "cc\nd\n"]);
    }

    #[test]
    fn blank_lines_can_be_dropped() {
        let options = BlockOptions {
            skip_empty: true,
            records: Some(1),
            ..lines(1000)
        };
        assert_eq!(blocks("a\n\n  \nb\n", &options), ["a\n", "b\n"]);
    }

    #[test]
    fn blocks_are_at_most_two_gigabytes() {
        assert_eq!(parse_block_size("1M"), Ok(1 << 20));
        assert_eq!(parse_block_size("3G"), Ok(MAX_BLOCK));
        assert!(parse_block_size("0").is_err());
    }

    #[test]
    fn parts_are_cut_after_the_record_past_each_block_as_gnu_parallel_cuts_them() {
        let cut = |text: &str, skip: u64, block: u64, recend: &str, recstart: &str| {
            let mut file = io::Cursor::new(text.as_bytes().to_vec());
            let size = text.len() as u64;
            part_positions(
                &mut file,
                size,
                skip,
                block,
                recend.as_bytes(),
                recstart.as_bytes(),
                None,
            )
            .unwrap()
        };
        // Lines of 2 bytes, blocks of 3: each cut just after the newline past 3, 6, …
        assert_eq!(cut("a\nb\nc\nd\ne\n", 0, 3, "\n", ""), [0, 4, 8, 10]);
        // A header of 2 bytes is skipped; cuts count from after it.
        assert_eq!(cut("h\na\nb\nc\n", 2, 2, "\n", ""), [2, 6, 8]);
        // A record longer than the block: the cut waits for its end.
        assert_eq!(cut("aaaaaaaa\nb\n", 0, 2, "\n", ""), [0, 9, 11]);
        // Records ending anywhere: cuts every block.
        assert_eq!(cut("abcdefg", 0, 3, "", ""), [0, 3, 6, 7]);
        // recstart: cut before it.
        assert_eq!(cut(">a\n>b\n>c\n", 0, 2, "\n", ">"), [0, 3, 6, 9]);
        assert!(cut("", 0, 3, "\n", "").is_empty());
        assert!(cut("h\n", 2, 3, "\n", "").is_empty());
    }

    fn patterns(recstart: Option<&str>, recend: Option<&str>) -> RecordPatterns {
        RecordPatterns::new(recstart, recend).unwrap()
    }

    #[test]
    fn record_patterns_split_where_an_end_meets_a_start() {
        let starts = BlockOptions {
            patterns: Some(patterns(Some(r"a\d"), None)),
            ..lines(3)
        };
        // A block ends before the last start that leaves it whole.
        assert_eq!(
            blocks("a1\nb2\na3\nb4\nxa5\n", &starts),
            ["a1\nb2\n", "a3\nb4\nxa5\n"]
        );
        // -N: every N records; a start at the very beginning splits nothing.
        let one = BlockOptions {
            records: Some(1),
            ..starts.clone()
        };
        assert_eq!(
            blocks("a1\nb2\na3\nb4\nxa5\n", &one),
            ["a1\nb2\n", "a3\nb4\nx", "a5\n"]
        );
        // -N: what comes before the first record is a block of its own.
        let lines_start = BlockOptions {
            patterns: Some(patterns(Some("^>"), None)),
            records: Some(2),
            ..lines(100)
        };
        assert_eq!(
            blocks("junk\n>a\n1\n>b\n2\n>c\n", &lines_start),
            ["junk\n", ">a\n1\n>b\n2\n", ">c\n"]
        );
        // An end alone: a pattern's longest match ends a record.
        let ends = BlockOptions {
            patterns: Some(patterns(None, Some(";+"))),
            records: Some(1),
            ..lines(100)
        };
        assert_eq!(blocks("x;;y;z;;;w\n", &ends), ["x;;", "y;", "z;;;", "w\n"]);
        // Neither: lines; an empty end alone: any byte.
        let neither = BlockOptions {
            patterns: Some(patterns(None, None)),
            records: Some(1),
            ..lines(100)
        };
        assert_eq!(blocks("a\nb\n", &neither), ["a\n", "b\n"]);
        let any = BlockOptions {
            patterns: Some(patterns(None, Some(""))),
            records: Some(1),
            ..lines(100)
        };
        assert_eq!(blocks("abc", &any), ["a", "b", "c"]);
    }

    #[test]
    fn record_patterns_come_out_with_remove_rec_sep() {
        let options = BlockOptions {
            patterns: Some(patterns(Some(r"a\d"), None)),
            remove_marks: true,
            ..lines(3)
        };
        assert_eq!(
            blocks("a1\nb2\na3\nb4\nxa5\n", &options),
            ["\nb2\n", "\nb4\nx\n"]
        );
        // An end at the very end goes, a newline after it stays (Perl's `$`).
        let ends = patterns(None, Some(";"));
        assert_eq!(ends.without_marks(b"a;b;\n"), b"ab\n");
        // A group in a pattern is the pattern's own.
        let grouped = patterns(Some("x"), Some("(;)"));
        assert_eq!(grouped.without_marks(b"xa;xb;"), b"ab");
    }

    #[test]
    fn record_patterns_cut_parts_at_the_last_split_read() {
        let text = ">a\n1\n>b\n22\n>c\n333\n>d\n4\n";
        let mut file = io::Cursor::new(text.as_bytes().to_vec());
        let starts = patterns(Some(">"), None);
        let cuts =
            part_positions(&mut file, text.len() as u64, 0, 3, b"", b"", Some(&starts)).unwrap();
        // The whole rest is read at once from byte 3, and the cut is at the last start in
        // it, not the first; nothing after it splits.
        assert_eq!(cuts, [0, 18, 23]);
        // A start just where a block ends cuts the part there.
        let text = "aa\n>b\n";
        let mut file = io::Cursor::new(text.as_bytes().to_vec());
        let cuts =
            part_positions(&mut file, text.len() as u64, 0, 3, b"", b"", Some(&starts)).unwrap();
        assert_eq!(cuts, [0, 3, 6]);
    }

    #[test]
    fn record_patterns_that_do_not_compile_name_their_option() {
        let err = RecordPatterns::new(Some("a("), None).unwrap_err();
        assert!(err.contains("`--recstart a(`"), "{err}");
        let err = RecordPatterns::new(None, Some("[")).unwrap_err();
        assert!(err.contains("`--recend [`"), "{err}");
    }
}
