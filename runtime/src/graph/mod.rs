//! The revision graph: heads, ancestry, revision arguments, and the order to apply in.
//!
//! Built once per run in O(revisions + links); the operations of a compiled migration are
//! decoded only when something needs them (a replay, an upgrade step), so a start-up at head
//! touches ids and checksums only.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::OnceLock;

pub(crate) mod plan;

use crate::error::{Error, Result};
use crate::migration::{CompiledMigration, DataMigrationFn, Migrations};
use retort_schema::graph::Shape;
use retort_schema::migration::{ChecksumCheck, MigrationFile};
use retort_schema::ops::Op;
use retort_schema::sql::{self, Dialect, Step};
use retort_schema::Schema;

/// The old name of [`Revision`].
#[deprecated(since = "0.1.0", note = "renamed to `Revision` (see docs/naming.md)")]
pub type Migration = Revision;

/// One revision the runner can apply.
#[derive(Debug, Clone)]
pub struct Revision {
    source: Source,
    /// Parents as the graph sees them, where a checkpoint took the place of one the file
    /// names (see [`retort_schema::checkpoint`]).
    parents_resolved: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
enum Source {
    /// Compiled by `migration!`: borrowed from the binary; operations built when used and
    /// dropped after (an upgrade of N migrations never holds all N at once).
    Compiled {
        migration: &'static CompiledMigration,
    },
    /// Parsed at run time (tests, tools), with the functions given to it.
    Parsed {
        file: Box<MigrationFile>,
        checksum: String,
        functions: Vec<(String, DataMigrationFn)>,
    },
}

impl Revision {
    /// A revision from a parsed file (for tests and tools; Rust functions are added with
    /// [`Migration::with_function`]).
    pub fn from_file(file: MigrationFile) -> Revision {
        Revision {
            source: Source::Parsed {
                checksum: file.checksum(),
                file: Box::new(file),
                functions: Vec::new(),
            },
            parents_resolved: None,
        }
    }

    /// Gives a parsed revision the function its `run(name)` step calls. (A compiled
    /// migration has its functions already.)
    pub fn with_function(mut self, name: &str, function: DataMigrationFn) -> Revision {
        if let Source::Parsed { functions, .. } = &mut self.source {
            functions.push((name.to_string(), function));
        }
        self
    }

    /// A revision compiled by `migration!` (nothing is copied or decoded).
    pub fn from_migration(migration: &'static CompiledMigration) -> Revision {
        Revision {
            source: Source::Compiled { migration },
            parents_resolved: None,
        }
    }

    /// The id.
    pub fn id(&self) -> &str {
        match &self.source {
            Source::Compiled { migration } => migration.revision,
            Source::Parsed { file, .. } => &file.revision,
        }
    }

    /// The parents' ids.
    pub fn parents(&self) -> impl Iterator<Item = &str> + '_ {
        let (compiled, parsed) = match (&self.parents_resolved, &self.source) {
            (Some(resolved), _) => (None, Some(resolved.iter().map(String::as_str))),
            (None, Source::Compiled { migration }) => {
                (Some(migration.parents.iter().copied()), None)
            }
            (None, Source::Parsed { file, .. }) => {
                (None, Some(file.parents.iter().map(String::as_str)))
            }
        };
        compiled
            .into_iter()
            .flatten()
            .chain(parsed.into_iter().flatten())
    }

