//! The version rows against the code: unknown revisions, edited migrations, interrupted
//! ones, and what a run prepares before it plans.

use std::collections::BTreeSet;

use super::apply::step_text;
use super::Runner;
use crate::backend::{versions, AppliedRow};
use crate::error::{Error, Result};
use crate::tools::Tool;
use retort_schema::migration::ChecksumCheck;
use retort_schema::sql::Step;

impl Runner<'_> {
    /// Inside the lock: adopt a pre-migrations database if asked, make sure the version table
    /// exists (or, for a fresh database, will when the transaction commits), and check its
    /// rows against the code. Returns the applied set.
    pub(super) fn prepare(&mut self, adopt: bool) -> Result<BTreeSet<String>> {
        // A fresh database (no table at all) has nothing to adopt, no other tool in it and
        // no version row: one query, not an introspection, and the rows are not read. Its
        // version table is created as the transaction commits, where the DDL is
        // transactional (`write_at_commit`).
        let mut fresh = false;
        if !self.backend.version_table_exists()? {
            if self.backend.has_tables()? {
                self.adopt_or_refuse(adopt)?;
                self.backend.ensure_version_table()?;
            } else if self.backend.capabilities().transactional_ddl {
                self.write_at_commit(versions::create_table(self.backend.dialect()));
                fresh = true;
            } else {
                self.backend.ensure_version_table()?;
                fresh = true;
            }
        }
        let mut rows = if fresh {
            Vec::new()
        } else {
            self.backend.applied()?
        };
        if self.graph.has_replaced() {
            rows = self.settle_replaced(rows)?;
        }
        self.resuming.clear();
        if adopt {
            // An upgrade finishes what one that stopped part-way left, where it can.
            let mut resumable = Vec::new();
            for row in &rows {
                if let Some(state) = row.row_state().interrupted() {
                    if self.can_resume(row, &state) {
                        resumable.push((row.revision.clone(), state.done));
                    }
                }
            }
            rows.retain(|r| !resumable.iter().any(|(id, _)| *id == r.revision));
            self.resuming.extend(resumable);
        }
        self.check_rows(rows)
    }

    /// A database with tables but no version table, on the way up: another tool's (refused,
    /// or taken over when asked), or one made without migrations (adopted where its schema
    /// matches). Refused in a build without introspection, which cannot compare.
    fn adopt_or_refuse(&mut self, adopt: bool) -> Result<()> {
        if !adopt {
            return Ok(());
        }
        crate::error::introspection(
            "adopting a database that has tables but no retort version table (its schema is compared with the migrations first)",
        )?;
        // Tables of another PostgreSQL schema are the app's only where its migrations
        // keep tables there (another app's schema does not make this database in use).
        let live = self.live_app_schema()?;
        // Another tool's version table, unless the app's own migrations make a table of
        // that name (replayed only then: a fresh database's first start pays nothing).
        let mut other = live.tables.keys().find_map(|t| Tool::of_table(t));
        if let Some(tool) = other {
            if self.graph.head_schema()?.tables.contains_key(tool.table()) {
                other = None;
            }
        }
        match (other, self.options.adopt_from) {
            (Some(_), Some(tool)) => {
                self.take_over(tool, None, live)?;
            }
            (Some(tool), None) => {
                return Err(Error::ManagedByOtherTool {
                    tool: tool.name().into(),
                    table: tool.table().into(),
                })
            }
            (None, _) if !live.tables.is_empty() => self.adopt(&live)?,
            _ => {}
        }
        Ok(())
    }

    /// The version rows against the code: every row names a known revision whose checksum
    /// matches. Returns the applied set.
    pub(super) fn check_rows(&self, rows: Vec<AppliedRow>) -> Result<BTreeSet<String>> {
        self.verify_rows(&rows)?;
        Ok(rows.into_iter().map(|r| r.revision).collect())
    }

    pub(super) fn verify_rows(&self, rows: &[AppliedRow]) -> Result<()> {
        for row in rows {
            if let Some(state) = row.row_state().interrupted() {
                return Err(self.interrupted(row, state, String::new()));
            }
        }
        let mut unknown = Vec::new();
        let mut known = Vec::with_capacity(rows.len());
        let mut hint = 0;
        for row in rows {
            match self.graph.get_near(&row.revision, hint) {
                Some((i, rev)) => {
                    hint = i + 1;
                    known.push((row, rev));
                }
                None => unknown.push(row.revision.clone()),
            }
        }
        if !unknown.is_empty() {
            unknown.sort();
            return Err(Error::DatabaseAhead { revisions: unknown });
        }
        for (row, rev) in known {
            if row.checksum == rev.checksum() {
                continue;
            }
            // Rows of an older checksum algorithm are accepted while their value still
            // matches; only those need the operations.
            if rev.check_recorded(&row.checksum) == ChecksumCheck::Differs {
                return Err(Error::ChecksumMismatch {
                    revision: row.revision.clone(),
                    recorded: row.checksum.clone(),
                    current: rev.checksum().to_string(),
                });
            }
        }
        Ok(())
    }

    /// Whether an upgrade that stopped part-way can be finished: its checksum is the code's
    /// and every statement from the one it stopped in can be run again (the database says).
    pub(super) fn can_resume(&self, row: &AppliedRow, state: &versions::Interrupted) -> bool {
        let Some(rev) = self.graph.get(&row.revision) else {
            return false;
        };
        if !state.upgrade || row.checksum != rev.checksum() {
            return false;
        }
        let steps = self.steps_of(rev, true);
        steps.len() == state.total
            && steps[state.done.min(steps.len())..]
                .iter()
                .all(|s| match s {
                    Step::Sql(sql) => self.backend.resumable(sql),
                    // Each batch takes rows still NULL: a second run goes on from there.
                    Step::Batches { .. } => true,
                    // A query that only reads (the check for NULLs before NOT NULL).
                    Step::Verify { .. } => true,
                    Step::Rust(_) => false,
                })
    }

    /// The refusal for a migration that stopped part-way: which statements ran, which not.
    pub(super) fn interrupted(
        &self,
        row: &AppliedRow,
        state: versions::Interrupted,
        cause: String,
    ) -> Error {
        let statements = self
            .graph
            .get(&row.revision)
            .map(|rev| self.steps_of(rev, state.upgrade))
            .unwrap_or_default()
            .into_iter()
            .map(step_text)
            .collect();
        Error::Interrupted {
            revision: row.revision.clone(),
            direction: if state.upgrade {
                "upgrade"
            } else {
                "downgrade"
            },
            done: state.done,
            total: state.total,
            statements,
            cause: cause.into(),
        }
    }
}
