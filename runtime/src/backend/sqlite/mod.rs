//! SQLite: the lock is an immediate transaction with a busy timeout (concurrent
//! processes queue instead of failing); foreign keys are switched off around the
//! transaction so table rebuilds can run, and checked before commit.

mod backup;
mod introspect;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::SqliteConnection;

use super::{AppliedRow, Backend};
use crate::error::{Error, Result};
use crate::migration::DataMigrationFn;
use crate::schema::sql::{quote_literal, Dialect};
use crate::schema::Schema;
use crate::url::DatabaseUrl;

pub(crate) const VERSION_TABLE: &str = crate::schema::naming::VERSION_TABLE;

pub(crate) struct Sqlite {
    conn: SqliteConnection,
    path: Option<std::path::PathBuf>,
    foreign_keys_were_on: bool,
    /// Switched off for migrations (by the first `begin`), checked before each commit.
    foreign_keys_off: bool,
}

fn db_err(context: &str) -> impl Fn(diesel::result::Error) -> Error + '_ {
    move |e| Error::Database {
        context: context.to_string(),
        source: Box::new(e),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_version_table_is_the_one_diesel_writes() {
        assert_eq!(super::VERSION_TABLE, "retort_versions");
    }

    #[test]
    fn version_rows_record_time_as_sqlite_strftime_does() {
        let mut conn =
            <diesel::SqliteConnection as diesel::Connection>::establish(":memory:").expect("opens");
        #[derive(diesel::QueryableByName)]
        struct Now {
            #[diesel(sql_type = diesel::sql_types::Text)]
            v: String,
        }
        let sqlite: Vec<Now> = diesel::RunQueryDsl::load(
            diesel::sql_query("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now') AS v"),
            &mut conn,
        )
        .expect("queries");
        let ours = crate::schema::clock::iso_millis(std::time::SystemTime::now());
        assert_eq!(ours.len(), sqlite[0].v.len(), "{ours} vs {}", sqlite[0].v);
        // Same up to the minute (the two clocks are read a moment apart).
        assert_eq!(ours[..16], sqlite[0].v[..16], "{ours} vs {}", sqlite[0].v);
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

impl Sqlite {
    pub(crate) fn connect(url: &DatabaseUrl, lock_timeout: Duration) -> Result<Sqlite> {
        let (target, path) = match url {
            DatabaseUrl::SqliteFile(p) => (p.to_string_lossy().into_owned(), Some(p.clone())),
            DatabaseUrl::SqliteMemory => (":memory:".to_string(), None),
        };
        let mut conn = SqliteConnection::establish(&target).map_err(|e| Error::Database {
            context: format!("cannot open SQLite database {target}"),
            source: Box::new(e),
        })?;
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {}",
            lock_timeout.as_millis()
        ))
        .map_err(db_err("cannot set the busy timeout"))?;
        let on: Vec<Count> = diesel::sql_query("SELECT foreign_keys AS n FROM pragma_foreign_keys")
            .load(&mut conn)
            .map_err(db_err("cannot read PRAGMA foreign_keys"))?;
        Ok(Sqlite {
            conn,
            path,
            foreign_keys_were_on: on.first().is_some_and(|c| c.n != 0),
            foreign_keys_off: false,
        })
    }
}

