//! The MySQL/MariaDB statements of the operations that need more than one line of thought:
//! a column added or modified (the whole definition restated), a constraint dropped by
//! kind, and the renames MySQL has no statement for (foreign keys, checks).

use super::{check_indexable, if_index_exists, MysqlHooks, IN_PLACE};
use crate::model::{Column, Schema, Table};
use crate::ops::{ColumnChanges, ConstraintKind};
use crate::sql::ansi::{self, Hooks};
use crate::sql::{Dialect, RenderError, Step};

/// `ADD COLUMN`; a `NOT NULL` column without a default is refused on a table with rows
/// (MySQL would fill them with a value it makes up; the others refuse).
pub(super) fn add_column(
    h: &MysqlHooks,
    before: &Schema,
    table: &str,
    column: &Column,
) -> Result<Vec<Step>, RenderError> {
    let t = ansi::table(before, table)?;
    let mut v = Vec::new();
    if !column.nullable && column.server_default.is_none() && !column.autoincrement {
        v.push(Step::Verify {
            query: format!("SELECT 'a row' AS v FROM {} LIMIT 1", h.q(table)),
            problem: format!(
                "column `{table}.{}` is NOT NULL without a server_default, and `{table}` has rows: MySQL would fill them with a value it makes up. Give it a server_default, or make it nullable and backfill",
                column.name
            ),
        });
    }
    v.push(Step::Sql(format!(
        "ALTER TABLE {} ADD COLUMN {}",
        h.q(table),
        h.column_def(t, column)
    )));
    Ok(v)
}

/// `MODIFY COLUMN` with the whole definition after the change (MODIFY replaces all of it),
/// after the checks its rows must pass.
pub(super) fn alter_column(
    h: &MysqlHooks,
    before: &Schema,
    table: &str,
    column: &str,
    changes: &ColumnChanges,
    online: bool,
) -> Result<Vec<Step>, RenderError> {
    let (t, old) = ansi::column(before, table, column)?;
    let new = changed(old, changes);
    let keyed = t.primary_key.iter().any(|c| c == column)
        || t.uniques
            .iter()
            .any(|u| u.columns.iter().any(|c| c == column))
        || t.indexes.iter().any(|i| i.column_names().contains(&column));
    if changes.ty.is_some() && keyed {
        let after = Table {
            columns: vec![new.clone()],
            ..Table::new(table.to_string())
        };
        check_indexable(&after, &[column.to_string()], "an index or key on it")?;
    }
    let mut v = Vec::new();
    if changes.nullable == Some(false) && old.nullable {
        v.push(crate::sql::null_check(table, column, Dialect::Mysql));
    }
    if let Some(ty) = &changes.ty {
        crate::sql::refuse_unconvertible(table, column, &old.ty, ty)?;
        v.extend(ansi::value_check(h, table, column, &old.ty, ty));
    }
    v.push(Step::Sql(format!(
        "ALTER TABLE {} MODIFY COLUMN {}{}",
        h.q(table),
        h.column_def(t, &new),
        if online { IN_PLACE } else { "" }
    )));
    Ok(v)
}

/// The column as `changes` leave it.
fn changed(old: &Column, changes: &ColumnChanges) -> Column {
    let mut new = old.clone();
    if let Some(ty) = &changes.ty {
        new.ty = ty.clone();
    }
    if let Some(n) = changes.nullable {
        new.nullable = n;
    }
    if let Some(d) = &changes.server_default {
        new.server_default = d.clone();
    }
    if let Some(c) = &changes.comment {
        new.comment = c.clone();
    }
    new
}

/// A constraint dropped the way its kind is spelled on MySQL.
pub(super) fn drop_constraint(
    h: &MysqlHooks,
    table: &str,
    name: &str,
    kind: ConstraintKind,
) -> Result<Vec<Step>, RenderError> {
    Ok(match kind {
        ConstraintKind::Unique => vec![Step::Sql(format!(
            "ALTER TABLE {} DROP INDEX {}",
            h.q(table),
            h.q(name)
        ))],
        // The index MySQL made for the key (named after it) goes with it.
        ConstraintKind::ForeignKey => vec![
            Step::Sql(h.drop_foreign_key(table, name)),
            Step::Sql(format!(
                "DROP INDEX IF EXISTS {} ON {}",
                h.q(name),
                h.q(table)
            )),
        ],
        ConstraintKind::Check => vec![Step::Sql(format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            h.q(table),
            h.q(name)
        ))],
        ConstraintKind::PrimaryKey => {
            return Err(RenderError {
                message: format!(
                    "the primary key `{name}` of `{table}` goes with its table; a table keeps one"
                ),
            })
        }
    })
}

/// MySQL cannot rename a foreign key: it is dropped and added again in one statement,
/// unchecked (its rows were checked under the old name), and the index MySQL made for it
/// takes the new name too.
pub(super) fn rename_foreign_key(
    h: &MysqlHooks,
    before: &Schema,
    table: &str,
    from: &str,
    to: &str,
) -> Result<Vec<Step>, RenderError> {
    let t = ansi::table(before, table)?;
    let mut fk = t
        .foreign_keys
        .iter()
        .find(|f| f.name == from)
        .cloned()
        .ok_or_else(|| RenderError {
            message: format!("no foreign key `{from}` on `{table}` before this operation"),
        })?;
    fk.name = to.to_string();
    Ok(vec![
        Step::Sql(format!(
            "SET SESSION foreign_key_checks = 0; ALTER TABLE {} DROP FOREIGN KEY {}, ADD {}; SET SESSION foreign_key_checks = 1",
            h.q(table),
            h.q(from),
            ansi::foreign_key(h, &fk)
        )),
        Step::Sql(if_index_exists(table, from, &h.rename_index(table, from, to))),
    ])
}

/// Neither MySQL nor MariaDB renames a check: dropped and added again.
pub(super) fn rename_check(
    h: &MysqlHooks,
    before: &Schema,
    table: &str,
    from: &str,
    to: &str,
) -> Result<Vec<Step>, RenderError> {
    let t = ansi::table(before, table)?;
    let check = t
        .checks
        .iter()
        .find(|c| c.name == from)
        .ok_or_else(|| RenderError {
            message: format!("no check `{from}` on `{table}` before this operation"),
        })?;
    Ok(vec![Step::Sql(format!(
        "ALTER TABLE {} DROP CONSTRAINT {}, ADD CONSTRAINT {} CHECK ({})",
        h.q(table),
        h.q(from),
        h.q(to),
        check.expression
    ))])
}
