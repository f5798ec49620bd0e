//! SQLite: native ADD / DROP / RENAME COLUMN and RENAME TO where SQLite allows them,
//! and SQLite's documented twelve-step table rebuild for everything else (the runner
//! turns foreign keys off around the transaction and runs `PRAGMA foreign_key_check`
//! before committing).

mod catalog;
mod convert;
mod create;

pub use catalog::{read_default, read_type, sqlite_type, stored_table, stored_type, RULES};

use create::{column_def, create_table};

use super::{quote_ident, RenderError, Step};
use crate::model::{Column, Schema, Table};
use crate::ops::Op;
use crate::sql::Dialect;

fn q(name: &str) -> String {
    quote_ident(name, Dialect::Sqlite)
}

fn create_index(table: &str, i: &crate::Index) -> String {
    super::create_index_sql(Dialect::Sqlite, table, i)
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
    if needs_rebuild(op, before) {
        return rebuild(op, before, op.table().unwrap_or_default());
    }
    let steps = match op {
        Op::CreateTable { table } => vec![sql(create_table(table, &table.name))],
        Op::DropTable { table } => vec![sql(format!("DROP TABLE {}", q(table)))],
        Op::RenameTable { from, to } => {
            vec![sql(format!("ALTER TABLE {} RENAME TO {}", q(from), q(to)))]
        }
        Op::AddColumn {
            table: name,
            column,
        } => vec![sql(format!(
            "ALTER TABLE {} ADD COLUMN {}",
            q(name),
            column_def(table(before, name)?, column)
        ))],
        Op::DropColumn {
            table: name,
            column,
        } => vec![sql(format!(
            "ALTER TABLE {} DROP COLUMN {}",
            q(name),
            q(column)
        ))],
        Op::RenameColumn { table, from, to } => {
            vec![sql(format!(
                "ALTER TABLE {} RENAME COLUMN {} TO {}",
                q(table),
                q(from),
                q(to)
            ))]
        }
        Op::CreateIndex { table, index, .. } => vec![sql(create_index(table, index))],
        Op::DropIndex { name, .. } => vec![sql(format!("DROP INDEX {}", q(name)))],
        // SQLite stores no comments: they live in the models and the snapshot. What else an
        // alter_column or a constraint change does needs a rebuild (above).
        Op::RenameIndex {
            table: name,
            from,
            to,
        } => {
            let t = table(before, name)?;
            let mut index = t
                .indexes
                .iter()
                .find(|i| i.name == *from)
                .cloned()
                .ok_or_else(|| RenderError {
                    message: format!("no index `{from}` on `{name}` before this operation"),
                })?;
            index.name = to.clone();
            vec![
                sql(format!("DROP INDEX {}", q(from))),
                sql(create_index(name, &index)),
            ]
        }
        Op::RenameConstraint { .. } => unreachable!("rebuilt (above)"),
        Op::SetTableComment { .. }
        | Op::AlterColumn { .. }
        | Op::AddUnique { .. }
        | Op::AddForeignKey { .. }
        | Op::AddCheck { .. }
        | Op::DropConstraint { .. } => Vec::new(),
        Op::Execute { .. }
        | Op::Backfill { .. }
        | Op::RunRust { .. }
        | Op::CreateObject { .. }
        | Op::DropObject { .. }
        | Op::CreateEnum { .. }
        | Op::DropEnum { .. }
        | Op::AlterEnum { .. } => unreachable!("handled by sql::render"),
    };
    Ok(steps)
}

/// Whether `ALTER TABLE … ADD COLUMN` accepts the column (SQLite's documented limits).
fn can_add_natively(c: &Column) -> bool {
    let default_ok = match &c.server_default {
        None => c.nullable,
        // Not an expression (it is written in parentheses), not CURRENT_…, not NULL.
        Some(d) => {
            crate::expr::is_literal(d, crate::expr::lex::Lexicon::STANDARD, &["TRUE", "FALSE"])
        }
    };
    default_ok && !c.autoincrement
}

