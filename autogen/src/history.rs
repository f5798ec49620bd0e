//! The migration history on disk: files → revision graph → schema at the head(s).
//!
//! A graph, not a sorted list: each migration names its parents, so two branches
//! that each added a migration show up as two heads after a git merge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use retort_schema::graph::RevisionGraph;
use retort_schema::migration::{self, MigrationFile};
use retort_schema::ops::Op;
use retort_schema::Schema;

use crate::Error;

/// A migration file on disk: where it is and what it says.
#[derive(Debug, Clone)]
pub struct MigrationOnDisk {
    /// Where it is.
    pub path: PathBuf,
    /// What it says.
    pub file: MigrationFile,
}

/// Every migration of a crate, by revision.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Migrations keyed by revision id.
    pub entries: BTreeMap<String, MigrationOnDisk>,
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
            let file = migration::parse_file(&text).map_err(|source| Error::Migration {
                path: path.clone(),
                source,
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
                .insert(file.revision.clone(), MigrationOnDisk { path, file });
        }
        history.check_graph()?;
        Ok(history)
    }

    /// The graph's shape, built in O(revisions + links) (the history can change between
    /// calls: a merge or a new migration is added to it).
    fn shape(&self) -> RevisionGraph {
        RevisionGraph::new(self.entries.values().map(|e| {
            (
                e.file.revision.as_str(),
                e.file.parents.iter().map(String::as_str),
            )
        }))
    }

    fn entry(&self, shape: &RevisionGraph, i: usize) -> &MigrationOnDisk {
        &self.entries[shape.id(i)]
    }

    fn check_graph(&self) -> Result<(), Error> {
        let shape = self.shape();
        if let Some((revision, parent)) = shape.missing_parents().next() {
            return Err(Error::MissingParent {
                revision: revision.to_string(),
                parent: parent.to_string(),
                path: self.entries[revision].path.clone(),
            });
        }
        // Kahn's algorithm: whatever cannot be ordered sits on a cycle.
        let cycle = shape.on_cycle();
        if !cycle.is_empty() {
            return Err(Error::Cycle {
                revisions: cycle
                    .iter()
                    .map(|id| format!("{id} ({})", self.entries[*id].path.display()))
                    .collect(),
            });
        }
        Ok(())
    }

    /// Revisions no other revision names as a parent.
    pub fn heads(&self) -> Vec<&MigrationOnDisk> {
        let shape = self.shape();
        shape
            .heads()
            .into_iter()
            .map(|i| self.entry(&shape, i))
            .collect()
    }

    /// `revision` and everything it descends from.
    pub fn ancestors(&self, revision: &str) -> BTreeSet<String> {
        let shape = self.shape();
        let Some(i) = shape.index_of(revision) else {
            return BTreeSet::new();
        };
        let mask = shape.ancestors_mask([i]);
        shape.ids_in(&mask).map(str::to_string).collect()
    }

    /// Every migration, parents before children.
    pub fn ordered(&self) -> Vec<&MigrationOnDisk> {
        let shape = self.shape();
        shape
            .order()
            .iter()
            .map(|&i| self.entry(&shape, i))
            .collect()
    }

    /// The given revisions, parents before children, ties broken by revision id.
    pub fn order(&self, revisions: &BTreeSet<String>) -> Vec<&MigrationOnDisk> {
        let shape = self.shape();
        let mask = shape.mask_of(revisions.iter().map(String::as_str));
        shape
            .ordered(&mask)
            .into_iter()
            .map(|i| self.entry(&shape, i))
            .collect()
    }

    /// The schema at the head(s): every migration, replayed once in graph order.
    pub fn head_schema(&self) -> Result<Schema, Error> {
        let heads: Vec<&str> = self.entries.keys().map(String::as_str).collect();
        self.replay(&heads)
    }

    /// The schema after applying every ancestor of `heads`, in graph order: one pass.
    pub fn replay(&self, heads: &[&str]) -> Result<Schema, Error> {
        let shape = self.shape();
        let mask = shape.ancestors_mask(heads.iter().filter_map(|h| shape.index_of(h)));
        let mut schema = Schema::new();
        for i in shape.ordered(&mask) {
            let entry = self.entry(&shape, i);
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
