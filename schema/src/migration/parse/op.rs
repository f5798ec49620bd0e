//! One operation of a `migration!` block, read from its call expression.

use syn::Expr;

use super::super::call::{
    boolean, err, ident, list, optional_string, string, strings, Call, Result,
};
use super::parts::{
    action, batch, column, column_type, constraint_kind, create_table, db_object, deferral,
    index_keys, not_valid, online, unique_options, DEFAULT_BATCH,
};
use crate::model::{CheckConstraint, ForeignKey, Index, UniqueConstraint};
use crate::ops::{ColumnChanges, ConstraintKind, DialectSql, Op};

/// Every operation the grammar reads, by the name [`Op::name`] gives it.
pub const OPERATIONS: &[&str] = &[
    "create_table",
    "drop_table",
    "rename_table",
    "add_column",
    "drop_column",
    "rename_column",
    "alter_column",
    "create_index",
    "drop_index",
    "rename_index",
    "create_object",
    "drop_object",
    "create_enum",
    "drop_enum",
    "alter_enum",
    "create_unique_constraint",
    "create_foreign_key",
    "create_check_constraint",
    "drop_constraint",
    "rename_constraint",
    "create_table_comment",
    "drop_table_comment",
    "execute",
    "backfill",
    "run",
];

pub(super) fn op(e: &Expr) -> Result<Op> {
    let c = Call::read(e, "an operation such as add_column(\"table\", column(…))")?;
    let name = c.name.to_string();
    for group in [table_op, index_op, constraint_op, other_op] {
        if let Some(op) = group(e, &c, &name)? {
            return Ok(op);
        }
    }
    let near = OPERATIONS
        .iter()
        .min_by_key(|o| strsim::damerau_levenshtein(o, &name))
        .copied()
        .unwrap_or("add_column");
    err(
        &c.name,
        format!(
            "unknown operation `{name}`; did you mean `{near}`? Operations: {}",
            OPERATIONS.join(", ")
        ),
    )
}

/// Tables and their columns and comments.
fn table_op(e: &Expr, c: &Call, name: &str) -> Result<Option<Op>> {
    Ok(Some(match name {
        "create_table" => create_table(c)?,
        "drop_table" => {
            c.arity(1, 1, "the table name: drop_table(\"tasks\")")?;
            c.allow_keywords(&[])?;
            Op::DropTable {
                table: c.str_at(0, "the table name")?,
            }
        }
        "rename_table" => {
            c.arity(
                2,
                2,
                "the old and new names: rename_table(\"old\", \"new\")",
            )?;
            c.allow_keywords(&[])?;
            Op::RenameTable {
                from: c.str_at(0, "the old name")?,
                to: c.str_at(1, "the new name")?,
            }
        }
        "add_column" => {
            c.arity(
                2,
                2,
                "a table and a column: add_column(\"tasks\", column(\"retry_count\", integer))",
            )?;
            c.allow_keywords(&[])?;
            Op::AddColumn {
                table: c.str_at(0, "the table name")?,
                column: column(c.positional[1])?,
            }
        }
        "drop_column" => {
            c.arity(
                2,
                2,
                "a table and a column name: drop_column(\"tasks\", \"retry_count\")",
            )?;
            c.allow_keywords(&[])?;
            Op::DropColumn {
                table: c.str_at(0, "the table name")?,
                column: c.str_at(1, "the column name")?,
            }
        }
        "rename_column" => {
            c.arity(
                3,
                3,
                "a table, the old and the new name: rename_column(\"tasks\", \"old\", \"new\")",
            )?;
            c.allow_keywords(&[])?;
            Op::RenameColumn {
                table: c.str_at(0, "the table name")?,
                from: c.str_at(1, "the old name")?,
                to: c.str_at(2, "the new name")?,
            }
        }
        "alter_column" => {
            c.arity(2, 2, "a table, a column and what changes: alter_column(\"tasks\", \"status\", nullable = false)")?;
            c.allow_keywords(&["type_", "nullable", "server_default", "comment", "online"])?;
            let mut changes = ColumnChanges::default();
            if let Some(t) = c.keyword("type_") {
                changes.ty = Some(column_type(t)?);
            }
            if let Some(n) = c.keyword("nullable") {
                changes.nullable = Some(boolean(n, "nullable")?);
            }
            if let Some(d) = c.keyword("server_default") {
                changes.server_default = Some(optional_string(d, "the server default")?);
            }
            if let Some(d) = c.keyword("comment") {
                changes.comment = Some(optional_string(d, "the comment")?);
            }
            if changes.is_empty() {
                return err(e, "`alter_column` changes nothing: give type_, nullable, server_default or comment");
            }
            if online(c)? && (changes.nullable != Some(false) || changes.ty.is_some()) {
                return err(e, "`online = true` is the form of `alter_column(…, nullable = false)` that does not hold writes up while it scans; it does not apply to a type change (that rewrites the table) or to other changes: remove it, or give the type change its own `alter_column`");
            }
            Op::AlterColumn {
                table: c.str_at(0, "the table name")?,
                column: c.str_at(1, "the column name")?,
                online: online(c)?,
                changes,
            }
        }
        "create_table_comment" => {
            c.arity(
                2,
                2,
                "a table and the comment: create_table_comment(\"tasks\", \"…\")",
            )?;
            c.allow_keywords(&[])?;
            Op::SetTableComment {
                table: c.str_at(0, "the table name")?,
                comment: Some(c.str_at(1, "the comment")?),
            }
        }
        "drop_table_comment" => {
            c.arity(1, 1, "a table: drop_table_comment(\"tasks\")")?;
            c.allow_keywords(&[])?;
            Op::SetTableComment {
                table: c.str_at(0, "the table name")?,
                comment: None,
            }
        }
        _ => return Ok(None),
    }))
}

