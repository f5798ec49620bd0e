//! Database backends: connection, lock, version table, introspection. Everything
//! specific to one database lives below this folder.

#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;

use crate::error::Result;
use crate::migration::DataMigrationFn;
use crate::schema::sql::Dialect;
use crate::schema::Schema;
use crate::url::DatabaseUrl;

/// One row of the version table (loadable with `diesel::sql_query` from
/// `SELECT revision, parents, message, checksum, applied_at, execution_ms, state`).
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct AppliedRow {
    /// Revision id.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub revision: String,
    /// Parents, comma-separated.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub parents: String,
    /// Message.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub message: String,
    /// Checksum when applied.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub checksum: String,
    /// When (UTC, ISO 8601).
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub applied_at: String,
    /// How long it took.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub execution_ms: i64,
    /// `applied`, `stamped` or `adopted`.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub state: String,
}

impl AppliedRow {
    /// The row recording `rev`; `applied_at` is left for the database to fill in.
    pub(crate) fn for_revision(
        rev: &crate::graph::Migration,
        state: &str,
        execution_ms: i64,
    ) -> AppliedRow {
        AppliedRow {
            revision: rev.id().to_string(),
            parents: rev.parents().collect::<Vec<_>>().join(","),
            message: rev.message().to_string(),
            checksum: rev.checksum().to_string(),
            applied_at: String::new(),
            execution_ms,
            state: state.into(),
        }
    }
}

/// What the runner needs from a database.
pub(crate) trait Backend {
    /// The SQL dialect.
    fn dialect(&self) -> Dialect;
    /// Whether the database stores comments (compared by `check`).
    fn stores_comments(&self) -> bool;
    /// Takes the migration lock and begins a transaction.
    fn begin(&mut self) -> Result<()>;
    /// Commits and releases the lock.
    fn commit(&mut self) -> Result<()>;
    /// Rolls back and releases the lock.
    fn rollback(&mut self);
    /// Runs SQL inside the transaction; the error is the database's message.
    fn execute(&mut self, sql: &str) -> std::result::Result<(), String>;
    /// Runs a query returning one text column `v`; the first row's value, if any.
    fn query_sample(&mut self, sql: &str) -> std::result::Result<Option<String>, String>;
    /// Runs a data-migration function on the connection, inside the transaction.
    fn run_rust(&mut self, f: DataMigrationFn) -> std::result::Result<(), String>;
    /// Whether the version table exists.
    fn version_table_exists(&mut self) -> Result<bool>;
    /// Creates the version table if missing.
    fn ensure_version_table(&mut self) -> Result<()>;
    /// The version table's rows, in no particular order (empty when it does not exist).
    fn applied(&mut self) -> Result<Vec<AppliedRow>>;
    /// Whether the version table has a row for `revision` (a keyed lookup).
    fn is_applied(&mut self, revision: &str) -> Result<bool>;
    /// Adds a row.
    fn record(&mut self, row: &AppliedRow) -> Result<()>;
    /// Removes a row.
    fn forget(&mut self, revision: &str) -> Result<()>;
    /// Removes every row.
    fn forget_all(&mut self) -> Result<()>;
    /// Checks the foreign keys of the given tables (of every table for `None`), which a
    /// migration could have broken; the error lists violations.
    fn check_integrity(&mut self, tables: Option<&[String]>) -> std::result::Result<(), String>;
    /// The live schema, without the version table.
    fn introspect(&mut self) -> Result<Schema>;
    /// Copies the database aside before a change, returning where; `None` when not applicable.
    fn backup(&mut self) -> Result<Option<std::path::PathBuf>>;
    /// The statements that create and fill the version table, for offline SQL.
    fn offline_version_sql(row: &AppliedRow, first: bool) -> Vec<String>
    where
        Self: Sized;
}

/// Opens the backend for a URL.
pub(crate) fn connect(
    url: &DatabaseUrl,
    lock_timeout: std::time::Duration,
) -> Result<Box<dyn Backend>> {
    match url {
        #[cfg(feature = "sqlite")]
        DatabaseUrl::SqliteFile(_) | DatabaseUrl::SqliteMemory => {
            Ok(Box::new(sqlite::Sqlite::connect(url, lock_timeout)?))
        }
    }
}

/// Offline SQL for the version table in a dialect.
pub(crate) fn offline_version_sql(dialect: Dialect, row: &AppliedRow, first: bool) -> Vec<String> {
    match dialect {
        #[cfg(feature = "sqlite")]
        Dialect::Sqlite => <sqlite::Sqlite as Backend>::offline_version_sql(row, first),
        _ => Vec::new(),
    }
}

/// Statements that make an offline script stop when `query` returns a row.
pub(crate) fn offline_verify_sql(dialect: Dialect, query: &str) -> Vec<String> {
    match dialect {
        Dialect::Sqlite => vec![
            "CREATE TEMP TABLE IF NOT EXISTS _retort_verify (misfit TEXT CHECK (misfit IS NULL))"
                .into(),
            format!("INSERT INTO _retort_verify (misfit) SELECT v FROM ({query})"),
        ],
        _ => Vec::new(),
    }
}

/// The statements that wrap an offline script in a dialect (before, after).
pub(crate) fn offline_wrapping(dialect: Dialect) -> (Vec<&'static str>, Vec<&'static str>) {
    match dialect {
        Dialect::Sqlite => (
            vec!["PRAGMA foreign_keys = OFF", "BEGIN"],
            vec![
                "PRAGMA foreign_key_check",
                "COMMIT",
                "PRAGMA foreign_keys = ON",
            ],
        ),
        _ => (vec!["BEGIN"], vec!["COMMIT"]),
    }
}
