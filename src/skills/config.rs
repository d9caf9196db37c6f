//! The options of the skill checks: the profile and the house rules, with their defaults,
//! read from the `[skills]` table of `fanout.toml`. It does not find the project file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::SkillsError;
use super::spec::Profile;

/// House rules and the profile. Every house rule is a warning unless named in `errors`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct SkillsConfig {
    /// The profile to use when neither `--profile` nor a `.claude/` folder decides.
    pub profile: Option<Profile>,
    /// Largest `SKILL.md`, in bytes.
    pub max_bytes: u64,
    /// Most lines in the body of `SKILL.md`.
    pub max_body_lines: usize,
    /// Phrases (case-insensitive) of which the description must contain one to say when to
    /// use the skill.
    pub trigger_phrases: Vec<String>,
    /// Headings (text without `#`, case-insensitive) every `SKILL.md` must have.
    pub required_headings: Vec<String>,
    /// House rules (ids such as `links-missing`) that fail a skill instead of warning.
    pub errors: Vec<String>,
    /// Where `fanout run` looks for the skills agent tasks name, relative to the project
    /// file (made absolute when read). Empty: the defaults of the command line.
    pub roots: Vec<PathBuf>,
}

pub(crate) const DEFAULT_MAX_BYTES: u64 = 15_360;

impl Default for SkillsConfig {
    fn default() -> Self {
        SkillsConfig {
            profile: None,
            max_bytes: DEFAULT_MAX_BYTES,
            max_body_lines: 500,
            trigger_phrases: [
                "use when",
                "use this",
                "use for",
                "use it",
                "when ",
                "whenever",
                "trigger",
                "invoke",
                "if the user",
                "for ",
            ]
            .map(str::to_owned)
            .to_vec(),
            required_headings: Vec::new(),
            errors: Vec::new(),
            roots: Vec::new(),
        }
    }
}

impl SkillsConfig {
    /// The `[skills]` table of the project file at `path` (defaults when it has none).
    pub fn from_project_file(path: &Path) -> Result<Self, SkillsError> {
        #[derive(Deserialize)]
        struct ProjectFile {
            #[serde(default)]
            skills: Option<SkillsConfig>,
        }
        let text = std::fs::read_to_string(path).map_err(|source| SkillsError::Read {
            path: path.to_owned(),
            source,
        })?;
        let file: ProjectFile = toml::from_str(&text).map_err(|e| SkillsError::Config {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let mut config = file.skills.unwrap_or_default();
        let base = path.parent().unwrap_or(Path::new("."));
        for root in &mut config.roots {
            *root = base.join(&*root);
        }
        Ok(config)
    }

    /// A stable digest of everything that changes a verdict, for the cache key. Where
    /// skills are looked for changes none.
    pub fn digest(&self) -> String {
        let verdicts = SkillsConfig {
            roots: Vec::new(),
            ..self.clone()
        };
        format!("{verdicts:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_skills_table_and_ignores_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fanout.toml");
        std::fs::write(
            &path,
            "[settings]\njobs = 2\n[skills]\nprofile = \"claude-code\"\nmax-bytes = 100\nerrors = [\"links-missing\"]\n",
        )
        .unwrap();
        let c = SkillsConfig::from_project_file(&path).unwrap();
        assert_eq!(c.profile, Some(Profile::ClaudeCode));
        assert_eq!(c.max_bytes, 100);
        assert_eq!(c.max_body_lines, 500);
        assert_eq!(c.errors, ["links-missing"]);
        assert!(c.roots.is_empty());
    }

    #[test]
    fn roots_are_relative_to_the_project_file_and_change_no_verdict() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fanout.toml");
        std::fs::write(&path, "[skills]\nroots = [\"agents/skills\", \"/abs\"]\n").unwrap();
        let c = SkillsConfig::from_project_file(&path).unwrap();
        assert_eq!(
            c.roots,
            [dir.path().join("agents/skills"), PathBuf::from("/abs")]
        );
        assert_eq!(c.digest(), SkillsConfig::default().digest());
    }

    #[test]
    fn unknown_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fanout.toml");
        std::fs::write(&path, "[skills]\nmax-byte = 1\n").unwrap();
        assert!(SkillsConfig::from_project_file(&path).is_err());
    }
}
