//! Migration operations in Alembic's vocabulary, how each changes a schema, and its inverse.
//!
//! Operations are small, like Alembic's `op.*`: a drop names what it drops, an
//! alteration names only what changes. Whatever else a renderer or an inverse
//! needs comes from the schema before the operation, which the replay of the
//! history always has.

use serde::{Deserialize, Serialize};

use crate::model::{
    CheckConstraint, Column, ColumnType, ForeignKey, Index, Schema, Table, UniqueConstraint,
};

/// One schema change (or an escape hatch: raw SQL, a Rust function).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Op {
    /// `create_table`: a table with its columns and constraints (indexes are separate ops).
    CreateTable {
        /// The new table; its `indexes` list is empty.
        table: Table,
    },
    /// `drop_table`.
    DropTable {
        /// Table name.
        table: String,
    },
    /// `rename_table`: data kept.
    RenameTable {
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// `add_column`.
    AddColumn {
        /// Table name.
        table: String,
        /// The new column (appended).
        column: Column,
    },
    /// `drop_column`.
    DropColumn {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
    },
    /// `rename_column`: data kept.
    RenameColumn {
        /// Table name.
        table: String,
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// `alter_column`: only the given attributes change.
    AlterColumn {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
        /// What changes.
        changes: ColumnChanges,
    },
    /// `create_index`.
    CreateIndex {
        /// Table name.
        table: String,
        /// The index.
        index: Index,
    },
    /// `drop_index`.
    DropIndex {
        /// Table name.
        table: String,
        /// Index name.
        name: String,
    },
    /// `create_unique_constraint`.
    AddUnique {
        /// Table name.
        table: String,
        /// The constraint.
        unique: UniqueConstraint,
    },
    /// `create_foreign_key`.
    AddForeignKey {
        /// Table name (the referencing one).
        table: String,
        /// The constraint.
        foreign_key: ForeignKey,
    },
    /// `create_check_constraint`.
    AddCheck {
        /// Table name.
        table: String,
        /// The constraint.
        check: CheckConstraint,
    },
    /// `drop_constraint`.
    DropConstraint {
        /// Table name.
        table: String,
        /// Constraint name.
        name: String,
        /// Which kind of constraint.
        kind: ConstraintKind,
    },
    /// `create_table_comment` / `drop_table_comment`.
    SetTableComment {
        /// Table name.
        table: String,
        /// The new comment; `None` drops it.
        comment: Option<String>,
    },
    /// `execute`: raw SQL, for every dialect or per dialect. Does not change the replayed schema.
    Execute {
        /// The statements.
        sql: DialectSql,
    },
    /// `run`: a named Rust function (a data migration). Does not change the replayed schema.
    RunRust {
        /// The function's name, as written in the migration file.
        function: String,
    },
}

/// The attributes an `alter_column` changes; `None` leaves one as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnChanges {
    /// New type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ty: Option<ColumnType>,
    /// New nullability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nullable: Option<bool>,
    /// New server default (`Some(None)` drops it).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub server_default: Option<Option<String>>,
    /// New comment (`Some(None)` drops it).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub comment: Option<Option<String>>,
}

/// Reads a field that is present: `null` is `Some(None)` ("drop it"), a value `Some(Some(v))`;
/// an absent field stays `None` ("no change") through `#[serde(default)]`. Without this,
/// serde reads `null` back as `None` and a dropped default silently becomes "no change".
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

impl ColumnChanges {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        *self == ColumnChanges::default()
    }

    /// The changes that turn `from` into `to` (names are not compared).
    pub fn between(from: &Column, to: &Column) -> ColumnChanges {
        ColumnChanges {
            ty: (from.ty != to.ty).then(|| to.ty.clone()),
            nullable: (from.nullable != to.nullable).then_some(to.nullable),
            // A whitespace-only edit of a default is no change (no rebuild).
            server_default: (!crate::expr::same_opt(&from.server_default, &to.server_default))
                .then(|| to.server_default.clone()),
            comment: (from.comment != to.comment).then(|| to.comment.clone()),
        }
    }

    /// Applies the changes to a column.
    pub fn apply_to(&self, column: &mut Column) {
        if let Some(ty) = &self.ty {
            column.ty = ty.clone();
        }
        if let Some(n) = self.nullable {
            column.nullable = n;
        }
        if let Some(d) = &self.server_default {
            column.server_default = d.clone();
        }
        if let Some(c) = &self.comment {
            column.comment = c.clone();
        }
    }
}

