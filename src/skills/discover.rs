//! Finding skill folders under roots: every folder holding a `SKILL.md` (or `skill.md`),
//! at any depth, following folder symlinks and skipping symlink loops, with the files that
//! belong to each skill (those not inside a nested skill). It reads no file contents.
//!
//! Listings of folders can come from an earlier walk ([`Listings`]): a folder whose
//! metadata (modification and change times, inode) is unchanged has the same entries, so
//! it costs one `stat` instead of an open, reads and a close. Symlinks among the entries
//! are resolved again every time, since their targets change without their folder.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
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

/// A folder's entries as an earlier walk read them, and the folder's metadata then.
/// Stored as a tuple (no field names): the file of listings is read before every walk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Listing(
    /// A hash of the modification time, change time and inode.
    u64,
    /// One line per entry: its kind (`f` file, `d` folder, `l` symlink), then its name.
    /// (One string per folder keeps the cache file small and quick to read.)
    String,
);

impl Listing {
    fn new(stamp: u64, entries: &[(String, char)]) -> Listing {
        let mut text = String::new();
        for (name, kind) in entries {
            text.push(*kind);
            text.push_str(name);
            text.push('\n');
        }
        Listing(stamp, text)
    }

    fn entries(&self) -> Vec<(String, char)> {
        self.1
            .lines()
            .filter_map(|line| {
                let mut chars = line.chars();
                let kind = chars.next()?;
                Some((chars.as_str().to_owned(), kind))
            })
            .collect()
    }
}

/// Folder listings by absolute path: those known before a walk, and those it read anew.
#[derive(Debug, Default)]
pub(crate) struct Listings {
    pub(crate) old: HashMap<String, Listing>,
    pub(crate) new: Mutex<Vec<(String, Listing)>>,
}

/// A folder changed this recently may change again within the same tick of the file
/// system's clock without its times moving: its listing is not kept.
const RACY: Duration = Duration::from_secs(2);

fn stamp(meta: &std::fs::Metadata) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    use std::os::unix::fs::MetadataExt;
    // A fixed-key hasher: the same metadata gives the same stamp in every run.
    BuildHasherDefault::<DefaultHasher>::default().hash_one((
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ctime(),
        meta.ctime_nsec(),
        meta.ino(),
    ))
}

/// Finds the skills under `roots`, in order of root and then path.
pub fn discover(roots: &[PathBuf]) -> Result<Discovery, SkillsError> {
    discover_with(roots, None)
}

/// [`discover`], taking folder listings from `listings` where the folders are unchanged
/// and adding the ones it reads.
pub(crate) fn discover_with(
    roots: &[PathBuf],
    listings: Option<&Listings>,
) -> Result<Discovery, SkillsError> {
    let mut discovery = Discovery::default();
    let mut seen_real: HashSet<PathBuf> = HashSet::new();
    for root in roots {
        if std::fs::metadata(root).is_err() {
            return Err(SkillsError::NoRoot { path: root.clone() });
        }
        discover_root(root, &mut discovery, &mut seen_real, listings);
    }
    Ok(discovery)
}

/// The entries of `dir` (whose absolute path is `key`): from `listings` when the folder is
/// unchanged, else read (and offered to `listings`).
fn entries_of(
    dir: &Path,
    key: &str,
    listings: Option<&Listings>,
) -> std::io::Result<Vec<(String, char)>> {
    let Some(listings) = listings else {
        return read_entries(dir);
    };
    let meta = std::fs::metadata(dir)?;
    let stamp = stamp(&meta);
    if let Some(known) = listings.old.get(key)
        && known.0 == stamp
    {
        return Ok(known.entries());
    }
    let entries = read_entries(dir)?;
    let settled = meta
        .modified()
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .is_some_and(|age| age > RACY);
    // A name holding a newline does not fit the one-line-per-entry form: such a folder is
    // read every time.
    if settled && !entries.iter().any(|(name, _)| name.contains('\n')) {
        listings
            .new
            .lock()
            .expect("no walker panics")
            .push((key.to_owned(), Listing::new(stamp, &entries)));
    }
    Ok(entries)
}

fn read_entries(dir: &Path) -> std::io::Result<Vec<(String, char)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        let kind = if file_type.is_symlink() {
            'l'
        } else if file_type.is_dir() {
            'd'
        } else {
            'f'
        };
        out.push((name, kind));
    }
    Ok(out)
}

/// What walking one folder (and everything below it) found.
#[derive(Default)]
struct Walked {
    /// Folders (relative to the root, `/`-separated), each with the names of its files.
    files: Vec<(String, Vec<String>)>,
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
        let mut joined = String::with_capacity(rel.len() + 1 + name.len());
        joined.push_str(rel);
        joined.push('/');
        joined.push_str(name);
        joined
    }
}

