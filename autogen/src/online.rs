//! Splitting a model change into the migrations online DDL needs: enum values added in
//! place, the changes in a transaction, then indexes and constraints in their online form.

use retort_schema::diff;
use retort_schema::ops::Op;
use retort_schema::sql::locks::default_per_row;
use retort_schema::sql::Dialect;
use retort_schema::Schema;

use crate::error::Error;
use crate::settings::Settings;

/// Which part of a model change one migration holds, when it takes several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// Values added to enums in place (outside a transaction).
    EnumValues,
    /// Everything else (in a transaction).
    Changes,
    /// Indexes, constraints and `NOT NULL` on existing tables, in their online form
    /// (outside a transaction).
    Online,
}

/// When the crate compiles retort for PostgreSQL or MySQL and online DDL is on (the
/// default), and the change makes indexes, unique constraints, foreign keys, checks or
/// `NOT NULL` on tables that exist before it (those with an online form on a compiled
/// server): the schema with everything else made, which the migration that makes those in
/// their online form starts from.
pub(crate) fn online_part(
    from: &Schema,
    to: &Schema,
    settings: &Settings,
) -> Result<Option<Online>, Error> {
    let backends = &settings.backends;
    if !settings.online_ddl
        || !(backends.contains(&Dialect::Postgres) || backends.contains(&Dialect::Mysql))
    {
        return Ok(None);
    }
    let d = diff::diff(from, to)?;
    // A key or constraint made again under the name the change drops (a new definition, a
    // change of validity) stays in the transaction that drops the old one: in the online
    // migration, rows written in between would go unchecked. A plain index may go.
    let dropped: Vec<(&str, &str)> =
        d.up.iter()
            .filter_map(|op| match op {
                Op::DropConstraint { table, name, .. } | Op::DropIndex { table, name, .. } => {
                    Some((table.as_str(), name.as_str()))
                }
                _ => None,
            })
            .collect();
    let replaces = |op: &Op| {
        let name = match op {
            Op::AddUnique { unique, .. } => &unique.name,
            Op::AddForeignKey { foreign_key, .. } => &foreign_key.name,
            Op::AddCheck { check, .. } => &check.name,
            Op::CreateIndex { index, .. } if index.unique => &index.name,
            _ => return false,
        };
        op.table()
            .is_some_and(|t| dropped.contains(&(t, name.as_str())))
    };
    // An index dropped while something of its name is made in the same change goes with
    // it, in the transaction: the new one needs the name free.
    let made: Vec<(&str, &str)> =
        d.up.iter()
            .filter_map(|op| {
                let name = match op {
                    Op::CreateIndex { index, .. } => &index.name,
                    Op::AddUnique { unique, .. } => &unique.name,
                    Op::AddForeignKey { foreign_key, .. } => &foreign_key.name,
                    Op::AddCheck { check, .. } => &check.name,
                    Op::RenameIndex { to, .. } | Op::RenameConstraint { to, .. } => to,
                    _ => return None,
                };
                Some((op.table()?, name.as_str()))
            })
            .collect();
    let name_reused = |op: &Op| match op {
        Op::DropIndex { table, name, .. } => made.contains(&(table.as_str(), name.as_str())),
        _ => false,
    };
    let candidate = |op: &Op| {
        has_online_form(op, backends)
            && !replaces(op)
            && !name_reused(op)
            && op.table().is_some_and(|t| from.tables.contains_key(t))
    };
    // A NOT NULL column whose default is computed per row (PostgreSQL rewrites the table
    // to add it): added nullable without the default in the transaction, then, online,
    // given its default, filled in batches, and made NOT NULL.
    let filled: Vec<(String, String)> = match backends.contains(&Dialect::Postgres) {
        false => Vec::new(),
        true => {
            d.up.iter()
                .filter_map(|op| match op {
                    Op::AddColumn { table, column }
                        if from.tables.contains_key(table)
                            && !column.nullable
                            && !column.autoincrement
                            && column
                                .server_default
                                .as_deref()
                                .is_some_and(default_per_row) =>
                    {
                        Some((table.clone(), column.name.clone()))
                    }
                    _ => None,
                })
                .collect()
        }
    };
    // A foreign key that stays in the first migration (one of a new table, or one that
    // closes a cycle) needs the unique key it points at to exist then: that key stays too.
    let mut stay: Vec<&Op> = d.up.iter().filter(|op| !candidate(op)).collect();
    let mut online: Vec<&Op> = d.up.iter().filter(|op| candidate(op)).collect();
    loop {
        let needed: Vec<usize> = online
            .iter()
            .enumerate()
            .filter(|(_, op)| stay.iter().any(|s| relies_on(s, op)))
            .map(|(i, _)| i)
            .collect();
        if needed.is_empty() {
            break;
        }
        for i in needed.into_iter().rev() {
            stay.push(online.remove(i));
        }
    }
    if online.is_empty() && filled.is_empty() {
        return Ok(None);
    }
    let mut mid = from.clone();
    for op in d.up.iter().filter(|op| !online.contains(op)) {
        op.apply(&mut mid)?;
    }
    for (table, column) in &filled {
        let c = mid
            .tables
            .get_mut(table)
            .and_then(|t| t.columns.iter_mut().find(|c| &c.name == column))
            .expect("the column was just added");
        c.nullable = true;
        c.server_default = None;
    }
    Ok(Some(Online { mid, filled }))
}

