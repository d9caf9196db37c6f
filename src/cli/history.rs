//! What the store remembers, turned into what a run needs: expected durations for the
//! critical-path priority, the tasks a resumed run keeps, and the cache the runner asks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::CliError;
use crate::graph::Dag;
use crate::plan::Plan;
use crate::runner::{Cache, CacheHit, CacheKey};
use crate::store::{InputHasher, Manifest, ResumePoint, Store, definition_hash, median_durations};

/// Expected seconds per task: its `estimate`, else the median of its last successful
/// durations, else the mean of the tasks that have one, else 1.
pub(crate) fn expected_weights(plan: &Plan, store: Option<&Store>) -> Vec<f64> {
    let remembered: HashMap<String, f64> = store
        .and_then(|s| median_durations(s).ok())
        .unwrap_or_default();
    let known: Vec<f64> = plan
        .tasks
        .iter()
        .filter_map(|t| remembered.get(&t.id).copied())
        .collect();
    let fallback = if known.is_empty() {
        1.0
    } else {
        known.iter().sum::<f64>() / known.len() as f64
    };
    plan.tasks
        .iter()
        .map(|t| {
            t.estimate
                .map(|d| d.as_secs_f64())
                .or_else(|| remembered.get(&t.id).copied())
                .unwrap_or(fallback)
        })
        .collect()
}

/// Which tasks a resumed run keeps from `point`: those that succeeded there, whose
/// definition did not change, and whose dependencies are all kept too. Only tasks in
/// `selected` are considered.
pub(crate) fn restored_tasks(
    plan: &Plan,
    dag: &Dag,
    selected: &[bool],
    point: &ResumePoint,
) -> Vec<bool> {
    let mut restored = vec![false; plan.tasks.len()];
    for &i in dag.topo_order() {
        let task = &plan.tasks[i];
        restored[i] = selected[i]
            && point
                .succeeded
                .get(&task.id)
                .is_some_and(|(def, _)| *def == definition_hash(plan, task))
            && task.deps.iter().all(|&d| restored[d]);
    }
    restored
}

/// The cache keys restored tasks had.
pub(crate) fn known_keys(
    plan: &Plan,
    restored: &[bool],
    point: &ResumePoint,
) -> Vec<Option<String>> {
    plan.tasks
        .iter()
        .zip(restored)
        .map(|(t, r)| {
            if *r {
                point.succeeded.get(&t.id).and_then(|(_, key)| key.clone())
            } else {
                None
            }
        })
        .collect()
}

/// The runner's cache, backed by the store: keys from the task's inputs, hits from
/// earlier successful attempts whose outputs still exist.
pub(crate) struct StoreCache {
    hasher: InputHasher,
    store: Mutex<Store>,
}

impl StoreCache {
    pub(crate) fn new(plan: &Plan, store: Store) -> Arc<Self> {
        Arc::new(StoreCache {
            hasher: InputHasher::new(plan.clone()),
            store: Mutex::new(store),
        })
    }
}

impl Cache for StoreCache {
    fn key(&self, index: usize, dep_keys: &[Option<String>]) -> Option<CacheKey> {
        let fp = self.hasher.fingerprint(index, dep_keys)?;
        // Kept (once per key) so that a later run can say what changed; a store that
        // cannot keep it only makes that later run say less.
        if let Ok(store) = self.store.lock()
            && !store.has_manifest(&fp.key).unwrap_or(true)
            && let Ok(body) = serde_json::to_string(&fp.manifest)
        {
            let _ = store.record_manifest(&fp.key, &body);
        }
        Some(CacheKey {
            key: fp.key,
            stats: crate::events::HashingStats {
                files: fp.files,
                bytes: fp.bytes,
                took: fp.took,
                changed: None,
            },
        })
    }

    fn changes(&self, index: usize, key: &str) -> Option<String> {
        let id = &self.hasher.plan().tasks[index].id;
        let store = self.store.lock().ok()?;
        let Some(last) = store.last_success_key(id).ok()? else {
            return Some("no earlier success".to_owned());
        };
        if last == key {
            return Some("an output is missing".to_owned());
        }
        let manifest = |key: &str| -> Option<Manifest> {
            serde_json::from_str(&store.manifest(key).ok()??).ok()
        };
        let (Some(now), Some(before)) = (manifest(key), manifest(&last)) else {
            return Some("its inputs changed".to_owned());
        };
        Some(
            now.changes_since(&before)
                .unwrap_or_else(|| "its inputs changed".to_owned()),
        )
    }

    fn lookup(&self, index: usize, key: &str) -> Option<CacheHit> {
        let id = &self.hasher.plan().tasks[index].id;
        let found = self.store.lock().ok()?.cache_lookup(id, key).ok()??;
        self.hasher.outputs_exist(index).then_some(CacheHit {
            run_id: found.run_id,
            log: found.log,
        })
    }
}

/// Turns a store error into the command's error: a store this fanout cannot read is the
/// user's to sort out (exit 2); anything else is fanout's own failure.
pub(crate) fn store_error(err: crate::store::StoreError) -> CliError {
    match err {
        crate::store::StoreError::Schema { .. } => CliError::usage_with_help(
            format!("{err:#}"),
            "use a newer fanout, or another state directory (--state-dir)",
        ),
        other => CliError::Internal(anyhow::Error::new(other)),
    }
}
