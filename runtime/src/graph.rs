//! The revision graph: heads, ancestry, revision arguments, and the order to apply in.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Result};
use crate::migration::{DataMigrationFn, Migrations};
use crate::schema::migration::{self, MigrationFile};
use crate::schema::ops::Op;
use crate::schema::sql::{self, Dialect, Step};
use crate::schema::Schema;

/// One revision the runner can apply.
#[derive(Debug, Clone)]
pub struct Revision {
    /// The migration.
    pub file: MigrationFile,
    /// Its checksum.
    pub checksum: String,
    /// The functions `run(…)` names.
    pub functions: Vec<(String, DataMigrationFn)>,
}

impl Revision {
    /// A revision from a parsed file (for tests and tools; no Rust functions).
    pub fn from_file(file: MigrationFile) -> Revision {
        Revision {
            checksum: file.checksum(),
            file,
            functions: Vec::new(),
        }
    }

    /// The id.
    pub fn id(&self) -> &str {
        &self.file.revision
    }

    /// The steps of each of `ops` (this revision's up or down) on a database whose schema is
    /// `schema`, which is then advanced past them.
    pub fn render_ops(
        &self,
        ops: &[Op],
        schema: &mut Schema,
        dialect: Dialect,
    ) -> Result<Vec<Vec<Step>>> {
        let error = |message| Error::Render {
            revision: self.id().into(),
            message,
        };
        sql::render_ops(ops, schema, dialect).map_err(|e| error(e.message))
    }
}

/// Every revision of an application, as a graph.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    revisions: BTreeMap<String, Revision>,
    /// The models' schema the build saw, if it recorded it.
    pub models: Option<Schema>,
}

impl Graph {
    /// The graph of compiled migrations.
    pub fn from_migrations(migrations: &Migrations) -> Graph {
        let revisions = migrations
            .all()
            .iter()
            .map(|m| {
                let r = Revision {
                    file: m.file(),
                    checksum: m.checksum.to_string(),
                    functions: m
                        .functions
                        .iter()
                        .map(|(n, f)| (n.to_string(), *f))
                        .collect(),
                };
                (m.revision.to_string(), r)
            })
            .collect();
        Graph {
            revisions,
            models: migrations.models(),
        }
    }

    /// A graph of revisions built at run time (tests, tools).
    pub fn from_revisions(list: impl IntoIterator<Item = Revision>) -> Graph {
        Graph {
            revisions: list.into_iter().map(|r| (r.id().to_string(), r)).collect(),
            models: None,
        }
    }

    /// The revision with this id.
    pub fn get(&self, id: &str) -> Option<&Revision> {
        self.revisions.get(id)
    }

    /// Whether a revision is known.
    pub fn contains(&self, id: &str) -> bool {
        self.revisions.contains_key(id)
    }

    /// All revisions, parents before children.
    pub fn all_ordered(&self) -> Vec<&Revision> {
        self.order(&self.revisions.keys().cloned().collect())
    }

    /// Revisions that are nobody's parent.
    pub fn heads(&self) -> Vec<String> {
        migration::heads(
            self.revisions
                .values()
                .map(|r| (r.id(), r.file.parents.as_slice())),
        )
    }

    /// The single head, or an error naming all of them.
    pub fn single_head(&self) -> Result<Option<String>> {
        let heads = self.heads();
        match heads.len() {
            0 => Ok(None),
            1 => Ok(heads.into_iter().next()),
            _ => Err(Error::MultipleHeads { heads }),
        }
    }

    /// `id` and everything it descends from.
    pub fn ancestors(&self, id: &str) -> BTreeSet<String> {
        migration::ancestors(id, |r| {
            self.revisions.get(r).map(|rev| rev.file.parents.as_slice())
        })
    }

    /// Every revision below the head(s): what a database at head has applied.
    pub fn all_heads_ancestry(&self) -> BTreeSet<String> {
        self.heads()
            .iter()
            .flat_map(|h| self.ancestors(h))
            .collect()
    }

    /// The schema at the head(s).
    pub fn head_schema(&self) -> Result<Schema> {
        self.schema_at(&self.all_heads_ancestry())
    }

    /// The given revisions, parents first, ties by id.
    pub fn order(&self, ids: &BTreeSet<String>) -> Vec<&Revision> {
        let known: BTreeSet<String> = ids
            .iter()
            .filter(|id| self.revisions.contains_key(*id))
            .cloned()
            .collect();
        migration::topological_order(&known, |id| self.revisions[id].file.parents.clone())
            .iter()
            .map(|id| &self.revisions[id])
            .collect()
    }

    /// The heads of an applied set: applied revisions no applied revision descends from.
    pub fn current(&self, applied: &BTreeSet<String>) -> Vec<String> {
        let parents: BTreeSet<&String> = applied
            .iter()
            .filter_map(|a| self.revisions.get(a))
            .flat_map(|r| &r.file.parents)
            .collect();
        applied
            .iter()
            .filter(|a| !parents.contains(a))
            .cloned()
            .collect()
    }

    /// The schema after the given revisions (parents first).
    pub fn schema_at(&self, applied: &BTreeSet<String>) -> Result<Schema> {
        let mut schema = Schema::new();
        for r in self.order(applied) {
            apply_ops(&r.file.up, &mut schema).map_err(|message| Error::Render {
                revision: r.id().into(),
                message,
            })?;
        }
        Ok(schema)
    }

    /// Resolves a revision argument: a full id or a unique prefix, `head`, `base`.
    /// `base` resolves to `None`.
    pub fn resolve(&self, text: &str) -> Result<Option<String>> {
        match text {
            "base" => return Ok(None),
            "head" => {
                return self.single_head().and_then(|h| {
                    h.map(Some)
                        .ok_or_else(|| Error::NoSuchRevision("head".into()))
                })
            }
            _ => {}
        }
        if self.revisions.contains_key(text) {
            return Ok(Some(text.to_string()));
        }
        let matches: Vec<String> = self
            .revisions
            .keys()
            .filter(|k| k.starts_with(text))
            .cloned()
            .collect();
        match matches.len() {
            0 => Err(Error::NoSuchRevision(text.to_string())),
            1 => Ok(matches.into_iter().next()),
            _ => Err(Error::AmbiguousRevision {
                prefix: text.to_string(),
                matches,
            }),
        }
    }
}

pub(crate) fn apply_ops(ops: &[Op], schema: &mut Schema) -> std::result::Result<(), String> {
    for op in ops {
        op.apply(schema).map_err(|e| e.message)?;
    }
    Ok(())
}

/// Revisions for messages: `a, b`, or `base` when there are none.
pub fn revisions_or_base(ids: &[String]) -> String {
    if ids.is_empty() {
        "base".into()
    } else {
        ids.join(", ")
    }
}
