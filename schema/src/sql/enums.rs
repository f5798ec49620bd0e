//! Enum types on each database: PostgreSQL's named types (`CREATE TYPE … AS ENUM`, `ALTER
//! TYPE … ADD VALUE / RENAME VALUE`, or a rebuilt type), MySQL's `ENUM(…)` columns (`MODIFY
//! COLUMN`), SQLite's text columns with a `CHECK` (a table rebuild). Whatever a change
//! removes is checked first: a row that holds a value going stops the migration, naming
//! the column and the value, and nothing changes.

use super::{quote_ident, quote_literal, Dialect, RenderError, Step};
use crate::model::{Column, ColumnType, Schema, Table};
use crate::ops::Op;

/// The steps of `create_enum`, `drop_enum` or `alter_enum` on `before`.
pub(super) fn render(op: &Op, before: &Schema, dialect: Dialect) -> Result<Vec<Step>, RenderError> {
    match (op, dialect) {
        (Op::CreateEnum { name, values }, Dialect::Postgres) => Ok(vec![Step::Sql(format!(
            "CREATE TYPE {} AS ENUM ({})",
            quote_ident(name, dialect),
            literals(values)
        ))]),
        (Op::DropEnum { name, .. }, Dialect::Postgres) => Ok(vec![Step::Sql(format!(
            "DROP TYPE {}",
            quote_ident(name, dialect)
        ))]),
        // Elsewhere the values live in the columns: nothing to make or drop.
        (Op::CreateEnum { .. } | Op::DropEnum { .. }, _) => Ok(Vec::new()),
        (
            Op::AlterEnum {
                name,
                from,
                to,
                renamed,
            },
            _,
        ) => {
            let change = Change {
                name,
                from,
                to,
                renamed,
            };
            match dialect {
                Dialect::Postgres if cfg!(feature = "postgres") => {
                    Ok(super::postgres::alter_enum(&change, before, op))
                }
                Dialect::Mysql if cfg!(feature = "mysql") => {
                    Ok(super::mysql::alter_enum(&change, before))
                }
                Dialect::Sqlite if cfg!(feature = "sqlite") => {
                    super::sqlite::alter_enum(&change, before, op)
                }
                d => Err(d.left_out()),
            }
        }
        _ => unreachable!("only enum operations are rendered here"),
    }
}

/// An `alter_enum`'s fields.
pub(super) struct Change<'a> {
    pub name: &'a str,
    pub from: &'a [String],
    pub to: &'a [String],
    pub renamed: &'a [(String, String)],
}

impl Change<'_> {
    /// The new value of an old one (itself unless renamed).
    pub fn new_name<'v>(&'v self, old: &'v String) -> &'v String {
        self.renamed
            .iter()
            .find(|(o, _)| o == old)
            .map_or(old, |(_, n)| n)
    }

    /// A default after the renames: a literal of a renamed value names the new one.
    pub fn default_after(&self, default: &Option<String>) -> Option<String> {
        default.as_ref().map(|d| renamed_default(d, self.renamed))
    }

    /// `CASE <q> WHEN 'old' THEN 'new' … END` and the old values it changes, for an UPDATE
    /// of the renames in one statement (so a swap of two names swaps the rows too).
    pub fn rename_update(&self, table: &str, column: &str, dialect: Dialect) -> Option<String> {
        if self.renamed.is_empty() {
            return None;
        }
        let q = quote_ident(column, dialect);
        let whens: Vec<String> = self
            .renamed
            .iter()
            .map(|(o, n)| format!("WHEN {} THEN {}", lit(o, dialect), lit(n, dialect)))
            .collect();
        let olds: Vec<String> = self.renamed.iter().map(|(o, _)| lit(o, dialect)).collect();
        Some(format!(
            "UPDATE {} SET {q} = CASE {q} {} END WHERE {q} IN ({})",
            super::quote_table(table, dialect),
            whens.join(" "),
            olds.join(", ")
        ))
    }

    /// The check, before anything changes (MySQL cannot take DDL back), that no row of
    /// `table.column` holds a value the enum loses; `as_text` is the column read as text.
    pub fn removal_check(
        &self,
        table: &str,
        column: &str,
        as_text: &str,
        dialect: Dialect,
    ) -> Option<Step> {
        let gone: Vec<&String> = self
            .from
            .iter()
            .map(|v| self.new_name(v))
            .filter(|v| !self.to.contains(v))
            .collect();
        if gone.is_empty() {
            return None;
        }
        let listed: Vec<String> = gone.iter().map(|v| format!("`{v}`")).collect();
        // The old values that stay, as they are spelled before the renames (none: any value).
        let staying: Vec<String> = self
            .from
            .iter()
            .filter(|v| self.to.contains(self.new_name(v)))
            .map(|v| lit(v, dialect))
            .collect();
        let outside = if staying.is_empty() {
            String::new()
        } else {
            format!(" AND {as_text} NOT IN ({})", staying.join(", "))
        };
        Some(Step::Verify {
            query: format!(
                "SELECT {as_text} AS v FROM {} WHERE {as_text} IS NOT NULL{outside} LIMIT 1",
                super::quote_table(table, dialect),
            ),
            problem: format!(
                "enum `{}` loses the value(s) {}, and column `{table}.{column}` still holds one. Change those rows first (an execute(\"UPDATE {table} SET {column} = … WHERE {column} = …\") before this operation), or keep the value",
                self.name,
                listed.join(", ")
            ),
        })
    }
}

/// The columns of `schema` of enum type `name`.
pub(super) fn columns_of<'a>(schema: &'a Schema, name: &str) -> Vec<(&'a Table, &'a Column)> {
    schema
        .tables
        .values()
        .flat_map(|t| t.columns.iter().map(move |c| (t, c)))
        .filter(|(_, c)| matches!(&c.ty, ColumnType::Enum { name: n, .. } if n == name))
        .collect()
}

/// The values as a list of literals.
pub(super) fn literals(values: &[String]) -> String {
    values
        .iter()
        .map(|v| quote_literal(v))
        .collect::<Vec<_>>()
        .join(", ")
}

fn lit(text: &str, dialect: Dialect) -> String {
    super::literal(text, dialect)
}

/// A default that is the literal of a renamed value, as the new value's literal (the
/// databases keep an enum default as the value, which a rename renames).
pub(crate) fn renamed_default(default: &str, renamed: &[(String, String)]) -> String {
    renamed
        .iter()
        .find(|(old, _)| default.trim() == quote_literal(old))
        .map_or_else(|| default.to_string(), |(_, new)| quote_literal(new))
}
