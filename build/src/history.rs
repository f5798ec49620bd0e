//! The migration history on disk: files → revision graph → schema at the head(s).
//!
//! A graph, not a sorted list: each migration names its parents, so two branches
//! that each added a migration show up as two heads after a git merge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use retort_schema::migration::{self, MigrationFile};
use retort_schema::ops::Op;
use retort_schema::Schema;

use crate::Error;

/// One migration file.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Where it is.
    pub path: PathBuf,
    /// What it says.
    pub file: MigrationFile,
}

/// Every migration of a crate, by revision.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Migrations keyed by revision id.
    pub entries: BTreeMap<String, Entry>,
}

impl History {
    /// Reads every `*.rs` file in `dir` (a missing folder is an empty history) and checks the graph:
    /// no duplicate revision, no missing parent, no cycle.
    pub fn load(dir: &Path) -> Result<History, Error> {
        let mut history = History::default();
        let Ok(read) = std::fs::read_dir(dir) else {
            return Ok(history);
        };
        let mut paths: Vec<PathBuf> = read
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            let file = migration::parse_file(&text).map_err(|e| Error::Migration {
                path: path.clone(),
                message: e.to_string(),
            })?;
            if let Some(other) = history.entries.get(&file.revision) {
                return Err(Error::DuplicateRevision {
                    revision: file.revision.clone(),
                    first: other.path.clone(),
                    second: path,
                });
            }
            history
                .entries
                .insert(file.revision.clone(), Entry { path, file });
        }
        history.check_graph()?;
        Ok(history)
    }

    fn check_graph(&self) -> Result<(), Error> {
        for entry in self.entries.values() {
            for parent in &entry.file.parents {
                if !self.entries.contains_key(parent) {
                    return Err(Error::MissingParent {
                        revision: entry.file.revision.clone(),
                        parent: parent.clone(),
                        path: entry.path.clone(),
                    });
                }
            }
        }
        // Kahn's algorithm: whatever cannot be ordered sits on a cycle.
        let ordered = self.ordered();
        if ordered.len() != self.entries.len() {
            let placed: BTreeSet<&str> = ordered.iter().map(|e| e.file.revision.as_str()).collect();
            let cycle: Vec<String> = self
                .entries
                .values()
                .filter(|e| !placed.contains(e.file.revision.as_str()))
                .map(|e| format!("{} ({})", e.file.revision, e.path.display()))
                .collect();
            return Err(Error::Cycle { revisions: cycle });
        }
        Ok(())
    }

    /// Revisions no other revision names as a parent.
    pub fn heads(&self) -> Vec<&Entry> {
        migration::heads(
            self.entries
                .values()
                .map(|e| (e.file.revision.as_str(), e.file.parents.as_slice())),
        )
        .iter()
        .map(|id| &self.entries[id])
        .collect()
    }

    /// `revision` and everything it descends from.
    pub fn ancestors(&self, revision: &str) -> BTreeSet<String> {
        migration::ancestors(revision, |id| {
            self.entries.get(id).map(|e| e.file.parents.as_slice())
        })
    }

    /// Every migration, parents before children.
    pub fn ordered(&self) -> Vec<&Entry> {
        self.order(&self.entries.keys().cloned().collect())
    }

    /// The given revisions, parents before children, ties broken by revision id.
    pub fn order(&self, revisions: &BTreeSet<String>) -> Vec<&Entry> {
        let known: BTreeSet<String> = revisions
            .iter()
            .filter(|r| self.entries.contains_key(*r))
            .cloned()
            .collect();
        migration::topological_order(&known, |id| self.entries[id].file.parents.clone())
            .iter()
            .map(|id| &self.entries[id])
            .collect()
    }

    /// The schema after applying every ancestor of `heads`, in graph order.
    pub fn replay(&self, heads: &[&str]) -> Result<Schema, Error> {
        let mut all = BTreeSet::new();
        for h in heads {
            all.extend(self.ancestors(h));
        }
        let mut schema = Schema::new();
        for entry in self.order(&all) {
            apply_all(&entry.file.up, &mut schema).map_err(|(op, message)| Error::Replay {
                revision: entry.file.revision.clone(),
                path: entry.path.clone(),
                operation: op,
                message,
            })?;
        }
        Ok(schema)
    }
}

fn apply_all(ops: &[Op], schema: &mut Schema) -> Result<(), (String, String)> {
    for op in ops {
        op.apply(schema).map_err(|e| (op.describe(), e.message))?;
    }
    Ok(())
}
