//! What PostgreSQL and MySQL/MariaDB share: `CREATE TABLE` with named constraints,
//! `CREATE INDEX`, `ADD CONSTRAINT`, and the per-migration ordering both need (foreign keys
//! to tables created later, tables dropped while others still point at them, indexes an
//! FK needs, indexes renamed instead of dropped and created). A dialect supplies the parts
//! that differ through [`Hooks`].

use std::collections::BTreeSet;

use super::{RenderError, Step};
use crate::model::{Column, ColumnType, ForeignKey, Index, Schema, Table};
use crate::ops::{ConstraintKind, Op};

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

/// Whether `table` has, now, the columns `columns` under a primary key, a unique constraint
/// or a plain unique index: what a foreign key to them needs.
fn has_key(table: &Table, columns: &[String]) -> bool {
    let same = |cols: Vec<&str>| {
        cols.len() == columns.len() && columns.iter().all(|c| cols.contains(&c.as_str()))
    };
    columns.iter().all(|c| table.column(c).is_some())
        && (same(table.primary_key.iter().map(String::as_str).collect())
            || table
                .uniques
                .iter()
                .any(|u| same(u.columns.iter().map(String::as_str).collect()))
            || table.indexes.iter().any(|i| {
                i.unique
                    && i.predicate.is_none()
                    && i.keys.iter().all(|k| k.is_plain())
                    && same(i.keys.iter().map(|k| k.target.as_str()).collect())
            }))
}