    /// The revisions this checkpoint replaces (empty for any other migration).
    pub fn replaces(&self) -> Vec<&str> {
        match &self.source {
            Source::Compiled { migration } => migration.replaces.to_vec(),
            Source::Parsed { file, .. } => file.replaces.iter().map(String::as_str).collect(),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        match &self.source {
            Source::Compiled { migration } => migration.message,
            Source::Parsed { file, .. } => &file.message,
        }
    }

    /// The checksum of the operations (see [`MigrationFile::checksum`]).
    pub fn checksum(&self) -> &str {
        match &self.source {
            Source::Compiled { migration } => migration.checksum,
            Source::Parsed { checksum, .. } => checksum,
        }
    }

    /// How a version row's checksum compares with this revision's: the current algorithm's,
    /// or one an earlier retort version recorded for the same file.
    pub(crate) fn check_recorded(&self, recorded: &str) -> ChecksumCheck {
        let earlier: &[&str] = match &self.source {
            Source::Compiled { migration } => migration.earlier_checksums,
            Source::Parsed { .. } => &[],
        };
        if recorded == self.checksum() {
            ChecksumCheck::Matches
        } else if earlier.contains(&recorded) {
            ChecksumCheck::MatchesOlderVersion
        } else {
            ChecksumCheck::Differs
        }
    }

    /// The upgrade operations.
    pub fn up(&self) -> Cow<'_, [Op]> {
        match &self.source {
            Source::Compiled { migration } => Cow::Owned(migration.up()),
            Source::Parsed { file, .. } => Cow::Borrowed(&file.up),
        }
    }

    /// The downgrade operations.
    pub fn down(&self) -> Cow<'_, [Op]> {
        match &self.source {
            Source::Compiled { migration } => Cow::Owned(migration.down()),
            Source::Parsed { file, .. } => Cow::Borrowed(&file.down),
        }
    }

    /// The migration as the schema crate models it.
    pub fn file(&self) -> MigrationFile {
        MigrationFile {
            revision: self.id().to_string(),
            parents: self.parents().map(str::to_string).collect(),
            message: self.message().to_string(),
            up: self.up().into_owned(),
            down: self.down().into_owned(),
            atomic: self.atomic(),
            reviewed_locks: Vec::new(),
            replaces: self.replaces().into_iter().map(str::to_string).collect(),
            elidable: false,
        }
    }

    /// Whether it runs in one transaction where the database allows (see
    /// [`CompiledMigration::atomic`]).
    pub fn atomic(&self) -> bool {
        match &self.source {
            Source::Compiled { migration } => migration.atomic,
            Source::Parsed { file, .. } => file.atomic,
        }
    }

    /// The function `run(name)` refers to.
    pub fn function(&self, name: &str) -> Option<DataMigrationFn> {
        match &self.source {
            Source::Compiled { migration } => migration.function(name),
            Source::Parsed { functions, .. } => {
                functions.iter().find(|(n, _)| n == name).map(|(_, f)| *f)
            }
        }
    }

    /// The steps of each of `ops` (this revision's up or down) on a database whose schema is
    /// `schema`, which is then advanced past them.
    pub fn render_ops(
        &self,
        ops: &[Op],
        schema: &mut Schema,
        dialect: Dialect,
    ) -> Result<Vec<Vec<Step>>> {
        sql::render_ops(ops, schema, dialect).map_err(|e| Error::Render {
            revision: self.id().into(),
            source: Box::new(e),
        })
    }

    /// Advances `schema` past this revision's upgrade, `ops` (from [`Migration::up`]).
    pub(crate) fn replay_onto(&self, ops: &[Op], schema: &mut Schema) -> Result<()> {
        for op in ops {
            op.apply(schema).map_err(|e| Error::Render {
                revision: self.id().into(),
                source: Box::new(e),
            })?;
        }
        Ok(())
    }
}

/// Every revision of an application, as a graph.
///
/// Cheap to build: the compiled migrations are borrowed, sorted by id (they usually are),
/// and the links between them are worked out only when something needs them (planning,
/// history), not by a start-up that finds the database at head.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// Sorted by id, without duplicates; index `i` is index `i` of `shape`.
    revisions: Vec<Revision>,
    shape: OnceLock<Shape>,
    heads: OnceLock<Vec<String>>,
    models_of: Option<Migrations>,
    models: OnceLock<Option<Schema>>,
    /// Revisions replaced by a checkpoint whose files are gone → that checkpoint.
    replaced: std::collections::BTreeMap<String, String>,
}