/// Indexes.
fn index_op(_e: &Expr, c: &Call, name: &str) -> Result<Option<Op>> {
    Ok(Some(match name {
        "create_index" => {
            c.arity(3, 3, "a name, a table and columns: create_index(\"ix_tasks_status\", \"tasks\", [\"status\"])")?;
            c.allow_keywords(&[
                "unique",
                "concurrently",
                "using",
                "where_",
                "include",
                "with",
                "nulls_not_distinct",
            ])?;
            let flag = |key: &str| match c.keyword(key) {
                Some(u) => boolean(u, key),
                None => Ok(false),
            };
            let mut index = Index::on_columns(
                c.str_at(0, "the index name")?,
                Vec::<String>::new(),
                flag("unique")?,
            );
            index.keys = index_keys(c.positional[2])?;
            index.nulls_not_distinct = flag("nulls_not_distinct")?;
            if let Some(m) = c.keyword("using") {
                index.method = Some(string(m, "the index method")?.to_ascii_lowercase())
                    .filter(|m| m != "btree");
            }
            if let Some(w) = c.keyword("where_") {
                index.predicate = Some(string(w, "the predicate")?);
            }
            if let Some(i) = c.keyword("include") {
                index.include = strings(i, "included columns")?;
            }
            if let Some(w) = c.keyword("with") {
                index.with = Index::parse_with(&string(w, "the storage parameters")?)
                    .or_else(|m| err(w, m))?;
            }
            Op::CreateIndex {
                table: c.str_at(1, "the table name")?,
                index,
                concurrently: flag("concurrently")?,
            }
        }
        "drop_index" => {
            c.arity(
                2,
                2,
                "a name and a table: drop_index(\"ix_tasks_status\", \"tasks\")",
            )?;
            c.allow_keywords(&["concurrently"])?;
            Op::DropIndex {
                name: c.str_at(0, "the index name")?,
                table: c.str_at(1, "the table name")?,
                concurrently: c
                    .keyword("concurrently")
                    .map_or(Ok(false), |v| boolean(v, "concurrently"))?,
            }
        }
        "rename_index" => {
            c.arity(3, 3, "a table, the old and the new name: rename_index(\"tasks\", \"ix_old\", \"ix_new\")")?;
            c.allow_keywords(&[])?;
            Op::RenameIndex {
                table: c.str_at(0, "the table name")?,
                from: c.str_at(1, "the old name")?,
                to: c.str_at(2, "the new name")?,
            }
        }
        _ => return Ok(None),
    }))
}

