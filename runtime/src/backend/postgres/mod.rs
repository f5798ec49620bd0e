//! PostgreSQL: transactional DDL; the migration lock is a transaction-level advisory lock,
//! taken by polling `pg_try_advisory_xact_lock` in a transaction of its own until the
//! timeout (never an unbounded wait, and no server connection held while waiting): the
//! transaction it is taken in is the one the migrations run in, and it ends with it. So it
//! works the same through a transaction-pooling PgBouncer, where a session lock would stay
//! behind on a pooled server connection. A migration that must run outside a transaction
//! (`atomic: false`) has the lock held for it by a transaction of a second connection (the
//! keeper), open until it ends: an open transaction keeps its server connection through a
//! pooler too, and a crash ends it. Introspection from `pg_catalog` in the connection's
//! current schema (`?schema=…` in the URL, or libpq's `options=-csearch_path%3D…`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use diesel::connection::{
    AnsiTransactionManager, SimpleConnection, TransactionDepthChange, TransactionManager,
    TransactionManagerStatus,
};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::Bool;

mod introspect;
mod keeper;
mod online;
mod views;

use self::introspect::{introspect, tables_filter};
use self::online::{concurrent_index, ConcurrentIndex, IndexName};
use super::{db_err, Backend, Capabilities, KeptLock};
use crate::error::{Error, Result};
use crate::migration::Connection;
use crate::url::DatabaseUrl;
use retort_schema::naming::VERSION_TABLE;
use retort_schema::sql::{quote_ident, quote_literal, Dialect};
use retort_schema::Schema;

/// The advisory lock's first key ("rtrt"); the second is the
/// schema's hash, so two applications in two schemas of one database do not wait for each
/// other.
const LOCK_CLASS: i32 = 0x7274_7274;

/// The error text that says the lock is another session's (see `enter_expecting`).
const BUSY: &str = "retort: the migration lock is held";
/// The error text that says the version rows moved while the lock was let go.
const MOVED: &str = "retort: the version rows moved";

pub(crate) struct PostgresBackend {
    conn: Connection,
    /// The server to connect the keeper to, and the session setup it needs (the schema,
    /// whose hash keys the lock).
    target: String,
    setup: String,
    /// A transaction holding the transaction-level lock is open.
    in_locked_transaction: bool,
    /// The connection whose open transaction holds the lock while statements run outside
    /// a transaction (`atomic: false`), or through the rest of a long run.
    keeper: Option<PgConnection>,
    /// When the keeper last answered.
    keeper_seen: Instant,
    /// A keeper for the rest of a long run, connecting in the background.
    keeper_coming: Option<std::thread::JoinHandle<Option<PgConnection>>>,
    /// Whether this run has tried to connect one.
    keeper_tried: bool,
    /// The session's `lock_timeout` is set (for statements outside a transaction).
    session_timeout_set: bool,
    /// How long the last [`Backend::lock`] would wait: the keeper waits as long.
    lock_timeout: Duration,
    /// What `lock_timeout` the migration's statements get (`SET LOCAL` with the lock).
    statement_lock_timeout: Option<Duration>,
}

/// Polls `try_lock` (one boolean column `v`) in a transaction of its own on `conn` until it
/// says yes, leaving that transaction open, or until `timeout`: false, nothing held. No
/// server connection is kept (through a pooler) while it waits.
fn poll_lock(conn: &mut PgConnection, try_lock: &str, timeout: Duration) -> Result<bool> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(20);
    loop {
        AnsiTransactionManager::begin_transaction(conn)
            .map_err(db_err("cannot begin a transaction"))?;
        let rows: std::result::Result<Vec<Flag>, _> = diesel::sql_query(try_lock).load(conn);
        match rows {
            Ok(rows) if rows.first().is_some_and(|f| f.v) => return Ok(true),
            Ok(_) => {}
            Err(e) => {
                let _ = AnsiTransactionManager::rollback_transaction(conn);
                return Err(db_err("cannot take the migration lock")(e));
            }
        }
        AnsiTransactionManager::rollback_transaction(conn)
            .map_err(db_err("cannot end a transaction"))?;
        if started.elapsed() >= timeout {
            return Ok(false);
        }
        std::thread::sleep(pause.min(timeout.saturating_sub(started.elapsed())));
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}