/// Which kind of constraint `drop_constraint` drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintKind {
    /// A unique constraint.
    Unique,
    /// A foreign key.
    ForeignKey,
    /// A check constraint.
    Check,
}

/// Raw SQL: one text for every dialect, or one per dialect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DialectSql {
    /// The same SQL everywhere.
    All(String),
    /// SQL per dialect; a dialect without an entry cannot run the migration.
    PerDialect {
        /// For SQLite.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sqlite: Option<String>,
        /// For PostgreSQL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        postgres: Option<String>,
        /// For MySQL / MariaDB.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mysql: Option<String>,
    },
}

/// Why an operation cannot be applied to a schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApplyError {
    /// What is wrong, naming the objects.
    pub message: String,
}

fn fail<T>(message: String) -> Result<T, ApplyError> {
    Err(ApplyError { message })
}

impl Op {
    /// Short Alembic-style name (`add_column`).
    pub fn name(&self) -> &'static str {
        match self {
            Op::CreateTable { .. } => "create_table",
            Op::DropTable { .. } => "drop_table",
            Op::RenameTable { .. } => "rename_table",
            Op::AddColumn { .. } => "add_column",
            Op::DropColumn { .. } => "drop_column",
            Op::RenameColumn { .. } => "rename_column",
            Op::AlterColumn { .. } => "alter_column",
            Op::CreateIndex { .. } => "create_index",
            Op::DropIndex { .. } => "drop_index",
            Op::AddUnique { .. } => "create_unique_constraint",
            Op::AddForeignKey { .. } => "create_foreign_key",
            Op::AddCheck { .. } => "create_check_constraint",
            Op::DropConstraint { .. } => "drop_constraint",
            Op::SetTableComment {
                comment: Some(_), ..
            } => "create_table_comment",
            Op::SetTableComment { comment: None, .. } => "drop_table_comment",
            Op::Execute { .. } => "execute",
            Op::RunRust { .. } => "run",
        }
    }

    /// The table the operation works on (the new name for a rename), if any.
    pub fn table(&self) -> Option<&str> {
        match self {
            Op::CreateTable { table } => Some(&table.name),
            Op::RenameTable { to, .. } => Some(to),
            Op::DropTable { table }
            | Op::AddColumn { table, .. }
            | Op::DropColumn { table, .. }
            | Op::RenameColumn { table, .. }
            | Op::AlterColumn { table, .. }
            | Op::CreateIndex { table, .. }
            | Op::DropIndex { table, .. }
            | Op::AddUnique { table, .. }
            | Op::AddForeignKey { table, .. }
            | Op::AddCheck { table, .. }
            | Op::DropConstraint { table, .. }
            | Op::SetTableComment { table, .. } => Some(table),
            Op::Execute { .. } | Op::RunRust { .. } => None,
        }
    }

    /// Whether running the operation loses data that its inverse cannot bring back.
    pub fn is_destructive(&self, before: &Schema) -> bool {
        match self {
            Op::DropTable { .. } | Op::DropColumn { .. } => true,
            Op::AlterColumn {
                table,
                column,
                changes,
            } => match (&changes.ty, find_column(before, table, column)) {
                (Some(to), Ok(c)) => crate::diff::is_narrowing(&c.ty, to),
                _ => false,
            },
            _ => false,
        }
    }

    /// What to do when the operation fails on existing rows, if it can fail because of them.
    pub fn failure_hint(&self) -> Option<String> {
        Some(match self {
            Op::AddColumn { table, column } if !column.nullable && column.server_default.is_none() => format!(
                "`{table}` has rows and the new NOT NULL column `{}` has no default: give it a server_default, or add it as nullable, backfill with execute(\"UPDATE …\"), then make it NOT NULL",
                column.name
            ),
            Op::AlterColumn { table, column, changes } if changes.nullable == Some(false) => format!(
                "rows of `{table}` hold NULL in `{column}`: backfill them with execute(\"UPDATE {table} SET {column} = … WHERE {column} IS NULL\") before this operation"
            ),
            Op::AlterColumn { table, column, changes } if changes.ty.is_some() => format!(
                "values of `{table}.{column}` do not fit the new type: convert or clean them with an execute(\"UPDATE …\") before this operation, or keep the type"
            ),
            Op::AddUnique { table, unique } => format!(
                "rows of `{table}` repeat ({cols}): find them with SELECT {cols}, COUNT(*) FROM {table} GROUP BY {cols} HAVING COUNT(*) > 1, and resolve them before this operation",
                cols = unique.columns.join(", ")
            ),
            Op::CreateIndex { table, index } if index.unique => format!(
                "rows of `{table}` repeat ({cols}): find them with SELECT {cols}, COUNT(*) FROM {table} GROUP BY {cols} HAVING COUNT(*) > 1, and resolve them before this operation",
                cols = index.columns.join(", ")
            ),
            Op::AddCheck { table, check } => format!(
                "rows of `{table}` violate `{}`: find them with SELECT * FROM {table} WHERE NOT ({}), and correct them before this operation",
                check.name, check.expression
            ),
            Op::AddForeignKey { table, foreign_key } => format!(
                "rows of `{table}` reference `{}` rows that do not exist: delete or correct them before this operation",
                foreign_key.referred_table
            ),
            _ => return None,
        })
    }

    /// One line for summaries: `add column tasks.retry_count`.
    pub fn describe(&self) -> String {
        match self {
            Op::CreateTable { table } => format!("create table {}", table.name),
            Op::DropTable { table } => format!("drop table {table}"),
            Op::RenameTable { from, to } => format!("rename table {from} to {to}"),
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
            Op::CreateIndex { table, index } => format!(
                "create {}index {} on {table} ({})",
                if index.unique { "unique " } else { "" },
                index.name,
                index.columns.join(", ")
            ),
            Op::DropIndex { table, name } => format!("drop index {name} on {table}"),
            Op::AddUnique { table, unique } => format!(
                "add unique constraint {} on {table} ({})",
                unique.name,
                unique.columns.join(", ")
            ),
            Op::AddForeignKey { table, foreign_key } => format!(
                "add foreign key {} on {table} ({}) -> {}({})",
                foreign_key.name,
                foreign_key.columns.join(", "),
                foreign_key.referred_table,
                foreign_key.referred_columns.join(", ")
            ),
            Op::AddCheck { table, check } => {
                format!(
                    "add check constraint {} on {table} ({})",
                    check.name, check.expression
                )
            }
            Op::DropConstraint { table, name, kind } => {
                let kind = match kind {
                    ConstraintKind::Unique => "unique constraint",
                    ConstraintKind::ForeignKey => "foreign key",
                    ConstraintKind::Check => "check constraint",
                };
                format!("drop {kind} {name} on {table}")
            }
            Op::SetTableComment { table, comment } => match comment {
                Some(_) => format!("set comment of table {table}"),
                None => format!("drop comment of table {table}"),
            },
            Op::Execute { .. } => "execute SQL".into(),
            Op::RunRust { function } => format!("run {function}()"),
        }
    }

    /// Changes `schema` as running the operation changes the database.
    ///
    /// Fails, naming the object, when the operation does not fit the schema (a column
    /// that already exists, a table that does not).
    pub fn apply(&self, schema: &mut Schema) -> Result<(), ApplyError> {
        match self {
            Op::CreateTable { table } => {
                if schema.tables.contains_key(&table.name) {
                    return fail(format!(
                        "create_table: table `{}` already exists",
                        table.name
                    ));
                }
                let mut t = table.clone();
                t.normalize();
                schema.tables.insert(t.name.clone(), t);
            }
            Op::DropTable { table } => {
                if schema.tables.remove(table).is_none() {
                    return fail(format!("drop_table: no table `{table}`"));
                }
            }
            Op::RenameTable { from, to } => {
                if schema.tables.contains_key(to) {
                    return fail(format!("rename_table: table `{to}` already exists"));
                }
                let Some(mut t) = schema.tables.remove(from) else {
                    return fail(format!("rename_table: no table `{from}`"));
                };
                t.name = to.clone();
                for other in schema.tables.values_mut() {
                    for fk in &mut other.foreign_keys {
                        if fk.referred_table == *from {
                            fk.referred_table = to.clone();
                        }
                    }
                }
                for fk in &mut t.foreign_keys {
                    if fk.referred_table == *from {
                        fk.referred_table = to.clone();
                    }
                }
                schema.tables.insert(to.clone(), t);
            }
            Op::AddColumn { table, column } => {
                let t = table_mut(schema, table, "add_column")?;
                if t.column(&column.name).is_some() {
                    return fail(format!(
                        "add_column: column `{table}.{}` already exists",
                        column.name
                    ));
                }
                t.columns.push(column.clone());
            }
            Op::DropColumn { table, column } => {
                let t = table_mut(schema, table, "drop_column")?;
                let Some(pos) = t.columns.iter().position(|c| c.name == *column) else {
                    return fail(format!("drop_column: no column `{table}.{column}`"));
                };
                if t.primary_key.contains(column) {
                    return fail(format!(
                        "drop_column: `{table}.{column}` is part of the primary key"
                    ));
                }
                t.columns.remove(pos);
                // Constraints and indexes over the column go with it, as in the databases.
                t.indexes.retain(|i| !i.columns.contains(column));
                t.uniques.retain(|u| !u.columns.contains(column));
                t.foreign_keys.retain(|f| !f.columns.contains(column));
            }
            Op::RenameColumn { table, from, to } => {
                let t = table_mut(schema, table, "rename_column")?;
                if t.column(to).is_some() {
                    return fail(format!(
                        "rename_column: column `{table}.{to}` already exists"
                    ));
                }
                let Some(c) = t.columns.iter_mut().find(|c| c.name == *from) else {
                    return fail(format!("rename_column: no column `{table}.{from}`"));
                };
                c.name = to.clone();
                let rename = |cols: &mut Vec<String>| {
                    for c in cols.iter_mut() {
                        if c == from {
                            *c = to.clone();
                        }
                    }
                };
                rename(&mut t.primary_key);
                t.indexes.iter_mut().for_each(|i| rename(&mut i.columns));
                t.uniques.iter_mut().for_each(|u| rename(&mut u.columns));
                t.foreign_keys
                    .iter_mut()
                    .for_each(|f| rename(&mut f.columns));
                let table_name = table.clone();
                for other in schema.tables.values_mut() {
                    for fk in &mut other.foreign_keys {
                        if fk.referred_table == table_name {
                            rename(&mut fk.referred_columns);
                        }
                    }
                }
            }
            Op::AlterColumn {
                table,
                column,
                changes,
            } => {
                let t = table_mut(schema, table, "alter_column")?;
                let Some(c) = t.columns.iter_mut().find(|c| c.name == *column) else {
                    return fail(format!("alter_column: no column `{table}.{column}`"));
                };
                changes.apply_to(c);
            }
            Op::CreateIndex { table, index } => {
                let t = table_mut(schema, table, "create_index")?;
                check_name_free(t, &index.name, "create_index")?;
                check_columns(t, &index.columns, "create_index")?;
                t.indexes.push(index.clone());
            }
            Op::DropIndex { table, name } => {
                let t = table_mut(schema, table, "drop_index")?;
                let before = t.indexes.len();
                t.indexes.retain(|i| i.name != *name);
                if t.indexes.len() == before {
                    return fail(format!("drop_index: no index `{name}` on `{table}`"));
                }
            }
            Op::AddUnique { table, unique } => {
                let t = table_mut(schema, table, "create_unique_constraint")?;
                check_name_free(t, &unique.name, "create_unique_constraint")?;
                check_columns(t, &unique.columns, "create_unique_constraint")?;
                t.uniques.push(unique.clone());
            }
            Op::AddForeignKey { table, foreign_key } => {
                let t = table_mut(schema, table, "create_foreign_key")?;
                check_name_free(t, &foreign_key.name, "create_foreign_key")?;
                check_columns(t, &foreign_key.columns, "create_foreign_key")?;
                t.foreign_keys.push(foreign_key.clone());
            }
            Op::AddCheck { table, check } => {
                let t = table_mut(schema, table, "create_check_constraint")?;
                check_name_free(t, &check.name, "create_check_constraint")?;
                t.checks.push(check.clone());
            }
            Op::DropConstraint { table, name, kind } => {
                let t = table_mut(schema, table, "drop_constraint")?;
                let removed = match kind {
                    ConstraintKind::Unique => remove_named(&mut t.uniques, name, |u| &u.name),
                    ConstraintKind::ForeignKey => {
                        remove_named(&mut t.foreign_keys, name, |f| &f.name)
                    }
                    ConstraintKind::Check => remove_named(&mut t.checks, name, |c| &c.name),
                };
                if !removed {
                    return fail(format!(
                        "drop_constraint: no {kind:?} constraint `{name}` on `{table}`"
                    ));
                }
            }
            Op::SetTableComment { table, comment } => {
                table_mut(schema, table, "table comment")?.comment = comment.clone();
            }
            Op::Execute { .. } | Op::RunRust { .. } => {}
        }
        if let Some(name) = self.table() {
            if let Some(t) = schema.tables.get_mut(name) {
                t.normalize();
            }
        }
        Ok(())
    }

    /// The operation that undoes this one, given the schema before it ran.
    ///
    /// `None` for raw SQL and Rust functions, whose effect is unknown. The inverse of a
    /// drop recreates the structure, not the data (see [`Op::is_destructive`]).
    pub fn inverse(&self, before: &Schema) -> Result<Option<Vec<Op>>, ApplyError> {
        let ops = match self {
            Op::CreateTable { table } => vec![Op::DropTable {
                table: table.name.clone(),
            }],
            Op::DropTable { table } => {
                let t = find_table(before, table)?;
                let mut bare = t.without_rename_hints();
                bare.indexes.clear();
                let mut ops = vec![Op::CreateTable { table: bare }];
                ops.extend(t.indexes.iter().map(|i| Op::CreateIndex {
                    table: table.clone(),
                    index: i.clone(),
                }));
                ops
            }
            Op::RenameTable { from, to } => vec![Op::RenameTable {
                from: to.clone(),
                to: from.clone(),
            }],
            Op::AddColumn { table, column } => vec![Op::DropColumn {
                table: table.clone(),
                column: column.name.clone(),
            }],
            Op::DropColumn { table, column } => {
                let t = find_table(before, table)?;
                let c = find_column(before, table, column)?;
                let mut ops = vec![Op::AddColumn {
                    table: table.clone(),
                    column: c.clone(),
                }];
                let mentions = |cols: &[String]| cols.contains(column);
                ops.extend(t.uniques.iter().filter(|u| mentions(&u.columns)).map(|u| {
                    Op::AddUnique {
                        table: table.clone(),
                        unique: u.clone(),
                    }
                }));
                ops.extend(
                    t.foreign_keys
                        .iter()
                        .filter(|f| mentions(&f.columns))
                        .map(|f| Op::AddForeignKey {
                            table: table.clone(),
                            foreign_key: f.clone(),
                        }),
                );
                ops.extend(t.indexes.iter().filter(|i| mentions(&i.columns)).map(|i| {
                    Op::CreateIndex {
                        table: table.clone(),
                        index: i.clone(),
                    }
                }));
                ops
            }
            Op::RenameColumn { table, from, to } => vec![Op::RenameColumn {
                table: table.clone(),
                from: to.clone(),
                to: from.clone(),
            }],
            Op::AlterColumn {
                table,
                column,
                changes,
            } => {
                let old = find_column(before, table, column)?;
                let mut new = old.clone();
                changes.apply_to(&mut new);
                vec![Op::AlterColumn {
                    table: table.clone(),
                    column: column.clone(),
                    changes: ColumnChanges::between(&new, old),
                }]
            }
            Op::CreateIndex { table, index } => vec![Op::DropIndex {
                table: table.clone(),
                name: index.name.clone(),
            }],
            Op::DropIndex { table, name } => {
                let t = find_table(before, table)?;
                let Some(index) = t.indexes.iter().find(|i| i.name == *name) else {
                    return fail(format!("drop_index: no index `{name}` on `{table}`"));
                };
                vec![Op::CreateIndex {
                    table: table.clone(),
                    index: index.clone(),
                }]
            }
            Op::AddUnique { table, unique } => vec![Op::DropConstraint {
                table: table.clone(),
                name: unique.name.clone(),
                kind: ConstraintKind::Unique,
            }],
            Op::AddForeignKey { table, foreign_key } => vec![Op::DropConstraint {
                table: table.clone(),
                name: foreign_key.name.clone(),
                kind: ConstraintKind::ForeignKey,
            }],
            Op::AddCheck { table, check } => vec![Op::DropConstraint {
                table: table.clone(),
                name: check.name.clone(),
                kind: ConstraintKind::Check,
            }],
            Op::DropConstraint { table, name, kind } => {
                let t = find_table(before, table)?;
                let found = match kind {
                    ConstraintKind::Unique => {
                        t.uniques
                            .iter()
                            .find(|u| u.name == *name)
                            .map(|u| Op::AddUnique {
                                table: table.clone(),
                                unique: u.clone(),
                            })
                    }
                    ConstraintKind::ForeignKey => t
                        .foreign_keys
                        .iter()
                        .find(|f| f.name == *name)
                        .map(|f| Op::AddForeignKey {
                            table: table.clone(),
                            foreign_key: f.clone(),
                        }),
                    ConstraintKind::Check => {
                        t.checks
                            .iter()
                            .find(|c| c.name == *name)
                            .map(|c| Op::AddCheck {
                                table: table.clone(),
                                check: c.clone(),
                            })
                    }
                };
                match found {
                    Some(op) => vec![op],
                    None => {
                        return fail(format!(
                            "drop_constraint: no constraint `{name}` on `{table}`"
                        ))
                    }
                }
            }
            Op::SetTableComment { table, .. } => vec![Op::SetTableComment {
                table: table.clone(),
                comment: find_table(before, table)?.comment.clone(),
            }],
            Op::Execute { .. } | Op::RunRust { .. } => return Ok(None),
        };
        Ok(Some(ops))
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

fn table_mut<'a>(
    schema: &'a mut Schema,
    table: &str,
    op: &str,
) -> Result<&'a mut Table, ApplyError> {
    match schema.tables.get_mut(table) {
        Some(t) => Ok(t),
        None => fail(format!("{op}: no table `{table}`")),
    }
}

