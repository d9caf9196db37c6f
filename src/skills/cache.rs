//! The check cache: results of earlier checks keyed by a hash of everything a verdict
//! depends on (the skill's files and their contents, its folder's name, the profile and the
//! options). Kept as two JSON files in the state directory, each replaced atomically: the
//! results (read on a thread of its own while the folders are walked) and the folder
//! listings the walk needs first. A cache that cannot be read is treated as empty; it never
//! fails a check.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::atomic::write_atomically;
use super::check::Checked;
use super::discover::{Listing, Listings};
use super::error::SkillsError;

/// Bumped whenever the checks change what they report.
const FORMAT: u32 = 2;
const FILE_NAME: &str = "skills-cache.json";
const DIRS_FILE_NAME: &str = "skills-dirs.json";
/// Entries kept at most; the ones not used by the latest run go first.
const MAX_ENTRIES: usize = 200_000;

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    entries: HashMap<String, Checked>,
    /// Skill folder → the signature of its files' metadata and the content key it had, so
    /// an untouched folder is not read again (as git's index does).
    #[serde(default)]
    stats: HashMap<String, StatEntry>,
}

/// Folder → its listing, so an unchanged folder is not read again (see `discover.rs`).
/// A list of pairs rather than a map: quicker to read.
#[derive(Debug, Default, Serialize, Deserialize)]
struct DirsFile {
    format: u32,
    dirs: Vec<(String, Listing)>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct StatEntry {
    pub(crate) signature: String,
    pub(crate) key: String,
}

/// Cached results, and what this run added.
#[derive(Debug)]
pub(crate) struct Cache {
    path: PathBuf,
    dirs_path: PathBuf,
    /// The results file being read, until [`Cache::ready`].
    reading: Option<std::thread::JoinHandle<CacheFile>>,
    old: HashMap<String, Checked>,
    new: HashMap<String, Checked>,
    used: Vec<String>,
    old_stats: HashMap<String, StatEntry>,
    new_stats: HashMap<String, StatEntry>,
    /// Folder listings: known ones until the walk borrows them, then all of them.
    dirs: HashMap<String, Listing>,
    dirs_changed: bool,
}

impl Cache {
    /// Opens the cache in `state_dir` (an absent or unreadable file is an empty cache):
    /// reads the folder listings now and starts reading the results.
    pub(crate) fn open(state_dir: &Path) -> Cache {
        let path = state_dir.join(FILE_NAME);
        let results = path.clone();
        let reading = std::thread::Builder::new()
            .name("fanout-skills-cache".into())
            .spawn(move || {
                std::fs::read(&results)
                    .ok()
                    .and_then(|bytes| serde_json::from_slice::<CacheFile>(&bytes).ok())
                    .filter(|file| file.format == FORMAT)
                    .unwrap_or_default()
            })
            .ok();
        let dirs_path = state_dir.join(DIRS_FILE_NAME);
        let dirs = std::fs::read(&dirs_path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<DirsFile>(&bytes).ok())
            .filter(|file| file.format == FORMAT)
            .unwrap_or_default()
            .dirs
            .into_iter()
            .collect();
        Cache {
            path,
            dirs_path,
            reading,
            old: HashMap::new(),
            new: HashMap::new(),
            used: Vec::new(),
            old_stats: HashMap::new(),
            new_stats: HashMap::new(),
            dirs,
            dirs_changed: false,
        }
    }

    /// Waits for the results to be read; lookups before this find nothing.
    pub(crate) fn ready(&mut self) {
        if let Some(file) = self.reading.take().and_then(|h| h.join().ok()) {
            self.old = file.entries;
            self.old_stats = file.stats;
        }
    }

    /// The folder listings known, for a walk (see [`Cache::walked`]).
    pub(crate) fn listings(&mut self) -> Listings {
        Listings {
            old: std::mem::take(&mut self.dirs),
            new: Default::default(),
        }
    }

