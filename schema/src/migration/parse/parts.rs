//! The parts of operations: columns and their types, table definitions, index keys,
//! objects, and the keyword options several operations share.

use syn::Expr;

use super::super::call::{boolean, err, ident, optional_string, string, Call, Result};
use crate::model::{
    CheckConstraint, Column, ColumnType, DbObject, Deferral, ForeignKey, IndexKey,
    ReferentialAction, Table, UniqueConstraint,
};
use crate::ops::{ConstraintKind, DialectSql, Op};

/// `type_ = "unique" | "foreignkey" | "check"`.
pub(super) fn constraint_kind(kind: &Expr) -> Result<ConstraintKind> {
    let word = string(kind, "the constraint type")?;
    let all = [
        ConstraintKind::Unique,
        ConstraintKind::ForeignKey,
        ConstraintKind::Check,
        ConstraintKind::PrimaryKey,
    ];
    if let Some(k) = all
        .into_iter()
        .find(|k| k.word() == word || (word == "foreign_key" && *k == ConstraintKind::ForeignKey))
    {
        return Ok(k);
    }
    err(
        kind,
        format!("unknown constraint type `{word}`; use \"unique\", \"foreignkey\", \"check\" or (to rename) \"primary\""),
    )
}

pub(super) fn create_table(c: &Call) -> Result<Op> {
    c.allow_keywords(&["comment"])?;
    if c.positional.is_empty() {
        return err(
            c.expr,
            "`create_table` takes the table name, then its columns and constraints",
        );
    }
    let mut table = Table::new(c.str_at(0, "the table name")?);
    if let Some(comment) = c.keyword("comment") {
        table.comment = optional_string(comment, "the comment")?;
    }
    for part in &c.positional[1..] {
        let p = Call::read(
            part,
            "column(…), primary_key([…]), unique(…), foreign_key(…) or check(…)",
        )?;
        match p.name.to_string().as_str() {
            "column" => table.columns.push(column(part)?),
            "primary_key" => {
                p.arity(1, 1, "the key's columns: primary_key([\"id\"])")?;
                p.allow_keywords(&["name"])?;
                table.primary_key = p.strings_at(0, "column names")?;
                if let Some(n) = p.keyword("name") {
                    table.primary_key_name = Some(string(n, "the primary key's name")?);
                }
            }
            "unique" => {
                p.arity(2, 2, "a name and columns: unique(\"uq_tasks_uuid\", [\"uuid\"])")?;
                p.allow_keywords(&["nulls_not_distinct", "deferrable"])?;
                let mut unique = UniqueConstraint::new(p.str_at(0, "the constraint name")?, p.strings_at(1, "column names")?);
                unique_options(&p, &mut unique)?;
                table.uniques.push(unique);
            }
            "foreign_key" => {
                p.arity(4, 4, "a name, columns, the referred table and columns: foreign_key(\"fk\", [\"task_id\"], \"tasks\", [\"id\"])")?;
                p.allow_keywords(&["on_delete", "on_update", "deferrable", "not_valid"])?;
                table.foreign_keys.push(ForeignKey {
                    name: p.str_at(0, "the constraint name")?,
                    columns: p.strings_at(1, "column names")?,
                    referred_table: p.str_at(2, "the referred table")?,
                    referred_columns: p.strings_at(3, "referred columns")?,
                    on_delete: action(p.keyword("on_delete"))?,
                    on_update: action(p.keyword("on_update"))?,
                    not_valid: not_valid(&p)?,
                    deferral: deferral(p.keyword("deferrable"))?,
                });
            }
            "check" => {
                p.arity(2, 2, "a name and an SQL condition: check(\"ck_positive\", \"amount > 0\")")?;
                p.allow_keywords(&["not_valid"])?;
                table.checks.push(CheckConstraint { name: p.str_at(0, "the constraint name")?, expression: p.str_at(1, "the condition")?, not_valid: not_valid(&p)? });
            }
            other => return err(&p.name, format!("`create_table` takes column(…), primary_key([…]), unique(…), foreign_key(…) and check(…), not `{other}`")),
        }
    }
    table.normalize();
    Ok(Op::CreateTable { table })
}

