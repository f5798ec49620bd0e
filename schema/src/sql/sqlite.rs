//! SQLite: native ADD / DROP / RENAME COLUMN and RENAME TO where SQLite allows them,
//! and SQLite's documented twelve-step table rebuild for everything else (the runner
//! turns foreign keys off around the transaction and runs `PRAGMA foreign_key_check`
//! before committing).

use super::{quote_ident, RenderError, Step};
use crate::model::{Column, ColumnType, Schema, Table};
use crate::ops::Op;
use crate::sql::Dialect;

fn q(name: &str) -> String {
    quote_ident(name, Dialect::Sqlite)
}

/// The declared type for a column: names that keep the portable type readable (for
/// introspection) and give SQLite the right affinity.
pub fn sqlite_type(ty: &ColumnType) -> String {
    match ty {
        ColumnType::SmallInt => "SMALLINT".into(),
        ColumnType::Integer => "INTEGER".into(),
        ColumnType::BigInt => "BIGINT".into(),
        ColumnType::Real => "REAL".into(),
        ColumnType::Double => "DOUBLE".into(),
        ColumnType::Numeric {
            precision: None, ..
        } => "NUMERIC".into(),
        ColumnType::Numeric {
            precision: Some(p),
            scale: None,
        } => format!("NUMERIC({p})"),
        ColumnType::Numeric {
            precision: Some(p),
            scale: Some(s),
        } => format!("NUMERIC({p},{s})"),
        ColumnType::Boolean => "BOOLEAN".into(),
        ColumnType::Text => "TEXT".into(),
        ColumnType::Varchar { length } => format!("VARCHAR({length})"),
        ColumnType::Char { length } => format!("CHAR({length})"),
        ColumnType::Binary => "BLOB".into(),
        ColumnType::Date => "DATE".into(),
        ColumnType::Time => "TIME".into(),
        ColumnType::Timestamp => "TIMESTAMP".into(),
        ColumnType::TimestampTz => "TIMESTAMPTZ".into(),
        ColumnType::Uuid => "UUID".into(),
        ColumnType::Json => "JSON".into(),
        ColumnType::Custom { sql } => sql.clone(),
    }
}

/// A default as SQLite accepts it: literals as written, anything else in parentheses.
fn default_clause(expr: &str) -> String {
    let e = expr.trim();
    let upper = e.to_ascii_uppercase();
    let literal = e.parse::<f64>().is_ok()
        || (e.starts_with('\'') && e.ends_with('\'') && e.len() >= 2)
        || [
            "NULL",
            "TRUE",
            "FALSE",
            "CURRENT_TIMESTAMP",
            "CURRENT_DATE",
            "CURRENT_TIME",
        ]
        .contains(&upper.as_str());
    if literal {
        format!(" DEFAULT {e}")
    } else {
        format!(" DEFAULT ({e})")
    }
}

fn column_def(t: &Table, c: &Column) -> String {
    let rowid_key = c.autoincrement && t.primary_key == [c.name.clone()];
    if rowid_key {
        // Only `INTEGER PRIMARY KEY` aliases the rowid; AUTOINCREMENT never reuses ids.
        return format!("{} INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL", q(&c.name));
    }
    let mut s = format!("{} {}", q(&c.name), sqlite_type(&c.ty));
    if !c.nullable {
        s.push_str(" NOT NULL");
    }
    if let Some(d) = &c.server_default {
        s.push_str(&default_clause(d));
    }
    s
}

/// `CREATE TABLE` for `t` under the name `name`.
fn create_table(t: &Table, name: &str) -> String {
    let mut parts: Vec<String> = t.columns.iter().map(|c| column_def(t, c)).collect();
    let rowid_key = t
        .columns
        .iter()
        .any(|c| c.autoincrement && t.primary_key == [c.name.clone()]);
    if !t.primary_key.is_empty() && !rowid_key {
        let cols: Vec<String> = t.primary_key.iter().map(|c| q(c)).collect();
        parts.push(format!(
            "CONSTRAINT {} PRIMARY KEY ({})",
            q(&format!("pk_{}", t.name)),
            cols.join(", ")
        ));
    }
    for u in &t.uniques {
        let cols: Vec<String> = u.columns.iter().map(|c| q(c)).collect();
        parts.push(format!(
            "CONSTRAINT {} UNIQUE ({})",
            q(&u.name),
            cols.join(", ")
        ));
    }
    for fk in &t.foreign_keys {
        let cols: Vec<String> = fk.columns.iter().map(|c| q(c)).collect();
        let rcols: Vec<String> = fk.referred_columns.iter().map(|c| q(c)).collect();
        let mut s = format!(
            "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({})",
            q(&fk.name),
            cols.join(", "),
            q(&fk.referred_table),
            rcols.join(", ")
        );
        if fk.on_delete != crate::ReferentialAction::NoAction {
            s.push_str(&format!(" ON DELETE {}", fk.on_delete.sql()));
        }
        if fk.on_update != crate::ReferentialAction::NoAction {
            s.push_str(&format!(" ON UPDATE {}", fk.on_update.sql()));
        }
        parts.push(s);
    }
    for c in &t.checks {
        parts.push(format!(
            "CONSTRAINT {} CHECK ({})",
            q(&c.name),
            c.expression
        ));
    }
    format!(
        "CREATE TABLE {} (\n    {}\n)",
        q(name),
        parts.join(",\n    ")
    )
}

