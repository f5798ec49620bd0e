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
use diesel::sql_types::{Bool, Nullable, Text};

use super::{db_err, objects_from, Backend, Capabilities};
use crate::error::{Error, Result};
use crate::migration::Connection;
use crate::url::DatabaseUrl;
use retort_schema::expr::lex::Lexicon;
use retort_schema::model::view_body;
use retort_schema::naming::VERSION_TABLE;
use retort_schema::sql::postgres::{catalog_type, check_body, read_default, read_type};
use retort_schema::sql::{quote_ident, quote_literal, read_create_index, Dialect};
use retort_schema::{
    CheckConstraint, Column, Deferral, ForeignKey, ObjectKind, ReferentialAction, Schema, Table,
    UniqueConstraint,
};

/// The enum types of the current schema (not an extension's), each value in its order.
const ENUMS: &str = "SELECT t.typname::text AS name, e.enumlabel::text AS value FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid WHERE n.nspname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e') ORDER BY t.typname, e.enumsortorder";

#[derive(QueryableByName)]
struct EnumLabel {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

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
    /// a transaction (`atomic: false`).
    keeper: Option<PgConnection>,
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

/// The statements of the online forms, which run outside a transaction and can be run
/// again after an interruption.
enum ConcurrentIndex {
    /// `CREATE [UNIQUE] INDEX CONCURRENTLY`: done when the index is there and valid; an
    /// `INVALID` one left by an interrupted build is dropped first.
    Create(IndexName),
    /// `DROP INDEX CONCURRENTLY`: done when the index is gone.
    Drop(IndexName),
    /// `ALTER TABLE t ADD CONSTRAINT n … NOT VALID` or `… USING INDEX`: a moment's catalog
    /// change, done when the constraint is there.
    AddConstraint {
        /// The table, quoted as written.
        table: String,
        /// The constraint's name.
        name: String,
    },
    /// A statement whose second run does nothing more than its first: `VALIDATE
    /// CONSTRAINT`, `SET NOT NULL`, `DROP CONSTRAINT IF EXISTS`, `SET DEFAULT`.
    Again,
}

/// An index's name, and its schema where the statement gives one.
struct IndexName {
    schema: Option<String>,
    name: String,
}

impl IndexName {
    fn from(qualified: &str) -> IndexName {
        match qualified.split_once('.') {
            Some((s, n)) => IndexName {
                schema: Some(s.to_string()),
                name: n.to_string(),
            },
            None => IndexName {
                schema: None,
                name: qualified.to_string(),
            },
        }
    }

    fn quoted(&self) -> String {
        let name = quote_ident(&self.name, Dialect::Postgres);
        match &self.schema {
            Some(s) => format!("{}.{name}", quote_ident(s, Dialect::Postgres)),
            None => name,
        }
    }
}

fn concurrent_index(statement: &str) -> Option<ConcurrentIndex> {
    if let Some(alter) = online_alter(statement) {
        return Some(alter);
    }
    let words: Vec<String> = statement
        .split_whitespace()
        .take(6)
        .map(str::to_ascii_uppercase)
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["CREATE", "INDEX", "CONCURRENTLY", ..]
        | ["CREATE", "UNIQUE", "INDEX", "CONCURRENTLY", ..] => {
            let (_, index) = read_create_index(statement, Lexicon::STANDARD).ok()?;
            Some(ConcurrentIndex::Create(IndexName::from(&index.name)))
        }
        ["DROP", "INDEX", "CONCURRENTLY", rest @ ..] => {
            // `DROP INDEX CONCURRENTLY [IF EXISTS] name`, one index.
            let after = match rest {
                ["IF", "EXISTS", ..] => 5,
                _ => 3,
            };
            let name = statement.split_whitespace().nth(after)?;
            let name = name.trim_end_matches(';').replace('"', "");
            Some(ConcurrentIndex::Drop(IndexName::from(&name)))
        }
        _ => None,
    }
}

