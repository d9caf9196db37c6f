//! `{= perl expression =}`: GNU parallel's computed replacement strings, evaluated by
//! Perl itself, one `perl` process per run that compiles each expression once. As in
//! GNU parallel, `$_` holds the input and is the value after the expression ran; `@arg`
//! holds all the job's inputs (from `$arg[1]`); `Q()` quotes for the shell, `uq()` leaves
//! the value unquoted, `skip()` skips the job, `seq()` is the job number and
//! `total_jobs()` the number of jobs (`$job->seq()` too, as GNU parallel's job object);
//! an expression that dies skips its job with a warning; `pQ()` quotes for Perl, `hash()` is Perl's own hash
//! of a value, and `yyyy_mm_dd()`, `hhmmss()` and the like give the time now.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// The program `perl` runs: reads expressions to compile and values to evaluate them on,
/// each length-prefixed; answers each in kind.
const DRIVER: &str = r#"
no strict; no warnings;
binmode STDIN; binmode STDOUT; $| = 1;
our (@arg, $_seq, $_total, $_skip, $_uq);
sub seq { $_seq } sub total_jobs { $_total } sub skip { $_skip = 1 } sub uq { $_uq = 1 }
sub slot { 1 }
{ package _FanoutJob; sub seq { $main::_seq } sub slot { 1 } }
our $job = bless {}, "_FanoutJob";
sub pQ { my $s = shift; $s =~ s/[\\\"\$\@]/\\$&/g if defined $s; $s }
sub hash { require B; B::hash(@_) }
use POSIX ();
sub _now { POSIX::strftime(shift, localtime(time())) }
sub yyyy_mm_dd_hh_mm_ss { _now("%Y-%m-%dT%H:%M:%S") } sub yyyy_mm_dd_hh_mm { _now("%Y-%m-%dT%H:%M") }
sub yyyy_mm_dd { _now("%Y-%m-%d") } sub hh_mm_ss { _now("%H:%M:%S") } sub hh_mm { _now("%H:%M") }
sub yyyymmddhhmmss { _now("%Y%m%d%H%M%S") } sub yyyymmddhhmm { _now("%Y%m%d%H%M") }
sub yyyymmdd { _now("%Y%m%d") } sub hhmmss { _now("%H%M%S") } sub hhmm { _now("%H%M") }
sub Q {
    my $s = shift;
    return "''" if $s eq "";
    return $s if $s =~ m{^[-_.+/a-zA-Z0-9]+$};
    $s =~ s/'/'"'"'/g;
    $s = "'$s'";
    $s =~ s/^''//; $s =~ s/''$//;
    return $s;
}
sub _line { my $l = <STDIN>; exit 0 unless defined $l; chomp $l; $l }
sub _bytes { my $n = shift; my $b = ""; while (length($b) < $n) { read(STDIN, $b, $n - length($b), length($b)) or exit 0 } $b }
my @subs;
while (1) {
    my ($kind, @f) = split / /, _line();
    if ($kind eq "D") {
        my $code = _bytes($f[0]);
        my $sub = eval "package main; sub { $code\n; }";
        if ($sub) { push @subs, $sub; print "OK\n" }
        else { my $e = $@; $e =~ s/\n/ /g; print "ERR $e\n" }
    } elsif ($kind eq "T") {
        my $code = _bytes($f[0]);
        my $r = eval "package main; $code\n;";
        if ($@) { my $e = $@; $e =~ s/\n/ /g; print "ERR $e\n" }
        else { print $r ? "1\n" : "0\n" }
    } else {
        my ($idx, $seq, $total, $n, $which) = @f;
        my @a = (undef);
        for (1..$n) { push @a, _bytes(_line()) }
        @arg = @a; $_seq = $seq; $_total = $total; $_skip = 0; $_uq = 0;
        local $_ = defined $a[$which] ? $a[$which] : "";
        eval { $subs[$idx]->() };
        my $e = $@; $e =~ s/\s+$//; $e =~ s/\n/ /g;
        my $v = defined $_ ? "$_" : "";
        print length($v), " ", ($_skip ? 1 : 0), " ", ($_uq ? 1 : 0), " ", length($e), "\n", $v, $e;
    }
}
"#;

/// A `perl` process evaluating the expressions of one run.
#[derive(Debug)]
pub(super) struct Perl {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// Each expression compiled so far, and its number in the process.
    compiled: HashMap<String, usize>,
}

/// What an expression made of one value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Evaluated {
    pub(super) value: String,
    /// `skip()` was called: the job does not run.
    pub(super) skip: bool,
    /// `uq()` was called: the value goes in unquoted.
    pub(super) unquoted: bool,
    /// What Perl said when the expression died.
    pub(super) error: Option<String>,
}

impl Perl {
    /// Starts `perl` and compiles `expressions`; an error says which did not compile, and
    /// why, or that perl could not start.
    pub(super) fn start(expressions: &[&str]) -> Result<Perl, String> {
        let mut child = Command::new("perl")
            .arg("-e")
            .arg(DRIVER)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("`{{= … =}}` needs perl, which did not start: {e}"))?;
        let stdin = child.stdin.take().expect("a piped stdin");
        let stdout = BufReader::new(child.stdout.take().expect("a piped stdout"));
        let mut perl = Perl {
            child,
            stdin,
            stdout,
            compiled: HashMap::new(),
        };
        for expression in expressions {
            perl.compile(expression)?;
        }
        Ok(perl)
    }

    fn compile(&mut self, expression: &str) -> Result<usize, String> {
        if let Some(&index) = self.compiled.get(expression) {
            return Ok(index);
        }
        let code = crate::bytes::encode(expression);
        writeln!(self.stdin, "D {}", code.len()).map_err(lost)?;
        self.stdin.write_all(&code).map_err(lost)?;
        self.stdin.flush().map_err(lost)?;
        let mut answer = String::new();
        self.stdout.read_line(&mut answer).map_err(lost)?;
        match answer.trim_end().strip_prefix("ERR ") {
            Some(why) => Err(format!("`{{={expression}=}}` is not Perl: {why}")),
            None if answer.starts_with("OK") => {
                let index = self.compiled.len();
                self.compiled.insert(expression.to_owned(), index);
                Ok(index)
            }
            None => Err("perl stopped answering".into()),
        }
    }

    /// `expression` run with `$_` the value of input `which` (from 1) of `args`, for job
    /// `seq` of `total`. A Perl error leaves `$_` as it was.
    pub(super) fn eval(
        &mut self,
        expression: &str,
        args: &[String],
        which: usize,
        seq: usize,
        total: usize,
    ) -> Result<Evaluated, String> {
        let index = self.compile(expression)?;
        let mut request = format!("E {index} {seq} {total} {} {which}\n", args.len()).into_bytes();
        for arg in args {
            let arg = crate::bytes::encode(arg);
            request.extend_from_slice(format!("{}\n", arg.len()).as_bytes());
            request.extend_from_slice(&arg);
        }
        self.stdin.write_all(&request).map_err(lost)?;
        self.stdin.flush().map_err(lost)?;
        let mut header = String::new();
        self.stdout.read_line(&mut header).map_err(lost)?;
        let fields: Vec<usize> = header
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        let [len, skip, unquoted, error_len] = fields[..] else {
            return Err("perl stopped answering".into());
        };
        let mut value = vec![0; len];
        self.stdout.read_exact(&mut value).map_err(lost)?;
        let mut error = vec![0; error_len];
        self.stdout.read_exact(&mut error).map_err(lost)?;
        Ok(Evaluated {
            value: crate::bytes::decode_owned(value),
            skip: skip == 1,
            unquoted: unquoted == 1,
            error: (!error.is_empty()).then(|| crate::bytes::decode_owned(error)),
        })
    }
}

