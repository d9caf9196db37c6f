//! `--shard` and `--bin` with `--pipe`: one job per slot, each line going to the job its
//! value picks, so that lines with the same value meet in one job. As in GNU parallel, a
//! `perl` filter computes the value of each line (a column, and the Perl expression after
//! it) and picks the job: by a hash of the value (`--shard`; Perl's own, with a fixed seed,
//! so that a run picks as the run before did), or by the value itself (`--bin`: N goes to
//! job N, counted round the jobs).

use std::io::{self, BufRead, BufReader, Read};

use super::group_by::{GroupFilter, column_and_code, column_number, perl_filter};

/// How a line's value picks its job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardKind {
    /// `--shard`: a hash of the value.
    Hash,
    /// `--bin`: the value, a number.
    Bin,
}

/// What `--shard VALUE` or `--bin VALUE` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shard {
    kind: ShardKind,
    /// The column, from 1.
    column: i64,
    /// Perl code changing `$_`, the column's value.
    code: String,
    colsep: String,
}

/// The filter's program: for each line, its job's number (from 0), a space, the line.
const SCRIPT: &str = r#"
use B;
my ($sep, $col, $code, $bins, $bin) = @ARGV;
@ARGV = ();
my $col0 = $col > 0 ? $col - 1 : $col;
my $sub = eval("sub { no strict; no warnings; $code }") or die "$@";
binmode STDIN; binmode STDOUT;
while (<STDIN>) {
    my @F = split $sep, $_, ($col > 0 ? $col + 1 : -1);
    my $job;
    {
        local $_ = $F[$col0];
        &$sub();
        $job = $bin ? ($_ % $bins + $bins - 1) % $bins : hex(B::hash($_)) % $bins;
    }
    print $job, " ", $_;
}
"#;

impl Shard {
    /// `VALUE` as GNU parallel reads it: a column number, or a name looked up in `header`,
    /// optionally followed by Perl code that changes `$_`; the columns split at `colsep`.
    pub fn parse(
        kind: ShardKind,
        value: &str,
        colsep: &str,
        header: &[u8],
    ) -> Result<Shard, String> {
        let option = match kind {
            ShardKind::Hash => "--shard",
            ShardKind::Bin => "--bin",
        };
        let (Some(word), code) = column_and_code(value) else {
            return Err(format!(
                "`{option} {value}` names no column: give its number or name, then any Perl \
                 code, e.g. `{option} 1` or `{option} '2 s/x//'`"
            ));
        };
        let column = column_number(option, value, word, colsep, header)?;
        if column == 0 {
            return Err(format!("`{option} {value}`: columns are counted from 1"));
        }
        Ok(Shard {
            kind,
            column,
            code: code.to_owned(),
            colsep: colsep.to_owned(),
        })
    }

    /// `input` (`before` first) read line by line, each with the job (from 0, of `jobs`)
    /// it goes to.
    pub fn lines(
        &self,
        jobs: usize,
        before: Vec<u8>,
        input: impl Read + Send + 'static,
    ) -> io::Result<ShardLines> {
        let option = match self.kind {
            ShardKind::Hash => "--shard",
            ShardKind::Bin => "--bin",
        };
        let bin = (self.kind == ShardKind::Bin) as u8;
        let args = [
            "-e".to_owned(),
            SCRIPT.to_owned(),
            self.colsep.clone(),
            self.column.to_string(),
            self.code.clone(),
            jobs.max(1).to_string(),
            bin.to_string(),
        ];
        // A fixed seed: the same value goes to the same job in every run.
        let filter = perl_filter(option, &args, &[("PERL_HASH_SEED", "0")], before, input)?;
        Ok(ShardLines {
            out: BufReader::with_capacity(64 * 1024, filter),
            jobs: jobs.max(1),
        })
    }
}

/// The filtered input: each line and the job it goes to.
pub struct ShardLines {
    out: BufReader<GroupFilter>,
    jobs: usize,
}

impl ShardLines {
    /// The next line (into `line`, cleared first) and its job, or `None` at the end.
    pub fn next_line(&mut self, line: &mut Vec<u8>) -> io::Result<Option<usize>> {
        line.clear();
        if self.out.read_until(b' ', line)? == 0 {
            return Ok(None);
        }
        let job = std::str::from_utf8(line.trim_ascii_end())
            .ok()
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n < self.jobs)
            .ok_or_else(|| io::Error::other("the --shard filter wrote what is not a job"))?;
        line.clear();
        self.out.read_until(b'\n', line)?;
        Ok(Some(job))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jobs_of(shard: &Shard, jobs: usize, input: &str) -> Vec<(usize, String)> {
        let mut lines = shard
            .lines(jobs, Vec::new(), io::Cursor::new(input.as_bytes().to_vec()))
            .unwrap();
        let mut line = Vec::new();
        let mut out = Vec::new();
        while let Some(job) = lines.next_line(&mut line).unwrap() {
            out.push((job, String::from_utf8_lossy(&line).into_owned()));
        }
        out
    }

    #[test]
    fn bins_count_round_the_jobs_and_shards_keep_values_together() {
        let bin = Shard::parse(ShardKind::Bin, "1", ",", b"").unwrap();
        let got = jobs_of(&bin, 3, "1,a\n2,b\n3,c\n4,d\n0,e\n");
        let jobs: Vec<usize> = got.iter().map(|(job, _)| *job).collect();
        // N goes to job N, 0 and multiples of 3 to the last.
        assert_eq!(jobs, [0, 1, 2, 0, 2]);
        assert_eq!(got[1].1, "2,b\n");
        // With Perl code after the column.
        let doubled = Shard::parse(ShardKind::Bin, "1 $_*=2", ",", b"").unwrap();
        let jobs: Vec<usize> = jobs_of(&doubled, 3, "1\n2\n")
            .iter()
            .map(|(job, _)| *job)
            .collect();
        assert_eq!(jobs, [1, 0]);
        // --shard: equal values, one job; the same in every run.
        let shard = Shard::parse(ShardKind::Hash, "2", ",", b"").unwrap();
        let input = "1,x\n2,y\n3,x\n4,y\n5,z\n";
        let first = jobs_of(&shard, 4, input);
        assert_eq!(first[0].0, first[2].0);
        assert_eq!(first[1].0, first[3].0);
        assert_eq!(first, jobs_of(&shard, 4, input));
    }

    #[test]
    fn values_that_name_no_column_are_errors() {
        let err = Shard::parse(ShardKind::Hash, "s/x//", ",", b"").unwrap_err();
        assert!(err.contains("names no column"), "{err}");
        let err = Shard::parse(ShardKind::Bin, "k", ",", b"h,j\n").unwrap_err();
        assert!(err.contains("the header names no column k"), "{err}");
        assert_eq!(
            Shard::parse(ShardKind::Bin, "j", ",", b"h,j\n").map(|s| s.column),
            Ok(2)
        );
    }
}
