//! Rendering operations to SQL, per dialect.
//!
//! A renderer gets the schema before the operation (the runner and the offline
//! `sql` command always have it from the replay), so an operation stays small and
//! a dialect can do what it must — SQLite rebuilds a table for most changes.

mod ansi;
mod backfill;
pub use backfill::KeyWalk;
pub(crate) mod enums;
mod features;
mod index_def;
pub mod locks;
pub mod mysql;
mod order;
pub mod postgres;
mod quote;
pub mod sqlite;

pub use features::{
    check_refusal, create_index_sql, foreign_key_refusal, index_refusal, unique_refusal,
    unsupported,
};
pub use index_def::{read_create_index, read_storage};
pub use mysql::{mysql_default, mysql_literal, mysql_type, mysql_unindexable};
pub use postgres::{postgres_default, postgres_type};
pub use quote::{
    literal, push_ident, push_literal, quote_ident, quote_literal, quote_table, split_schema,
};
pub use sqlite::sqlite_type;

use crate::expr::canon::{canonical, canonical_default, Rules};
use crate::model::{ColumnType, Index, Schema, Table};
use crate::ops::{DialectSql, Op};

/// A SQL dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// SQLite 3.35 or newer.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL / MariaDB.
    Mysql,
}

impl Dialect {
    /// `sqlite`, `postgres`, `mysql`.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
            Dialect::Mysql => "mysql",
        }
    }

    /// Parses a dialect name (`postgresql` and `mariadb` too).
    pub fn parse(text: &str) -> Option<Dialect> {
        match text.to_ascii_lowercase().as_str() {
            "sqlite" | "sqlite3" => Some(Dialect::Sqlite),
            "postgres" | "postgresql" | "pg" => Some(Dialect::Postgres),
            "mysql" | "mariadb" => Some(Dialect::Mysql),
            _ => None,
        }
    }

    /// Whether this build renders SQL for the dialect: retort-schema's feature of the same
    /// name (`sqlite`, `postgres`, `mysql`) is on. An app that links retort for one backend
    /// leaves the other dialects' renderers out of its binary; rendering for one of them is
    /// refused by name ([`render`], [`render_ops`]).
    ///
    /// ```
    /// use retort_schema::sql::Dialect;
    /// assert_eq!(Dialect::Sqlite.compiled(), cfg!(feature = "sqlite"));
    /// ```
    pub const fn compiled(self) -> bool {
        match self {
            Dialect::Sqlite => cfg!(feature = "sqlite"),
            Dialect::Postgres => cfg!(feature = "postgres"),
            Dialect::Mysql => cfg!(feature = "mysql"),
        }
    }

    /// The refusal to render in a dialect this build leaves out.
    pub(crate) fn left_out(self) -> RenderError {
        RenderError {
            message: format!(
                "this build of retort renders no SQL for {0}: enable retort's `{0}` feature",
                self.name()
            ),
        }
    }

    /// A dialect this build leaves out, reached where no error can be returned: only a
    /// [`Catalog`] made by hand for it gets here (a backend exists only for what is compiled).
    pub(crate) fn left_out_of_build(self) -> ! {
        panic!("{}", self.left_out().message)
    }
}

/// How one database keeps a schema: the types, defaults and checks it reads back for what
/// a model says, and which spellings mean the same there. `check` and adoption compare
/// through it; each dialect's module holds both directions of its spelling.
///
/// ```
/// use retort_schema::sql::{Catalog, Dialect};
/// use retort_schema::ColumnType;
/// let pg = Catalog::of(Dialect::Postgres);
/// assert_eq!(pg.default_key(&ColumnType::TimestampTz, "now()"), pg.default_key(&ColumnType::TimestampTz, "CURRENT_TIMESTAMP"));
/// assert_eq!(pg.check_key("amount > -1"), pg.check_key("(amount > '-1'::integer)"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Catalog {
    /// The dialect.
    pub dialect: Dialect,
    /// MariaDB rather than MySQL (its metadata keeps defaults in utf8mb3).
    pub mariadb: bool,
}