/// Constraints.
fn constraint_op(e: &Expr, c: &Call, name: &str) -> Result<Option<Op>> {
    Ok(Some(match name {
        "create_unique_constraint" => {
            c.arity(3, 3, "a name, a table and columns: create_unique_constraint(\"uq_tasks_uuid\", \"tasks\", [\"uuid\"])")?;
            c.allow_keywords(&["nulls_not_distinct", "deferrable", "online"])?;
            let mut unique = UniqueConstraint::new(
                c.str_at(0, "the constraint name")?,
                c.strings_at(2, "column names")?,
            );
            unique_options(c, &mut unique)?;
            Op::AddUnique {
                table: c.str_at(1, "the table name")?,
                unique,
                online: online(c)?,
            }
        }
        "create_foreign_key" => {
            c.arity(5, 5, "a name, the source and referred tables and their columns: create_foreign_key(\"fk\", \"orders\", \"customers\", [\"customer_id\"], [\"id\"])")?;
            c.allow_keywords(&[
                "on_delete",
                "on_update",
                "deferrable",
                "not_valid",
                "online",
            ])?;
            Op::AddForeignKey {
                table: c.str_at(1, "the source table")?,
                foreign_key: ForeignKey {
                    name: c.str_at(0, "the constraint name")?,
                    columns: c.strings_at(3, "source columns")?,
                    referred_table: c.str_at(2, "the referred table")?,
                    referred_columns: c.strings_at(4, "referred columns")?,
                    on_delete: action(c.keyword("on_delete"))?,
                    on_update: action(c.keyword("on_update"))?,
                    not_valid: not_valid(c)?,
                    deferral: deferral(c.keyword("deferrable"))?,
                },
                online: online(c)?,
            }
        }
        "create_check_constraint" => {
            c.arity(3, 3, "a name, a table and an SQL condition: create_check_constraint(\"ck\", \"orders\", \"total >= 0\")")?;
            c.allow_keywords(&["not_valid", "online"])?;
            Op::AddCheck {
                table: c.str_at(1, "the table name")?,
                check: CheckConstraint {
                    name: c.str_at(0, "the constraint name")?,
                    expression: c.str_at(2, "the condition")?,
                    not_valid: not_valid(c)?,
                },
                online: online(c)?,
            }
        }
        "drop_constraint" => {
            c.arity(2, 2, "a name and a table: drop_constraint(\"uq_tasks_uuid\", \"tasks\", type_ = \"unique\")")?;
            c.allow_keywords(&["type_"])?;
            let Some(kind) = c.keyword("type_") else {
                return err(
                    e,
                    "`drop_constraint` needs `type_ = \"unique\"`, `\"foreignkey\"` or `\"check\"`",
                );
            };
            let kind_expr = kind;
            let kind = constraint_kind(kind_expr)?;
            if kind == ConstraintKind::PrimaryKey {
                return err(kind_expr, "a primary key is not dropped on its own: a table keeps one; rename it with rename_constraint(…, type_ = \"primary\"), or change its columns in the models");
            }
            Op::DropConstraint {
                name: c.str_at(0, "the constraint name")?,
                table: c.str_at(1, "the table name")?,
                kind,
            }
        }
        "rename_constraint" => {
            c.arity(3, 3, "a table, the old and the new name: rename_constraint(\"tasks\", \"uq_old\", \"uq_new\", type_ = \"unique\")")?;
            c.allow_keywords(&["type_"])?;
            let Some(kind) = c.keyword("type_") else {
                return err(
                    e,
                    "`rename_constraint` needs `type_ = \"unique\"`, `\"foreignkey\"` or `\"check\"`",
                );
            };
            Op::RenameConstraint {
                table: c.str_at(0, "the table name")?,
                from: c.str_at(1, "the old name")?,
                to: c.str_at(2, "the new name")?,
                kind: constraint_kind(kind)?,
            }
        }
        _ => return Ok(None),
    }))
}