/// Where the online migration starts, and the columns it fills.
pub(crate) struct Online {
    /// The schema the migration in a transaction reaches.
    pub(crate) mid: Schema,
    /// `(table, column)`: NOT NULL columns with a per-row default, added nullable without
    /// it in the transaction; the online migration gives them the default, fills them in
    /// batches and makes them NOT NULL.
    pub(crate) filled: Vec<(String, String)>,
}

/// The online migration's operations for the columns it fills: the change that gives one
/// its default and makes it NOT NULL becomes the default alone (a catalog change: new rows
/// get it), a `backfill` of the rows already there, then `NOT NULL` in its online form.
pub(crate) fn with_backfills(up: Vec<Op>, filled: &[(String, String)]) -> Vec<Op> {
    let mut out = Vec::with_capacity(up.len());
    for op in up {
        match op {
            Op::AlterColumn {
                table,
                column,
                changes,
                ..
            } if filled.contains(&(table.clone(), column.clone()))
                && changes.nullable == Some(false)
                && changes.ty.is_none() =>
            {
                let Some(Some(value)) = changes.server_default.clone() else {
                    unreachable!("a filled column gets its default here")
                };
                let default = retort_schema::ops::ColumnChanges {
                    server_default: Some(Some(value.clone())),
                    comment: changes.comment.clone(),
                    ..Default::default()
                };
                out.push(Op::AlterColumn {
                    table: table.clone(),
                    column: column.clone(),
                    changes: default,
                    online: false,
                });
                out.push(Op::Backfill {
                    table: table.clone(),
                    column: column.clone(),
                    value,
                    batch: retort_schema::migration::DEFAULT_BATCH,
                });
                out.push(Op::AlterColumn {
                    table,
                    column,
                    changes: retort_schema::ops::ColumnChanges {
                        nullable: Some(false),
                        ..Default::default()
                    },
                    online: true,
                });
            }
            other => out.push(other),
        }
    }
    out
}

/// Whether the generator has an online form for the operation on one of `backends`: an
/// index, a unique constraint, or a column made `NOT NULL` without a type change
/// (PostgreSQL, and MySQL's in-place change); a foreign key or check not declared `NOT
/// VALID` (PostgreSQL only: MySQL copies the table for them whatever the clause).
pub(crate) fn has_online_form(op: &Op, backends: &[Dialect]) -> bool {
    let postgres = backends.contains(&Dialect::Postgres);
    match op {
        Op::CreateIndex { .. } | Op::AddUnique { .. } => true,
        Op::AddForeignKey { foreign_key, .. } => postgres && !foreign_key.not_valid,
        Op::AddCheck { check, .. } => postgres && !check.not_valid,
        Op::AlterColumn { changes, .. } => changes.nullable == Some(false) && changes.ty.is_none(),
        // MySQL drops an index in place without holding writers: PostgreSQL's only.
        Op::DropIndex { .. } => postgres,
        _ => false,
    }
}

/// Sets the operation's online form (see [`has_online_form`]).
pub(crate) fn make_online(op: &mut Op, backends: &[Dialect]) {
    if !has_online_form(op, backends) {
        return;
    }
    match op {
        Op::CreateIndex { concurrently, .. } | Op::DropIndex { concurrently, .. } => {
            *concurrently = true
        }
        Op::AddUnique { online, .. }
        | Op::AddForeignKey { online, .. }
        | Op::AddCheck { online, .. }
        | Op::AlterColumn { online, .. } => *online = true,
        _ => {}
    }
}

/// Whether `op` (staying in a transaction) needs the unique key or index `key` makes: a
/// foreign key pointing at exactly its columns.
pub(crate) fn relies_on(op: &Op, key: &Op) -> bool {
    let (table, columns): (&str, Vec<&str>) = match key {
        Op::AddUnique { table, unique, .. } => {
            (table, unique.columns.iter().map(String::as_str).collect())
        }
        Op::CreateIndex { table, index, .. } if index.unique => (
            table,
            index.keys.iter().map(|k| k.target.as_str()).collect(),
        ),
        _ => return false,
    };
    let points_at = |fk: &retort_schema::ForeignKey| {
        fk.referred_table == table
            && fk.referred_columns.len() == columns.len()
            && fk
                .referred_columns
                .iter()
                .all(|c| columns.contains(&c.as_str()))
    };
    match op {
        Op::CreateTable { table } => table.foreign_keys.iter().any(points_at),
        Op::AddForeignKey { foreign_key, .. } => points_at(foreign_key),
        _ => false,
    }
}
