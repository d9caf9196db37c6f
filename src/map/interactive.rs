//! `--interactive` (`-p`): each job's command line is put to the user on the terminal, as
//! GNU parallel puts it (`COMMAND ?...` on stderr), and only a job whose answer begins
//! with `y` or `Y` runs.

use std::fs::File;
use std::io::{Read, Write};

/// The terminal the questions are answered on.
#[derive(Debug)]
pub struct Asker {
    tty: File,
}

impl Asker {
    /// The process's terminal (`/dev/tty`), or why there is none.
    pub fn open() -> std::io::Result<Asker> {
        File::open("/dev/tty").map(|tty| Asker { tty })
    }

    /// Asks whether `command` may run; `true` when the answer begins (after blanks) with
    /// `y` or `Y`. An end of input is a no.
    pub fn confirms(&self, command: &str) -> bool {
        // In one write, so that what the user types ahead, which the terminal echoes as
        // it comes, lands before or after the question and never inside it.
        let mut question = crate::bytes::encode(command).into_owned();
        question.extend_from_slice(b" ?...");
        let _ = std::io::stderr().write_all(&question);
        is_yes(&self.read_line())
    }

    /// One line from the terminal, byte by byte so that nothing after it is taken from
    /// the next question's answer.
    fn read_line(&self) -> Vec<u8> {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            match (&self.tty).read(&mut byte) {
                Ok(1) if byte[0] == b'\n' => return line,
                Ok(1) => line.push(byte[0]),
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                _ => return line,
            }
        }
    }
}

/// Whether an answer is a yes: its first character that is no blank is `y` or `Y`.
fn is_yes(answer: &[u8]) -> bool {
    matches!(
        answer.iter().find(|byte| !byte.is_ascii_whitespace()),
        Some(b'y' | b'Y')
    )
}

#[cfg(test)]
mod tests {
    use super::is_yes;

    #[test]
    fn an_answer_is_a_yes_when_it_begins_with_y() {
        for yes in ["y", "Y", "yes", "  yep", "\tY!"] {
            assert!(is_yes(yes.as_bytes()), "{yes:?}");
        }
        for no in ["", "n", "no", " N", "ok", "1", "x y"] {
            assert!(!is_yes(no.as_bytes()), "{no:?}");
        }
    }
}
