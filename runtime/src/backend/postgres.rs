//! PostgreSQL: transactional DDL; the migration lock is a session advisory lock taken by
//! polling `pg_try_advisory_lock` until the timeout (never an unbounded wait, and held
//! across statements that cannot run in a transaction); introspection from `pg_catalog`
//! in the connection's current schema (`?schema=…` in the URL, or libpq's
//! `options=-csearch_path%3D…`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};

use super::{db_err, Backend, Capabilities};
use crate::error::{Error, Result};
use crate::migration::Connection;
use crate::schema::naming::VERSION_TABLE;
use crate::schema::sql::{postgres_default, quote_ident, Dialect};
use crate::schema::{
    CheckConstraint, Column, ColumnType, ForeignKey, Index, ReferentialAction, Schema, Table,
    UniqueConstraint,
};
use crate::url::DatabaseUrl;

/// The advisory lock's first key ("rtrt"); the second is the schema's hash, so two
/// applications in two schemas of one database do not wait for each other.
const LOCK_CLASS: i32 = 0x7274_7274;

pub(crate) struct Postgres {
    conn: Connection,
    locked: bool,
}

fn pg(conn: &mut Connection) -> &mut PgConnection {
    match conn {
        Connection::Postgres(c) => c,
        #[allow(unreachable_patterns)]
        _ => unreachable!("the PostgreSQL backend holds a PostgreSQL connection"),
    }
}

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    v: bool,
}

impl Postgres {
    pub(crate) fn connect(url: &DatabaseUrl) -> Result<Postgres> {
        let DatabaseUrl::Postgres {
            url: target,
            schema,
        } = url
        else {
            unreachable!("not a PostgreSQL URL: {url}");
        };
        let mut conn = <PgConnection as diesel::Connection>::establish(target).map_err(|e| {
            Error::Database {
                context: format!("cannot connect to PostgreSQL at {url}"),
                source: Box::new(e),
            }
        })?;
        let mut setup = String::from("SET client_min_messages = warning;");
        if let Some(s) = schema {
            let s = quote_ident(s, Dialect::Postgres);
            setup.push_str(&format!(
                "CREATE SCHEMA IF NOT EXISTS {s}; SET search_path TO {s};"
            ));
        }
        conn.batch_execute(&setup)
            .map_err(db_err("cannot prepare the PostgreSQL session"))?;
        Ok(Postgres {
            conn: Connection::Postgres(conn),
            locked: false,
        })
    }

    fn c(&mut self) -> &mut PgConnection {
        pg(&mut self.conn)
    }

    fn flag(&mut self, sql: &str, context: &str) -> Result<bool> {
        let rows: Vec<Flag> = diesel::sql_query(sql)
            .load(self.c())
            .map_err(db_err(context))?;
        Ok(rows.first().is_some_and(|f| f.v))
    }

    /// Who holds the migration lock, as PostgreSQL reports the session.
    fn lock_holder(&mut self) -> String {
        let sql = format!(
            "SELECT 'pid ' || a.pid || COALESCE(', application ' || NULLIF(a.application_name, ''), '') || COALESCE(', from ' || host(a.client_addr), '') || ', since ' || a.backend_start::text AS v FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.classid = {LOCK_CLASS}::oid AND l.objsubid = 2 AND l.granted LIMIT 1"
        );
        super::holder(&mut self.conn, &sql, "a session that has since ended")
    }
}