/// An index's keys: a string is a column's name as it is; `text("…")` is a key in SQL —
/// an expression, an order, an operator class (`text("published DESC")`,
/// `text("lower(ap_id)")`, `text("name gin_trgm_ops")`).
pub(super) fn index_keys(e: &Expr) -> Result<Vec<IndexKey>> {
    const FORM: &str = "a column name or text(\"<SQL key>\"), like [\"id\", text(\"created_at DESC\"), text(\"lower(email)\")]";
    let Expr::Array(a) = e else {
        return err(e, format!("expected a list of keys: {FORM}"));
    };
    a.elems
        .iter()
        .map(|k| match k {
            Expr::Call(_) => {
                let c = Call::read(k, FORM)?;
                if c.name != "text" {
                    return err(&c.name, format!("an index key is {FORM}"));
                }
                c.arity(1, 1, "the key's SQL: text(\"created_at DESC\")")?;
                c.allow_keywords(&[])?;
                IndexKey::parse(&c.str_at(0, "the key's SQL")?).or_else(|m| err(k, m))
            }
            _ => Ok(IndexKey::column(string(k, FORM)?)),
        })
        .collect()
}

/// `create_object(view, "name", "CREATE VIEW …")`, or per dialect
/// `create_object(trigger, "name", table = "post", postgres = "…", sqlite = "…")`.
pub(super) fn db_object(c: &Call) -> Result<DbObject> {
    const FORM: &str = "a kind, a name and the CREATE statement: create_object(view, \"active_users\", \"CREATE VIEW …\"), or per dialect: create_object(function, \"touch\", postgres = \"…\", mysql = \"…\")";
    c.allow_keywords(&["table", "sqlite", "postgres", "mysql"])?;
    let dialects = ["sqlite", "postgres", "mysql"]
        .iter()
        .any(|k| c.keyword(k).is_some());
    if dialects {
        c.arity(2, 2, FORM)?;
    } else {
        c.arity(3, 3, FORM)?;
    }
    let kind_expr = c.positional[0];
    let kind = ident(kind_expr)
        .and_then(|i| {
            crate::model::ObjectKind::ALL
                .into_iter()
                .find(|k| i == k.grammar_word())
        })
        .ok_or_else(|| {
            syn::Error::new_spanned(
                kind_expr,
                "the kind is one of extension, type_, sequence, function, view, materialized_view, trigger",
            )
        })?;
    let get = |k: &str| c.keyword(k).map(|v| string(v, "the SQL")).transpose();
    let sql = if dialects {
        DialectSql::PerDialect {
            sqlite: get("sqlite")?,
            postgres: get("postgres")?,
            mysql: get("mysql")?,
        }
    } else {
        DialectSql::All(c.str_at(2, "the CREATE statement")?)
    };
    Ok(DbObject {
        kind,
        name: c.str_at(1, "the object's name")?,
        table: get("table")?,
        sql,
    })
}

/// `nulls_not_distinct = true`, `deferrable = "deferred"` on a unique constraint.
pub(super) fn unique_options(c: &Call, unique: &mut UniqueConstraint) -> Result<()> {
    if let Some(n) = c.keyword("nulls_not_distinct") {
        unique.nulls_not_distinct = boolean(n, "nulls_not_distinct")?;
    }
    unique.deferral = deferral(c.keyword("deferrable"))?;
    Ok(())
}

/// `deferrable = "immediate" | "deferred"`; absent is not deferrable.
pub(super) fn deferral(e: Option<&Expr>) -> Result<Deferral> {
    match e {
        None => Ok(Deferral::Immediate),
        Some(e) => Deferral::parse_deferrable(&string(e, "when it is checked")?).ok_or_else(|| {
            syn::Error::new_spanned(
                e,
                "`deferrable` is \"immediate\" (DEFERRABLE INITIALLY IMMEDIATE) or \"deferred\" (DEFERRABLE INITIALLY DEFERRED); leave it out for NOT DEFERRABLE",
            )
        }),
    }
}

/// `not_valid = true`.
pub(super) fn not_valid(c: &Call) -> Result<bool> {
    c.keyword("not_valid")
        .map_or(Ok(false), |v| boolean(v, "not_valid"))
}

/// Rows per statement of a `backfill` that does not say `batch = …`.
pub const DEFAULT_BATCH: u32 = 10_000;

