//! PostgreSQL's lock for each operation (the `ALTER TABLE` documentation's lock table, and
//! which forms rewrite the table since which version).

use crate::model::{ColumnType, Schema};
use crate::ops::{ConstraintKind, Op};
use crate::sql::locks::{column_type, default_per_row, Blocks, LockCost, Work};

const ACCESS_EXCLUSIVE: &str = "ACCESS EXCLUSIVE";
const SHARE: &str = "SHARE";
const SHARE_ROW_EXCLUSIVE: &str = "SHARE ROW EXCLUSIVE";
const SHARE_UPDATE_EXCLUSIVE: &str = "SHARE UPDATE EXCLUSIVE";

const CONCURRENT_INDEX: &str = "create_index(…, concurrently = true) in a migration with `atomic: false` (CREATE INDEX CONCURRENTLY: SHARE UPDATE EXCLUSIVE, reads and writes go on while it builds)";
const NOT_VALID: &str = "`online = true` in a migration with `atomic: false`: added NOT VALID (a moment's lock, no scan), then VALIDATE CONSTRAINT in a statement of its own (SHARE UPDATE EXCLUSIVE: reads and writes go on while it scans)";
const ROW_SHARE: &str = "ROW SHARE";

/// A brief catalog change under `ACCESS EXCLUSIVE`: a moment once granted (the DDL lock
/// timeout bounds the wait for it).
fn brief(table: &str) -> LockCost {
    LockCost::new(
        table,
        ACCESS_EXCLUSIVE,
        Blocks::ReadsAndWrites,
        Work::Catalog,
    )
}

/// Whether PostgreSQL changes a column's type without touching the rows: the new type reads
/// the old bytes as they are (a longer `varchar`, `varchar` to `text`, a wider `numeric` of
/// the same scale).
fn binary_coercible(from: &ColumnType, to: &ColumnType) -> bool {
    use ColumnType::*;
    match (from, to) {
        (Varchar { length: a }, Varchar { length: b }) => b >= a,
        (Varchar { .. }, Text) => true,
        (
            Numeric {
                precision: Some(p1),
                scale: s1,
            },
            Numeric {
                precision: p2,
                scale: s2,
            },
        ) => s1.unwrap_or(0) == s2.unwrap_or(0) && p2.is_none_or(|p2| p2 >= *p1),
        _ => from == to,
    }
}

/// The tables whose columns hold the enum type `name`.
fn tables_using_enum(before: &Schema, name: &str) -> Vec<String> {
    before
        .tables
        .values()
        .filter(|t| {
            t.columns
                .iter()
                .any(|c| matches!(&c.ty, ColumnType::Enum { name: n, .. } if n == name))
        })
        .map(|t| t.name.clone())
        .collect()
}