impl Backend for Postgres {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            transactional_ddl: true,
            stores_comments: true,
            deferred_foreign_keys: false,
            lock_is_transaction: false,
        }
    }

    fn lock(&mut self, timeout: Duration) -> Result<()> {
        let try_lock =
            format!("SELECT pg_try_advisory_lock({LOCK_CLASS}, hashtext(current_schema())) AS v");
        let started = Instant::now();
        let mut pause = Duration::from_millis(20);
        loop {
            if self.flag(&try_lock, "cannot take the migration lock")? {
                self.locked = true;
                return Ok(());
            }
            if started.elapsed() >= timeout {
                return Err(Error::LockTimeout {
                    waited: timeout,
                    holder: self.lock_holder(),
                });
            }
            std::thread::sleep(pause.min(timeout.saturating_sub(started.elapsed())));
            pause = (pause * 2).min(Duration::from_millis(250));
        }
    }

    fn unlock(&mut self) -> Result<()> {
        if !self.locked {
            return Ok(());
        }
        self.locked = false;
        self.flag(
            &format!("SELECT pg_advisory_unlock({LOCK_CLASS}, hashtext(current_schema())) AS v"),
            "cannot release the migration lock",
        )
        .map(drop)
    }

    fn begin(&mut self) -> Result<()> {
        AnsiTransactionManager::begin_transaction(self.c())
            .map_err(db_err("cannot begin a transaction"))
    }

    fn commit(&mut self) -> Result<()> {
        AnsiTransactionManager::commit_transaction(self.c()).map_err(db_err("commit failed"))
    }

    fn rollback(&mut self) {
        let _ = AnsiTransactionManager::rollback_transaction(self.c());
    }

    fn as_text_query(&self, sql: &str) -> String {
        format!("SELECT v::text AS v FROM ({sql}) AS q")
    }

    fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    fn version_table_exists(&mut self) -> Result<bool> {
        self.flag(
            &format!("SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relname = '{VERSION_TABLE}' AND c.relkind IN ('r', 'p')) AS v"),
            "cannot read pg_catalog",
        )
    }

    fn introspect(&mut self) -> Result<Schema> {
        introspect(self.c())
    }

    fn normalizes(&self) -> bool {
        true
    }

    fn normalize_table(&self, t: &mut crate::schema::Table) {
        for c in &mut t.columns {
            // NUMERIC(p) is NUMERIC(p,0).
            if let ColumnType::Numeric {
                precision: Some(_),
                scale: scale @ None,
            } = &mut c.ty
            {
                *scale = Some(0);
            }
            if c.autoincrement {
                // An identity column has no default of its own.
                c.server_default = None;
            }
            if let Some(d) = &c.server_default {
                c.server_default = Some(postgres_default(&c.ty, d));
            }
        }
        for ch in &mut t.checks {
            ch.expression = check_text(&ch.expression);
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.unlock();
    }
}

#[derive(QueryableByName)]
struct TableRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    comment: Option<String>,
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sql_type: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
    #[diesel(sql_type = Nullable<Text>)]
    default_expr: Option<String>,
    #[diesel(sql_type = Bool)]
    identity: bool,
    #[diesel(sql_type = Nullable<Text>)]
    comment: Option<String>,
}

#[derive(QueryableByName)]
struct ConstraintRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    columns: String,
    #[diesel(sql_type = Nullable<Text>)]
    referred_table: Option<String>,
    #[diesel(sql_type = Text)]
    referred_columns: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
    #[diesel(sql_type = Text)]
    on_update: String,
    #[diesel(sql_type = Text)]
    definition: String,
}

#[derive(QueryableByName)]
struct IndexRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bool)]
    is_unique: bool,
    #[diesel(sql_type = Text)]
    columns: String,
    #[diesel(sql_type = BigInt)]
    expressions: i64,
}

/// Column names of a key, in key order, joined by the unit separator (names may hold commas).
fn names_of(keys: &str, rel: &str) -> String {
    format!("array_to_string(ARRAY(SELECT a.attname FROM unnest({keys}) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = {rel} AND a.attnum = k.n ORDER BY k.o), chr(31))")
}

fn split(names: &str) -> Vec<String> {
    if names.is_empty() {
        Vec::new()
    } else {
        names.split('\u{1f}').map(str::to_string).collect()
    }
}