impl Backend for Sqlite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn stores_comments(&self) -> bool {
        false
    }

    fn begin(&mut self) -> Result<()> {
        // PRAGMA foreign_keys is a no-op inside a transaction: switch it off first, once for
        // the connection's migrations (each switch costs a statement per migration).
        if !self.foreign_keys_off {
            self.conn
                .batch_execute("PRAGMA foreign_keys = OFF")
                .map_err(db_err("cannot switch foreign keys off"))?;
            self.foreign_keys_off = true;
        }
        AnsiTransactionManager::begin_transaction_sql(&mut self.conn, "BEGIN IMMEDIATE")
            .map_err(db_err("cannot take the migration lock (BEGIN IMMEDIATE); another process may hold the database longer than the lock timeout"))
    }

    fn commit(&mut self) -> Result<()> {
        AnsiTransactionManager::commit_transaction(&mut self.conn).map_err(db_err("commit failed"))
    }

    fn rollback(&mut self) {
        let _ = AnsiTransactionManager::rollback_transaction(&mut self.conn);
    }

    fn execute(&mut self, sql: &str) -> std::result::Result<(), String> {
        self.conn.batch_execute(sql).map_err(|e| e.to_string())
    }

    fn query_sample(&mut self, sql: &str) -> std::result::Result<Option<String>, String> {
        #[derive(QueryableByName)]
        struct Sample {
            #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
            v: Option<String>,
        }
        let rows: Vec<Sample> = diesel::sql_query(sql)
            .load(&mut self.conn)
            .map_err(|e| e.to_string())?;
        Ok(rows
            .into_iter()
            .next()
            .map(|r| r.v.unwrap_or_else(|| "NULL".into())))
    }

    fn run_rust(&mut self, f: DataMigrationFn) -> std::result::Result<(), String> {
        f(&mut self.conn).map_err(|e| e.to_string())
    }

    fn version_table_exists(&mut self) -> Result<bool> {
        let n: Vec<Count> = diesel::sql_query(format!(
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '{VERSION_TABLE}'"
        ))
        .load(&mut self.conn)
        .map_err(db_err("cannot read sqlite_master"))?;
        Ok(n.first().is_some_and(|c| c.n > 0))
    }

    fn ensure_version_table(&mut self) -> Result<()> {
        self.conn
            .batch_execute(&version_table_ddl())
            .map_err(db_err("cannot create the version table"))
    }

    fn applied(&mut self) -> Result<Vec<AppliedRow>> {
        if !self.version_table_exists()? {
            return Ok(Vec::new());
        }
        diesel::sql_query(format!(
            "SELECT revision, parents, message, checksum, applied_at, execution_ms, state FROM {VERSION_TABLE}"
        ))
        .load(&mut self.conn)
        .map_err(db_err("cannot read the version table"))
    }

    fn is_applied(&mut self, revision: &str) -> Result<bool> {
        let n: Vec<Count> = diesel::sql_query(format!(
            "SELECT COUNT(*) AS n FROM {VERSION_TABLE} WHERE revision = {}",
            quote_literal(revision)
        ))
        .load(&mut self.conn)
        .map_err(db_err("cannot read the version table"))?;
        Ok(n.first().is_some_and(|c| c.n > 0))
    }

    fn record(&mut self, row: &AppliedRow) -> Result<()> {
        use versions::retort_versions::dsl as v;
        // Through diesel's query builder: the statement is prepared once per connection and
        // reused for every row (an upgrade of N migrations writes N rows).
        let applied_at = if row.applied_at.is_empty() {
            crate::schema::clock::iso_millis(std::time::SystemTime::now())
        } else {
            row.applied_at.clone()
        };
        diesel::insert_into(v::retort_versions)
            .values((
                v::revision.eq(&row.revision),
                v::parents.eq(&row.parents),
                v::message.eq(&row.message),
                v::checksum.eq(&row.checksum),
                v::applied_at.eq(&applied_at),
                v::execution_ms.eq(row.execution_ms),
                v::state.eq(&row.state),
            ))
            .execute(&mut self.conn)
            .map(drop)
            .map_err(db_err("cannot write the version table"))
    }

    fn forget(&mut self, revision: &str) -> Result<()> {
        self.conn
            .batch_execute(&format!(
                "DELETE FROM {VERSION_TABLE} WHERE revision = {}",
                quote_literal(revision)
            ))
            .map_err(db_err("cannot write the version table"))
    }

    fn forget_all(&mut self) -> Result<()> {
        self.conn
            .batch_execute(&format!("DELETE FROM {VERSION_TABLE}"))
            .map_err(db_err("cannot write the version table"))
    }

    fn check_integrity(&mut self, tables: Option<&[String]>) -> std::result::Result<(), String> {
        introspect::foreign_key_violations(&mut self.conn, tables)
    }

    fn introspect(&mut self) -> Result<Schema> {
        introspect::schema(&mut self.conn)
    }

    fn backup(&mut self) -> Result<Option<std::path::PathBuf>> {
        match &self.path {
            Some(p) if p.exists() => backup::copy_aside(p).map(Some),
            _ => Ok(None),
        }
    }

    fn offline_version_sql(row: &AppliedRow, first: bool) -> Vec<String> {
        let mut out = Vec::new();
        if first {
            out.push(version_table_ddl());
        }
        out.push(insert_row(row));
        out
    }
}

impl Drop for Sqlite {
    /// Leaves the connection as it was opened (it is closed right after, but a connection
    /// pool may one day hand it on).
    fn drop(&mut self) {
        if self.foreign_keys_off && self.foreign_keys_were_on {
            let _ = self.conn.batch_execute("PRAGMA foreign_keys = ON");
        }
    }
}

mod versions {
    // The version table (`crate::schema::naming::VERSION_TABLE`), for statements diesel
    // prepares once per connection.
    diesel::table! {
        retort_versions (revision) {
            revision -> Text,
            parents -> Text,
            message -> Text,
            checksum -> Text,
            applied_at -> Text,
            execution_ms -> BigInt,
            state -> Text,
        }
    }
}

fn version_table_ddl() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (\n    revision TEXT NOT NULL PRIMARY KEY,\n    parents TEXT NOT NULL,\n    message TEXT NOT NULL,\n    checksum TEXT NOT NULL,\n    applied_at TEXT NOT NULL,\n    execution_ms BIGINT NOT NULL,\n    state TEXT NOT NULL\n)"
    )
}

fn insert_row(row: &AppliedRow) -> String {
    let applied_at = if row.applied_at.is_empty() {
        "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')".to_string()
    } else {
        quote_literal(&row.applied_at)
    };
    format!(
        "INSERT INTO {VERSION_TABLE} (revision, parents, message, checksum, applied_at, execution_ms, state) VALUES ({}, {}, {}, {}, {applied_at}, {}, {})",
        quote_literal(&row.revision),
        quote_literal(&row.parents),
        quote_literal(&row.message),
        quote_literal(&row.checksum),
        row.execution_ms,
        quote_literal(&row.state)
    )
}