impl Catalog {
    /// The type a value is cast to for reading it as text (`CAST(x AS …)`).
    pub fn text_cast(&self) -> &'static str {
        match self.dialect {
            Dialect::Mysql => "CHAR",
            Dialect::Postgres | Dialect::Sqlite => "TEXT",
        }
    }

    /// An expression as this catalog prints it (a check, an index predicate or key), spelled
    /// so that a model reads it in the standard lexicon and the database reads it the same:
    /// MySQL's `'it\'s'` becomes `'it''s'` (a backslash stays escaped, since MySQL reads
    /// one); other dialects print the standard spelling already.
    ///
    /// ```
    /// use retort_schema::sql::{Catalog, Dialect};
    /// let mysql = Catalog::of(Dialect::Mysql);
    /// assert_eq!(mysql.model_spelling(r"`a` in (_utf8mb4'it\'s',_utf8mb4'x')"), "`a` in (_utf8mb4'it''s',_utf8mb4'x')");
    /// assert_eq!(Catalog::of(Dialect::Postgres).model_spelling("a <> 'it''s'"), "a <> 'it''s'");
    /// ```
    pub fn model_spelling(&self, expr: &str) -> String {
        use crate::expr::lex::{lex, Lexicon, Token};
        if self.dialect != Dialect::Mysql {
            return expr.to_string();
        }
        let mut out = String::with_capacity(expr.len());
        let mut at = 0;
        for span in lex(expr, Lexicon::MYSQL) {
            if let Token::Str(value) = &span.token {
                out.push_str(&expr[at..span.start]);
                out.push('\'');
                out.push_str(&value.replace('\\', "\\\\").replace('\'', "''"));
                out.push('\'');
                at = span.end;
            }
        }
        out.push_str(&expr[at..]);
        out
    }

    /// The catalog of a dialect (MySQL proper for [`Dialect::Mysql`]).
    pub fn of(dialect: Dialect) -> Catalog {
        Catalog {
            dialect,
            mariadb: false,
        }
    }

    /// MariaDB's catalog.
    pub fn mariadb() -> Catalog {
        Catalog {
            dialect: Dialect::Mysql,
            mariadb: true,
        }
    }

    /// The rules under which two spellings mean the same here.
    pub fn rules(&self) -> &'static Rules {
        match self.dialect {
            Dialect::Sqlite => &sqlite::RULES,
            Dialect::Postgres => &postgres::RULES,
            Dialect::Mysql => &mysql::RULES,
        }
    }

    /// Whether the database keeps table and column comments.
    pub fn stores_comments(&self) -> bool {
        self.dialect != Dialect::Sqlite
    }

    /// The type the database keeps for a model's type, read back portable.
    ///
    /// Panics for a dialect this build leaves out ([`Dialect::compiled`]).
    pub fn stored_type(&self, ty: &ColumnType) -> ColumnType {
        match self.dialect {
            Dialect::Sqlite if cfg!(feature = "sqlite") => sqlite::stored_type(ty),
            Dialect::Postgres if cfg!(feature = "postgres") => postgres::stored_type(ty),
            Dialect::Mysql if cfg!(feature = "mysql") => mysql::stored_type(ty),
            d => d.left_out_of_build(),
        }
    }

    /// A model's table as the database keeps it (types as stored, defaults as retort
    /// writes them, the dialect's equivalences of constraints), without rename hints.
    ///
    /// Panics for a dialect this build leaves out ([`Dialect::compiled`]).
    pub fn stored_table(&self, table: &Table) -> Table {
        let mut t = table.without_rename_hints();
        match self.dialect {
            Dialect::Sqlite if cfg!(feature = "sqlite") => sqlite::stored_table(&mut t),
            Dialect::Postgres if cfg!(feature = "postgres") => postgres::stored_table(&mut t),
            Dialect::Mysql if cfg!(feature = "mysql") => mysql::stored_table(&mut t, self.mariadb),
            d => d.left_out_of_build(),
        }
        t.normalize();
        t
    }

    /// The canonical form of a default of a column of type `ty` here: equal for every
    /// spelling the database treats as the same value.
    pub fn default_key(&self, ty: &ColumnType, text: &str) -> String {
        canonical_default(ty, text, self.rules())
    }

    /// The canonical form of a check expression here.
    pub fn check_key(&self, text: &str) -> String {
        canonical(text, self.rules())
    }

    /// The canonical form of an index here: equal exactly when the database builds the same
    /// index (expressions and the predicate compared canonically, the name left out).
    pub fn index_key(&self, i: &Index) -> String {
        let keys: Vec<String> = i
            .keys
            .iter()
            .map(|k| {
                let target = if k.expression {
                    format!("({})", self.check_key(&k.target))
                } else {
                    k.target.clone()
                };
                format!("{target} {:?} {} {:?}", k.opclass, k.descending, k.nulls)
            })
            .collect();
        format!(
            "{} {:?} {keys:?} {:?} {:?} {:?} {}",
            i.unique,
            i.method,
            i.predicate.as_deref().map(|p| self.check_key(p)),
            i.include,
            i.with,
            i.nulls_not_distinct
        )
    }
}