/// The `ALTER TABLE` statements of the online forms of constraints and `NOT NULL` (as
/// `retort_schema::sql::postgres` writes them), read token by token.
fn online_alter(statement: &str) -> Option<ConcurrentIndex> {
    use retort_schema::expr::lex::{lex, Token};
    let tokens: Vec<Token> = lex(statement, Lexicon::STANDARD)
        .into_iter()
        .map(|s| s.token)
        .collect();
    let word = |t: &Token, w: &str| matches!(t, Token::Word(x) if x.eq_ignore_ascii_case(w));
    let ident = |t: &Token| match t {
        Token::Word(x) => Some(x.to_ascii_lowercase()),
        Token::QuotedIdent(x) => Some(x.clone()),
        _ => None,
    };
    if tokens.len() < 4 || !word(&tokens[0], "ALTER") || !word(&tokens[1], "TABLE") {
        return None;
    }
    // The table: `t` or `s.t`.
    let (table, rest) = match tokens.get(3) {
        Some(Token::Punct(p)) if p == "." => (
            format!(
                "{}.{}",
                quote_ident(&ident(&tokens[2])?, Dialect::Postgres),
                quote_ident(&ident(tokens.get(4)?)?, Dialect::Postgres)
            ),
            &tokens[5..],
        ),
        _ => (
            quote_ident(&ident(&tokens[2])?, Dialect::Postgres),
            &tokens[3..],
        ),
    };
    let says = |words: &[&str]| {
        rest.len() >= words.len() && words.iter().zip(rest).all(|(w, t)| word(t, w))
    };
    let ends_with = |words: &[&str]| {
        rest.len() >= words.len()
            && words
                .iter()
                .zip(&rest[rest.len() - words.len()..])
                .all(|(w, t)| word(t, w))
    };
    let names_using_index = rest
        .windows(2)
        .any(|w| word(&w[0], "USING") && word(&w[1], "INDEX"));
    if says(&["ADD", "CONSTRAINT"]) && (ends_with(&["NOT", "VALID"]) || names_using_index) {
        return Some(ConcurrentIndex::AddConstraint {
            table,
            name: ident(rest.get(2)?)?,
        });
    }
    // `ALTER COLUMN c SET DEFAULT …` / `DROP DEFAULT`: the default of a column a backfill
    // fills, set before it.
    let sets_default = says(&["ALTER", "COLUMN"])
        && rest.len() > 4
        && (word(&rest[3], "SET") || word(&rest[3], "DROP"))
        && word(&rest[4], "DEFAULT");
    let again = says(&["VALIDATE", "CONSTRAINT"])
        || says(&["DROP", "CONSTRAINT", "IF", "EXISTS"])
        || (says(&["ALTER", "COLUMN"]) && ends_with(&["SET", "NOT", "NULL"]))
        || sets_default;
    again.then_some(ConcurrentIndex::Again)
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

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            transactional_ddl: true,
            deferred_foreign_keys: false,
            lock_is_transaction: false,
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

    fn enter_expecting(&mut self, timeout: Duration, expect: &str) -> Result<bool> {
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
        // The checks' transaction ends (and the lock with it); the keeper takes the lock
        // again and holds it in its open transaction. Another process may have taken it in
        // between: `true` tells the runner to check the version rows again.
        self.commit()?;
        let mut keeper =
            <PgConnection as diesel::Connection>::establish(&self.target).map_err(|e| {
                Error::Database {
                    context: "cannot open a second connection to hold the migration lock while a migration runs outside a transaction".into(),
                    source: Box::new(e),
                }
            })?;
        keeper
            .batch_execute(&self.setup)
            .map_err(db_err("cannot prepare the PostgreSQL session"))?;
        if !poll_lock(&mut keeper, &try_lock(), self.lock_timeout)? {
            return Err(Error::LockTimeout {
                waited: self.lock_timeout,
                holder: self.lock_holder(),
            });
        }
        // The lock query's portal (extended protocol) would keep its snapshot while the
        // transaction idles, and `CREATE INDEX CONCURRENTLY` waits for every older snapshot:
        // a simple query drops the portal.
        keeper
            .batch_execute("SELECT 1")
            .map_err(db_err("cannot hold the migration lock"))?;
        self.keeper = Some(keeper);
        // The statements run on their own: the statement lock timeout is the session's
        // until unlock (through a transaction pooler, whichever server connection each
        // statement gets keeps it; see docs/deployment.md).
        if let Some(t) = self.statement_lock_timeout {
            self.session_timeout_set = true;
            self.c()
                .batch_execute(&format!("SET lock_timeout = '{}ms'", t.as_millis().max(1)))
                .map_err(db_err("cannot set lock_timeout"))?;
        }
        Ok(true)
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
        AnsiTransactionManager::begin_transaction(self.c())
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
        introspect(self.c())
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
        let mut out = BTreeMap::new();
        for o in expected.objects.values() {
            if !matches!(o.kind, ObjectKind::View | ObjectKind::MaterializedView) {
                continue;
            }
            let Some((columns, query)) = o.sql_for(Dialect::Postgres).and_then(view_body) else {
                continue;
            };
            // A temporary view prints the query as the declared one does (same search path);
            // a materialized view's query prints the same way in a plain view.
            let probe = format!(
                "CREATE TEMP VIEW retort_view_probe {} AS {query}",
                columns.unwrap_or_default()
            );
            let printed = diesel::Connection::transaction::<(), Probe, _>(self.c(), |c| {
                c.batch_execute(&probe)?;
                let rows: Vec<Print> = diesel::sql_query(
                    "SELECT pg_get_viewdef('pg_temp.retort_view_probe'::regclass) AS v",
                )
                .load(c)?;
                Err(Probe::Printed(rows.into_iter().next().map(|r| r.v)))
            });
            if let Err(Probe::Printed(Some(print))) = printed {
                out.insert(o.key(), print);
            }
        }
        out
    }
}

