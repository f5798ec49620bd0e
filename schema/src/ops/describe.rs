//! How an operation reads to a person: one line for summaries and file headers, and what
//! to do when it fails on existing rows.

use super::Family;
use super::{ConstraintKind, Op};
use crate::model::Column;

impl Op {
    /// What to do when the operation failed with the database's `message`: for an online
    /// form that the server refused to run in place (MySQL/MariaDB say so rather than copy
    /// the table under its `ALGORITHM=INPLACE, LOCK=NONE`), the plain form it needs;
    /// otherwise [`failure_hint`](Op::failure_hint).
    ///
    /// ```
    /// # use retort_schema::ops::Op;
    /// # use retort_schema::ops::ColumnChanges;
    /// let op = Op::AlterColumn {
    ///     table: "tasks".into(),
    ///     column: "note".into(),
    ///     changes: ColumnChanges { nullable: Some(false), ..Default::default() },
    ///     online: true,
    /// };
    /// let hint = op.failure_hint_for("LOCK=NONE is not supported. Reason: …").unwrap();
    /// assert!(hint.contains("online = true"));
    /// ```
    pub fn failure_hint_for(&self, message: &str) -> Option<String> {
        let refused_in_place = message.contains("is not supported. Reason")
            || message.contains("ALGORITHM=INPLACE is not supported")
            || message.contains("LOCK=NONE is not supported");
        if !(self.outside_transaction() && refused_in_place) {
            return self.failure_hint();
        }
        let (table, marker) = match self {
            Op::CreateIndex { table, .. } => (table, "concurrently = true"),
            Op::AlterColumn { table, .. } | Op::AddUnique { table, .. } => (table, "online = true"),
            _ => return self.failure_hint(),
        };
        Some(format!(
            "the server cannot make this change to `{table}` in place while writes go on (the reason above), and refused rather than copy the table under a lock; nothing was changed. Either remove what stops it (the reason), or take `{marker}` off the operation to run the plain form, which may copy `{table}` and hold writes for the copy: run it at a quiet time"
        ))
    }

    /// What to do when the operation fails on existing rows, if it can fail because of them.
    pub fn failure_hint(&self) -> Option<String> {
        Some(match self {
            Op::AddColumn { table, column } if !column.nullable && column.server_default.is_none() => format!(
                "`{table}` has rows and the new NOT NULL column `{}` has no default: give it a server_default, or add it as nullable, backfill with execute(\"UPDATE …\"), then make it NOT NULL",
                column.name
            ),
            Op::AlterColumn { table, column, changes, .. } if changes.nullable == Some(false) => format!(
                "rows of `{table}` hold NULL in `{column}`: fill them before this operation, with backfill(\"{table}\", \"{column}\", \"…\") in a migration with `atomic: false` (in batches, resumable) or execute(\"UPDATE {table} SET {column} = … WHERE {column} IS NULL\")"
            ),
            Op::AlterColumn { table, column, changes, .. } if changes.ty.is_some() => format!(
                "values of `{table}.{column}` do not fit the new type: convert or clean them with an execute(\"UPDATE …\") before this operation, or keep the type"
            ),
            Op::AddUnique { table, unique, .. } => format!(
                "rows of `{table}` repeat ({cols}): find them with SELECT {cols}, COUNT(*) FROM {table} GROUP BY {cols} HAVING COUNT(*) > 1, and resolve them before this operation",
                cols = unique.columns.join(", ")
            ),
            Op::CreateIndex { table, index, .. } if index.unique => format!(
                "rows of `{table}` repeat ({cols}): find them with SELECT {cols}, COUNT(*) FROM {table} GROUP BY {cols} HAVING COUNT(*) > 1, and resolve them before this operation",
                cols = index.key_texts().join(", ")
            ),
            Op::AddCheck { table, check, .. } => format!(
                "rows of `{table}` violate `{}`: find them with SELECT * FROM {table} WHERE NOT ({}), and correct them before this operation",
                check.name, check.expression
            ),
            Op::AddForeignKey { table, foreign_key, .. } => format!(
                "rows of `{table}` reference `{}` rows that do not exist: delete or correct them before this operation",
                foreign_key.referred_table
            ),
            _ => return None,
        })
    }

    /// One line for summaries: `add column tasks.retry_count`.
    pub fn describe(&self) -> String {
        match self.family() {
            Family::Tables => self.describe_tables(),
            Family::Columns => self.describe_columns(),
            Family::Indexes => self.describe_indexes(),
            Family::Rest => self.describe_rest(),
        }
    }

    /// Tables as a whole.
    fn describe_tables(&self) -> String {
        match self {
            Op::CreateTable { table } => format!("create table {}", table.name),
            Op::DropTable { table } => format!("drop table {table}"),
            Op::RenameTable { from, to } => format!("rename table {from} to {to}"),
            Op::SetTableComment { table, comment } => match comment {
                Some(_) => format!("set comment of table {table}"),
                None => format!("drop comment of table {table}"),
            },
            _ => unreachable!("describe sends only these operations here"),
        }
    }

