//! The per-migration ordering PostgreSQL and MySQL/MariaDB need on top of each operation's
//! statements: foreign keys to tables created later, tables dropped while others still
//! point at them, indexes a foreign key needs, indexes renamed instead of dropped and
//! created again.

use std::collections::BTreeSet;

use super::ansi::{add_foreign_key, create_index, create_table, Hooks};
use super::{RenderError, Step};
use crate::model::{ForeignKey, Index, Schema, Table};
use crate::ops::{ConstraintKind, Op};

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
    let mut later = Later::default();
    let renames = index_renames(ops, schema);
    for (i, op) in ops.iter().enumerate() {
        let mut steps = Vec::new();
        match op {
            Op::CreateTable { table: t } => {
                steps = create_table_keys_later(h, t, schema, &mut later.at_end);
            }
            Op::DropTable { table: name } => {
                steps = drop_keys_to(h, name, &ops[i + 1..], schema);
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
                if let Some(r) = renames.iter().find(|r| r.create == i) {
                    steps.push(Step::Sql(h.rename_index(table, &r.from, &index.name)));
                }
            }
            Op::DropIndex { table, name, .. }
            | Op::DropConstraint {
                table,
                name,
                kind: ConstraintKind::Unique,
            } if h.foreign_keys_need_indexes() => {
                steps = drop_backing_index(h, (i, op), ops, table, name, schema, &mut later)?;
            }
            Op::AlterColumn {
                table,
                column,
                changes,
                ..
            } if changes.ty.is_some() && h.foreign_keys_need_indexes() => {
                steps = later.drop_keys_on(h, table, column, schema);
                steps.extend(h.render(op, schema)?);
            }
            _ => steps.extend(h.render(op, schema)?),
        }
        op.apply(schema)
            .map_err(|e| RenderError { message: e.message })?;
        out.push(steps);
    }
    check_foreign_key_types(h, ops, schema)?;
    later.finish(h, schema, &mut out);
    Ok(out)
}

/// What a migration's operations leave for later steps.
#[derive(Default)]
struct Later {
    /// Statements at the end of the migration.
    at_end: Vec<String>,
    /// Foreign keys (table, name) dropped around a type change, added back at the end.
    fks_to_restore: BTreeSet<(String, String)>,
    /// Steps moved to a later operation: (operation index, steps).
    moved: Vec<(usize, Vec<Step>)>,
}

impl Later {
    /// Drops the foreign keys on (or to) a column whose type changes, to be added back at
    /// the end (each once).
    fn drop_keys_on(
        &mut self,
        h: &dyn Hooks,
        table: &str,
        column: &String,
        schema: &Schema,
    ) -> Vec<Step> {
        let mut steps = Vec::new();
        for other in schema.tables.values() {
            for f in &other.foreign_keys {
                let on_it = (other.name == table && f.columns.contains(column))
                    || (f.referred_table == table && f.referred_columns.contains(column));
                if on_it
                    && self
                        .fks_to_restore
                        .insert((other.name.clone(), f.name.clone()))
                {
                    steps.push(Step::Sql(h.drop_foreign_key(&other.name, &f.name)));
                }
            }
        }
        steps
    }

    /// The moved steps in their places, the foreign keys restored and the deferred
    /// statements at the end of the migration (`schema` is after it).
    fn finish(self, h: &dyn Hooks, schema: &Schema, out: &mut Vec<Vec<Step>>) {
        let mut at_end = self.at_end;
        for (j, steps) in self.moved {
            out[j].extend(steps);
        }
        for (table, name) in self.fks_to_restore {
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
    }
}

/// `CREATE TABLE`, its foreign keys to a table made later (or to a key made later, or
/// declared NOT VALID) left to `at_end`.
fn create_table_keys_later(
    h: &dyn Hooks,
    t: &Table,
    schema: &Schema,
    at_end: &mut Vec<String>,
) -> Vec<Step> {
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
    let mut steps: Vec<Step> = h.before_create(t).into_iter().map(Step::Sql).collect();
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
    steps
}

/// Before table `name` is dropped: the foreign keys to it of tables the migration drops
/// later (in `rest`), which servers would otherwise refuse.
fn drop_keys_to(h: &dyn Hooks, name: &str, rest: &[Op], schema: &Schema) -> Vec<Step> {
    let dropped_later: BTreeSet<&str> = rest
        .iter()
        .filter_map(|o| match o {
            Op::DropTable { table } => Some(table.as_str()),
            _ => None,
        })
        .collect();
    let mut steps = Vec::new();
    for other in schema.tables.values() {
        if other.name == name || !dropped_later.contains(other.name.as_str()) {
            continue;
        }
        for f in other
            .foreign_keys
            .iter()
            .filter(|f| f.referred_table == name)
        {
            steps.push(Step::Sql(h.drop_foreign_key(&other.name, &f.name)));
        }
    }
    steps
}

/// MySQL refuses to drop the index a foreign key uses: when a later operation of this
/// migration creates a replacement, the drop waits for it (moved there); else the key gets
/// an index of its own, named after it as MySQL names one.
fn drop_backing_index(
    h: &dyn Hooks,
    (i, op): (usize, &Op),
    ops: &[Op],
    table: &str,
    name: &str,
    schema: &Schema,
    later: &mut Later,
) -> Result<Vec<Step>, RenderError> {
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
    let mut steps = Vec::new();
    match (orphans.is_empty(), replacement) {
        (true, _) => steps.extend(h.render(op, schema)?),
        (false, Some(j)) => later.moved.push((i + 1 + j, h.render(op, schema)?)),
        (false, None) => {
            for f in &orphans {
                let own = Index::on_columns(f.name.clone(), f.columns.clone(), false);
                let create = create_index(h, table, &own);
                steps.push(Step::Sql(h.unless_index_exists(table, &f.name, create)));
            }
            steps.extend(h.render(op, schema)?);
        }
    }
    Ok(steps)
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
