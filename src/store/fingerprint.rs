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