/// The lock query: the transaction-level advisory lock on this schema's key.
fn try_lock() -> String {
    format!("SELECT pg_try_advisory_xact_lock({LOCK_CLASS}, hashtext(current_schema())) AS v")
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

impl PostgresBackend {
    pub(crate) fn connect(url: &DatabaseUrl) -> Result<PostgresBackend> {
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
        // UTC: an instant without an offset (a default, a literal in a check) means the same to
        // the server as to retort, and reads back with `+00`.
        let mut setup = String::from("SET client_min_messages = warning; SET TIME ZONE 'UTC';");
        if let Some(s) = schema {
            let s = quote_ident(s, Dialect::Postgres);
            setup.push_str(&format!(
                "CREATE SCHEMA IF NOT EXISTS {s}; SET search_path TO {s};"
            ));
        }
        conn.batch_execute(&setup)
            .map_err(db_err("cannot prepare the PostgreSQL session"))?;
        Ok(PostgresBackend {
            conn: Connection::Postgres(conn),
            target: target.clone(),
            setup,
            in_locked_transaction: false,
            keeper: None,
            keeper_seen: Instant::now(),
            keeper_coming: None,
            keeper_tried: false,
            session_timeout_set: false,
            lock_timeout: Duration::from_secs(60),
            statement_lock_timeout: None,
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

    /// Whether an index exists and is valid: `None` when it does not exist.
    fn index_state(
        &mut self,
        index: &IndexName,
    ) -> std::result::Result<Option<bool>, diesel::result::Error> {
        let schema = match &index.schema {
            Some(s) => quote_literal(s),
            None => "current_schema()".into(),
        };
        let sql = format!(
            "SELECT i.indisvalid AS v FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = {schema} AND c.relname = {}",
            quote_literal(&index.name)
        );
        let rows: Vec<Flag> = diesel::sql_query(sql).load(self.c())?;
        Ok(rows.first().map(|f| f.v))
    }

    /// Whether table `table` (quoted as a statement names it) has a constraint `name`.
    fn has_constraint(&mut self, table: &str, name: &str) -> bool {
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass({}) AND conname = {}) AS v",
            quote_literal(table),
            quote_literal(name)
        );
        self.flag(&sql, "cannot read the constraints")
            .unwrap_or(false)
    }

    /// Who holds the migration lock, as PostgreSQL reports the session.
    fn lock_holder(&mut self) -> String {
        let sql = format!(
            "SELECT 'pid ' || a.pid || COALESCE(', application ' || NULLIF(a.application_name, ''), '') || COALESCE(', from ' || host(a.client_addr), '') || ', since ' || a.backend_start::text AS v FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.classid = {LOCK_CLASS}::oid AND l.objsubid = 2 AND l.granted LIMIT 1"
        );
        super::holder(&mut self.conn, &sql, "a session that has since ended")
    }
}

impl Backend for PostgresBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn backup(&mut self, dir: Option<&std::path::Path>) -> Result<Option<super::Backup>> {
        super::dump::postgres(&self.target, dir.unwrap_or(std::path::Path::new("."))).map(Some)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            transactional_ddl: true,
            deferred_foreign_keys: false,
            lock_is_transaction: false,
            lock_outlives_commit: false,
        }
    }

    fn lock(&mut self, timeout: Duration) -> Result<()> {
        self.lock_timeout = timeout;
        // Taken with the statement lock timeout for the transaction, in one round trip.
        let try_lock = match self.statement_lock_timeout {
            Some(t) => format!(
                "{}, set_config('lock_timeout', '{}ms', true) AS t",
                try_lock(),
                t.as_millis().max(1)
            ),
            None => try_lock(),
        };
        if poll_lock(pg(&mut self.conn), &try_lock, timeout)? {
            self.in_locked_transaction = true;
            return Ok(());
        }
        Err(Error::LockTimeout {
            waited: timeout,
            holder: self.lock_holder(),
        })
    }

    fn enter_expecting(&mut self, timeout: Duration, expect: &dyn Fn() -> String) -> Result<bool> {
        let expect = expect();
        self.lock_timeout = timeout;
        let set = match self.statement_lock_timeout {
            Some(t) => format!(
                "set_config('lock_timeout', '{}ms', true)",
                t.as_millis().max(1)
            ),
            None => "''".into(),
        };
        // One round trip: the transaction begins, takes the lock (an error marked BUSY when
        // another session holds it) and checks the rows (an error marked MOVED when they are
        // not as this run left them). Each statement of a simple query takes its own
        // snapshot, so the check sees everything committed before the lock was granted.
        // `current_schema()` keeps the casts from being folded while the query is planned.
        let batch = format!(
            "BEGIN; SELECT CASE WHEN pg_try_advisory_xact_lock({LOCK_CLASS}, hashtext(current_schema())) THEN {set} ELSE CAST('{BUSY} ' || current_schema() AS integer)::text END; SELECT CASE WHEN {expect} THEN 1 ELSE CAST('{MOVED} ' || current_schema() AS integer) END"
        );
        let started = Instant::now();
        let mut pause = Duration::from_millis(20);
        loop {
            let conn = pg(&mut self.conn);
            match AnsiTransactionManager::begin_transaction_sql(conn, &batch) {
                Ok(()) => {
                    self.in_locked_transaction = true;
                    return Ok(true);
                }
                Err(e) => {
                    // The transaction is open and failed; diesel did not count it.
                    let _ = conn.batch_execute("ROLLBACK");
                    let text = e.to_string();
                    if text.contains(MOVED) {
                        return Ok(false);
                    }
                    if !text.contains(BUSY) {
                        return Err(db_err("cannot take the migration lock")(e));
                    }
                }
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

    fn commit_after(&mut self, sql: &str) -> Result<()> {
        self.in_locked_transaction = false;
        let conn = pg(&mut self.conn);
        // The version rows and the commit in one round trip; diesel is told the transaction
        // ended.
        match conn.batch_execute(&format!("{sql}; COMMIT")) {
            Ok(()) => {
                // (diesel may have seen the server leave the transaction already.)
                if let TransactionManagerStatus::Valid(status) =
                    <AnsiTransactionManager as TransactionManager<PgConnection>>::transaction_manager_status_mut(conn)
                {
                    if status.transaction_depth().is_some() {
                        status
                            .change_transaction_depth(TransactionDepthChange::DecreaseDepth)
                            .map_err(db_err("commit failed"))?;
                    }
                }
                Ok(())
            }
            Err(e) => {
                let _ = AnsiTransactionManager::rollback_transaction(conn);
                Err(db_err("cannot write the version table, or commit")(e))
            }
        }
    }

    fn hold_lock_outside_transaction(&mut self) -> Result<bool> {
        // The checks' transaction ends (and the lock with it, unless a keeper holds it
        // already); the keeper takes the lock again and holds it in its open transaction.
        // Another process may have taken it in between: `true` tells the runner to check
        // the version rows again.
        self.commit()?;
        let regained = match self.keeper {
            Some(_) => false,
            None => {
                self.take_keeper("while a migration runs outside a transaction")?;
                true
            }
        };
        // The statements run on their own: the statement lock timeout is the session's
        // until unlock (through a transaction pooler, whichever server connection each
        // statement gets keeps it; see docs/deployment.md).
        if let Some(t) = self.statement_lock_timeout {
            self.session_timeout_set = true;
            self.c()
                .batch_execute(&format!("SET lock_timeout = '{}ms'", t.as_millis().max(1)))
                .map_err(db_err("cannot set lock_timeout"))?;
        }
        Ok(regained)
    }

    fn keep_lock_after_commit(&mut self, left: usize) -> Result<KeptLock> {
        self.keep_after_commit(left)
    }

    fn still_locked(&mut self) -> Result<()> {
        self.keeper_alive()
    }

    fn unlock(&mut self) -> Result<()> {
        if self.in_locked_transaction {
            // Taken but not committed: ending the transaction releases it, keeping nothing.
            self.rollback();
        }
        let reset = match std::mem::take(&mut self.session_timeout_set) {
            true => self
                .c()
                .batch_execute("RESET lock_timeout")
                .map_err(db_err("cannot reset lock_timeout")),
            false => Ok(()),
        };
        if let Some(mut keeper) = self.keeper.take() {
            AnsiTransactionManager::rollback_transaction(&mut keeper)
                .map_err(db_err("cannot release the migration lock"))?;
        }
        reset
    }

    fn begin(&mut self) -> Result<()> {
        if self.in_locked_transaction {
            // The lock's transaction is the migrations'.
            return Ok(());
        }
        match (&self.keeper, self.statement_lock_timeout) {
            // The keeper holds the lock: the statement lock timeout is set for the
            // transaction as it begins, in one round trip.
            (Some(_), Some(t)) if !self.session_timeout_set => {
                let sql = format!(
                    "BEGIN; SELECT set_config('lock_timeout', '{}ms', true)",
                    t.as_millis().max(1)
                );
                AnsiTransactionManager::begin_transaction_sql(self.c(), &sql)
            }
            _ => AnsiTransactionManager::begin_transaction(self.c()),
        }
        .map_err(db_err("cannot begin a transaction"))
    }

    fn commit(&mut self) -> Result<()> {
        self.in_locked_transaction = false;
        AnsiTransactionManager::commit_transaction(self.c()).map_err(db_err("commit failed"))
    }

    fn rollback(&mut self) {
        self.in_locked_transaction = false;
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
        crate::error::introspection("reading the live schema")?;
        introspect(self.c())
    }

    fn has_tables(&mut self) -> Result<bool> {
        self.flag(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {}) AS v",
                tables_filter()
            ),
            "cannot read pg_catalog",
        )
    }

    fn read_only(&mut self) -> Result<Option<String>> {
        let sql = "SELECT CASE WHEN pg_is_in_recovery() THEN 'a hot standby (in recovery): a read-only replica' WHEN current_setting('transaction_read_only') = 'on' THEN 'read-only (default_transaction_read_only is on)' END AS v";
        super::first_text(&mut self.conn, sql)
            .map(Option::flatten)
            .map_err(db_err("cannot tell whether the server takes writes"))
    }

    fn set_statement_lock_timeout(&mut self, timeout: Option<Duration>) -> Result<()> {
        // Set with each lock, for its transaction only: a session setting would stay behind
        // on a pooled server connection.
        self.statement_lock_timeout = timeout;
        Ok(())
    }

    fn gave_up_waiting(&self, message: &str) -> bool {
        message.contains("due to lock timeout")
    }

    fn clear_given_up(
        &mut self,
        statement: &str,
    ) -> std::result::Result<(), diesel::result::Error> {
        let Some(ConcurrentIndex::Create(index)) = concurrent_index(statement) else {
            return Ok(());
        };
        if self.index_state(&index)? == Some(false) {
            self.c().batch_execute(&format!(
                "DROP INDEX CONCURRENTLY IF EXISTS {}",
                index.quoted()
            ))?;
        }
        Ok(())
    }

    fn resumable(&self, statement: &str) -> bool {
        concurrent_index(statement).is_some()
    }

    fn already_done(&mut self, statement: &str) -> bool {
        match concurrent_index(statement) {
            Some(ConcurrentIndex::Create(i)) => self.index_state(&i).ok() == Some(Some(true)),
            Some(ConcurrentIndex::Drop(i)) => self.index_state(&i).ok() == Some(None),
            Some(ConcurrentIndex::AddConstraint { table, name }) => {
                self.has_constraint(&table, &name)
            }
            Some(ConcurrentIndex::Again) | None => false,
        }
    }

    fn lock_blockers(&mut self) -> String {
        // Sessions of this database with a transaction open that hold a lock on a table.
        let sql = "SELECT string_agg(format('pid %s (%s, %s, transaction open %s s): %s', a.pid, a.usename, a.state, round(extract(epoch FROM now() - a.xact_start)), left(a.query, 200)), '; ' ORDER BY a.xact_start) AS v FROM pg_stat_activity a WHERE a.pid <> pg_backend_pid() AND a.datname = current_database() AND a.xact_start IS NOT NULL AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.granted AND l.locktype = 'relation')";
        super::holder(
            &mut self.conn,
            sql,
            "no session holds a table lock any more (it has ended)",
        )
    }

    fn view_prints(&mut self, expected: &Schema) -> BTreeMap<String, String> {
        if !crate::error::INTROSPECTION {
            return BTreeMap::new();
        }
        views::view_prints(self.c(), expected)
    }
}

impl Drop for PostgresBackend {
    fn drop(&mut self) {
        let _ = self.unlock();
    }
}
