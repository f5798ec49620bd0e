//! SQLite: the lock is an immediate transaction with a busy timeout (concurrent
//! processes queue instead of failing); foreign keys are switched off around the
//! transaction so table rebuilds can run, and checked before commit.

mod backup;
mod introspect;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel::sqlite::SqliteConnection;

use super::{db_err, AppliedRow, Backend, Capabilities};
use crate::error::{Error, Result};
use crate::migration::Connection;
use crate::url::DatabaseUrl;
use retort_schema::sql::Dialect;
use retort_schema::Schema;

pub(crate) const VERSION_TABLE: &str = retort_schema::naming::VERSION_TABLE;

pub(crate) struct SqliteBackend {
    conn: Connection,
    path: Option<std::path::PathBuf>,
    /// The busy timeout set on the connection (set again only when a lock asks for another).
    busy: Duration,
    foreign_keys_were_on: bool,
    /// Switched off for migrations (by the first `begin`), checked before each commit.
    foreign_keys_off: bool,
    /// `PRAGMA data_version` as the last transaction began: it moves only when another
    /// connection commits.
    data_version: Option<i64>,
    /// It was the same as the transaction before began: nobody else wrote in between.
    unchanged: bool,
}

/// The SQLite connection inside the multi-backend one this backend holds.
fn sqlite(conn: &mut Connection) -> &mut SqliteConnection {
    match conn {
        Connection::Sqlite(c) => c,
        #[allow(unreachable_patterns)]
        _ => unreachable!("the SQLite backend holds an SQLite connection"),
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
        let ours = retort_schema::clock::iso_millis(std::time::SystemTime::now());
        assert_eq!(ours.len(), sqlite[0].v.len(), "{ours} vs {}", sqlite[0].v);
        // Same up to the minute (the two clocks are read a moment apart).
        assert_eq!(ours[..16], sqlite[0].v[..16], "{ours} vs {}", sqlite[0].v);
    }
}

