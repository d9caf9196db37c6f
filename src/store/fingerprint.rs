//! Cache keys and definition hashes. A task's key is a blake3 hash of its command, its
//! environment, its working directory, its declared inputs and outputs, the paths and
//! contents of every input file, and its dependencies' keys. Input walking respects
//! `.gitignore` (the `ignore` crate) and files are hashed in parallel (rayon).

use std::path::{Path, PathBuf};
use std::time::Instant;

use ignore::WalkBuilder;
use ignore::overrides::OverrideBuilder;
use rayon::prelude::*;

use crate::plan::{Action, Plan, Task};

/// A computed cache key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    pub key: String,
    pub files: usize,
    pub bytes: u64,
    pub took: std::time::Duration,
    /// What the key is made of.
    pub manifest: Manifest,
}

/// What a cache key is made of, kept so that a later key can tell what changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// A hash of the task's definition: command, environment, directory, declared inputs
    /// and outputs.
    pub definition: String,
    /// Each dependency's id and key.
    pub deps: Vec<(String, String)>,
    /// Each input file's path and the first 16 hex digits of its contents' hash, sorted
    /// by path (enough to tell a change; kept short, as there is one per file).
    pub files: Vec<(String, String)>,
}

impl Manifest {
    /// What changed from `before` to `self`, in words (the first few files of each kind,
    /// and how many more); `None` when nothing did.
    pub fn changes_since(&self, before: &Manifest) -> Option<String> {
        let mut said = Vec::new();
        if self.definition != before.definition {
            said.push(
                "its definition changed (command, environment, directory, inputs or outputs)"
                    .to_owned(),
            );
        }
        let earlier: std::collections::HashMap<&str, &str> = before
            .deps
            .iter()
            .map(|(id, key)| (id.as_str(), key.as_str()))
            .collect();
        let deps: Vec<&str> = self
            .deps
            .iter()
            .filter(|(id, key)| earlier.get(id.as_str()) != Some(&key.as_str()))
            .map(|(id, _)| id.as_str())
            .collect();
        if !deps.is_empty() {
            said.push(format!("{} changed", listed(&deps, "the result of")));
        }
        let old: std::collections::HashMap<&str, &str> = before
            .files
            .iter()
            .map(|(p, h)| (p.as_str(), h.as_str()))
            .collect();
        let new: std::collections::HashSet<&str> =
            self.files.iter().map(|(p, _)| p.as_str()).collect();
        let (mut changed, mut added) = (Vec::new(), Vec::new());
        for (path, hash) in &self.files {
            match old.get(path.as_str()) {
                Some(h) if h != hash => changed.push(path.as_str()),
                Some(_) => {}
                None => added.push(path.as_str()),
            }
        }
        let removed: Vec<&str> = before
            .files
            .iter()
            .map(|(p, _)| p.as_str())
            .filter(|p| !new.contains(p))
            .collect();
        for (paths, what) in [(changed, "changed"), (added, "added"), (removed, "removed")] {
            if !paths.is_empty() {
                said.push(format!("{} {what}", listed(&paths, "")));
            }
        }
        (!said.is_empty()).then(|| said.join("; "))
    }
}

/// `a`, `a, b, c` or `a, b, c and 4 more`, after `lead` when there is one.
fn listed(items: &[&str], lead: &str) -> String {
    let shown = items.iter().take(3).copied().collect::<Vec<_>>().join(", ");
    let more = match items.len() {
        n if n > 3 => format!(" and {} more", n - 3),
        _ => String::new(),
    };
    if lead.is_empty() {
        format!("{shown}{more}")
    } else {
        format!("{lead} {shown}{more}")
    }
}

/// A hash of the plan file's bytes.
pub fn plan_hash(source: &[u8]) -> String {
    blake3::hash(source).to_hex().to_string()
}

fn update_str(h: &mut blake3::Hasher, s: &str) {
    h.update(&(s.len() as u64).to_le_bytes());
    h.update(s.as_bytes());
}

/// Everything that defines what a task does, hashed: a resumed run runs a task again
/// when this changed.
pub fn definition_hash(plan: &Plan, task: &Task) -> String {
    let mut h = blake3::Hasher::new();
    update_definition(&mut h, plan, task);
    for &d in &task.deps {
        update_str(&mut h, &plan.tasks[d].id);
    }
    h.finalize().to_hex().to_string()
}