/// The rebuild of one operation: the table before it and after it.
fn rebuild(op: &Op, before: &Schema, name: &str) -> Result<Vec<Step>, RenderError> {
    let old = table(before, name)?;
    // The operation changes only its own table: apply it to a copy of that one, not of the
    // whole schema, so a rebuild costs the table's size whatever the schema's.
    let mut after_schema = tables_named(before, std::slice::from_ref(op));
    op.apply(&mut after_schema)
        .map_err(|e| RenderError { message: e.message })?;
    rebuild_table(
        old,
        table(&after_schema, name)?,
        &declared_triggers(before, name),
    )
}

/// The triggers on `table` declared as code, with their SQLite statements: a rebuild makes
/// them again (dropping the table drops them).
fn declared_triggers(schema: &Schema, table: &str) -> Vec<(String, String)> {
    schema
        .objects
        .values()
        .filter(|o| o.kind == crate::ObjectKind::Trigger && o.table.as_deref() == Some(table))
        .filter_map(|o| Some((o.name.clone(), o.sql_for(Dialect::Sqlite)?.to_string())))
        .collect()
}

/// A copy of the tables `ops` change (their own table, and a renamed table's old name).
/// Applying `ops` to it gives those tables as applying them to the whole schema would;
/// other tables (foreign keys that follow a rename) are not needed by the callers.
fn tables_named(schema: &Schema, ops: &[Op]) -> Schema {
    let mut copy = Schema {
        enums: schema.enums.clone(),
        ..Schema::new()
    };
    for op in ops {
        let names = [
            op.table(),
            match op {
                Op::RenameTable { from, .. } => Some(from.as_str()),
                _ => None,
            },
        ];
        for name in names.into_iter().flatten() {
            if let Some(t) = schema.tables.get(name) {
                copy.tables
                    .entry(name.to_string())
                    .or_insert_with(|| t.clone());
            }
        }
    }
    copy
}

