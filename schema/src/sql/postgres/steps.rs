//! The PostgreSQL statements of the operations that take more than one: a table made or
//! moved between schemas, a column added or changed (type, default, nullability, comment),
//! a unique constraint built online.

use super::{
    concurrent, convert, create_schema, drop_schema_if_empty, postgres_default, postgres_type,
    validate, views, PostgresHooks,
};
use crate::model::{Column, Index, Schema, Table, UniqueConstraint};
use crate::ops::ColumnChanges;
use crate::sql::ansi::{self, Hooks};
use crate::sql::{quote_ident, quote_literal, split_schema, Dialect, RenderError, Step};

/// The last table of another schema takes the schema with it (when nothing else is left in
/// it); `None` for any other table.
pub(super) fn drop_last_table_of_schema(
    h: &PostgresHooks,
    table: &str,
    before: &Schema,
) -> Option<Vec<Step>> {
    let schema = split_schema(table).0?;
    let others = before
        .tables
        .keys()
        .any(|t| t != table && split_schema(t).0 == Some(schema));
    (!others).then(|| {
        vec![
            Step::Sql(format!("DROP TABLE {}", h.q(table))),
            Step::Sql(drop_schema_if_empty(schema)),
        ]
    })
}

/// `CREATE TABLE` with its schema, comments and the constraints kept `NOT VALID` on purpose.
pub(super) fn create_table(h: &PostgresHooks, table: &Table) -> Vec<Step> {
    let mut v: Vec<Step> = h.before_create(table).into_iter().map(Step::Sql).collect();
    v.push(Step::Sql(ansi::create_table(h, table, &|f| !f.not_valid)));
    v.extend(h.after_create(table).into_iter().map(Step::Sql));
    v.extend(
        table
            .foreign_keys
            .iter()
            .filter(|f| f.not_valid)
            .map(|f| Step::Sql(ansi::add_foreign_key(h, &table.name, f))),
    );
    v
}

/// A table renamed; to another schema, moved there first (made if need be), then renamed.
pub(super) fn rename_table(h: &PostgresHooks, from: &str, to: &str) -> Vec<Step> {
    let (from_schema, from_name) = split_schema(from);
    let (to_schema, to_name) = split_schema(to);
    let mut v = Vec::new();
    let mut at = from.to_string();
    if from_schema != to_schema {
        match to_schema {
            Some(s) => {
                v.push(Step::Sql(create_schema(s)));
                v.push(Step::Sql(format!(
                    "ALTER TABLE {} SET SCHEMA {}",
                    h.q(from),
                    quote_ident(s, Dialect::Postgres)
                )));
            }
            // SET SCHEMA takes a name: the connection's current one, looked up.
            None => v.push(Step::Sql(format!(
                "DO $retort$ BEGIN EXECUTE format('ALTER TABLE %s SET SCHEMA %I', {}, current_schema()); END $retort$",
                quote_literal(&h.q(from))
            ))),
        }
        at = match to_schema {
            Some(s) => format!("{s}.{from_name}"),
            None => from_name.to_string(),
        };
        if let Some(s) = from_schema {
            v.push(Step::Sql(drop_schema_if_empty(s)));
        }
    }
    if from_name != to_name {
        v.push(Step::Sql(format!(
            "ALTER TABLE {} RENAME TO {}",
            h.q(&at),
            quote_ident(to_name, Dialect::Postgres)
        )));
    }
    v
}

/// `ADD COLUMN`, and its comment.
pub(super) fn add_column(
    h: &PostgresHooks,
    before: &Schema,
    table: &str,
    column: &Column,
) -> Result<Vec<Step>, RenderError> {
    let t = ansi::table(before, table)?;
    let mut v = vec![Step::Sql(format!(
        "ALTER TABLE {} ADD COLUMN {}",
        h.q(table),
        h.column_def(t, column)
    ))];
    if let Some(text) = &column.comment {
        v.push(Step::Sql(h.comment_on_column(
            table,
            &column.name,
            Some(text),
        )));
    }
    Ok(v)
}

