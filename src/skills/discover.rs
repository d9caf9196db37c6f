//! Finding skill folders under roots: every folder holding a `SKILL.md` (or `skill.md`),
//! at any depth, following folder symlinks and skipping symlink loops, with the files that
//! belong to each skill (those not inside a nested skill). It reads no file contents.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

use std::sync::Mutex;

use super::error::SkillsError;

/// One skill folder as found.
#[derive(Clone, Debug)]
pub struct SkillDir {
    /// The folder, as reached from its root.
    pub dir: PathBuf,
    /// The folder as an absolute path, `.` and `..` resolved lexically.
    pub absolute: PathBuf,
    /// The path shown to people: the root as given joined with the folder's relative path.
    pub display: String,
    /// `SKILL.md` or `skill.md`.
    pub skill_md: PathBuf,
    /// Files of the skill, relative to `dir`, sorted, `/`-separated.
    pub files: Vec<String>,
    /// Whether the folder lies under a `.claude/` folder.
    pub under_claude: bool,
}

/// Everything found under the roots.
#[derive(Debug, Default)]
pub struct Discovery {
    pub skills: Vec<SkillDir>,
    /// Things skipped on the way (symlink loops, unreadable folders).
    pub notices: Vec<String>,
}

const SKIPPED_DIRS: [&str; 4] = [".git", "node_modules", ".fanout", "target"];

fn skill_file_name(name: &std::ffi::OsStr) -> Option<u8> {
    match name.to_str() {
        Some("SKILL.md") => Some(0),
        Some("skill.md") => Some(1),
        _ => None,
    }
}

/// Finds the skills under `roots`, in order of root and then path.
pub fn discover(roots: &[PathBuf]) -> Result<Discovery, SkillsError> {
    let mut discovery = Discovery::default();
    let mut seen_real: HashSet<PathBuf> = HashSet::new();
    for root in roots {
        if std::fs::metadata(root).is_err() {
            return Err(SkillsError::NoRoot { path: root.clone() });
        }
        discover_root(root, &mut discovery, &mut seen_real);
    }
    Ok(discovery)
}

/// What walking one folder (and everything below it) found.
#[derive(Default)]
struct Walked {
    /// Files, relative to the root, `/`-separated.
    files: Vec<String>,
    /// `SKILL.md` files: the folder (relative), which name, the path.
    skill_files: Vec<(String, u8, PathBuf)>,
    notices: Vec<String>,
    followed_symlink: bool,
}

impl Walked {
    fn merge(mut self, other: Walked) -> Walked {
        self.files.extend(other.files);
        self.skill_files.extend(other.skill_files);
        self.notices.extend(other.notices);
        self.followed_symlink |= other.followed_symlink;
        self
    }
}

fn join_rel(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        name.to_owned()
    } else {
        format!("{rel}/{name}")
    }
}

/// Walks `dir` (at `rel` below the root, really at `real`), its subfolders in parallel.
/// Symlinks are followed; one leading back to a folder above is a loop and skipped.
/// Each folder's findings go to `found` as they are, to be joined once at the end.
fn walk<'s>(
    scope: &rayon::Scope<'s>,
    dir: PathBuf,
    rel: String,
    real: PathBuf,
    found: &'s Mutex<Vec<Walked>>,
) {
    let mut out = Walked::default();
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(err) => {
            out.notices
                .push(format!("skipped {}: {err}", dir.display()));
            found.lock().expect("no walker panics").push(out);
            return;
        }
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name_text = name.to_string_lossy();
        let Ok(mut file_type) = entry.file_type() else {
            continue;
        };
        let path = dir.join(&name);
        let mut real_child = None;
        if file_type.is_symlink() {
            match std::fs::metadata(&path) {
                Ok(meta) => {
                    file_type = meta.file_type();
                    if file_type.is_dir() {
                        let target = path.canonicalize().unwrap_or_else(|_| path.clone());
                        if real.starts_with(&target) {
                            out.notices.push(format!(
                                "skipped a symlink loop: {} leads back to {}",
                                path.display(),
                                target.display()
                            ));
                            continue;
                        }
                        out.followed_symlink = true;
                        real_child = Some(target);
                    }
                }
                Err(_) => {
                    // A dangling `SKILL.md` symlink is still a skill folder, with a broken file.
                    if let Some(rank) = skill_file_name(&name) {
                        out.skill_files.push((rel.clone(), rank, path));
                        out.files.push(join_rel(&rel, &name_text));
                    }
                    continue;
                }
            }
        }
        if file_type.is_dir() {
            if !SKIPPED_DIRS.iter().any(|s| name == *s) {
                let child_rel = join_rel(&rel, &name_text);
                let child_real = real_child.unwrap_or_else(|| real.join(&name));
                scope.spawn(move |scope| walk(scope, path, child_rel, child_real, found));
            }
            continue;
        }
        if let Some(rank) = skill_file_name(&name) {
            out.skill_files.push((rel.clone(), rank, path));
        }
        out.files.push(join_rel(&rel, &name_text));
    }
    found.lock().expect("no walker panics").push(out);
}

