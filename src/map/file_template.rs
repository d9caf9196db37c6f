//! `--template FILE=REPL` (`--tmpl`): a file whose replacement strings are filled in for
//! each job and written to REPL (itself a name with replacement strings) as the job starts,
//! as GNU parallel writes it. The runner writes it just before it starts the job (a
//! [`PreparedFile`]), so that a file every job writes under one name holds each job's own
//! text while it runs, and `{%}` in it is the job's slot.

use super::replace::Template;
use crate::plan::PreparedFile;

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
        let bytes = std::fs::read(file)
            .map_err(|err| format!("`--template {value}`: cannot read {file}: {err}"))?;
        let contents = String::from_utf8(bytes)
            .map_err(|_| format!("`--template {value}`: {file} is not UTF-8 text"))?;
        Ok(FileTemplate {
            name: template(name)?,
            contents: template(&contents)?,
        })
    }

    /// Job `seq`'s file, with inputs `args`.
    pub fn fill(&self, args: &[String], seq: usize) -> PreparedFile {
        PreparedFile {
            name: self.name.fill_parts(args, seq),
            contents: self.contents.fill_parts(args, seq),
        }
    }

    /// The templates' texts, for [`Template::set_total`] and the like.
    pub fn texts_mut(&mut self) -> [&mut Template; 2] {
        [&mut self.name, &mut self.contents]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map::TemplateOptions;
    use crate::plan::FilePart;

    fn text(t: &str) -> Result<Template, String> {
        let plus = TemplateOptions {
            plus: true,
            ..TemplateOptions::default()
        };
        Ok(Template::text(t, &plus))
    }

    #[test]
    fn files_are_filled_with_the_slot_left_for_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t");
        std::fs::write(&path, "v={} s={%} p={0%} ${FANOUT_SLOT}\0\n").unwrap();
        let value = format!("{}=out-{{%}}-{{#}}", path.display());
        let mut file = FileTemplate::parse(&value, text).unwrap();
        for t in file.texts_mut() {
            t.set_slot_width(120);
        }
        // An input that looks like the slot's shell reference stays as it is.
        let prepared = file.fill(&["a ${FANOUT_SLOT}".to_owned()], 4);
        assert_eq!(FilePart::render(&prepared.name, 7), "out-7-4");
        assert_eq!(
            FilePart::render(&prepared.contents, 7),
            "v=a ${FANOUT_SLOT} s=7 p=007 ${FANOUT_SLOT}\0\n"
        );
    }

    #[test]
    fn a_value_without_both_parts_or_a_file_that_is_not_text_is_refused() {
        for value in ["conf", "=out", "conf="] {
            let err = FileTemplate::parse(value, text).unwrap_err();
            assert!(err.contains("as FILE=REPL"), "{value}: {err}");
        }
        let err = FileTemplate::parse("/no/such/file={#}", text).unwrap_err();
        assert!(err.contains("cannot read /no/such/file"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bin");
        std::fs::write(&path, b"\xff{}").unwrap();
        let err = FileTemplate::parse(&format!("{}=x", path.display()), text).unwrap_err();
        assert!(err.contains("is not UTF-8 text"), "{err}");
    }
}
