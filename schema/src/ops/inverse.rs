//! What undoes an operation, and whether undoing it brings the data back. One copy of these
//! rules: the diff writes downgrades with them, the build marks destructive operations
//! with them.

use super::Family;
use super::{fail, ApplyError, ColumnChanges, ConstraintKind, Op};
use crate::model::{Column, ColumnType, Schema, Table};

impl Op {
    /// Whether running the operation loses data that its inverse cannot bring back.
    pub fn is_destructive(&self, before: &Schema) -> bool {
        match self {
            Op::DropTable { .. } | Op::DropColumn { .. } => true,
            Op::AlterColumn {
                table,
                column,
                changes,
                ..
            } => match (&changes.ty, find_column(before, table, column)) {
                (Some(to), Ok(c)) => is_narrowing(&c.ty, to),
                _ => false,
            },
            _ => false,
        }
    }

    /// The operation that undoes this one, given the schema before it ran.
    ///
    /// `None` for raw SQL and Rust functions, whose effect is unknown. The inverse of a
    /// drop recreates the structure, not the data (see [`Op::is_destructive`]).
    pub fn inverse(&self, before: &Schema) -> Result<Option<Vec<Op>>, ApplyError> {
        match self.family() {
            Family::Tables => self.inverse_tables(before),
            Family::Columns => self.inverse_columns(before),
            Family::Indexes => self.inverse_indexes(before),
            Family::Rest => self.inverse_rest(before),
        }
    }

    /// Tables as a whole.
    fn inverse_tables(&self, before: &Schema) -> Result<Option<Vec<Op>>, ApplyError> {
        Ok(Some(match self {
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
                    concurrently: false,
                }));
                ops
            }
            Op::RenameTable { from, to } => vec![Op::RenameTable {
                from: to.clone(),
                to: from.clone(),
            }],
            Op::SetTableComment { table, .. } => vec![Op::SetTableComment {
                table: table.clone(),
                comment: find_table(before, table)?.comment.clone(),
            }],
            _ => unreachable!("inverse sends only these operations here"),
        }))
    }

    /// Columns, and backfills.
    fn inverse_columns(&self, before: &Schema) -> Result<Option<Vec<Op>>, ApplyError> {
        Ok(Some(match self {
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
                        online: false,
                    }
                }));
                ops.extend(
                    t.foreign_keys
                        .iter()
                        .filter(|f| mentions(&f.columns))
                        .map(|f| Op::AddForeignKey {
                            table: table.clone(),
                            foreign_key: f.clone(),
                            online: false,
                        }),
                );
                ops.extend(
                    t.indexes
                        .iter()
                        .filter(|i| mentions(&i.mentioned_columns()))
                        .map(|i| Op::CreateIndex {
                            table: table.clone(),
                            index: i.clone(),
                            concurrently: false,
                        }),
                );
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
                ..
            } => {
                let old = find_column(before, table, column)?;
                let mut new = old.clone();
                changes.apply_to(&mut new);
                vec![Op::AlterColumn {
                    table: table.clone(),
                    column: column.clone(),
                    changes: ColumnChanges::between(&new, old),
                    online: false,
                }]
            }
            Op::Backfill { .. } => Vec::new(),
            _ => unreachable!("inverse sends only these operations here"),
        }))
    }

    /// Indexes and constraints.
    fn inverse_indexes(&self, before: &Schema) -> Result<Option<Vec<Op>>, ApplyError> {
        Ok(Some(match self {
            Op::CreateIndex {
                table,
                index,
                concurrently,
            } => vec![Op::DropIndex {
                table: table.clone(),
                name: index.name.clone(),
                concurrently: *concurrently,
            }],
            Op::DropIndex {
                table,
                name,
                concurrently,
            } => {
                let t = find_table(before, table)?;
                let Some(index) = t.indexes.iter().find(|i| i.name == *name) else {
                    return fail(format!("drop_index: no index `{name}` on `{table}`"));
                };
                vec![Op::CreateIndex {
                    table: table.clone(),
                    index: index.clone(),
                    concurrently: *concurrently,
                }]
            }
            Op::AddUnique { table, unique, .. } => vec![Op::DropConstraint {
                table: table.clone(),
                name: unique.name.clone(),
                kind: ConstraintKind::Unique,
            }],
            Op::AddForeignKey {
                table, foreign_key, ..
            } => vec![Op::DropConstraint {
                table: table.clone(),
                name: foreign_key.name.clone(),
                kind: ConstraintKind::ForeignKey,
            }],
            Op::AddCheck { table, check, .. } => vec![Op::DropConstraint {
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
                                online: false,
                            })
                    }
                    ConstraintKind::ForeignKey => t
                        .foreign_keys
                        .iter()
                        .find(|f| f.name == *name)
                        .map(|f| Op::AddForeignKey {
                            table: table.clone(),
                            foreign_key: f.clone(),
                            online: false,
                        }),
                    ConstraintKind::Check => {
                        t.checks
                            .iter()
                            .find(|c| c.name == *name)
                            .map(|c| Op::AddCheck {
                                table: table.clone(),
                                check: c.clone(),
                                online: false,
                            })
                    }
                    // Never made by a file (refused when read): nothing to make again.
                    ConstraintKind::PrimaryKey => None,
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
            Op::RenameIndex { table, from, to } => vec![Op::RenameIndex {
                table: table.clone(),
                from: to.clone(),
                to: from.clone(),
            }],
            Op::RenameConstraint {
                table,
                from,
                to,
                kind,
            } => vec![Op::RenameConstraint {
                table: table.clone(),
                from: to.clone(),
                to: from.clone(),
                kind: *kind,
            }],
            _ => unreachable!("inverse sends only these operations here"),
        }))
    }

    /// Raw SQL, Rust functions, database objects and enum types.
    fn inverse_rest(&self, _before: &Schema) -> Result<Option<Vec<Op>>, ApplyError> {
        Ok(Some(match self {
            Op::Execute { .. } | Op::RunRust { .. } => return Ok(None),
            // The values it wrote were NULL before: nothing to restore that a downgrade of
            // the column itself does not.
            Op::CreateObject { object } => vec![Op::DropObject {
                object: object.clone(),
            }],
            Op::DropObject { object } => vec![Op::CreateObject {
                object: object.clone(),
            }],
            Op::CreateEnum { name, values } => vec![Op::DropEnum {
                name: name.clone(),
                values: values.clone(),
            }],
            Op::DropEnum { name, values } => vec![Op::CreateEnum {
                name: name.clone(),
                values: values.clone(),
            }],
            Op::AlterEnum {
                name,
                from,
                to,
                renamed,
            } => vec![Op::AlterEnum {
                name: name.clone(),
                from: to.clone(),
                to: from.clone(),
                renamed: renamed
                    .iter()
                    .map(|(old, new)| (new.clone(), old.clone()))
                    .collect(),
            }],
            _ => unreachable!("inverse sends only these operations here"),
        }))
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

/// Whether a value of `from` may not fit `to`: the conversion is checked value by value
/// (see [`crate::convert`]), or refused.
pub fn is_narrowing(from: &ColumnType, to: &ColumnType) -> bool {
    !matches!(
        crate::convert::conversion(from, to),
        crate::convert::Conversion::Same | crate::convert::Conversion::Widening
    )
}