fn update_definition(h: &mut blake3::Hasher, plan: &Plan, task: &Task) {
    h.update(b"fanout-task-v1");
    match &task.action {
        Action::Shell(s) => {
            h.update(b"shell");
            update_str(h, s);
        }
        Action::Argv(argv) => {
            h.update(b"argv");
            for a in argv {
                update_str(h, a);
            }
        }
        Action::Agent { prompt } => {
            h.update(b"agent");
            update_str(h, prompt);
        }
    }
    let mut env: Vec<(&String, &String)> = plan.env.iter().chain(&task.env).collect();
    env.sort();
    for (k, v) in env {
        update_str(h, k);
        update_str(h, v);
    }
    update_str(
        h,
        &task
            .cwd
            .as_deref()
            .unwrap_or(Path::new(""))
            .display()
            .to_string(),
    );
    for list in [&task.inputs, &task.outputs] {
        h.update(&(list.len() as u64).to_le_bytes());
        for item in list {
            update_str(h, item);
        }
    }
}

/// Computes cache keys for the tasks of one plan.
#[derive(Debug)]
pub struct InputHasher {
    plan: Plan,
}

impl InputHasher {
    pub fn new(plan: Plan) -> Self {
        InputHasher { plan }
    }

    /// The directory a task runs in.
    pub fn task_dir(&self, index: usize) -> PathBuf {
        let task = &self.plan.tasks[index];
        match &task.cwd {
            Some(dir) => self.plan.base_dir.join(dir),
            None => self.plan.base_dir.clone(),
        }
    }

    /// Task `index`'s cache key; `None` when it declares no inputs.
    pub fn fingerprint(&self, index: usize, dep_keys: &[Option<String>]) -> Option<Fingerprint> {
        let started = Instant::now();
        let task = &self.plan.tasks[index];
        if task.inputs.is_empty() {
            return None;
        }
        let dir = self.task_dir(index);
        let files = input_files(&dir, &task.inputs);
        let hashed: Vec<(u64, [u8; 32])> = files
            .par_iter()
            .map(|rel| hash_file(&dir.join(rel)))
            .collect();
        let mut definition = blake3::Hasher::new();
        update_definition(&mut definition, &self.plan, task);
        let manifest = Manifest {
            definition: definition.finalize().to_hex().to_string(),
            deps: task
                .deps
                .iter()
                .zip(dep_keys)
                .map(|(&d, key)| {
                    (
                        self.plan.tasks[d].id.clone(),
                        key.clone().unwrap_or_default(),
                    )
                })
                .collect(),
            files: files
                .iter()
                .zip(&hashed)
                .map(|(rel, (_, digest))| {
                    let hex = blake3::Hash::from_bytes(*digest).to_hex();
                    (rel.to_string_lossy().into_owned(), hex[..16].to_owned())
                })
                .collect(),
        };
        let mut h = blake3::Hasher::new();
        update_definition(&mut h, &self.plan, task);
        h.update(b"deps");
        for key in dep_keys {
            update_str(&mut h, key.as_deref().unwrap_or(""));
        }
        h.update(b"files");
        let mut bytes = 0;
        for (rel, (len, digest)) in files.iter().zip(&hashed) {
            update_str(&mut h, &rel.to_string_lossy());
            h.update(digest);
            bytes += len;
        }
        Some(Fingerprint {
            key: h.finalize().to_hex().to_string(),
            files: files.len(),
            bytes,
            took: started.elapsed(),
            manifest,
        })
    }

    /// Whether every declared output of task `index` exists (globs: at least one match).
    pub fn outputs_exist(&self, index: usize) -> bool {
        let task = &self.plan.tasks[index];
        let dir = self.task_dir(index);
        task.outputs.iter().all(|out| {
            if out.contains(['*', '?', '[', '{']) {
                !input_files(&dir, std::slice::from_ref(out)).is_empty()
            } else {
                dir.join(out).exists()
            }
        })
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }
}

