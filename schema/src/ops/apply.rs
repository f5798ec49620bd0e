//! How each operation changes a schema: the replay of a history, and the schema a
//! renderer sees before each operation.

use super::Family;
use super::{fail, ApplyError, ConstraintKind, Op};
use crate::model::{Schema, Table};

impl Op {
    /// Changes `schema` as running the operation changes the database.
    ///
    /// Fails, naming the object, when the operation does not fit the schema (a column
    /// that already exists, a table that does not).
    pub fn apply(&self, schema: &mut Schema) -> Result<(), ApplyError> {
        match self.family() {
            Family::Tables => self.apply_to_tables(schema)?,
            Family::Columns => self.apply_to_columns(schema)?,
            Family::Indexes => self.apply_to_indexes(schema)?,
            Family::Rest => self.apply_to_the_rest(schema)?,
        }
        match self {
            Op::CreateTable { table } => check_enum_columns(schema, &table.name, &table.columns)?,
            Op::AddColumn { table, column } => {
                check_enum_columns(schema, table, std::slice::from_ref(column))?
            }
            Op::AlterColumn {
                table,
                column,
                changes,
                ..
            } => {
                if let Some(ty) = &changes.ty {
                    let c = crate::Column::new(column.clone(), ty.clone());
                    check_enum_columns(schema, table, std::slice::from_ref(&c))?;
                }
            }
            _ => {}
        }
        if let Some(name) = self.table() {
            if let Some(t) = schema.tables.get_mut(name) {
                t.normalize();
            }
        }
        Ok(())
    }

    /// Tables as a whole.
    fn apply_to_tables(&self, schema: &mut Schema) -> Result<(), ApplyError> {
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
                // The primary key keeps its name, as in the databases.
                let pk = t.primary_key_constraint();
                t.name = to.clone();
                if !t.primary_key.is_empty() {
                    t.set_primary_key_name(&pk);
                }
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
            Op::SetTableComment { table, comment } => {
                table_mut(schema, table, "table comment")?.comment = comment.clone();
            }
            _ => unreachable!("apply sends only these operations here"),
        }
        Ok(())
    }

    /// Columns, and the rows a backfill fills.
    fn apply_to_columns(&self, schema: &mut Schema) -> Result<(), ApplyError> {
        match self {
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
                t.indexes
                    .retain(|i| !i.mentioned_columns().iter().any(|c| c == column));
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
                // A check follows the rename in the database (PostgreSQL keeps the column's
                // number; SQLite and MySQL rewrite the text): the replay does the same.
                for check in &mut t.checks {
                    check.expression = crate::expr::rename_column(&check.expression, from, to);
                }
                t.indexes.iter_mut().for_each(|i| i.rename_column(from, to));
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
                ..
            } => {
                let t = table_mut(schema, table, "alter_column")?;
                let Some(c) = t.columns.iter_mut().find(|c| c.name == *column) else {
                    return fail(format!("alter_column: no column `{table}.{column}`"));
                };
                changes.apply_to(c);
            }
            Op::Backfill { table, column, .. } => {
                let t = table_mut(schema, table, "backfill")?;
                if t.column(column).is_none() {
                    return fail(format!("backfill: no column `{column}` in `{table}`"));
                }
            }
            _ => unreachable!("apply sends only these operations here"),
        }
        Ok(())
    }

    /// Indexes and constraints.
    fn apply_to_indexes(&self, schema: &mut Schema) -> Result<(), ApplyError> {
        match self {
            Op::CreateIndex { table, index, .. } => {
                let t = table_mut(schema, table, "create_index")?;
                check_name_free(t, &index.name, "create_index")?;
                let mut read: Vec<String> =
                    index.column_names().into_iter().map(String::from).collect();
                read.extend(index.include.iter().cloned());
                check_columns(t, &read, "create_index")?;
                t.indexes.push(index.clone());
            }
            Op::DropIndex { table, name, .. } => {
                let t = table_mut(schema, table, "drop_index")?;
                let before = t.indexes.len();
                t.indexes.retain(|i| i.name != *name);
                if t.indexes.len() == before {
                    return fail(format!("drop_index: no index `{name}` on `{table}`"));
                }
            }
            Op::AddUnique { table, unique, .. } => {
                let t = table_mut(schema, table, "create_unique_constraint")?;
                check_name_free(t, &unique.name, "create_unique_constraint")?;
                check_columns(t, &unique.columns, "create_unique_constraint")?;
                t.uniques.push(unique.clone());
            }
            Op::AddForeignKey {
                table, foreign_key, ..
            } => {
                let t = table_mut(schema, table, "create_foreign_key")?;
                check_name_free(t, &foreign_key.name, "create_foreign_key")?;
                check_columns(t, &foreign_key.columns, "create_foreign_key")?;
                t.foreign_keys.push(foreign_key.clone());
            }
            Op::AddCheck { table, check, .. } => {
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
                    ConstraintKind::PrimaryKey => {
                        return fail(format!(
                            "drop_constraint: the primary key `{name}` of `{table}` goes with its table; a table keeps one"
                        ))
                    }
                };
                if !removed {
                    return fail(format!(
                        "drop_constraint: no {kind:?} constraint `{name}` on `{table}`"
                    ));
                }
            }
            Op::RenameIndex { table, from, to } => {
                let t = table_mut(schema, table, "rename_index")?;
                check_name_free(t, to, "rename_index")?;
                match t.indexes.iter_mut().find(|i| i.name == *from) {
                    Some(i) => i.name = to.clone(),
                    None => return fail(format!("rename_index: no index `{from}` on `{table}`")),
                }
            }
            Op::RenameConstraint {
                table,
                from,
                to,
                kind,
            } => {
                let t = table_mut(schema, table, "rename_constraint")?;
                check_name_free(t, to, "rename_constraint")?;
                let name = match kind {
                    ConstraintKind::Unique => t
                        .uniques
                        .iter_mut()
                        .find(|u| u.name == *from)
                        .map(|u| &mut u.name),
                    ConstraintKind::ForeignKey => t
                        .foreign_keys
                        .iter_mut()
                        .find(|f| f.name == *from)
                        .map(|f| &mut f.name),
                    ConstraintKind::Check => t
                        .checks
                        .iter_mut()
                        .find(|c| c.name == *from)
                        .map(|c| &mut c.name),
                    ConstraintKind::PrimaryKey => {
                        if t.primary_key_constraint() != *from {
                            return fail(format!(
                                "rename_constraint: the primary key of `{table}` is `{}`, not `{from}`",
                                t.primary_key_constraint()
                            ));
                        }
                        t.set_primary_key_name(to);
                        return Ok(());
                    }
                };
                match name {
                    Some(n) => *n = to.clone(),
                    None => {
                        return fail(format!(
                            "rename_constraint: no {kind:?} constraint `{from}` on `{table}`"
                        ))
                    }
                }
            }
            _ => unreachable!("apply sends only these operations here"),
        }
        Ok(())
    }

    /// Raw SQL, Rust functions, database objects and enum types.
    fn apply_to_the_rest(&self, schema: &mut Schema) -> Result<(), ApplyError> {
        match self {
            Op::Execute { .. } | Op::RunRust { .. } => {}
            Op::CreateObject { object } => {
                if schema.objects.contains_key(&object.key()) {
                    return fail(format!(
                        "create_object: {} `{}` already exists",
                        object.kind.word(),
                        object.name
                    ));
                }
                schema.objects.insert(object.key(), object.clone());
            }
            Op::DropObject { object } => {
                if schema.objects.remove(&object.key()).is_none() {
                    return fail(format!(
                        "drop_object: no {} `{}`",
                        object.kind.word(),
                        object.name
                    ));
                }
            }
            Op::CreateEnum { name, values } => {
                if schema.enums.contains_key(name) {
                    return fail(format!("create_enum: enum `{name}` already exists"));
                }
                check_enum_values(name, values)?;
                schema
                    .enums
                    .insert(name.clone(), crate::model::EnumType::new(values.clone()));
            }
            Op::DropEnum { name, .. } => {
                if let Some((t, c)) = enum_user(schema, name) {
                    return fail(format!(
                        "drop_enum: column `{t}.{c}` still uses enum `{name}`; drop or change it first"
                    ));
                }
                if schema.enums.remove(name).is_none() {
                    return fail(format!("drop_enum: no enum `{name}`"));
                }
            }
            Op::AlterEnum {
                name,
                from,
                to,
                renamed,
            } => {
                check_enum_values(name, to)?;
                let Some(e) = schema.enums.get_mut(name) else {
                    return fail(format!("alter_enum: no enum `{name}`"));
                };
                if e.values != *from {
                    return fail(format!(
                        "alter_enum: enum `{name}` has the values ({}), not ({}) as this operation says",
                        e.values.join(", "),
                        from.join(", ")
                    ));
                }
                for (old, new) in renamed {
                    if !from.contains(old) || !to.contains(new) {
                        return fail(format!("alter_enum: the rename of `{old}` to `{new}` in enum `{name}` needs `{old}` among the old values and `{new}` among the new"));
                    }
                }
                e.values = to.clone();
                for t in schema.tables.values_mut() {
                    for c in &mut t.columns {
                        if let crate::ColumnType::Enum { name: n, values } = &mut c.ty {
                            if n == name {
                                *values = to.clone();
                                if let Some(d) = &mut c.server_default {
                                    *d = crate::sql::enums::renamed_default(d, renamed);
                                }
                            }
                        }
                    }
                }
            }
            _ => unreachable!("apply sends only these operations here"),
        }
        Ok(())
    }
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

