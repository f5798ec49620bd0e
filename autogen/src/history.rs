//! The migration history on disk: files → revision graph → schema at the head(s).
//!
//! A graph, not a sorted list: each migration names its parents, so two branches
//! that each added a migration show up as two heads after a git merge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use retort_schema::checkpoint::Checkpoints;
use retort_schema::graph::Shape;
use retort_schema::migration::{self, MigrationFile};
use retort_schema::ops::Op;
use retort_schema::Schema;

use crate::error::Error;

/// The old name of [`Entry`].
#[deprecated(
    since = "0.1.0",
    note = "renamed to `history::Entry` (see docs/naming.md)"
)]
pub type MigrationOnDisk = Entry;

/// A migration file on disk: where it is and what it says.
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
    /// Migrations keyed by revision id. A checkpoint whose replaced files are gone is here
    /// in their place (the parents that named them name it); one whose files remain is in
    /// `set_aside`.
    pub entries: BTreeMap<String, Entry>,
    /// Checkpoints in their transition: every revision they replace is still here. Proven
    /// equal to those revisions at load, compiled into the app, and not in the graph.
    pub set_aside: BTreeMap<String, Entry>,
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
                .insert(file.revision.clone(), Entry { path, file });
        }
        history.resolve_checkpoints()?;
        history.check_graph()?;
        history.prove_checkpoints()?;
        Ok(history)
    }

    /// Sets aside the checkpoints whose files all remain, and puts the others in the place
    /// of the revisions they replace (see [`retort_schema::checkpoint`]).
    fn resolve_checkpoints(&mut self) -> Result<(), Error> {
        if self.entries.values().all(|e| e.file.replaces.is_empty()) {
            return Ok(());
        }
        let checkpoints = Checkpoints::of(self.entries.values().map(|e| {
            (
                e.file.revision.as_str(),
                e.file.replaces.iter().map(String::as_str).collect(),
            )
        }));
        if let Some((checkpoint, remaining)) = checkpoints.partial.first() {
            return Err(Error::CheckpointPartial {
                checkpoint: checkpoint.clone(),
                path: self.entries[checkpoint].path.clone(),
                remaining: remaining
                    .iter()
                    .map(|r| {
                        self.entries
                            .get(r)
                            .map_or_else(|| r.clone(), |e| e.path.display().to_string())
                    })
                    .collect(),
            });
        }
        for id in &checkpoints.set_aside {
            if let Some(e) = self.entries.remove(id) {
                self.set_aside.insert(id.clone(), e);
            }
        }
        for e in self.entries.values_mut() {
            if let Some(parents) =
                checkpoints.resolve_parents(e.file.parents.iter().map(String::as_str))
            {
                e.file.parents = parents;
            }
        }
        Ok(())
    }

    /// Each checkpoint in its transition builds exactly what the revisions it replaces
    /// build, and lists all of them.
    fn prove_checkpoints(&self) -> Result<(), Error> {
        for c in self.set_aside.values() {
            let stands_for = c
                .file
                .replaces
                .last()
                .map(String::as_str)
                .unwrap_or_default();
            let listed: BTreeSet<&str> = c.file.replaces.iter().map(String::as_str).collect();
            let missing: Vec<String> = self
                .ancestors(stands_for)
                .into_iter()
                .filter(|a| !listed.contains(a.as_str()))
                .collect();
            if !missing.is_empty() {
                return Err(Error::CheckpointMismatch {
                    checkpoint: c.file.revision.clone(),
                    path: c.path.clone(),
                    message: format!(
                        "it does not list {} among the revisions it replaces, though {stands_for} descends from {}",
                        missing.join(", "),
                        if missing.len() == 1 { "it" } else { "them" }
                    ),
                });
            }
            let replayed = self.replay(&[stands_for])?;
            let mut built = Schema::new();
            apply_all(&c.file.up, &mut built).map_err(|(op, message)| Error::Replay {
                revision: c.file.revision.clone(),
                path: c.path.clone(),
                operation: op,
                message,
            })?;
            if built != replayed {
                return Err(Error::CheckpointMismatch {
                    checkpoint: c.file.revision.clone(),
                    path: c.path.clone(),
                    message: format!(
                        "it does not build what {stands_for} and its ancestors build ({})",
                        crate::snapshot::first_difference(&built, &replayed)
                    ),
                });
            }
        }
        Ok(())
    }

    /// The graph's shape, built in O(revisions + links) (the history can change between
    /// calls: a merge or a new migration is added to it).
    fn shape(&self) -> Shape {
        Shape::new(self.entries.values().map(|e| {
            (
                e.file.revision.as_str(),
                e.file.parents.iter().map(String::as_str),
            )
        }))
    }

    fn entry(&self, shape: &Shape, i: usize) -> &Entry {
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
    pub fn heads(&self) -> Vec<&Entry> {
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
    pub fn ordered(&self) -> Vec<&Entry> {
        let shape = self.shape();
        shape
            .order()
            .iter()
            .map(|&i| self.entry(&shape, i))
            .collect()
    }

    /// The given revisions, parents before children, ties broken by revision id.
    pub fn order(&self, revisions: &BTreeSet<String>) -> Vec<&Entry> {
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
