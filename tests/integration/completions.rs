//! Shell completion scripts, loaded into a real bash and asked to complete.

use std::process::{Command, Stdio};

use crate::harness::{Project, fanout_bin};

/// What bash's completion offers for `line` (the words typed so far, the last one being
/// completed) once `script` (a command printing a completion script) is loaded; `function`
/// is the completion function the script defines.
fn complete(project: &Project, script: &str, function: &str, line: &[&str]) -> Vec<String> {
    let words: Vec<String> = line.iter().map(|word| format!("'{word}'")).collect();
    let program = line[0];
    let current = line[line.len() - 1];
    let previous = line[line.len().saturating_sub(2)];
    let body = format!(
        "source <({script}) && complete -p {program} >/dev/null || exit 3; \
         COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{joined}'; COMP_POINT=${{#COMP_LINE}}; \
         {function} '{program}' '{current}' '{previous}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        words = words.join(" "),
        cword = line.len() - 1,
        joined = line.join(" "),
    );
    let out = Command::new("bash")
        .args(["-c", &body])
        .current_dir(project.path())
        .env("PATH", path_with(project))
        .stdin(Stdio::null())
        .output()
        .expect("bash starts");
    assert!(
        out.status.success(),
        "bash failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .filter(|word| !word.is_empty())
        .collect()
}

/// `PATH` with the project's folder first, where the test puts its links to fanout.
fn path_with(project: &Project) -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    format!("{}:{path}", project.path().display())
}

fn linked(project: &Project, name: &str) {
    std::os::unix::fs::symlink(fanout_bin(), project.join(name)).unwrap();
}

#[test]
fn bash_completes_fanouts_subcommands_and_options() {
    let project = Project::new();
    linked(&project, "fanout");
    let script = "fanout completions bash";
    assert_eq!(
        complete(&project, script, "_fanout", &["fanout", "ru"]),
        ["run"]
    );
    assert_eq!(
        complete(&project, script, "_fanout", &["fanout", "map", "--joblo"]),
        ["--joblog"]
    );
    let retries = complete(&project, script, "_fanout", &["fanout", "run", "--retr"]);
    assert_eq!(retries, ["--retries", "--retry-failed-serially"]);
}

#[test]
fn a_link_named_parallel_completes_maps_options_under_its_own_name() {
    let project = Project::new();
    linked(&project, "parallel");
    let script = "parallel --shell-completion bash";
    assert_eq!(
        complete(&project, script, "_parallel", &["parallel", "--keep-o"]),
        ["--keep-order"]
    );
    // `fanout map`'s options, not fanout's subcommands.
    assert!(complete(&project, script, "_parallel", &["parallel", "ru"]).is_empty());
}

#[test]
fn shell_completion_auto_is_the_shell_fanout_was_started_from() {
    let project = Project::new();
    linked(&project, "fanout");
    // Started by bash, whatever $SHELL says.
    let script = "SHELL=/usr/bin/fish fanout map --shell-completion auto";
    assert_eq!(
        complete(&project, script, "_fanout", &["fanout", "sk"]),
        ["skills"]
    );
    // Started by no shell: $SHELL tells.
    let out = project
        .command(&["map", "--shell-completion", "auto"])
        .env("SHELL", "/bin/zsh")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(script.starts_with("#compdef fanout"), "{script}");
}

#[test]
fn shells_fanout_cannot_complete_for_are_errors() {
    let project = Project::new();
    let out = project.fanout(&["map", "--shell-completion", "tcsh"]);
    out.expect_code(255);
    assert!(
        out.stderr
            .contains("`--shell-completion tcsh`: no such shell"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
    let out = project
        .command(&["map", "--shell-completion", "auto"])
        .env("SHELL", "/bin/tcsh")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not one it can complete for"), "{stderr}");
    let out = project.fanout(&["completions", "tcsh"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("invalid value 'tcsh'"),
        "{}",
        out.stderr
    );
}

#[test]
fn every_shells_script_names_fanout() {
    let project = Project::new();
    for (shell, mark) in [
        ("zsh", "#compdef fanout"),
        ("fish", "complete -c fanout"),
        ("elvish", "edit:completion:arg-completer[fanout]"),
        (
            "powershell",
            "Register-ArgumentCompleter -Native -CommandName 'fanout'",
        ),
    ] {
        let out = project.fanout(&["completions", shell]);
        out.expect_code(0);
        assert!(out.stdout.contains(mark), "{shell}: {}", out.stdout);
        assert!(out.stdout.contains("keep-going"), "{shell}");
    }
}