/// The steps of every operation of one migration (one list per operation), `schema`
/// advanced past them. On top of rendering each operation:
///
/// - a table's foreign key to a table the migration creates later, or to a key it makes
///   later (a new column's unique constraint), is added at the end;
/// - a table dropped while a table the migration also drops still points at it first loses
///   that foreign key (servers refuse to drop a referenced table);
/// - an index dropped and created again under another name with the same definition is
///   renamed instead;
/// - where the dialect needs it, the foreign keys on a column whose type changes are dropped
///   before and added back at the end, and an index a foreign key needs is dropped only after
///   its replacement exists.
pub(super) fn render_ops(
    h: &dyn Hooks,
    ops: &[Op],
    schema: &mut Schema,
) -> Result<Vec<Vec<Step>>, RenderError> {
    let mut out: Vec<Vec<Step>> = Vec::with_capacity(ops.len());
    let mut at_end: Vec<String> = Vec::new();
    // Foreign keys (table, name) dropped around a type change, added back at the end.
    let mut fks_to_restore: BTreeSet<(String, String)> = BTreeSet::new();
    // Steps moved to a later operation: (operation index, steps).
    let mut moved: Vec<(usize, Vec<Step>)> = Vec::new();
    let renames = index_renames(ops, schema);
    for (i, op) in ops.iter().enumerate() {
        let mut steps = Vec::new();
        match op {
            Op::CreateTable { table: t } => {
                let later: BTreeSet<&str> = t
                    .foreign_keys
                    .iter()
                    .filter(|f| {
                        f.not_valid
                            || (f.referred_table != t.name
                                && !schema
                                    .tables
                                    .get(&f.referred_table)
                                    .is_some_and(|r| has_key(r, &f.referred_columns)))
                    })
                    .map(|f| f.name.as_str())
                    .collect();
                steps.extend(h.before_create(t).into_iter().map(Step::Sql));
                steps.push(Step::Sql(create_table(h, t, &|f| {
                    !later.contains(f.name.as_str())
                })));
                steps.extend(h.after_create(t).into_iter().map(Step::Sql));
                for f in t
                    .foreign_keys
                    .iter()
                    .filter(|f| later.contains(f.name.as_str()))
                {
                    at_end.push(add_foreign_key(h, &t.name, f));
                }
            }
            Op::DropTable { table: name } => {
                let dropped_later: BTreeSet<&str> = ops[i + 1..]
                    .iter()
                    .filter_map(|o| match o {
                        Op::DropTable { table } => Some(table.as_str()),
                        _ => None,
                    })
                    .collect();
                for other in schema.tables.values() {
                    if other.name == *name || !dropped_later.contains(other.name.as_str()) {
                        continue;
                    }
                    for f in other
                        .foreign_keys
                        .iter()
                        .filter(|f| f.referred_table == *name)
                    {
                        steps.push(Step::Sql(h.drop_foreign_key(&other.name, &f.name)));
                    }
                }
                steps.extend(h.render(op, schema)?);
            }
            Op::DropIndex { .. } if renames.iter().any(|r| r.drop == i) => {}
            // The table goes later in this migration, and its indexes with it (MySQL would
            // refuse to drop first an index a foreign key of that table needs).
            Op::DropIndex { table, .. }
                if ops[i + 1..]
                    .iter()
                    .any(|o| matches!(o, Op::DropTable { table: t } if t == table)) => {}
            Op::Execute { .. }
            | Op::Backfill { .. }
            | Op::RunRust { .. }
            | Op::CreateObject { .. }
            | Op::DropObject { .. }
            | Op::CreateEnum { .. }
            | Op::DropEnum { .. }
            | Op::AlterEnum { .. } => steps.extend(super::render(op, schema, h.dialect())?),
            Op::CreateIndex { table, index, .. } if renames.iter().any(|r| r.create == i) => {
                let from = renames
                    .iter()
                    .find(|r| r.create == i)
                    .map(|r| r.from.clone());
                if let Some(from) = from {
                    steps.push(Step::Sql(h.rename_index(table, &from, &index.name)));
                }
            }
            Op::DropIndex { table, name, .. }
            | Op::DropConstraint {
                table,
                name,
                kind: ConstraintKind::Unique,
            } if h.foreign_keys_need_indexes() => {
                // MySQL refuses to drop the index a foreign key uses: when a later operation
                // of this migration creates a replacement, the drop waits for it; else the
                // key gets an index of its own, named after it as MySQL names one.
                let t = super::ansi::table(schema, table)?;
                let orphans = foreign_keys_only_backed_by(t, name);
                // (Not one of the same name: that one needs this one gone first.)
                let replacement = ops[i + 1..].iter().position(|o| {
                    let (new_name, columns) = match o {
                        Op::CreateIndex {
                            table: tt, index, ..
                        } if tt == table => (&index.name, index.leading_columns()),
                        Op::AddUnique {
                            table: tt, unique, ..
                        } if tt == table => (&unique.name, unique.columns.clone()),
                        _ => return false,
                    };
                    new_name != name && orphans.iter().all(|f| columns.starts_with(&f.columns))
                });
                match (orphans.is_empty(), replacement) {
                    (true, _) => steps.extend(h.render(op, schema)?),
                    (false, Some(j)) => moved.push((i + 1 + j, h.render(op, schema)?)),
                    (false, None) => {
                        for f in &orphans {
                            let own = Index::on_columns(f.name.clone(), f.columns.clone(), false);
                            let create = create_index(h, table, &own);
                            steps.push(Step::Sql(h.unless_index_exists(table, &f.name, create)));
                        }
                        steps.extend(h.render(op, schema)?);
                    }
                }
            }
            Op::AlterColumn {
                table,
                column,
                changes,
                ..
            } if changes.ty.is_some() && h.foreign_keys_need_indexes() => {
                for other in schema.tables.values() {
                    for f in &other.foreign_keys {
                        let on_it = (other.name == *table && f.columns.contains(column))
                            || (f.referred_table == *table && f.referred_columns.contains(column));
                        if on_it && fks_to_restore.insert((other.name.clone(), f.name.clone())) {
                            steps.push(Step::Sql(h.drop_foreign_key(&other.name, &f.name)));
                        }
                    }
                }
                steps.extend(h.render(op, schema)?);
            }
            _ => steps.extend(h.render(op, schema)?),
        }
        op.apply(schema)
            .map_err(|e| RenderError { message: e.message })?;
        out.push(steps);
    }
    check_foreign_key_types(h, ops, schema)?;
    for (j, steps) in moved {
        out[j].extend(steps);
    }
    for (table, name) in fks_to_restore {
        if let Some(f) = schema
            .tables
            .get(&table)
            .and_then(|t| t.foreign_keys.iter().find(|f| f.name == name))
        {
            at_end.push(add_foreign_key(h, &table, f));
        }
    }
    if !at_end.is_empty() {
        match out.last_mut() {
            Some(last) => last.extend(at_end.into_iter().map(Step::Sql)),
            None => out.push(at_end.into_iter().map(Step::Sql).collect()),
        }
    }
    Ok(out)
}

