//! MySQL / MariaDB: DDL commits implicitly, so there is no transaction around a migration;
//! the runner records progress per statement instead (a migration that stops half-way
//! leaves a `dirty K/N` row, and the next run refuses until it is resolved). The lock is
//! `GET_LOCK` with the timeout; introspection reads `information_schema`, with MariaDB's
//! spellings normalised (`int(11)`, quoted defaults, `current_timestamp()`, JSON as
//! `longtext` with a `json_valid` check, `RESTRICT` for an unspecified action).

use std::collections::BTreeMap;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::{db_err, Backend, Capabilities};
use crate::error::{Error, Result};
use crate::migration::Connection;
use crate::schema::naming::VERSION_TABLE;
use crate::schema::sql::Dialect;
use crate::schema::{
    CheckConstraint, Column, ColumnType, ForeignKey, Index, ReferentialAction, Schema, Table,
    UniqueConstraint,
};
use crate::url::DatabaseUrl;

/// The session every migration runs in: a value that does not fit is an error, not a
/// silent truncation; times are UTC.
const SESSION: &str = "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,ERROR_FOR_DIVISION_BY_ZERO,NO_ZERO_DATE,NO_ZERO_IN_DATE'; SET time_zone = '+00:00'; SET NAMES utf8mb4";

/// The lock's name: one per database.
const LOCK: &str = "CONCAT('retort:', DATABASE())";

pub(crate) struct Mysql {
    conn: Connection,
    mariadb: bool,
    locked: bool,
}

fn my(conn: &mut Connection) -> &mut MysqlConnection {
    match conn {
        Connection::Mysql(c) => c,
        #[allow(unreachable_patterns)]
        _ => unreachable!("the MySQL backend holds a MySQL connection"),
    }
}

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = Nullable<BigInt>)]
    n: Option<i64>,
}

impl Mysql {
    pub(crate) fn connect(url: &DatabaseUrl) -> Result<Mysql> {
        let DatabaseUrl::Mysql(target) = url else {
            unreachable!("not a MySQL URL: {url}");
        };
        let mut conn = <MysqlConnection as diesel::Connection>::establish(target).map_err(|e| {
            Error::Database {
                context: format!("cannot connect to MySQL/MariaDB at {url}"),
                source: Box::new(e),
            }
        })?;
        conn.batch_execute(SESSION)
            .map_err(db_err("cannot prepare the MySQL session"))?;
        let mut conn = Connection::Mysql(conn);
        let version = super::first_text(&mut conn, "SELECT VERSION() AS v")
            .map_err(db_err("cannot read the server version"))?;
        let mariadb = version
            .flatten()
            .is_some_and(|v| v.to_ascii_lowercase().contains("mariadb"));
        Ok(Mysql {
            conn,
            mariadb,
            locked: false,
        })
    }

    fn c(&mut self) -> &mut MysqlConnection {
        my(&mut self.conn)
    }

    fn number(&mut self, sql: &str, context: &str) -> Result<Option<i64>> {
        let rows: Vec<Number> = diesel::sql_query(sql)
            .load(self.c())
            .map_err(db_err(context))?;
        Ok(rows.into_iter().next().and_then(|r| r.n))
    }

    fn lock_holder(&mut self) -> String {
        let sql = format!(
            "SELECT CONCAT('connection ', p.ID, ', user ', p.USER, '@', p.HOST, ', for ', p.TIME, 's') AS v FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK({LOCK})"
        );
        super::holder(&mut self.conn, &sql, "a connection that has since ended")
    }
}