fn create_index(table: &str, i: &crate::Index) -> String {
    let cols: Vec<String> = i.columns.iter().map(|c| q(c)).collect();
    format!(
        "CREATE {}INDEX {} ON {} ({})",
        if i.unique { "UNIQUE " } else { "" },
        q(&i.name),
        q(table),
        cols.join(", ")
    )
}

pub(super) fn create_all(schema: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    let mut done: Vec<&str> = Vec::new();
    // Referenced tables first where possible (SQLite does not check this at CREATE time anyway).
    let mut pending: Vec<&Table> = schema.tables.values().collect();
    while !pending.is_empty() {
        let ready = pending
            .iter()
            .position(|t| {
                t.foreign_keys.iter().all(|f| {
                    f.referred_table == t.name
                        || done.contains(&f.referred_table.as_str())
                        || !schema.tables.contains_key(&f.referred_table)
                })
            })
            .unwrap_or(0);
        let t = pending.remove(ready);
        out.push(create_table(t, &t.name));
        done.push(&t.name);
    }
    for t in schema.tables.values() {
        for i in &t.indexes {
            out.push(create_index(&t.name, i));
        }
    }
    out
}

fn table<'a>(schema: &'a Schema, name: &str) -> Result<&'a Table, RenderError> {
    schema.tables.get(name).ok_or_else(|| RenderError {
        message: format!("no table `{name}` in the schema before this operation"),
    })
}

fn sql(s: String) -> Step {
    Step::Sql(s)
}

pub(super) fn render(op: &Op, before: &Schema) -> Result<Vec<Step>, RenderError> {
    let steps = match op {
        Op::CreateTable { table } => vec![sql(create_table(table, &table.name))],
        Op::DropTable { table } => vec![sql(format!("DROP TABLE {}", q(table)))],
        Op::RenameTable { from, to } => {
            vec![sql(format!("ALTER TABLE {} RENAME TO {}", q(from), q(to)))]
        }
        Op::AddColumn {
            table: name,
            column,
        } => {
            let t = table(before, name)?;
            if can_add_natively(column) {
                vec![sql(format!(
                    "ALTER TABLE {} ADD COLUMN {}",
                    q(name),
                    column_def(t, column)
                ))]
            } else {
                rebuild(op, before, name)?
            }
        }
        Op::DropColumn {
            table: name,
            column,
        } => {
            let t = table(before, name)?;
            let mentioned = t.primary_key.contains(column)
                || t.uniques.iter().any(|u| u.columns.contains(column))
                || t.foreign_keys.iter().any(|f| f.columns.contains(column))
                || t.indexes.iter().any(|i| i.columns.contains(column))
                || t.checks
                    .iter()
                    .any(|c| c.expression.contains(column.as_str()));
            if mentioned {
                rebuild(op, before, name)?
            } else {
                vec![sql(format!(
                    "ALTER TABLE {} DROP COLUMN {}",
                    q(name),
                    q(column)
                ))]
            }
        }
        Op::RenameColumn { table, from, to } => {
            vec![sql(format!(
                "ALTER TABLE {} RENAME COLUMN {} TO {}",
                q(table),
                q(from),
                q(to)
            ))]
        }
        Op::CreateIndex { table, index } => vec![sql(create_index(table, index))],
        Op::DropIndex { name, .. } => vec![sql(format!("DROP INDEX {}", q(name)))],
        // SQLite stores no comments: they live in the models and the snapshot.
        Op::SetTableComment { .. } => Vec::new(),
        Op::AlterColumn { changes, .. }
            if changes.ty.is_none()
                && changes.nullable.is_none()
                && changes.server_default.is_none() =>
        {
            Vec::new()
        }
        Op::AlterColumn { table: name, .. }
        | Op::AddUnique { table: name, .. }
        | Op::AddForeignKey { table: name, .. }
        | Op::AddCheck { table: name, .. }
        | Op::DropConstraint { table: name, .. } => rebuild(op, before, name)?,
        Op::Execute { .. } | Op::RunRust { .. } => unreachable!("handled by sql::render"),
    };
    Ok(steps)
}

/// Whether `ALTER TABLE … ADD COLUMN` accepts the column (SQLite's documented limits).
fn can_add_natively(c: &Column) -> bool {
    let default_ok = match &c.server_default {
        None => c.nullable,
        Some(d) => {
            let d = d.trim().to_ascii_uppercase();
            !d.starts_with('(') && !d.starts_with("CURRENT_") && d != "NULL"
        }
    };
    default_ok && !c.autoincrement
}

/// The rebuild: create the new table under a temporary name, copy the rows of the columns
/// both versions share, drop the old table, rename the new one, recreate its indexes.
fn rebuild(op: &Op, before: &Schema, name: &str) -> Result<Vec<Step>, RenderError> {
    let old = table(before, name)?;
    let mut after_schema = before.clone();
    op.apply(&mut after_schema)
        .map_err(|e| RenderError { message: e.message })?;
    let new = table(&after_schema, name)?;
    let temp = format!("_retort_new_{name}");
    let shared: Vec<String> = new
        .columns
        .iter()
        .filter(|c| old.column(&c.name).is_some())
        .map(|c| q(&c.name))
        .collect();
    let mut steps = vec![
        sql(create_table(new, &temp)),
        sql(format!(
            "INSERT INTO {} ({cols}) SELECT {cols} FROM {}",
            q(&temp),
            q(name),
            cols = shared.join(", ")
        )),
        sql(format!("DROP TABLE {}", q(name))),
        sql(format!("ALTER TABLE {} RENAME TO {}", q(&temp), q(name))),
    ];
    for i in &new.indexes {
        steps.push(sql(create_index(name, i)));
    }
    Ok(steps)
}
