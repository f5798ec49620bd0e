//! MySQL / MariaDB: `MODIFY COLUMN` carrying the whole new definition (so a comment-only
//! change keeps NOT NULL and the default), AUTO_INCREMENT, inline comments, InnoDB with a
//! binary utf8mb4 collation (text compares as on SQLite and PostgreSQL: case-sensitive, so a
//! unique constraint means the same), and the orderings MySQL needs (see `ansi`).
//!
//! DDL commits implicitly here: the runner records progress per statement.

mod catalog;
mod convert;
mod locks;
mod steps;

pub use catalog::{
    catalog_type, json_column, mysql_default, mysql_literal, mysql_type, read_default, read_type,
    stored_table, stored_type, RULES,
};

pub(crate) use locks::lock_costs;

use super::ansi::{self, Hooks};
use super::{Dialect, RenderError, Step};
use crate::model::{Column, ColumnType, Schema, Table};
use crate::ops::{ConstraintKind, Op};

pub(super) struct MysqlHooks;

/// Whether MySQL can index the type without a prefix length.
fn indexable(ty: &ColumnType) -> bool {
    !matches!(ty, ColumnType::Text | ColumnType::Binary | ColumnType::Json)
        && !matches!(ty, ColumnType::Custom { sql } if {
            let s = sql.to_ascii_lowercase();
            s.contains("text") || s.contains("blob")
        })
}