impl Backend for Mysql {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            transactional_ddl: false,
            stores_comments: true,
            deferred_foreign_keys: false,
            lock_is_transaction: false,
        }
    }

    fn lock(&mut self, timeout: Duration) -> Result<()> {
        let got = self.number(
            &format!("SELECT GET_LOCK({LOCK}, {:.3}) AS n", timeout.as_secs_f64()),
            "cannot take the migration lock",
        )?;
        if got == Some(1) {
            self.locked = true;
            return Ok(());
        }
        Err(Error::LockTimeout {
            waited: timeout,
            holder: self.lock_holder(),
        })
    }

    fn unlock(&mut self) -> Result<()> {
        if !self.locked {
            return Ok(());
        }
        self.locked = false;
        self.number(
            &format!("SELECT RELEASE_LOCK({LOCK}) AS n"),
            "cannot release the migration lock",
        )
        .map(drop)
    }

    fn begin(&mut self) -> Result<()> {
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        Ok(())
    }

    fn rollback(&mut self) {}

    fn as_text_query(&self, sql: &str) -> String {
        format!("SELECT CAST(v AS CHAR) AS v FROM ({sql}) AS q")
    }

    fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    fn version_table_exists(&mut self) -> Result<bool> {
        let n = self.number(
            &format!("SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{VERSION_TABLE}'"),
            "cannot read information_schema",
        )?;
        Ok(n.unwrap_or(0) > 0)
    }

    fn introspect(&mut self) -> Result<Schema> {
        introspect(self.c())
    }

    fn normalizes(&self) -> bool {
        true
    }

    fn normalize_table(&self, t: &mut crate::schema::Table) {
        // Checks read back with their backquotes removed (see introspection).
        for ch in &mut t.checks {
            ch.expression = ch.expression.replace('`', "");
        }
        for c in &mut t.columns {
            c.ty = stored_type(&c.ty, self.mariadb);
            if let Some(d) = &c.server_default {
                c.server_default = Some(stored_default(&c.ty, d));
            }
            // MariaDB keeps a default's text in utf8mb3 metadata: a character outside the
            // BMP prints as `?` there, or as `????` for a TEXT/BLOB column (the default
            // itself still inserts it whole).
            let blob = matches!(
                c.ty,
                ColumnType::Text | ColumnType::Binary | ColumnType::Json
            );
            if let Some(d) = &mut c.server_default {
                if d.chars().any(|ch| ch.len_utf8() == 4) {
                    let mark = if blob { "????" } else { "?" };
                    *d = d
                        .chars()
                        .map(|ch| {
                            if ch.len_utf8() == 4 {
                                mark.to_string()
                            } else {
                                ch.to_string()
                            }
                        })
                        .collect();
                }
            }
        }
        // Every unique index is a unique constraint to MySQL.
        let (unique, plain): (Vec<Index>, Vec<Index>) = t.indexes.drain(..).partition(|i| i.unique);
        t.indexes = plain;
        t.uniques
            .extend(unique.into_iter().map(|i| UniqueConstraint {
                name: i.name,
                columns: i.columns,
            }));
        for f in &mut t.foreign_keys {
            // An unspecified action reads back as RESTRICT (which is what it does).
            for a in [&mut f.on_delete, &mut f.on_update] {
                if *a == ReferentialAction::NoAction {
                    *a = ReferentialAction::Restrict;
                }
            }
        }
        t.normalize();
    }
}

impl Drop for Mysql {
    fn drop(&mut self) {
        let _ = self.unlock();
    }
}

/// The type MySQL stores for a portable type, read back portable.
fn stored_type(ty: &ColumnType, mariadb: bool) -> ColumnType {
    match ty {
        ColumnType::Uuid => ColumnType::Char { length: 36 },
        ColumnType::TimestampTz => ColumnType::Timestamp,
        ColumnType::Json if mariadb => ColumnType::Text,
        ColumnType::Numeric {
            precision: None, ..
        } => ColumnType::Numeric {
            precision: Some(65),
            scale: Some(30),
        },
        ColumnType::Numeric {
            precision: Some(p),
            scale: None,
        } => ColumnType::Numeric {
            precision: Some(*p),
            scale: Some(0),
        },
        other => other.clone(),
    }
}

/// A default as MySQL reads it back, in the models' spelling.
fn stored_default(ty: &ColumnType, expr: &str) -> String {
    let e = expr.trim();
    let upper = e.to_ascii_uppercase();
    if upper.starts_with("CURRENT_TIMESTAMP") || upper == "NOW()" {
        return "CURRENT_TIMESTAMP".into();
    }
    if *ty == ColumnType::Boolean {
        match upper.as_str() {
            "TRUE" => return "1".into(),
            "FALSE" => return "0".into(),
            _ => {}
        }
    }
    e.to_string()
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
    data_type: String,
    #[diesel(sql_type = Text)]
    column_type: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    char_length: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    precision: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    scale: Option<i64>,
    #[diesel(sql_type = Text)]
    nullable: String,
    #[diesel(sql_type = Nullable<Text>)]
    default_expr: Option<String>,
    #[diesel(sql_type = Text)]
    extra: String,
    #[diesel(sql_type = Text)]
    comment: String,
}

#[derive(QueryableByName)]
struct IndexRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    non_unique: i64,
    #[diesel(sql_type = Nullable<Text>)]
    column: Option<String>,
}

#[derive(QueryableByName)]
struct ForeignKeyRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    column: String,
    #[diesel(sql_type = Text)]
    referred_table: String,
    #[diesel(sql_type = Text)]
    referred_column: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
    #[diesel(sql_type = Text)]
    on_update: String,
}