/// Raw SQL, backfills, Rust functions, database objects and enum types.
fn other_op(_e: &Expr, c: &Call, name: &str) -> Result<Option<Op>> {
    Ok(Some(match name {
        "execute" => {
            c.allow_keywords(&["sqlite", "postgres", "mysql"])?;
            if c.keywords.is_empty() {
                c.arity(1, 1, "SQL: execute(\"UPDATE …\"), or per dialect: execute(sqlite = \"…\", postgres = \"…\", mysql = \"…\")")?;
                Op::Execute {
                    sql: DialectSql::All(c.str_at(0, "the SQL")?),
                }
            } else {
                c.arity(0, 0, "either one SQL string or per-dialect `sqlite = \"…\"`, `postgres = \"…\"`, `mysql = \"…\"`")?;
                let get = |k: &str| c.keyword(k).map(|v| string(v, "the SQL")).transpose();
                Op::Execute {
                    sql: DialectSql::PerDialect {
                        sqlite: get("sqlite")?,
                        postgres: get("postgres")?,
                        mysql: get("mysql")?,
                    },
                }
            }
        }
        "backfill" => {
            c.arity(3, 3, "a table, a column and the value: backfill(\"tasks\", \"token\", \"gen_random_uuid()\", batch = 10000)")?;
            c.allow_keywords(&["batch"])?;
            let value = c.str_at(2, "the value, an SQL expression")?;
            if value.trim().is_empty() {
                return err(
                    c.positional[2],
                    "the value is empty: give the SQL expression that fills the column",
                );
            }
            Op::Backfill {
                table: c.str_at(0, "the table name")?,
                column: c.str_at(1, "the column name")?,
                value,
                batch: match c.keyword("batch") {
                    None => DEFAULT_BATCH,
                    Some(b) => batch(b)?,
                },
            }
        }
        "create_object" | "drop_object" => {
            let object = db_object(c)?;
            if name == "create_object" {
                Op::CreateObject { object }
            } else {
                Op::DropObject { object }
            }
        }
        "create_enum" | "drop_enum" => {
            c.arity(2, 2, "the type's name and its values: create_enum(\"post_status\", [\"draft\", \"published\"])")?;
            c.allow_keywords(&[])?;
            let name_ = c.str_at(0, "the enum's name")?;
            let values = c.strings_at(1, "the enum's values")?;
            if name == "create_enum" {
                Op::CreateEnum {
                    name: name_,
                    values,
                }
            } else {
                Op::DropEnum {
                    name: name_,
                    values,
                }
            }
        }
        "alter_enum" => {
            c.arity(3, 3, "the type's name, its values before and after: alter_enum(\"post_status\", [\"draft\"], [\"draft\", \"published\"])")?;
            c.allow_keywords(&["renamed"])?;
            let mut renamed = Vec::new();
            if let Some(r) = c.keyword("renamed") {
                for pair in list(r, "the renamed values: renamed = [(\"old\", \"new\")]")? {
                    match pair {
                        Expr::Tuple(t) if t.elems.len() == 2 => renamed.push((
                            string(&t.elems[0], "the old value")?,
                            string(&t.elems[1], "the new value")?,
                        )),
                        other => return err(other, "expected a pair (\"old\", \"new\")"),
                    }
                }
            }
            Op::AlterEnum {
                name: c.str_at(0, "the enum's name")?,
                from: c.strings_at(1, "the values before")?,
                to: c.strings_at(2, "the values after")?,
                renamed,
            }
        }
        "run" => {
            c.arity(1, 1, "a function of this file: run(backfill_status)")?;
            c.allow_keywords(&[])?;
            let Some(f) = ident(c.positional[0]) else {
                return err(c.positional[0], "expected the name of a function defined in this file, like run(backfill_status)");
            };
            Op::RunRust {
                function: f.to_string(),
            }
        }
        _ => return Ok(None),
    }))
}
