//! MySQL 8.0 / MariaDB 10.6+ (InnoDB online DDL): the algorithm each `ALTER TABLE` gets and
//! whether concurrent writes go on. `INSTANT` changes only the data dictionary; `INPLACE,
//! LOCK=NONE` works on the table while reads and writes go on (a metadata lock for a moment
//! at each end); `COPY` copies the table and lets no write in until it is done.

use crate::model::{ColumnType, Schema};
use crate::ops::{ConstraintKind, Op};
use crate::sql::locks::{column_type, Blocks, LockCost, Work};

const INSTANT: &str = "ALGORITHM=INSTANT";
const INPLACE: &str = "ALGORITHM=INPLACE, LOCK=NONE";
const COPY: &str = "ALGORITHM=COPY";
const METADATA: &str = "exclusive metadata lock";

fn instant(table: &str) -> LockCost {
    LockCost::new(table, INSTANT, Blocks::Nothing, Work::Catalog)
}

fn copy(table: &str) -> LockCost {
    LockCost::new(table, COPY, Blocks::Writes, Work::Rewrite)
}

/// Whether a type change stays in place: a `varchar` made longer within the same length
/// prefix (up to 255 bytes, or both above), or the same type.
fn in_place(from: &ColumnType, to: &ColumnType) -> bool {
    match (from, to) {
        // utf8mb4: 4 bytes a character; the length prefix grows past 255 bytes.
        (ColumnType::Varchar { length: a }, ColumnType::Varchar { length: b }) => {
            b >= a && ((a * 4 <= 255) == (b * 4 <= 255))
        }
        _ => from == to,
    }
}

pub(crate) fn lock_costs(op: &Op, before: &Schema) -> Vec<LockCost> {
    match op {
        Op::CreateTable { .. } | Op::Execute { .. } | Op::RunRust { .. } => Vec::new(),
        Op::Backfill { table, .. } => vec![LockCost::new(
            table,
            "row locks per batch",
            Blocks::Nothing,
            Work::Batches,
        )],
        Op::CreateEnum { .. } | Op::DropEnum { .. } => Vec::new(),
        Op::DropTable { table } => vec![LockCost::new(
            table,
            METADATA,
            Blocks::ReadsAndWrites,
            Work::Catalog,
        )],
        Op::RenameTable { from, .. } => vec![LockCost::new(
            from,
            METADATA,
            Blocks::ReadsAndWrites,
            Work::Catalog,
        )],
        Op::AddColumn { table, column } => {
            if column.autoincrement {
                vec![LockCost::new(table, "ALGORITHM=INPLACE, LOCK=SHARED", Blocks::Writes, Work::Rewrite)
                    .note("an AUTO_INCREMENT column numbers every row")]
            } else {
                vec![instant(table).note(
                    "MySQL 8.0.12+ and MariaDB 10.3+ add a last column instantly; before, INPLACE with a rebuild",
                )]
            }
        }
        Op::DropColumn { table, .. } => vec![instant(table).note(
            "MySQL 8.0.29+ and MariaDB 10.4+; before, INPLACE, LOCK=NONE with a rebuild",
        )],
        Op::RenameColumn { table, .. } => vec![instant(table)],
        Op::AlterColumn {
            table,
            column,
            changes, ..
        } => {
            let old = column_type(before, table, column);
            let mut cost = instant(table);
            if changes.nullable.is_some() {
                cost = LockCost::new(table, INPLACE, Blocks::Nothing, Work::Rewrite)
                    .note("NULL / NOT NULL rebuilds the table in place; writes go on");
            }
            if let (Some(to), Some(from)) = (&changes.ty, old) {
                if !in_place(from, to) {
                    cost = copy(table)
                        .online("add a new column of the new type, fill it in batches, then swap the names (or an online schema change tool: gh-ost, pt-online-schema-change)")
                        .note("a type change copies the table; only a longer varchar within the same length prefix stays in place");
                }
            }
            vec![cost]
        }
        Op::CreateIndex { table, index, .. } => {
            if index
                .method
                .as_deref()
                .is_some_and(|m| m.eq_ignore_ascii_case("fulltext") || m.eq_ignore_ascii_case("spatial"))
            {
                vec![LockCost::new(table, "ALGORITHM=INPLACE, LOCK=SHARED", Blocks::Writes, Work::IndexBuild)]
            } else {
                vec![LockCost::new(table, INPLACE, Blocks::Nothing, Work::IndexBuild)]
            }
        }
        Op::AddUnique { table, .. } => {
            vec![LockCost::new(table, INPLACE, Blocks::Nothing, Work::IndexBuild)]
        }
        Op::DropIndex { table, .. } | Op::RenameIndex { table, .. } => {
            vec![LockCost::new(table, INPLACE, Blocks::Nothing, Work::Catalog)]
        }
        Op::AddForeignKey { table, .. } => vec![copy(table)
            .online("none that checks the rows: INPLACE needs foreign_key_checks = 0, which adds the key without checking them")
            .note("with foreign_key_checks on, adding a foreign key copies the table")],
        Op::AddCheck { table, .. } => vec![copy(table)
            .note("MySQL 8.0.16+ and MariaDB check every row through a table copy")],
        Op::DropConstraint { table, kind, .. } => match kind {
            ConstraintKind::Check => vec![instant(table)],
            _ => vec![LockCost::new(table, INPLACE, Blocks::Nothing, Work::Catalog)],
        },
        Op::RenameConstraint { table, kind, .. } => match kind {
            // MySQL renames a foreign key or check only by dropping and adding it again.
            ConstraintKind::ForeignKey | ConstraintKind::Check => vec![copy(table)],
            _ => vec![LockCost::new(table, INPLACE, Blocks::Nothing, Work::Catalog)],
        },
        Op::SetTableComment { table, .. } => vec![instant(table)],
        Op::AlterEnum { name, from, to, .. } => {
            // A column's ENUM gains values at its end in place; anything else copies.
            let appended = to.len() >= from.len() && to[..from.len()] == from[..];
            before
                .tables
                .values()
                .filter(|t| {
                    t.columns.iter().any(
                        |c| matches!(&c.ty, ColumnType::Enum { name: n, .. } if n == name),
                    )
                })
                .map(|t| match appended {
                    true => instant(&t.name),
                    false => copy(&t.name).online(
                        "only add values at the end (in place); a removed or reordered value copies the table",
                    ),
                })
                .collect()
        }
        Op::CreateObject { object } | Op::DropObject { object } => match &object.table {
            Some(t) => vec![LockCost::new(t, METADATA, Blocks::ReadsAndWrites, Work::Catalog)],
            None => Vec::new(),
        },
    }
}
