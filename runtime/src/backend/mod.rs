//! Database backends: connection, lock, transactions, version table, introspection.
//! Everything specific to one database lives below this folder; the runner, the CLI and
//! applications talk to a database only through [`Backend`].
//!
//! | backend | lock | DDL in transactions | progress |
//! |---|---|---|---|
//! | SQLite (`sqlite`) | `BEGIN IMMEDIATE` with a busy timeout | yes | per transaction |
//! | PostgreSQL (`postgres`) | `pg_try_advisory_xact_lock`, polled until the timeout | yes | per transaction |
//! | MySQL / MariaDB (`mysql`) | `GET_LOCK` with the timeout | no (implicit commit) | per statement |
//! | MariaDB Galera (`mysql`) | a row of `retort_lock` with a heartbeat | no (implicit commit) | per statement |

#[cfg_attr(not(all(feature = "postgres", feature = "mysql")), allow(dead_code))]
pub(crate) mod dump;
#[cfg(feature = "mysql")]
pub(crate) mod galera;
#[cfg(feature = "mysql")]
pub(crate) mod mysql;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;
pub(crate) mod versions;

pub use dump::Backup;
pub use versions::RowState;

use std::time::Duration;

use crate::error::{Error, Result};
use crate::migration::Connection;
use crate::url::DatabaseUrl;
use retort_schema::sql::Dialect;
use retort_schema::Schema;

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
    /// What the row records, as written (see [`AppliedRow::row_state`]).
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub state: String,
}

impl AppliedRow {
    /// The state, read: applied, stamped, adopted, or how far a migration that stopped
    /// part-way got.
    pub fn row_state(&self) -> RowState {
        RowState::parse(&self.state)
    }

    /// The row recording `rev`; `applied_at` is left for the database to fill in.
    pub(crate) fn for_revision(
        rev: &crate::graph::Revision,
        state: RowState,
        execution_ms: i64,
    ) -> AppliedRow {
        AppliedRow {
            revision: rev.id().to_string(),
            parents: rev.parents().collect::<Vec<_>>().join(","),
            message: rev.message().to_string(),
            checksum: rev.checksum().to_string(),
            applied_at: String::new(),
            execution_ms,
            state: state.to_string(),
        }
    }
}

/// What a database can do, as data: the runner asks instead of matching on a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// DDL runs inside transactions and rolls back (SQLite, PostgreSQL). Without it (MySQL),
    /// each statement commits, and the runner records progress per statement.
    pub transactional_ddl: bool,
    /// Foreign keys are not enforced while a migration runs, so the runner asks for
    /// [`Backend::check_integrity`] before commit (SQLite's table rebuilds).
    pub deferred_foreign_keys: bool,
    /// The lock is the write transaction itself (SQLite), so nothing runs outside one: a
    /// migration with `atomic: false` runs in a transaction there all the same.
    pub lock_is_transaction: bool,
    /// The lock is the session's and outlives a commit (MySQL's named lock, Galera's lock
    /// row): a run keeps it from one migration to the next instead of letting it go and
    /// checking the version rows again.
    pub lock_outlives_commit: bool,
}

/// What [`Backend::keep_lock_after_commit`] did with the migration lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeptLock {
    /// Not kept: the runner releases it, and takes it again for the next batch.
    Released,
    /// Kept since it was taken: nobody else can have moved the database.
    Kept,
    /// Kept from now on, after a moment in which another process could have taken it: the
    /// runner reads the version rows it depends on again.
    Regained,
}

