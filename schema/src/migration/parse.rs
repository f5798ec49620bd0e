//! Reads the `migration!` grammar into a [`MigrationFile`].

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, FieldValue, Member, Token};

use super::call::{boolean, err, ident, list, optional_string, string, strings, Call, Result};
use super::MigrationFile;
use crate::model::{
    CheckConstraint, Column, ColumnType, DbObject, Deferral, ForeignKey, Index, IndexKey,
    ReferentialAction, Table, UniqueConstraint,
};
use crate::ops::{ColumnChanges, ConstraintKind, DialectSql, Op};

/// Why a migration file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The file is not valid Rust, or the `migration!` block breaks the grammar.
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and what was expected.
        message: String,
    },
    /// The file holds no `migration! { … }` block, or more than one.
    #[error("{0}")]
    Shape(String),
}

impl FileError {
    fn from_syn(e: syn::Error) -> FileError {
        let at = e.span().start();
        FileError::Syntax {
            line: at.line,
            column: at.column + 1,
            message: e.to_string(),
        }
    }
}

/// Reads a whole migration file: the one `migration! { … }` item in it.
pub fn parse_file(text: &str) -> std::result::Result<MigrationFile, FileError> {
    if let Some(line) = conflict_marker_line(text) {
        return Err(FileError::Shape(format!(
            "line {line} holds a git conflict marker; resolve the merge conflict in this file first"
        )));
    }
    let file = syn::parse_file(text).map_err(FileError::from_syn)?;
    let mut found = file.items.iter().filter_map(|item| match item {
        syn::Item::Macro(m)
            if m.mac
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "migration") =>
        {
            Some(&m.mac)
        }
        _ => None,
    });
    let Some(mac) = found.next() else {
        return Err(FileError::Shape(
            "no `retort::migration! { … }` block in the file".into(),
        ));
    };
    if found.next().is_some() {
        return Err(FileError::Shape(
            "more than one `migration!` block; a file holds exactly one migration".into(),
        ));
    }
    parse_body(mac.tokens.clone()).map_err(FileError::from_syn)
}

/// The 1-based line of the first git conflict marker, if any.
pub fn conflict_marker_line(text: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            l.starts_with("<<<<<<<")
                || l.starts_with(">>>>>>>")
                || l.starts_with("|||||||")
                || l == "======="
        })
        .map(|i| i + 1)
}

