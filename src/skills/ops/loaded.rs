//! A skill read for an operation: its folder, its `SKILL.md` as text, and the frontmatter
//! fields the operations use. Loading fails softly: a skill that cannot be read is reported
//! with the reason, never a panic.

use std::path::PathBuf;

use crate::skills::check::read_skill_md;
use crate::skills::discover::SkillDir;
use crate::skills::frontmatter;
use crate::skills::source;
use crate::skills::yaml::{self, Node};

pub(crate) struct Loaded {
    pub(crate) path: String,
    pub(crate) dir: PathBuf,
    pub(crate) skill_md: PathBuf,
    pub(crate) files: Vec<String>,
    pub(crate) text: String,
    /// Byte offset in `text` where the body starts.
    pub(crate) body_start: usize,
    pub(crate) root: Option<Node>,
}

impl Loaded {
    pub(crate) fn body(&self) -> &str {
        &self.text[self.body_start..]
    }

    pub(crate) fn field(&self, key: &str) -> Option<&str> {
        self.root.as_ref()?.get(key)?.1.as_str()
    }

    /// The `name` field, else the folder's name.
    pub(crate) fn name(&self) -> String {
        self.field("name")
            .map(|n| n.trim().to_owned())
            .unwrap_or_else(|| {
                self.dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
    }
}

/// Reads and splits the skill; `Err` says why it cannot be used.
pub(crate) fn load(skill: &SkillDir) -> Result<Loaded, String> {
    let bytes = read_skill_md(&skill.skill_md).map_err(|p| p.message)?;
    let text = source::decode(bytes).map_err(|p| p.message)?.text;
    let split = frontmatter::split(&text).map_err(|p| p.message)?;
    let document = yaml::parse(split.yaml, split.yaml_line).map_err(|p| p.message)?;
    let body_start = text.len() - split.body.len();
    Ok(Loaded {
        path: skill.display.clone(),
        dir: skill.dir.clone(),
        skill_md: skill.skill_md.clone(),
        files: skill.files.clone(),
        root: document.root,
        body_start,
        text,
    })
}