/// SQLite's documented rebuild: create the new table under a temporary name, copy the rows
/// of the columns both versions share, check that every copied value fits its new column,
/// carry the AUTOINCREMENT high-water mark over, drop the old table, rename the new one,
/// recreate its indexes. The runner has foreign keys off and checks them before commit.
pub(super) fn rebuild_table(
    old: &Table,
    new: &Table,
    triggers: &[(String, String)],
) -> Result<Vec<Step>, RenderError> {
    let name = &new.name;
    let temp = format!("_retort_new_{name}");
    let shared: Vec<&Column> = new
        .columns
        .iter()
        .filter(|c| old.column(&c.name).is_some())
        .collect();
    let retyped: Vec<(&Column, &Column)> = shared
        .iter()
        .filter_map(|c| {
            old.column(&c.name)
                .filter(|o| o.ty != c.ty)
                .map(|o| (o, *c))
        })
        .collect();
    for (o, c) in &retyped {
        super::refuse_unconvertible(name, &c.name, &o.ty, &c.ty)?;
    }
    // A trigger declared as code is made again after; one made otherwise would be lost.
    let declared: Vec<String> = triggers
        .iter()
        .map(|(n, _)| super::quote_literal(n))
        .chain(std::iter::once("''".to_string()))
        .collect();
    let mut steps = vec![Step::Verify {
        query: format!(
            "SELECT name AS v FROM sqlite_master WHERE type = 'trigger' AND tbl_name = {} AND name NOT IN ({}) LIMIT 1",
            super::quote_literal(name),
            declared.join(", ")
        ),
        problem: format!(
            "table `{name}` is rebuilt (SQLite cannot alter it in place), and a rebuild drops its triggers, whose definitions retort does not know. Declare the trigger in sql/ (it is then made again after a rebuild), or drop it in an execute(\"DROP TRIGGER …\") before this operation and create it again after"
        ),
    }];
    // NULLs meeting a new NOT NULL: refuse with the column's name before copying anything.
    for c in &shared {
        if !c.nullable && old.column(&c.name).is_some_and(|o| o.nullable) {
            steps.push(super::null_check(name, &c.name, Dialect::Sqlite));
        }
    }
    // What only the old value can tell (see `convert`).
    for (o, c) in &retyped {
        if let Some(bad) = convert::misfit_before(&q(&c.name), &o.ty, &c.ty) {
            let query = format!(
                "SELECT quote({col}) AS v FROM {} WHERE {col} IS NOT NULL AND ({bad}) LIMIT 1",
                q(name),
                col = q(&c.name)
            );
            steps.push(super::misfit_check(name, &c.name, &o.ty, &c.ty, query));
        }
    }
    steps.push(sql(create_table(new, &temp)));
    if !shared.is_empty() {
        let cols: Vec<String> = shared.iter().map(|c| q(&c.name)).collect();
        let values: Vec<String> = shared
            .iter()
            .map(|c| match old.column(&c.name) {
                Some(o) if o.ty != c.ty => convert::copy(&q(&c.name), &o.ty, &c.ty),
                _ => q(&c.name),
            })
            .collect();
        steps.push(sql(format!(
            "INSERT INTO {} ({}) SELECT {} FROM {}",
            q(&temp),
            cols.join(", "),
            values.join(", "),
            q(name)
        )));
    }
    // SQLite stores what does not fit a column's type as it was (text in an INTEGER column,
    // 300 characters in a VARCHAR(200)); a changed type must not change what values mean.
    for (o, c) in &retyped {
        if let Some(bad) = convert::misfit_after(&c.ty, &q(&c.name)) {
            let query = format!(
                "SELECT quote({col}) AS v FROM {} WHERE {bad} LIMIT 1",
                q(&temp),
                col = q(&c.name)
            );
            steps.push(super::misfit_check(name, &c.name, &o.ty, &c.ty, query));
        }
    }
    if new.columns.iter().any(|c| c.autoincrement) {
        // Ids of deleted rows must not come back: keep the high-water mark, not only max(id).
        steps.push(sql(format!(
            "INSERT INTO sqlite_sequence (name, seq) SELECT {t}, 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = {t})",
            t = super::quote_literal(&temp)
        )));
        steps.push(sql(format!(
            "UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT MAX(seq) FROM sqlite_sequence WHERE name = {o}), 0)) WHERE name = {t}",
            o = super::quote_literal(name),
            t = super::quote_literal(&temp)
        )));
    }
    steps.push(sql(format!("DROP TABLE {}", q(name))));
    // Views that read the table name it, not the old copy: with the legacy rename, SQLite
    // neither rewrites them nor refuses the rename while the name is missing in between.
    steps.push(sql("PRAGMA legacy_alter_table = ON".into()));
    steps.push(sql(format!(
        "ALTER TABLE {} RENAME TO {}",
        q(&temp),
        q(name)
    )));
    steps.push(sql("PRAGMA legacy_alter_table = OFF".into()));
    for i in &new.indexes {
        steps.push(sql(create_index(name, i)));
    }
    steps.extend(triggers.iter().map(|(_, s)| sql(s.clone())));
    Ok(steps)
}

/// Whether SQLite needs a rebuild of the operation's table for it.
/// SQLite has one writer: every migration holds the database's write lock from its start
/// to its commit (other connections keep reading in WAL mode), and a rebuild copies the
/// table meanwhile.
pub(crate) fn lock_costs(op: &Op, before: &Schema) -> Vec<crate::sql::locks::LockCost> {
    use crate::sql::locks::{Blocks, LockCost, Work};
    const WRITE_LOCK: &str = "database write lock";
    let Some(table) = op.table().filter(|t| before.tables.contains_key(*t)) else {
        return Vec::new();
    };
    if matches!(op, Op::Backfill { .. }) {
        // Writers wait for a batch, not for the whole fill.
        return vec![LockCost::new(
            table,
            "database write lock, per batch",
            Blocks::Nothing,
            Work::Batches,
        )];
    }
    let work = if needs_rebuild(op, before) {
        Work::Rewrite
    } else if matches!(op, Op::CreateIndex { .. }) {
        Work::IndexBuild
    } else {
        Work::Catalog
    };
    vec![LockCost::new(table, WRITE_LOCK, Blocks::Writes, work)]
}

