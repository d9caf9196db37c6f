//! `--results FILE.csv`, `.tsv` or `.json`: one row per job, as GNU parallel writes them:
//! the job log's columns, then the job's inputs (`V1`, `V2`, … or the names `--header :`
//! gave), its stdout and its stderr. CSV and TSV quote a field holding the separator, white
//! space, a quote (doubled) or a NUL; JSON is one object per line. `-.csv` (and the like)
//! writes to stdout.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use super::joblog::{JobRecords, JoblogEntry};
use crate::window::Window;

/// What the table is written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableFormat {
    /// Fields separated by this byte: `,` (`.csv`) or a tab (`.tsv`).
    Separated(u8),
    Json,
}

impl TableFormat {
    /// The format `--results PATH` asks for, by the path's extension (any case); `None`:
    /// PATH is a directory of results.
    pub fn of(path: &Path) -> Option<TableFormat> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "csv" => Some(TableFormat::Separated(b',')),
            "tsv" => Some(TableFormat::Separated(b'\t')),
            "json" => Some(TableFormat::Json),
            _ => None,
        }
    }
}

/// See the module documentation.
pub struct ResultsTable {
    out: Box<dyn Write + Send>,
    format: TableFormat,
    /// Per task: its inputs, until its row is written.
    inputs: Window<Option<Vec<String>>>,
    /// Column names from `--header :`, by position.
    names: Vec<String>,
    header_written: bool,
}

impl ResultsTable {
    /// A table at `path` (`-.csv`, `-.tsv`, `-.json`: stdout), its inputs' columns named
    /// `names` (empty: `V1`, `V2`, …). With `append` (a resumed run), the rows go after
    /// those of a table already there, under its header.
    pub fn create(
        path: &Path,
        format: TableFormat,
        names: Vec<String>,
        append: bool,
    ) -> io::Result<Self> {
        let to_stdout = path.file_stem().is_some_and(|stem| stem == "-")
            && path.parent().is_none_or(|p| p.as_os_str().is_empty());
        let mut header_written = false;
        let out: Box<dyn Write + Send> = if to_stdout {
            Box::new(io::stdout())
        } else if append {
            let file = File::options().create(true).append(true).open(path)?;
            header_written = file.metadata()?.len() > 0;
            Box::new(BufWriter::new(file))
        } else {
            Box::new(BufWriter::new(File::create(path)?))
        };
        Ok(ResultsTable {
            out,
            format,
            inputs: Window::new(),
            names,
            header_written,
        })
    }

    /// The next task's inputs.
    pub fn add_job(&mut self, inputs: Vec<String>) {
        self.inputs.push(Some(inputs));
    }

    fn separated(&mut self, separator: u8, fields: &[&[u8]]) -> io::Result<()> {
        let mut line = Vec::new();
        for (k, field) in fields.iter().enumerate() {
            if k > 0 {
                line.push(separator);
            }
            let quote = field.iter().any(|&b| {
                b == b'"' || b == separator || b == 0 || b == b' ' || (b'\t'..=b'\r').contains(&b)
            });
            if quote {
                line.push(b'"');
                for &b in *field {
                    if b == b'"' {
                        line.push(b'"');
                    }
                    line.push(b);
                }
                line.push(b'"');
            } else {
                line.extend_from_slice(field);
            }
        }
        line.push(b'\n');
        self.out.write_all(&line)
    }
}

/// A string inside JSON quotes, as GNU parallel writes it: `\` and `"` escaped, bytes
/// below 32 as `\u00XX`, the rest as they are.
fn json_text(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            0..=31 => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            _ => out.push(b),
        }
    }
    out
}

fn read_or_empty(path: Option<&Path>) -> Vec<u8> {
    path.and_then(|p| std::fs::read(p).ok()).unwrap_or_default()
}

impl JobRecords for ResultsTable {
    fn forget(&mut self, index: usize) {
        self.inputs.take(index);
    }