/// A database the runner can migrate: connection, lock, transactions, the version table and
/// introspection. One implementation per database, below `retort::backend`; compare sqlx's
/// and refinery's `Migrate` and diesel's `MigrationConnection`.
///
/// The runner calls, per batch of migrations:
/// [`lock`](Backend::lock) → [`begin`](Backend::begin) → statements and version rows →
/// [`commit`](Backend::commit) (or [`rollback`](Backend::rollback)) →
/// [`unlock`](Backend::unlock). On PostgreSQL the lock is taken in the transaction the
/// migrations run in (and, for a migration outside a transaction, held by a second
/// connection's); on MySQL it is a session lock (a replicated row on Galera) that outlives
/// statements that commit on their own; on SQLite it is the write transaction.
///
/// ```no_run
/// use retort::backend::{connect, Backend};
/// use retort::DatabaseUrl;
/// let mut db = connect(&DatabaseUrl::parse("sqlite::memory:")?)?;
/// db.lock(std::time::Duration::from_secs(5))?;
/// db.ensure_version_table()?;
/// assert!(db.applied()?.is_empty());
/// db.unlock()?;
/// # Ok::<(), retort::Error>(())
/// ```
pub trait Backend {
    /// The SQL dialect.
    fn dialect(&self) -> Dialect;
    /// What the database can do.
    fn capabilities(&self) -> Capabilities;
    /// Takes the migration lock, waiting at most `timeout`; fails after it, naming who holds
    /// the lock where the database can tell.
    fn lock(&mut self, timeout: Duration) -> Result<()>;
    /// Releases the migration lock.
    fn unlock(&mut self) -> Result<()>;
    /// What taking the lock has to tell the operator, once (a stale lock taken over).
    fn lock_notice(&mut self) -> Option<String> {
        None
    }
    /// After a batch's commit (the lock not released yet), with `left` batches still to
    /// run: whether the lock is kept until the next one. Where the lock outlives a commit
    /// (MySQL) it simply is; PostgreSQL hands it, for a long run, to a second connection's
    /// open transaction, which costs a connection and saves the lock and the version-row
    /// check at every later migration. [`KeptLock::Released`]: the runner unlocks and takes
    /// it again for the next batch.
    fn keep_lock_after_commit(&mut self, left: usize) -> Result<KeptLock> {
        Ok(match left > 0 && self.capabilities().lock_outlives_commit {
            true => KeptLock::Kept,
            false => KeptLock::Released,
        })
    }
    /// Fails when the lock taken is no longer this process's (a lock with a heartbeat that
    /// another process took over); the runner asks before each statement.
    fn still_locked(&mut self) -> Result<()> {
        Ok(())
    }
    /// Ends the transaction the checks ran in and keeps the migration lock for statements
    /// that run outside a transaction (`atomic: false`), until [`unlock`](Backend::unlock).
    /// Returns whether another process could have taken the lock in between, so that the
    /// runner reads the version rows again (PostgreSQL, whose lock passes to a second
    /// connection's transaction). Only called where DDL is transactional and the lock is not
    /// the transaction itself.
    fn hold_lock_outside_transaction(&mut self) -> Result<bool> {
        self.commit().map(|()| false)
    }
    /// Whether this connection knows, as the transaction it just began, that no other
    /// connection has committed since its previous transaction began (SQLite's
    /// `PRAGMA data_version`); `false` where it cannot tell.
    fn nobody_wrote_since_last_begin(&self) -> bool {
        false
    }
    /// Takes the lock and begins a transaction, then checks the condition `expect` writes (a
    /// condition on the version table, from `versions::rows_are`): what a run that let the
    /// lock go between two migrations asks when it takes it again. `Ok(false)` when the rows
    /// moved, with nothing held. Where nobody else can have written since
    /// ([`nobody_wrote_since_last_begin`]), the rows are not read and the condition is not
    /// written.
    ///
    /// [`nobody_wrote_since_last_begin`]: Backend::nobody_wrote_since_last_begin
    fn enter_expecting(&mut self, timeout: Duration, expect: &dyn Fn() -> String) -> Result<bool> {
        self.lock(timeout)?;
        if let Err(e) = self.begin() {
            let _ = self.unlock();
            return Err(e);
        }
        if self.nobody_wrote_since_last_begin() {
            return Ok(true);
        }
        let sql = format!("SELECT CASE WHEN {} THEN 1 ELSE 0 END AS v", expect());
        let holds = self
            .query_sample(&sql)
            .map_err(db_err("cannot read the version table"));
        match holds {
            Ok(v) if v.as_deref() == Some("1") => Ok(true),
            other => {
                self.rollback();
                let _ = self.unlock();
                other.map(|_| false)
            }
        }
    }
    /// Runs `sql` (the version-row writes of what the transaction did), then commits.
    fn commit_after(&mut self, sql: &str) -> Result<()> {
        self.write_versions(sql)?;
        self.commit()
    }
    /// Runs writes of the version table (one statement or several); a failure says so.
    fn write_versions(&mut self, sql: &str) -> Result<()> {
        self.execute(sql)
            .map_err(db_err("cannot write the version table"))
    }
    /// Begins a transaction (a no-op where DDL is not transactional).
    fn begin(&mut self) -> Result<()>;
    /// Commits.
    fn commit(&mut self) -> Result<()>;
    /// Rolls back (best effort: it runs on the way out of a failure).
    fn rollback(&mut self);
    /// Runs one statement (or, for `execute(…)`, the author's batch); the error is the
    /// database's.
    fn execute(&mut self, sql: &str) -> std::result::Result<(), diesel::result::Error> {
        diesel::connection::SimpleConnection::batch_execute(self.connection(), sql)
    }
    /// Runs one statement that changes rows (a backfill's batch); the rows it changed.
    fn execute_counted(&mut self, sql: &str) -> std::result::Result<usize, diesel::result::Error> {
        diesel::RunQueryDsl::execute(diesel::sql_query(sql), self.connection())
    }
    /// Runs a query returning one column `v`; the first row's value as text (`NULL` for
    /// NULL), if there is a row.
    fn query_sample(
        &mut self,
        sql: &str,
    ) -> std::result::Result<Option<String>, diesel::result::Error> {
        let sql = self.as_text_query(sql);
        Ok(first_text(self.connection(), &sql)?.map(|v| v.unwrap_or_else(|| "NULL".into())))
    }
    /// `sql` (one column `v`) with `v` turned into text, as the database spells the cast.
    fn as_text_query(&self, sql: &str) -> String {
        sql.to_string()
    }
    /// The connection, for data-migration functions.
    fn connection(&mut self) -> &mut Connection;
    /// Whether the version table exists.
    fn version_table_exists(&mut self) -> Result<bool>;
    /// Whether the database holds any table of its own (besides retort's) where
    /// [`introspect`](Backend::introspect) looks: a fresh database answers in one query and
    /// is not introspected.
    fn has_tables(&mut self) -> Result<bool> {
        Ok(!self.introspect()?.tables.is_empty())
    }
    /// Creates the version table if missing.
    fn ensure_version_table(&mut self) -> Result<()> {
        let ddl = versions::create_table(self.dialect());
        self.execute(&ddl)
            .map_err(db_err("cannot create the version table"))
    }
    /// The version table's rows, in no particular order (empty when it does not exist).
    fn applied(&mut self) -> Result<Vec<AppliedRow>> {
        if !self.version_table_exists()? {
            return Ok(Vec::new());
        }
        versions::load(self.connection(), &versions::select_all())
    }
    /// Whether the version table has a row for `revision` (a keyed lookup).
    fn is_applied(&mut self, revision: &str) -> Result<bool> {
        let sql = versions::select_one(revision, self.dialect());
        Ok(!versions::load(self.connection(), &sql)?.is_empty())
    }
    /// Adds a row.
    fn record(&mut self, row: &AppliedRow) -> Result<()> {
        let sql = versions::insert(row, self.dialect());
        self.write_versions(&sql)
    }
    /// Changes the state of a row (progress of a migration on a database without
    /// transactional DDL).
    fn set_state(&mut self, revision: &str, state: &RowState, execution_ms: i64) -> Result<()> {
        let sql =
            versions::update_state(revision, &state.to_string(), execution_ms, self.dialect());
        self.write_versions(&sql)
    }
    /// Removes a row.
    fn forget(&mut self, revision: &str) -> Result<()> {
        let sql = versions::delete_one(revision, self.dialect());
        self.write_versions(&sql)
    }
    /// Removes every row.
    fn forget_all(&mut self) -> Result<()> {
        self.write_versions(&versions::delete_all())
    }
    /// Checks the foreign keys of the given tables (of every table for `None`), which a
    /// migration could have broken while they were not enforced; the error lists
    /// violations. Only called when [`Capabilities::deferred_foreign_keys`].
    fn check_integrity(&mut self, tables: Option<&[String]>) -> std::result::Result<(), String> {
        let _ = tables;
        Ok(())
    }
    /// The live schema, without the version table, as the catalog prints it back (types
    /// read portable where they are exactly a portable type; defaults and checks as the
    /// database spells them). [`Backend::catalog`] compares it with the models.
    fn introspect(&mut self) -> Result<Schema>;
    /// How this database keeps a schema and which spellings mean the same here: what
    /// `check` and adoption compare through.
    fn catalog(&self) -> retort_schema::sql::Catalog {
        retort_schema::sql::Catalog::of(self.dialect())
    }
    /// Copies the database aside before a change (SQLite's online backup beside the file, or
    /// into `dir`; the server's dump tool into `dir`, else the current directory), returning
    /// where and how to restore it; `None` when there is nothing to copy (an in-memory
    /// database).
    fn backup(&mut self, dir: Option<&std::path::Path>) -> Result<Option<Backup>> {
        let _ = dir;
        Ok(None)
    }