fn find_table<'a>(schema: &'a Schema, table: &str) -> Result<&'a Table, ApplyError> {
    match schema.tables.get(table) {
        Some(t) => Ok(t),
        None => fail(format!("no table `{table}`")),
    }
}

fn find_column<'a>(
    schema: &'a Schema,
    table: &str,
    column: &str,
) -> Result<&'a Column, ApplyError> {
    match find_table(schema, table)?.column(column) {
        Some(c) => Ok(c),
        None => fail(format!("no column `{table}.{column}`")),
    }
}

fn check_name_free(t: &Table, name: &str, op: &str) -> Result<(), ApplyError> {
    if t.constraint_names().any(|n| n == name) {
        return fail(format!(
            "{op}: `{}` already has an index or constraint named `{name}`",
            t.name
        ));
    }
    Ok(())
}

fn check_columns(t: &Table, columns: &[String], op: &str) -> Result<(), ApplyError> {
    for c in columns {
        if t.column(c).is_none() {
            return fail(format!("{op}: no column `{}.{c}`", t.name));
        }
    }
    Ok(())
}

fn remove_named<T>(items: &mut Vec<T>, name: &str, key: impl Fn(&T) -> &String) -> bool {
    let before = items.len();
    items.retain(|i| key(i) != name);
    items.len() != before
}