/// One thing to run for an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// An SQL statement (or, for `execute`, a batch as the author wrote it).
    Sql(String),
    /// The Rust function a `run(…)` names.
    Rust(String),
    /// An `UPDATE` that changes at most a batch of rows, run (each time committed on its
    /// own) until it changes none: a `backfill`.
    Batches {
        /// One batch, run again until it changes no row (without a `walk`).
        batch: String,
        /// The same change as one statement, for a script that cannot loop (`db sql`).
        whole: String,
        /// Where the table has a single integer primary key: the batches as ranges of it.
        walk: Option<backfill::KeyWalk>,
    },
    /// A query that must return no row: a row's `v` is a sample of what is wrong, and the
    /// step fails with `problem` and that sample (checks the database cannot do itself).
    Verify {
        /// Returns one text column `v` for an offending row, none when all is well.
        query: String,
        /// What is wrong and what to do, naming the table and column.
        problem: String,
    },
}

/// Why an operation cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct RenderError {
    /// What is wrong and what to do.
    pub message: String,
}

/// The steps that perform `op` on a database whose schema is `before`.
///
/// ```
/// use retort_schema::sql::{render, Dialect, Step};
/// use retort_schema::{ops::Op, Column, ColumnType, Schema, Table};
///
/// let mut t = Table::new("tasks");
/// t.columns.push(Column::new("id", ColumnType::Integer));
/// t.primary_key = vec!["id".into()];
/// let before = Schema::from_tables([t]);
/// let mut c = Column::new("retry_count", ColumnType::Integer);
/// c.server_default = Some("0".into());
/// let steps = render(&Op::AddColumn { table: "tasks".into(), column: c }, &before, Dialect::Sqlite).unwrap();
/// assert_eq!(steps, [Step::Sql(r#"ALTER TABLE "tasks" ADD COLUMN "retry_count" INTEGER NOT NULL DEFAULT 0"#.into())]);
/// ```
pub fn render(op: &Op, before: &Schema, dialect: Dialect) -> Result<Vec<Step>, RenderError> {
    if !dialect.compiled() {
        return Err(dialect.left_out());
    }
    match op {
        Op::Execute { sql } => {
            let text = match sql {
                DialectSql::All(s) => Some(s.clone()),
                DialectSql::PerDialect {
                    sqlite,
                    postgres,
                    mysql,
                } => match dialect {
                    Dialect::Sqlite => sqlite.clone(),
                    Dialect::Postgres => postgres.clone(),
                    Dialect::Mysql => mysql.clone(),
                },
            };
            match text {
                Some(t) => Ok(vec![Step::Sql(t)]),
                None => Err(RenderError {
                    message: format!(
                        "this `execute(…)` has no SQL for {}; add `{} = \"…\"` to it",
                        dialect.name(),
                        dialect.name()
                    ),
                }),
            }
        }
        Op::RunRust { function } => Ok(vec![Step::Rust(function.clone())]),
        Op::Backfill {
            table,
            column,
            value,
            batch,
        } => backfill::render(table, column, value, *batch, before, dialect),
        // An object a dialect has no statement for does not exist there.
        Op::CreateObject { object } => Ok(object
            .sql_for(dialect)
            .map(|s| vec![Step::Sql(s.to_string())])
            .unwrap_or_default()),
        Op::DropObject { object } => Ok(object
            .sql_for(dialect)
            .map(|_| vec![Step::Sql(drop_object_sql(object, dialect))])
            .unwrap_or_default()),
        Op::CreateEnum { .. } | Op::DropEnum { .. } | Op::AlterEnum { .. } => {
            enums::render(op, before, dialect)
        }
        _ => {
            refuse_unsupported_parts(op, dialect)?;
            render_structure(op, before, dialect)
        }
    }
}

/// The statement that drops a declared object.
///
/// ```
/// use retort_schema::sql::{drop_object_sql, Dialect};
/// use retort_schema::{DbObject, ObjectKind};
/// use retort_schema::ops::DialectSql;
/// let t = DbObject { kind: ObjectKind::Trigger, name: "touch".into(), table: Some("post".into()), sql: DialectSql::All(String::new()) };
/// assert_eq!(drop_object_sql(&t, Dialect::Postgres), r#"DROP TRIGGER "touch" ON "post""#);
/// assert_eq!(drop_object_sql(&t, Dialect::Mysql), "DROP TRIGGER `touch`");
/// ```
pub fn drop_object_sql(object: &crate::DbObject, dialect: Dialect) -> String {
    use crate::ObjectKind;
    let name = quote_ident(&object.name, dialect);
    match (object.kind, dialect, &object.table) {
        (ObjectKind::Trigger, Dialect::Postgres, Some(t)) => {
            format!("DROP TRIGGER {name} ON {}", quote_ident(t, dialect))
        }
        (ObjectKind::MaterializedView, ..) => format!("DROP MATERIALIZED VIEW {name}"),
        (kind, ..) => format!("DROP {} {name}", kind.word().to_ascii_uppercase()),
    }
}