    /// Why this database takes no writes (a hot standby, a replica with `read_only`, a
    /// read-only default transaction), in a few words; `None` when it does.
    fn read_only(&mut self) -> Result<Option<String>> {
        Ok(None)
    }

    /// Makes each statement of this session wait at most `timeout` for a lock before it
    /// gives up (`None`: as long as the database does). A no-op where waits are bounded
    /// otherwise (SQLite's write lock, taken at the start).
    fn set_statement_lock_timeout(&mut self, _timeout: Option<Duration>) -> Result<()> {
        Ok(())
    }

    /// Whether a statement's error (the database's text) says it gave up waiting for a lock
    /// under [`set_statement_lock_timeout`](Backend::set_statement_lock_timeout).
    fn gave_up_waiting(&self, _message: &str) -> bool {
        false
    }

    /// Removes what a statement run outside a transaction left behind when it gave up
    /// waiting for a lock, before it is tried again: PostgreSQL's `CREATE INDEX
    /// CONCURRENTLY` leaves its index `INVALID`, and the same statement would then fail
    /// with "already exists". The error is the database's (a give-up counts as another try).
    fn clear_given_up(
        &mut self,
        _statement: &str,
    ) -> std::result::Result<(), diesel::result::Error> {
        Ok(())
    }

    /// Whether a statement run outside a transaction can be run again after it was
    /// interrupted, once [`clear_given_up`](Backend::clear_given_up) has removed what it
    /// left: then an upgrade that stopped in it is finished by the next run instead of
    /// refused (PostgreSQL's `CREATE INDEX CONCURRENTLY`).
    fn resumable(&self, _statement: &str) -> bool {
        false
    }