/// Walks everything below `root` (really at `real_root`).
fn walk_root(root: &Path, real_root: &Path) -> Walked {
    let found = Mutex::new(Vec::new());
    rayon::scope(|scope| {
        walk(
            scope,
            root.to_path_buf(),
            String::new(),
            real_root.to_path_buf(),
            &found,
        );
    });
    let parts = found.into_inner().expect("no walker panics");
    let mut all = Walked {
        files: Vec::with_capacity(parts.iter().map(|p| p.files.len()).sum()),
        ..Walked::default()
    };
    for part in parts {
        all = all.merge(part);
    }
    all
}

fn discover_root(root: &Path, out: &mut Discovery, seen_real: &mut HashSet<PathBuf>) {
    let real_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let walked = if std::fs::metadata(root).is_ok_and(|m| m.is_dir()) {
        walk_root(root, &real_root)
    } else {
        Walked::default()
    };
    let mut notices = walked.notices;
    notices.sort();
    out.notices.extend(notices);
    let followed_symlink = walked.followed_symlink;
    let files = walked.files;
    // skill folder -> (which name was found, the file)
    let mut skills: HashMap<String, (u8, PathBuf)> = HashMap::new();
    for (rel, rank, path) in walked.skill_files {
        let slot = skills.entry(rel).or_insert((rank, path.clone()));
        if rank < slot.0 {
            *slot = (rank, path);
        }
    }

    let mut by_skill: HashMap<&str, Vec<String>> = HashMap::new();
    for file in &files {
        let mut rest = file.as_str();
        loop {
            let parent = rest.rfind('/').map_or("", |i| &rest[..i]);
            if skills.contains_key(parent) {
                let inner = file[parent.len()..].trim_start_matches('/');
                by_skill.entry(parent).or_default().push(inner.to_owned());
                break;
            }
            if parent.is_empty() {
                break;
            }
            rest = parent;
        }
    }

    // Walk order: by path components, as a sorted walk would give.
    let mut ordered: Vec<(&String, &(u8, PathBuf))> = skills.iter().collect();
    ordered.sort_by(|a, b| component_order(a.0).cmp(component_order(b.0)));
    let absolute_root = super::check::join_lexically(
        &std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf()),
        ".",
    );
    for (rel, (_, skill_md)) in ordered {
        let dir = if rel.is_empty() {
            root.to_path_buf()
        } else {
            root.join(rel)
        };
        if followed_symlink {
            let real = dir.canonicalize().unwrap_or_else(|_| dir.clone());
            if !seen_real.insert(real) {
                out.notices.push(format!(
                    "skipped {}: the same folder as a skill already found",
                    dir.display()
                ));
                continue;
            }
        }
        let mut files = by_skill.remove(rel.as_str()).unwrap_or_default();
        files.sort_unstable();
        let absolute = if rel.is_empty() {
            absolute_root.clone()
        } else {
            absolute_root.join(rel)
        };
        let under_claude = absolute
            .components()
            .any(|c| c == Component::Normal(".claude".as_ref()));
        out.skills.push(SkillDir {
            display: display_path(root, Path::new(rel)),
            dir,
            absolute,
            skill_md: skill_md.clone(),
            files,
            under_claude,
        });
    }
}

/// Bytes of a `/`-separated path with `/` sorting before every other byte.
fn component_order(path: &str) -> impl Iterator<Item = u8> + '_ {
    path.bytes().map(|b| if b == b'/' { 0 } else { b })
}

fn slash_path(path: &Path) -> String {
    let parts: Vec<_> = path
        .components()
        .map(|c| match c {
            Component::RootDir => "".into(),
            other => other.as_os_str().to_string_lossy(),
        })
        .collect();
    parts.join("/")
}

fn display_path(root: &Path, rel: &Path) -> String {
    let root_text = slash_path(root);
    let rel_text = slash_path(rel);
    match (root_text.as_str(), rel_text.is_empty()) {
        ("." | "", true) => ".".to_owned(),
        ("." | "", false) => rel_text,
        (_, true) => root_text,
        (_, false) => format!("{root_text}/{rel_text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_skills_and_gives_each_its_own_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for f in [
            "a/SKILL.md",
            "a/references/x.md",
            "a/inner/SKILL.md",
            "a/inner/scripts/run.py",
            "b/skill.md",
            "c/README.md",
            "a/.git/SKILL.md",
        ] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        let d = discover(&[root.to_path_buf()]).unwrap();
        let found: Vec<_> = d
            .skills
            .iter()
            .map(|s| {
                (
                    s.dir.strip_prefix(root).unwrap().to_path_buf(),
                    s.files.clone(),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                (
                    PathBuf::from("a"),
                    vec!["SKILL.md".into(), "references/x.md".into()]
                ),
                (
                    PathBuf::from("a/inner"),
                    vec!["SKILL.md".into(), "scripts/run.py".into()]
                ),
                (PathBuf::from("b"), vec!["skill.md".into()]),
            ]
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_skipped_and_linked_skills_found_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::write(root.join("a/SKILL.md"), "x").unwrap();
        std::os::unix::fs::symlink(root, root.join("a/loop")).unwrap();
        std::os::unix::fs::symlink(root.join("a"), root.join("b")).unwrap();
        let d = discover(&[root.to_path_buf()]).unwrap();
        assert_eq!(d.skills.len(), 1);
        assert!(
            d.notices.iter().any(|n| n.contains("loop")),
            "{:?}",
            d.notices
        );
    }

    #[test]
    fn a_missing_root_is_an_error() {
        assert!(discover(&[PathBuf::from("/no/such/root")]).is_err());
    }
}