/// Refuses an operation that builds something this dialect lacks (a partial index on
/// MySQL, a deferrable unique constraint on SQLite, …), before anything runs.
fn refuse_unsupported_parts(op: &Op, dialect: Dialect) -> Result<(), RenderError> {
    let refusal = match op {
        Op::CreateTable { table } => unsupported(dialect, table).into_iter().next(),
        Op::CreateIndex { table, index, .. } => index_refusal(dialect, table, index),
        Op::AddUnique { table, unique, .. } => unique_refusal(dialect, table, unique),
        Op::AddForeignKey {
            table, foreign_key, ..
        } => foreign_key_refusal(dialect, table, foreign_key),
        Op::AddCheck { table, check, .. } => check_refusal(dialect, table, check),
        Op::AddColumn { table, column } => {
            let mut t = Table::new(table.clone());
            t.columns.push(column.clone());
            unsupported(dialect, &t).into_iter().next()
        }
        Op::AlterColumn {
            table,
            column,
            changes,
            ..
        } => changes.ty.as_ref().and_then(|ty| {
            let mut t = Table::new(table.clone());
            t.columns
                .push(crate::Column::new(column.clone(), ty.clone()));
            unsupported(dialect, &t).into_iter().next()
        }),
        _ => None,
    };
    match refusal {
        Some(message) => Err(RenderError { message }),
        None => Ok(()),
    }
}

fn render_structure(op: &Op, before: &Schema, dialect: Dialect) -> Result<Vec<Step>, RenderError> {
    match dialect {
        Dialect::Sqlite if cfg!(feature = "sqlite") => sqlite::render(op, before),
        Dialect::Postgres if cfg!(feature = "postgres") => postgres::render(op, before),
        Dialect::Mysql if cfg!(feature = "mysql") => mysql::render(op, before),
        d => Err(d.left_out()),
    }
}

/// The steps of each operation of one migration, in order (one list per operation), on a
/// database whose schema is `schema`, which is then advanced past them.
///
/// On SQLite, several operations that rebuild one table become one rebuild, carried by the
/// last of them; the others get no steps.
pub fn render_ops(
    ops: &[Op],
    schema: &mut Schema,
    dialect: Dialect,
) -> Result<Vec<Vec<Step>>, RenderError> {
    if !dialect.compiled() {
        return Err(dialect.left_out());
    }
    for op in ops {
        refuse_unsupported_parts(op, dialect)?;
    }
    match dialect {
        Dialect::Sqlite if cfg!(feature = "sqlite") => sqlite::render_ops(ops, schema),
        Dialect::Postgres if cfg!(feature = "postgres") => postgres::render_ops(ops, schema),
        Dialect::Mysql if cfg!(feature = "mysql") => mysql::render_ops(ops, schema),
        d => Err(d.left_out()),
    }
}

/// Each operation rendered on its own, `schema` advanced past each.
fn render_each(
    ops: &[Op],
    schema: &mut Schema,
    dialect: Dialect,
) -> Result<Vec<Vec<Step>>, RenderError> {
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        out.push(render(op, schema, dialect)?);
        op.apply(schema)
            .map_err(|e| RenderError { message: e.message })?;
    }
    Ok(out)
}

/// A portable type from a catalog's spelling of a sized type (`numeric(10,2)` under the
/// dialect's name for `numeric`, `varchar(20)`, `char(5)`), or a custom type of that text.
pub(crate) fn sized_type(catalog: &str, numeric: &str, varchar: &str, char: &str) -> ColumnType {
    let lower = catalog.to_ascii_lowercase();
    let args = |prefix: &str| -> Option<Vec<u32>> {
        let rest = lower
            .strip_prefix(prefix)?
            .strip_prefix('(')?
            .strip_suffix(')')?;
        rest.split(',').map(|n| n.trim().parse().ok()).collect()
    };
    if let Some([p, s]) = args(numeric).as_deref() {
        return ColumnType::Numeric {
            precision: Some(*p),
            scale: Some(*s),
        };
    }
    if let Some([n]) = args(varchar).as_deref() {
        return ColumnType::Varchar { length: *n };
    }
    if let Some([n]) = args(char).as_deref() {
        return ColumnType::Char { length: *n };
    }
    ColumnType::Custom {
        sql: catalog.to_string(),
    }
}