    /// Whether a resumable statement's work is already there (the index it builds exists
    /// and is valid): an interrupted run may have stopped after it, before recording it.
    fn already_done(&mut self, _statement: &str) -> bool {
        false
    }

    /// The other sessions holding locks that a migration's statement may wait for: each
    /// with its id, user, how long its transaction has been open and its query, as far as
    /// the database shows them to this user.
    fn lock_blockers(&mut self) -> String {
        "unknown (this database does not say)".into()
    }

    /// For each view and materialized view `expected` declares for this database, the
    /// database's own print of the declared definition (keyed like the objects), where the
    /// catalog keeps only such a print: a probe makes the view under another name (in a
    /// transaction that is rolled back on PostgreSQL; dropped again on MySQL, which commits
    /// DDL). A view whose probe fails (a read-only server) is left out, and compared by
    /// name only.
    fn view_prints(&mut self, _expected: &Schema) -> std::collections::BTreeMap<String, String> {
        std::collections::BTreeMap::new()
    }
}

/// The first row's text column `v` of a query, if there is a row.
pub(crate) fn first_text(
    conn: &mut Connection,
    sql: &str,
) -> std::result::Result<Option<Option<String>>, diesel::result::Error> {
    #[derive(diesel::QueryableByName)]
    struct Text {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        v: Option<String>,
    }
    let rows: Vec<Text> = diesel::RunQueryDsl::load(diesel::sql_query(sql), conn)?;
    Ok(rows.into_iter().next().map(|r| r.v))
}

/// One row of two nullable text columns.
pub(crate) type TextPair = (Option<String>, Option<String>);

/// The rows of a query returning two text columns `v` and `w`.
pub(crate) fn text_pairs(
    conn: &mut Connection,
    sql: &str,
) -> std::result::Result<Vec<TextPair>, diesel::result::Error> {
    #[derive(diesel::QueryableByName)]
    struct Pair {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        v: Option<String>,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        w: Option<String>,
    }
    let rows: Vec<Pair> = diesel::RunQueryDsl::load(diesel::sql_query(sql), conn)?;
    Ok(rows.into_iter().map(|r| (r.v, r.w)).collect())
}

/// What a database says of who holds the lock, from a query returning it as `v`.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn holder(conn: &mut Connection, sql: &str, gone: &str) -> String {
    match first_text(conn, sql) {
        Ok(found) => found.flatten().unwrap_or_else(|| gone.to_string()),
        Err(e) => format!("unknown ({e})"),
    }
}

/// One declared-object kind of object found in a catalog: its kind (as
/// [`ObjectKind::ident`](retort_schema::ObjectKind::ident) spells it), name and table.
#[derive(diesel::QueryableByName)]
pub(crate) struct ObjectRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    kind: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    tbl: Option<String>,
    /// What the catalog keeps of the definition: as it was given (SQLite's statement, a
    /// function's or trigger's body on the servers) or MySQL's print of a view; `None` where
    /// it keeps nothing comparable.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    definition: Option<String>,
}

