//! What PostgreSQL and MySQL/MariaDB share: `CREATE TABLE` with named constraints,
//! `CREATE INDEX`, `ADD CONSTRAINT`. A dialect supplies the parts that differ through
//! [`Hooks`]; the per-migration ordering both need is in `order`.

use super::{RenderError, Step};
use crate::model::{Column, ColumnType, ForeignKey, Index, Schema, Table};
use crate::ops::Op;

/// The parts of SQL a server dialect spells its own way.
pub(super) trait Hooks {
    /// Quotes an identifier.
    fn q(&self, name: &str) -> String {
        super::quote_ident(name, self.dialect())
    }
    /// The whole column definition (name, type, nullability, default, identity, and the
    /// comment where the dialect writes it inline).
    fn column_def(&self, table: &Table, column: &Column) -> String;
    /// Statements before `CREATE TABLE` (PostgreSQL: its schema, when it is another one).
    fn before_create(&self, table: &Table) -> Vec<String> {
        let _ = table;
        Vec::new()
    }
    /// Statements after `CREATE TABLE` (comments, where they are separate statements).
    fn after_create(&self, table: &Table) -> Vec<String>;
    /// Text after the closing parenthesis of `CREATE TABLE` (table options).
    fn table_options(&self, table: &Table) -> String;
    /// Drops a foreign key.
    fn drop_foreign_key(&self, table: &str, name: &str) -> String;
    /// Renames an index.
    fn rename_index(&self, table: &str, from: &str, to: &str) -> String;
    /// One operation on its own (everything but the ordering done here).
    fn render(&self, op: &Op, before: &Schema) -> Result<Vec<Step>, RenderError>;
    /// Whether every foreign key needs an index over its columns and must be dropped to
    /// change the type of a column it joins (MySQL): the foreign keys on a column whose type
    /// changes are then dropped around it, and an index a foreign key needs is not dropped
    /// from under it.
    fn foreign_keys_need_indexes(&self) -> bool;
    /// `create`, the statement that makes index `name` of `table`, run only when no index of
    /// that name exists yet (a downgrade may have left one). The default runs it as it is.
    fn unless_index_exists(&self, table: &str, name: &str, create: String) -> String {
        let _ = (table, name);
        create
    }
    /// Whether a foreign key may join columns of these two types (MySQL: the same type, or
    /// both short text; PostgreSQL joins any two it can compare).
    fn foreign_key_types_match(&self, column: &ColumnType, referred: &ColumnType) -> bool {
        let _ = (column, referred);
        true
    }
    /// The dialect.
    fn dialect(&self) -> super::Dialect;
    /// A condition true for a value of column `q` (of type `old`) that would not keep its
    /// meaning as `new`; `None` when the database itself refuses every such value (or cannot
    /// tell). Only asked for narrowing changes.
    fn misfit(&self, q: &str, old: &ColumnType, new: &ColumnType) -> Option<String>;
    /// The value of column `q` (of type `ty`) as text, for a sample in a message.
    fn as_text(&self, q: &str, ty: &ColumnType) -> String;
}

/// Whether a type change can alter what a value means, so each value must be checked: the
/// conversion matrix says so (see [`crate::convert`]).
pub(super) fn needs_value_check(old: &ColumnType, new: &ColumnType) -> bool {
    crate::convert::conversion(old, new) == crate::convert::Conversion::Checked
}

/// Before a type change: the check that every stored value keeps its meaning in the new type
/// (a server would otherwise round 1.5 to 2, cut text to the new length, turn 2 into true,
/// or read bytes as text), naming the table, the column and a sample.
pub(super) fn value_check(
    h: &dyn Hooks,
    table: &str,
    column: &str,
    old: &ColumnType,
    new: &ColumnType,
) -> Option<Step> {
    if !needs_value_check(old, new) {
        return None;
    }
    let q = h.q(column);
    let bad = h.misfit(&q, old, new)?;
    let query = format!(
        "SELECT {} AS v FROM {} WHERE {q} IS NOT NULL AND ({bad}) LIMIT 1",
        h.as_text(&q, old),
        h.q(table)
    );
    Some(super::misfit_check(table, column, old, new, query))
}

/// The statements both servers spell the same way, for the operations where they do; `None`
/// for the others (each dialect renders those itself).
pub(super) fn common(h: &dyn Hooks, op: &Op) -> Option<Vec<Step>> {
    let one = |s: String| Some(vec![Step::Sql(s)]);
    match op {
        Op::DropTable { table } => one(format!("DROP TABLE {}", h.q(table))),
        Op::DropColumn { table, column } => one(format!(
            "ALTER TABLE {} DROP COLUMN {}",
            h.q(table),
            h.q(column)
        )),
        Op::RenameColumn { table, from, to } => one(format!(
            "ALTER TABLE {} RENAME COLUMN {} TO {}",
            h.q(table),
            h.q(from),
            h.q(to)
        )),
        // PostgreSQL writes the online forms itself (NOT VALID, then VALIDATE).
        Op::AddForeignKey { online: true, .. } | Op::AddCheck { online: true, .. }
            if h.dialect() == super::Dialect::Postgres =>
        {
            None
        }
        Op::AddForeignKey {
            table, foreign_key, ..
        } => one(add_foreign_key(h, table, foreign_key)),
        Op::AddCheck { table, check, .. } => one(add_check(h, table, check)),
        _ => None,
    }
}