/// The foreign keys of `t` that the index or unique constraint `name` backs and nothing
/// else of `t` does (its primary key, another index or unique constraint).
fn foreign_keys_only_backed_by<'a>(t: &'a Table, name: &str) -> Vec<&'a ForeignKey> {
    // A B-tree whose leading column keys (either direction) are the key's columns backs it.
    let dropped = t
        .indexes
        .iter()
        .find(|i| i.name == name)
        .map(Index::leading_columns)
        .or_else(|| {
            t.uniques
                .iter()
                .find(|u| u.name == name)
                .map(|u| u.columns.clone())
        });
    let Some(dropped) = dropped else {
        return Vec::new();
    };
    let others: Vec<Vec<String>> = std::iter::once(t.primary_key.clone())
        .chain(
            t.indexes
                .iter()
                .filter(|i| i.name != name)
                .map(Index::leading_columns),
        )
        .chain(
            t.uniques
                .iter()
                .filter(|u| u.name != name)
                .map(|u| u.columns.clone()),
        )
        .collect();
    t.foreign_keys
        .iter()
        .filter(|f| {
            dropped.starts_with(&f.columns) && !others.iter().any(|o| o.starts_with(&f.columns))
        })
        .collect()
}

/// After a migration that changes column types: every foreign key on a changed column joins
/// columns of types the dialect accepts together, or the migration is refused before it
/// runs, naming both columns and the fix.
fn check_foreign_key_types(h: &dyn Hooks, ops: &[Op], after: &Schema) -> Result<(), RenderError> {
    let changed: BTreeSet<(&str, &str)> = ops
        .iter()
        .filter_map(|op| match op {
            Op::AlterColumn {
                table,
                column,
                changes,
                ..
            } if changes.ty.is_some() => Some((table.as_str(), column.as_str())),
            _ => None,
        })
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    for t in after.tables.values() {
        for f in &t.foreign_keys {
            let Some(referred) = after.tables.get(&f.referred_table) else {
                continue;
            };
            for (c, r) in f.columns.iter().zip(&f.referred_columns) {
                let touched = changed.contains(&(t.name.as_str(), c.as_str()))
                    || changed.contains(&(referred.name.as_str(), r.as_str()));
                let (Some(col), Some(rcol)) = (t.column(c), referred.column(r)) else {
                    continue;
                };
                if touched && !h.foreign_key_types_match(&col.ty, &rcol.ty) {
                    return Err(RenderError {
                        message: format!(
                            "foreign key `{}` joins `{}.{c}` ({}) to `{}.{r}` ({}) after this migration, and {} needs both of one type. Change `{}.{c}` and `{}.{r}` to the same type in the same migration",
                            f.name, t.name, col.ty, referred.name, rcol.ty, h.dialect().name(), t.name, referred.name
                        ),
                    });
                }
            }
        }
    }
    Ok(())
}

/// A dropped index that a later operation creates again under another name, same table,
/// columns and uniqueness, with nothing between them that touches the table otherwise.
struct IndexRename {
    drop: usize,
    create: usize,
    from: String,
}

fn index_renames(ops: &[Op], schema: &Schema) -> Vec<IndexRename> {
    let mut out = Vec::new();
    let mut used = BTreeSet::new();
    for (i, op) in ops.iter().enumerate() {
        let Op::DropIndex { table, name, .. } = op else {
            continue;
        };
        let Some(old) = schema
            .tables
            .get(table)
            .and_then(|t| t.indexes.iter().find(|x| x.name == *name))
        else {
            continue;
        };
        for (j, later) in ops.iter().enumerate().skip(i + 1) {
            match later {
                Op::CreateIndex {
                    table: tt, index, ..
                } if tt == table
                    && index.name != old.name
                    && same_but_name(index, old)
                    && !used.contains(&j) =>
                {
                    used.insert(j);
                    out.push(IndexRename {
                        drop: i,
                        create: j,
                        from: name.clone(),
                    });
                    break;
                }
                Op::CreateIndex { .. } | Op::DropIndex { .. } => {}
                other
                    if other.table().is_none_or(|t| t != table)
                        && !matches!(
                            other,
                            Op::Execute { .. }
                                | Op::RunRust { .. }
                                | Op::CreateObject { .. }
                                | Op::DropObject { .. }
                                | Op::AlterEnum { .. }
                                | Op::RenameTable { .. }
                        ) => {}
                _ => break,
            }
        }
    }
    out
}

/// Whether two indexes differ in name only.
fn same_but_name(a: &Index, b: &Index) -> bool {
    let mut renamed = a.clone();
    renamed.name = b.name.clone();
    renamed == *b
}