/// `batch = 5000`: a whole number of rows, at least 1.
pub(super) fn batch(e: &Expr) -> Result<u32> {
    let Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Int(i),
        ..
    }) = e
    else {
        return err(e, "`batch` is a number of rows: batch = 10000");
    };
    match i.base10_parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => err(
            e,
            "`batch` is a number of rows from 1 to 4294967295: batch = 10000",
        ),
    }
}

/// `online = true`: the form that does not hold writes up (outside a transaction).
pub(super) fn online(c: &Call) -> Result<bool> {
    c.keyword("online")
        .map_or(Ok(false), |v| boolean(v, "online"))
}

/// `column("name", type, nullable, autoincrement, server_default = "…", comment = "…")`.
pub(super) fn column(e: &Expr) -> Result<Column> {
    let c = Call::read(e, "column(\"name\", type, …)")?;
    if c.name != "column" {
        return err(&c.name, "expected column(\"name\", type, …)");
    }
    c.allow_keywords(&["server_default", "comment"])?;
    if c.positional.len() < 2 {
        return err(
            e,
            "`column` takes a name and a type: column(\"retry_count\", integer)",
        );
    }
    let mut col = Column::new(
        c.str_at(0, "the column name")?,
        column_type(c.positional[1])?,
    );
    for flag in &c.positional[2..] {
        match ident(flag).map(|i| i.to_string()).as_deref() {
            Some("nullable") => col.nullable = true,
            Some("autoincrement") => col.autoincrement = true,
            Some("identity_always") => col.identity_always = true,
            _ => {
                return err(
                    flag,
                    "expected a flag: `nullable`, `autoincrement` or `identity_always`",
                )
            }
        }
    }
    if let Some(d) = c.keyword("server_default") {
        col.server_default = optional_string(d, "the server default")?;
    }
    if let Some(d) = c.keyword("comment") {
        col.comment = optional_string(d, "the comment")?;
    }
    Ok(col)
}

/// `integer`, `varchar(36)`, `numeric(10, 2)`, `custom("citext")`.
pub(super) fn column_type(e: &Expr) -> Result<ColumnType> {
    const TYPES: &str = "smallint, integer, bigint, real, double, numeric, numeric(p, s), boolean, text, varchar(n), char(n), binary, date, time, timestamp, timestamptz, uuid, json, custom(\"SQL\"), db_enum(\"name\", [values])";
    if let Some(name) = ident(e) {
        return ColumnType::parse_portable(&name.to_string()).ok_or_else(|| {
            syn::Error::new_spanned(
                e,
                format!("unknown column type `{name}`; expected one of {TYPES}"),
            )
        });
    }
    let c = Call::read(e, &format!("a column type: {TYPES}"))?;
    c.allow_keywords(&[])?;
    if c.name == "db_enum" {
        c.arity(
            2,
            2,
            "the enum's name and values: db_enum(\"post_status\", [\"draft\", \"published\"])",
        )?;
        return Ok(ColumnType::Enum {
            name: c.str_at(0, "the enum's name")?,
            values: c.strings_at(1, "the enum's values")?,
        });
    }
    if c.name == "custom" {
        c.arity(1, 1, "the SQL type: custom(\"citext\")")?;
        return Ok(ColumnType::Custom {
            sql: c.str_at(0, "the SQL type")?,
        });
    }
    let mut args = Vec::new();
    for a in &c.positional {
        match a {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(i),
                ..
            }) => args.push(i.base10_digits().to_string()),
            other => return err(other, "expected a whole number"),
        }
    }
    ColumnType::parse_portable(&format!("{}({})", c.name, args.join(","))).ok_or_else(|| {
        syn::Error::new_spanned(e, format!("unknown column type; expected one of {TYPES}"))
    })
}

pub(super) fn action(e: Option<&Expr>) -> Result<ReferentialAction> {
    let Some(e) = e else {
        return Ok(ReferentialAction::NoAction);
    };
    let text = string(e, "the referential action")?;
    ReferentialAction::parse(&text).ok_or_else(|| {
        syn::Error::new_spanned(e, format!("unknown referential action `{text}`; use cascade, set_null, set_default, restrict or no_action"))
    })
}