impl Graph {
    /// The graph of compiled migrations.
    pub fn from_migrations(migrations: &Migrations) -> Graph {
        let mut graph =
            Graph::from_revisions(migrations.all().iter().map(|m| Revision::from_migration(m)));
        graph.models_of = Some(*migrations);
        if let Some(heads) = migrations.heads() {
            let mut heads: Vec<String> = heads.iter().map(|h| h.to_string()).collect();
            heads.sort();
            let _ = graph.heads.set(heads);
        }
        graph
    }

    /// A graph of revisions built at run time (tests, tools). A repeated id keeps the first.
    pub fn from_revisions(list: impl IntoIterator<Item = Revision>) -> Graph {
        let mut revisions: Vec<Revision> = list.into_iter().collect();
        retort_schema::order::sort_by_text(&mut revisions, Revision::id);
        revisions.dedup_by(|later, first| later.id() == first.id());
        let mut replaced = std::collections::BTreeMap::new();
        if revisions.iter().any(|r| !r.replaces().is_empty()) {
            let checkpoints = retort_schema::checkpoint::Checkpoints::of(
                revisions.iter().map(|r| (r.id(), r.replaces())),
            );
            // In their transition, checkpoints stay out: databases go through the files
            // they replace (which the build proved equal to them).
            revisions.retain(|r| !checkpoints.set_aside.contains(r.id()));
            for r in &mut revisions {
                r.parents_resolved = checkpoints.resolve_parents(r.parents());
            }
            replaced = checkpoints.aliases;
        }
        Graph {
            revisions,
            shape: OnceLock::new(),
            heads: OnceLock::new(),
            models_of: None,
            models: OnceLock::new(),
            replaced,
        }
    }

    /// The parent/child links, worked out on first use in O(revisions + links).
    fn shape(&self) -> &Shape {
        self.shape
            .get_or_init(|| Shape::new(self.revisions.iter().map(|r| (r.id(), r.parents()))))
    }

    /// The checkpoint that took this revision's place, if a checkpoint replaces it and its
    /// file is gone.
    pub fn replaced_by(&self, id: &str) -> Option<&str> {
        self.replaced.get(id).map(String::as_str)
    }

    /// Whether some revision was replaced by a checkpoint.
    pub(crate) fn has_replaced(&self) -> bool {
        !self.replaced.is_empty()
    }

    /// How many revisions.
    pub fn len(&self) -> usize {
        self.revisions.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.revisions.is_empty()
    }

    /// The models' schema the build saw, if it recorded it (decoded on first use).
    pub fn models(&self) -> Option<&Schema> {
        self.models
            .get_or_init(|| self.models_of.and_then(|m| m.models()))
            .as_ref()
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.revisions.binary_search_by(|r| r.id().cmp(id)).ok()
    }

    /// The revision with this id, trying `hint` (an index) first: version rows come back in
    /// the order they were written, which is nearly always the id order, so a walk that
    /// passes the previous index + 1 makes one comparison per row instead of a search.
    pub(crate) fn get_near(&self, id: &str, hint: usize) -> Option<(usize, &Revision)> {
        if let Some(r) = self.revisions.get(hint) {
            if r.id() == id {
                return Some((hint, r));
            }
        }
        self.position(id).map(|i| (i, &self.revisions[i]))
    }

    /// The revision with this id.
    pub fn get(&self, id: &str) -> Option<&Revision> {
        self.position(id).map(|i| &self.revisions[i])
    }

    /// Whether a revision is known.
    pub fn contains(&self, id: &str) -> bool {
        self.position(id).is_some()
    }

    /// The ids of the revisions that name `id` as a parent.
    pub fn children(&self, id: &str) -> Vec<&str> {
        let shape = self.shape();
        self.position(id)
            .map(|i| shape.children(i).iter().map(|&c| shape.id(c)).collect())
            .unwrap_or_default()
    }

    /// All revisions, parents before children.
    pub fn all_ordered(&self) -> Vec<&Revision> {
        self.shape()
            .order()
            .iter()
            .map(|&i| &self.revisions[i])
            .collect()
    }

