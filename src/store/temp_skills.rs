//! The temporary skills of a state directory: when each was created, how many runs used
//! it and when last, and whether it is marked to keep. Deciding what to collect is not
//! done here (see `skills::decide`); neither is touching the skill folders.

use rusqlite::params;
use serde::Serialize;

use super::open::{SqlContext, Store, StoreError};

/// A temporary skill as the store remembers it. Times are seconds since the Unix epoch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TempSkillRow {
    pub name: String,
    /// Its folder, relative to the state directory (`skills/NAME`).
    pub path: String,
    pub created: f64,
    /// How many runs gave it to an agent task.
    pub uses: u64,
    pub last_used: Option<f64>,
    pub kept: bool,
}

impl Store {
    /// Records one use of the temporary skill `name` (its folder at `path`) at `now`.
    /// `created`: its folder was made just now, so whatever was remembered under that name
    /// (a folder deleted by hand) starts again from this use; the keep mark stays.
    pub fn record_temp_skill_use(
        &self,
        name: &str,
        path: &str,
        now: f64,
        created: bool,
    ) -> Result<(), StoreError> {
        let sql = if created {
            "INSERT INTO temp_skills (name, path, created, uses, last_used)
             VALUES (?1, ?2, ?3, 1, ?3)
             ON CONFLICT(name) DO UPDATE SET path = excluded.path,
                 created = excluded.created, uses = 1, last_used = excluded.last_used"
        } else {
            "INSERT INTO temp_skills (name, path, created, uses, last_used)
             VALUES (?1, ?2, ?3, 1, ?3)
             ON CONFLICT(name) DO UPDATE SET path = excluded.path, uses = uses + 1,
                 last_used = MAX(COALESCE(last_used, excluded.last_used), excluded.last_used)"
        };
        self.conn
            .execute(sql, params![name, path, now])
            .doing("record a use of a temporary skill")?;
        Ok(())
    }

    /// Every temporary skill, by name.
    pub fn temp_skills(&self) -> Result<Vec<TempSkillRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT name, path, created, uses, last_used, kept
                 FROM temp_skills ORDER BY name",
            )
            .doing("list temporary skills")?;
        stmt.query_map([], |r| {
            Ok(TempSkillRow {
                name: r.get(0)?,
                path: r.get(1)?,
                created: r.get(2)?,
                uses: r.get::<_, i64>(3)?.max(0) as u64,
                last_used: r.get(4)?,
                kept: r.get(5)?,
            })
        })
        .doing("list temporary skills")?
        .collect::<Result<_, _>>()
        .doing("list temporary skills")
    }

    /// Marks the temporary skill `name` to keep; `false` when there is none.
    pub fn keep_temp_skill(&self, name: &str) -> Result<bool, StoreError> {
        let changed = self
            .conn
            .execute("UPDATE temp_skills SET kept = 1 WHERE name = ?1", [name])
            .doing("mark a temporary skill to keep")?;
        Ok(changed > 0)
    }

    /// Forgets the temporary skill `name`; `false` when there was none.
    pub fn forget_temp_skill(&self, name: &str) -> Result<bool, StoreError> {
        let changed = self
            .conn
            .execute("DELETE FROM temp_skills WHERE name = ?1", [name])
            .doing("forget a temporary skill")?;
        Ok(changed > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_count_up_and_a_new_folder_starts_again() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(dir.path()).unwrap();
        store
            .record_temp_skill_use("lint", "skills/lint", 100.0, true)
            .unwrap();
        store
            .record_temp_skill_use("lint", "skills/lint", 200.0, false)
            .unwrap();
        store
            .record_temp_skill_use("docs", "skills/docs", 150.0, false)
            .unwrap();
        let rows = store.temp_skills().unwrap();
        assert_eq!(
            rows,
            [
                TempSkillRow {
                    name: "docs".into(),
                    path: "skills/docs".into(),
                    created: 150.0,
                    uses: 1,
                    last_used: Some(150.0),
                    kept: false,
                },
                TempSkillRow {
                    name: "lint".into(),
                    path: "skills/lint".into(),
                    created: 100.0,
                    uses: 2,
                    last_used: Some(200.0),
                    kept: false,
                },
            ]
        );

        assert!(store.keep_temp_skill("lint").unwrap());
        assert!(!store.keep_temp_skill("nothing").unwrap());
        store
            .record_temp_skill_use("lint", "skills/lint", 300.0, true)
            .unwrap();
        let lint = store.temp_skills().unwrap().pop().unwrap();
        assert_eq!(
            (lint.created, lint.uses, lint.last_used, lint.kept),
            (300.0, 1, Some(300.0), true)
        );

        assert!(store.forget_temp_skill("lint").unwrap());
        assert!(!store.forget_temp_skill("lint").unwrap());
        assert_eq!(store.temp_skills().unwrap().len(), 1);
    }
}