/// An enum's values: at least one, none empty or twice.
fn check_enum_values(name: &str, values: &[String]) -> Result<(), ApplyError> {
    if values.is_empty() {
        return fail(format!("enum `{name}` has no values; give it at least one"));
    }
    for (i, v) in values.iter().enumerate() {
        if v.is_empty() {
            return fail(format!("enum `{name}` has an empty value"));
        }
        if values[..i].contains(v) {
            return fail(format!("enum `{name}` lists the value `{v}` twice"));
        }
    }
    Ok(())
}

/// A column that uses enum `name`, if any.
fn enum_user(schema: &Schema, name: &str) -> Option<(String, String)> {
    schema.tables.values().find_map(|t| {
        t.columns.iter().find_map(|c| match &c.ty {
            crate::ColumnType::Enum { name: n, .. } if n == name => {
                Some((t.name.clone(), c.name.clone()))
            }
            _ => None,
        })
    })
}

/// Columns of an enum type need the type, with the same values (`create_enum` first).
fn check_enum_columns(
    schema: &Schema,
    table: &str,
    columns: &[crate::Column],
) -> Result<(), ApplyError> {
    for c in columns {
        if let crate::ColumnType::Enum { name, values } = &c.ty {
            match schema.enums.get(name) {
                None => {
                    return fail(format!(
                        "column `{table}.{}` uses enum `{name}`, which does not exist here; put `create_enum(\"{name}\", […])` before it",
                        c.name
                    ))
                }
                Some(e) if e.values != *values => {
                    return fail(format!(
                        "column `{table}.{}` lists the values ({}) of enum `{name}`, which has ({})",
                        c.name,
                        values.join(", "),
                        e.values.join(", ")
                    ))
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}