#[derive(QueryableByName)]
struct CheckRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    clause: String,
}

fn introspect(conn: &mut MysqlConnection) -> Result<Schema> {
    let err = db_err("cannot read the schema from information_schema");
    let tables: Vec<TableRow> = diesel::sql_query(format!(
        "SELECT TABLE_NAME AS name, TABLE_COMMENT AS comment FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME <> '{VERSION_TABLE}'"
    ))
    .load(conn)
    .map_err(&err)?;
    let mut out: BTreeMap<String, Table> = tables
        .into_iter()
        .map(|t| {
            let mut table = Table::new(t.name.clone());
            table.comment = t.comment.filter(|c| !c.is_empty());
            (t.name, table)
        })
        .collect();
    let columns: Vec<ColumnRow> = diesel::sql_query(
        "SELECT TABLE_NAME AS table_name, COLUMN_NAME AS name, DATA_TYPE AS data_type, COLUMN_TYPE AS column_type, CAST(CHARACTER_MAXIMUM_LENGTH AS SIGNED) AS char_length, CAST(NUMERIC_PRECISION AS SIGNED) AS `precision`, CAST(NUMERIC_SCALE AS SIGNED) AS scale, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS default_expr, EXTRA AS extra, COLUMN_COMMENT AS comment FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION",
    )
    .load(conn)
    .map_err(&err)?;
    for row in columns {
        let Some(t) = out.get_mut(&row.table_name) else {
            continue;
        };
        let ty = portable_type(&row);
        let nullable = row.nullable == "YES";
        let mut c = Column::new(row.name, ty);
        c.nullable = nullable;
        c.autoincrement = row.extra.to_ascii_lowercase().contains("auto_increment");
        c.server_default = row
            .default_expr
            .as_deref()
            .and_then(|d| live_default(d, nullable));
        c.comment = Some(row.comment).filter(|c| !c.is_empty());
        t.columns.push(c);
    }
    let indexes: Vec<IndexRow> = diesel::sql_query(
        "SELECT TABLE_NAME AS table_name, INDEX_NAME AS name, CAST(NON_UNIQUE AS SIGNED) AS non_unique, COLUMN_NAME AS `column` FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
    )
    .load(conn)
    .map_err(&err)?;
    let mut grouped: BTreeMap<(String, String), (bool, Vec<String>)> = BTreeMap::new();
    for row in indexes {
        let entry = grouped
            .entry((row.table_name, row.name))
            .or_insert((row.non_unique == 0, Vec::new()));
        entry
            .1
            .push(row.column.unwrap_or_else(|| "(expression)".into()));
    }
    let fks: Vec<ForeignKeyRow> = diesel::sql_query(
        "SELECT k.TABLE_NAME AS table_name, k.CONSTRAINT_NAME AS name, k.COLUMN_NAME AS `column`, k.REFERENCED_TABLE_NAME AS referred_table, k.REFERENCED_COLUMN_NAME AS referred_column, r.DELETE_RULE AS on_delete, r.UPDATE_RULE AS on_update FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
    )
    .load(conn)
    .map_err(&err)?;
    for row in fks {
        let Some(t) = out.get_mut(&row.table_name) else {
            continue;
        };
        match t.foreign_keys.iter_mut().find(|f| f.name == row.name) {
            Some(f) => {
                f.columns.push(row.column);
                f.referred_columns.push(row.referred_column);
            }
            None => t.foreign_keys.push(ForeignKey {
                name: row.name,
                columns: vec![row.column],
                referred_table: row.referred_table,
                referred_columns: vec![row.referred_column],
                on_delete: action(&row.on_delete),
                on_update: action(&row.on_update),
            }),
        }
    }
    for ((table, name), (unique, columns)) in grouped {
        let Some(t) = out.get_mut(&table) else {
            continue;
        };
        if name == "PRIMARY" {
            t.primary_key = columns;
        } else if unique {
            t.uniques.push(UniqueConstraint { name, columns });
        } else if t.foreign_keys.iter().any(|f| f.name == name) {
            // The index MySQL made for a foreign key, named after it.
        } else {
            t.indexes.push(Index {
                name,
                columns,
                unique: false,
            });
        }
    }
    let checks: Vec<CheckRow> = diesel::sql_query(
        "SELECT TABLE_NAME AS table_name, CONSTRAINT_NAME AS name, CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()",
    )
    .load(conn)
    .unwrap_or_default();
    for row in checks {
        let Some(t) = out.get_mut(&row.table_name) else {
            continue;
        };
        // MariaDB's JSON is LONGTEXT with a check named after the column.
        if row.clause.to_ascii_lowercase().starts_with("json_valid(")
            && t.column(&row.name).is_some()
        {
            continue;
        }
        t.checks.push(CheckConstraint {
            name: row.name,
            expression: row.clause.replace('`', ""),
        });
    }
    let mut schema = Schema { tables: out };
    schema.normalize();
    Ok(schema)
}