    /// Revisions that are nobody's parent (without working out the links: a start-up at
    /// head asks this).
    pub fn heads(&self) -> Vec<String> {
        self.heads
            .get_or_init(|| {
                let parents: std::collections::HashSet<&str> =
                    self.revisions.iter().flat_map(Revision::parents).collect();
                self.revisions
                    .iter()
                    .filter(|r| !parents.contains(r.id()))
                    .map(|r| r.id().to_string())
                    .collect()
            })
            .clone()
    }

    fn ids(&self, indexes: Vec<usize>) -> Vec<String> {
        indexes
            .into_iter()
            .map(|i| self.revisions[i].id().to_string())
            .collect()
    }

    fn set(&self, mask: &[bool]) -> BTreeSet<String> {
        self.shape().ids_in(mask).map(str::to_string).collect()
    }

    fn mask(&self, ids: &BTreeSet<String>) -> Vec<bool> {
        self.shape().mask_of(ids.iter().map(String::as_str))
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

    /// `id` and everything it descends from (empty for an unknown id).
    pub fn ancestors(&self, id: &str) -> BTreeSet<String> {
        match self.position(id) {
            Some(i) => self.set(&self.shape().ancestors_mask([i])),
            None => BTreeSet::new(),
        }
    }

    /// Every revision below the head(s): what a database at head has applied.
    pub fn all_heads_ancestry(&self) -> BTreeSet<String> {
        self.set(&self.heads_ancestry_mask())
    }

    /// Which revisions are below the head(s), by position.
    fn heads_ancestry_mask(&self) -> Vec<bool> {
        let shape = self.shape();
        shape.ancestors_mask(shape.heads())
    }

    /// The schema at the head(s).
    pub fn head_schema(&self) -> Result<Schema> {
        self.schema_at(&self.all_heads_ancestry())
    }

    /// The given revisions, parents first, ties by id; unknown ids are left out.
    pub fn order(&self, ids: &BTreeSet<String>) -> Vec<&Revision> {
        self.in_order(&self.mask(ids))
    }

    /// [`Graph::ancestors`] in [`Graph::order`]'s order, without a set of id strings
    /// between the two (an upgrade's plan: at N=200 that set cost 180 000 instructions).
    pub(crate) fn ordered_ancestors(&self, id: &str) -> Vec<&Revision> {
        match self.position(id) {
            Some(i) => self.in_order(&self.shape().ancestors_mask([i])),
            None => Vec::new(),
        }
    }

    /// [`Graph::all_heads_ancestry`] in [`Graph::order`]'s order.
    pub(crate) fn ordered_heads_ancestry(&self) -> Vec<&Revision> {
        self.in_order(&self.heads_ancestry_mask())
    }

    fn in_order(&self, mask: &[bool]) -> Vec<&Revision> {
        self.shape()
            .ordered(mask)
            .into_iter()
            .map(|i| &self.revisions[i])
            .collect()
    }

    /// The heads of an applied set: applied revisions no applied revision descends from.
    pub fn current(&self, applied: &BTreeSet<String>) -> Vec<String> {
        if applied.len() == self.len() && self.revisions.iter().all(|r| applied.contains(r.id())) {
            // Everything applied: the current revisions are the heads.
            return self.heads();
        }
        self.ids(self.shape().tips(&self.mask(applied)))
    }

    /// The schema after the given revisions (parents first), in one replay.
    pub fn schema_at(&self, applied: &BTreeSet<String>) -> Result<Schema> {
        let mut schema = Schema::new();
        for r in self.order(applied) {
            r.replay_onto(&r.up(), &mut schema)?;
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
        if self.contains(text) {
            return Ok(Some(text.to_string()));
        }
        // Ids are sorted: the ones starting with `text` are one contiguous run.
        let start = self.revisions.partition_point(|r| r.id() < text);
        let matches: Vec<String> = self.revisions[start..]
            .iter()
            .take_while(|r| r.id().starts_with(text))
            .map(|r| r.id().to_string())
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

/// Revisions for messages: `a, b`, or `base` when there are none.
pub fn revisions_or_base<S: AsRef<str>>(ids: &[S]) -> String {
    if ids.is_empty() {
        "base".into()
    } else {
        ids.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(", ")
    }
}