/// The objects a catalog query found, by key, each with what the catalog keeps of its
/// definition as given (empty where it keeps only a print of its own).
pub(crate) fn objects_from(
    rows: Vec<ObjectRow>,
) -> std::collections::BTreeMap<String, retort_schema::DbObject> {
    use retort_schema::{ops::DialectSql, DbObject, ObjectKind};
    rows.into_iter()
        .filter_map(|r| {
            let kind = ObjectKind::ALL.into_iter().find(|k| k.ident() == r.kind)?;
            let o = DbObject {
                kind,
                name: r.name,
                table: r
                    .tbl
                    .filter(|_| matches!(kind, ObjectKind::Trigger | ObjectKind::Index)),
                sql: DialectSql::All(r.definition.unwrap_or_default()),
            };
            Some((o.key(), o))
        })
        .collect()
}

/// The wrapper for database errors outside a migration's statements.
pub(crate) fn db_err(context: &str) -> impl Fn(diesel::result::Error) -> Error + '_ {
    move |e| Error::Database {
        context: context.to_string(),
        source: Box::new(e),
    }
}

/// Opens the backend for a URL.
pub fn connect(url: &DatabaseUrl) -> Result<Box<dyn Backend>> {
    open(url, DEFAULT_LOCK_TIMEOUT)
}

/// How long a run waits by default for another process that holds the migration lock
/// ([`Options::lock_timeout`](crate::Options::lock_timeout)).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// Opens the backend for a URL; `wait` bounds how long SQLite waits for another writer
/// outside [`Backend::lock`] (the other databases wait only in `lock`).
pub(crate) fn open(url: &DatabaseUrl, wait: Duration) -> Result<Box<dyn Backend>> {
    let _ = wait;
    match url {
        #[cfg(feature = "sqlite")]
        DatabaseUrl::SqliteFile(_) | DatabaseUrl::SqliteMemory => {
            Ok(Box::new(sqlite::SqliteBackend::connect(url, wait)?))
        }
        #[cfg(feature = "postgres")]
        DatabaseUrl::Postgres { .. } => Ok(Box::new(postgres::PostgresBackend::connect(url)?)),
        #[cfg(feature = "mysql")]
        DatabaseUrl::Mysql(_) => Ok(Box::new(mysql::MysqlBackend::connect(url)?)),
        #[allow(unreachable_patterns)]
        other => Err(Error::BadUrl {
            url: other.to_string(),
            problem: format!(
                "support for {} is not compiled into this build; enable retort's `{}` feature",
                other.dialect().name(),
                other.dialect().name()
            ),
        }),
    }
}

/// What an offline script needs around and inside it, per dialect.
pub(crate) struct OfflineSql {
    /// Statements before everything.
    pub before: &'static [&'static str],
    /// Statements after everything.
    pub after: &'static [&'static str],
    /// Statements that leave the script's transaction before a migration with `atomic:
    /// false`, and that enter a new one after it (none where nothing runs in one, or where
    /// the lock is the transaction).
    pub outside: (&'static [&'static str], &'static [&'static str]),
}

/// The wrapping of an offline script in a dialect.
pub(crate) fn offline_wrapping(dialect: Dialect) -> OfflineSql {
    match dialect {
        // Foreign keys off around the rebuilds, checked before commit, as the runner does.
        Dialect::Sqlite => OfflineSql {
            before: &["PRAGMA foreign_keys = OFF", "BEGIN"],
            after: &["PRAGMA foreign_key_check", "COMMIT", "PRAGMA foreign_keys = ON"],
            outside: (&[], &[]),
        },
        Dialect::Postgres => OfflineSql {
            before: &["BEGIN"],
            after: &["COMMIT"],
            outside: (&["COMMIT"], &["BEGIN"]),
        },
        // DDL commits on its own; strict mode makes a value that does not fit an error.
        Dialect::Mysql => OfflineSql {
            before: &["SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,ERROR_FOR_DIVISION_BY_ZERO'"],
            after: &[],
            outside: (&[], &[]),
        },
    }
}

/// Statements that make an offline script stop when `query` returns a row: the check
/// constraint of a scratch table fails (the same SQL on every dialect).
pub(crate) fn offline_verify_sql(query: &str) -> Vec<String> {
    vec![
        "CREATE TEMPORARY TABLE IF NOT EXISTS _retort_verify (misfit VARCHAR(200) CHECK (misfit IS NULL))".into(),
        format!("INSERT INTO _retort_verify (misfit) SELECT v FROM ({query}) AS _retort_q"),
    ]
}