fn needs_rebuild(op: &Op, before: &Schema) -> bool {
    match op {
        Op::AddColumn { column, .. } => !can_add_natively(column),
        Op::DropColumn {
            table: name,
            column,
        } => before.tables.get(name).is_some_and(|t| mentions(t, column)),
        Op::AlterColumn { changes, .. } => {
            changes.ty.is_some() || changes.nullable.is_some() || changes.server_default.is_some()
        }
        Op::AddUnique { .. }
        | Op::AddForeignKey { .. }
        | Op::AddCheck { .. }
        | Op::DropConstraint { .. }
        | Op::RenameConstraint { .. } => true,
        _ => false,
    }
}

/// Whether a column is named by the key, a constraint or an index (a native DROP COLUMN
/// refuses those).
fn mentions(t: &Table, column: &String) -> bool {
    t.primary_key.contains(column)
        || t.uniques.iter().any(|u| u.columns.contains(column))
        || t.foreign_keys.iter().any(|f| f.columns.contains(column))
        || t.indexes.iter().any(|i| i.mentioned_columns().contains(column))
        // A substring test over-approximates (a rebuild where a native drop would do), which
        // is safe; a keyword-named column a tokenizer skipped would make the drop fail.
        || t.checks
            .iter()
            .any(|c| c.expression.contains(column.as_str()))
}

/// Steps for every operation of one migration, as Alembic's batch mode does: when two or
/// more operations of the migration rebuild the same table with nothing in between that
/// needs its intermediate shape (raw SQL, a Rust function, a rename, a create or drop of
/// it), the table is rebuilt once, at the last of them, straight to its final shape; the
/// operations folded into it render no steps of their own. `schema` is advanced past them.
pub(super) fn render_ops(ops: &[Op], schema: &mut Schema) -> Result<Vec<Vec<Step>>, RenderError> {
    // Folding needs two rebuilds of one table; with fewer candidates (most migrations: one
    // operation, or only natively altered tables) each operation renders on its own.
    let candidates = ops
        .iter()
        .filter(|op| matches!(op, Op::DropColumn { .. }) || needs_rebuild(op, &Schema::new()))
        .count();
    if candidates < 2 {
        return super::render_each(ops, schema, Dialect::Sqlite);
    }
    // Pass 1, on a copy of the tables the operations change: which operations need a
    // rebuild, each in the table it meets. (A copy of the whole schema here would make every
    // migration cost the schema's size, and a long history quadratic.)
    let mut probe = tables_named(schema, ops);
    let mut rebuilds = Vec::with_capacity(ops.len());
    for op in ops {
        rebuilds.push(needs_rebuild(op, &probe));
        apply(op, &mut probe)?;
    }
    let folds = folds(ops, &rebuilds);
    // Pass 2: render, keeping only the table a fold starts from.
    let mut out = Vec::with_capacity(ops.len());
    // The table each open fold starts from, by the fold's first operation (few at a time).
    let mut fold_old: Vec<(usize, Table)> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let name = op.table().unwrap_or_default();
        match folds[i] {
            Some((start, _)) if start == i => {
                fold_old.push((i, table(schema, name)?.clone()));
                out.push(Vec::new());
            }
            Some(_) => out.push(Vec::new()),
            None => out.push(super::render(op, schema, Dialect::Sqlite)?),
        }
        apply(op, schema)?;
        if let Some((start, end)) = folds[i] {
            if end == i {
                let old = fold_old
                    .iter()
                    .position(|(first, _)| *first == start)
                    .map(|at| fold_old.swap_remove(at).1);
                if let (Some(old), Some(last)) = (old, out.last_mut()) {
                    *last = rebuild_table(
                        &old,
                        table(schema, name)?,
                        &declared_triggers(schema, name),
                    )?;
                }
            }
        }
    }
    Ok(out)
}

