//! `fanout map` against GNU parallel: the same command lines (with `-k`, so the order is
//! fixed) through both, in fresh directories with the same files and the same stdin; the
//! stdout and the exit status must be equal. GNU parallel must be installed
//! (`scripts/test` installs Debian's `parallel`).

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::harness::Project;

/// One command line of the table.
struct Case {
    args: Vec<String>,
    stdin: Vec<u8>,
    files: Vec<(&'static str, &'static str)>,
}

fn case(args: &[&str]) -> Case {
    Case {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        stdin: Vec::new(),
        files: Vec::new(),
    }
}

impl Case {
    fn stdin(mut self, input: &[u8]) -> Case {
        self.stdin = input.to_vec();
        self
    }

    fn file(mut self, name: &'static str, contents: &'static str) -> Case {
        self.files.push((name, contents));
        self
    }
}

/// How long GNU parallel gets for one command line, and `timeout`'s status when it took
/// longer.
const GNU_TIME_LIMIT: &str = "60";
const TIMED_OUT: i32 = 124;

fn run(mut command: Command, stdin: &[u8]) -> Output {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the program starts");
    let mut input = child.stdin.take().expect("a stdin pipe");
    // A program that does not read its stdin may close it first.
    let _ = input.write_all(stdin);
    drop(input);
    child.wait_with_output().expect("the program ends")
}

/// `program` (`parallel`, else `fanout map`) with `args`, in `project`.
fn command(project: &Project, program: &str, args: &[&str]) -> Command {
    if program == "parallel" {
        // GNU parallel now and then hangs on its own (its `--bin` reader, in a race of its
        // own): it gets a minute, and `through` tries it again.
        let mut command = Command::new("timeout");
        command
            .args([GNU_TIME_LIMIT, "parallel", "--will-cite"])
            .args(args)
            .current_dir(project.path())
            .env("HOME", project.path())
            .env_remove("PARALLEL")
            // Its colours come from `tput` where there is a terminal; here, never.
            .env("TERM", "dumb");
        command
    } else {
        let mut map_args = vec!["map"];
        map_args.extend(args);
        // Both read their profiles (~/.parallel/config) in the same fresh folder.
        let mut command = project.command(&map_args);
        command.env("HOME", project.path());
        command
    }
}