/// Files under `dir` matching any glob, relative to `dir`, sorted. Walks only from each
/// glob's literal leading directories, honours `.gitignore`, skips `.git` and `.fanout`.
fn input_files(dir: &Path, globs: &[String]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut roots: Vec<PathBuf> = globs.iter().map(|g| literal_root(g)).collect();
    roots.sort();
    roots.dedup();
    // A root inside another root is walked with it.
    let roots: Vec<PathBuf> = roots
        .iter()
        .filter(|r| !roots.iter().any(|o| o != *r && r.starts_with(o)))
        .cloned()
        .collect();
    let mut overrides = OverrideBuilder::new(dir);
    for glob in globs {
        let anchored = format!("/{}", glob.trim_start_matches("./").trim_start_matches('/'));
        // Validation left only globs that parse; a bad one simply matches nothing.
        let _ = overrides.add(&anchored);
    }
    let Ok(overrides) = overrides.build() else {
        return files;
    };
    for root in roots {
        let start = dir.join(&root);
        if start.is_file() {
            if !overrides.matched(&start, false).is_ignore() {
                files.push(root);
            }
            continue;
        }
        if !start.is_dir() {
            continue;
        }
        let walker = WalkBuilder::new(&start)
            .hidden(false)
            .overrides(overrides.clone())
            .filter_entry(|e| {
                let name = e.file_name();
                name != ".git" && name != ".fanout"
            })
            .build();
        for entry in walker.flatten() {
            if entry.file_type().is_some_and(|t| t.is_file())
                && let Ok(rel) = entry.path().strip_prefix(dir)
            {
                files.push(rel.to_path_buf());
            }
        }
    }
    files.sort();
    files.dedup();
    files
}

/// The leading path components of a glob that hold no glob characters.
fn literal_root(glob: &str) -> PathBuf {
    let glob = glob.trim_start_matches("./").trim_start_matches('/');
    let mut root = PathBuf::new();
    let parts: Vec<&str> = glob.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        if part.contains(['*', '?', '[', '{']) {
            break;
        }
        if i + 1 == parts.len() {
            // The last literal component may be a file.
            root.push(part);
            break;
        }
        root.push(part);
    }
    root
}

/// Length and blake3 digest of a file's contents (zeros when it cannot be read, so an
/// unreadable file still changes the key when it becomes readable).
fn hash_file(path: &Path) -> (u64, [u8; 32]) {
    let mut h = blake3::Hasher::new();
    match std::fs::File::open(path).and_then(|f| h.update_reader(f).map(|_| ())) {
        Ok(()) => {
            let len = h.count();
            (len, *h.finalize().as_bytes())
        }
        Err(_) => (0, [0; 32]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_say_what_changed_and_how_many_more() {
        let pairs = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect::<Vec<_>>()
        };
        let before = Manifest {
            definition: "d1".into(),
            deps: pairs(&[("gen", "k1"), ("lib", "k2")]),
            files: pairs(&[("a", "1"), ("b", "2"), ("c", "3"), ("d", "4"), ("e", "5")]),
        };
        assert_eq!(before.changes_since(&before), None);
        let after = Manifest {
            definition: "d2".into(),
            deps: pairs(&[("gen", "k1"), ("lib", "k3")]),
            files: pairs(&[("a", "9"), ("b", "9"), ("c", "9"), ("d", "9"), ("f", "6")]),
        };
        assert_eq!(
            after.changes_since(&before).unwrap(),
            "its definition changed (command, environment, directory, inputs or outputs); \
             the result of lib changed; a, b, c and 1 more changed; f added; e removed"
        );
        // A manifest reads back what was written.
        let text = serde_json::to_string(&after).unwrap();
        assert_eq!(serde_json::from_str::<Manifest>(&text).unwrap(), after);
    }

    #[test]
    fn literal_roots_stop_at_the_first_glob() {
        assert_eq!(literal_root("src/**/*.rs"), PathBuf::from("src"));
        assert_eq!(literal_root("Cargo.lock"), PathBuf::from("Cargo.lock"));
        assert_eq!(literal_root("*.md"), PathBuf::from(""));
        assert_eq!(literal_root("./a/b/c?.txt"), PathBuf::from("a/b"));
    }

    #[test]
    fn input_files_follow_globs_and_gitignore() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("src/deep")).unwrap();
        std::fs::create_dir_all(d.join(".git")).unwrap();
        for f in [
            "src/a.rs",
            "src/deep/b.rs",
            "src/c.txt",
            "Cargo.lock",
            "other/Cargo.lock",
        ] {
            std::fs::create_dir_all(d.join(f).parent().unwrap()).unwrap();
            std::fs::write(d.join(f), f).unwrap();
        }
        std::fs::write(d.join(".gitignore"), "src/deep/\n").unwrap();
        let files = input_files(d, &["src/**/*.rs".into(), "Cargo.lock".into()]);
        assert_eq!(
            files,
            vec![PathBuf::from("Cargo.lock"), PathBuf::from("src/a.rs")]
        );
    }
}