pub(crate) fn lock_costs(op: &Op, before: &Schema) -> Vec<LockCost> {
    match op {
        Op::CreateTable { table } => create_table_cost(table),
        Op::DropTable { table } => vec![brief(table)],
        Op::RenameTable { from, .. } => vec![brief(from)],
        Op::AddColumn { table, column } => add_column_cost(table, column),
        Op::DropColumn { table, .. } | Op::RenameColumn { table, .. } => vec![brief(table)],
        Op::AlterColumn {
            table,
            column,
            changes,
            online,
        } => vec![alter_column_cost(before, table, column, changes, *online)],
        Op::CreateIndex {
            table,
            concurrently,
            ..
        } => vec![if *concurrently {
            LockCost::new(table, SHARE_UPDATE_EXCLUSIVE, Blocks::Nothing, Work::IndexBuild)
                .note("waits for transactions older than it before it ends; a failed build leaves an INVALID index that the next try drops")
        } else {
            LockCost::new(table, SHARE, Blocks::Writes, Work::IndexBuild).online(CONCURRENT_INDEX)
        }],
        Op::DropIndex {
            table,
            concurrently: true,
            ..
        } => vec![LockCost::new(table, SHARE_UPDATE_EXCLUSIVE, Blocks::Nothing, Work::Catalog)
            .note("waits for the transactions using the index to end; nothing waits for it")],
        Op::DropIndex { table, .. } => vec![brief(table).online(
            "drop_index(…, concurrently = true) in a migration with `atomic: false` (DROP INDEX CONCURRENTLY: waits for the queries using the index, blocks nothing)",
        )],
        Op::AddUnique {
            table,
            online: true,
            ..
        } => vec![LockCost::new(table, SHARE_UPDATE_EXCLUSIVE, Blocks::Nothing, Work::IndexBuild)
            .note("the unique index is built concurrently, then ADD CONSTRAINT … USING INDEX is a moment's ACCESS EXCLUSIVE")],
        Op::AddUnique { table, .. } => vec![LockCost::new(
            table,
            ACCESS_EXCLUSIVE,
            Blocks::ReadsAndWrites,
            Work::IndexBuild,
        )
        .online("create_unique_constraint(…, online = true) in a migration with `atomic: false`: the unique index built concurrently, then ADD CONSTRAINT … UNIQUE USING INDEX (a moment's lock)")],
        Op::AddForeignKey {
            table,
            foreign_key,
            online: true,
        } if !foreign_key.not_valid => {
            let added = "added NOT VALID first: a moment's SHARE ROW EXCLUSIVE on both tables";
            let mut out = vec![LockCost::new(table, SHARE_UPDATE_EXCLUSIVE, Blocks::Nothing, Work::Scan).note(added)];
            if foreign_key.referred_table != *table {
                out.push(
                    LockCost::new(&foreign_key.referred_table, ROW_SHARE, Blocks::Nothing, Work::Scan)
                        .note(added),
                );
            }
            out
        }
        Op::AddCheck {
            table,
            check,
            online: true,
        } if !check.not_valid => vec![LockCost::new(table, SHARE_UPDATE_EXCLUSIVE, Blocks::Nothing, Work::Scan)
            .note("added NOT VALID first: a moment's ACCESS EXCLUSIVE")],
        Op::AddForeignKey { table, foreign_key, .. } => add_foreign_key_cost(table, foreign_key),
        Op::AddCheck { table, check, .. } => vec![match check.not_valid {
            true => brief(table),
            false => LockCost::new(table, ACCESS_EXCLUSIVE, Blocks::ReadsAndWrites, Work::Scan)
                .online(NOT_VALID),
        }],
        Op::DropConstraint { table, kind, .. } => match kind {
            ConstraintKind::ForeignKey => vec![LockCost::new(
                table,
                SHARE_ROW_EXCLUSIVE,
                Blocks::Writes,
                Work::Catalog,
            )],
            _ => vec![brief(table)],
        },
        Op::RenameIndex { table, .. } => vec![LockCost::new(
            table,
            SHARE_UPDATE_EXCLUSIVE,
            Blocks::Nothing,
            Work::Catalog,
        )
        .note("PostgreSQL 12+; ACCESS EXCLUSIVE before")],
        Op::RenameConstraint { table, .. } => vec![brief(table)],
        Op::SetTableComment { table, .. } => vec![LockCost::new(
            table,
            SHARE_UPDATE_EXCLUSIVE,
            Blocks::Nothing,
            Work::Catalog,
        )],
        Op::AlterEnum { name, .. } => match op.enum_change_in_place() {
            Some((true, _)) => Vec::new(),
            _ => tables_using_enum(before, name)
                .into_iter()
                .map(|t| {
                    LockCost::new(&t, ACCESS_EXCLUSIVE, Blocks::ReadsAndWrites, Work::Rewrite)
                        .online("only add values (ADD VALUE changes the type in place); a removed or reordered value rebuilds the type and rewrites every column that holds it")
                })
                .collect(),
        },
        Op::CreateObject { object } | Op::DropObject { object } => {
            object_cost(object, matches!(op, Op::CreateObject { .. }))
        }
        Op::Backfill { table, .. } => vec![LockCost::new(
            table,
            "ROW EXCLUSIVE, row locks per batch",
            Blocks::Nothing,
            Work::Batches,
        )],
        Op::Execute { .. } | Op::RunRust { .. } | Op::CreateEnum { .. } | Op::DropEnum { .. } => {
            Vec::new()
        }
    }
}

/// The new table is empty; each table it refers to is locked so that no row the new key
/// would need goes away meanwhile: a moment.
fn create_table_cost(table: &crate::model::Table) -> Vec<LockCost> {
    // The new table is empty; each table it refers to is locked so that no row the
    // new key would need goes away meanwhile: a moment.
    let mut referred: Vec<&str> = table
        .foreign_keys
        .iter()
        .map(|f| f.referred_table.as_str())
        .filter(|r| *r != table.name)
        .collect();
    referred.dedup();
    referred
        .into_iter()
        .map(|r| LockCost::new(r, SHARE_ROW_EXCLUSIVE, Blocks::Writes, Work::Catalog))
        .collect()
}