impl Perl {
    /// Whether `code`, compiled afresh (it is not kept), is true; an error when it is not
    /// Perl or dies.
    pub(super) fn test(&mut self, code: &str) -> Result<bool, String> {
        let code = crate::bytes::encode(code);
        writeln!(self.stdin, "T {}", code.len()).map_err(lost)?;
        self.stdin.write_all(&code).map_err(lost)?;
        self.stdin.flush().map_err(lost)?;
        let mut answer = String::new();
        self.stdout.read_line(&mut answer).map_err(lost)?;
        match answer.trim_end() {
            "1" => Ok(true),
            "0" => Ok(false),
            other => match other.strip_prefix("ERR ") {
                Some(why) => Err(format!("not Perl: {}", why.trim_end())),
                None => Err("perl stopped answering".into()),
            },
        }
    }
}

/// An expression could not be sent, or its answer read.
fn lost(e: std::io::Error) -> String {
    format!("perl stopped answering: {e}")
}

impl Drop for Perl {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn tests_are_true_false_or_not_perl() {
        let mut perl = Perl::start(&[]).unwrap();
        assert_eq!(perl.test("1 < 2+1"), Ok(true));
        assert_eq!(perl.test("\"ab\" =~ /c/"), Ok(false));
        assert_eq!(perl.test("0"), Ok(false));
        let err = perl.test("1 <").unwrap_err();
        assert!(err.starts_with("not Perl: syntax error"), "{err}");
        // The process goes on answering after an error.
        assert_eq!(perl.test("'x'"), Ok(true));
    }

    #[test]
    fn expressions_change_the_value_as_in_gnu_parallel() {
        let mut perl = Perl::start(&["$_ = uc($_)"]).unwrap();
        let eval = |perl: &mut Perl, expression: &str, which: usize| {
            perl.eval(expression, &args(&["a b", "c\nd"]), which, 7, 9)
                .unwrap()
        };
        assert_eq!(eval(&mut perl, "$_ = uc($_)", 1).value, "A B");
        assert_eq!(eval(&mut perl, "s/\\n/+/", 2).value, "c+d");
        assert_eq!(
            eval(&mut perl, "$_ = $arg[2] . seq() . total_jobs()", 1).value,
            "c\nd79"
        );
        assert_eq!(eval(&mut perl, "$_ = Q($_)", 1).value, "'a b'");
        let skipped = eval(&mut perl, "skip() if /a/", 1);
        assert!(skipped.skip && !skipped.unquoted);
        let bare = eval(&mut perl, "uq(); $_ = \"<$_>\"", 1);
        assert_eq!((bare.value.as_str(), bare.unquoted), ("<a b>", true));
        // A Perl error at run time leaves the value as it was.
        assert_eq!(eval(&mut perl, "die 'no'", 1).value, "a b");
        // One that does not compile is an error that says so.
        let err = perl.eval("$_ = (", &args(&["x"]), 1, 1, 1).unwrap_err();
        assert!(err.contains("is not Perl"), "{err}");
        assert!(Perl::start(&["}"]).is_err());
    }
}
