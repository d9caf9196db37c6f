//! `--group-by` with `--pipe`: lines with the same value (of a column, or computed by a
//! Perl expression) make one record, so that a block never splits a group. As in GNU
//! parallel, the input goes through a `perl` filter that puts a marker before each group;
//! the blocks are cut before markers and the markers taken out.

use std::io::{self, Read, Write};
use std::process::{Child, ChildStdout, Command, Stdio};

/// The perl filter `--group-by VALUE` asks for, and the marker it puts before each group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupBy {
    perl_args: Vec<String>,
    /// Twenty random letters and digits, which no input is likely to hold.
    pub marker: Vec<u8>,
}

/// What the value of `--group-by` (or `--shard`, `--bin`) names: a column (number or
/// name) and the Perl code after it, or Perl code alone.
pub(super) fn column_and_code(value: &str) -> (Option<&str>, &str) {
    let word_end = value
        .find(|c: char| c.is_whitespace())
        .unwrap_or(value.len());
    let (word, rest) = value.split_at(word_end);
    let is_number = {
        let digits = word.strip_prefix('-').unwrap_or(word);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    };
    let is_name = word
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if is_number || is_name {
        (Some(word), rest.trim_start())
    } else {
        (None, value)
    }
}

/// The column `word` (of option's `value`) stands for, from 1: its number, or the
/// position of the name in `header` split at `colsep`.
pub(super) fn column_number(
    option: &str,
    value: &str,
    word: &str,
    colsep: &str,
    header: &[u8],
) -> Result<i64, String> {
    if !GroupBy::names_a_column(word) {
        return word
            .parse()
            .map_err(|_| format!("`{option} {value}`: {word} is not a column"));
    }
    let separator = regex::bytes::Regex::new(colsep)
        .map_err(|err| format!("`--colsep {colsep}` is not a regular expression: {err}"))?;
    // Its line end is no part of the last name.
    let header = header.strip_suffix(b"\n").unwrap_or(header);
    let header = header.strip_suffix(b"\r").unwrap_or(header);
    let position = separator
        .split(header)
        .position(|column| column == word.as_bytes())
        .ok_or_else(|| {
            format!(
                "`{option} {value}`: the header names no column {word} (it is {:?})",
                String::from_utf8_lossy(header).trim_end()
            )
        })?;
    Ok(position as i64 + 1)
}

impl GroupBy {
    /// Whether `value` names a column (`UserID`, `UserID s/\D//g`): the first line is then
    /// the header, read before the filter starts.
    pub fn names_a_column(value: &str) -> bool {
        column_and_code(value)
            .0
            .is_some_and(|word| !word.starts_with(|c: char| c == '-' || c.is_ascii_digit()))
    }

    /// `--group-by VALUE` as GNU parallel reads it: a column number, a column name (looked
    /// up in `header` split at `colsep`), either followed by a Perl expression that
    /// changes the value in `$_`, or a Perl expression alone over the whole line.
    pub fn parse(value: &str, colsep: &str, header: &[u8]) -> Result<GroupBy, String> {
        let (column, code) = column_and_code(value);
        let column = column
            .map(|word| column_number("--group-by", value, word, colsep, header))
            .transpose()?;
        const LETTERS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let marker: Vec<u8> = (0..20)
            .map(|_| LETTERS[rand::random_range(0..LETTERS.len())])
            .collect();
        let marker_text = String::from_utf8_lossy(&marker).into_owned();
        // GNU parallel's loop: a marker wherever the value differs from the line before's.
        let value_of = match column {
            // Counted from 1; from the end when negative (-1 is the last).
            Some(n) if n > 0 => format!("$F[{}]", n - 1),
            Some(n) if n < 0 => format!("$F[{n}]"),
            Some(_) => "$F[0]".to_owned(),
            None => "$_".to_owned(),
        };
        let script = format!(
            "BEGIN{{ $last = \"{marker_text}\"; }} {{ local $_={value_of}; {code}; \
             if(($last) ne $_) {{ print \"{marker_text}\"; $last = $_; }} }}"
        );
        let mut perl_args = Vec::new();
        if column.is_some() {
            // perl's -F wants no literal white space.
            let separator = colsep
                .replace('\t', "\\t")
                .replace('"', "\\\"")
                .replace(' ', "\\040{1}");
            perl_args.push("-a".to_owned());
            perl_args.push(format!("-F{separator}"));
        }
        perl_args.push("-pe".to_owned());
        perl_args.push(script);
        Ok(GroupBy { perl_args, marker })
    }