/// A column added: a moment, unless every row gets a value computed for it.
fn add_column_cost(table: &str, column: &crate::model::Column) -> Vec<LockCost> {
    let per_row = column.autoincrement
        || column
            .server_default
            .as_deref()
            .is_some_and(default_per_row);
    if per_row {
        vec![LockCost::new(table, ACCESS_EXCLUSIVE, Blocks::ReadsAndWrites, Work::Rewrite)
        .online("the build's online form for a NOT NULL column: added nullable without the default, then, in a migration with `atomic: false`, the default set (a catalog change), backfill(…) of the rows there in batches, and NOT NULL through a validated check")
        .note("an identity column or a volatile default (gen_random_uuid(), random()) is computed for every row")]
    } else {
        vec![brief(table)
            .note("PostgreSQL 11+: a constant default is kept in the catalog, no rewrite")]
    }
}

/// A column changed: by its costliest part (a type change that rewrites, a NOT NULL that
/// scans, a comment alone that locks nothing).
fn alter_column_cost(
    before: &Schema,
    table: &str,
    column: &str,
    changes: &crate::ops::ColumnChanges,
    online: bool,
) -> LockCost {
    let old = column_type(before, table, column);
    let mut cost = brief(table);
    if changes.nullable == Some(false) && online {
        cost = LockCost::new(table, SHARE_UPDATE_EXCLUSIVE, Blocks::Nothing, Work::Scan)
        .note("the check is added NOT VALID, and SET NOT NULL and the check's drop are catalog changes: each a moment's ACCESS EXCLUSIVE; PostgreSQL 12+");
    } else if changes.nullable == Some(false) {
        cost = LockCost::new(table, ACCESS_EXCLUSIVE, Blocks::ReadsAndWrites, Work::Scan)
        .online("alter_column(…, nullable = false, online = true) in a migration with `atomic: false`: CHECK (column IS NOT NULL) NOT VALID, VALIDATE it (writes go on), then SET NOT NULL (PostgreSQL 12+ takes the valid check as proof, no scan) and drop the check");
    }
    if let (Some(to), Some(from)) = (&changes.ty, old) {
        if !binary_coercible(from, to) {
            cost = LockCost::new(table, ACCESS_EXCLUSIVE, Blocks::ReadsAndWrites, Work::Rewrite)
            .online("add a new column of the new type, fill it in batches and keep it in step (a trigger), then swap the names")
            .note("no rewrite for a longer varchar, varchar to text, or a wider numeric of the same scale");
        }
    }
    if changes.ty.is_none() && changes.nullable.is_none() && changes.server_default.is_none() {
        // Only the comment.
        cost = LockCost::new(
            table,
            SHARE_UPDATE_EXCLUSIVE,
            Blocks::Nothing,
            Work::Catalog,
        );
    }
    cost
}

/// A foreign key added in one statement: both tables' writes wait while the rows are
/// checked (a moment when declared NOT VALID).
fn add_foreign_key_cost(table: &str, foreign_key: &crate::model::ForeignKey) -> Vec<LockCost> {
    let (blocks, work) = match foreign_key.not_valid {
        true => (Blocks::Writes, Work::Catalog),
        false => (Blocks::Writes, Work::Scan),
    };
    let mut out = vec![LockCost::new(table, SHARE_ROW_EXCLUSIVE, blocks, work).online(NOT_VALID)];
    if foreign_key.referred_table != table {
        out.push(
            LockCost::new(
                &foreign_key.referred_table,
                SHARE_ROW_EXCLUSIVE,
                blocks,
                work,
            )
            .online(NOT_VALID),
        );
    }
    out
}

/// An object declared as code: an index built without `CONCURRENTLY` holds up writes like
/// `create_index`; a trigger locks its table for a moment; views and functions lock no
/// table's rows.
fn object_cost(object: &crate::DbObject, create: bool) -> Vec<LockCost> {
    use crate::model::ObjectKind;
    let Some(table) = object.table.as_deref() else {
        return Vec::new();
    };
    let sql = object
        .sql_for(crate::sql::Dialect::Postgres)
        .unwrap_or_default()
        .to_ascii_uppercase();
    match object.kind {
        ObjectKind::Index if create && !sql.contains("CONCURRENTLY") => {
            vec![LockCost::new(table, SHARE, Blocks::Writes, Work::IndexBuild).online(
                "write CREATE INDEX CONCURRENTLY in the object's file (the migration then says `atomic: false`)",
            )]
        }
        ObjectKind::Index => vec![brief(table)],
        ObjectKind::Trigger => vec![LockCost::new(
            table,
            SHARE_ROW_EXCLUSIVE,
            Blocks::Writes,
            Work::Catalog,
        )],
        _ => Vec::new(),
    }
}