fn apply(op: &Op, schema: &mut Schema) -> Result<(), RenderError> {
    op.apply(schema)
        .map_err(|e| RenderError { message: e.message })
}

/// For each operation, the (first, last) operation of the fold it belongs to, if any: per
/// table, the runs of its operations between barriers, from the first to the last of two
/// or more rebuilds in a run.
fn folds(ops: &[Op], rebuilds: &[bool]) -> Vec<Option<(usize, usize)>> {
    let mut folds = vec![None; ops.len()];
    let tables: std::collections::BTreeSet<&str> = ops.iter().filter_map(|o| o.table()).collect();
    for t in tables {
        let mut run: Vec<usize> = Vec::new();
        let mut flush = |run: &mut Vec<usize>| {
            let mut inside = run.iter().copied().filter(|&i| rebuilds[i]);
            if let (Some(first), Some(last)) = (inside.next(), inside.next_back()) {
                for &i in run.iter().filter(|&&i| i >= first && i <= last) {
                    folds[i] = Some((first, last));
                }
            }
            run.clear();
        };
        for (i, op) in ops.iter().enumerate() {
            let barrier = match op {
                Op::Execute { .. }
                | Op::Backfill { .. }
                | Op::RunRust { .. }
                | Op::CreateObject { .. }
                | Op::DropObject { .. }
                | Op::AlterEnum { .. } => true,
                Op::RenameTable { from, to } => from == t || to == t,
                Op::CreateTable { .. } | Op::DropTable { .. } | Op::RenameColumn { .. } => {
                    op.table() == Some(t)
                }
                _ => false,
            };
            if barrier {
                flush(&mut run);
            } else if op.table() == Some(t) {
                run.push(i);
            }
        }
        flush(&mut run);
    }
    folds
}

/// `alter_enum` on SQLite: every table with a column of the type is rebuilt with the new
/// values in its CHECK, after renaming the rows of renamed values (with the old CHECK
/// set aside for that one statement); a value that goes and is still held stops it first.
pub(super) fn alter_enum(
    change: &super::enums::Change,
    before: &Schema,
    op: &Op,
) -> Result<Vec<Step>, RenderError> {
    let users = super::enums::columns_of(before, change.name);
    let mut names: Vec<&str> = users.iter().map(|(t, _)| t.name.as_str()).collect();
    names.dedup();
    let mut after = Schema {
        enums: before.enums.clone(),
        ..Schema::new()
    };
    for n in &names {
        after
            .tables
            .insert(n.to_string(), table(before, n)?.clone());
    }
    apply(op, &mut after)?;
    let mut steps: Vec<Step> = users
        .iter()
        .filter_map(|(t, c)| change.removal_check(&t.name, &c.name, &q(&c.name), Dialect::Sqlite))
        .collect();
    for n in names {
        let updates: Vec<String> = users
            .iter()
            .filter(|(t, _)| t.name == n)
            .filter_map(|(_, c)| change.rename_update(n, &c.name, Dialect::Sqlite))
            .collect();
        if !updates.is_empty() {
            steps.push(sql("PRAGMA ignore_check_constraints = ON".into()));
            steps.extend(updates.into_iter().map(sql));
            steps.push(sql("PRAGMA ignore_check_constraints = OFF".into()));
        }
        steps.extend(rebuild_table(
            table(before, n)?,
            table(&after, n)?,
            &declared_triggers(before, n),
        )?);
    }
    Ok(steps)
}