/// Reads the body of a `migration! { … }` block.
pub fn parse_body(tokens: TokenStream) -> Result<MigrationFile> {
    let fields = Punctuated::<FieldValue, Token![,]>::parse_terminated.parse2(tokens)?;
    let mut revision = None;
    let mut parents = None;
    let mut message = None;
    let mut up = None;
    let mut down = None;
    let mut atomic = None;
    let mut reviewed_locks = None;
    let mut replaces = None;
    let mut elidable = None;
    let mut errors: Option<syn::Error> = None;
    let mut record = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    for field in &fields {
        let Member::Named(key) = &field.member else {
            record(syn::Error::new_spanned(
                &field.member,
                "expected a field name",
            ));
            continue;
        };
        let key_name = key.to_string();
        let slot_taken = match key_name.as_str() {
            "revision" => revision.is_some(),
            "parents" => parents.is_some(),
            "message" => message.is_some(),
            "up" => up.is_some(),
            "down" => down.is_some(),
            "atomic" => atomic.is_some(),
            "reviewed_locks" => reviewed_locks.is_some(),
            "replaces" => replaces.is_some(),
            "elidable" => elidable.is_some(),
            _ => {
                record(syn::Error::new_spanned(key, format!("unknown field `{key}`; a migration has revision, parents, message, up and down (and `atomic: false` to run outside a transaction, `reviewed_locks: [\"…\"]` for lock warnings its author accepts, `elidable: true` for data steps a squash may drop, `replaces: [\"…\"]` on a checkpoint)")));
                continue;
            }
        };
        if slot_taken {
            record(syn::Error::new_spanned(
                key,
                format!("`{key}` is given twice"),
            ));
            continue;
        }
        let result = match key_name.as_str() {
            "revision" => string(&field.expr, "the revision id").map(|v| revision = Some(v)),
            "parents" => strings(&field.expr, "parent revision ids").map(|v| parents = Some(v)),
            "message" => string(&field.expr, "the message").map(|v| message = Some(v)),
            "up" => ops(&field.expr).map(|v| up = Some(v)),
            "reviewed_locks" => strings(&field.expr, "lock warnings as the build names them")
                .map(|v| reviewed_locks = Some(v)),
            "replaces" => strings(&field.expr, "the revision ids this checkpoint replaces")
                .map(|v| replaces = Some(v)),
            "atomic" => flag(&field.expr, "`atomic` is `true` (the default) or `false`")
                .map(|v| atomic = Some(v)),
            "elidable" => flag(&field.expr, "`elidable` is `true` or `false` (the default)")
                .map(|v| elidable = Some(v)),
            _ => ops(&field.expr).map(|v| down = Some(v)),
        };
        if let Err(e) = result {
            record(e);
        }
    }
    if let Some(e) = errors {
        return Err(e);
    }
    let Some(revision) = revision else {
        return err(&fields, "the migration has no `revision: \"…\"`");
    };
    if revision.is_empty()
        || !revision
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return err(
            &fields,
            format!("revision `{revision}` must be non-empty letters, digits and `_`"),
        );
    }
    let atomic = atomic.unwrap_or(true);
    let up = up.unwrap_or_default();
    let down = down.unwrap_or_default();
    if atomic {
        if let Some(op) = up.iter().chain(&down).find(|op| op.outside_transaction()) {
            let what = match op {
                Op::CreateIndex { index, .. } => {
                    format!("`create_index(\"{}\", …, concurrently = true)`", index.name)
                }
                Op::DropIndex { name, .. } => {
                    format!("`drop_index(\"{name}\", …, concurrently = true)`")
                }
                Op::Backfill { table, column, .. } => format!(
                    "`backfill(\"{table}\", \"{column}\", …)`, which commits batch by batch,"
                ),
                _ => format!("`{}(…, online = true)` ({})", op.name(), op.describe()),
            };
            return err(
                &fields,
                format!("{what} cannot run inside a transaction; add `atomic: false,` to this migration (it then runs statement by statement, and a failure half-way is recorded for `db resolve`)"),
            );
        }
    }
    Ok(MigrationFile {
        revision,
        parents: parents.unwrap_or_default(),
        message: message.unwrap_or_default(),
        up,
        down,
        atomic,
        reviewed_locks: reviewed_locks.unwrap_or_default(),
        replaces: replaces.unwrap_or_default(),
        elidable: elidable.unwrap_or(false),
    })
}

fn flag(e: &Expr, what: &str) -> Result<bool> {
    match e {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Bool(b),
            ..
        }) => Ok(b.value),
        other => Err(syn::Error::new_spanned(other, what)),
    }
}