/// Refuses a key or index over a column MySQL cannot index whole, naming it and the fix.
fn check_indexable(t: &Table, columns: &[String], what: &str) -> Result<(), RenderError> {
    for name in columns {
        if let Some(c) = t.column(name) {
            if !indexable(&c.ty) {
                return Err(RenderError {
                    message: format!(
                        "MySQL cannot index `{}.{name}` ({}) whole, and {what} needs it. Give the field a length: `#[column(max_length = N)]` (varchar(N)), or drop the {what}",
                        t.name, c.ty
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Every column of `t` a key, unique constraint, foreign key or index needs MySQL to index
/// whole but that MySQL cannot (unbounded text, bytes, JSON): (column, what is wrong and the
/// fix). The derive turns each into a compile error when the `mysql` backend is compiled.
///
/// ```
/// use retort_schema::{Column, ColumnType, Table, UniqueConstraint};
/// let mut t = Table::new("tasks");
/// t.columns.push(Column::new("uuid", ColumnType::Text));
/// t.uniques.push(UniqueConstraint::new("uq_tasks_uuid", ["uuid"]));
/// let found = retort_schema::sql::mysql_unindexable(&t);
/// assert_eq!(found[0].0, "uuid");
/// assert!(found[0].1.contains("max_length"));
/// ```
pub fn mysql_unindexable(t: &Table) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut groups: Vec<(Vec<String>, String)> =
        vec![(t.primary_key.clone(), "the primary key".into())];
    groups.extend(
        t.uniques
            .iter()
            .map(|u| (u.columns.clone(), format!("unique constraint `{}`", u.name))),
    );
    groups.extend(
        t.foreign_keys
            .iter()
            .map(|f| (f.columns.clone(), format!("foreign key `{}`", f.name))),
    );
    groups.extend(
        t.indexes
            .iter()
            .map(|i| (owned(i.column_names()), format!("index `{}`", i.name))),
    );
    for (columns, what) in groups {
        for name in &columns {
            if let Err(e) = check_indexable(t, std::slice::from_ref(name), &what) {
                if !out.iter().any(|(c, _)| c == name) {
                    out.push((name.clone(), e.message));
                }
            }
        }
    }
    out
}

fn check_table_indexable(t: &Table) -> Result<(), RenderError> {
    check_indexable(t, &t.primary_key, "the primary key")?;
    for u in &t.uniques {
        check_indexable(t, &u.columns, &format!("unique constraint `{}`", u.name))?;
    }
    for f in &t.foreign_keys {
        check_indexable(t, &f.columns, &format!("foreign key `{}`", f.name))?;
    }
    for i in &t.indexes {
        check_indexable(t, &owned(i.column_names()), &format!("index `{}`", i.name))?;
    }
    Ok(())
}

fn owned(names: Vec<&str>) -> Vec<String> {
    names.into_iter().map(String::from).collect()
}

/// The clause of an online form on MySQL/MariaDB: InnoDB's in-place change that lets reads
/// and writes go on, asserted, so that a server that would copy the table refuses the
/// statement at once (naming the form it needs) instead of holding writers up.
const IN_PLACE: &str = ", ALGORITHM=INPLACE, LOCK=NONE";

impl Hooks for MysqlHooks {
    fn column_def(&self, _table: &Table, c: &Column) -> String {
        let mut s = format!("{} {}", self.q(&c.name), mysql_type(&c.ty));
        s.push_str(if c.nullable { " NULL" } else { " NOT NULL" });
        if c.autoincrement {
            s.push_str(" AUTO_INCREMENT");
        }
        if let Some(d) = &c.server_default {
            s.push_str(&format!(" DEFAULT {}", mysql_default(&c.ty, d)));
        }
        if let Some(text) = &c.comment {
            s.push_str(&format!(" COMMENT {}", mysql_literal(text)));
        }
        s
    }

    fn after_create(&self, _table: &Table) -> Vec<String> {
        Vec::new()
    }

    fn table_options(&self, t: &Table) -> String {
        let mut s = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin".to_string();
        if let Some(c) = &t.comment {
            s.push_str(&format!(" COMMENT={}", mysql_literal(c)));
        }
        s
    }

    fn drop_foreign_key(&self, table: &str, name: &str) -> String {
        format!(
            "ALTER TABLE {} DROP FOREIGN KEY {}",
            self.q(table),
            self.q(name)
        )
    }

    fn rename_index(&self, table: &str, from: &str, to: &str) -> String {
        format!(
            "ALTER TABLE {} RENAME INDEX {} TO {}",
            self.q(table),
            self.q(from),
            self.q(to)
        )
    }

    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    fn foreign_keys_need_indexes(&self) -> bool {
        true
    }

    /// A prepared statement, which MySQL and MariaDB both run (neither has `CREATE INDEX IF
    /// NOT EXISTS` in common).
    fn unless_index_exists(&self, table: &str, name: &str, create: String) -> String {
        when_index(table, name, false, &create)
    }

    /// InnoDB joins integers of one type and signedness, decimals of one precision and
    /// scale, and text of any length in one character set.
    fn foreign_key_types_match(&self, column: &ColumnType, referred: &ColumnType) -> bool {
        let (a, b) = (stored_type(column), stored_type(referred));
        let short_text =
            |t: &ColumnType| matches!(t, ColumnType::Varchar { .. } | ColumnType::Char { .. });
        a == b || (short_text(&a) && short_text(&b))
    }

    fn misfit(&self, q: &str, old: &ColumnType, new: &ColumnType) -> Option<String> {
        convert::misfit(q, old, new)
    }

    fn as_text(&self, q: &str, ty: &ColumnType) -> String {
        match ty {
            ColumnType::Binary => format!("CONCAT('x''', HEX({q}), '''')"),
            _ => format!("CAST({q} AS CHAR)"),
        }
    }

    fn render(&self, op: &Op, before: &Schema) -> Result<Vec<Step>, RenderError> {
        if let Some(steps) = ansi::common(self, op) {
            return Ok(steps);
        }
        let sql = |s: String| Step::Sql(s);
        let steps = match op {
            Op::CreateTable { table } => {
                check_table_indexable(table)?;
                vec![sql(ansi::create_table(self, table, &|_| true))]
            }
            Op::RenameTable { from, to } => vec![sql(format!(
                "RENAME TABLE {} TO {}",
                self.q(from),
                self.q(to)
            ))],
            Op::AddColumn { table, column } => steps::add_column(self, before, table, column)?,
            Op::AlterColumn {
                table,
                column,
                changes,
                online,
            } => steps::alter_column(self, before, table, column, changes, *online)?,
            Op::CreateIndex {
                table,
                index,
                concurrently,
            } => {
                check_indexable(
                    ansi::table(before, table)?,
                    &owned(index.column_names()),
                    &format!("index `{}`", index.name),
                )?;
                // The online form asks InnoDB for an in-place build that lets writes go
                // on: a server that cannot refuses at once instead of copying the table.
                let mut create = ansi::create_index(self, table, index);
                if *concurrently {
                    create.push_str(" ALGORITHM=INPLACE LOCK=NONE");
                }
                vec![sql(create)]
            }
            Op::DropIndex { table, name, .. } => vec![sql(format!(
                "DROP INDEX {} ON {}",
                self.q(name),
                self.q(table)
            ))],
            Op::AddUnique {
                table,
                unique,
                online,
            } => {
                check_indexable(
                    ansi::table(before, table)?,
                    &unique.columns,
                    &format!("unique constraint `{}`", unique.name),
                )?;
                vec![sql(format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({}){}", // (no options on MySQL)
                    self.q(table),
                    self.q(&unique.name),
                    ansi::cols(self, &unique.columns),
                    if *online { IN_PLACE } else { "" }
                ))]
            }
            Op::DropConstraint { table, name, kind } => {
                steps::drop_constraint(self, table, name, *kind)?
            }
            // MySQL names every primary key PRIMARY: the name lives in the models only.
            Op::RenameConstraint {
                kind: ConstraintKind::PrimaryKey,
                ..
            } => Vec::new(),
            Op::RenameIndex { table, from, to }
            | Op::RenameConstraint {
                table,
                from,
                to,
                kind: ConstraintKind::Unique,
            } => vec![sql(self.rename_index(table, from, to))],
            Op::RenameConstraint {
                table,
                from,
                to,
                kind: ConstraintKind::ForeignKey,
            } => steps::rename_foreign_key(self, before, table, from, to)?,
            Op::RenameConstraint {
                table,
                from,
                to,
                kind: ConstraintKind::Check,
            } => steps::rename_check(self, before, table, from, to)?,
            Op::SetTableComment { table, comment } => vec![sql(format!(
                "ALTER TABLE {} COMMENT = {}",
                self.q(table),
                mysql_literal(comment.as_deref().unwrap_or(""))
            ))],
            Op::Execute { .. }
            | Op::Backfill { .. }
            | Op::RunRust { .. }
            | Op::CreateObject { .. }
            | Op::DropObject { .. }
            | Op::CreateEnum { .. }
            | Op::DropEnum { .. }
            | Op::AlterEnum { .. } => unreachable!("handled by sql::render"),
            Op::DropTable { .. }
            | Op::DropColumn { .. }
            | Op::RenameColumn { .. }
            | Op::AddForeignKey { .. }
            | Op::AddCheck { .. } => unreachable!("rendered by ansi::common"),
        };
        Ok(steps)
    }
}

/// `ddl` run only when index `name` of `table` exists (`exists`) or not: a prepared
/// statement, which MySQL and MariaDB both run (they share no `IF [NOT] EXISTS` for
/// indexes).
fn when_index(table: &str, name: &str, exists: bool, ddl: &str) -> String {
    format!(
        "SET @retort_ddl = IF((SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = {t} AND INDEX_NAME = {n}) {op} 0, {ddl}, 'DO 0'); PREPARE retort_stmt FROM @retort_ddl; EXECUTE retort_stmt; DEALLOCATE PREPARE retort_stmt",
        t = mysql_literal(table),
        n = mysql_literal(name),
        op = if exists { ">" } else { "=" },
        ddl = mysql_literal(ddl)
    )
}

fn if_index_exists(table: &str, name: &str, ddl: &str) -> String {
    when_index(table, name, true, ddl)
}

pub(super) fn render(op: &Op, before: &Schema) -> Result<Vec<Step>, RenderError> {
    MysqlHooks.render(op, before)
}

pub(super) fn render_ops(ops: &[Op], schema: &mut Schema) -> Result<Vec<Vec<Step>>, RenderError> {
    super::order::render_ops(&MysqlHooks, ops, schema)
}

/// `alter_enum` on MySQL: each column of the type is modified — first to the old values and
/// the new names together while the rows of renamed values are renamed, then (after the
/// check that no row holds a value that goes) to the new values.
pub(super) fn alter_enum(change: &super::enums::Change, before: &Schema) -> Vec<Step> {
    let d = Dialect::Mysql;
    let users = super::enums::columns_of(before, change.name);
    let mut steps: Vec<Step> = users
        .iter()
        .filter_map(|(t, c)| {
            change.removal_check(&t.name, &c.name, &super::quote_ident(&c.name, d), d)
        })
        .collect();
    for (t, c) in users {
        let modify = |values: &[String], default: Option<String>| {
            let mut column = c.clone();
            column.ty = ColumnType::Enum {
                name: change.name.to_string(),
                values: values.to_vec(),
            };
            column.server_default = default;
            Step::Sql(format!(
                "ALTER TABLE {} MODIFY COLUMN {}",
                super::quote_ident(&t.name, d),
                MysqlHooks.column_def(t, &column)
            ))
        };
        if let Some(update) = change.rename_update(&t.name, &c.name, d) {
            let mut widened = change.from.to_vec();
            widened.extend(
                change
                    .renamed
                    .iter()
                    .map(|(_, n)| n.clone())
                    .filter(|n| !change.from.contains(n)),
            );
            steps.push(modify(&widened, c.server_default.clone()));
            steps.push(Step::Sql(update));
        }
        steps.push(modify(change.to, change.default_after(&c.server_default)));
    }
    steps
}