    /// Takes back the listings after a walk, with those it read anew.
    pub(crate) fn walked(&mut self, listings: Listings) {
        let Listings { mut old, new } = listings;
        let new = new.into_inner().unwrap_or_else(|e| e.into_inner());
        self.dirs_changed |= !new.is_empty();
        old.extend(new);
        self.dirs = old;
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Checked> {
        self.old.get(key)
    }

    /// The content key remembered for `folder` when its metadata signature is unchanged.
    pub(crate) fn key_by_stat(&self, folder: &str, signature: &str) -> Option<&str> {
        self.old_stats
            .get(folder)
            .filter(|e| e.signature == signature)
            .map(|e| e.key.as_str())
    }

    pub(crate) fn note_stat(&mut self, folder: String, entry: StatEntry) {
        let unchanged = self
            .old_stats
            .get(&folder)
            .is_some_and(|e| e.signature == entry.signature && e.key == entry.key);
        if !unchanged {
            self.new_stats.insert(folder, entry);
        }
    }

    pub(crate) fn note_used(&mut self, key: String) {
        self.used.push(key);
    }

    pub(crate) fn insert(&mut self, key: String, checked: Checked) {
        self.new.insert(key, checked);
    }

    /// Writes what this run changed: the listings and the results at the same time.
    pub(crate) fn save(mut self) -> Result<(), SkillsError> {
        self.ready();
        let dirs = self
            .dirs_changed
            .then(|| (std::mem::take(&mut self.dirs), self.dirs_path.clone()));
        let (dirs_saved, results_saved) =
            rayon::join(|| dirs.map_or(Ok(()), save_dirs), || self.save_results());
        dirs_saved.and(results_saved)
    }

    fn save_results(self) -> Result<(), SkillsError> {
        if self.new.is_empty() && self.new_stats.is_empty() {
            // Nothing to write: the exit frees the maps sooner than dropping them would.
            std::mem::forget(self);
            return Ok(());
        }
        let Cache {
            path,
            mut old,
            mut new,
            used,
            old_stats: mut stats,
            new_stats,
            ..
        } = self;
        stats.extend(new_stats);
        for key in &used {
            if let Some(v) = old.remove(key) {
                new.insert(key.clone(), v);
            }
        }
        let mut entries = new;
        for (key, value) in old {
            if entries.len() >= MAX_ENTRIES {
                break;
            }
            entries.entry(key).or_insert(value);
        }
        stats.retain(|_, e| entries.contains_key(&e.key));
        write_json(
            &path,
            &CacheFile {
                format: FORMAT,
                entries,
                stats,
            },
        )
    }
}

fn save_dirs((dirs, path): (HashMap<String, Listing>, PathBuf)) -> Result<(), SkillsError> {
    write_json(
        &path,
        &DirsFile {
            format: FORMAT,
            dirs: dirs.into_iter().collect(),
        },
    )
}

/// Replaces `path` with `value` as JSON, atomically.
fn write_json(path: &Path, value: &impl Serialize) -> Result<(), SkillsError> {
    let bytes = serde_json::to_vec(value).map_err(|e| SkillsError::Write {
        path: path.to_owned(),
        source: std::io::Error::other(e),
    })?;
    write_atomically(path, &bytes)
}

/// A signature of the metadata of `SKILL.md` (size, modification and change times, inode),
/// the names of the skill's files and `settings`: while it is unchanged, so is the content
/// key, and nothing needs reading.
pub(crate) fn stat_signature(skill_md: &Path, files: &[String], settings: &str) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(skill_md).ok()?;
    let mut hasher = blake3::Hasher::new();
    hasher.update(settings.as_bytes());
    for n in [
        meta.len(),
        meta.mtime() as u64,
        meta.mtime_nsec() as u64,
        meta.ctime() as u64,
        meta.ctime_nsec() as u64,
        meta.ino(),
    ] {
        hasher.update(&n.to_le_bytes());
    }
    hash_names(&mut hasher, files);
    Some(hasher.finalize().to_hex().to_string())
}

fn hash_names(hasher: &mut blake3::Hasher, files: &[String]) {
    for file in files {
        hasher.update(file.as_bytes());
        hasher.update(b"\0");
    }
}

/// The cache key of a skill: a BLAKE3 hash of everything its verdict depends on — the
/// contents of `SKILL.md`, the names of the skill's files (links must find them), its
/// folder's name and `settings` (profile and options). The contents of the other files
/// never change a verdict, so they are not read. Also returns the bytes of `SKILL.md` (or
/// why it could not be read) so it is read once.
pub(crate) fn key_and_skill_md(
    dir_name: &str,
    skill_md: &Path,
    files: &[String],
    settings: &str,
) -> (String, Result<Vec<u8>, super::problem::Problem>) {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&FORMAT.to_le_bytes());
    hasher.update(settings.as_bytes());
    hasher.update(b"\0");
    hasher.update(dir_name.as_bytes());
    hasher.update(b"\0");
    let skill_md_bytes = super::check::read_skill_md(skill_md);
    match &skill_md_bytes {
        Ok(bytes) => {
            hasher.update(b"ok\0");
            hasher.update(&(bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        }
        Err(problem) => {
            hasher.update(problem.message.as_bytes());
        }
    }
    hash_names(&mut hasher, files);
    (hasher.finalize().to_hex().to_string(), skill_md_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_follows_skill_md_and_the_file_names_and_the_cache_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let skill = dir.path().join("a");
        std::fs::create_dir_all(skill.join("references")).unwrap();
        std::fs::write(skill.join("SKILL.md"), "x").unwrap();
        std::fs::write(skill.join("references/r.md"), "1").unwrap();
        let files = vec!["SKILL.md".to_owned(), "references/r.md".to_owned()];
        let key =
            |files: &[String]| key_and_skill_md("a", &skill.join("SKILL.md"), files, "spec").0;
        let first = key(&files);
        assert_eq!(first, key(&files));
        // Another reference's contents change no verdict; its presence does.
        std::fs::write(skill.join("references/r.md"), "2").unwrap();
        assert_eq!(first, key(&files));
        assert_ne!(first, key(&files[..1]));
        std::fs::write(skill.join("SKILL.md"), "y").unwrap();
        assert_ne!(first, key(&files));

        let state = dir.path().join(".fanout");
        let mut cache = Cache::open(&state);
        cache.ready();
        assert!(cache.get(&first).is_none());
        cache.insert(first.clone(), Checked::default());
        cache.save().unwrap();
        let mut again = Cache::open(&state);
        again.ready();
        assert!(again.get(&first).is_some());
    }
}
