//! A small fluent harness: a temporary project directory with files, and `fanout` run in it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(crate) struct Project {
    dir: tempfile::TempDir,
}

pub(crate) struct RunOutput {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl RunOutput {
    /// Panics with both streams shown when the exit code is not `code`.
    #[track_caller]
    pub(crate) fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

pub(crate) fn fanout_bin() -> &'static str {
    env!("CARGO_BIN_EXE_fanout")
}

impl Project {
    pub(crate) fn new() -> Self {
        Project {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub(crate) fn file(&self, rel: &str, contents: &str) -> &Self {
        let path = self.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, contents).unwrap();
        self
    }

    /// A file that can be run (`#!` and all), written at `rel`.
    pub(crate) fn script(&self, rel: &str, contents: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        self.file(rel, contents);
        let path = self.join(rel);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    pub(crate) fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.join(rel))
            .unwrap_or_else(|e| panic!("failed to read {rel}: {e}"))
    }

    /// A `fanout` command in the project directory, with a clean colour environment.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(fanout_bin());
        cmd.args(args)
            .current_dir(self.path())
            .env("NO_COLOR", "1")
            .env_remove("FANOUT_STATE_DIR")
            // `fanout map` reads GNU parallel's options there, as GNU parallel does.
            .env_remove("PARALLEL")
            .stdin(Stdio::null());
        cmd
    }

    pub(crate) fn fanout(&self, args: &[&str]) -> RunOutput {
        let Output {
            status,
            stdout,
            stderr,
        } = self.command(args).output().expect("fanout starts");
        RunOutput {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }
}

/// Nanoseconds since the epoch, as written by `date +%s%N` in a task.
pub(crate) fn read_stamp(project: &Project, rel: &str) -> u128 {
    project
        .read(rel)
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{rel} holds no timestamp: {e}"))
}

/// When fanout started task `id`'s first attempt, as its `--json` result records it
/// (`start`, RFC 3339 to the millisecond), in nanoseconds since the epoch.
pub(crate) fn json_start(json: &serde_json::Value, id: &str) -> u128 {
    let task = json["tasks"]
        .as_array()
        .and_then(|tasks| tasks.iter().find(|t| t["id"] == id))
        .unwrap_or_else(|| panic!("no task {id} in the result: {json}"));
    let start = task["start"]
        .as_str()
        .unwrap_or_else(|| panic!("task {id} has no start: {task}"));
    humantime::parse_rfc3339(start)
        .unwrap_or_else(|e| panic!("task {id}'s start {start:?}: {e}"))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// A shell snippet that records the task's start and end around `body`, in `t/<id>.start`
/// and `t/<id>.end`.
pub(crate) fn timed(body: &str) -> String {
    format!(
        "mkdir -p t && date +%s%N > t/$FANOUT_TASK_ID.start && {body} && date +%s%N > t/$FANOUT_TASK_ID.end"
    )
}

/// A shell snippet that marks the task as running, in `ready/<id>`, then waits until at
/// least `at_least` of `ids` (the task itself included) have marked themselves, for 20 s
/// at most. Tasks that may run together so end up running at the same time however slowly
/// each one starts; a task kept apart from the others stops waiting at the limit, so what
/// a test says about the most tasks at once still holds.
pub(crate) fn meet(ids: &[&str], at_least: usize) -> String {
    format!(
        "mkdir -p ready && touch ready/$FANOUT_TASK_ID && i=0 && \
         while [ $i -lt 400 ]; do \
         n=0; for t in {}; do [ -e ready/$t ] && n=$((n+1)); done; \
         [ $n -ge {at_least} ] && break; sleep 0.05; i=$((i+1)); done",
        ids.join(" ")
    )
}

/// The largest number of intervals open at one instant.
pub(crate) fn max_overlap(intervals: &[(u128, u128)]) -> usize {
    let mut edges: Vec<(u128, i32)> = Vec::new();
    for &(s, e) in intervals {
        edges.push((s, 1));
        edges.push((e, -1));
    }
    // Ends sort before starts at the same instant.
    edges.sort();
    let (mut open, mut max) = (0i32, 0i32);
    for (_, d) in edges {
        open += d;
        max = max.max(open);
    }
    max as usize
}

/// `(start, end)` of a task recorded by [`timed`].
pub(crate) fn interval(project: &Project, id: &str) -> (u128, u128) {
    (
        read_stamp(project, &format!("t/{id}.start")),
        read_stamp(project, &format!("t/{id}.end")),
    )
}

/// Whether a process with this pid exists (zombies count as gone once reaped by init).
pub(crate) fn process_alive(pid: i32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"));
    match stat {
        // State is the field after the parenthesised command name; Z = zombie.
        Ok(s) => s
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
            .unwrap_or(true),
        Err(_) => false,
    }
}

/// A child's output stream, read by a thread as it comes, so that a test can wait for a
/// line while the child still runs.
pub(crate) struct StreamReader {
    bytes: Arc<Mutex<Vec<u8>>>,
    thread: std::thread::JoinHandle<()>,
}

impl StreamReader {
    pub(crate) fn new(mut stream: impl Read + Send + 'static) -> Self {
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&bytes);
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        StreamReader { bytes, thread }
    }

    /// What the stream has given so far.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes.lock().unwrap()).into_owned()
    }

    /// Everything the stream gave, once it is closed.
    pub(crate) fn finish(self) -> String {
        let StreamReader { bytes, thread } = self;
        thread.join().expect("the reading thread ends");
        String::from_utf8_lossy(&bytes.lock().unwrap()).into_owned()
    }
}

/// Waits until `f` holds or `limit` passes; returns whether it held. For waiting on the
/// system (a file appearing), never for judging speed.
pub(crate) fn wait_for(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}