/// One column's changes, in order: type (with its default set aside), default,
/// nullability, comment.
pub(super) fn alter_column(
    h: &PostgresHooks,
    before: &Schema,
    table: &str,
    column: &str,
    changes: &ColumnChanges,
    online: bool,
) -> Result<Vec<Step>, RenderError> {
    let (_, old) = ansi::column(before, table, column)?;
    let alter = Alter { h, table, column };
    let mut v = Vec::new();
    let new_ty = changes.ty.as_ref().unwrap_or(&old.ty);
    if let Some(ty) = &changes.ty {
        crate::sql::refuse_unconvertible(table, column, &old.ty, ty)?;
        v.extend(ansi::value_check(h, table, column, &old.ty, ty));
        // The views that read the column are kept and dropped, and made again after the
        // change (PostgreSQL refuses to change it under them).
        v.push(Step::Sql(views::keep_and_drop(&h.q(table), column, table)));
        // The old default may not cast to the new type: drop it, change the type (values
        // converted by USING, each checked above), set it again.
        if old.server_default.is_some() {
            v.push(alter.sql("DROP DEFAULT"));
        }
        v.push(alter.sql(&format!(
            "TYPE {} USING {}",
            postgres_type(ty),
            convert::using(&h.q(column), &old.ty, ty)
        )));
        v.push(Step::Sql(views::make_again()));
        let new_default = match &changes.server_default {
            Some(d) => d.as_ref(),
            None => old.server_default.as_ref(),
        };
        if let Some(d) = new_default {
            v.push(alter.sql(&format!("SET DEFAULT {}", postgres_default(new_ty, d))));
        }
    } else if let Some(d) = &changes.server_default {
        v.push(match d {
            Some(d) => alter.sql(&format!("SET DEFAULT {}", postgres_default(new_ty, d))),
            None => alter.sql("DROP DEFAULT"),
        });
    }
    match changes.nullable {
        Some(false) if online => v.extend(alter.set_not_null_online()),
        Some(false) => {
            v.push(crate::sql::null_check(table, column, Dialect::Postgres));
            v.push(alter.sql("SET NOT NULL"));
        }
        Some(true) => v.push(alter.sql("DROP NOT NULL")),
        None => {}
    }
    if let Some(comment) = &changes.comment {
        v.push(Step::Sql(h.comment_on_column(
            table,
            column,
            comment.as_deref(),
        )));
    }
    Ok(v)
}

/// `ALTER TABLE … ALTER COLUMN …` statements of one column.
struct Alter<'a> {
    h: &'a PostgresHooks,
    table: &'a str,
    column: &'a str,
}

impl Alter<'_> {
    fn sql(&self, what: &str) -> Step {
        Step::Sql(format!(
            "ALTER TABLE {} ALTER COLUMN {} {what}",
            self.h.q(self.table),
            self.h.q(self.column)
        ))
    }

    /// A check proven without blocking writes lets `SET NOT NULL` skip its scan
    /// (PostgreSQL 12+); each statement commits on its own.
    fn set_not_null_online(&self) -> Vec<Step> {
        let (h, table, column) = (self.h, self.table, self.column);
        let check = crate::naming::not_null_check_name(table, column);
        vec![
            crate::sql::null_check(table, column, Dialect::Postgres),
            Step::Sql(format!(
                "ALTER TABLE {} ADD CONSTRAINT {} CHECK ({} IS NOT NULL) NOT VALID",
                h.q(table),
                h.q(&check),
                h.q(column)
            )),
            Step::Sql(validate(h, table, &check)),
            self.sql("SET NOT NULL"),
            Step::Sql(format!(
                "ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}",
                h.q(table),
                h.q(&check)
            )),
        ]
    }
}

/// A unique constraint added online: its index built without blocking writes, then taken
/// over by the constraint (a catalog change).
pub(super) fn online_unique(
    h: &PostgresHooks,
    table: &str,
    unique: &UniqueConstraint,
) -> Vec<Step> {
    let mut index = Index::on_columns(unique.name.clone(), unique.columns.clone(), true);
    index.nulls_not_distinct = unique.nulls_not_distinct;
    let build = concurrent(&ansi::create_index(h, table, &index));
    let deferral = unique.deferral.sql();
    vec![
        Step::Sql(build),
        Step::Sql(format!(
            "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE USING INDEX {}{deferral}",
            h.q(table),
            h.q(&unique.name),
            quote_ident(&unique.name, Dialect::Postgres)
        )),
    ]
}