    fn record(
        &mut self,
        index: usize,
        entry: &JoblogEntry,
        output: Option<(Option<&Path>, Option<&Path>)>,
    ) -> io::Result<()> {
        let inputs = self.inputs.take(index).unwrap_or_default();
        // Inputs and the command as the bytes they stand for.
        let inputs: Vec<Vec<u8>> = inputs
            .iter()
            .map(|v| crate::bytes::encode(v).into_owned())
            .collect();
        let command = crate::bytes::encode(&entry.command);
        let (stdout, stderr) = match output {
            Some((stdout, stderr)) => (read_or_empty(stdout), read_or_empty(stderr)),
            None => (Vec::new(), Vec::new()),
        };
        let start = format!("{:.3}", entry.start_seconds());
        let runtime = format!("{:.3}", entry.runtime.as_secs_f64());
        let numbers = [
            entry.seq.to_string(),
            start,
            runtime,
            entry.sent.to_string(),
            entry.received.to_string(),
            entry.exit_value.to_string(),
            entry.signal.to_string(),
        ];
        match self.format {
            TableFormat::Separated(separator) => {
                if !self.header_written {
                    self.header_written = true;
                    let columns: Vec<Vec<u8>> = (0..inputs.len())
                        .map(|k| match self.names.get(k) {
                            Some(name) => crate::bytes::encode(name).into_owned(),
                            None => format!("V{}", k + 1).into_bytes(),
                        })
                        .collect();
                    let mut header: Vec<&[u8]> = [
                        "Seq",
                        "Host",
                        "Starttime",
                        "JobRuntime",
                        "Send",
                        "Receive",
                        "Exitval",
                        "Signal",
                        "Command",
                    ]
                    .iter()
                    .map(|c| c.as_bytes())
                    .collect();
                    header.extend(columns.iter().map(Vec::as_slice));
                    header.extend([&b"Stdout"[..], &b"Stderr"[..]]);
                    self.separated(separator, &header)?;
                }
                let mut fields: Vec<&[u8]> = vec![numbers[0].as_bytes(), b":"];
                fields.extend(numbers[1..].iter().map(String::as_bytes));
                fields.push(&command);
                fields.extend(inputs.iter().map(Vec::as_slice));
                fields.extend([stdout.as_slice(), stderr.as_slice()]);
                self.separated(separator, &fields)?;
            }
            TableFormat::Json => {
                let values: Vec<Vec<u8>> = inputs
                    .iter()
                    .map(|v| [&b"\""[..], &json_text(v), b"\""].concat())
                    .collect();
                let mut line = format!(
                    "{{ \"Seq\": {}, \"Host\": \":\", \"Starttime\": {}, \"JobRuntime\": {}, \
                     \"Send\": {}, \"Receive\": {}, \"Exitval\": {}, \"Signal\": {}, \
                     \"Command\": \"",
                    numbers[0],
                    numbers[1],
                    numbers[2],
                    numbers[3],
                    numbers[4],
                    numbers[5],
                    numbers[6]
                )
                .into_bytes();
                line.extend(json_text(&command));
                line.extend_from_slice(b"\", \"V\": [ ");
                line.extend(values.join(&b","[..]));
                line.extend_from_slice(b" ], \"Stdout\": \"");
                line.extend(json_text(&stdout));
                line.extend_from_slice(b"\", \"Stderr\": \"");
                line.extend(json_text(&stderr));
                line.extend_from_slice(b"\" }\n");
                self.out.write_all(&line)?;
            }
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_follow_the_extension() {
        assert_eq!(
            TableFormat::of(Path::new("r.CSV")),
            Some(TableFormat::Separated(b','))
        );
        assert_eq!(
            TableFormat::of(Path::new("-.tsv")),
            Some(TableFormat::Separated(b'\t'))
        );
        assert_eq!(
            TableFormat::of(Path::new("a/b.json")),
            Some(TableFormat::Json)
        );
        assert_eq!(TableFormat::of(Path::new("results")), None);
        assert_eq!(TableFormat::of(Path::new("dir.d")), None);
    }

    #[test]
    fn json_text_escapes_as_gnu_parallel_does() {
        assert_eq!(
            json_text(b"a\"b\\c\n\x01\xc3\xa9"),
            b"a\\\"b\\\\c\\u000a\\u0001\xc3\xa9"
        );
    }
}