/// Walks `dir` (at `rel` below the root, really at `real`), its subfolders in parallel.
/// Symlinks are followed; one leading back to a folder above is a loop and skipped.
/// Each folder's findings go to `found` as they are, to be joined once at the end.
fn walk<'s>(
    scope: &rayon::Scope<'s>,
    at: Place,
    found: &'s Mutex<Vec<Walked>>,
    listings: Option<&'s Listings>,
) {
    let Place {
        dir,
        rel,
        real,
        key,
    } = at;
    let mut out = Walked::default();
    let entries = match entries_of(&dir, &key, listings) {
        Ok(entries) => entries,
        Err(err) => {
            out.notices
                .push(format!("skipped {}: {err}", dir.display()));
            found.lock().expect("no walker panics").push(out);
            return;
        }
    };
    let mut names = Vec::new();
    for (name, kind) in entries {
        let path = dir.join(&name);
        let mut is_dir = kind == 'd';
        let mut real_child = None;
        if kind == 'l' {
            match std::fs::metadata(&path) {
                Ok(meta) => {
                    is_dir = meta.is_dir();
                    if is_dir {
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
                    if let Some(rank) = skill_file_name(name.as_ref()) {
                        out.skill_files.push((rel.clone(), rank, path));
                        names.push(name);
                    }
                    continue;
                }
            }
        }
        if is_dir {
            if !SKIPPED_DIRS.contains(&name.as_str()) {
                let child = Place {
                    rel: join_rel(&rel, &name),
                    real: real_child.unwrap_or_else(|| real.join(&name)),
                    key: join_rel(&key, &name),
                    dir: path,
                };
                scope.spawn(move |scope| walk(scope, child, found, listings));
            }
            continue;
        }
        if let Some(rank) = skill_file_name(name.as_ref()) {
            out.skill_files.push((rel.clone(), rank, path));
        }
        names.push(name);
    }
    if !names.is_empty() {
        out.files.push((rel, names));
    }
    found.lock().expect("no walker panics").push(out);
}

/// A folder to walk: as reached from the root, relative to it, really, and its absolute
/// path as the key of its listing.
struct Place {
    dir: PathBuf,
    rel: String,
    real: PathBuf,
    key: String,
}

/// Walks everything below `root` (really at `real_root`; `key`: its absolute path).
fn walk_root(root: &Path, real_root: &Path, key: String, listings: Option<&Listings>) -> Walked {
    let found = Mutex::new(Vec::new());
    let at = Place {
        dir: root.to_path_buf(),
        rel: String::new(),
        real: real_root.to_path_buf(),
        key,
    };
    rayon::scope(|scope| walk(scope, at, &found, listings));
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

fn discover_root(
    root: &Path,
    out: &mut Discovery,
    seen_real: &mut HashSet<PathBuf>,
    listings: Option<&Listings>,
) {
    let real_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let absolute_root = super::check::join_lexically(
        &std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf()),
        ".",
    );
    let walked = if std::fs::metadata(root).is_ok_and(|m| m.is_dir()) {
        let key = absolute_root
            .to_string_lossy()
            .trim_end_matches('/')
            .to_owned();
        walk_root(root, &real_root, key, listings)
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

    // Each folder's files belong to the nearest skill folder at or above it.
    let mut by_skill: HashMap<&str, Vec<String>> = HashMap::new();
    for (folder, names) in files {
        let mut at = folder.as_str();
        let skill = loop {
            if let Some((skill, _)) = skills.get_key_value(at) {
                break Some(skill.as_str());
            }
            if at.is_empty() {
                break None;
            }
            at = at.rfind('/').map_or("", |i| &at[..i]);
        };
        let Some(skill) = skill else {
            continue;
        };
        let inner = folder[skill.len()..].trim_start_matches('/');
        let list = by_skill.entry(skill).or_default();
        list.extend(names.into_iter().map(|name| join_rel(inner, &name)));
    }

    // Walk order: by path components, as a sorted walk would give.
    let mut ordered: Vec<(Vec<u8>, &String, &(u8, PathBuf))> = skills
        .iter()
        .map(|(rel, found)| (component_order(rel).collect(), rel, found))
        .collect();
    ordered.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let ordered = ordered.into_iter().map(|(_, rel, found)| (rel, found));
    let root_text = slash_path(root);
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
            display: display_path(&root_text, rel),
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

/// `root_text` (the root as given, `/`-separated) joined with `rel_text`.
fn display_path(root_text: &str, rel_text: &str) -> String {
    match (root_text, rel_text.is_empty()) {
        ("." | "", true) => ".".to_owned(),
        ("." | "", false) => rel_text.to_owned(),
        (_, true) => root_text.to_owned(),
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

    /// Sets a folder's modification time an hour back, out of the racy window.
    fn age(dir: &Path) {
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        std::fs::File::open(dir)
            .unwrap()
            .set_modified(hour_ago)
            .unwrap();
    }

    #[test]
    fn remembered_listings_serve_unchanged_folders_and_changed_ones_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("skills");
        for f in ["a/SKILL.md", "a/references/x.md", "b/SKILL.md"] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        for d in ["", "a", "a/references", "b"] {
            age(&root.join(d));
        }
        let files = |d: &Discovery| -> Vec<(String, Vec<String>)> {
            d.skills
                .iter()
                .map(|s| (s.display.clone(), s.files.clone()))
                .collect()
        };
        let listings = Listings::default();
        let first = discover_with(std::slice::from_ref(&root), Some(&listings)).unwrap();
        let learned = listings.new.into_inner().unwrap();
        assert_eq!(learned.len(), 4, "{learned:?}");

        // Every folder unchanged: all four listings are used, none is read anew.
        let listings = Listings {
            old: learned.into_iter().collect(),
            new: Mutex::default(),
        };
        let again = discover_with(std::slice::from_ref(&root), Some(&listings)).unwrap();
        assert_eq!(files(&again), files(&first));
        assert!(listings.new.lock().unwrap().is_empty());

        // A new file changes its folder's times: that folder is read again.
        std::fs::write(root.join("b/notes.md"), "n").unwrap();
        let changed = discover_with(std::slice::from_ref(&root), Some(&listings)).unwrap();
        assert_eq!(changed.skills[1].files, ["SKILL.md", "notes.md"]);
        // A remembered listing that no longer matches is not trusted (the new one is too
        // recent to be remembered).
        assert!(listings.new.lock().unwrap().is_empty());
    }

    #[test]
    fn a_missing_root_is_an_error() {
        assert!(discover(&[PathBuf::from("/no/such/root")]).is_err());
    }
}