#[derive(QueryableByName)]
struct DataVersion {
    #[diesel(sql_type = BigInt)]
    data_version: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

impl SqliteBackend {
    /// Opens the file; `busy` is how long a statement waits for another process's lock.
    pub(crate) fn connect(url: &DatabaseUrl, busy: Duration) -> Result<SqliteBackend> {
        let (target, path) = match url {
            DatabaseUrl::SqliteFile(p) => (p.to_string_lossy().into_owned(), Some(p.clone())),
            DatabaseUrl::SqliteMemory => (":memory:".to_string(), None),
            other => unreachable!("not an SQLite URL: {other}"),
        };
        let mut conn =
            <SqliteConnection as diesel::Connection>::establish(&target).map_err(|e| {
                Error::Database {
                    context: format!("cannot open SQLite database {target}"),
                    source: Box::new(e),
                }
            })?;
        conn.batch_execute(&format!("PRAGMA busy_timeout = {}", busy.as_millis()))
            .map_err(db_err("cannot set the busy timeout"))?;
        let on: Vec<Count> = diesel::sql_query("SELECT foreign_keys AS n FROM pragma_foreign_keys")
            .load(&mut conn)
            .map_err(db_err("cannot read PRAGMA foreign_keys"))?;
        Ok(SqliteBackend {
            conn: Connection::Sqlite(conn),
            busy,
            path,
            foreign_keys_were_on: on.first().is_some_and(|c| c.n != 0),
            foreign_keys_off: false,
            data_version: None,
            unchanged: false,
        })
    }
}

impl SqliteBackend {
    fn c(&mut self) -> &mut SqliteConnection {
        sqlite(&mut self.conn)
    }
}

impl Backend for SqliteBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            transactional_ddl: true,
            deferred_foreign_keys: true,
            lock_is_transaction: true,
            lock_outlives_commit: false,
        }
    }

    /// The lock is the write transaction itself (`BEGIN IMMEDIATE` in [`Backend::begin`]);
    /// here only how long it waits for another writer.
    fn lock(&mut self, timeout: Duration) -> Result<()> {
        if timeout != self.busy {
            self.c()
                .batch_execute(&format!("PRAGMA busy_timeout = {}", timeout.as_millis()))
                .map_err(db_err("cannot set the busy timeout"))?;
            self.busy = timeout;
        }
        Ok(())
    }

    fn unlock(&mut self) -> Result<()> {
        Ok(())
    }

    fn begin(&mut self) -> Result<()> {
        // PRAGMA foreign_keys is a no-op inside a transaction: switch it off first, once for
        // the connection's migrations (each switch costs a statement per migration).
        if !self.foreign_keys_off {
            self.c()
                .batch_execute("PRAGMA foreign_keys = OFF")
                .map_err(db_err("cannot switch foreign keys off"))?;
            self.foreign_keys_off = true;
        }
        AnsiTransactionManager::begin_transaction_sql(self.c(), "BEGIN IMMEDIATE")
            .map_err(db_err("cannot take the migration lock (BEGIN IMMEDIATE); another process may hold the database longer than the lock timeout"))?;
        // The pragma itself, not the `pragma_data_version` table: a virtual table costs
        // several times as much to prepare, once per migration.
        let version: std::result::Result<Vec<DataVersion>, _> =
            diesel::sql_query("PRAGMA data_version").load(self.c());
        let now = version.ok().and_then(|v| v.first().map(|c| c.data_version));
        self.unchanged = now.is_some() && now == self.data_version;
        self.data_version = now;
        Ok(())
    }

    /// Between two migrations of one run on a database nobody else writes, taking the lock
    /// again costs no query of the version table.
    fn nobody_wrote_since_last_begin(&self) -> bool {
        self.unchanged
    }

    fn commit(&mut self) -> Result<()> {
        AnsiTransactionManager::commit_transaction(self.c()).map_err(db_err("commit failed"))
    }

    fn rollback(&mut self) {
        let _ = AnsiTransactionManager::rollback_transaction(self.c());
    }

    fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    fn version_table_exists(&mut self) -> Result<bool> {
        let n: Vec<Count> = diesel::sql_query(format!(
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '{VERSION_TABLE}'"
        ))
        .load(self.c())
        .map_err(db_err("cannot read sqlite_master"))?;
        Ok(n.first().is_some_and(|c| c.n > 0))
    }

    fn has_tables(&mut self) -> Result<bool> {
        let n: Vec<Count> = diesel::sql_query(format!(
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '{VERSION_TABLE}'"
        ))
        .load(self.c())
        .map_err(db_err("cannot read sqlite_master"))?;
        Ok(n.first().is_some_and(|c| c.n > 0))
    }

    fn applied(&mut self) -> Result<Vec<AppliedRow>> {
        if !self.version_table_exists()? {
            return Ok(Vec::new());
        }
        diesel::sql_query(super::versions::select_all())
            .load(self.c())
            .map_err(db_err("cannot read the version table"))
    }

    fn is_applied(&mut self, revision: &str) -> Result<bool> {
        use versions::retort_versions::dsl as v;
        let n: i64 = v::retort_versions
            .filter(v::revision.eq(revision))
            .count()
            .get_result(self.c())
            .map_err(db_err("cannot read the version table"))?;
        Ok(n > 0)
    }

    fn record(&mut self, row: &AppliedRow) -> Result<()> {
        use versions::retort_versions::dsl as v;
        // Through diesel's query builder: the statement is prepared once per connection and
        // reused for every row (an upgrade of N migrations writes N rows).
        let applied_at = if row.applied_at.is_empty() {
            retort_schema::clock::iso_millis(std::time::SystemTime::now())
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
            .execute(self.c())
            .map(drop)
            .map_err(db_err("cannot write the version table"))
    }

    fn check_integrity(&mut self, tables: Option<&[String]>) -> std::result::Result<(), String> {
        introspect::foreign_key_violations(self.c(), tables)
    }

    fn introspect(&mut self) -> Result<Schema> {
        crate::error::introspection("reading the live schema")?;
        introspect::schema(self.c())
    }

    fn backup(&mut self, dir: Option<&std::path::Path>) -> Result<Option<super::Backup>> {
        match &self.path {
            Some(p) if p.exists() => {
                let copy = backup::copy_aside(p, dir)?;
                let restore = format!(
                    "cp {} {}  # with every process using the database stopped",
                    copy.display(),
                    p.display()
                );
                Ok(Some(super::Backup {
                    path: copy,
                    restore,
                }))
            }
            _ => Ok(None),
        }
    }
}

impl Drop for SqliteBackend {
    /// Leaves the connection as it was opened (it is closed right after, but a connection
    /// pool may one day hand it on).
    fn drop(&mut self) {
        if self.foreign_keys_off && self.foreign_keys_were_on {
            let _ = self.c().batch_execute("PRAGMA foreign_keys = ON");
        }
    }
}

mod versions {
    // The version table (`retort_schema::naming::VERSION_TABLE`), for statements diesel
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