fn introspect(conn: &mut PgConnection) -> Result<Schema> {
    let err = db_err("cannot read the schema from pg_catalog");
    let in_schema = format!(
        "n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relname <> '{VERSION_TABLE}'"
    );
    let tables: Vec<TableRow> = diesel::sql_query(format!(
        "SELECT c.relname::text AS name, obj_description(c.oid, 'pg_class') AS comment FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {in_schema}"
    ))
    .load(conn)
    .map_err(&err)?;
    let mut out: BTreeMap<String, Table> = tables
        .into_iter()
        .map(|t| {
            let mut table = Table::new(t.name.clone());
            table.comment = t.comment;
            (t.name, table)
        })
        .collect();
    let columns: Vec<ColumnRow> = diesel::sql_query(format!(
        "SELECT c.relname::text AS table_name, a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS sql_type, NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS default_expr, a.attidentity <> '' AS identity, col_description(c.oid, a.attnum) AS comment FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum WHERE {in_schema} ORDER BY c.relname, a.attnum"
    ))
    .load(conn)
    .map_err(&err)?;
    for row in columns {
        let Some(t) = out.get_mut(&row.table_name) else {
            continue;
        };
        let ty = portable_type(&row.sql_type);
        let mut c = Column::new(row.name, ty);
        c.nullable = row.nullable;
        c.autoincrement = row.identity;
        c.server_default = row.default_expr.as_deref().map(live_default);
        c.comment = row.comment;
        t.columns.push(c);
    }
    let constraints: Vec<ConstraintRow> = diesel::sql_query(format!(
        "SELECT c.relname::text AS table_name, con.conname::text AS name, con.contype::text AS kind, {cols} AS columns, rc.relname::text AS referred_table, {rcols} AS referred_columns, con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update, pg_get_constraintdef(con.oid) AS definition FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_class rc ON rc.oid = con.confrelid WHERE {in_schema} AND con.contype IN ('p', 'u', 'f', 'c') ORDER BY c.relname, con.conname",
        cols = names_of("con.conkey", "con.conrelid"),
        rcols = names_of("COALESCE(con.confkey, '{}'::int2[])", "con.confrelid"),
    ))
    .load(conn)
    .map_err(&err)?;
    for row in constraints {
        let Some(t) = out.get_mut(&row.table_name) else {
            continue;
        };
        match row.kind.as_str() {
            "p" => t.primary_key = split(&row.columns),
            "u" => t.uniques.push(UniqueConstraint {
                name: row.name,
                columns: split(&row.columns),
            }),
            "f" => t.foreign_keys.push(ForeignKey {
                name: row.name,
                columns: split(&row.columns),
                referred_table: row.referred_table.unwrap_or_default(),
                referred_columns: split(&row.referred_columns),
                on_delete: action(&row.on_delete),
                on_update: action(&row.on_update),
            }),
            _ => {
                let body = row
                    .definition
                    .trim()
                    .strip_prefix("CHECK")
                    .unwrap_or(&row.definition)
                    .trim();
                t.checks.push(CheckConstraint {
                    name: row.name,
                    expression: check_text(body),
                })
            }
        }
    }
    let indexes: Vec<IndexRow> = diesel::sql_query(format!(
        "SELECT c.relname::text AS table_name, i.relname::text AS name, ix.indisunique AS is_unique, {cols} AS columns, (SELECT COUNT(*) FROM unnest(ix.indkey::int2[]) k WHERE k = 0) AS expressions FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class c ON c.oid = ix.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {in_schema} AND NOT ix.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid AND con.contype IN ('p', 'u', 'x'))",
        cols = names_of("ix.indkey::int2[]", "ix.indrelid"),
    ))
    .load(conn)
    .map_err(&err)?;
    for row in indexes {
        let Some(t) = out.get_mut(&row.table_name) else {
            continue;
        };
        let mut columns = split(&row.columns);
        if row.expressions > 0 {
            // An expression index: not expressible in the models; shown by name.
            columns.push("(expression)".into());
        }
        t.indexes.push(Index {
            name: row.name,
            columns,
            unique: row.is_unique,
        });
    }
    let mut schema = Schema { tables: out };
    schema.normalize();
    Ok(schema)
}

