//! Taking over a database the runner did not make: one made before migrations (adopted at
//! the latest revision whose schema it equals), and one another migration tool kept
//! (`db adopt --from <tool>`: its table read, its state checked, the schema compared with the
//! head exactly, a baseline recorded, its table left in place).

use std::collections::BTreeSet;
use std::path::Path;

use super::Runner;
use crate::backend::{AppliedRow, RowState};
use crate::compare;
use crate::error::{Error, Result};
use crate::graph::plan::app_schemas;
use crate::graph::Revision;
use crate::tools::{Tool, ToolState};
use retort_schema::ops::Op;
use retort_schema::Schema;

impl Runner<'_> {
    /// Takes over a database kept by another migration tool: reads `tool`'s version table
    /// (refusing when it records a failed or dirty migration, or, given the tool's
    /// migrations folder `old_dir`, when some of them were never applied), checks that the
    /// schema without that table equals a revision of this build exactly — the head, or the
    /// latest earlier one it equals, where an app ported at the other tool's last migration
    /// has gone on since — and records the history up to it as adopted. The other table stays where it is; `check`
    /// leaves it alone. Refuses, changing nothing, with the exact differences otherwise.
    /// Returns the head it recorded. In a build without the `introspect` feature (on by
    /// default) it returns [`Error::NotInBuild`].
    pub fn adopt_from(&mut self, tool: Tool, old_dir: Option<&Path>) -> Result<Vec<String>> {
        crate::error::introspection("adopting a database from another migration tool")?;
        self.refuse_read_only("adopt")?;
        // Read the other tool's files before taking the lock.
        let files = match old_dir {
            Some(dir) => Some(tool.versions_in(dir)?),
            None => None,
        };
        self.enter()?;
        let result = (|| {
            if self.backend.version_table_exists()? && !self.backend.applied()?.is_empty() {
                return Err(Error::AdoptFromRefused {
                    tool: tool.name().into(),
                    reason: "the database already has retort version rows; it needs no adopting (`db current` shows where it stands)".into(),
                });
            }
            let live = self.live_app_schema()?;
            self.take_over(tool, files.as_ref(), live)
        })();
        match result {
            Ok(current) => {
                self.leave()?;
                Ok(current)
            }
            Err(e) => self.abort(e),
        }
    }

    /// The live schema, without tables of another PostgreSQL schema the migrations do not
    /// use (another app's).
    pub(super) fn live_app_schema(&mut self) -> Result<Schema> {
        let mut live = self.backend.introspect()?;
        let schemas = app_schemas(self.graph);
        live.tables.retain(|name, _| {
            retort_schema::sql::split_schema(name)
                .0
                .is_none_or(|s| schemas.contains(s))
        });
        Ok(live)
    }

    /// Inside the lock, without retort rows: the checks and the baseline of
    /// [`Runner::adopt_from`].
    pub(super) fn take_over(
        &mut self,
        tool: Tool,
        files: Option<&BTreeSet<String>>,
        mut live: Schema,
    ) -> Result<Vec<String>> {
        let refused = |reason: String| Error::AdoptFromRefused {
            tool: tool.name().into(),
            reason,
        };
        let table = tool.table();
        let Some(found) = live.tables.remove(table) else {
            return Err(refused(format!(
                "the database has no `{table}` table, so {tool} did not keep it (or keeps its table elsewhere); pick the tool that made it, or `db stamp` it by hand if you know where it stands"
            )));
        };
        if tool == Tool::GolangMigrate && found.column("dirty").is_none() {
            return Err(refused(format!(
                "`{table}` has no `dirty` column, so it is not golang-migrate's (Rails and others use the same name)"
            )));
        }
        let sql = tool.rows_query(self.backend.catalog().text_cast());
        let rows = crate::backend::text_pairs(self.backend.connection(), &sql).map_err(
            crate::backend::db_err("cannot read the other tool's version table"),
        )?;
        let state = ToolState::from_rows(tool, rows);
        if !state.failed.is_empty() {
            return Err(refused(format!(
                "{tool} records migration {} as failed or dirty in `{table}`: the schema is half-changed. Repair it with {tool} first (finish or revert that migration and clear the mark), then adopt",
                state.failed.join(", ")
            )));
        }
        if state.applied.is_empty() {
            return Err(refused(format!(
                "`{table}` records no applied migration; there is nothing {tool} applied to take over"
            )));
        }
        if let Some(files) = files {
            let pending = pending(tool, &state, files);
            if !pending.is_empty() {
                return Err(refused(format!(
                    "{tool} has migrations that were never applied here: {}. Apply them with {tool} (or remove them if they are abandoned), then adopt",
                    pending.join(", ")
                )));
            }
        }
        let (current, at_head) = self.adopt_at_latest_match(&live)?;
        (self.log)(&format!(
            "adopted the database from {tool} (latest version {}, {} applied) at {}{}; `{table}` was left as it is and `check` leaves it out",
            state.latest().unwrap_or("?"),
            state.applied.len(),
            current.join(", "),
            if at_head { " (head)" } else { "; the later migrations are applied by `db upgrade`" }
        ));
        Ok(current)
    }

    /// Records the history up to the latest revision whose schema `live` equals exactly as
    /// adopted, or refuses with the differences against the head (compared as the match
    /// was sought). Returns where that leaves the database, and whether it is the head.
    fn adopt_at_latest_match(&mut self, live: &Schema) -> Result<(Vec<String>, bool)> {
        let Some(count) = self.matching_prefix(live)? else {
            let head = self.graph.head_schema()?;
            return Err(Error::AdoptionRefused {
                differences: retort_schema::compare::differences(
                    &head,
                    live,
                    &self.backend.catalog(),
                ),
            });
        };
        let current = self.record_adopted(count)?;
        Ok((current, count == self.graph.len()))
    }

    /// Records the first `count` revisions in graph order as adopted; returns where that
    /// leaves the database.
    fn record_adopted(&mut self, count: usize) -> Result<Vec<String>> {
        self.backend.ensure_version_table()?;
        let order = self.graph.all_ordered();
        for rev in &order[..count] {
            self.backend
                .record(&AppliedRow::for_revision(rev, RowState::Adopted, 0))?;
        }
        let set: BTreeSet<String> = order[..count]
            .iter()
            .map(|r: &&Revision| r.id().to_string())
            .collect();
        Ok(self.graph.current(&set))
    }

    /// How many revisions, in graph order, lead to the latest point whose schema the live
    /// one equals exactly (as the catalog tells), if any.
    ///
    /// One replay in graph order, compared as it goes: each step looks again only at the
    /// tables its operations changed.
    fn matching_prefix(&mut self, live: &Schema) -> Result<Option<usize>> {
        let catalog = self.backend.catalog();
        let order = self.graph.all_ordered();
        let mut schema = Schema::new();
        let mut convergence = compare::Convergence::new(&schema, live, catalog);
        let mut matching = None;
        for (n, rev) in order.iter().enumerate() {
            let ops = rev.up();
            rev.replay_onto(&ops, &mut schema)?;
            // A rename also rewrites foreign keys elsewhere: look at everything then.
            if ops
                .iter()
                .any(|op| matches!(op, Op::RenameTable { .. } | Op::RenameColumn { .. }))
            {
                convergence.recheck_all(&schema);
            } else {
                convergence.recheck(&schema, ops.iter().filter_map(Op::table));
            }
            if convergence.converged() {
                matching = Some(n + 1);
            }
        }
        Ok(matching)
    }

    /// A database made before migrations: stamp it at the latest point of the history whose
    /// schema it equals, or refuse with the differences against the head.
    pub(super) fn adopt(&mut self, live: &Schema) -> Result<()> {
        let (current, _) = self.adopt_at_latest_match(live)?;
        (self.log)(&format!(
            "adopted the existing database at {}",
            current.join(", ")
        ));
        Ok(())
    }
}

