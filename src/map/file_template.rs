//! `--template FILE=REPL` (`--tmpl`): a file whose replacement strings are filled in for
//! each job and written to REPL (itself a name with replacement strings) as the job starts,
//! as GNU parallel writes it. The job's shell writes it, just before the job's command, so
//! that a file every job writes under one name holds each job's own text while it runs.

use regex::Regex;

use super::quote::shell_quote;
use super::replace::Template;

/// One `--template`.
#[derive(Debug)]
pub struct FileTemplate {
    /// The name to write to.
    name: Template,
    /// What to write.
    contents: Template,
}

impl FileTemplate {
    /// `FILE=REPL`: FILE read now; `template` makes a [`Template`] of a text. An error says
    /// what is wrong with the value or which file cannot be read.
    pub fn parse(
        value: &str,
        mut template: impl FnMut(&str) -> Result<Template, String>,
    ) -> Result<FileTemplate, String> {
        let Some((file, name)) = value
            .split_once('=')
            .filter(|(f, n)| !f.is_empty() && !n.is_empty())
        else {
            return Err(format!(
                "`--template {value}`: give the template file and the name to write, as FILE=REPL"
            ));
        };
        let contents = std::fs::read_to_string(file)
            .map_err(|err| format!("`--template {value}`: cannot read {file}: {err}"))?;
        Ok(FileTemplate {
            name: template(name)?,
            contents: template(&contents)?,
        })
    }

    /// The name and text of job `seq`'s file, with inputs `args`.
    pub fn fill(&self, args: &[String], seq: usize) -> (String, String) {
        (
            self.name.fill(args, seq, false),
            self.contents.fill(args, seq, false),
        )
    }

    /// The templates' texts, for [`Template::set_total`] and the like.
    pub fn texts_mut(&mut self) -> [&mut Template; 2] {
        [&mut self.name, &mut self.contents]
    }
}

/// A shell command that writes `contents` to the file `name` (a slot reference in either
/// left for the shell to expand), then goes on.
pub fn write_command(name: &str, contents: &str) -> String {
    format!(
        "printf '%s' {} > {}; ",
        quote_around_slots(contents),
        quote_around_slots(name)
    )
}

/// `text` quoted for a shell as one word, except for the slot references in it, which the
/// shell expands (`{%}` and `{0%}` are known only when the job starts).
fn quote_around_slots(text: &str) -> String {
    let slots = Regex::new(r"\$\{FANOUT_SLOT(?:_[0-9]+)?\}").expect("a valid pattern");
    let mut out = String::new();
    let mut rest = 0;
    for found in slots.find_iter(text) {
        out.push_str(&shell_quote(&text[rest..found.start()]));
        out.push('"');
        out.push_str(found.as_str());
        out.push('"');
        rest = found.end();
    }
    if rest < text.len() || out.is_empty() {
        out.push_str(&shell_quote(&text[rest..]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_contents_are_one_quoted_word_around_the_slot() {
        assert_eq!(quote_around_slots("a b"), "'a b'");
        assert_eq!(quote_around_slots(""), "''");
        assert_eq!(
            quote_around_slots("x=${FANOUT_SLOT} y=${FANOUT_SLOT_2}"),
            "'x='\"${FANOUT_SLOT}\"' y='\"${FANOUT_SLOT_2}\""
        );
        assert_eq!(
            write_command("it's", "$HOME\n"),
            "printf '%s' '$HOME\n' > 'it'\"'\"'s'; "
        );
    }

    #[test]
    fn a_value_without_both_parts_is_refused() {
        let text = |t: &str| Ok(Template::text(t, &Default::default()));
        for value in ["conf", "=out", "conf="] {
            let err = FileTemplate::parse(value, text).unwrap_err();
            assert!(err.contains("as FILE=REPL"), "{value}: {err}");
        }
        let err = FileTemplate::parse("/no/such/file={#}", text).unwrap_err();
        assert!(err.contains("cannot read /no/such/file"), "{err}");
    }
}