fn action(code: &str) -> ReferentialAction {
    match code {
        "r" => ReferentialAction::Restrict,
        "c" => ReferentialAction::Cascade,
        "n" => ReferentialAction::SetNull,
        "d" => ReferentialAction::SetDefault,
        _ => ReferentialAction::NoAction,
    }
}

/// The portable type for what `format_type` prints.
fn portable_type(sql: &str) -> ColumnType {
    let lower = sql.to_ascii_lowercase();
    let args = |prefix: &str| -> Option<Vec<u32>> {
        let rest = lower
            .strip_prefix(prefix)?
            .strip_prefix('(')?
            .strip_suffix(')')?;
        rest.split(',').map(|n| n.trim().parse().ok()).collect()
    };
    match lower.as_str() {
        "smallint" => return ColumnType::SmallInt,
        "integer" => return ColumnType::Integer,
        "bigint" => return ColumnType::BigInt,
        "real" => return ColumnType::Real,
        "double precision" => return ColumnType::Double,
        "numeric" => {
            return ColumnType::Numeric {
                precision: None,
                scale: None,
            }
        }
        "boolean" => return ColumnType::Boolean,
        "text" | "character varying" => return ColumnType::Text,
        "bytea" => return ColumnType::Binary,
        "date" => return ColumnType::Date,
        "time without time zone" => return ColumnType::Time,
        "timestamp without time zone" => return ColumnType::Timestamp,
        "timestamp with time zone" => return ColumnType::TimestampTz,
        "uuid" => return ColumnType::Uuid,
        "jsonb" => return ColumnType::Json,
        _ => {}
    }
    if let Some(a) = args("numeric") {
        return ColumnType::Numeric {
            precision: a.first().copied(),
            scale: a.get(1).copied().filter(|_| a.len() == 2),
        };
    }
    if let Some([n]) = args("character varying").as_deref() {
        return ColumnType::Varchar { length: *n };
    }
    if let Some([n]) = args("character").as_deref() {
        return ColumnType::Char { length: *n };
    }
    ColumnType::Custom {
        sql: sql.to_string(),
    }
}

/// A default as PostgreSQL prints it, in the models' spelling: casts PostgreSQL adds to a
/// literal (`'new'::text`, `'-1'::integer`) removed, numbers unquoted.
fn live_default(expr: &str) -> String {
    let e = expr.trim();
    if let Some(rest) = e.strip_prefix('\'') {
        // The literal's end: a quote not doubled.
        let bytes = rest.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'\'' {
                if bytes.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                break;
            }
            i += 1;
        }
        if i < bytes.len() {
            let literal = &e[..i + 2];
            let tail = &e[i + 2..];
            if tail.is_empty() || tail.starts_with("::") {
                let inner = &literal[1..literal.len() - 1];
                if !tail.is_empty() && inner.parse::<f64>().is_ok() {
                    return inner.to_string();
                }
                return literal.to_string();
            }
        }
    }
    match e {
        "true" => "TRUE".into(),
        "false" => "FALSE".into(),
        "now()" => "CURRENT_TIMESTAMP".into(),
        _ => e.to_string(),
    }
}

/// A check's text as both sides can agree on it: PostgreSQL prints `((r0)::text = 'a'::text)`
/// for `r0 = 'a'`, so casts go, then parentheses around one operand, then those around all.
fn check_text(expr: &str) -> String {
    let no_casts = without_casts(expr);
    let simple = without_single_parens(&no_casts);
    strip_parens(&simple).to_string()
}