impl Runner<'_> {
    /// Under the lock: the rows of revisions a checkpoint replaced, whose files this build
    /// no longer has. A database that went through all of them gets the checkpoint's row in
    /// their place; one that went through some (part-way) is refused, since only the old
    /// files can finish it. Returns the rows as they now are.
    pub(super) fn settle_replaced(&mut self, rows: Vec<AppliedRow>) -> Result<Vec<AppliedRow>> {
        let graph = self.graph;
        let mut by_checkpoint: std::collections::BTreeMap<&str, Vec<&AppliedRow>> =
            Default::default();
        for row in &rows {
            if let Some(c) = graph.replaced_by(&row.revision) {
                by_checkpoint.entry(c).or_default().push(row);
            }
        }
        if by_checkpoint.is_empty() {
            return Ok(rows);
        }
        let mut gone: BTreeSet<String> = BTreeSet::new();
        let mut added = Vec::new();
        for (checkpoint, replaced) in by_checkpoint {
            let Some(rev) = graph.get(checkpoint) else {
                continue;
            };
            let has_row = rows.iter().any(|r| r.revision == checkpoint);
            let present: BTreeSet<&str> = replaced.iter().map(|r| r.revision.as_str()).collect();
            let all = rev.replaces();
            let complete = all.iter().all(|r| present.contains(r))
                && replaced.iter().all(|r| !r.row_state().is_interrupted());
            if !has_row && !complete {
                let last = all
                    .iter()
                    .rev()
                    .find(|r| present.contains(*r))
                    .copied()
                    .unwrap_or_default()
                    .to_string();
                return Err(Error::PartWayThroughCheckpoint {
                    checkpoint: checkpoint.to_string(),
                    done: present.len(),
                    total: all.len(),
                    last,
                });
            }
            if !has_row {
                let row = AppliedRow::for_revision(rev, RowState::Checkpoint, 0);
                self.backend.record(&row)?;
                added.push(row);
            }
            for r in &replaced {
                self.backend.forget(&r.revision)?;
                gone.insert(r.revision.clone());
            }
            (self.log)(&format!(
                "recorded checkpoint {checkpoint} in place of the {} revisions it replaces",
                replaced.len()
            ));
        }
        let mut rows: Vec<AppliedRow> = rows
            .into_iter()
            .filter(|r| !gone.contains(&r.revision))
            .collect();
        rows.extend(added);
        Ok(rows)
    }
}

/// The tool's migrations in its folder that its table does not record. golang-migrate
/// keeps only the version it stands at, and Alembic only its heads: for them, what lies
/// beyond.
fn pending(tool: Tool, state: &ToolState, files: &BTreeSet<String>) -> Vec<String> {
    match tool {
        Tool::GolangMigrate => {
            let at = state
                .latest()
                .and_then(|v| v.parse::<u128>().ok())
                .unwrap_or(0);
            files
                .iter()
                .filter(|v| v.parse::<u128>().is_ok_and(|n| n > at))
                .cloned()
                .collect()
        }
        _ => files.difference(&state.applied).cloned().collect(),
    }
}