fn action(rule: &str) -> ReferentialAction {
    match rule.to_ascii_uppercase().as_str() {
        "RESTRICT" => ReferentialAction::Restrict,
        "CASCADE" => ReferentialAction::Cascade,
        "SET NULL" => ReferentialAction::SetNull,
        "SET DEFAULT" => ReferentialAction::SetDefault,
        _ => ReferentialAction::NoAction,
    }
}

fn portable_type(row: &ColumnRow) -> ColumnType {
    let n = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
    match row.data_type.to_ascii_lowercase().as_str() {
        "tinyint"
            if row
                .column_type
                .to_ascii_lowercase()
                .starts_with("tinyint(1)") =>
        {
            ColumnType::Boolean
        }
        "smallint" => ColumnType::SmallInt,
        "int" | "integer" => ColumnType::Integer,
        "bigint" => ColumnType::BigInt,
        "float" => ColumnType::Real,
        "double" => ColumnType::Double,
        "decimal" => ColumnType::Numeric {
            precision: n(row.precision),
            scale: n(row.scale),
        },
        "longtext" => ColumnType::Text,
        "varchar" => match n(row.char_length) {
            Some(length) => ColumnType::Varchar { length },
            None => ColumnType::Text,
        },
        "char" => match n(row.char_length) {
            Some(length) => ColumnType::Char { length },
            None => ColumnType::Text,
        },
        "longblob" => ColumnType::Binary,
        "date" => ColumnType::Date,
        "time" => ColumnType::Time,
        "datetime" => ColumnType::Timestamp,
        "json" => ColumnType::Json,
        _ => ColumnType::Custom {
            sql: row.column_type.clone(),
        },
    }
}

/// A default as `information_schema` shows it, in the models' spelling: MariaDB writes the
/// literal NULL for "no default" on a nullable column, `current_timestamp(6)` for
/// `CURRENT_TIMESTAMP`; MySQL writes string literals unquoted.
fn live_default(d: &str, nullable: bool) -> Option<String> {
    let e = d.trim();
    if e.eq_ignore_ascii_case("NULL") && nullable {
        return None;
    }
    if e.to_ascii_lowercase().starts_with("current_timestamp") {
        return Some("CURRENT_TIMESTAMP".into());
    }
    if e.len() >= 2 && e.starts_with('\'') && e.ends_with('\'') {
        let body = unescape(&e[1..e.len() - 1]);
        // A TIME(6) / DATETIME(6) default prints with six zero fraction digits.
        let body = match body.strip_suffix(".000000") {
            Some(whole) if whole.ends_with(|c: char| c.is_ascii_digit()) && whole.contains(':') => {
                whole.to_string()
            }
            _ => body,
        };
        return Some(crate::schema::sql::quote_literal(&body));
    }
    Some(e.to_string())
}

/// The text of a MariaDB string literal's body (`\'`, `''`, `\\`, `\n`, … escapes).
fn unescape(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('0') => out.push('\0'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            '\'' if chars.peek() == Some(&'\'') => {
                chars.next();
                out.push('\'');
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mariadb_defaults_read_back_in_the_models_spelling() {
        assert_eq!(live_default("NULL", true), None);
        assert_eq!(
            live_default("current_timestamp(6)", false).as_deref(),
            Some("CURRENT_TIMESTAMP")
        );
        assert_eq!(live_default("'new'", false).as_deref(), Some("'new'"));
        assert_eq!(live_default(r"'it\'s'", false).as_deref(), Some("'it''s'"));
        assert_eq!(live_default("'it''s'", false).as_deref(), Some("'it''s'"));
        assert_eq!(
            live_default("'00:00:00.000000'", false).as_deref(),
            Some("'00:00:00'")
        );
        assert_eq!(stored_default(&ColumnType::Boolean, "TRUE"), "1");
    }

    #[test]
    fn stored_types_are_what_mysql_keeps() {
        assert_eq!(
            stored_type(&ColumnType::Uuid, true),
            ColumnType::Char { length: 36 }
        );
        assert_eq!(stored_type(&ColumnType::Json, true), ColumnType::Text);
        assert_eq!(stored_type(&ColumnType::Json, false), ColumnType::Json);
    }
}
