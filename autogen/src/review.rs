//! The build's review of what a migration locks on the servers the crate compiles for
//! (PostgreSQL, MySQL/MariaDB; SQLite has one writer, and its costs are only documented).
//! Each operation that keeps other sessions waiting for as long as its table is large — a
//! scan, a rewrite or an index build under a lock that blocks writes — is named with its
//! lock, what it does to the table and the online form. Operations on a table the same
//! migration creates cost nothing: the table is empty.
//!
//! An author accepts a warning by listing its key in the migration's `reviewed_locks`;
//! with `RETORT_STRICT_LOCKS=1` (for CI) the build fails on any that is not.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use retort_schema::lint::{Lint, LintKind};
use retort_schema::ops::Op;
use retort_schema::sql::locks::{lock_costs, LockCost};
use retort_schema::sql::Dialect;
use retort_schema::Schema;

use crate::error::Error;
use crate::history::History;

/// One lock warning: the key an author lists in `reviewed_locks`, and what to tell them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LockWarning {
    pub key: String,
    pub message: String,
}

impl LockWarning {
    pub(crate) fn lint(&self) -> Lint {
        Lint {
            kind: LintKind::Lock,
            message: self.message.clone(),
        }
    }
}

/// What the key names besides the operation: the index, constraint or column it is about.
fn subject(op: &Op) -> String {
    match op {
        Op::CreateIndex { table, index, .. } => format!("{table}.{}", index.name),
        Op::DropIndex { table, name, .. } => format!("{table}.{name}"),
        Op::AddUnique { table, unique, .. } => format!("{table}.{}", unique.name),
        Op::AddForeignKey {
            table, foreign_key, ..
        } => format!("{table}.{}", foreign_key.name),
        Op::AddCheck { table, check, .. } => format!("{table}.{}", check.name),
        Op::AddColumn { table, column } => format!("{table}.{}", column.name),
        Op::DropColumn { table, column } | Op::AlterColumn { table, column, .. } => {
            format!("{table}.{column}")
        }
        Op::AlterEnum { name, .. } => name.clone(),
        Op::CreateObject { object } | Op::DropObject { object } => object.name.clone(),
        other => other.table().unwrap_or_default().to_string(),
    }
}

fn message(op: &Op, dialect: Dialect, cost: &LockCost, key: &str) -> String {
    let note = cost.note.map(|n| format!(" ({n})")).unwrap_or_default();
    let online = match cost.online {
        Some(how) => format!(" Online form: {how}."),
        None => " There is no online form on this database.".into(),
    };
    format!(
        "{}: `{}` takes {} on `{}` and {}: {} until it is done{note}.{online} If that is acceptable here (a small table, a quiet hour), add \"{key}\" to `reviewed_locks: [...]` in the migration",
        dialect.name(),
        op.describe(),
        cost.lock,
        cost.table,
        cost.work.says(),
        cost.blocks.says(),
    )
}

/// The lock warnings of one migration's upgrade on `backends`, from the schema before it.
pub(crate) fn lock_warnings(
    up: &[Op],
    before: &Schema,
    backends: &[Dialect],
) -> Result<Vec<LockWarning>, Error> {
    let servers: Vec<Dialect> = backends
        .iter()
        .copied()
        .filter(|d| *d != Dialect::Sqlite)
        .collect();
    let mut out: Vec<LockWarning> = Vec::new();
    if servers.is_empty() {
        return Ok(out);
    }
    let mut schema = before.clone();
    // Tables this migration creates: empty while it runs.
    let mut fresh: BTreeSet<String> = BTreeSet::new();
    for op in up {
        for &dialect in &servers {
            for cost in lock_costs(op, dialect, &schema) {
                if !cost.holds_up_the_table() || fresh.contains(&cost.table) {
                    continue;
                }
                let key = format!("{}: {} {}", dialect.name(), op.name(), subject(op));
                if out.iter().any(|w| w.key == key) {
                    continue;
                }
                out.push(LockWarning {
                    message: message(op, dialect, &cost, &key),
                    key,
                });
            }
        }
        match op {
            Op::CreateTable { table } => {
                fresh.insert(table.name.clone());
            }
            Op::RenameTable { from, to } if fresh.remove(from) => {
                fresh.insert(to.clone());
            }
            _ => {}
        }
        op.apply(&mut schema)?;
    }
    Ok(out)
}

/// Every lock warning of the history not listed in its migration's `reviewed_locks`, with
/// the migration's file, parents before children.
pub(crate) fn unreviewed(
    history: &History,
    root: &Path,
    backends: &[Dialect],
) -> Result<Vec<String>, Error> {
    let mut after: BTreeMap<&str, Schema> = BTreeMap::new();
    let mut out = Vec::new();
    for entry in history.ordered() {
        let parents: Vec<&str> = entry.file.parents.iter().map(String::as_str).collect();
        let before = match parents.as_slice() {
            [] => Schema::new(),
            [one] => match after.get(one) {
                Some(s) => s.clone(),
                None => history.replay(&parents)?,
            },
            _ => history.replay(&parents)?,
        };
        let rel = entry.path.strip_prefix(root).unwrap_or(&entry.path);
        for w in lock_warnings(&entry.file.up, &before, backends)? {
            if !entry.file.reviewed_locks.contains(&w.key) {
                out.push(format!("{}: {}", rel.display(), w.message));
            }
        }
        let mut schema = before;
        for op in &entry.file.up {
            op.apply(&mut schema)?;
        }
        after.insert(&entry.file.revision, schema);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use retort_schema::{Column, ColumnType, Index, Table};

    fn tasks() -> Schema {
        let mut t = Table::new("tasks");
        t.columns.push(Column::new("id", ColumnType::Integer));
        t.columns.push(Column::new("title", ColumnType::Text));
        t.primary_key = vec!["id".into()];
        Schema::from_tables([t])
    }

    fn index(table: &str) -> Op {
        Op::CreateIndex {
            table: table.into(),
            index: Index::on_columns("ix_title", ["title"], false),
            concurrently: false,
        }
    }

    #[test]
    fn an_index_on_an_existing_table_is_warned_of_on_postgres_only() {
        let w = lock_warnings(
            &[index("tasks")],
            &tasks(),
            &[Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite],
        )
        .unwrap();
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].key, "postgres: create_index tasks.ix_title");
        assert!(
            w[0].message.contains("takes SHARE on `tasks`")
                && w[0].message.contains("writes wait")
                && w[0].message.contains("concurrently = true"),
            "{}",
            w[0].message
        );
    }

    #[test]
    fn what_a_migration_does_to_a_table_it_creates_costs_nothing() {
        let mut t = Table::new("notes");
        t.columns.push(Column::new("title", ColumnType::Text));
        let up = [Op::CreateTable { table: t }, index("notes")];
        let w = lock_warnings(&up, &Schema::new(), &[Dialect::Postgres, Dialect::Mysql]).unwrap();
        assert!(w.is_empty(), "{w:?}");
    }
}
