//! Turning a task's action into a program and arguments: shell strings without shell
//! metacharacters are executed directly (as make does), everything else through `sh -c`.

use crate::plan::Action;

/// What to execute for one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecPlan {
    pub program: String,
    pub args: Vec<String>,
}

/// Words that only mean something to a shell: a command starting with one of them must go
/// through `sh -c` even without metacharacters.
const SHELL_WORDS: &[&str] = &[
    "!", ".", ":", "alias", "break", "case", "cd", "command", "continue", "do", "done", "elif",
    "else", "esac", "eval", "exec", "exit", "export", "fi", "for", "function", "getopts", "hash",
    "if", "read", "readonly", "return", "set", "shift", "source", "then", "times", "trap", "type",
    "ulimit", "umask", "unalias", "unset", "until", "wait", "while",
];

/// Whether a shell string needs a shell to mean what it says.
pub fn needs_shell(command: &str) -> bool {
    const META: &[char] = &[
        '|', '&', ';', '<', '>', '(', ')', '$', '`', '\\', '"', '\'', '*', '?', '[', ']', '#', '~',
        '=', '%', '{', '}', '\n', '\r', '\t',
    ];
    if command.contains(META) {
        return true;
    }
    match command.split_whitespace().next() {
        None => true,
        Some(first) => SHELL_WORDS.contains(&first),
    }
}

impl ExecPlan {
    /// The exec plan for a runnable action; `None` for agent tasks.
    pub fn for_action(action: &Action) -> Option<ExecPlan> {
        ExecPlan::for_action_in(action, "/bin/sh")
    }

    /// The exec plan for a runnable action, a shell string run by `shell` (a Bourne
    /// shell: `sh -c` is how it is called) when it needs one; `None` for agent tasks.
    pub fn for_action_in(action: &Action, shell: &str) -> Option<ExecPlan> {
        match action {
            Action::Shell(s) if needs_shell(s) => Some(ExecPlan {
                program: shell.into(),
                args: vec!["-c".into(), s.clone()],
            }),
            Action::Shell(s) => {
                let mut words = s.split_whitespace().map(str::to_owned);
                let program = words.next()?;
                Some(ExecPlan {
                    program,
                    args: words.collect(),
                })
            }
            Action::Argv(v) => {
                let (program, args) = v.split_first()?;
                Some(ExecPlan {
                    program: program.clone(),
                    args: args.to_vec(),
                })
            }
            Action::Agent { .. } => None,
        }
    }

    /// The same run through `nice -n increment`: it and every process it starts run that
    /// much nicer.
    pub fn niced(self, increment: i32) -> ExecPlan {
        let mut args = vec!["-n".to_owned(), increment.to_string(), self.program];
        args.extend(self.args);
        ExecPlan {
            program: "nice".into(),
            args,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_commands_run_without_a_shell() {
        let plan = ExecPlan::for_action(&Action::Shell("cargo build  --release".into())).unwrap();
        assert_eq!(plan.program, "cargo");
        assert_eq!(plan.args, ["build", "--release"]);
    }

    #[test]
    fn metacharacters_and_builtins_need_a_shell() {
        for s in [
            "cd x && make",
            "echo $HOME",
            "a | b",
            "ls *.rs",
            "FOO=1 cmd",
            "cd services",
            "echo 'hi'",
            "exit 3",
        ] {
            assert!(needs_shell(s), "{s}");
            let plan = ExecPlan::for_action(&Action::Shell(s.into())).unwrap();
            assert_eq!(plan.program, "/bin/sh");
            assert_eq!(plan.args, ["-c", s]);
        }
        assert!(!needs_shell("true"));
        assert!(!needs_shell("sleep 1"));
    }

    #[test]
    fn argv_is_taken_as_is() {
        let plan =
            ExecPlan::for_action(&Action::Argv(vec!["echo".into(), "a b; c".into()])).unwrap();
        assert_eq!(plan.program, "echo");
        assert_eq!(plan.args, ["a b; c"]);
    }
}