    /// Columns, and backfills.
    fn describe_columns(&self) -> String {
        match self {
            Op::AddColumn { table, column } => {
                format!(
                    "add column {table}.{} ({})",
                    column.name,
                    column_summary(column)
                )
            }
            Op::DropColumn { table, column } => format!("drop column {table}.{column}"),
            Op::RenameColumn { table, from, to } => {
                format!("rename column {table}.{from} to {to}")
            }
            Op::AlterColumn {
                table,
                column,
                changes,
                ..
            } => {
                let mut what = Vec::new();
                if let Some(t) = &changes.ty {
                    what.push(format!("type {t}"));
                }
                if let Some(n) = changes.nullable {
                    what.push(if n { "nullable" } else { "NOT NULL" }.to_string());
                }
                if let Some(d) = &changes.server_default {
                    what.push(match d {
                        Some(d) => format!("default {d}"),
                        None => "no default".into(),
                    });
                }
                if changes.comment.is_some() {
                    what.push("comment".into());
                }
                format!("alter column {table}.{column} ({})", what.join(", "))
            }
            Op::Backfill {
                table,
                column,
                value,
                batch,
            } => format!("backfill {table}.{column} = {value} where NULL, {batch} rows a batch"),
            _ => unreachable!("describe sends only these operations here"),
        }
    }

    /// Indexes and constraints.
    fn describe_indexes(&self) -> String {
        match self {
            Op::CreateIndex { table, index, .. } => format!(
                "create {}index {} on {table} {}",
                if index.unique { "unique " } else { "" },
                index.name,
                crate::compare::index_shape(index)
            ),
            Op::DropIndex { table, name, .. } => format!("drop index {name} on {table}"),
            Op::AddUnique { table, unique, .. } => format!(
                "add unique constraint {} on {table} ({})",
                unique.name,
                unique.columns.join(", ")
            ),
            Op::AddForeignKey {
                table, foreign_key, ..
            } => format!(
                "add foreign key {} on {table} ({}) -> {}({})",
                foreign_key.name,
                foreign_key.columns.join(", "),
                foreign_key.referred_table,
                foreign_key.referred_columns.join(", ")
            ),
            Op::AddCheck { table, check, .. } => {
                format!(
                    "add check constraint {} on {table} ({})",
                    check.name, check.expression
                )
            }
            Op::DropConstraint { table, name, kind } => {
                format!("drop {} {name} on {table}", kind_name(*kind))
            }
            Op::RenameIndex { table, from, to } => {
                format!("rename index {from} on {table} to {to}")
            }
            Op::RenameConstraint {
                table,
                from,
                to,
                kind,
            } => format!("rename {} {from} on {table} to {to}", kind_name(*kind)),
            _ => unreachable!("describe sends only these operations here"),
        }
    }

    /// Raw SQL, Rust functions, database objects and enum types.
    fn describe_rest(&self) -> String {
        match self {
            Op::Execute { .. } => "execute SQL".into(),
            Op::CreateObject { object } => format!("create {}", object_words(object)),
            Op::DropObject { object } => format!("drop {}", object_words(object)),
            Op::RunRust { function } => format!("run {function}()"),
            Op::CreateEnum { name, values } => {
                format!("create enum {name} ({})", values.join(", "))
            }
            Op::DropEnum { name, .. } => format!("drop enum {name}"),
            Op::AlterEnum {
                name,
                from,
                to,
                renamed,
            } => {
                let mut parts: Vec<String> = renamed
                    .iter()
                    .map(|(old, new)| format!("rename {old} to {new}"))
                    .collect();
                let kept = |v: &String| from.contains(v) || renamed.iter().any(|(_, n)| n == v);
                let added: Vec<&str> = to.iter().filter(|v| !kept(v)).map(String::as_str).collect();
                if !added.is_empty() {
                    parts.push(format!("add {}", added.join(", ")));
                }
                let gone: Vec<&str> = from
                    .iter()
                    .filter(|v| !to.contains(v) && !renamed.iter().any(|(o, _)| o == *v))
                    .map(String::as_str)
                    .collect();
                if !gone.is_empty() {
                    parts.push(format!("remove {}", gone.join(", ")));
                }
                if parts.is_empty() {
                    parts.push(format!("reorder to ({})", to.join(", ")));
                }
                format!("alter enum {name}: {}", parts.join("; "))
            }
            _ => unreachable!("describe sends only these operations here"),
        }
    }
}

fn kind_name(kind: ConstraintKind) -> &'static str {
    match kind {
        ConstraintKind::Unique => "unique constraint",
        ConstraintKind::ForeignKey => "foreign key",
        ConstraintKind::Check => "check constraint",
        ConstraintKind::PrimaryKey => "primary key",
    }
}

/// `integer, NOT NULL, default 0`.
pub fn column_summary(c: &Column) -> String {
    let mut s = c.ty.to_string();
    s.push_str(if c.nullable { ", NULL" } else { ", NOT NULL" });
    if let Some(d) = &c.server_default {
        s.push_str(&format!(", default {d}"));
    }
    if c.autoincrement {
        s.push_str(", autoincrement");
    }
    s
}

/// `view active_users`, `trigger post_touch on post`.
fn object_words(o: &crate::model::DbObject) -> String {
    match &o.table {
        Some(t) => format!("{} {} on {t}", o.kind.word(), o.name),
        None => format!("{} {}", o.kind.word(), o.name),
    }
}