/// The condition that a value of column `q` (of type `old`), as text, does not fit `new`, a
/// `varchar(n)` or `char(n)`: too long, or for a `char` ending in a space (which a CHAR
/// drops). `as_text` is how the dialect names the text type in a cast.
pub(crate) fn length_misfit(
    q: &str,
    old: &ColumnType,
    new: &ColumnType,
    as_text: &str,
) -> Option<String> {
    let (ColumnType::Varchar { length } | ColumnType::Char { length }) = new else {
        return None;
    };
    let text = if old.is_text() {
        q.to_string()
    } else {
        format!("CAST({q} AS {as_text})")
    };
    let mut c = format!("CHAR_LENGTH({text}) > {length}");
    if matches!(new, ColumnType::Char { .. }) {
        c.push_str(&format!(" OR {text} LIKE '% '"));
    }
    Some(c)
}

/// A type change of `table.column` the conversion matrix refuses (hand-written migrations
/// reach here; the build refuses its own), as a render error naming the column and the fix.
pub(crate) fn refuse_unconvertible(
    table: &str,
    column: &str,
    old: &ColumnType,
    new: &ColumnType,
) -> Result<(), RenderError> {
    match crate::convert::refusal(table, column, old, new) {
        Some(message) => Err(RenderError { message }),
        None => Ok(()),
    }
}

/// The check before a column becomes NOT NULL: a row holding NULL stops the migration,
/// naming the column and the fix (every dialect; SQLite's rebuild runs it before copying).
pub(crate) fn null_check(table: &str, column: &str, dialect: Dialect) -> Step {
    Step::Verify {
        query: format!(
            "SELECT 'NULL' AS v FROM {} WHERE {} IS NULL LIMIT 1",
            quote_table(table, dialect),
            quote_ident(column, dialect)
        ),
        problem: format!(
            "column `{table}.{column}` holds NULL in some rows and is being made NOT NULL. Backfill it first: add execute(\"UPDATE {table} SET {column} = … WHERE {column} IS NULL\") before this operation, or give it a server_default"
        ),
    }
}

/// The check of a type change: `query` returns a sample `v` of a value that would not keep
/// its meaning in the new type, and the step then stops the migration naming the column.
pub(crate) fn misfit_check(
    table: &str,
    column: &str,
    old: &ColumnType,
    new: &ColumnType,
    query: String,
) -> Step {
    Step::Verify {
        query,
        problem: format!(
            "column `{table}.{column}` changes from {old} to {new}, and a value does not fit the new type. Convert or clean those rows first (an execute(\"UPDATE …\") before this operation), or keep the type"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Column;

    /// A build renders for the dialects whose features it has and refuses the others by
    /// name, from both entry points and for every kind of operation (raw SQL included).
    /// CI runs this with the SQLite dialect alone as well, where PostgreSQL and MySQL are
    /// the ones refused.
    #[test]
    fn a_dialect_renders_exactly_when_compiled() {
        let mut t = Table::new("tasks");
        t.columns.push(Column::new("id", ColumnType::Integer));
        t.primary_key = vec!["id".into()];
        let before = Schema::from_tables([t]);
        let mut c = Column::new("retry_count", ColumnType::Integer);
        c.server_default = Some("0".into());
        let ops = [
            Op::AddColumn {
                table: "tasks".into(),
                column: c,
            },
            Op::Execute {
                sql: DialectSql::All("UPDATE tasks SET retry_count = 1".into()),
            },
        ];
        for dialect in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
            let each: Vec<_> = ops.iter().map(|op| render(op, &before, dialect)).collect();
            let mut schema = before.clone();
            let all = render_ops(&ops, &mut schema, dialect);
            if dialect.compiled() {
                assert!(each.iter().all(|r| r.as_ref().is_ok_and(|s| !s.is_empty())));
                assert_eq!(all.unwrap().len(), 2);
            } else {
                let named = format!("enable retort's `{}` feature", dialect.name());
                for refused in each.into_iter().chain([all.map(|_| Vec::new())]) {
                    assert!(refused.unwrap_err().message.contains(&named));
                }
                assert_eq!(
                    schema, before,
                    "a refused render leaves the schema as it was"
                );
            }
        }
    }
}