/// The expression without `::type` casts (multi-word type names included).
fn without_casts(expr: &str) -> String {
    const WORDS: [&str; 5] = [
        " varying",
        " precision",
        " with time zone",
        " without time zone",
        "[]",
    ];
    let mut out = String::with_capacity(expr.len());
    let mut rest = expr;
    let mut in_str = false;
    while let Some(ch) = rest.chars().next() {
        if ch == '\'' {
            in_str = !in_str;
        }
        if !in_str && rest.starts_with("::") {
            rest = &rest[2..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '"'))
                .unwrap_or(rest.len());
            rest = &rest[end..];
            while let Some(w) = WORDS.iter().find(|w| rest.starts_with(*w)) {
                rest = &rest[w.len()..];
            }
            if rest.starts_with('(') {
                if let Some(close) = rest.find(')') {
                    if rest[1..close]
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == ',' || c == ' ')
                    {
                        rest = &rest[close + 1..];
                    }
                }
            }
            continue;
        }
        out.push(ch);
        rest = &rest[ch.len_utf8()..];
    }
    out
}

/// The expression without parentheses around a single name, number or string.
fn without_single_parens(expr: &str) -> String {
    let mut out = expr.to_string();
    loop {
        let mut changed = false;
        let bytes: Vec<char> = out.chars().collect();
        let mut i = 0;
        let mut result = String::with_capacity(out.len());
        while i < bytes.len() {
            if bytes[i] == '(' {
                if let Some(len) = bytes[i + 1..].iter().position(|&c| c == ')') {
                    let inner: String = bytes[i + 1..i + 1 + len].iter().collect();
                    let single = !inner.is_empty()
                        && !inner.contains(['(', ' ', ','])
                        && (!inner.contains('\'')
                            || (inner.starts_with('\'') && inner.ends_with('\'')));
                    // Not a call: `f(x)` keeps its parentheses.
                    let call =
                        i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == '_');
                    if single && !call {
                        result.push_str(&inner);
                        i += len + 2;
                        changed = true;
                        continue;
                    }
                }
            }
            result.push(bytes[i]);
            i += 1;
        }
        out = result;
        if !changed {
            return out;
        }
    }
}

/// An expression without the parentheses around all of it, however many pairs.
fn strip_parens(expr: &str) -> &str {
    let mut e = expr.trim();
    while let Some(inner) = crate::schema::expr::unwrap_parens(e) {
        e = inner;
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_read_back_in_the_models_spelling() {
        assert_eq!(live_default("'new'::text"), "'new'");
        assert_eq!(live_default("'it''s'::character varying"), "'it''s'");
        assert_eq!(live_default("'-1'::integer"), "-1");
        assert_eq!(live_default("0"), "0");
        assert_eq!(live_default("false"), "FALSE");
        assert_eq!(live_default("CURRENT_TIMESTAMP"), "CURRENT_TIMESTAMP");
    }

    #[test]
    fn types_read_back_portable() {
        assert_eq!(
            portable_type("character varying(36)"),
            ColumnType::Varchar { length: 36 }
        );
        assert_eq!(
            portable_type("numeric(10,2)"),
            ColumnType::Numeric {
                precision: Some(10),
                scale: Some(2)
            }
        );
        assert_eq!(
            portable_type("timestamp with time zone"),
            ColumnType::TimestampTz
        );
        assert_eq!(portable_type("jsonb"), ColumnType::Json);
        assert_eq!(
            portable_type("tsvector"),
            ColumnType::Custom {
                sql: "tsvector".into()
            }
        );
    }

    #[test]
    fn checks_read_back_without_postgres_casts() {
        assert_eq!(check_text("((r0)::text = (r0)::text)"), "r0 = r0");
        assert_eq!(
            check_text("((status)::text = 'it''s'::text)"),
            "status = 'it''s'"
        );
        assert_eq!(
            check_text("((c)::character varying(20) IS NULL)"),
            "c IS NULL"
        );
        assert_eq!(check_text("(length(name) > 0)"), "length(name) > 0");
        assert_eq!(check_text("((score >= 0))"), "score >= 0");
    }

    #[test]
    fn outer_parentheses_go() {
        assert_eq!(strip_parens("((score >= 0))"), "score >= 0");
        assert_eq!(strip_parens("(a > 0) AND (b > 0)"), "(a > 0) AND (b > 0)");
    }
}