fn ops(e: &Expr) -> Result<Vec<Op>> {
    let mut out = Vec::new();
    let mut errors: Option<syn::Error> = None;
    for item in list(e, "operations")? {
        match op(item) {
            Ok(op) => out.push(op),
            Err(e) => match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            },
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

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

fn op(e: &Expr) -> Result<Op> {
    let c = Call::read(e, "an operation such as add_column(\"table\", column(…))")?;
    let name = c.name.to_string();
    let op = match name.as_str() {
        "create_table" => create_table(&c)?,
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
            if online(&c)? && (changes.nullable != Some(false) || changes.ty.is_some()) {
                return err(e, "`online = true` is the form of `alter_column(…, nullable = false)` that does not hold writes up while it scans; it does not apply to a type change (that rewrites the table) or to other changes: remove it, or give the type change its own `alter_column`");
            }
            Op::AlterColumn {
                table: c.str_at(0, "the table name")?,
                column: c.str_at(1, "the column name")?,
                online: online(&c)?,
                changes,
            }
        }
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
        "create_unique_constraint" => {
            c.arity(3, 3, "a name, a table and columns: create_unique_constraint(\"uq_tasks_uuid\", \"tasks\", [\"uuid\"])")?;
            c.allow_keywords(&["nulls_not_distinct", "deferrable", "online"])?;
            let mut unique = UniqueConstraint::new(
                c.str_at(0, "the constraint name")?,
                c.strings_at(2, "column names")?,
            );
            unique_options(&c, &mut unique)?;
            Op::AddUnique {
                table: c.str_at(1, "the table name")?,
                unique,
                online: online(&c)?,
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
                    not_valid: not_valid(&c)?,
                    deferral: deferral(c.keyword("deferrable"))?,
                },
                online: online(&c)?,
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
                    not_valid: not_valid(&c)?,
                },
                online: online(&c)?,
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
        "rename_index" => {
            c.arity(3, 3, "a table, the old and the new name: rename_index(\"tasks\", \"ix_old\", \"ix_new\")")?;
            c.allow_keywords(&[])?;
            Op::RenameIndex {
                table: c.str_at(0, "the table name")?,
                from: c.str_at(1, "the old name")?,
                to: c.str_at(2, "the new name")?,
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
            let object = db_object(&c)?;
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
        _ => {
            let near = OPERATIONS
                .iter()
                .min_by_key(|o| strsim::damerau_levenshtein(o, &name))
                .copied()
                .unwrap_or("add_column");
            return err(
                &c.name,
                format!(
                    "unknown operation `{name}`; did you mean `{near}`? Operations: {}",
                    OPERATIONS.join(", ")
                ),
            );
        }
    };
    Ok(op)
}

/// `type_ = "unique" | "foreignkey" | "check"`.
fn constraint_kind(kind: &Expr) -> Result<ConstraintKind> {
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

fn create_table(c: &Call) -> Result<Op> {
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
fn index_keys(e: &Expr) -> Result<Vec<IndexKey>> {
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
fn db_object(c: &Call) -> Result<DbObject> {
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
fn unique_options(c: &Call, unique: &mut UniqueConstraint) -> Result<()> {
    if let Some(n) = c.keyword("nulls_not_distinct") {
        unique.nulls_not_distinct = boolean(n, "nulls_not_distinct")?;
    }
    unique.deferral = deferral(c.keyword("deferrable"))?;
    Ok(())
}

/// `deferrable = "immediate" | "deferred"`; absent is not deferrable.
fn deferral(e: Option<&Expr>) -> Result<Deferral> {
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
fn not_valid(c: &Call) -> Result<bool> {
    c.keyword("not_valid")
        .map_or(Ok(false), |v| boolean(v, "not_valid"))
}

/// Rows per statement of a `backfill` that does not say `batch = …`.
pub const DEFAULT_BATCH: u32 = 10_000;

/// `batch = 5000`: a whole number of rows, at least 1.
fn batch(e: &Expr) -> Result<u32> {
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
fn online(c: &Call) -> Result<bool> {
    c.keyword("online")
        .map_or(Ok(false), |v| boolean(v, "online"))
}

/// `column("name", type, nullable, autoincrement, server_default = "…", comment = "…")`.
fn column(e: &Expr) -> Result<Column> {
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
fn column_type(e: &Expr) -> Result<ColumnType> {
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

fn action(e: Option<&Expr>) -> Result<ReferentialAction> {
    let Some(e) = e else {
        return Ok(ReferentialAction::NoAction);
    };
    let text = string(e, "the referential action")?;
    ReferentialAction::parse(&text).ok_or_else(|| {
        syn::Error::new_spanned(e, format!("unknown referential action `{text}`; use cascade, set_null, set_default, restrict or no_action"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_point_at_the_token_and_name_the_fix() {
        let e = parse_body(
            quote::quote! { revision: "r1", up: [add_colum("t", column("c", integer))] },
        )
        .unwrap_err();
        assert!(e.to_string().contains("did you mean `add_column`"), "{e}");
        let e = parse_body(
            quote::quote! { revision: "r1", up: [add_column("t", column("c", integr))] },
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("unknown column type `integr`"),
            "{e}"
        );
        let e = parse_body(quote::quote! { revision: "r1", parent: [] }).unwrap_err();
        assert!(e.to_string().contains("unknown field `parent`"), "{e}");
    }

    #[test]
    fn conflict_markers_are_refused() {
        let text = "retort::migration! {\n<<<<<<< HEAD\n revision: \"a\",\n=======\n revision: \"b\",\n>>>>>>> other\n}\n";
        let e = parse_file(text).unwrap_err();
        assert!(
            e.to_string().contains("line 2 holds a git conflict marker"),
            "{e}"
        );
    }
}
