//! `fanout map` on its own: the job log's format next to GNU parallel's, and a run
//! interrupted with SIGINT then resumed from its job log.

use std::process::{Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::harness::{Project, StreamReader, interval, max_overlap, read_stamp, wait_for};

fn joblog_lines(project: &Project, name: &str) -> Vec<Vec<String>> {
    project
        .read(name)
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

#[test]
fn the_job_log_has_gnu_parallels_format() {
    let project = Project::new();
    let args = [
        "-j1",
        "--joblog",
        "LOG",
        "echo {}; exit {}",
        ":::",
        "0",
        "1",
        "22",
    ];
    let status = Command::new("parallel")
        .arg("--will-cite")
        .args(args.map(|a| if a == "LOG" { "gnu.log" } else { a }))
        .current_dir(project.path())
        .env("HOME", project.path())
        .stdout(Stdio::null())
        .status()
        .expect("GNU parallel is installed (scripts/test installs it)");
    assert_eq!(status.code(), Some(2));
    let mut map_args = vec!["map"];
    map_args.extend(args.map(|a| if a == "LOG" { "fanout.log" } else { a }));
    project.fanout(&map_args).expect_code(2);

    let gnu = joblog_lines(&project, "gnu.log");
    let ours = joblog_lines(&project, "fanout.log");
    assert_eq!(ours[0], gnu[0], "the header");
    assert_eq!(ours.len(), gnu.len());
    let decimal = |s: &str| {
        s.split_once('.')
            .is_some_and(|(int, frac)| frac.len() == 3 && int.trim_start().parse::<u64>().is_ok())
    };
    for (ours, gnu) in ours.iter().zip(&gnu).skip(1) {
        assert_eq!(ours.len(), 9, "{ours:?}");
        // Seq, Host, Send, Receive, Exitval, Signal and Command are equal.
        for field in [0, 1, 4, 5, 6, 7, 8] {
            assert_eq!(ours[field], gnu[field], "field {field} of {ours:?}");
        }
        assert!(decimal(&ours[2]), "Starttime {:?}", ours[2]);
        assert!(
            decimal(&ours[3]) && ours[3].len() == 10,
            "JobRuntime {:?}",
            ours[3]
        );
        assert_eq!(gnu[3].len(), 10, "JobRuntime {:?}", gnu[3]);
    }
}

#[test]
fn the_job_logs_receive_counts_what_gnu_parallel_counts() {
    let project = Project::new();
    // stdout is 6 bytes, stderr 4 more.
    for (mode, received) in [
        (None, "6"),
        (Some("--line-buffer"), "10"),
        (Some("-u"), "0"),
    ] {
        let mut args = vec!["map", "--joblog", "log"];
        args.extend(mode);
        args.extend(["echo out{}; echo e{} >&2", ":::", "ab"]);
        project.fanout(&args).expect_code(0);
        let lines = joblog_lines(&project, "log");
        assert_eq!(lines[1][5], received, "{mode:?}: {lines:?}");
    }
}

#[test]
fn a_job_log_on_stdout_follows_each_jobs_output_as_in_gnu_parallel() {
    let project = Project::new();
    // The second job ends first, and the third (`{uniq}`: "b b") does not run; with -k each
    // line still follows its job's output, the skipped job's in its place.
    let args = [
        "-k",
        "-j3",
        "--plus",
        "--joblog",
        "-",
        "sleep {1}; echo {uniq}",
        ":::",
        "0.4",
        "0.1",
        "b",
        ":::+",
        "a",
        "c",
        "b",
    ];
    let gnu = Command::new("parallel")
        .arg("--will-cite")
        .args(args)
        .current_dir(project.path())
        .env("HOME", project.path())
        .stderr(Stdio::null())
        .output()
        .expect("GNU parallel is installed (scripts/test installs it)");
    let mut map_args = vec!["map"];
    map_args.extend(args);
    let ours = project.fanout(&map_args);
    assert_eq!(Some(ours.code), gnu.status.code(), "{}", ours.stderr);
    // Starttime and JobRuntime differ from run to run.
    let timeless = |out: &str| -> Vec<String> {
        out.lines()
            .map(|line| {
                let mut fields: Vec<&str> = line.split('\t').collect();
                if fields.len() == 9 && fields[0] != "Seq" {
                    fields[2] = "T";
                    fields[3] = "T";
                }
                fields.join("\t")
            })
            .collect()
    };
    let expected = timeless(&String::from_utf8_lossy(&gnu.stdout));
    assert_eq!(timeless(&ours.stdout), expected);
    assert_eq!(expected.len(), 6, "{expected:?}");
    assert!(!project.join("-").exists(), "no file named -");
}

#[test]
fn template_files_are_written_for_dry_runs_and_removed_with_cleanup() {
    let project = Project::new();
    project.file("my.tmpl", "value {} job {#} slot {%}\n");
    // A dry run writes each job's file (GNU parallel does too), and runs nothing.
    let out = project.fanout(&[
        "map",
        "-j1",
        "--dry-run",
        "--tmpl",
        "my.tmpl=d-{}.t",
        "cat d-{}.t",
        ":::",
        "a",
        "b",
    ]);
    out.expect_code(0);
    assert_eq!(out.stdout, "cat d-a.t\ncat d-b.t\n");
    assert_eq!(project.read("d-a.t"), "value a job 1 slot 1\n");
    assert_eq!(project.read("d-b.t"), "value b job 2 slot 1\n");
    // Not for a job that would be skipped, as in a run.
    let out = project.fanout(&[
        "map",
        "--dry-run",
        "--filter",
        "'{}' ne 'b'",
        "--tmpl",
        "my.tmpl=f-{}.t",
        "true",
        ":::",
        "a",
        "b",
    ]);
    out.expect_code(1);
    assert!(project.join("f-a.t").exists() && !project.join("f-b.t").exists());
    // --cleanup: each job read its file, and none is left.
    let out = project.fanout(&[
        "map",
        "-j1",
        "--cleanup",
        "--tmpl",
        "my.tmpl=c-{}.t",
        "cat c-{}.t",
        ":::",
        "a",
        "b",
    ]);
    out.expect_code(0);
    assert_eq!(out.stdout, "value a job 1 slot 1\nvalue b job 2 slot 1\n");
    assert!(!project.join("c-a.t").exists() && !project.join("c-b.t").exists());
    // Without it, the files stay.
    project
        .fanout(&["map", "--tmpl", "my.tmpl=k-{}.t", "true", ":::", "a"])
        .expect_code(0);
    assert_eq!(project.read("k-a.t"), "value a job 1 slot 1\n");
    // Names with the slot in them are removed too.
    project
        .fanout(&[
            "map",
            "-j2",
            "--cleanup",
            "--tmpl",
            "my.tmpl=s{%}.t",
            "cat s{%}.t",
            ":::",
            "a",
            "b",
        ])
        .expect_code(0);
    assert!(!project.join("s1.t").exists() && !project.join("s2.t").exists());
    // Any text goes in as it is: long, with NUL bytes, with what looks like a shell
    // variable in an input; the file is written where fanout runs, not in --wd.
    let big = format!("{}{{}}\0$HOME\n", "x".repeat(200_000));
    project.file("big.tmpl", &big);
    std::fs::create_dir(project.join("wd")).unwrap();
    let out = project.fanout(&[
        "map",
        "--wd",
        "wd",
        "--tmpl",
        "big.tmpl=big.out",
        "true",
        ":::",
        "${FANOUT_SLOT}",
    ]);
    out.expect_code(0);
    assert_eq!(
        std::fs::read(project.join("big.out")).unwrap(),
        big.replace("{}", "${FANOUT_SLOT}").into_bytes()
    );
    assert!(!project.join("wd/big.out").exists());
    // A file that cannot be written fails its job, which does not run.
    let out = project.fanout(&[
        "map",
        "--tmpl",
        "my.tmpl=no-dir/{}.t",
        "touch ran-{}",
        ":::",
        "a",
    ]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("could not write no-dir/a.t"),
        "{}",
        out.stderr
    );
    assert!(!project.join("ran-a").exists());
    // A template that cannot be read, or a value with no name to write, is a usage error.
    for value in ["missing.tmpl=x", "my.tmpl"] {
        let out = project.fanout(&["map", "--tmpl", value, "true", ":::", "a"]);
        out.expect_code(255);
        assert!(
            out.stderr.contains(&format!("`--template {value}`")),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn options_for_remote_hosts_run_here_or_say_why_not() {
    let project = Project::new();
    // `N/:` is N jobs at once here: with 3, three jobs that each wait for all to start
    // (fewer at once, and they time out).
    let out = project.fanout(&[
        "map",
        "-S",
        "3/:",
        "--timeout",
        "20",
        "touch {}; while [ ! -e a ] || [ ! -e b ] || [ ! -e c ]; do sleep 0.01; done",
        ":::",
        "a",
        "b",
        "c",
    ]);
    out.expect_code(0);
    // What only a remote host would do is ignored, as GNU parallel ignores it, with its
    // warning.
    for (option, value) in [("--trc", "{}.out"), ("--return", "x"), ("--basefile", "y")] {
        let out = project.fanout(&["map", option, value, "echo", ":::", "a"]);
        out.expect_code(0);
        assert_eq!(out.stdout, "a\n");
        assert!(
            out.stderr.contains(&format!(
                "{option} ignored as there are no remote --sshlogin"
            )),
            "{}",
            out.stderr
        );
    }
    // A remote host is refused before anything runs.
    let out = project.fanout(&["map", "-S", ":,me@server", "touch", "ran", ":::", "a"]);
    out.expect_code(255);
    assert!(
        out.stderr.contains("`--sshlogin me@server`"),
        "{}",
        out.stderr
    );
    assert!(!project.join("ran").exists());
}

#[test]
fn onall_runs_the_jobs_here_one_at_a_time_and_nonall_runs_the_command_once() {
    let project = Project::new();
    // Whatever -j says, the one host runs its jobs one after another, in input order.
    let out = project.fanout(&[
        "map",
        "--onall",
        "-j4",
        "echo start {} >> log; sleep 0.2; echo end {} >> log; test {} != b",
        ":::",
        "a",
        "b",
        "c",
    ]);
    // One host, and it failed.
    out.expect_code(1);
    assert_eq!(
        project.read("log"),
        "start a\nend a\nstart b\nend b\nstart c\nend c\n"
    );
    // No input source: once, with nothing appended, and stdin left unread.
    project.file("in", "x\ny\n");
    let out = project
        .command(&["map", "--nonall", "--tag", "echo", "once", "[{}]"])
        .stdin(std::fs::File::open(project.join("in")).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), ":\tonce []\n");
}

#[test]
fn versions_and_limits_are_printed_as_gnu_parallel_prints_them() {
    let project = Project::new();
    // The GNU parallel fanout map follows; 255 when a script wants a later one.
    let out = project.fanout(&["map", "--minversion", "20170422"]);
    out.expect_code(0);
    assert_eq!(out.stdout, "20221122\n");
    project
        .fanout(&["map", "--minversion", "20990101"])
        .expect_code(255);
    let out = project.fanout(&["map", "--minversion", "soon"]);
    out.expect_code(255);
    assert!(
        out.stderr.contains("`--minversion soon` is not a version"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
    // The longest command line -m, -X and --xargs fill.
    let out = project.fanout(&["map", "--max-line-length-allowed"]);
    out.expect_code(0);
    assert_eq!(out.stdout, "131072\n");
    // --show-limits, then the run goes on; -x is accepted.
    let out = project.fanout(&[
        "map",
        "--show-limits",
        "-x",
        "-s",
        "1000",
        "echo",
        ":::",
        "a",
    ]);
    out.expect_code(0);
    assert_eq!(
        out.stdout,
        "Maximal size of command: 131072\nMaximal usable size of command: 1000\na\n"
    );
}

#[test]
fn a_limit_command_is_asked_before_each_start() {
    let project = Project::new();
    // Asked once per job when it lets each start.
    let out = project.fanout(&[
        "map",
        "-k",
        "--limit",
        "echo x >> calls",
        "echo",
        ":::",
        "a",
        "b",
        "c",
    ]);
    out.expect_code(0);
    assert_eq!(out.stdout, "a\nb\nc\n");
    assert_eq!(project.read("calls").lines().count(), 3);
    // While it says no, nothing starts; once it says yes, every job does.
    let go = project.join("go");
    let opener = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(600));
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        std::fs::write(go, "").unwrap();
        at
    });
    let out = project.fanout(&[
        "map",
        "--limit",
        "[ -e go ]",
        "date +%s%N > start-{}",
        ":::",
        "a",
        "b",
    ]);
    out.expect_code(0);
    let opened = opener.join().unwrap();
    for job in ["a", "b"] {
        let started = read_stamp(&project, &format!("start-{job}"));
        assert!(
            started >= opened,
            "job {job} started before the limit let it"
        );
    }
    // GNU parallel's I/O limit is not built: a usage error.
    let out = project.fanout(&["map", "--limit", "io 10", "echo", ":::", "a"]);
    out.expect_code(255);
    assert!(
        out.stderr.contains("the I/O limit is not built"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_interrupted_run_resumes_from_its_job_log_and_runs_each_job_once() {
    let project = Project::new();
    std::fs::create_dir(project.join("counts")).unwrap();
    let jobs = 16;
    let inputs: Vec<String> = (1..=jobs).map(|i| i.to_string()).collect();
    // Each job counts itself in its last step, so a job cut short counts nothing.
    let mut args = vec![
        "map",
        "-j2",
        "--joblog",
        "jobs.log",
        "sleep 0.3; echo run >> counts/{}",
        ":::",
    ];
    args.extend(inputs.iter().map(String::as_str));
    let mut child = project
        .command(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let logged =
        || std::fs::read_to_string(project.join("jobs.log")).map_or(0, |t| t.lines().count() - 1);
    assert!(
        wait_for(Duration::from_secs(20), || logged() >= 4),
        "jobs were logged"
    );
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let first = logged();
    assert!(
        first < jobs,
        "the interrupt stopped the run early ({first} logged)"
    );

    let mut resume = args.clone();
    resume.insert(1, "--resume");
    project.fanout(&resume).expect_code(0);

    for input in &inputs {
        let runs = project.read(&format!("counts/{input}")).lines().count();
        assert_eq!(runs, 1, "job {input} ran {runs} times");
    }
    let log = joblog_lines(&project, "jobs.log");
    assert_eq!(
        log.iter().filter(|l| l[0] == "Seq").count(),
        1,
        "one header"
    );
    let mut seqs: Vec<usize> = log.iter().skip(1).map(|l| l[0].parse().unwrap()).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=jobs).collect::<Vec<_>>());

    // Everything is done: resuming again runs nothing.
    project.fanout(&resume).expect_code(0);
    assert_eq!(joblog_lines(&project, "jobs.log").len(), jobs + 1);
}

#[test]
fn line_buffer_prints_lines_while_the_job_runs() {
    use std::io::{BufRead, BufReader};
    let project = Project::new();
    // The job's second line waits for a file the test makes only once it has read the
    // first line; with grouped output it would give up after 20 s and say so.
    let job = "echo first {}; i=0; while [ ! -e go ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; \
               if [ -e go ]; then echo second {}; else echo gave up {}; fi";
    let mut child = project
        .command(&["map", "--line-buffer", job, ":::", "x"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("fanout starts");
    let mut out = BufReader::new(child.stdout.take().expect("a stdout pipe"));
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert_eq!(first, "first x\n");
    project.file("go", "");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert_eq!(rest, "second x\n");
    assert!(child.wait().unwrap().success());
}

#[test]
fn delay_spaces_out_the_starts_of_jobs_and_of_their_retries() {
    // GNU parallel's --sshdelay stands for --delay when there is no remote host.
    for option in ["--delay", "--sshdelay"] {
        delay_spaces_out_starts(option);
    }
}

fn delay_spaces_out_starts(option: &str) {
    let project = Project::new();
    // Four starts: two jobs, each failing its first try. Each start stamps a file, first
    // thing.
    std::fs::create_dir(project.join("t")).unwrap();
    let job = "date +%s%N > t/{}.$FANOUT_ATTEMPT; test $FANOUT_ATTEMPT -ge 2";
    project
        .fanout(&[
            "map",
            "-j4",
            option,
            "0.3",
            "--retries",
            "2",
            job,
            ":::",
            "a",
            "b",
        ])
        .expect_code(0);
    let mut starts: Vec<u128> = ["a.1", "a.2", "b.1", "b.2"]
        .iter()
        .map(|name| read_stamp(&project, &format!("t/{name}")))
        .collect();
    starts.sort_unstable();
    // The stamps are taken inside the jobs, a little after each start, later on a busy
    // machine: each gap may look shorter than the delay by that much, the whole spread
    // too, but only once.
    for pair in starts.windows(2) {
        let gap_ms = (pair[1] - pair[0]) / 1_000_000;
        assert!(gap_ms >= 150, "starts {gap_ms} ms apart with {option} 0.3");
    }
    let spread_ms = (starts[3] - starts[0]) / 1_000_000;
    assert!(
        spread_ms >= 750,
        "four starts over {spread_ms} ms with {option} 0.3"
    );
}

#[test]
fn shuf_runs_every_job_once_in_a_random_order_numbered_as_run() {
    let project = Project::new();
    let inputs: Vec<String> = (1..=30).map(|i| i.to_string()).collect();
    let mut args = vec!["map", "-k", "--shuf", "echo", "{#}", "{}", ":::"];
    args.extend(inputs.iter().map(String::as_str));
    let out = project.fanout(&args);
    out.expect_code(0);
    let lines: Vec<(usize, String)> = out
        .stdout
        .lines()
        .map(|l| {
            let (seq, input) = l.split_once(' ').unwrap();
            (seq.parse().unwrap(), input.to_owned())
        })
        .collect();
    let seqs: Vec<usize> = lines.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, (1..=30).collect::<Vec<_>>(), "{}", out.stdout);
    let mut ran: Vec<String> = lines.iter().map(|(_, i)| i.clone()).collect();
    // One chance in 30! that a fair shuffle keeps the order.
    assert_ne!(ran, inputs, "the order was shuffled");
    ran.sort_by_key(|i| i.parse::<u32>().unwrap());
    assert_eq!(ran, inputs, "every input ran once");
}

/// Runs `fanout map ARGS` and checks that it failed with an error of fanout's own (255)
/// saying `message`, having run nothing.
fn expect_map_error(project: &Project, args: &[&str], message: &str) {
    let mut map_args = vec!["map"];
    map_args.extend(args);
    let out = project.fanout(&map_args);
    out.expect_code(255);
    assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
    assert!(
        out.stdout.is_empty(),
        "{args:?}: nothing ran: {}",
        out.stdout
    );
}

/// `fanout ARGS` run on a terminal of its own (a pseudo-terminal `script` makes), and
/// what it wrote there.
fn on_a_terminal(project: &Project, args: &str) -> String {
    let command = format!("{} {args}", crate::harness::fanout_bin());
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(project.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("script (util-linux) starts");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
}

#[test]
fn open_tty_gives_jobs_the_terminal_as_stdin() {
    let project = Project::new();
    // `tty` names the terminal on its stdin; without -o that is /dev/null.
    let with = on_a_terminal(&project, "map -k -o 'tty; true {}' ::: 1 2");
    assert_eq!(with.matches("/dev/tty\n").count(), 2, "{with}");
    let without = on_a_terminal(&project, "map -k 'tty; true {}' ::: 1 2");
    assert_eq!(without.matches("not a tty\n").count(), 2, "{without}");
    // --tty: one job at a time, each with the terminal.
    let tty = on_a_terminal(&project, "map --tty 'tty; echo {}' ::: 1 2");
    assert!(tty.starts_with("/dev/tty\n1\n/dev/tty\n2\n"), "{tty}");
    // With no terminal at all, jobs read /dev/null, and fanout says so.
    let out = Command::new("setsid")
        .args(["-w", crate::harness::fanout_bin()])
        .args(["map", "-o", "tty; true {}", ":::", "1"])
        .current_dir(project.path())
        .stdin(Stdio::null())
        .output()
        .expect("setsid (util-linux) starts");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "not a tty\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no terminal for -o/--tty"), "{stderr}");
}

#[test]
fn bad_profiles_and_parallel_variables_are_errors_before_anything_runs() {
    // (profile files, $PARALLEL, arguments, what stderr says)
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a [&'a str], &'a str);
    let cases: [Case; 5] = [
        (&[], "", &["-J", "nosuch"], "no profile `nosuch`"),
        (&[], "", &["-J", "./nosuch"], "no profile `./nosuch`"),
        (
            &[],
            "-k 'echo",
            &[],
            "$PARALLEL: a quote is not closed: -k 'echo",
        ),
        (
            &[(".parallel/config", "# fine\n-k\n--no-such-option\n")],
            "",
            &[],
            "/.parallel/config, line 3, column 1: unexpected argument '--no-such-option' \
             found: --no-such-option",
        ),
        (
            &[(".parallel/config", "-k --tagstring 'x\n")],
            "",
            &[],
            ".parallel/config, line 1: a quote is not closed",
        ),
    ];
    for (files, parallel, args, says) in cases {
        let project = Project::new();
        for (name, contents) in files {
            project.file(name, contents);
        }
        let mut words = vec!["map"];
        words.extend(args);
        words.extend(["touch {}", ":::", "ran"]);
        let out = project
            .command(&words)
            .env("HOME", project.path())
            .env("PARALLEL", parallel)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(255), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!project.join("ran").exists(), "{args:?}");
    }
    // The profile's line with an option fanout does not know is named, and the option;
    // a value on a line of its own is an option's.
    let project = Project::new();
    project.file(".parallel/config", "--tagstring\nx\n-k  --no-such-option\n");
    let out = project
        .command(&["map", "true", ":::", "a"])
        .env("HOME", project.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "/.parallel/config, line 3, column 5: unexpected argument '--no-such-option' \
             found: -k  --no-such-option"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("`--plain` reads no profile"), "{stderr}");
    // --plain gets past it.
    let out = project
        .command(&["map", "--plain", "echo", ":::", "a"])
        .env("HOME", project.path())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a\n");
}

#[test]
fn shebang_lines_that_cannot_run_are_errors() {
    let project = Project::new();
    let fanout = crate::harness::fanout_bin();
    std::os::unix::fs::symlink(fanout, project.join("parallel")).unwrap();
    let linked = project.join("parallel").display().to_string();
    let first = "must be the first option";
    let scripts = [
        (
            "split",
            format!("#!/usr/bin/env -S {fanout} map -k --shebang echo\na\n"),
            first,
        ),
        (
            "one-word",
            format!("#!{linked} -k --shebang-wrap /bin/sh\necho a\n"),
            first,
        ),
        // Its data comes on stdin, not in files named by its arguments.
        (
            "piped",
            format!("#!{linked} --shebang-wrap --pipe /bin/sh\nwc -l\n"),
            "a --shebang-wrap --pipe script reads its data on stdin, and was given arguments",
        ),
    ];
    for (name, text, says) in &scripts {
        let script = project.script(name, text);
        let out = Command::new(&script)
            .arg("x")
            .current_dir(project.path())
            .env("HOME", project.path())
            .env_remove("PARALLEL")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(255), "{name}: {stderr}");
        assert!(stderr.contains(says), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}");
    }
    // A command's own word is the command's.
    let out = project.fanout(&["map", "echo", "--shebang", ":::", "a"]);
    out.expect_code(0);
    assert_eq!(out.stdout, "--shebang a\n");
}

#[test]
fn shebang_lines_split_by_env_are_read_too() {
    let project = Project::new();
    let fanout = crate::harness::fanout_bin();
    let scripts = [
        (
            "lines",
            format!("#!/usr/bin/env -S {fanout} map --shebang -k echo got\nq\nr s\n"),
        ),
        (
            "wrapped",
            format!("#!/usr/bin/env -S {fanout} map --shebang-wrap -k /bin/sh\necho \"<$1>\"\n"),
        ),
        (
            "in a folder/with a space",
            format!("#!/usr/bin/env -S {fanout} map --shebang-wrap -k /bin/sh\necho \"[$1]\"\n"),
        ),
        // No program to run the script with: it would run itself, without end.
        (
            "itself",
            format!("#!/usr/bin/env -S {fanout} map --shebang-wrap -k\necho no\n"),
        ),
    ];
    for (name, text) in &scripts {
        project.script(name, text);
    }
    let run = |name: &str, args: &[&str]| {
        let out = Command::new(project.join(name))
            .args(args)
            .current_dir(project.path())
            .env("HOME", project.path())
            .env_remove("PARALLEL")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    assert_eq!(run("lines", &[]), (Some(0), "got q\ngot r s\n".into()));
    // An argument with a space stays one argument (GNU parallel splits it).
    assert_eq!(
        run("wrapped", &["a b", "-k"]),
        (Some(0), "<a b>\n<-k>\n".into())
    );
    assert_eq!(
        run("in a folder/with a space", &["x"]),
        (Some(0), "[x]\n".into())
    );
    assert_eq!(run("itself", &["x"]), (Some(255), String::new()));
}

#[test]
fn latest_line_prints_each_jobs_last_line_as_it_ends_when_not_on_a_terminal() {
    let project = Project::new();
    // A progress meter's carriage returns leave its last part; lines on stderr count too;
    // a job that writes nothing has no row; a retried job's first attempt is forgotten.
    let out = project.fanout(&[
        "map",
        "--ll",
        "-k",
        "--tag",
        "--retries",
        "2",
        "echo a{}; printf 'p1\\rp2 {}\\n'; [ {} != 3 ] || [ -e again ] || { touch again; echo first; exit 1; }; [ {} != 2 ] || { sleep 0.3; echo last >&2; }",
        ":::",
        "1",
        "2",
        "3",
    ]);
    out.expect_code(0);
    assert_eq!(out.stdout, "1\tp2 1\n2\tlast\n3\tp2 3\n");
    let out = project.fanout(&["map", "--latest-line", "-k", "true", ":::", "1", "2"]);
    out.expect_code(0);
    assert_eq!(out.stdout, "");
}

/// A terminal of its own (tmux's, 50 columns wide) running a command in a project.
struct Terminal {
    socket: String,
    dir: std::path::PathBuf,
}

impl Terminal {
    /// Starts `line` (a shell command line) in a new terminal.
    fn start(project: &Project, line: &str) -> Terminal {
        // A server of its own each time: one just killed may still hold its socket.
        static SERVERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SERVERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let terminal = Terminal {
            socket: format!("fanout-test-{}-{n}", std::process::id()),
            dir: project.path().to_path_buf(),
        };
        let started = terminal.tmux(&["new-session", "-d", "-x", "50", "-y", "20", line]);
        assert!(started.status.success(), "{started:?}");
        terminal
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .current_dir(&self.dir)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("tmux starts")
    }

    /// What the terminal shows, with what scrolled off its top.
    fn screen(&self) -> String {
        let capture = self.tmux(&["capture-pane", "-p", "-S", "-200"]);
        String::from_utf8_lossy(&capture.stdout).into_owned()
    }

    /// Waits until the terminal shows `text`; panics with the screen if it never does.
    fn wait_for(&self, text: &str) -> String {
        let mut screen = String::new();
        let shown = crate::harness::wait_for(Duration::from_secs(60), || {
            screen = self.screen();
            screen.contains(text)
        });
        assert!(shown, "the terminal never showed {text:?}:\n{screen}");
        screen
    }

    /// Types `text` and Enter.
    fn answer(&self, text: &str) {
        let sent = self.tmux(&["send-keys", "-t", "0", "-l", text]);
        assert!(sent.status.success(), "{sent:?}");
        self.tmux(&["send-keys", "-t", "0", "Enter"]);
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}

/// The screen of a terminal of its own once `command` ran in it (its stderr dropped), up
/// to the `END` printed after it.
fn terminal_screen(project: &Project, command: &str) -> Vec<String> {
    let terminal = Terminal::start(
        project,
        &format!("{command} 2>/dev/null; echo END; sleep 60"),
    );
    terminal
        .wait_for("END")
        .lines()
        .take_while(|line| *line != "END")
        .map(str::to_string)
        .collect()
}

#[test]
fn interactive_starts_each_job_once_it_is_answered() {
    let project = Project::new();
    let command = format!(
        "{} map -p -j1 'touch {{}}' ::: first second; echo END; sleep 60",
        crate::harness::fanout_bin()
    );
    let terminal = Terminal::start(&project, &command);
    terminal.wait_for("touch first ?...");
    terminal.answer("y");
    // The first job runs while the second is still being asked about.
    terminal.wait_for("touch second ?...");
    assert!(
        crate::harness::wait_for(Duration::from_secs(30), || project.join("first").exists()),
        "the first job did not run before the second was answered:\n{}",
        terminal.screen()
    );
    terminal.answer("n");
    terminal.wait_for("END");
    assert!(!project.join("second").exists());
}

#[test]
fn latest_line_redraws_a_row_per_job_on_a_terminal() {
    let project = Project::new();
    let command = format!(
        "{} map --ll -k --tag -j2 'echo first {{}}; sleep 0.{{}}; printf \"p1\\rp2 {{}}\\n\"; \
         [ {{}} != 3 ] || echo {}' ::: 3 1 2",
        crate::harness::fanout_bin(),
        "x".repeat(60)
    );
    let screen = terminal_screen(&project, &command);
    // A row a job, in job order, each left with its last line; a line too long for the
    // terminal is cut, with `>` where it is.
    let long = format!("3       {}>", "x".repeat(40));
    assert_eq!(screen, [long.as_str(), "1       p2 1", "2       p2 2"]);
    // More jobs than the terminal has rows: each row that ended goes above for good.
    for order in ["-k", "--nok"] {
        let command = format!(
            "{} map --ll {order} -j3 'echo start {{}}; sleep 0.0{{}}; echo done {{}}' ::: $(seq 30)",
            crate::harness::fanout_bin(),
        );
        let mut screen = terminal_screen(&project, &command);
        let expected: Vec<String> = (1..=30).map(|n| format!("done {n}")).collect();
        if order == "--nok" {
            screen.sort_by_key(|row| row[5..].parse::<u32>().unwrap_or(0));
        }
        assert_eq!(screen, expected, "{order}");
    }
}

#[test]
fn interactive_without_a_terminal_is_an_error_before_anything_runs() {
    let project = Project::new();
    let out = Command::new("setsid")
        .args(["-w", crate::harness::fanout_bin()])
        .args(["map", "-p", "touch {}", ":::", "ran"])
        .current_dir(project.path())
        .stdin(Stdio::null())
        .output()
        .expect("setsid (util-linux) starts");
    assert_eq!(out.status.code(), Some(255));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("-p/--interactive asks on the terminal, and there is none"),
        "{stderr}"
    );
    assert!(!project.join("ran").exists());
}

#[test]
fn minus_t_prints_each_attempts_command_on_stderr_as_it_starts() {
    let project = Project::new();
    let out = project.fanout(&[
        "map",
        "-k",
        "-j1",
        "--retries",
        "2",
        "-t",
        "echo {%} {}; test {} = b",
        ":::",
        "a",
        "b",
    ]);
    out.expect_code(1);
    assert_eq!(out.stdout, "1 a\n1 b\n");
    // Job a failed and was tried again; each attempt's command line, slot filled in.
    let traced: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("echo"))
        .collect();
    assert_eq!(
        traced,
        [
            "echo 1 a; test a = b",
            "echo 1 a; test a = b",
            "echo 1 b; test b = b"
        ],
        "{}",
        out.stderr
    );
}

#[test]
fn shard_sends_equal_values_to_one_job_each() {
    let project = Project::new();
    let input: String = (0..300).map(|i| format!("key{},{i}\n", i % 7)).collect();
    let (_, code) = map_with_stdin(
        &project,
        &["map", "--shard", "1", "-j3", "cat > part.{%}"],
        input.as_bytes(),
    );
    assert_eq!(code, 0);
    let parts: Vec<String> = (1..=3)
        .map(|slot| project.read(&format!("part.{slot}")))
        .collect();
    // Every line went to one job, in order, and each key to one job only.
    let mut all: Vec<&str> = parts.iter().flat_map(|p| p.lines()).collect();
    assert_eq!(all.len(), 300);
    all.sort_by_key(|line| line.split(',').nth(1).unwrap().parse::<u32>().unwrap());
    assert_eq!(all.join("\n") + "\n", input);
    for key in 0..7 {
        let holding = parts
            .iter()
            .filter(|part| part.contains(&format!("key{key},")))
            .count();
        assert_eq!(holding, 1, "key{key} went to {holding} jobs");
    }
    // More than one job got lines.
    assert!(
        parts.iter().filter(|p| !p.is_empty()).count() > 1,
        "{parts:?}"
    );
    // A job reads a stream, which a retry could not read again: none is retried.
    let (_, code) = map_with_stdin(
        &project,
        &[
            "map",
            "--bin",
            "1",
            "-j2",
            "--retries",
            "3",
            "wc -l >> runs.{%}; false",
        ],
        b"1\n2\n3\n",
    );
    assert_eq!(code, 2);
    assert_eq!(project.read("runs.1").trim(), "2");
    assert_eq!(project.read("runs.2").trim(), "1");
}

#[test]
fn an_endless_stream_ends_when_a_shard_job_stops_reading() {
    use std::io::Write as _;
    let project = Project::new();
    for option in ["--bin", "--shard"] {
        let mut child = project
            .command(&["map", "-j2", option, "1", "head -1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("fanout starts");
        let mut stdin = child.stdin.take().expect("a stdin pipe");
        // Writes until fanout stops reading (or 20 s pass).
        let writer = std::thread::spawn(move || {
            let start = std::time::Instant::now();
            let mut i = 0u64;
            while start.elapsed() < Duration::from_secs(20) {
                if writeln!(stdin, "{i},a").is_err() {
                    return;
                }
                i += 1;
            }
        });
        let ended = wait_for(Duration::from_secs(20), || {
            child.try_wait().is_ok_and(|status| status.is_some())
        });
        let _ = child.kill();
        let out = child.wait_with_output().expect("fanout ends");
        writer.join().unwrap();
        assert!(
            ended,
            "{option}: fanout map went on reading an endless stream"
        );
        assert!(!out.stdout.is_empty(), "{option}");
    }
}

#[test]
fn round_robin_with_cat_names_each_jobs_pipe_by_braces() {
    let project = Project::new();
    let input: String = (1..=2000).map(|i| format!("{i}\n")).collect();
    let (_, code) = map_with_stdin(
        &project,
        &[
            "map",
            "--pipe",
            "--round-robin",
            "--cat",
            "-j2",
            "--block",
            "1k",
            "cat {} > out.{%}",
        ],
        input.as_bytes(),
    );
    assert_eq!(code, 0);
    let mut lines: Vec<u32> = ["out.1", "out.2"]
        .iter()
        .flat_map(|name| {
            project
                .read(name)
                .lines()
                .map(|l| l.parse().unwrap())
                .collect::<Vec<u32>>()
        })
        .collect();
    lines.sort_unstable();
    assert_eq!(lines, (1..=2000).collect::<Vec<u32>>());
}

#[test]
fn a_job_that_cannot_start_says_why() {
    let project = Project::new();
    let out = project.fanout(&["map", "no-such-program-here", ":::", "a", "b"]);
    out.expect_code(2);
    for job in ["job 1", "job 2"] {
        assert!(
            out.stderr
                .contains(&format!("{job}: could not start `no-such-program-here`")),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn a_filter_that_is_not_perl_is_reported_once_and_runs_nothing() {
    let project = Project::new();
    let out = project.fanout(&["map", "--filter", "{} >", "touch", ":::", "a", "b"]);
    // Both jobs are skipped, as GNU parallel skips them: two failed.
    out.expect_code(2);
    assert!(!project.join("a").exists() && !project.join("b").exists());
    let reports = out.stderr.matches("--filter `").count();
    assert_eq!(reports, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("(job 1): not Perl: syntax error"),
        "{}",
        out.stderr
    );
}

#[test]
fn bad_option_values_of_map_are_errors_of_fanout() {
    let project = Project::new();
    for (option, message) in [
        (["--delay", "soon"], "`--delay soon` is not a duration"),
        (
            ["--ssh-delay", "soon"],
            "`--sshdelay soon` is not a duration",
        ),
        (["--trim", "both"], "`--trim both` is not a way to trim"),
        (["-d", ""], "`-d` needs a delimiter"),
        (
            ["--arg-sep", ""],
            "--arg-sep and --arg-file-sep need a word each",
        ),
        (["--arg-file-sep", ":::"], "and different words"),
        (["--rpl", " s/a/b/"], "names no replacement string"),
    ] {
        let args = [&option[..], &["echo", ":::", "a"]].concat();
        expect_map_error(&project, &args, message);
    }
    // A results table that cannot be written.
    expect_map_error(
        &project,
        &["--results", "missing/r.csv", "echo", ":::", "a"],
        "failed to write the results table",
    );
    // A working directory that cannot be made.
    project.file("plain", "x");
    expect_map_error(
        &project,
        &["--wd", "plain/sub", "echo", ":::", "a"],
        "failed to make the working directory",
    );
    // Values clap itself rejects are usage errors, as for every fanout command.
    project
        .fanout(&["map", "-n", "two", "echo", ":::", "a"])
        .expect_code(2);
    project
        .fanout(&["map", "-n", "2", "-N", "2", "echo", ":::", "a"])
        .expect_code(2);
    project
        .fanout(&["map", "-0", "-d", ",", "echo", ":::", "a"])
        .expect_code(2);
    let out = project.fanout(&["map", "--color=bogus", "echo", ":::", "a"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("invalid value 'bogus'"),
        "{}",
        out.stderr
    );
}

/// Every file under `dir`: its path relative to `dir`, and its contents.
fn tree(dir: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    let mut files = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().display().to_string();
                files.insert(rel, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    files
}

#[test]
fn results_directories_are_laid_out_as_gnu_parallels() {
    let cases: &[&[&str]] = &[
        &["echo", ":::", "a", "b/c", "c\\d", " x ", "n\tl"],
        &["echo {}; echo err >&2; exit 2", ":::", "a", "b", ":::", "1"],
        &["-n2", "echo", ":::", "a", "b", "c"],
        &["--header", ":", "echo", ":::", "h", "v1", "v2"],
        &["--retries", "2", "echo {}; exit 1", ":::", "a"],
        &["--colsep", ",", "echo", ":::", "a,b", "c,d"],
        &["true", ":::", "quiet"],
        // A skipped job has its directory too, with no output.
        &["--filter", "\"{}\" ne \"b\"", "echo", ":::", "a", "b", "c"],
    ];
    for args in cases {
        let project = Project::new();
        let status = Command::new("parallel")
            .arg("--will-cite")
            .args(["--results", "gnu"])
            .args(*args)
            .current_dir(project.path())
            .env("HOME", project.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .output()
            .expect("GNU parallel is installed (scripts/test installs it)");
        let mut map_args = vec!["map", "--results", "ours"];
        map_args.extend(args.iter().copied());
        let out = project.fanout(&map_args);
        assert_eq!(out.code, status.status.code().unwrap(), "{args:?}");
        // Output goes to the files, not to stdout.
        assert_eq!(
            out.stdout,
            String::from_utf8_lossy(&status.stdout),
            "{args:?}"
        );
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
        let (gnu, ours) = (tree(&project.join("gnu")), tree(&project.join("ours")));
        assert!(!ours.is_empty(), "{args:?}");
        assert_eq!(ours, gnu, "{args:?}");
    }
}

#[test]
fn results_keep_jobs_whose_values_name_no_directory_apart() {
    let project = Project::new();
    project
        .fanout(&["map", "--results", "r", "echo", ":::", "", ".", "..", "a"])
        .expect_code(0);
    let files = tree(&project.join("r"));
    for (dir, seq) in [("\\0", "1"), ("\\.", "2"), ("\\.\\.", "3"), ("a", "4")] {
        assert_eq!(
            files.get(&format!("1/{dir}/seq")).map(String::as_str),
            Some(seq),
            "{files:?}"
        );
    }
    assert_eq!(files.len(), 12, "{files:?}");

    // A results directory that cannot be made is an error of fanout's own.
    project.file("plain-file", "");
    let out = project.fanout(&["map", "--results", "plain-file/r", "echo", ":::", "a"]);
    out.expect_code(255);
    assert!(
        out.stderr.contains("failed to write the results"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_job_log_named_with_a_plus_is_appended_to() {
    let project = Project::new();
    project
        .fanout(&["map", "--joblog", "jobs.log", "echo", ":::", "a"])
        .expect_code(0);
    project
        .fanout(&["map", "--joblog", "+jobs.log", "echo", ":::", "b", "c"])
        .expect_code(0);
    let log = joblog_lines(&project, "jobs.log");
    let commands: Vec<&str> = log.iter().map(|l| l[8].as_str()).collect();
    assert_eq!(
        commands[..2],
        ["Command", "echo a"],
        "the first run's lines stay first"
    );
    // Lines are written as jobs finish, so the second run's two may come in either order.
    let mut appended = commands[2..].to_vec();
    appended.sort_unstable();
    assert_eq!(appended, ["echo b", "echo c"]);
    assert!(!project.join("+jobs.log").exists());
}

#[test]
fn a_dry_run_shows_the_slots_jobs_would_take_in_turn() {
    let project = Project::new();
    let out = project.fanout(&[
        "map",
        "--dry-run",
        "-j2",
        "echo",
        "{%}",
        "{}",
        ":::",
        "a",
        "b",
        "c",
    ]);
    out.expect_code(0);
    assert_eq!(out.stdout, "echo 1 a\necho 2 b\necho 1 c\n");
}

/// Runs `fanout map ARGS` with `input` on its stdin; its stdout as bytes, and its exit
/// code.
fn map_with_stdin(project: &Project, args: &[&str], input: &[u8]) -> (Vec<u8>, i32) {
    use std::io::Write as _;
    let mut child = project
        .command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("fanout starts");
    let mut stdin = child.stdin.take().expect("a stdin pipe");
    // Written from a thread, so a full stdout pipe cannot stall the writing.
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("fanout ends");
    writer.join().unwrap().expect("stdin was read whole");
    (out.stdout, out.status.code().unwrap_or(-1))
}

#[test]
fn pipe_blocks_put_together_again_are_the_input_byte_for_byte() {
    let project = Project::new();
    // Three megabytes of every byte value, in lines of varying length.
    let mut input = Vec::new();
    for i in 0..60_000u32 {
        input.extend(
            (0..(i % 97))
                .map(|k| ((i * 31 + k) % 256) as u8)
                .filter(|&b| b != b'\n'),
        );
        input.push(b'\n');
    }
    input.extend(b"no final newline");
    let (out, code) = map_with_stdin(
        &project,
        &["map", "-k", "-j3", "--pipe", "--block", "100k", "cat"],
        &input,
    );
    assert_eq!(code, 0);
    assert!(out == input, "{} bytes out of {}", out.len(), input.len());

    // Each job had one block, cut at a line's end, no larger than the block.
    let (out, _) = map_with_stdin(
        &project,
        &[
            "map",
            "-k",
            "--pipe",
            "--block",
            "100k",
            "wc -c; tail -c 1 | od -An -c",
        ],
        &input,
    );
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() > 2 * 25, "{out}");
    for pair in lines.chunks(2).take(lines.len() / 2 - 1) {
        let size: usize = pair[0].trim().parse().unwrap();
        assert!(size <= 100_000 && size > 99_000, "{pair:?}");
    }
}

#[test]
fn a_retried_pipe_job_reads_its_whole_block_again() {
    let project = Project::new();
    let (_, code) = map_with_stdin(
        &project,
        &[
            "map",
            "--pipe",
            "-N2",
            "--retries",
            "2",
            "cat >> seen.$FANOUT_ATTEMPT; test $FANOUT_ATTEMPT -ge 2",
        ],
        b"a\nb\nc\n",
    );
    assert_eq!(code, 0);
    let sorted = |name: &str| {
        let mut lines: Vec<String> = project.read(name).lines().map(str::to_owned).collect();
        lines.sort();
        lines
    };
    assert_eq!(sorted("seen.1"), ["a", "b", "c"]);
    assert_eq!(sorted("seen.2"), ["a", "b", "c"]);
}

#[test]
fn pipe_blocks_wait_in_the_temporary_directory_and_are_removed_after() {
    let project = Project::new();
    std::fs::create_dir(project.join("tmp")).unwrap();
    // With --cat each job names its block's file; the job copies it while it exists.
    let (_, code) = map_with_stdin(
        &project,
        &[
            "map",
            "--tmpdir",
            "tmp",
            "--pipe",
            "--cat",
            "-N1",
            "cp {} copy.{#}",
        ],
        b"x\ny\n",
    );
    assert_eq!(code, 0);
    assert_eq!(project.read("copy.1"), "x\n");
    assert_eq!(project.read("copy.2"), "y\n");
    let left: Vec<_> = std::fs::read_dir(project.join("tmp")).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    // So are --pipe-part's parts, copied for --cat.
    project.file("data", "h\n1\n2\n3\n4\n");
    project
        .fanout(&[
            "map",
            "--tmpdir",
            "tmp",
            "--pipe-part",
            "--cat",
            "--header",
            ":",
            "--block",
            "4",
            "-a",
            "data",
            "cp {} part.{#}",
        ])
        .expect_code(0);
    assert_eq!(project.read("part.1"), "h\n1\n2\n3\n");
    assert_eq!(project.read("part.2"), "h\n4\n");
    let left: Vec<_> = std::fs::read_dir(project.join("tmp")).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn pipe_refuses_what_it_cannot_do() {
    let project = Project::new();
    project.file("data", "x\n");
    let cases: &[(&[&str], &str)] = &[
        (
            &["--pipe", "cat", ":::", "a"],
            "--pipe reads its data on standard input",
        ),
        (&["--pipe"], "--pipe needs a command"),
        (
            &["--pipe", "--results", "r", "cat"],
            "--pipe and --results do not go together",
        ),
        (
            &["--pipe", "--shuf", "cat"],
            "--pipe and --shuf do not go together",
        ),
        (
            &["--pipe", "--block", "1x", "cat"],
            "`--block 1x` is not a size",
        ),
        (
            &["--pipe", "--block", "0", "cat"],
            "`--block 0` is not a size",
        ),
        (
            &["--pipe", "--header", "(", "cat"],
            "`--header (` is not a regular expression",
        ),
        (
            &["--pipe-part", "--header", "a{", "wc", "::::", "data"],
            "`--header a{` is not a regular expression",
        ),
        (
            &["--pipe", "--tee", "grep {}"],
            "the jobs' inputs cannot come from stdin",
        ),
        (
            &["--pipe-part", "wc"],
            "--pipe-part reads parts of one file, given with -a FILE",
        ),
        (
            &["--pipe-part", "-a", "-", "wc"],
            "--pipe-part reads parts of one file, given with -a FILE",
        ),
        (
            &["--pipe-part", "-a", ".", "wc"],
            "--pipe-part reads parts of a file, and . is not one",
        ),
        (
            &["--pipe-part", "-N2", "wc", "::::", "data"],
            "--pipe-part and -N do not go together",
        ),
        (
            &["--pipe", "--group-by", "Nope", "--colsep", ",", "wc"],
            "`--group-by Nope`: the header names no column Nope",
        ),
        (
            &["--shard", "s/x//", "wc"],
            "`--shard s/x//` names no column",
        ),
        (
            &["--bin", "1", "-j0", "wc"],
            "--bin deals lines out to a number of job slots",
        ),
        (
            &["--pipe", "--group-by", "1", "--recstart", ">", "wc"],
            "--group-by and --recstart do not go together",
        ),
        (
            &["--pipe", "--group-by", "1", "--regexp", "wc"],
            "--group-by and --regexp do not go together",
        ),
        (
            &["--pipe", "--regexp", "--recstart", "a(", "wc"],
            "`--recstart a(` is not a regular expression",
        ),
        (
            &[
                "--pipe-part",
                "--regexp",
                "--recend",
                "[",
                "wc",
                "::::",
                "data",
            ],
            "`--recend [` is not a regular expression",
        ),
        (
            &["--pipe-part", "--group-by", "1", "wc", "::::", "data"],
            "--pipe-part and --group-by do not go together",
        ),
        (
            &["--pipe-part", "-L2", "wc", "::::", "data"],
            "--pipe-part and -L (--max-lines) do not go together",
        ),
        (
            &["--pipe", "--round-robin", "-j", "0", "wc"],
            "--round-robin deals blocks out to a number of job slots",
        ),
        (
            &["--csv", "--colsep", "ab", "echo", ":::", "a"],
            "with --csv, --colsep is the one character that separates fields",
        ),
        (
            &["--pipe", "--csv", "wc"],
            "--pipe and --csv do not go together",
        ),
        (
            &["--pipe", "--tee", "grep {}", "::::", "-"],
            "the jobs' inputs cannot come from stdin",
        ),
    ];
    for (args, message) in cases {
        expect_map_error(&project, args, message);
    }
    // Options of --pipe alone are usage errors, as clap reports them.
    project
        .fanout(&["map", "--block", "1k", "cat", ":::", "a"])
        .expect_code(2);
    project
        .fanout(&["map", "--cat", "cat", ":::", "a"])
        .expect_code(2);
    project
        .fanout(&["map", "--tee", "cat", ":::", "a"])
        .expect_code(2);
    assert!(!project.join("r").exists());
}

#[test]
fn a_pipe_job_log_counts_each_blocks_bytes_as_gnu_parallel_does() {
    let project = Project::new();
    let input = b"1\n22\n333\n4444\n55555\n";
    let args = ["-j1", "--pipe", "-N2", "--joblog", "LOG", "cat; exit 1"];
    let mut gnu = Command::new("parallel")
        .arg("--will-cite")
        .args(args.map(|a| if a == "LOG" { "gnu.log" } else { a }))
        .current_dir(project.path())
        .env("HOME", project.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("GNU parallel is installed (scripts/test installs it)");
    {
        use std::io::Write as _;
        gnu.stdin.take().unwrap().write_all(input).unwrap();
    }
    assert_eq!(gnu.wait().unwrap().code(), Some(3));
    let mut map_args = vec!["map"];
    map_args.extend(args.map(|a| if a == "LOG" { "fanout.log" } else { a }));
    let (_, code) = map_with_stdin(&project, &map_args, input);
    assert_eq!(code, 3);

    let gnu = joblog_lines(&project, "gnu.log");
    let ours = joblog_lines(&project, "fanout.log");
    assert_eq!(ours.len(), 4, "{ours:?}");
    assert_eq!(ours.len(), gnu.len());
    for (ours, gnu) in ours.iter().zip(&gnu).skip(1) {
        // Seq, Host, Send, Receive, Exitval, Signal and Command are equal.
        for field in [0, 1, 4, 5, 6, 7, 8] {
            assert_eq!(ours[field], gnu[field], "field {field} of {ours:?}");
        }
    }
    assert_eq!(ours[1][4], "5", "the first block's bytes: {:?}", ours[1]);
}

#[test]
fn jobs_wait_while_the_machine_is_short_of_memory_or_busy() {
    // More memory than any machine has, and fewer runnable processes than none.
    for (limit, value, why) in [
        ("--memfree", "1P", "less than --memfree"),
        ("--load", "0", "processes runnable"),
    ] {
        let project = Project::new();
        let mut child = project
            .command(&["map", limit, value, "touch", "ran", ":::", "x"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = StreamReader::new(child.stderr.take().unwrap());
        assert!(
            wait_for(Duration::from_secs(20), || stderr.text().contains(why)),
            "{limit}: fanout did not say why jobs wait: {}",
            stderr.text()
        );
        // Two more looks at the machine, which must hold the job back too.
        std::thread::sleep(Duration::from_secs(1));
        kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
        let status = child.wait().unwrap();
        let stderr = stderr.finish();
        assert_eq!(status.code(), Some(130), "{limit}: {stderr}");
        assert!(!project.join("ran").exists(), "{limit}: the job started");
        assert_eq!(
            stderr.matches("jobs wait to start").count(),
            1,
            "{limit}: said once: {stderr}"
        );
    }

    // Limits the machine is within let the jobs run.
    let project = Project::new();
    project
        .fanout(&[
            "map",
            "--memfree",
            "1k",
            "--load",
            "100000",
            // 0: no limit, as in GNU parallel.
            "--memsuspend",
            "0",
            "touch",
            ":::",
            "a",
            "b",
        ])
        .expect_code(0);
    assert!(project.join("a").exists() && project.join("b").exists());

    for (option, message) in [
        (["--memfree", "lots"], "`--memfree lots` is not a size"),
        (["--memsuspend", "1x"], "`--memsuspend 1x` is not a size"),
        (["--load", "high"], "`--load high` is not a load"),
        (["-L", "two"], "`-L two` is not a count"),
        (["--max-lines=-1", "-k"], "`--max-lines -1` is not a count"),
    ] {
        let args = [&option[..], &["touch", "c", ":::", "x"]].concat();
        expect_map_error(&project, &args, message);
        assert!(!project.join("c").exists());
    }
}

#[test]
fn inputs_that_are_not_utf8_reach_the_job_log_results_and_commands_byte_for_byte() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt as _;
    let project = Project::new();
    // A file name in Latin-1, on the command line, and a stray byte on stdin.
    let latin1 = OsStr::from_bytes(b"caf\xe9");
    let out = project
        .command(&[
            "map",
            "-k",
            "--joblog",
            "jobs.log",
            "--results",
            "res",
            "printf '%s\\n'",
            ":::",
        ])
        .arg(latin1)
        .arg("plain")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // The results folder (where the output goes) is named after the input's own bytes.
    let folder = project.path().join("res/1").join(latin1);
    assert_eq!(std::fs::read(folder.join("stdout")).unwrap(), b"caf\xe9\n");
    // The job log holds the command as run, and is read back: nothing runs again.
    let log = std::fs::read(project.join("jobs.log")).unwrap();
    assert!(
        log.windows(6).any(|w| w == b"'caf\xe9'"),
        "{}",
        String::from_utf8_lossy(&log)
    );
    let again = project
        .command(&[
            "map",
            "-k",
            "--joblog",
            "jobs.log",
            "--resume",
            "printf '%s\\n'",
            ":::",
        ])
        .arg(latin1)
        .arg("plain")
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0), "{again:?}");
    assert_eq!(again.stdout, b"", "every job ran already");
    // Options that hold such bytes: a tag, a column separator, an end of input.
    let out = project
        .command(&["map", "-k", "--tagstring"])
        .arg(OsStr::from_bytes(b"T\xe9"))
        .arg("--colsep")
        .arg(OsStr::from_bytes(b"\xe9"))
        .arg("-E")
        .arg(OsStr::from_bytes(b"end\xff"))
        .args(["echo", "{2}", ":::"])
        .arg(OsStr::from_bytes(b"a\xe9b"))
        .arg(OsStr::from_bytes(b"end\xff"))
        .arg("c")
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"T\xe9\tb\n", "{out:?}");
    // A --template file named after such an input, holding it.
    project.file("tpl", "v={}\n");
    let out = project
        .command(&["map", "--template", "tpl=t.{}", "cat t.*; true", ":::"])
        .arg(latin1)
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"v=caf\xe9\n", "{out:?}");
    assert!(
        project
            .path()
            .join(OsStr::from_bytes(b"t.caf\xe9"))
            .exists()
    );
    // A file of inputs named in Latin-1, and $PARALLEL holding such a byte.
    std::fs::write(project.path().join(OsStr::from_bytes(b"in\xe9")), "x\n").unwrap();
    let out = project
        .command(&["map", "-k", "::::"])
        .arg(OsStr::from_bytes(b"in\xe9"))
        .env("PARALLEL", OsStr::from_bytes(b"echo pre\xe9"))
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"pre\xe9 x\n", "{out:?}");
    // And from stdin: the byte that is not UTF-8 stays itself.
    let mut child = project
        .command(&["map", "-k", "echo"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(b"a\xffb\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.stdout, b"a\xffb\n");
}

/// The memory available now, in bytes, as fanout reads it.
fn available_memory() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let kb: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("MemAvailable in /proc/meminfo");
    kb * 1024
}

/// The state letter of process `pid` (`S`, `T` for stopped…), if it is there.
fn process_state(pid: &str) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// Which of jobs `1..=jobs` (that wrote their pid to `pid.N`) are stopped now, and which
/// are not.
fn stopped_and_running(project: &Project, jobs: usize) -> (Vec<usize>, Vec<usize>) {
    let state = |n: usize| {
        let pid = std::fs::read_to_string(project.join(&format!("pid.{n}"))).ok()?;
        process_state(pid.trim())
    };
    let (mut stopped, mut running) = (Vec::new(), Vec::new());
    for n in 1..=jobs {
        match state(n) {
            Some('T') => stopped.push(n),
            Some('S' | 'R') => running.push(n),
            _ => {}
        }
    }
    (stopped, running)
}

#[test]
fn memsuspend_stops_the_younger_jobs_while_memory_is_short_and_continues_them_later() {
    let project = Project::new();
    // The memory there is, 1.25 × the size: under twice the size, so that (GNU parallel's
    // rule) two of the running jobs go on and the others are stopped; over the size, so
    // that all four start. Either holds while memory moves by a fifth.
    let size = (available_memory() * 4 / 5).to_string();
    let mut child = project
        .command(&[
            "map",
            "-j4",
            "--memsuspend",
            &size,
            "echo $$ > pid.{}; sleep 3; echo done {}",
            ":::",
            "1",
            "2",
            "3",
            "4",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = StreamReader::new(child.stdout.take().unwrap());
    let stderr = StreamReader::new(child.stderr.take().unwrap());
    // The youngest by job number are stopped, as in GNU parallel, whatever order the
    // jobs' processes began in.
    let mut seen = (Vec::new(), Vec::new());
    let two_stopped = wait_for(Duration::from_secs(20), || {
        seen = stopped_and_running(&project, 4);
        seen == (vec![3, 4], vec![1, 2])
    });
    assert!(
        two_stopped,
        "jobs 3 and 4 stopped, 1 and 2 running, not {seen:?}: {}",
        stderr.text()
    );
    let status = child.wait().unwrap();
    let (stdout, stderr) = (stdout.finish(), stderr.finish());
    assert_eq!(status.code(), Some(0), "{stderr}");
    // The stopped ones were continued and ran to their end.
    let mut done: Vec<&str> = stdout.lines().collect();
    done.sort_unstable();
    assert_eq!(done, ["done 1", "done 2", "done 3", "done 4"], "{stderr}");
    assert_eq!(
        stderr.matches("2 running job(s) stopped").count(),
        1,
        "said once, with why: {stderr}"
    );
    assert!(stderr.contains("less than twice --memsuspend"), "{stderr}");
}

#[test]
fn memsuspend_beyond_all_memory_runs_one_job_at_a_time() {
    let project = Project::new();
    // A size larger than any machine's memory: GNU parallel starts nothing and waits for
    // ever; fanout keeps one job running, as the option promises.
    let mut child = project
        .command(&[
            "map",
            "-j3",
            "--memsuspend",
            "1P",
            "mkdir -p t && date +%s%N > t/{}.start && sleep 0.3 && date +%s%N > t/{}.end",
            ":::",
            "a",
            "b",
            "c",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = StreamReader::new(child.stderr.take().unwrap());
    let ended = wait_for(Duration::from_secs(60), || {
        child.try_wait().unwrap().is_some()
    });
    if !ended {
        child.kill().unwrap();
    }
    let status = child.wait().unwrap();
    let stderr = stderr.finish();
    assert!(ended, "the jobs never all ran: {stderr}");
    assert_eq!(status.code(), Some(0), "{stderr}");
    let intervals: Vec<(u128, u128)> = ["a", "b", "c"]
        .iter()
        .map(|id| interval(&project, id))
        .collect();
    assert_eq!(max_overlap(&intervals), 1, "{intervals:?}");
    assert_eq!(
        stderr.matches("less than --memsuspend").count(),
        1,
        "said once: {stderr}"
    );
}

#[test]
fn a_stopped_job_that_times_out_is_continued_to_act_on_its_sigterm() {
    let project = Project::new();
    let size = (available_memory() * 4 / 5).to_string();
    // Three jobs, two go on and one is stopped; all time out after 3 s. The stopped one
    // must get to run its trap at SIGTERM at once, not only once the others have ended
    // (and memory let it go on): each job's trap waits up to 10 s for all three traps.
    let out = project.fanout(&[
        "map",
        "-j3",
        "--memsuspend",
        &size,
        "--timeout",
        "3",
        "--termseq",
        "TERM,20000,KILL,25",
        "trap 'echo TERM > got.{}; i=0; while [ $i -lt 100 ]; do \
         [ -e got.1 ] && [ -e got.2 ] && [ -e got.3 ] && touch met.{} && break; \
         sleep 0.1; i=$((i+1)); done; exit 3' TERM; sleep 30 & wait",
        ":::",
        "1",
        "2",
        "3",
    ]);
    assert!(
        out.stderr.contains("1 running job(s) stopped"),
        "one job was stopped: {}",
        out.stderr
    );
    out.expect_code(3);
    for n in 1..=3 {
        assert_eq!(
            project.read(&format!("got.{n}")).trim(),
            "TERM",
            "job {n} acted on its SIGTERM: {}",
            out.stderr
        );
    }
    let met = (1..=3)
        .filter(|n| project.join(&format!("met.{n}")).exists())
        .count();
    assert_eq!(met, 3, "the stopped job's trap ran alongside the others'");
}

#[test]
fn multiple_inputs_per_job_fill_command_lines_no_longer_than_the_limit() {
    let project = Project::new();
    // 3000 inputs of 100 bytes: about 300 kB, more than two command lines of 128 KiB.
    let inputs: Vec<String> = (0..3000)
        .map(|i| format!("{i:04}{}", "v".repeat(96)))
        .collect();
    project.file("inputs", &(inputs.join("\n") + "\n"));
    for flag in ["-m", "-X"] {
        let out = project.fanout(&[
            "map", "-j1", "-k", flag, "--joblog", "jobs.log", "printf", "'%s\\n'", "{}", "::::",
            "inputs",
        ]);
        out.expect_code(0);
        let printed: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(printed, inputs, "{flag}: every input once, in order");
        let log = joblog_lines(&project, "jobs.log");
        let commands: Vec<&str> = log.iter().skip(1).map(|l| l[8].as_str()).collect();
        assert!(commands.len() >= 3, "{flag}: {} jobs", commands.len());
        for command in &commands {
            assert!(
                command.len() <= 128 * 1024,
                "{flag}: {} bytes",
                command.len()
            );
        }
        std::fs::remove_file(project.join("jobs.log")).unwrap();
    }
    // Ways of grouping inputs that do not go together are usage errors.
    for args in [
        &["-X", "-m"][..],
        &["-X", "--pipe"],
        &["-m", "--results", "r"],
    ] {
        let mut map_args = vec!["map"];
        map_args.extend(args);
        map_args.extend(["touch", "ran", ":::", "x"]);
        project.fanout(&map_args).expect_code(2);
    }
    assert!(!project.join("ran").exists());
}

/// `fanout map ARGS` with its stdin a pipe the test writes to, its stdout piped.
fn map_fed_by_hand(project: &Project, args: &[&str]) -> std::process::Child {
    project
        .command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("fanout starts")
}

fn write_input(child: &mut std::process::Child, text: &str) {
    use std::io::Write as _;
    let stdin = child.stdin.as_mut().expect("a stdin pipe");
    stdin.write_all(text.as_bytes()).unwrap();
    stdin.flush().unwrap();
}

/// Waits (20 s at most) for `child` to end; its exit code.
fn exit_code_within(child: &mut std::process::Child) -> Option<i32> {
    let mut code = None;
    wait_for(Duration::from_secs(20), || {
        code = child.try_wait().unwrap().map(|s| s.code().unwrap_or(-1));
        code.is_some()
    });
    if code.is_none() {
        let _ = child.kill();
    }
    code
}

#[test]
fn a_resumed_run_adds_its_rows_to_the_results_table() {
    let project = Project::new();
    let run = |extra: &[&str]| {
        // One at a time: rows are written as jobs end.
        let mut args = vec!["map", "-j1", "--joblog", "jobs.log", "--results", "r.csv"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["exit {}", ":::", "0", "1", "0"]);
        project.fanout(&args)
    };
    run(&[]).expect_code(1);
    // The failed job runs again; the table keeps the first run's rows, under one header.
    run(&["--resume-failed"]).expect_code(1);
    let rows: Vec<(String, String)> = project
        .read("r.csv")
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_owned(), f[9].to_owned())
        })
        .collect();
    let expected = [
        ("Seq", "V1"),
        ("1", "0"),
        ("2", "1"),
        ("3", "0"),
        ("2", "1"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| ((*a).into(), (*b).into()))
        .collect();
    assert_eq!(rows, expected);
}

#[test]
fn jobs_start_while_their_inputs_are_still_being_read() {
    let project = Project::new();
    let mut child = map_fed_by_hand(&project, &["map", "-k", "echo {}; touch ran-{}"]);
    write_input(&mut child, "a\n");
    // The second input comes only once the first job ran.
    assert!(
        wait_for(Duration::from_secs(20), || project.join("ran-a").exists()),
        "the first job ran while stdin was still open"
    );
    write_input(&mut child, "b\n");
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a\nb\n");
    assert_eq!(out.status.code(), Some(0));
    assert!(project.join("ran-b").exists());
}

#[test]
fn a_number_of_jobs_given_lets_jobs_that_count_them_start_before_the_input_ends() {
    let project = Project::new();
    let mut child = map_fed_by_hand(
        &project,
        &[
            "map",
            "-k",
            "--plus",
            "--total-jobs",
            "10",
            "--skip-first-line",
            "touch ran-{0#}-of-{##}",
        ],
    );
    // The first line is dropped; the first job starts while stdin is still open.
    write_input(&mut child, "header\na\n");
    assert!(
        wait_for(Duration::from_secs(20), || project
            .join("ran-01-of-10")
            .exists()),
        "the first job ran while stdin was still open"
    );
    write_input(&mut child, "b\n");
    drop(child.stdin.take());
    assert_eq!(exit_code_within(&mut child), Some(0));
    assert!(project.join("ran-02-of-10").exists());
    assert!(!project.join("ran-03-of-10").exists());
}

#[test]
fn an_input_faster_than_its_jobs_is_read_only_a_little_ahead() {
    use std::io::Write as _;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const LINES: usize = 400_000;
    let project = Project::new();
    // One job that outlasts the test: every other input waits.
    let mut child = map_fed_by_hand(&project, &["map", "-j1", "sleep 60; echo"]);
    let mut stdin = child.stdin.take().unwrap();
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let written = Arc::clone(&written);
        std::thread::spawn(move || {
            for chunk in (0..LINES).step_by(100) {
                let lines: String = (chunk..chunk + 100).map(|n| format!("{n}\n")).collect();
                // Fails once fanout is gone.
                if stdin.write_all(lines.as_bytes()).is_err() {
                    return;
                }
                written.store(chunk + 100, Ordering::SeqCst);
            }
        })
    };
    // Wait until fanout stops taking input (a second with no more written), or took it all.
    let mut last = usize::MAX;
    wait_for(Duration::from_secs(30), || {
        let now = written.load(Ordering::SeqCst);
        let still = now == last || now == LINES;
        last = now;
        std::thread::sleep(Duration::from_secs(1));
        still
    });
    let taken = written.load(Ordering::SeqCst);
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    assert_eq!(exit_code_within(&mut child), Some(130));
    writer.join().unwrap();
    // What the pipe holds, about a thousand jobs read ahead, and the reader's buffer; the
    // rest waits in the writer, not in fanout's memory.
    assert!(taken < 50_000, "fanout took {taken} of {LINES} lines in");
}

#[test]
fn pipe_jobs_start_as_each_block_is_cut() {
    let project = Project::new();
    let mut child = map_fed_by_hand(
        &project,
        &["map", "-k", "--pipe", "--block", "4", "cat; touch ran-{#}"],
    );
    // Four bytes read: the first block ("aa\n") is whole.
    write_input(&mut child, "aa\nbb\n");
    assert!(
        wait_for(Duration::from_secs(20), || project.join("ran-1").exists()),
        "the first block's job ran while stdin was still open"
    );
    write_input(&mut child, "cc\n");
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "aa\nbb\ncc\n");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_job_timed_out_gets_each_signal_of_the_termination_sequence_then_sigkill() {
    let project = Project::new();
    // INT is caught and the job goes on; TERM ends it. (A second before the timeout, so
    // that the traps are set however slowly the shell starts.)
    let job = "trap 'touch got-int' INT; trap 'echo got TERM; exit 0' TERM; \
               i=0; while [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; : {}";
    let out = project.fanout(&[
        "map",
        "--timeout",
        "1",
        "--termseq",
        "INT,300,TERM,5000",
        job,
        ":::",
        "a",
    ]);
    out.expect_code(1);
    assert!(project.join("got-int").exists(), "INT came first");
    assert_eq!(out.stdout, "got TERM\n");
    // A job that ignores every signal of the sequence is killed after it.
    let mut child = project
        .command(&[
            "map",
            "--timeout",
            "0.3",
            "--termseq",
            "INT,100,TERM,100",
            // (20 s at most, should the SIGKILL not come.)
            "trap '' INT TERM; i=0; while [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; : {}",
            ":::",
            "a",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("fanout starts");
    assert_eq!(exit_code_within(&mut child), Some(1));
    let out = project.fanout(&["map", "--termseq", "TERM,soon", "true", ":::", "a"]);
    out.expect_code(255);
    assert!(
        out.stderr.contains("not a number of milliseconds"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_number_of_jobs_in_a_file_is_read_again_as_jobs_end() {
    let project = Project::new();
    project.file("procs", "1\n");
    std::fs::create_dir_all(project.join("t")).unwrap();
    // Job 1 runs alone and says 3; the others then wait (3 s at most) until three of them
    // run, so that three run together however slowly each starts. More would be seen.
    let job = "date +%s%N > t/{}.start; \
               if [ {} = 1 ]; then echo 3 > procs; else touch t/{}.up; n=0; \
               while [ $n -lt 60 ] && [ $(ls t | grep -c up) -lt 3 ]; do sleep 0.05; n=$((n+1)); done; \
               fi; date +%s%N > t/{}.end";
    let out = project.fanout(&["map", "-j", "procs", job, ":::", "1", "2", "3", "4"]);
    out.expect_code(0);
    let spans: Vec<_> = (1..=4)
        .map(|i| interval(&project, &i.to_string()))
        .collect();
    assert!(
        spans[1..].iter().all(|(start, _)| *start > spans[0].1),
        "job 1 ran alone: {spans:?}"
    );
    assert_eq!(
        max_overlap(&spans),
        3,
        "three at once once the file said so, never more: {spans:?}"
    );
    // A file that says no number is an error before anything runs.
    project.file("bad", "many\n");
    let out = project.fanout(&["map", "-j", "bad", "touch ran", ":::", "a"]);
    out.expect_code(255);
    assert!(
        out.stderr.contains("says no number of jobs"),
        "{}",
        out.stderr
    );
    assert!(!project.join("ran").exists());
}

#[test]
fn a_block_slow_to_come_is_cut_short_after_its_last_whole_line() {
    let project = Project::new();
    let mut child = map_fed_by_hand(
        &project,
        &["map", "--pipe", "--block-timeout", "0.2", "cat > block-{#}"],
    );
    // Far less than a block (1 MiB), and half a line more: the whole lines go to a job
    // while stdin is still open.
    write_input(&mut child, "a\nb\nc");
    assert!(
        wait_for(Duration::from_secs(20), || project.join("block-1").exists()),
        "the first block's job ran while stdin was still open"
    );
    write_input(&mut child, "\nd\n");
    drop(child.stdin.take());
    assert_eq!(exit_code_within(&mut child), Some(0));
    assert_eq!(project.read("block-1"), "a\nb\n");
    assert_eq!(project.read("block-2"), "c\nd\n");
}

#[test]
fn round_robin_jobs_read_their_blocks_as_each_is_cut() {
    let project = Project::new();
    let mut child = map_fed_by_hand(
        &project,
        &[
            "map",
            "-k",
            "--pipe",
            "--round-robin",
            "-j2",
            "--block",
            "4",
            "touch ran-{#}; cat",
        ],
    );
    write_input(&mut child, "aa\nbb\n");
    assert!(
        wait_for(Duration::from_secs(20), || project.join("ran-1").exists()),
        "the first slot's job ran while stdin was still open"
    );
    write_input(&mut child, "cc\ndd\n");
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    assert_eq!(lines, ["aa", "bb", "cc", "dd"]);
}

#[test]
fn a_round_robin_job_that_stops_reading_gets_no_more_blocks() {
    let project = Project::new();
    let input: String = (1..=100_000).map(|n| format!("{n}\n")).collect();
    // Slot 1's job reads one line and ends; the rest of the stream goes to slot 2's.
    let (out, code) = map_with_stdin(
        &project,
        &[
            "map",
            "--pipe",
            "--round-robin",
            "-j2",
            "--block",
            "10k",
            "if [ {%} = 1 ]; then head -n 1 >/dev/null; else cat; fi",
        ],
        input.as_bytes(),
    );
    assert_eq!(code, 0);
    let out = String::from_utf8(out).unwrap();
    assert_eq!(out.lines().last(), Some("100000"));
}

#[test]
fn jobs_that_end_without_opening_their_pipe_only_fail() {
    let project = Project::new();
    let input: String = (1..=100).map(|n| format!("{n}\n")).collect();
    // `false` never opens the named pipe `{}`: each job fails, and the dealing ends with
    // no error of fanout's own (255), however the job's end and the pipe's opening race.
    for args in [
        &["map", "--pipe", "--round-robin", "-j2", "--fifo", "false"][..],
        &["map", "--shard", "1", "-j2", "--cat", "false"][..],
    ] {
        for _ in 0..5 {
            let (_, code) = map_with_stdin(&project, args, input.as_bytes());
            assert_eq!(code, 2, "{args:?}");
        }
    }
}

#[test]
fn dealt_jobs_that_a_filter_skips_end_the_dealing() {
    let project = Project::new();
    let input: String = (1..=1000).map(|n| format!("{n}\n")).collect();
    // Skipped jobs never open their named pipes. Round-robin deals to no job, and each
    // skipped job counts as failed; a skipped shard or bin job ends every job's input,
    // as a job that stops reading does. Under `timeout`: these once hung.
    for (args, code) in [
        (&["--round-robin", "--pipe", "-j2"][..], 2),
        (&["--shard", "1", "-j2"][..], 1),
        (&["--bin", "1", "-j3"][..], 1),
    ] {
        let mut all = vec!["30", crate::harness::fanout_bin(), "map"];
        all.extend(args);
        all.extend(["--filter", "0", "wc -l"]);
        let mut child = Command::new("timeout")
            .args(&all)
            .current_dir(project.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("timeout starts");
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(input.as_bytes());
        drop(stdin);
        assert_eq!(child.wait().unwrap().code(), Some(code), "{args:?}");
    }
}

#[test]
fn a_run_stops_without_waiting_for_inputs_that_never_end() {
    let project = Project::new();
    // Interrupted: the job that ran is reported, and fanout ends though stdin is open.
    let mut child = map_fed_by_hand(&project, &["map", "touch ran-{}; sleep 30"]);
    write_input(&mut child, "a\n");
    assert!(wait_for(Duration::from_secs(20), || project
        .join("ran-a")
        .exists()));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    assert_eq!(exit_code_within(&mut child), Some(130));

    // Halted: the failing job's status, though stdin is open.
    let mut child = map_fed_by_hand(&project, &["map", "--halt", "now,fail=1", "exit {}"]);
    write_input(&mut child, "3\n");
    assert_eq!(exit_code_within(&mut child), Some(3));
}

#[test]
fn jobs_skipped_by_uniq_are_logged_and_counted_as_gnu_parallel_does() {
    let project = Project::new();
    let out = project.fanout(&[
        "map", "-k", "--plus", "--joblog", "jobs.log", "echo", "{uniq}", ":::", "a", "b", ":::",
        "a", "b",
    ]);
    // Two of four jobs have the same value twice: they do not run, and each counts as a
    // failed job.
    out.expect_code(2);
    assert_eq!(out.stdout, "a b\nb a\n");
    let mut log: Vec<(String, String, String)> = joblog_lines(&project, "jobs.log")
        .into_iter()
        .skip(1)
        .map(|l| (l[0].clone(), l[6].clone(), l[8].clone()))
        .collect();
    log.sort();
    let expected = [
        ("1", "-2", "echo a a"),
        ("2", "0", "echo a b"),
        ("3", "0", "echo b a"),
        ("4", "-2", "echo b b"),
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(a, b, c)| ((*a).into(), (*b).into(), (*c).into()))
        .collect();
    assert_eq!(log, expected);
}

#[test]
fn a_finished_jobs_output_and_block_are_removed_while_the_run_goes_on() {
    let project = Project::new();
    std::fs::create_dir(project.join("tmp")).unwrap();
    let files_left = || tree(&project.join("tmp")).len();
    for args in [
        &["map", "--tmpdir", "tmp", "echo out {}; echo err {} >&2"][..],
        &[
            "map",
            "--tmpdir",
            "tmp",
            "--pipe",
            "--block",
            "2",
            "cat; echo err >&2",
        ][..],
    ] {
        let mut child = project
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = StreamReader::new(child.stdout.take().unwrap());
        let stderr = StreamReader::new(child.stderr.take().unwrap());
        write_input(&mut child, "a\n");
        assert!(
            wait_for(Duration::from_secs(20), || stderr.text().contains("err")),
            "{args:?}: the first job's output was printed"
        );
        // Its logs (and block) are gone, though the run goes on.
        assert!(
            wait_for(Duration::from_secs(20), || files_left() == 0),
            "{args:?}: {:?}",
            tree(&project.join("tmp"))
        );
        write_input(&mut child, "b\n");
        drop(child.stdin.take());
        assert_eq!(exit_code_within(&mut child), Some(0), "{args:?}");
        assert!(stdout.finish().contains('b'), "{args:?}");
        stderr.finish();
        assert_eq!(files_left(), 0);
    }
}

#[test]
fn retry_failed_runs_the_logged_commands_of_failed_jobs_again() {
    let project = Project::new();
    // The first time, odd jobs fail; any later time, a job says so and succeeds.
    let command =
        "if [ -e seen.{} ]; then echo again {}; else touch seen.{}; [ $(( {} % 2 )) = 0 ]; fi";
    project
        .fanout(&[
            "map", "-k", "--joblog", "jobs.log", command, ":::", "1", "2", "3",
        ])
        .expect_code(2);
    // The command line's command and inputs are not the ones that run.
    let retry = [
        "map",
        "-k",
        "--retry-failed",
        "--joblog",
        "jobs.log",
        "echo",
        "other",
        ":::",
        "x",
    ];
    let out = project.fanout(&retry);
    out.expect_code(0);
    assert_eq!(out.stdout, "again 1\nagain 3\n");
    let log = joblog_lines(&project, "jobs.log");
    // Lines are written as jobs end, in any order.
    let mut last: Vec<(&str, &str)> = log[4..]
        .iter()
        .map(|l| (l[0].as_str(), l[6].as_str()))
        .collect();
    last.sort_unstable();
    assert_eq!(last, [("1", "0"), ("3", "0")]);
    // Nothing failed any more: nothing runs.
    let out = project.fanout(&retry);
    out.expect_code(0);
    assert_eq!(out.stdout, "");
}

#[test]
fn jobs_run_in_the_shell_fanout_was_started_from_as_in_gnu_parallel() {
    let project = Project::new();
    let bin = crate::harness::fanout_bin();
    // `; true` keeps the shell from handing its process to fanout.
    let script = format!("{bin} map 'echo ${{BASH_VERSION:+bash}} {{}}' ::: x; true");
    let run = |shell: &str, parallel_shell: Option<&str>| {
        let mut command = Command::new(shell);
        command.arg("-c").arg(&script).current_dir(project.path());
        match parallel_shell {
            Some(value) => command.env("PARALLEL_SHELL", value),
            None => command.env_remove("PARALLEL_SHELL"),
        };
        let out = command.output().expect("the shell runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(run("bash", None), "bash x\n");
    assert_eq!(run("dash", None), "x\n");
    assert_eq!(run("dash", Some("bash")), "bash x\n");
}

#[test]
fn round_robin_deals_every_record_once_to_at_most_one_job_per_slot() {
    let project = Project::new();
    // Which job gets which block depends on timing in GNU parallel; what holds for both
    // tools is that every record reaches exactly one job, and there are no more jobs than
    // slots.
    let input: String = (1..=1000).map(|i| format!("{i}\n")).collect();
    let (out, code) = map_with_stdin(
        &project,
        &[
            "map",
            "--pipe",
            "--round-robin",
            "-j3",
            "--block",
            "100",
            "--tag",
            "--joblog",
            "jobs.log",
            "cat; echo end",
        ],
        input.as_bytes(),
    );
    // The job log's Send column counts the bytes each job was dealt: all of them, once.
    let sent: usize = joblog_lines(&project, "jobs.log")
        .iter()
        .skip(1)
        .map(|l| l[4].parse::<usize>().unwrap())
        .sum();
    assert_eq!(sent, input.len());
    assert_eq!(code, 0);
    let out = String::from_utf8(out).unwrap();
    let ends = out.lines().filter(|l| l.ends_with("\tend")).count();
    assert!((1..=3).contains(&ends), "{ends} jobs");
    let mut records: Vec<u32> = out
        .lines()
        .filter(|l| !l.ends_with("\tend"))
        .map(|l| l.rsplit('\t').next().unwrap().parse().unwrap())
        .collect();
    records.sort_unstable();
    assert_eq!(records, (1..=1000).collect::<Vec<_>>());
}

#[test]
fn resuming_needs_a_job_log_or_a_results_directory_to_go_by() {
    let project = Project::new();
    let cases: [(&[&str], &str); 3] = [
        (&["--resume"], "add `--joblog FILE`"),
        (
            &["--resume-failed", "--results", "r.csv"],
            "a results table cannot tell",
        ),
        (
            &["--retry-failed", "--results", "out"],
            "--retry-failed reads the job log",
        ),
    ];
    for (options, says) in cases {
        refused(&project, options, &[says]);
        // Nothing was written.
        assert!(!project.join("r.csv").exists(), "{options:?}");
        assert!(!project.join("out").exists(), "{options:?}");
    }
}

/// `fanout map OPTIONS touch ran-{} ::: a` is an error (255) whose message says each of
/// `says`, and runs nothing.
fn refused(project: &Project, options: &[&str], says: &[&str]) {
    let mut args = vec!["map"];
    args.extend_from_slice(options);
    args.extend_from_slice(&["touch ran-{}", ":::", "a"]);
    let out = project.fanout(&args);
    out.expect_code(255);
    for said in says {
        assert!(out.stderr.contains(said), "{options:?}: {}", out.stderr);
    }
    assert!(!project.join("ran-a").exists(), "{options:?}: a job ran");
}

#[test]
fn options_gnu_parallel_retired_name_their_replacement() {
    let project = Project::new();
    let cases: [(&[&str], &str, &str); 5] = [
        (&["-g"], "-g has been retired", "use --group instead"),
        (&["-H", "2"], "-H has been retired", "use --halt instead"),
        (&["-W", "dir"], "-W has been retired", "use --wd instead"),
        (&["--ctrl-c"], "--ctrlc has been retired", "remove it"),
        (&["--tollef"], "--tollef has been retired", "add --gnu"),
    ];
    for (options, says, hint) in cases {
        refused(&project, options, &[says, hint]);
    }
    // --gnu lets --tollef by, as in GNU parallel.
    project
        .fanout(&["map", "--tollef", "--gnu", "touch ran-{}", ":::", "a"])
        .expect_code(0);
    assert!(project.join("ran-a").exists());
}

#[test]
fn gnu_parallel_options_fanout_map_lacks_say_what_to_use_instead() {
    let project = Project::new();
    let cases: [(&[&str], &str); 4] = [
        (&["--embed"], "ship it beside your script"),
        (&["--tmux"], "--line-buffer --tag"),
        (&["--tmuxpane"], "--line-buffer --tag"),
        (&["--sqlmaster", "sqlite3:///x.db/t"], "--joblog FILE"),
    ];
    for (options, hint) in cases {
        refused(
            &project,
            options,
            &["does not have GNU parallel's --", hint],
        );
    }
    // --session is for env_parallel, and ignored here as GNU parallel ignores it.
    project
        .fanout(&["map", "--session", "touch ran-{}", ":::", "a"])
        .expect_code(0);
    assert!(project.join("ran-a").exists());
}

#[test]
fn record_env_writes_the_environments_names_for_env_underscore() {
    let project = Project::new();
    let home = project.join("home");
    // GNU parallel's folder must exist, as it must for GNU parallel.
    let out = project
        .command(&["map", "--record-env", "touch ran-{}", ":::", "a"])
        .env("HOME", &home)
        .env_remove("PARALLEL_HOME")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ignored_vars"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::create_dir_all(home.join(".parallel")).unwrap();
    let out = project
        .command(&["map", "--record-env", "touch ran-{}", ":::", "a"])
        .env("HOME", &home)
        .env_remove("PARALLEL_HOME")
        .env("FANOUT_RECORDED", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let names = std::fs::read_to_string(home.join(".parallel/ignored_vars")).unwrap();
    let names: Vec<&str> = names.lines().collect();
    assert!(names.contains(&"FANOUT_RECORDED"), "{names:?}");
    assert!(names.contains(&"HOME"), "{names:?}");
    // It records, and runs nothing.
    assert!(!project.join("ran-a").exists());
}

#[test]
fn messages_show_an_inputs_stray_bytes_as_the_bytes_themselves() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt as _;
    let project = Project::new();
    // An input too long for -s: the error names it.
    let out = project
        .command(&["map", "-s", "5", "echo", ":::"])
        .arg(OsStr::from_bytes(b"a\xe9b"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255), "{out:?}");
    let says = |needle: &[u8]| out.stderr.windows(needle.len()).any(|w| w == needle);
    assert!(says(b"input 1: a\xe9b\n"), "{out:?}");
}

#[test]
fn a_perl_expression_that_dies_skips_its_job_and_says_why() {
    let project = Project::new();
    let out = project.fanout(&[
        "map",
        "-k",
        "echo {= die \"no $_\" if /b/ =}; touch ran-{}",
        ":::",
        "a",
        "b",
        "c",
    ]);
    // The job is not run with its input unchanged: it is skipped, and counts as failed.
    out.expect_code(1);
    assert_eq!(out.stdout, "a\nc\n");
    assert!(!project.join("ran-b").exists());
    assert!(
        out.stderr
            .contains("died for job 2, which is skipped: no b"),
        "{}",
        out.stderr
    );
}