/// How a view probe ends: always rolled back, with the print or the database's refusal.
enum Probe {
    Printed(Option<String>),
    Refused,
}

impl From<diesel::result::Error> for Probe {
    fn from(_: diesel::result::Error) -> Self {
        Probe::Refused
    }
}

#[derive(QueryableByName)]
struct Print {
    #[diesel(sql_type = Text)]
    v: String,
}

impl Drop for PostgresBackend {
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
    #[diesel(sql_type = Nullable<Bool>)]
    serial: Option<bool>,
    #[diesel(sql_type = Bool)]
    always: bool,
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
    #[diesel(sql_type = Bool)]
    validated: bool,
    #[diesel(sql_type = Bool)]
    deferrable: bool,
    #[diesel(sql_type = Bool)]
    deferred: bool,
}

#[derive(QueryableByName)]
struct IndexRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    definition: String,
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

/// A table's name as the models write it: its own in the connection's schema,
/// `schema.table` in another.
fn qualified(class: &str, namespace: &str) -> String {
    format!("CASE WHEN {namespace}.nspname = current_schema() THEN {class}.relname::text ELSE {namespace}.nspname::text || '.' || {class}.relname::text END")
}

fn introspect(conn: &mut PgConnection) -> Result<Schema> {
    let err = db_err("cannot read the schema from pg_catalog");
    // The connection's schema, and the others apps keep tables in (`schema.table`; `check`
    // looks only at those the models use).
    let in_schema = format!(
        "(n.nspname = current_schema() OR (n.nspname !~ '^pg_' AND n.nspname <> 'information_schema')) AND c.relkind IN ('r', 'p') AND NOT (n.nspname = current_schema() AND c.relname = '{VERSION_TABLE}')"
    );
    let tq = qualified("c", "n");
    let tables: Vec<TableRow> = diesel::sql_query(format!(
        "SELECT {tq} AS name, obj_description(c.oid, 'pg_class') AS comment FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {in_schema}"
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
        "SELECT {tq} AS table_name, a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS sql_type, NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS default_expr, (a.attidentity <> '' OR (pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) IS NOT NULL AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%')) AS identity, a.attidentity = '' AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%' AS serial, a.attidentity = 'a' AS always, col_description(c.oid, a.attnum) AS comment FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum WHERE {in_schema} ORDER BY c.relname, a.attnum"
    ))
    .load(conn)
    .map_err(&err)?;
    for row in columns {
        let Some(t) = out.get_mut(&row.table_name) else {
            continue;
        };
        let ty = read_type(&catalog_type(&row.sql_type));
        let mut c = Column::new(row.name, ty);
        c.nullable = row.nullable;
        c.autoincrement = row.identity;
        c.identity_always = row.always;
        // A `serial` column (another tool's autoincrement: a sequence it owns as default)
        // generates values as an identity does; its default is that, not a default.
        c.server_default = if row.identity && row.serial == Some(true) {
            None
        } else {
            row.default_expr.as_deref().map(read_default)
        };
        c.comment = row.comment;
        t.columns.push(c);
    }
    let constraints: Vec<ConstraintRow> = diesel::sql_query(format!(
        "SELECT {tq} AS table_name, con.conname::text AS name, con.contype::text AS kind, {cols} AS columns, {rq} AS referred_table, {rcols} AS referred_columns, con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update, pg_get_constraintdef(con.oid) AS definition, con.convalidated AS validated, con.condeferrable AS deferrable, con.condeferred AS deferred FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_class rc ON rc.oid = con.confrelid LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace WHERE {in_schema} AND con.contype IN ('p', 'u', 'f', 'c') ORDER BY c.relname, con.conname",
        cols = names_of("con.conkey", "con.conrelid"),
        rcols = names_of("COALESCE(con.confkey, '{}'::int2[])", "con.confrelid"),
        rq = qualified("rc", "rn"),
    ))
    .load(conn)
    .map_err(&err)?;
    for row in constraints {
        let Some(t) = out.get_mut(&row.table_name) else {
            continue;
        };
        match row.kind.as_str() {
            "p" => {
                t.primary_key = split(&row.columns);
                t.set_primary_key_name(&row.name);
            }
            "u" => {
                let mut u = UniqueConstraint::new(row.name, split(&row.columns));
                u.nulls_not_distinct = row.definition.contains("NULLS NOT DISTINCT");
                u.deferral = deferral(row.deferrable, row.deferred);
                t.uniques.push(u);
            }
            "f" => t.foreign_keys.push(ForeignKey {
                name: row.name,
                columns: split(&row.columns),
                referred_table: row.referred_table.unwrap_or_default(),
                referred_columns: split(&row.referred_columns),
                on_delete: action(&row.on_delete),
                on_update: action(&row.on_update),
                not_valid: !row.validated,
                deferral: deferral(row.deferrable, row.deferred),
            }),
            _ => {
                let body = check_body(&row.definition);
                t.checks.push(CheckConstraint {
                    name: row.name,
                    expression: body,
                    not_valid: !row.validated,
                })
            }
        }
    }
    // The whole definition, read back by the same reader as SQLite's: method, keys (order,
    // nulls, operator class, expressions), INCLUDE, NULLS NOT DISTINCT, WITH, WHERE.
    let indexes: Vec<IndexRow> = diesel::sql_query(format!(
        "SELECT {tq} AS table_name, pg_get_indexdef(ix.indexrelid) AS definition FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class c ON c.oid = ix.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {in_schema} AND NOT ix.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid AND con.contype IN ('p', 'u', 'x'))",
    ))
    .load(conn)
    .map_err(&err)?;
    for row in indexes {
        let Some(t) = out.get_mut(&row.table_name) else {
            continue;
        };
        let (_, index) =
            read_create_index(&row.definition, Lexicon::STANDARD).map_err(|message| {
                Error::Database {
                    context: "cannot read an index from pg_catalog".into(),
                    source: message.into(),
                }
            })?;
        t.indexes.push(index);
    }
    let rows = diesel::sql_query(OBJECTS).load(conn).map_err(&err)?;
    let labels: Vec<EnumLabel> = diesel::sql_query(ENUMS).load(conn).map_err(&err)?;
    let mut enums: std::collections::BTreeMap<String, retort_schema::EnumType> = Default::default();
    for l in labels {
        enums.entry(l.name).or_default().values.push(l.value);
    }
    let mut schema = Schema {
        tables: out,
        objects: objects_from(rows),
        enums,
    };
    schema.normalize();
    Ok(schema)
}

/// The declared kinds of object in the current schema, leaving out what an extension or a
/// column (a serial or identity sequence) owns.
const OBJECTS: &str = "
    SELECT 'extension' AS kind, e.extname::text AS name, NULL::text AS tbl, NULL::text AS definition FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE n.nspname = current_schema() AND e.extname <> 'plpgsql'
    UNION ALL
    SELECT CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' ELSE 'materialized_view' END, c.relname::text, NULL, CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind IN ('S', 'v', 'm') AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i', 'e'))
    UNION ALL
    SELECT 'function', p.proname::text, NULL, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
    UNION ALL
    SELECT 'type', t.typname::text, NULL, NULL FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = current_schema() AND (t.typtype = 'e' OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c'))) AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
    UNION ALL
    SELECT 'index', ci.relname::text, c.relname::text, NULL FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'm'
    UNION ALL
    SELECT 'trigger', t.tgname::text, c.relname::text, NULL FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND NOT t.tgisinternal";

fn deferral(deferrable: bool, deferred: bool) -> Deferral {
    match (deferrable, deferred) {
        (false, _) => Deferral::Immediate,
        (true, false) => Deferral::DeferrableImmediate,
        (true, true) => Deferral::Deferred,
    }
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