/// `ALTER TABLE … ADD CONSTRAINT … CHECK (…) [NOT VALID]`.
pub(super) fn add_check(h: &dyn Hooks, table: &str, check: &crate::CheckConstraint) -> String {
    format!(
        "ALTER TABLE {} ADD CONSTRAINT {} CHECK ({}){}",
        h.q(table),
        h.q(&check.name),
        check.expression,
        if check.not_valid { " NOT VALID" } else { "" }
    )
}

/// `CREATE TABLE` with its primary key, uniques, checks, and those foreign keys `keep_fk`
/// accepts.
pub(super) fn create_table(
    h: &dyn Hooks,
    t: &Table,
    keep_fk: &dyn Fn(&ForeignKey) -> bool,
) -> String {
    let mut parts: Vec<String> = t.columns.iter().map(|c| h.column_def(t, c)).collect();
    if !t.primary_key.is_empty() {
        parts.push(format!(
            "CONSTRAINT {} PRIMARY KEY ({})",
            h.q(&t.primary_key_constraint()),
            cols(h, &t.primary_key)
        ));
    }
    for u in &t.uniques {
        parts.push(unique(h, u));
    }
    for fk in t.foreign_keys.iter().filter(|f| keep_fk(f)) {
        parts.push(foreign_key(h, fk));
    }
    // NOT VALID ones are added after (see the dialect's `after_create`).
    for c in t.checks.iter().filter(|c| !c.not_valid) {
        parts.push(format!(
            "CONSTRAINT {} CHECK ({})",
            h.q(&c.name),
            c.expression
        ));
    }
    format!(
        "CREATE TABLE {} (\n    {}\n){}",
        h.q(&t.name),
        parts.join(",\n    "),
        h.table_options(t)
    )
}

/// `CONSTRAINT … UNIQUE [NULLS NOT DISTINCT] (…) [DEFERRABLE …]`.
pub(super) fn unique(h: &dyn Hooks, u: &crate::UniqueConstraint) -> String {
    let (nulls, deferral) = super::features::unique_clauses(u);
    format!(
        "CONSTRAINT {} UNIQUE{nulls} ({}){deferral}",
        h.q(&u.name),
        cols(h, &u.columns)
    )
}

/// Quoted, comma-separated column names.
pub(super) fn cols(h: &dyn Hooks, names: &[String]) -> String {
    names.iter().map(|c| h.q(c)).collect::<Vec<_>>().join(", ")
}

/// `CONSTRAINT … FOREIGN KEY (…) REFERENCES … (…) [ON DELETE …] [ON UPDATE …]`.
pub(super) fn foreign_key(h: &dyn Hooks, fk: &ForeignKey) -> String {
    let mut s = format!(
        "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({})",
        h.q(&fk.name),
        cols(h, &fk.columns),
        h.q(&fk.referred_table),
        cols(h, &fk.referred_columns)
    );
    if fk.on_delete != crate::ReferentialAction::NoAction {
        s.push_str(&format!(" ON DELETE {}", fk.on_delete.sql()));
    }
    if fk.on_update != crate::ReferentialAction::NoAction {
        s.push_str(&format!(" ON UPDATE {}", fk.on_update.sql()));
    }
    s.push_str(super::features::deferral_sql(fk.deferral));
    s
}

/// `ALTER TABLE … ADD CONSTRAINT <foreign key>`.
pub(super) fn add_foreign_key(h: &dyn Hooks, table: &str, fk: &ForeignKey) -> String {
    format!(
        "ALTER TABLE {} ADD {}{}",
        h.q(table),
        foreign_key(h, fk),
        if fk.not_valid { " NOT VALID" } else { "" }
    )
}

/// `CREATE [UNIQUE] INDEX … ON … (…)`.
pub(super) fn create_index(h: &dyn Hooks, table: &str, i: &Index) -> String {
    super::create_index_sql(h.dialect(), table, i)
}

/// The table `name` in the schema before an operation.
pub(super) fn table<'a>(schema: &'a Schema, name: &str) -> Result<&'a Table, RenderError> {
    schema.tables.get(name).ok_or_else(|| RenderError {
        message: format!("no table `{name}` in the schema before this operation"),
    })
}

/// The table `table` and its column `column` in the schema before an operation.
pub(super) fn column<'a>(
    schema: &'a Schema,
    table: &str,
    column: &str,
) -> Result<(&'a Table, &'a Column), RenderError> {
    let t = self::table(schema, table)?;
    let c = t.column(column).ok_or_else(|| RenderError {
        message: format!("no column `{table}.{column}` before this operation"),
    })?;
    Ok((t, c))
}
