//! Which tables a batch's foreign-key check before commit must cover.

use std::collections::BTreeSet;

use retort_schema::ops::Op;
use retort_schema::Schema;

/// The tables whose rows a batch's operations can leave pointing at missing parents.
///
/// Foreign keys are not enforced while a migration runs (SQLite's rebuilds need that), so
/// they are checked before commit; checking every table would cost the database's size on
/// every step. Creating a table, an index or a comment cannot orphan a row; raw SQL and
/// Rust functions can touch anything.
#[derive(Debug, Default)]
pub(super) struct IntegrityScope {
    everything: bool,
    tables: BTreeSet<String>,
}

impl IntegrityScope {
    /// Adds what `ops` can break, given the schema before them.
    pub(super) fn add(&mut self, ops: &[Op], before: &Schema) {
        for op in ops {
            match op {
                Op::Execute { .. } | Op::RunRust { .. } => self.everything = true,
                Op::CreateTable { .. }
                | Op::CreateIndex { .. }
                | Op::DropIndex { .. }
                | Op::SetTableComment { .. } => {}
                // A new column references nothing (foreign keys are their own operation),
                // and a rebuild that adds one keeps every key value.
                Op::AddColumn { .. } => {}
                Op::AddForeignKey { table, .. } => {
                    self.tables.insert(table.clone());
                }
                _ => {
                    let names: Vec<&str> = match op {
                        Op::RenameTable { from, to } => vec![from, to],
                        other => other.table().into_iter().collect(),
                    };
                    for name in names {
                        self.tables.insert(name.to_string());
                        // Rows elsewhere that point at this table.
                        for t in before.tables.values() {
                            if t.foreign_keys.iter().any(|f| f.referred_table == name) {
                                self.tables.insert(t.name.clone());
                            }
                        }
                    }
                }
            }
        }
    }

    /// The tables to check that exist after the batch; `None` for every table.
    pub(super) fn tables(&self, after: &Schema) -> Option<Vec<String>> {
        if self.everything {
            return None;
        }
        Some(
            self.tables
                .iter()
                .filter(|t| after.tables.contains_key(*t))
                .cloned()
                .collect(),
        )
    }
}
