//! The warnings a reviewer must see: every operation that can lose data or fail on existing
//! rows, with the same rules for the upgrade and the downgrade.

use std::collections::BTreeSet;

use super::Lint;
use crate::lint::LintKind;
use crate::model::Schema;
use crate::ops::{is_narrowing, ApplyError, Op};

/// The warnings a reviewer must see for `ops` run on `before`: every operation that can
/// lose data or fail on existing rows. The same rules review the upgrade and the downgrade
/// (whose warnings start with `prefix`, e.g. `downgrade: `).
pub fn lint_ops(ops: &[Op], before: &Schema, prefix: &str) -> Result<Vec<Lint>, ApplyError> {
    lint_walk(ops, &mut before.clone(), prefix)
}

/// [`lint_ops`] on `schema`, which is left advanced past `ops`.
pub(super) fn lint_walk(
    ops: &[Op],
    schema: &mut Schema,
    prefix: &str,
) -> Result<Vec<Lint>, ApplyError> {
    let mut out = Vec::new();
    let other = if prefix.is_empty() {
        "the downgrade"
    } else {
        "upgrading again"
    };
    let mut lint = |kind, message: String| {
        out.push(Lint {
            kind,
            message: format!("{prefix}{message}"),
        })
    };
    // Tables created by these operations have no rows yet: nothing to warn about there.
    let mut created: BTreeSet<String> = BTreeSet::new();
    // Columns a backfill has filled: NOT NULL after it finds no NULL it left.
    let mut filled: BTreeSet<(&str, &str)> = BTreeSet::new();
    for op in ops {
        if let Op::Backfill { table, column, .. } = op {
            filled.insert((table, column));
        }
        if let Op::CreateTable { table } = op {
            created.insert(table.name.clone());
        }
        if op.table().is_some_and(|t| created.contains(t)) {
            op.apply(schema)?;
            continue;
        }
        match op {
            Op::DropTable { table } => lint(LintKind::Drop, format!("drops table `{table}` and all its rows; {other} recreates the table, not the data")),
            Op::DropColumn { table, column } => lint(LintKind::Drop, format!("drops column `{table}.{column}` and its data; {other} recreates the column, not the data")),
            Op::AddColumn { table, column: c } if !c.nullable && c.server_default.is_none() && !c.autoincrement => lint(LintKind::NotNull, format!(
                "adds NOT NULL column `{table}.{}` without a server default: this fails on a table that has rows. Give it a default (#[column(server_default = \"…\")]), or add it as Option<…>, backfill, then make it NOT NULL",
                c.name
            )),
            Op::AlterColumn { table, column, changes, .. } => {
                if let (Some(to), Some(c)) = (&changes.ty, schema.table(table).and_then(|t| t.column(column))) {
                    if is_narrowing(&c.ty, to) {
                        lint(LintKind::Narrowing, format!(
                            "changes `{table}.{column}` from {} to {to}: existing values that do not fit make the migration fail (or are truncated on MySQL); check the data first",
                            c.ty
                        ));
                    }
                }
                if changes.nullable == Some(false) && !filled.contains(&(table.as_str(), column.as_str())) {
                    lint(LintKind::NotNull, format!(
                        "makes `{table}.{column}` NOT NULL: this fails if any row holds NULL; backfill first (an `execute(\"UPDATE …\")` before the alter_column in this migration)"
                    ));
                }
            }
            Op::AddUnique { table, unique: u, .. } => lint(LintKind::Unique, format!(
                "adds unique constraint `{}` on `{table}` ({}): this fails if existing rows hold duplicates; look for them with SELECT {cols}, COUNT(*) FROM {table} GROUP BY {cols} HAVING COUNT(*) > 1",
                u.name, u.columns.join(", "), cols = u.columns.join(", ")
            )),
            Op::CreateIndex { table, index: i, .. } if i.unique => lint(LintKind::Unique, format!(
                "adds unique index `{}` on `{table}` ({}): this fails if existing rows hold duplicates",
                i.name, i.key_texts().join(", ")
            )),
            Op::AddCheck { table, check, .. } => lint(LintKind::Constraint, format!(
                "adds check constraint `{}` on `{table}`: this fails if existing rows violate it; look for them with SELECT * FROM {table} WHERE NOT ({})",
                check.name, check.expression
            )),
            Op::AddForeignKey { table, foreign_key: f, .. } => lint(LintKind::Constraint, format!(
                "adds foreign key `{}` on `{table}` ({}) -> {}: this fails if existing rows reference missing `{}` rows",
                f.name, f.columns.join(", "), f.referred_table, f.referred_table
            )),
            _ => {}
        }
        op.apply(schema)?;
    }
    Ok(out)
}