/// Runs the case through `program` in a fresh directory holding the case's files.
fn through(case: &Case, program: &str) -> (String, i32, String) {
    let project = Project::new();
    for (name, contents) in &case.files {
        project.file(name, contents);
    }
    let mut args: Vec<&str> = vec!["-k"];
    args.extend(case.args.iter().map(String::as_str));
    let mut out = run(command(&project, program, &args), &case.stdin);
    for _ in 0..2 {
        if program != "parallel" || out.status.code() != Some(TIMED_OUT) {
            break;
        }
        out = run(command(&project, program, &args), &case.stdin);
    }
    (
        // Output that is not UTF-8 is compared byte for byte.
        String::from_utf8(out.stdout)
            .unwrap_or_else(|err| format!("(not UTF-8) {:?}", err.as_bytes())),
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn require_gnu_parallel() {
    let found = Command::new("parallel")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("GNU"));
    assert!(
        found,
        "GNU parallel is not installed: the compatibility table of `fanout map` needs it. \
         Install Debian's package `parallel` (scripts/test does)."
    );
}

fn table() -> Vec<Case> {
    let numbers: Vec<u8> = (1..=3000)
        .map(|i| format!("{i}\n"))
        .collect::<String>()
        .into();
    let numbers_text: &'static str = String::from_utf8(numbers.clone()).unwrap().leak();
    // More jobs than GNU parallel has colours (307).
    let many_lines: &'static str = (1..=320)
        .map(|i| format!("{i}\n"))
        .collect::<String>()
        .leak();
    let many: Vec<String> = (1..=150).map(|i| i.to_string()).collect();
    let mut many_false = vec!["false".to_owned(), ":::".to_owned()];
    many_false.extend(many);
    vec![
        // Inputs and their order.
        case(&["echo", ":::", "a", "b", "c"]),
        case(&["echo", ":::", "a", "b", ":::", "1", "2"]),
        case(&["echo", ":::", "a", "b", ":::", "1", "2", ":::", "x", "y"]),
        case(&["echo", ":::", "a", "b", ":::+", "1", "2", "3", ":::", "x"]),
        case(&[
            "echo", ":::", "A", "B", ":::", "1", "2", "3", ":::+", "x", "y",
        ]),
        case(&["echo"]).stdin(b"a\nb\nc\n"),
        case(&["echo", "x{}y"]).stdin(b"a\n\nb\n"),
        case(&["echo", "x{}y"]).stdin(b"\n"),
        case(&["echo", "x{}y"]).stdin(b""),
        case(&["echo"]).stdin(b"no final newline"),
        case(&["-0", "echo", "[{}]"]).stdin(b"a\0b c\0line\nbreak\0"),
        case(&["echo", ":::", "l1\nl2", "b"]),
        case(&["-0", "echo", "[{}]", ":::", "l1\nl2", "b"]),
        case(&["echo", "::::", "in.txt"]).file("in.txt", "one\ntwo words\n"),
        case(&["-a", "in.txt", "echo"]).file("in.txt", "one\n'quoted'\n"),
        case(&["echo", "::::", "in.txt", ":::", "x", "y"]).file("in.txt", "1\n2\n"),
        case(&["echo", "::::", "a.txt", "::::+", "b.txt"])
            .file("a.txt", "a1\na2\n")
            .file("b.txt", "b1\nb2\nb3\n"),
        case(&["--colsep", ",", "echo", "{2}-{1}"]).stdin(b"a,b\nc,d\n"),
        case(&["--colsep", "\t", "echo", "{1}", "{3}"]).stdin(b"x\ty\tz\n1\t2\t3\n"),
        case(&["--colsep", " +", "echo", "{2}"]).stdin(b"a   b\nc d\n"),
        // CSV: quoted fields hold separators, quotes and newlines; an empty line is one
        // empty field.
        case(&["--csv", "echo", "[{1}]", "[{2}]", "[{3}]"])
            .stdin(b"a,\"b,c\",d\n\"multi\nline\",x\n,\n\n\"q\"\"uote\", sp \n"),
        case(&[
            "--csv",
            "--colsep",
            ";",
            "echo",
            "[{1}]",
            "[{2}]",
            ":::",
            "a; b ;\"c;d\"",
        ]),
        case(&[
            "--csv",
            "--header",
            ":",
            "echo",
            "{name}={age}",
            ":::",
            "name,age",
            "bob,3",
            "\"x,y\",4",
        ]),
        case(&["--csv", "-n", "2", "echo", "{4}", "{1}", "::::", "c.csv"])
            .file("c.csv", "a,b\n\"c\nd\",e\nf,g\n"),
        // Replacement strings.
        case(&["echo", "{}", "{}", ":::", "a"]),
        case(&[
            "echo", "{2}", "{1}", "{3}", ":::", "a", "b", ":::", "1", "2",
        ]),
        case(&[
            "echo",
            "{.}",
            "{/}",
            "{//}",
            "{/.}",
            ":::",
            "a.tar.gz",
            "dir.x/file",
            "/a",
            "a/b/",
            ".bashrc",
            "a.",
        ]),
        case(&[
            "echo", "{1.}", "{2/}", "{1//}", "{2/.}", ":::", "d/a.c", ":::", "e/f.g",
        ]),
        case(&["echo", "{#}", "{}", ":::", "a", "b", "c"]),
        case(&["-j1", "echo", "{%}", "{#}", ":::", "a", "b"]),
        // Braces that are no replacement string stay as written. (Not `{a,b}`: fanout runs
        // commands with /bin/sh, GNU parallel with the user's shell, often bash.)
        case(&["echo {} ${HOME:+home} {x} {1x}", ":::", "x"]),
        // Quoting: inputs stay data.
        case(&[
            "echo", ":::", "a b", "it's", "$HOME", "a;b", "*", "~", "", "a\"b", "-x", "a=b",
        ]),
        case(&[
            "printf '%s\\n'",
            ":::",
            "$(echo no)",
            "`echo no`",
            "\\",
            "a  b",
            "x\ty",
        ]),
        case(&["echo \"[{}]\"", ":::", "a b", "c"]),
        case(&["echo", ":::", "日本語", "ü ö", "emoji 🚀"]),
        case(&["echo {} | tr a-z A-Z", ":::", "a;b", "c d"]),
        case(&[":::", "echo a", "echo b; echo c"]),
        // Jobs at once.
        case(&["-j2", "sleep 0.{}; echo {}", ":::", "3", "1", "2"]),
        case(&["-j", "200%", "echo", ":::", "a", "b"]),
        case(&["-j", "+1", "echo", ":::", "a", "b"]),
        case(&["-j", "0", "echo", ":::", "a", "b"]),
        // Output.
        case(&["--tag", "echo", ":::", "a", "b c", ":::", "1", "2"]),
        case(&["--tag", "echo o; echo e >&2", ":::", "a"]),
        case(&["echo out {}; echo err {} >&2", ":::", "a", "b"]),
        case(&["--group", "echo", ":::", "a", "b"]),
        case(&["--line-buffer", "echo", ":::", "a", "b"]),
        case(&[
            "--line-buffer",
            "-j3",
            "echo {}1; sleep 0.{}; echo {}2; printf {}3",
            ":::",
            "3",
            "1",
            "2",
        ]),
        case(&[
            "--line-buffer",
            "--tag",
            "echo o; echo e >&2",
            ":::",
            "a",
            "b",
        ]),
        case(&["--bar", "echo", ":::", "a", "b"]),
        // Exit status, failures, retries, timeouts, halting.
        case(&["echo {}; exit {}", ":::", "0", "1", "2"]),
        case(
            &["-j8"]
                .iter()
                .map(|s| (*s).to_owned())
                .chain(many_false.iter().cloned())
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        ),
        case(&["kill -9 $$", ":::", "1"]),
        case(&[
            "--retries",
            "3",
            "n=$(cat c 2>/dev/null || echo 0); n=$((n+1)); echo $n > c; echo try $n; test $n -ge 2",
            ":::",
            "a",
        ]),
        case(&["--retries", "2", "echo no; false", ":::", "a"]),
        // The limits leave the short jobs seconds to spare, on a loaded machine too.
        case(&["--timeout", "2", "sleep {}; echo {}", ":::", "0.1", "5"]),
        case(&[
            "-j1",
            "--timeout",
            "1000%",
            "sleep {}; echo {}",
            ":::",
            "0.1",
            "0.1",
            "0.1",
            "4",
        ]),
        case(&[
            "-j1",
            "--halt",
            "now,fail=1",
            "echo {}; exit {}",
            ":::",
            "0",
            "3",
            "0",
            "4",
        ]),
        case(&[
            "-j1",
            "--halt",
            "soon,fail=2",
            "echo {}; exit {}",
            ":::",
            "0",
            "3",
            "0",
            "4",
            "0",
        ]),
        case(&[
            "-j1",
            "--halt",
            "now,success=1",
            "echo {}; exit {}",
            ":::",
            "1",
            "0",
            "2",
        ]),
        case(&[
            "-j1",
            "--halt",
            "now,fail=50%",
            "echo {}; exit {}",
            ":::",
            "0",
            "3",
            "0",
            "4",
            "5",
            "0",
        ]),
        case(&[
            "-j1",
            "--halt",
            "soon,done=2",
            "echo {}; exit {}",
            ":::",
            "0",
            "3",
            "0",
        ]),
        case(&[
            "-j1",
            "--halt",
            "2",
            "echo {}; exit {}",
            ":::",
            "0",
            "5",
            "0",
        ]),
        // Several inputs per job, another replacement string, quoting the command.
        case(&["-n", "2", "echo", ":::", "a", "b", "c", "d", "e"]),
        case(&["-n", "2", "echo", "{2}-{1}", ":::", "a", "b", "c", "d"]),
        case(&["-N2", "echo", "{1}+{2}", ":::", "a", "b", "c"]),
        case(&[
            "--max-args",
            "2",
            "echo",
            ":::",
            "a",
            "b",
            "c",
            ":::",
            "1",
            "2",
        ]),
        case(&[
            "-n2",
            "echo",
            "{1}/{2}/{3}",
            ":::",
            "a",
            "b",
            ":::",
            "1",
            "2",
        ]),
        case(&["-n", "2", "echo", "{#}", "{}", ":::", "a", "b", "c"]),
        case(&["-n", "2", "--tag", "echo", ":::", "a", "b c", "d"]),
        case(&["-n0", "echo", "hi", ":::", "a", "b"]),
        case(&["-n", "2", "--colsep", ",", "echo", "{3}-{2}"]).stdin(b"a,b\nc,d\ne,f\n"),
        case(&["-I", ",,", "echo", ",,x", ":::", "a", "b c"]),
        case(&["-I", "@", "echo", "@", "{.}", "{}", ":::", "x.y"]),
        case(&["-I", "aa", "echo", "aaa", ":::", "X"]),
        case(&["-n2", "-I", "@", "echo", "@", ":::", "a", "b", "c"]),
        case(&["-q", "echo", "$HOME", "a;b", ":::", "x y"]),
        case(&["-q", "echo", "x {} y", ":::", "a b", "it's"]),
        case(&["-q", "printf", "%s|\\n", "{}", ":::", "a b", "c"]),
        case(&["-q", "--dry-run", "echo", "$x", "x {} y", "", ":::", "y z"]),
        // Verbose, empty inputs skipped, delay between starts, other spellings.
        case(&["-v", "echo", ":::", "a", "b c", "$x"]),
        case(&["-v", "--tag", "echo", ":::", "a", "b"]),
        case(&["-v", "echo {} >&2", ":::", "a"]),
        case(&["-v", "-j1", "--retries", "2", "echo {}; false", ":::", "a"]),
        case(&[
            "--lb",
            "-v",
            "-j2",
            "echo {}1; sleep 0.{}; echo {}2",
            ":::",
            "3",
            "1",
        ]),
        case(&["-r", "echo", "x", ":::", "a", "", " ", "b", ":::", "1", ""]),
        case(&["-r", "echo", "[{}]"]).stdin(b"a\n\n  \n\tb\n"),
        case(&["-r", "-n2", "echo", ":::", "a", "", "b"]),
        case(&["--delay", "0.1", "-j2", "echo", ":::", "a", "b", "c"]),
        // A tag replaces in context as the command does, with -N, -L and -X.
        case(&[
            "-N2",
            "--tagstring",
            "x{}y",
            "echo",
            ":::",
            "a",
            "b",
            "c",
            "d",
        ]),
        case(&[
            "-L2",
            "--tagstring",
            "x{}y",
            "echo",
            ":::",
            "a",
            "b",
            "c",
            "d",
        ]),
        case(&[
            "-j1",
            "-X",
            "--tagstring",
            "x{}y",
            "echo",
            ":::",
            "a",
            "b",
            "c",
        ]),
        case(&[
            "-n2",
            "--tagstring",
            "x{}y",
            "echo",
            ":::",
            "a",
            "b",
            "c",
            "d",
        ]),
        // A dry run's lines are tagged; ungrouped output is not.
        case(&["--dry-run", "--tag", "echo", ":::", "a", "b"]),
        case(&["--dry-run", "--tagstring", "<{}>", "-u", "echo", ":::", "a"]),
        case(&["-u", "--tag", "echo", ":::", "a"]),
        case(&["--shellquote", "--shellquote", ":::", "a b", "c$d"]),
        case(&["--sshdelay", "0.1", "-j2", "echo", ":::", "a", "b", "c"]),
        // Inputs that are not UTF-8 (a file name in Latin-1, stray bytes) reach the
        // command, and what is printed of them, byte for byte.
        case(&["echo"]).stdin(b"caf\xe9\na\xffb,c\xfe\n"),
        case(&["-v", "--tag", "echo", "{.}", "{/}", "{2}", "--colsep", ","])
            .stdin(b"d/caf\xe9.txt,\xfe\n"),
        case(&["--dry-run", "-m", "echo"]).stdin(b"caf\xe9\na\xffb\n"),
        // A line's length counts each such byte once: 15 bytes, one line.
        case(&["--xargs", "-s", "16", "echo"]).stdin(b"ab\xe9\ncd\xe9\nef\n"),
        case(&["--tagstring", "[{}]", "--tag", "echo", "{= s/a/x/ =}"]).stdin(b"a\xffa\n"),
        case(&["-0", "--plus", "echo", "{%.txt}"]).stdin(b"caf\xe9.txt\0"),
        case(&["--csv", "echo", "{2}", "{1}"]).stdin(b"caf\xe9,x\xff\n"),
        // An octal escape in -d is a byte.
        case(&["-d", "\\351", "echo"]).stdin(b"a\xe9b\xe9c"),
        // The characters fanout carries such bytes as, read as UTF-8, stay themselves.
        case(&["echo", "{= s/a/A/ =}"]).stdin("a\u{10FFE9}b\n".as_bytes()),
        case(&["--filter", "length(\"{}\") == 8", "echo", "{= s/x/y/ =}"])
            .stdin(b"caf\xe9.txt\nx\xe9.txt\n"),
        // GNU parallel's other spellings of options.
        case(&[
            "--maxprocs",
            "2",
            "--maxargs",
            "2",
            "echo",
            ":::",
            "a",
            "b",
            "c",
        ]),
        case(&[
            "--dr",
            "--maxchars",
            "100",
            "-N2",
            "echo",
            ":::",
            "a",
            "b",
            "c",
        ]),
        case(&[
            "--argsep",
            ",,",
            "--nn",
            "--willcite",
            "echo",
            ",,",
            "x",
            "y",
        ]),
        case(&["-e", "b", "echo", ":::", "a", "b", "c"]),
        // -n caps -m's and -X's lines; -N sizes the jobs instead; -m spreads with --xargs.
        case(&[
            "-k", "-X", "-n5", "-j3", "echo", ":::", "a", "b", "c", "d", "e", "f", "g",
        ]),
        case(&[
            "-k", "-X", "-n2", "echo", "{#}", "{}", ":::", "a", "b", "c", "d", "e",
        ]),
        case(&[
            "-k", "-m", "-N2", "-j3", "echo", "{#}", ":::", "a", "b", "c", "d", "e",
        ]),
        case(&["-k", "-X", "-N2", "echo", "x{}y", ":::", "a", "b", "c"]),
        case(&[
            "-k", "-m", "--xargs", "-j2", "echo", ":::", "a", "b", "c", "d", "e",
        ]),
        case(&[
            "-k", "--xargs", "-n2", "-j2", "echo", ":::", "a", "b", "c", "d", "e",
        ]),
        // GNU parallel's job object in Perl expressions.
        case(&["-k", "echo", "{= $_=$job->seq() =}", ":::", "a", "b"]),
        // An empty source beside others is one empty value; alone, no jobs.
        case(&["-k", "echo", "{1}-{2}", ":::", "a", "b", ":::"]),
        case(&[
            "-k",
            "echo",
            "{1}-{2}",
            "::::",
            "/dev/null",
            ":::",
            "a",
            "b",
        ]),
        case(&["-k", "echo", "{1}-{2}", ":::", "a", "b", ":::+"]),
        case(&["echo", "x", "::::", "/dev/null"]),
        // Option values that begin with a dash are values.
        case(&["--colsep", "-+", "echo", "{2}", ":::", "a--b"]),
        case(&["-k", "--tagstring", "-> {}", "echo", "x", ":::", "a", "b"]),
        case(&["-d", "--", "echo", ":::", "a--b"]),
        case(&["-I", "-X-", "echo", "-X-", ":::", "a"]),
        case(&["--arg-sep", "-x-", "echo", "-x-", "a", "b"]),
        case(&["--rpl", "-X- s/a/b/", "echo", "-X-", ":::", "a"]),
        // Retired options: an error, nothing run.
        case(&["-g", "echo", ":::", "a"]),
        case(&["-T", "echo", ":::", "a"]),
        case(&["--tollef", "echo", ":::", "a"]),
        case(&["--tollef", "--gnu", "echo", ":::", "a"]),
        case(&[
            "--haltonerror",
            "now,fail=1",
            "-j1",
            "echo {}; exit {}",
            ":::",
            "0",
            "2",
            "0",
        ]),
        case(&["--tempdir", "/tmp", "--result", "out", "echo", ":::", "a"]),
        // Options for remote hosts, with none: nothing to do. --noswap: no swapping here.
        case(&[
            "-M",
            "--ssh",
            "ssh -x",
            "--filter-hosts",
            "--hgrp",
            "--rsync-opts",
            "-a",
            "--noswap",
            "echo",
            ":::",
            "a",
            "b",
        ]),
        case(&["-j1", "-u", "echo", ":::", "a", "b"]),
        // Ungrouped, the output comes as the jobs write it, -k or not.
        case(&["-j2", "-u", "sleep {}; echo {}", ":::", "1", "0.1"]),
        case(&["-P", "2", "--max-procs", "3", "echo", ":::", "a", "b"]),
        case(&["--no-notice", "--eta", "echo", ":::", "a"]),
        // The slot, shown as a number. (Not with --dry-run: GNU parallel's pretend slots
        // there depend on its timing; `map.rs` tests fanout's.)
        case(&["-v", "-j1", "echo", "{%}", ":::", "a", "b"]),
        case(&["-j1", "--tagstring", "s{%}", "echo", ":::", "a", "b"]),
        // Tags of one's own.
        case(&["--tagstring", "X{}-{#}", "echo", ":::", "a", "b c"]),
        case(&[
            "--tagstring",
            "{1}/{2.}",
            "echo {}",
            ":::",
            "a",
            ":::",
            "x.y",
        ]),
        case(&["--tagstring", "T", "--lb", "echo", ":::", "a"]),
        // Tags after carriage returns too; colours by job number, on both streams.
        case(&["--tag", "printf", "a\\rb\\r\\nc", ":::", "x", "y"]),
        case(&["--color", "printf", "a\\rb\\nc", ":::", "x", "y"]),
        case(&[
            "--ctag",
            "-v",
            "printf 'a\\nb'; echo e >&2",
            ":::",
            "x",
            "y",
        ]),
        case(&["--ctagstring", "{#}:", "--lb", "echo", ":::", "x", "y"]),
        case(&["--colour", "echo", "::::", "many"]).file("many", many_lines),
        case(&["--cf", "--tag", "echo {}; exit {}", ":::", "0", "1", "2"]),
        case(&[
            "--color",
            "--color-failed",
            "echo {}; exit {}",
            ":::",
            "0",
            "3",
        ]),
        case(&["-u", "--color", "echo", ":::", "x"]),
        // Strings of one's own for the replacement strings; the ones replaced, and their
        // forms for one input, are then plain text.
        case(&["-I", "XX", "echo", "XX", "{1}", "{1.}", ":::", "a.b"]),
        case(&["-iXX", "echo", "XX", "{}", ":::", "a"]),
        case(&["--replace=XX", "echo", "XX", ":::", "a"]),
        case(&[
            "--er", "EE", "--bnr", "BB", "--dnr", "DD", "--bner", "BE", "echo", "EE", "BB", "DD",
            "BE", "{.}", "{/}", "{//}", "{/.}", "{1/}", ":::", "x/a.b",
        ]),
        case(&[
            "--seqreplace",
            "SS",
            "--slotreplace",
            "TT",
            "-j1",
            "echo",
            "SS",
            "TT",
            "{#}",
            "{%}",
            ":::",
            "a",
            "b",
        ]),
        // Other spellings, and options that undo others.
        case(&["--nok", "-C", ",", "echo", "{2}", ":::", "a,b"]),
        case(&[
            "--col-sep",
            ",",
            "--tag-string",
            "T",
            "echo",
            "{2}",
            ":::",
            "a,b",
        ]),
        case(&[
            "-v",
            "--silent",
            "--max-replace-args",
            "2",
            "echo",
            ":::",
            "a",
            "b",
            "c",
        ]),
        case(&["--workdir", "d", "basename $PWD", ":::", "x"]),
        // Replacement strings of one's own: Perl expressions, for input N too, over the
        // built-in ones.
        case(&[
            "--rpl",
            "{..} s:\\.[^.]+$::;s:\\.[^.]+$::;",
            "echo",
            "{..}",
            "{2..}",
            ":::",
            "a.b.c",
            ":::",
            "x.y.z",
        ]),
        case(&[
            "--rpl",
            "{odd} $_ = seq() % 2 ? 'odd' : 'even'",
            "echo",
            "{odd}",
            ":::",
            "a",
            "b",
            "c",
        ]),
        case(&["--rpl", "{U} 1 $_=uc($_)", "echo", "{U}", ":::", "a", "b c"]),
        case(&[
            "--rpl",
            "{.} s/a/X/",
            "--tagstring",
            "{.}",
            "echo",
            "{.}",
            ":::",
            "abc",
        ]),
        // GNU parallel's other spellings of options.
        case(&["--dryrun", "--plain", "echo", ":::", "a"]),
        case(&["--linebuffer", "--keeporder", "echo", ":::", "a", "b"]),
        case(&[
            "--eof",
            "x",
            "--norunifempty",
            "echo",
            ":::",
            "a",
            "",
            "x",
            "b",
        ]),
        case(&["--argfile", "f", "--jl", "log", "echo"]).file("f", "a\nb\n"),
        // The command lines, quoted for a shell instead of run.
        case(&["--shell-quote", "echo", ":::", "a b", "c'd", "e$f"]),
        // (No `{%}`: GNU parallel's pretend slots depend on its timing.)
        case(&[
            "--shell-quote",
            "-j2",
            "echo",
            "{}",
            "x{#}",
            ":::",
            "a",
            "b",
            "c",
        ]),
        case(&["--shell-quote", ":::", "a b"]),
        // The first input, or line of data, is no one's.
        case(&[
            "--skip-first-line",
            "echo",
            ":::",
            "a",
            "b",
            ":::",
            "1",
            "2",
        ]),
        case(&[
            "--skip-first-line",
            "--header",
            ":",
            "echo",
            "{x}",
            ":::",
            "x",
            "a",
            "b",
        ]),
        case(&["--skip-first-line", "echo"]).stdin(b"h\nx\ny\n"),
        case(&[
            "--skip-first-line",
            "--colsep",
            ",",
            "echo",
            "{2}",
            "::::",
            "f",
        ])
        .file("f", "h,h\na,b\nc,d\n"),
        case(&[
            "--pipe",
            "--block",
            "2",
            "--skip-first-line",
            "--header",
            ":",
            "cat; echo --",
        ])
        .stdin(b"h\nx\n1\n2\n3\n"),
        case(&[
            "--pipe-part",
            "-a",
            "f",
            "--block",
            "2",
            "--skip-first-line",
            "--header",
            ":",
            "cat; echo --",
        ])
        .file("f", "h\nx\n1\n2\n3\n"),
        // The slot in a variable of one's own, from 0; the number of jobs given.
        // (Both jobs start before either ends, so each has a slot of its own.)
        case(&[
            "-j2",
            "--process-slot-var",
            "X",
            "sleep 0.3; echo $X",
            ":::",
            "a",
            "b",
        ]),
        case(&[
            "--plus",
            "--total-jobs",
            "12",
            "echo",
            "{##}",
            "{0#}",
            ":::",
            "a",
            "b",
        ]),
        // Named columns.
        case(&[
            "--header", ":", "--colsep", ",", "echo", "{file.}", "{name}", "{2/}", "::::", "h.csv",
        ])
        .file("h.csv", "name,file\na,d/x.txt\nb,y.c\n"),
        case(&[
            "--header", ":", "echo", "{a}-{b}", ":::", "a", "1", "2", ":::", "b", "x", "y",
        ]),
        case(&["--header", ":", "--tag", "echo", ":::", "a", "1", "2"]),
        case(&["--header", ":", "echo", "[{h}]"]).stdin(b"h\nv 1\nv2\n"),
        // Dry runs print the command lines.
        case(&["--dry-run", "echo", ":::", "a b", "c'd", "$x", "é", ""]),
        case(&["--dry-run", "echo", "{}", "{1}", ":::", "x y", ":::", "z"]),
        case(&["--dry-run", "cp {} {.}.bak", ":::", "f.txt", "g h.txt"]),
        // Delimiters, an end-of-file string, trimmed inputs and columns.
        case(&["-d", ",", "echo", "x{}y"]).stdin(b"a,b,c"),
        case(&["-d", "::", "echo", "x{}y"]).stdin(b"a::b::c\n"),
        case(&["--delimiter", "\\t", "echo", "x{}y"]).stdin(b"a\tb\tc"),
        case(&["-d", "\\000", "echo", "x{}y"]).stdin(b"a\0b"),
        case(&["-d", "\\\\", "echo", "x{}y"]).stdin(b"a\\\\b\\\\c"),
        case(&["-d", "\\12", "echo", "x{}y"]).stdin(b"a\nb"),
        case(&["-d", ",", "echo", "x{}y", ":::", "a,b", "c d"]),
        case(&["-E", "STOP", "echo"]).stdin(b"a\nSTOP\nb\n"),
        case(&["-E", "STOP", "echo", ":::", "a", "STOP", "b"]),
        case(&["--trim", "lr", "echo", "x{}y"]).stdin(b"  a  \n b\t\n"),
        case(&["--trim", "r", "echo", "x{}y"]).stdin(b"  a  \n"),
        case(&["--trim", "l", "echo", "x{}y"]).stdin(b"  a  \n"),
        case(&["--colsep", ",", "echo", "x{1}y{2}z"]).stdin(b" a , b \n"),
        case(&["--colsep", ",", "--trim", "n", "echo", "x{1}y{2}z"]).stdin(b" a , b \n"),
        case(&["--colsep", ",", "--trim", "rl", "echo", "x{1}y{2}z"]).stdin(b" a , b \n"),
        case(&["--header", ":", "--colsep", ",", "echo", "x{h}y{k}z"]).stdin(b"h,k\n v1 , v2 \n"),
        // -m and -X: inputs spread evenly over the slots, in one command line each.
        case(&[
            "-j2", "-m", "echo", ":::", "1", "2", "3", "4", "5", "6", "7",
        ]),
        case(&["-j3", "-m", "echo", "x{}y", ":::", "1", "2", "3", "4", "5"]),
        case(&["-j3", "-X", "echo", "x{}y", ":::", "1", "2", "3", "4", "5"]),
        case(&[
            "-j2",
            "-X",
            "echo",
            "{#}-{}-{.}",
            ":::",
            "a.b",
            "c.d",
            "e.f",
        ]),
        case(&[
            "-j1",
            "-X",
            "--dry-run",
            "cp",
            "{}",
            "dir/{/}",
            ":::",
            "p/a",
            "q/b",
        ]),
        case(&["-j2", "-m", "echo", ":::", "a b", "c'd", "$x", "é"]),
        case(&["-j2", "-X", "echo", "<{}>", ":::", "it's", "b", "c d"]),
        // -N repeats a word holding {} once per input, as -X does; -n does not. {2} in
        // such a word is the job's second input.
        case(&["-N2", "echo", "X{}Y", "{1}", ":::", "a", "b", "c"]),
        case(&["-n2", "echo", "X{}Y", "{1}", ":::", "a", "b", "c"]),
        case(&["-N2", "echo", "X{2}Y{}", ":::", "a b", "c.x", "d"]),
        case(&["-N2", "echo", "X{/.}Y", ":::", "d/a.b", "c.x", "d"]),
        case(&[
            "-j2",
            "-X",
            "echo",
            "X{=$_=uc=}Y{}",
            ":::",
            "a b",
            "c.x",
            "d",
        ]),
        case(&["-N0", "echo", "X{}Y", "{#}"]).stdin(b"a\nb\n"),
        // What repeats is the run without white space that holds {}, also within one
        // word given as a whole shell command; with -q, inside the quoted word.
        case(&["-N3", "echo {}", ":::", "a", "b", "c"]),
        case(&["-N2", "echo {}; echo done", ":::", "a", "b", "c"]),
        case(&["-L3", "echo x{}y {#}", ":::", "a", "b", "c"]),
        case(&["-j1", "-X", "echo x{}y  {.}z {#}", ":::", "a.1", "b.2", "c"]),
        case(&["-N2", "-q", "echo", "x {} y", ":::", "a", "b", "c"]),
        case(&["-j1", "-X", "-q", "echo", "x{}y", ":::", "a", "b c", "d"]),
        // -L: at most N lines to a job, a line ending in white space going on in the
        // next; -L (not --max-lines) replaces in context.
        case(&["-L", "2", "echo"]).stdin(b"a b\nc\nd e f\ng\n\nh \ni\nj\n"),
        case(&["-L", "2", "echo", "X{}Y"]).stdin(b"a b\nc\nd e f\ng\n\nh \ni\nj\n"),
        case(&["-L", "2", "-r", "echo", "X{}Y"]).stdin(b"a\n \nb \n\nc\nd\n"),
        case(&["-L0", "echo", "X{}Y"]).stdin(b"a\nb\n"),
        case(&["-L", "2", "echo", "{2}-{1}", "{#}"]).stdin(b"a\nb\nc\nd\ne\n"),
        case(&["-N", "2", "-L", "3", "echo"]).stdin(b"a\nb\nc\nd\ne\n"),
        case(&["-L", "2", "echo", ":::", "a ", "b", "c", "d "]),
        case(&["-L", "1", "echo", "::::", "-", ":::", "x", "y"]).stdin(b"a \nb\n"),
        case(&["--header", ":", "-L", "2", "echo", "{h1}"]).stdin(b"h1\nr1 \nr2\nr3\n"),
        case(&["-E", "c", "-L", "2", "echo"]).stdin(b"a \nb\nc\nd\n"),
        case(&["-l", "echo", "X{}Y"]).stdin(b"a b\nc \nd\n"),
        // -l takes the word after it as its number only when it is one.
        case(&["-l", "2", "echo"]).stdin(b"a\nb\nc\nd\ne\n"),
        case(&["-l2", "echo"]).stdin(b"a\nb\nc\nd\ne\n"),
        case(&["--max-lines", "2", "echo"]).stdin(b"a\nb\nc\nd\ne\n"),
        case(&["-l", "grep", "-v", "c"]).stdin(b"a\nb\nc\nd\ne\n"),
        case(&["--max-lines", "echo", "-n", "X"]).stdin(b"a\nb\nc\n"),
        case(&["-q", "-l", "echo", "-l"]).stdin(b"a\nb\n"),
        case(&["-l", "2", "echo", "-l"]).stdin(b"a\nb\nc\n"),
        case(&["echo", "-l", "x"]).stdin(b"a\nb\n"),
        case(&["--max-lines=3", "echo", "X{}Y"]).stdin(b"a\nb\nc\nd\ne\n"),
        case(&["-j2", "-L", "2", "-m", "echo", "X{}Y"]).stdin(b"a b\nc\nd e f\ng\n"),
        case(&["-j2", "-L", "2", "-X", "echo", "X{}Y"]).stdin(b"a b\nc\nd e f\ng\nh\n"),
        case(&["-L", "2", "--xargs", "echo", "X{}Y"]).stdin(b"a b\nc\nd e f\ng\nh\n"),
        case(&["-L", "1k", "echo"]).stdin(b"1\n2\n3\n"),
        case(&["--pipe", "-L", "2", "--block", "5", "echo [; cat"]).stdin(b"1\n2\n3\n4\n5\n6\n7\n"),
        case(&["--pipe", "-L", "3", "-N", "2", "echo [; cat"]).stdin(b"1\n2\n3\n4\n5\n6\n7\n"),
        case(&["--pipe", "-L", "2", "--block", "7", "echo [; cat"]).stdin(b"1\n2\n3\n4\n5\n"),
        // GNU parallel's other spellings, and --env (jobs inherit the environment).
        case(&[
            "--halt-on-error",
            "now,fail=1",
            "-j1",
            "sh -c 'echo {}; exit {}'",
            ":::",
            "0",
            "3",
            "0",
        ]),
        case(&[
            "--env",
            "LOGNAME",
            "sh -c 'echo {} ${LOGNAME:-unset}'",
            ":::",
            "a",
        ]),
        // --filter: Perl tests with replacement strings; a job that fails one is
        // skipped, and counts as failed.
        case(&[
            "--filter",
            "{1} < {2}+1",
            "echo",
            ":::",
            "1",
            "2",
            "3",
            ":::",
            "1",
            "2",
            "3",
        ]),
        case(&[
            "--filter",
            "\"{}\" =~ /b/",
            "echo",
            ":::",
            "abc",
            "x y",
            "b",
        ]),
        case(&[
            "--filter", "{} > 1", "--filter", "{} < 3", "echo", ":::", "1", "2", "3",
        ]),
        case(&[
            "--filter", "{#} % 2", "echo", "{#}", ":::", "a", "b", "c", "d",
        ]),
        case(&[
            "--filter",
            "{=$_*=2=} > 3",
            "--tag",
            "echo",
            ":::",
            "1",
            "2",
            "3",
        ]),
        case(&[
            "--filter",
            "\"{/.}\" ne \"b\"",
            "echo",
            ":::",
            "a/b.c",
            "d/e.f",
        ]),
        case(&[
            "--header", ":", "--filter", "{h} > 1", "echo", ":::", "h", "1", "2",
        ]),
        case(&["--filter", "{} >", "echo", ":::", "1", "2"]),
        // --verbose is -t: the commands go to stderr, not stdout as with -v.
        case(&["--verbose", "echo", ":::", "a", "b"]),
        case(&["-t", "-v", "echo", ":::", "a", "b"]),
        case(&[
            "--compress",
            "--compress-program",
            "gzip",
            "echo",
            ":::",
            "a",
            "b",
        ]),
        // The machine's CPUs, counted alike.
        case(&["--number-of-cores"]),
        case(&["--number-of-cpus"]),
        case(&["--number-of-threads"]),
        case(&["--number-of-sockets"]),
        // --header: for inputs, any value but 0 is the first line; 0 names the columns
        // after the files; with --pipe, a count of lines or a pattern at the start.
        case(&[
            "--header", "2", "--colsep", ",", "echo", "{1}", "{a}", "::::", "h.csv",
        ])
        .file("h.csv", "a,b\nc,d\n1,2\n"),
        case(&[
            "--header", "c.*\\n", "--colsep", ",", "echo", "{a}", "::::", "h.csv",
        ])
        .file("h.csv", "a,b\nc,d\n1,2\n"),
        case(&[
            "--header",
            "0",
            "echo",
            "{h.csv}",
            "{d/f.txt/}",
            "{h.csv.}",
            "{2}",
            "::::",
            "h.csv",
            "::::",
            "d/f.txt",
        ])
        .file("h.csv", "a\nb\n")
        .file("d/f.txt", "x\ny\n"),
        case(&[
            "--header", "0", "echo", "{h.csv}", "{x}", "::::", "h.csv", ":::", "x",
        ])
        .file("h.csv", "a\nb\n"),
        case(&["--pipe", "-N1", "--header", "2", "echo X; cat"]).stdin(b"a,b\nc,d\n1,2\n3,4\n"),
        case(&["--pipe", "-N1", "--header", "a.*\\n", "echo X; cat"]).stdin(b"a,b\nc,d\n1,2\n"),
        case(&["--pipe", "-N1", "--header", "c.*\\n", "echo X; cat"]).stdin(b"a,b\nc,d\n1,2\n"),
        case(&["--pipe", "-N1", "--header", "0", "echo X; cat"]).stdin(b"a,b\nc,d\n"),
        case(&["--pipe", "-N1", "--header", "[ac],.\\n", "echo X; cat"]).stdin(b"a,b\nc,d\n1\n"),
        case(&["--pipe", "-N1", "--header", "5", "echo X; cat"]).stdin(b"a,b\nc,d\n1,2\n"),
        case(&[
            "--pipe-part",
            "--header",
            "2",
            "-a",
            "h.csv",
            "--block",
            "4",
            "echo X; cat",
        ])
        .file("h.csv", "a,b\nc,d\n1,2\n3,4\n"),
        case(&[
            "--pipe-part",
            "--header",
            ".*b\\n",
            "-a",
            "h.csv",
            "--block",
            "4",
            "echo X; cat",
        ])
        .file("h.csv", "a,b\nc,d\n1,2\n3,4\n"),
        // --group-by: a group of lines with the same value is one record.
        case(&[
            "--pipe",
            "--colsep",
            ",",
            "--header",
            ":",
            "--group-by",
            "UserID",
            "-N1",
            "echo X; cat",
        ])
        .stdin(b"UserID,C\n123,1\n123,2\n12-3,1\n221,3\n221,1\n2/21,5\n"),
        case(&[
            "--pipe",
            "--colsep",
            ",",
            "--group-by",
            "UserID s/\\D//g",
            "-N1",
            "echo X; cat",
        ])
        .stdin(b"UserID,C\n123,1\n123,2\n12-3,1\n221,3\n221,1\n2/21,5\n"),
        case(&["--colsep", ",", "--group-by", "1", "-N2", "echo X; cat"])
            .stdin(b"123,1\n123,2\n12-3,1\n221,3\n221,1\n2/21,5\n"),
        case(&["--pipe", "--colsep", ",", "--group-by", "1", "echo X; cat"])
            .stdin(b"123,1\n123,2\n12-3,1\n221,3\n"),
        case(&[
            "--pipe",
            "--group-by",
            "s/,.*//",
            "--block",
            "10",
            "echo X; cat",
        ])
        .stdin(b"123,1\n123,2\n12-3,1\n221,3\n221,1\n2/21,5\n"),
        case(&["--pipe", "--group-by", "1", "-N1", "echo X; cat"]).stdin(b"a\tx\na\ty\nb\tz\n"),
        case(&[
            "--pipe",
            "--colsep",
            " ",
            "--group-by",
            "1",
            "-N1",
            "echo X; cat",
        ])
        .stdin(b"a x\na y\nb z\n"),
        case(&[
            "--pipe",
            "--colsep",
            ",",
            "--group-by",
            "1",
            "-N1",
            "--round-robin",
            "-j2",
            "sort",
        ])
        .stdin(b"1,a\n1,b\n2,c\n3,d\n"),
        // --bin: line N to job N, counted round the jobs (0 to the last); a job per slot.
        case(&["--pipe", "--bin", "1", "-j3", "echo X; cat"]).stdin(&numbers[..21]),
        case(&["--pipe", "--bin", "1", "-j3", "echo X; cat"]).stdin(b"1,a\n2,b\n3,c\n4,d\n"),
        case(&["--pipe", "--bin", "1", "-j3", "echo X; cat"]).stdin(b"1\ta\n2\tb\n5\tc\n"),
        case(&[
            "--pipe",
            "--colsep",
            ",",
            "--bin",
            "2",
            "-j2",
            "echo X; cat",
        ])
        .stdin(b"1,a\n2,b\n"),
        case(&[
            "--pipe",
            "--colsep",
            ",",
            "--header",
            ":",
            "--bin",
            "h",
            "-j2",
            "echo X; cat",
        ])
        .stdin(b"h,k\n1,a\n2,b\n"),
        case(&["--pipe", "--bin", "1", "-j4", "echo X; cat"]).stdin(b"1\n2\n"),
        case(&["--pipe", "--bin", "1 $_*=2", "-j3", "echo X; cat"]).stdin(b"1\n2\n3\n4\n5\n"),
        // --group-by, --shard, --bin and --fifo imply --pipe, for its options too.
        case(&["--group-by", "1", "--colsep", ",", "-N1", "--cat", "cat {}"])
            .stdin(b"1,a\n1,b\n2,c\n"),
        case(&["--fifo", "--recend", ";", "--rrs", "-N1", "cat {}; echo"]).stdin(b"a;b;c;"),
        // --regexp: --recstart and --recend are patterns; a block ends at the last end
        // followed by a start, or after -N of them.
        case(&[
            "--pipe",
            "--regexp",
            "--recstart",
            "a\\d",
            "--block",
            "3",
            "cat; echo -",
        ])
        .stdin(b"a1\nb2\na3\nb4\nxa5\n"),
        case(&[
            "--pipe",
            "--regexp",
            "--recstart",
            "a\\d",
            "-N1",
            "cat; echo -",
        ])
        .stdin(b"a1\nb2\na3\nb4\nxa5\n"),
        case(&[
            "--pipe",
            "--regexp",
            "--recstart",
            "^>",
            "-N2",
            "cat; echo -",
        ])
        .stdin(b"junk\n>a\n1\n>b\n2\n>c\n"),
        case(&["--pipe", "--regexp", "--recend", ";+", "-N1", "cat; echo"]).stdin(b"x;;y;z;;;w\n"),
        case(&[
            "--pipe",
            "--regexp",
            "--recend",
            ";+",
            "--block",
            "2",
            "cat; echo",
        ])
        .stdin(b"x;;y;z;;;w\n"),
        case(&["--pipe", "--regexp", "--recend", "", "-N1", "cat; echo"]).stdin(b"abc"),
        case(&[
            "--pipe",
            "--regexp",
            "--recend",
            "[0-9]\\n",
            "--recstart",
            "[a-z]",
            "-N1",
            "cat; echo -",
        ])
        .stdin(b"a1\nb\nc2\nd3\n"),
        case(&[
            "--pipe",
            "--regexp",
            "--recstart",
            "a\\d",
            "--block",
            "3",
            "--rrs",
            "cat; echo -",
        ])
        .stdin(b"a1\nb2\na3\nb4\nxa5\n"),
        case(&[
            "--pipe-part",
            "-a",
            "f.txt",
            "--regexp",
            "--recstart",
            ">",
            "--block",
            "3",
            "cat; echo -",
        ])
        .file("f.txt", ">a\n1\n>b\n22\n>c\n333\n>d\n4\n"),
        // A block left empty by --rrs does not start its command.
        case(&[
            "--pipe",
            "--recend",
            ";",
            "--rrs",
            "--block",
            "2",
            "-v",
            "echo \"<$(cat)>\"",
        ])
        .stdin(b"x;;y;;;w\n"),
        // --remove-rec-sep: the record marks are taken out of each block.
        case(&["--pipe", "--recend", ";", "--rrs", "-N1", "cat; echo"]).stdin(b"a;b;c;"),
        case(&["--pipe", "--recstart", ">", "--rrs", "-N1", "cat; echo -"])
            .stdin(b">x\n1\n>y\n2\n"),
        case(&[
            "--pipe",
            "--remove-rec-sep",
            "--header",
            ":",
            "-N2",
            "cat; echo -",
        ])
        .stdin(b"a\nb\nc\n"),
        // --fifo: the block is a file named by {} (GNU parallel's is a named pipe); with
        // --pipe-part, --cat and --fifo copy each part to one.
        case(&["--fifo", "-N1", "echo X; cat {}"]).stdin(b"1\n2\n3\n"),
        case(&["--pipe", "--fifo", "-N1", "wc -l < {}"]).stdin(b"1\n2\n3\n"),
        case(&[
            "--pipe-part",
            "--cat",
            "-a",
            "h.csv",
            "--block",
            "4",
            "echo X; cat {}",
        ])
        .file("h.csv", "a,b\nc,d\n1,2\n3,4\n"),
        case(&[
            "--pipe-part",
            "--fifo",
            "--header",
            ":",
            "-a",
            "h.csv",
            "--block",
            "4",
            "cat {}",
        ])
        .file("h.csv", "a,b\nc,d\n1,2\n3,4\n"),
        case(&["--pipe", "--max-lines=3", "--block", "6", "echo [; cat"])
            .stdin(b"1\n2\n3\n4\n5\n6\n7\n"),
        case(&["-j4", "-m", "echo", "::::", "ten"]).file("ten", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n"),
        // Limits the machine is within.
        case(&[
            "--load",
            "100000",
            "--memfree",
            "1k",
            "echo",
            ":::",
            "a",
            "b",
        ]),
        case(&["--load", "10000%", "echo", ":::", "a"]),
        case(&["--memsuspend", "1k", "-j3", "echo", ":::", "a", "b", "c"]),
        // --pipe: stdin cut into blocks, one per job, on the job's stdin.
        case(&["--pipe", "wc", "-l"]).stdin(&numbers),
        case(&["--pipe", "--block", "1k", "wc", "-c"]).stdin(&numbers),
        case(&["--pipe", "--block-size", "1.5K", "wc", "-c"]).stdin(&numbers),
        // A record longer than the block makes the block grow.
        case(&["--pipe", "--block", "3", "wc", "-c"]).stdin(b"a\nbbbbbbbbbb\nc\nddd"),
        case(&["--pipe", "-N3", "echo {#}; cat"]).stdin(&numbers[..200]),
        case(&["--spreadstdin", "-N", "2", "cat"]).stdin(b"1\n2\n3\n4\n5"),
        case(&["--pipe", "-N1", "echo [; cat; echo ]"]).stdin(b"\n\na\n\nb\n"),
        case(&["--pipe", "--recstart", ">", "-N1", "echo [; cat; echo ]"])
            .stdin(b"ab>x\n>y\n1\n>z\n"),
        case(&["--pipe", "--recend", ";", "-N1", "echo [; cat; echo ]"]).stdin(b"a;b;c;"),
        case(&["--pipe", "--recend", "\\t", "-N2", "echo [; cat; echo ]"]).stdin(b"a\tb\tc\td"),
        case(&["--pipe", "--header", ":", "-N2", "echo [; cat"]).stdin(b"h1\nr1\nr2\nr3\n"),
        case(&["--pipe", "--tag", "-N1", "cat"]).stdin(b"x\ny\n"),
        case(&["--pipe", "-v", "-N2", "cat"]).stdin(b"x\ny\nz\n"),
        case(&["--pipe", "--cat", "-N2", "wc -l < {}"]).stdin(b"1\n2\n3\n"),
        case(&["--pipe", "-r", "-N1", "echo [; cat"]).stdin(b"a\n\n  \nb\n"),
        case(&["--pipe", "-N1", "od -An -tx1"]).stdin(b"\xff\x00\n\xc3\n"),
        case(&["--pipe", "wc", "-l"]).stdin(b""),
        case(&["--pipe", "-N2", "cat; exit 1"]).stdin(b"1\n2\n3\n4\n5\n"),
        case(&["--pipe", "--dry-run", "-N1", "wc", "-l"]).stdin(b"1\n2\n"),
        // --plus: path parts, counts, bash-like edits, skipped jobs.
        case(&[
            "--plus",
            "echo",
            "{+/}|{+.}|{+..}|{+...}|{..}|{...}|{/..}|{/...}",
            ":::",
            "d/s/f.tar.gz",
            "a.b",
            ".c.d",
            "x.y/z",
            "noext",
            "",
        ]),
        case(&[
            "--plus", "echo", "{1+.}", "{2..}", "{2:1}", "{1%.b}", ":::", "a.b", ":::", "c.d.e",
        ]),
        case(&[
            "--plus",
            "echo",
            "{:-def}|{#.}|{##a}|{%.*}|{%%.*}|{%b.e}|{%%[be]}",
            ":::",
            "aa.bb.e",
            "",
            "0",
        ]),
        case(&[
            "--plus",
            "echo",
            "{/a/X}|{//a/X}|{/#a/X}|{/%e/X}|{/b+/<$0>}",
            ":::",
            "aa.bb.e",
        ]),
        case(&[
            "--plus",
            "echo",
            "{^a}|{^^a}|{,A}|{,,A}|{^^[a-c]}",
            ":::",
            "aa.bb.e",
            "AbA",
        ]),
        case(&[
            "--plus",
            "echo",
            "{:2}|{:1:2}|{:9}|{:9:1}|{:0:1}",
            ":::",
            "abc",
            "",
            "é€x",
        ]),
        // -S : is this machine (N/: with N jobs at once); options for remote hosts are
        // ignored with a warning on stderr.
        case(&["-S", "2/:", "-j1", "echo", "{%}", ":::", "a", "b"]),
        case(&["-S", ":,1/:", "echo", "{%}", ":::", "a", "b"]),
        case(&["--slf", "logins", "echo", ":::", "a"]).file("logins", ":\n# here\n\n3/:\n"),
        case(&["--trc", "{}.out", "--basefile", "b", "echo", ":::", "a"]),
        // --onall/--nonall: every job on every host, one at a time on each; here the one
        // host is this machine, the tag is `:` and the status counts failed hosts.
        case(&["--onall", "--tag", "echo {#} {%} {}", ":::", "a", "b", "c"]),
        case(&["--onall", "-j4", "echo {}; exit 3", ":::", "a", "b"]),
        case(&[
            "--onall",
            "--halt",
            "now,fail=1",
            "echo {}; false",
            ":::",
            "a",
            "b",
        ]),
        case(&["--onall", "echo"]).stdin(b"x\ny\n"),
        case(&["--nonall", "--tag", "echo", "[{}]", "{#}"]).stdin(b"x\ny\n"),
        case(&["--nonall", "echo", "hi", ":::", "a", "b", ":::", "c"]),
        case(&["--nonall", "exit 3"]),
        // --session is for env_parallel, and ignored.
        case(&["--session", "echo", ":::", "a"]),
        // Jobs that are skipped show their command lines with --dry-run and -v, as if they
        // ran, and count as failed.
        case(&[
            "--dry-run",
            "--filter",
            "{1} < {2}",
            "echo",
            "{1}",
            "{2}",
            ":::",
            "1",
            "2",
            ":::",
            "1",
            "2",
        ]),
        case(&[
            "-v",
            "--filter",
            "{1} < {2}",
            "echo",
            "{1}",
            "{2}",
            ":::",
            "1",
            "2",
            ":::",
            "1",
            "2",
        ]),
        case(&[
            "--plus", "--tag", "-v", "echo", "{uniq}", ":::", "a", "b", ":::", "a", "b",
        ]),
        case(&[
            "--plus", "--lb", "-v", "echo", "{uniq}", ":::", "a", "b", ":::", "a", "b",
        ]),
        case(&[
            "--dry-run",
            "echo",
            "{= skip() if $_ eq 'b' =}",
            ":::",
            "a",
            "b",
            "c",
        ]),
        case(&[
            "--parens", ",,,,", "-X", "echo", ",,", "s/a/b/", ",,", ":::", "a", "a",
        ]),
        case(&[
            "--rpl",
            "{U} $_=uc",
            "echo",
            "{-1U}",
            "{1U}",
            ":::",
            "a",
            ":::",
            "b",
        ]),
        case(&[
            "--pipe",
            "--regexp",
            "--recstart",
            "x",
            "--recend",
            "(;)",
            "-N1",
            "--rrs",
            "echo \"[$(cat)]\"",
        ])
        .stdin(b"xa;xb;"),
        case(&[
            "--pipe-part",
            "-a",
            "pp.txt",
            "--regexp",
            "--recstart",
            ">",
            "--block",
            "3",
            "echo \"[$(cat)]\"",
        ])
        .file("pp.txt", "aa\n>b\n"),
        case(&[
            "--pipe",
            "--recend",
            ";",
            "-N1",
            "--rrs",
            "--cat",
            "echo \"[$(cat {})]\"; exit 3",
        ])
        .stdin(b";;;"),
        // Negative positions count from the last input.
        case(&[
            "echo",
            "{-1}",
            "{-2.}",
            "{-1//}",
            "{=-2 $_=uc =}",
            ":::",
            "a.x",
            ":::",
            "b/y",
        ]),
        case(&["-N3", "echo", "{-1}", "{-3/}", ":::", "p/a", "b", "c", "d"]),
        // Back from the last, positions go round the inputs once more, then are none.
        case(&[
            "echo",
            "{-4}",
            "{-6.}",
            "{-7}",
            "{=-5 $_=uc =}",
            ":::",
            "a.x",
            ":::",
            "b",
            ":::",
            "c",
        ]),
        case(&["-N2", "echo", "{-3}", "{-4}", "{-5}", ":::", "a", "b", "c"]),
        // Position 0 is all the inputs; before # and % it gives the job's number and slot
        // (one job at a time, so that the slot is known), and any other position nothing.
        case(&[
            "-j1", "echo", "[{0}]", "[{0.}]", "[{0/}]", "[{0%}]", "[{0#}]", "[{1%}]", "[{-1#}]",
            ":::", "a/b.x", "d", ":::", "c",
        ]),
        case(&["--plus", "-j12", "echo", "{0%}", "{0#}", "{0}", ":::", "a"]),
        case(&["-X", "echo", "[{0}]", "[{}]", ":::", "a", "b", "c"]),
        // Perl helpers: pQ(), hash(), the time now.
        case(&[
            "echo",
            "{= $_ = pQ($_) =}",
            "{= $_ = hash($_) =~ /^0x[0-9a-f]+$/ ? 'hex' : 'not' =}",
            "{= $_ = length(yyyy_mm_dd_hh_mm_ss()) . length(yyyy_mm_dd()) . length(hhmm()) =}",
            ":::",
            "a$b\\\"c@",
        ]),
        // Perl strings: over several words of the command (GNU parallel joins them first),
        // between other parens (--parens), and what only looks like one.
        case(&["echo", "{=", "s/a/b/", "=}", "{}", ":::", "a"]),
        case(&["-q", "echo", "{=", "s/a/b/", "=}", ":::", "a"]),
        case(&["echo", "{=}", "a{=", "{=}{=1 =}", ":::", "a"]),
        case(&[
            "--parens",
            ",,,,",
            "echo",
            "foo",
            "is",
            ",,s/I/O/g,,",
            ":::",
            "FII",
        ]),
        case(&[
            "--parens",
            "<<>>",
            "echo",
            "<<1",
            "s/I/O/g>>",
            "{=1=}",
            ":::",
            "FII",
        ]),
        case(&[
            "--parens",
            "abc",
            "--tag",
            "--tagstring",
            "abcs/F/T/bc",
            "echo",
            ":::",
            "FII",
        ]),
        case(&[
            "--parens",
            "[[]]",
            "--rpl",
            "{..} s/I/O/",
            "echo",
            "{..}",
            ":::",
            "FII",
        ]),
        // --template: a file filled in for each job, written as the job starts, so that
        // one name holds each job's own text (-j1).
        case(&[
            "--tmpl",
            "my.tmpl={#}.t",
            "cat {#}.t",
            ":::",
            "a b",
            "it's",
            ":::",
            "1",
        ])
        .file("my.tmpl", "X={1} Y={2} N={#} Q={=1 $_=uc($_) =} $HOME\n"),
        case(&[
            "-j1",
            "--tmpl",
            "my.tmpl=same.t",
            "--tmpl",
            "b.tmpl=b.t",
            "cat same.t b.t",
            ":::",
            "a",
            "b",
        ])
        .file("my.tmpl", "{}\n")
        .file("b.tmpl", "[{.}]\n"),
        case(&[
            "--plus",
            "-j",
            "12",
            "--tmpl",
            "my.tmpl={0%}.t",
            "cat {0%}.t",
            ":::",
            "a.x",
        ])
        .file("my.tmpl", "{%} {0%} {/.}\n"),
        // `{0%}`: the slot, as wide as the number of jobs; one input, so always slot 1.
        case(&["--plus", "-j", "12", "echo", "{0%}", "{%}", ":::", "a"]),
        case(&["--plus", "-j", "3", "echo", "{0%}", ":::", "a"]),
        case(&["--plus", "-j", "120", "-q", "echo", "<{0%}>", ":::", "a"]),
        case(&[
            "--plus",
            "-j",
            "12",
            "-v",
            "--tag",
            "--tagstring",
            "{0%}:",
            "echo",
            ":::",
            "a",
        ]),
        case(&[
            "--plus",
            "-j",
            "12",
            "--dry-run",
            "echo",
            "{0%}",
            ":::",
            "a",
        ]),
        case(&["--plus", "echo", "{##}", "{0#}", "{#}"])
            .stdin(b"a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n"),
        case(&[
            "--plus",
            "--tagstring",
            "{0#}/{##}",
            "--tag",
            "echo",
            ":::",
            "a",
            "b",
        ]),
        case(&[
            "--plus", "echo", "{#}", "{uniq}", ":::", "a", "b", ":::", "a", "b",
        ]),
        case(&[
            "--plus",
            "echo",
            "{#}",
            "{choose_k}",
            ":::",
            "a",
            "b",
            "c",
            ":::",
            "a",
            "b",
            "c",
        ]),
        case(&["--plus", "echo", "{slot}", ":::", "a"]),
        // --xargs fills each command line; --link (--xapply) takes groups side by side.
        case(&["-j2", "--xargs", "echo", ":::", "1", "2", "3", "4"]),
        case(&[
            "--link", "echo", ":::", "a", "b", ":::+", "1", "2", "3", ":::", "x", "y", "z", "w",
        ]),
        case(&[
            "--xapply", "echo", ":::", "a", "b", ":::", "1", "2", "3", "4", ":::", "x",
        ]),
        case(&["--arg-sep", ",,", "echo", ",,", "a", "b", ",,+", "1", "2"]),
        case(&["--arg-file-sep", "//", "echo", "//", "in"]).file("in", "p\nq\n"),
        case(&["--wd", "sub/dir", "basename $PWD; ls ..", ":::", "a"]),
        case(&["--pipe", "--tee", "--tag", "grep -c {}", ":::", "1", "2"]).stdin(&numbers[..50]),
        case(&["--pipe", "--tee", "echo {#}; wc -l", ":::", "a", "b", "c"]).stdin(b"x\ny\n"),
        case(&["--nice", "7", "nice; true"]).stdin(b"a\n"),
        // -s: lines shorter than N bytes, filled, then the rest spread (-m, -X).
        case(&[
            "-s", "10", "--xargs", "echo", ":::", "1", "2", "3", "4", "5", "6", "7",
        ]),
        case(&[
            "-j2", "-s", "12", "-m", "echo", ":::", "1", "2", "3", "4", "5", "6", "7", "8",
        ]),
        case(&["-j3", "-s", "20", "-X", "echo", "x{}y", "::::", "ten"])
            .file("ten", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n"),
        // (A line too long after one that fits: whether GNU parallel runs the first
        // depends on timing, so only the first line is too long here.)
        case(&["--max-chars", "8", "echo", ":::", "123456", "12"]),
        case(&["-s", "3", "--xargs", "echo", ":::", "1", "2"]),
        // {= perl =}: computed by Perl, as GNU parallel computes them.
        case(&[
            "echo",
            "{= $_=uc($_) =}",
            "{=2 s/b/X/ =}",
            "{= $_=$arg[1].$arg[2] =}",
            "{= $_=seq() =}",
            ":::",
            "a b",
            "c",
            ":::",
            "b",
        ]),
        case(&["echo", "{= $_=total_jobs() =}", "{= $_=Q($_) =}"]).stdin(b"x y\nz\n"),
        case(&["echo", "{= skip() if /b/ =}", ":::", "a", "b", "c"]),
        case(&["echo", "{= uq(); $_=\"[$_]\" =}", ":::", "x"]),
        case(&["-n2", "echo", "{= $_.=\"!\" =}", ":::", "a", "b", "c"]),
        case(&[
            "--dry-run",
            "echo",
            "{= s/\\.gz$// =}",
            ":::",
            "a.gz",
            "b c.gz",
        ]),
        case(&["--tagstring", "{= $_=uc($_) =}", "echo", ":::", "t"]),
        case(&["echo", "{= $_ = ( =}", ":::", "a"]),
        // --pipe-part: parts of a file, cut where GNU parallel cuts them.
        case(&["--pipe-part", "-a", "n", "--block", "1k", "wc", "-l"]).file("n", numbers_text),
        case(&["-j3", "--pipe-part", "-a", "n", "--block", "-2", "wc", "-c"])
            .file("n", numbers_text),
        case(&["-j2", "--pipe-part", "-a", "n", "md5sum"]).file("n", numbers_text),
        case(&[
            "--pipe-part",
            "--header",
            ":",
            "--block",
            "10",
            "echo [; cat",
            "::::",
            "h",
        ])
        .file("h", "h1\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n"),
        case(&[
            "--pipe-part",
            "--recend",
            "5",
            "-a",
            "n",
            "--block",
            "2k",
            "tail -c 4",
        ])
        .file("n", numbers_text),
        case(&["--pipe-part", "--round-robin", "-j3", "-a", "n", "wc", "-l"])
            .file("n", numbers_text),
        // Without --plus they are text.
        case(&["echo", "{+.}|{..}|{##}|{:1}|{uniq}", ":::", "a.b.c"]),
    ]
}

#[test]
fn map_matches_gnu_parallel() {
    require_gnu_parallel();
    let cases = table();
    assert!(cases.len() >= 40);
    let mut failures = Vec::new();
    for case in &cases {
        let (gnu_out, gnu_code, gnu_err) = through(case, "parallel");
        let (out, code, err) = through(case, "fanout");
        if (&gnu_out, gnu_code) != (&out, code) {
            failures.push(format!(
                "{:?} stdin {:?}\n  parallel: exit {gnu_code}, stdout {gnu_out:?}, stderr {gnu_err:?}\n  fanout:   exit {code}, stdout {out:?}, stderr {err:?}",
                case.args,
                String::from_utf8_lossy(&case.stdin),
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} command lines differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn results_tables_match_gnu_parallels_but_for_times() {
    require_gnu_parallel();
    let times = regex::Regex::new(r"(?m)^(\d+)([,\t]):([,\t])[0-9.]+([,\t])[0-9.]+").unwrap();
    let json_times = regex::Regex::new(r#""Starttime": [0-9.]+, "JobRuntime": [0-9.]+"#).unwrap();
    let masked = |text: &str| {
        let text = times.replace_all(text, "$1$2:${3}START${4}RUNTIME");
        json_times.replace_all(&text, "TIMES").into_owned()
    };
    let command = "echo out {}; echo err {} >&2; [ {} != b ]";
    for table in ["-.csv", "-.tsv", "-.json"] {
        let cases = [
            case(&[
                "-j1",
                "--results",
                table,
                command,
                ":::",
                "a",
                "b",
                "c d",
                "q\"x",
                "t\tu",
            ]),
            case(&[
                "-j1",
                "--results",
                table,
                "--header",
                ":",
                "echo",
                "{x}",
                ":::",
                "x",
                "1",
            ]),
            case(&[
                "-j1",
                "--results",
                table,
                "echo",
                ":::",
                "1",
                "2",
                ":::",
                "é",
                "",
            ]),
            // A skipped job has its row, in its turn.
            case(&[
                "-j1",
                "--results",
                table,
                "--filter",
                "\"{}\" ne \"b\"",
                "echo",
                ":::",
                "b",
                "a",
                "b",
                "c",
            ]),
        ];
        for case in &cases {
            let (gnu, gnu_code, _) = through(case, "parallel");
            let (ours, our_code, err) = through(case, "fanout");
            assert_eq!(masked(&ours), masked(&gnu), "{:?}: {err}", case.args);
            assert_eq!(our_code, gnu_code, "{:?}", case.args);
            assert!(
                times.is_match(&ours) || json_times.is_match(&ours),
                "{ours}"
            );
        }
    }
}

/// Runs `args` with `--files` through `program` in a fresh directory: per line of stdout,
/// the line with the file's random part masked and the file's contents; the exit status;
/// stderr.
/// Runs `args` through `program` in a fresh directory: every file it left there (other
/// than GNU parallel's own), each with its contents, its stdout and its exit status.
fn tree_through(args: &[&str], program: &str) -> (Files, String, i32) {
    let (files, mut ends) = tree_after(&[args], program);
    let (stdout, code) = ends.pop().expect("one run");
    (files, stdout, code)
}

/// Files by name, with their contents.
type Files = Vec<(String, String)>;

/// Runs each of `runs` through `program`, one after another in one fresh directory: every
/// file they left there (other than GNU parallel's own) with its contents, and each run's
/// stdout and exit status.
fn tree_after(runs: &[&[&str]], program: &str) -> (Files, Vec<(String, i32)>) {
    let project = Project::new();
    let ends = runs
        .iter()
        .map(|args| {
            let out = run(command(&project, program, args), b"");
            (
                String::from_utf8_lossy(&out.stdout).into_owned(),
                out.status.code().unwrap_or(-1),
            )
        })
        .collect();
    let mut files = Vec::new();
    let mut dirs = vec![project.path().to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let name = path
                .strip_prefix(project.path())
                .unwrap()
                .display()
                .to_string();
            if name == ".parallel" {
                continue;
            }
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push((name, std::fs::read_to_string(&path).unwrap_or_default()));
            }
        }
    }
    files.sort();
    (files, ends)
}

#[test]
fn resume_goes_by_the_results_directory_without_a_job_log_as_in_gnu_parallel() {
    require_gnu_parallel();
    let first = "echo {}; [ {} != b ]";
    let cases: [&[&[&str]]; 3] = [
        // --resume: a job with output in the directory is done; the others run.
        &[
            &["-k", "--results", "out", first, ":::", "a", "b", "c"],
            &[
                "-k",
                "--resume",
                "--results",
                "out",
                "echo again {}",
                ":::",
                "a",
                "b",
                "c",
                "d",
            ],
        ],
        // --resume-failed cannot tell failures from the directory: every job runs again.
        &[
            &["-k", "--results", "out", first, ":::", "a", "b", "c"],
            &[
                "-k",
                "--resume-failed",
                "--results",
                "out",
                "echo again {}",
                ":::",
                "a",
                "b",
                "d",
            ],
        ],
        // Results named by the job: the file is what counts.
        &[
            &["-k", "--results", "o/{}.txt", first, ":::", "a", "b"],
            &[
                "-k",
                "--resume",
                "--results",
                "o/{}.txt",
                "echo again {}",
                ":::",
                "a",
                "b",
                "c",
            ],
        ],
    ];
    for runs in cases {
        let gnu = tree_after(runs, "parallel");
        let ours = tree_after(runs, "fanout");
        assert_eq!(ours, gnu, "{runs:?}");
        assert!(
            ours.0.iter().any(|(_, text)| text.starts_with("again")),
            "{runs:?}: the second run ran nothing"
        );
    }
}

#[test]
fn results_named_with_replacement_strings_are_files_as_in_gnu_parallel() {
    require_gnu_parallel();
    let command = "echo out {}; echo err {} >&2";
    let cases: [&[&str]; 7] = [
        // Stdout in the name; stderr and the job number beside it.
        &["-k", "--results", "my_{}", command, ":::", "foo", "bar"],
        // Ending in /: a folder of stdout, stderr and seq.
        &["-k", "--results", "my_{}/", command, ":::", "foo", "bar"],
        &[
            "-k",
            "--results",
            "o/{1}/{2}.txt",
            command,
            ":::",
            "a",
            "b",
            ":::",
            "c",
        ],
        &[
            "-k",
            "--header",
            ":",
            "--results",
            "x_{a}",
            command,
            ":::",
            "a",
            "1",
            "2",
        ],
        &[
            "-k",
            "--results",
            "{= $_=uc($_) =}.out",
            "--files",
            command,
            ":::",
            "a",
        ],
        // The slot the job ran in.
        &["-j1", "--results", "out/{%}/{}", command, ":::", "a", "b"],
        // In context with -N, as the command.
        &["-k", "-N2", "--results", "o/x{}y", command, ":::", "a", "b"],
    ];
    for args in cases {
        let gnu = tree_through(args, "parallel");
        let ours = tree_through(args, "fanout");
        assert_eq!(ours, gnu, "{args:?}");
        assert!(!ours.0.is_empty(), "{args:?}: no files");
    }
}

fn files_through(args: &[&str], program: &str) -> (Vec<(String, String)>, i32, String) {
    let project = Project::new();
    let out = run(command(&project, program, args), b"");
    let random = regex::Regex::new(r"par[A-Za-z0-9_]{5}\.par$").unwrap();
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let path = line.rsplit('\t').next().unwrap_or_default();
            let contents = std::fs::read_to_string(project.path().join(path))
                .unwrap_or_else(|e| panic!("{program}: {path}: {e}"));
            (random.replace(line, "parXXXXX.par").into_owned(), contents)
        })
        .collect();
    (
        lines,
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn files_name_each_jobs_output_as_gnu_parallel_does() {
    require_gnu_parallel();
    let command = "echo out {}; echo err {} >&2; [ {} != b ]";
    let cases: [&[&str]; 4] = [
        &[
            "-k", "--files", "--tmpdir", ".", command, ":::", "a", "b", "",
        ],
        // A skipped job's file is empty.
        &[
            "-k",
            "--files",
            "--tmpdir",
            ".",
            "--filter",
            "\"{}\" ne \"b\"",
            command,
            ":::",
            "a",
            "b",
            "c",
        ],
        &[
            "-k", "--tag", "--files", "--tmpdir", ".", command, ":::", "a", "c d",
        ],
        &[
            "-k",
            "--files",
            "--results",
            "res",
            command,
            ":::",
            "a",
            "b",
        ],
    ];
    for args in cases {
        let (gnu, gnu_code, gnu_err) = files_through(args, "parallel");
        let (ours, our_code, our_err) = files_through(args, "fanout");
        assert_eq!(ours, gnu, "{args:?}: {our_err}");
        assert_eq!(our_code, gnu_code, "{args:?}");
        // Both drop the jobs' stderr.
        assert_eq!(our_err, gnu_err, "{args:?}");
        assert!(
            !ours.is_empty() && ours[0].1.starts_with("out a"),
            "{ours:?}"
        );
    }
}

/// `program -p ARGS` on a terminal of its own (a pseudo-terminal `script` makes), `answers`
/// typed there: its stdout (kept apart from the terminal), exit status, job log as
/// (seq, exit value) pairs in order of seq, and the terminal's text.
fn answered(program: &str, args: &str, answers: &str) -> (String, i32, Vec<(u32, i32)>, String) {
    let project = Project::new();
    let program = match program {
        "parallel" => "parallel".to_owned(),
        _ => format!("{} map", crate::harness::fanout_bin()),
    };
    let line = format!("{program} -p --joblog log {args} > out");
    let out = run(
        {
            let mut script = Command::new("script");
            script
                .args(["-qec", &line, "/dev/null"])
                .current_dir(project.path())
                .env("NO_COLOR", "1");
            script
        },
        answers.as_bytes(),
    );
    let mut logged: Vec<(u32, i32)> = std::fs::read_to_string(project.join("log"))
        .unwrap_or_default()
        .lines()
        .skip(1)
        .map(|row| {
            let fields: Vec<&str> = row.split('\t').collect();
            (fields[0].parse().unwrap(), fields[6].parse().unwrap())
        })
        .collect();
    logged.sort_unstable();
    (
        std::fs::read_to_string(project.join("out")).unwrap_or_default(),
        out.status.code().unwrap_or(-1),
        logged,
        String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"),
    )
}

#[test]
fn interactive_runs_the_jobs_answered_yes_as_gnu_parallel_does() {
    require_gnu_parallel();
    // The command line, the answers, and the first question.
    let cases = [
        ("-k echo ::: a b c d", "y\nn\nYes\n  nope\n", "echo a ?..."),
        (
            "-k -j1 'echo {}; exit {#}' ::: a b c",
            "y\n\ny\n",
            "echo a; exit 1 ?...",
        ),
        ("-k --tag -t echo ::: 'x y' z", "n\ny\n", "echo 'x y' ?..."),
    ];
    for (args, answers, first) in cases {
        let (gnu, gnu_code, gnu_log, _) = answered("parallel", args, answers);
        let (ours, our_code, our_log, terminal) = answered("fanout", args, answers);
        assert_eq!(ours, gnu, "{args}");
        assert_eq!(our_code, gnu_code, "{args}");
        assert_eq!(our_log, gnu_log, "{args}");
        assert!(!ours.is_empty(), "{args}: nothing ran");
        // Each job is put to the user, in GNU parallel's words, and no -t line is printed.
        assert!(terminal.contains(first), "{args}: {terminal}");
        let asked = terminal.matches(" ?...").count();
        assert_eq!(asked, answers.lines().count(), "{args}: {terminal}");
        assert!(!terminal.lines().any(|line| line == "echo z"), "{terminal}");
    }
}

/// `program ARGS` with `files` (profiles) in a fresh folder that is also its home, and
/// `env`: stdout and exit status.
fn with_profiles(
    program: &str,
    files: &[(&str, &str)],
    env: &[(&str, &str)],
    args: &[&str],
) -> (String, i32) {
    let project = Project::new();
    for (name, contents) in files {
        project.file(name, contents);
    }
    let mut command = command(&project, program, args);
    command.envs(env.iter().copied());
    let out = run(command, b"");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn profiles_and_the_parallel_variable_add_options_as_in_gnu_parallel() {
    require_gnu_parallel();
    let config = (".parallel/config", "# every run\n-k --tag\n\n");
    let echo: &[&str] = &["echo", ":::", "a", "b c"];
    // (files, environment, arguments)
    type Case<'a> = (
        Vec<(&'a str, &'a str)>,
        Vec<(&'a str, &'a str)>,
        Vec<&'a str>,
    );
    let cases: [Case; 10] = [
        // An option's value on the next line of a profile.
        (
            vec![(".parallel/config", "-k\n--tagstring\n'T {}'\n")],
            vec![],
            echo.to_vec(),
        ),
        // ~/.parallel/config, ~/.parallelrc and $PARALLEL_HOME/config.
        (vec![config], vec![], echo.to_vec()),
        (vec![(".parallelrc", "--tag -k")], vec![], echo.to_vec()),
        (
            vec![("ph/config", "-k --tagstring '<{}>'")],
            vec![("PARALLEL_HOME", "ph")],
            echo.to_vec(),
        ),
        // -J: another profile in place of the config, or a path.
        (
            vec![config, (".parallel/dry", "-k --dry-run")],
            vec![],
            [&["-J", "dry"], echo].concat(),
        ),
        (
            vec![config, ("prof", "-v\n-k")],
            vec![],
            [&["--profile", "./prof"], echo].concat(),
        ),
        // $PARALLEL: options, and words of the command before the command line's.
        (
            vec![],
            vec![("PARALLEL", "-k 'echo' pre")],
            vec![":::", "a", "b"],
        ),
        (
            vec![],
            vec![("PARALLEL", "--tagstring env")],
            [&["--tagstring", "cli", "-k"], echo].concat(),
        ),
        (vec![config], vec![("PARALLEL", "-v")], echo.to_vec()),
        // --plain reads none of them.
        (
            vec![config],
            vec![("PARALLEL", "--dry-run")],
            [&["--plain", "-k"], echo].concat(),
        ),
    ];
    for (files, env, args) in &cases {
        let gnu = with_profiles("parallel", files, env, args);
        let ours = with_profiles("fanout", files, env, args);
        assert_eq!(ours, gnu, "{files:?} {env:?} {args:?}");
        assert_eq!(ours.1, 0, "{files:?} {env:?} {args:?}");
    }
}

/// A script whose `#!` line is `#!INTERPRETER LINE`, run with `args` and `stdin` in a
/// fresh folder: stdout and exit status.
fn script_run(
    interpreter: &str,
    line: &str,
    body: &str,
    args: &[&str],
    stdin: &[u8],
) -> (String, i32) {
    let project = Project::new();
    let interpreter = match interpreter {
        "fanout" => {
            std::os::unix::fs::symlink(crate::harness::fanout_bin(), project.join("parallel"))
                .unwrap();
            project.join("parallel").display().to_string()
        }
        other => other.to_owned(),
    };
    let script = project.script("script", &format!("#!{interpreter} {line}\n{body}"));
    let mut command = Command::new(&script);
    command
        .args(args)
        .current_dir(project.path())
        .env("HOME", project.path())
        .env_remove("PARALLEL");
    let out = run(command, stdin);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn scripts_run_through_shebang_lines_as_in_gnu_parallel() {
    require_gnu_parallel();
    let cases: [(&str, &str, &[&str], &[u8]); 4] = [
        // --shebang: each line after the first is an input.
        ("--shebang -k echo got", "a b\nc\n", &[], b""),
        ("--hashbang -k --tag echo", "x\n\ny\n", &[], b""),
        // --shebang-wrap: the script runs once per argument.
        (
            "--shebang-wrap -k /bin/sh",
            "echo arg \"$@\"; exit $1\n",
            &["0", "3"],
            b"",
        ),
        // With --pipe, once per block of its stdin.
        (
            "--shebang-wrap -k --pipe -N2 /bin/sh",
            "echo $(wc -l)\n",
            &[],
            b"1\n2\n3\n",
        ),
    ];
    for (line, body, args, stdin) in cases {
        let gnu = script_run("/usr/bin/parallel", line, body, args, stdin);
        let ours = script_run("fanout", line, body, args, stdin);
        assert_eq!(ours, gnu, "{line}");
        assert!(!ours.0.is_empty(), "{line}: nothing ran");
    }
}