    /// `input` (`before` first) through the filter: a stream of the same lines, each group
    /// after a marker.
    pub fn filter(
        &self,
        before: Vec<u8>,
        input: impl Read + Send + 'static,
    ) -> io::Result<GroupFilter> {
        perl_filter("--group-by", &self.perl_args, &[], before, input)
    }
}

/// `perl ARGS` (with `env`) reading `input` (`before` first), fed by a thread of its own
/// so that reading its output never waits on writing to it; `option` names what wants it,
/// for errors.
pub(super) fn perl_filter(
    option: &'static str,
    args: &[String],
    env: &[(&str, &str)],
    before: Vec<u8>,
    mut input: impl Read + Send + 'static,
) -> io::Result<GroupFilter> {
    let mut child = Command::new("perl")
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|err| {
            io::Error::other(format!("{option} needs perl, which did not start: {err}"))
        })?;
    let mut stdin = child.stdin.take().expect("a piped stdin");
    let out = child.stdout.take().expect("a piped stdout");
    std::thread::spawn(move || {
        if stdin.write_all(&before).is_ok() {
            let _ = io::copy(&mut input, &mut stdin);
        }
    });
    Ok(GroupFilter {
        option,
        child,
        out,
        ended: false,
    })
}

/// The output of a perl filter of the input (`--group-by`'s, `--shard`'s); the end of it
/// is an error if the filter failed.
pub struct GroupFilter {
    option: &'static str,
    child: Child,
    out: ChildStdout,
    ended: bool,
}

impl Read for GroupFilter {
    fn read(&mut self, into: &mut [u8]) -> io::Result<usize> {
        let n = self.out.read(into)?;
        if n == 0 && !into.is_empty() && !self.ended {
            self.ended = true;
            let status = self.child.wait()?;
            if !status.success() {
                return Err(io::Error::other(format!(
                    "{}'s perl filter failed ({status})",
                    self.option
                )));
            }
        }
        Ok(n)
    }
}

impl Drop for GroupFilter {
    fn drop(&mut self) {
        if !self.ended {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(value: &str, colsep: &str, header: &[u8], input: &str) -> String {
        let group_by = GroupBy::parse(value, colsep, header).unwrap();
        let mut out = String::new();
        group_by
            .filter(Vec::new(), io::Cursor::new(input.as_bytes().to_vec()))
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        out.replace(std::str::from_utf8(&group_by.marker).unwrap(), "|")
    }

    #[test]
    fn a_marker_goes_before_each_group() {
        let input = "123,1\n123,2\n12-3,1\n221,3\n";
        assert_eq!(
            through("1", ",", b"", input),
            "|123,1\n123,2\n|12-3,1\n|221,3\n"
        );
        assert_eq!(
            through("1 s/\\D//g", ",", b"", input),
            "|123,1\n123,2\n12-3,1\n|221,3\n"
        );
        assert_eq!(
            through("UserID", ",", b"UserID,C\n", input),
            "|123,1\n123,2\n|12-3,1\n|221,3\n"
        );
        assert_eq!(
            through("-1", ",", b"", "a,1\nb,1\nc,2\n"),
            "|a,1\nb,1\n|c,2\n"
        );
        assert_eq!(
            through("s/,.*//", "\t", b"", input),
            "|123,1\n123,2\n|12-3,1\n|221,3\n"
        );
    }

    #[test]
    fn values_that_name_nothing_are_errors() {
        let err = GroupBy::parse("Nope", ",", b"UserID,C\n").unwrap_err();
        assert!(err.contains("the header names no column Nope"), "{err}");
        assert!(GroupBy::names_a_column("UserID s/x//"));
        assert!(!GroupBy::names_a_column("2 s/x//"));
        assert!(!GroupBy::names_a_column("s/,.*//"));
    }

    #[test]
    fn a_filter_perl_cannot_run_fails_at_its_end() {
        let group_by = GroupBy::parse("s/(//", "\t", b"").unwrap();
        let mut out = Vec::new();
        let err = group_by
            .filter(Vec::new(), io::Cursor::new(b"a\n".to_vec()))
            .unwrap()
            .read_to_end(&mut out)
            .unwrap_err();
        assert!(err.to_string().contains("perl filter failed"), "{err}");
    }
}
