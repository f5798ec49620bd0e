//! MySQL / MariaDB: DDL commits implicitly, so there is no transaction around a migration;
//! the runner records progress per statement instead (a migration that stops half-way
//! leaves a `dirty K/N` row, and the next run refuses until it is resolved). The lock is
//! `GET_LOCK` with the timeout, except on a Galera cluster, where `GET_LOCK` is one node's
//! and the lock is a replicated row instead ([`super::galera`]); introspection reads `information_schema`, with MariaDB's
//! spellings normalised (`int(11)`, quoted defaults, `current_timestamp()`, JSON as
//! `longtext` with a `json_valid` check, `RESTRICT` for an unspecified action).

use std::collections::BTreeMap;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};

mod introspect;

use self::introspect::introspect;
use super::galera::{self, ClusterLock};
use super::{db_err, versions, AppliedRow, Backend, Capabilities, RowState};
use crate::error::{Error, Result};
use crate::migration::Connection;
use crate::url::DatabaseUrl;
use retort_schema::model::renamed_create;
use retort_schema::naming::VERSION_TABLE;
use retort_schema::sql::{literal, Dialect};
use retort_schema::{ObjectKind, Schema};

/// The session every migration runs in: a value that does not fit is an error, not a
/// silent truncation; times are UTC.
const SESSION: &str = "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,ERROR_FOR_DIVISION_BY_ZERO,NO_ZERO_DATE,NO_ZERO_IN_DATE'; SET time_zone = '+00:00'; SET NAMES utf8mb4";

/// The lock's name: one per database.
const LOCK: &str = "CONCAT('retort:', DATABASE())";

/// The statements of the online forms on MySQL/MariaDB (`ALGORITHM=INPLACE, LOCK=NONE`, as
/// `retort_schema::sql::mysql` writes them), which an interrupted run finishes: each is one
/// `ALTER` that InnoDB makes whole or not at all, so after a kill it either is there or can
/// run again.
#[derive(Debug, PartialEq)]
enum InPlace {
    /// `CREATE [UNIQUE] INDEX n ON t … ALGORITHM=INPLACE LOCK=NONE`, or `ALTER TABLE t ADD
    /// CONSTRAINT n UNIQUE (…), ALGORITHM=INPLACE, LOCK=NONE`: done when the index `n` is on `t`.
    AddIndex {
        /// The table.
        table: String,
        /// The index's (or unique key's) name.
        name: String,
    },
    /// `ALTER TABLE t MODIFY COLUMN …` (the column's whole definition) or `ALTER TABLE t
    /// ALTER COLUMN c SET DEFAULT …`: a second run changes nothing more than the first.
    Again,
}

/// Reads a statement an interrupted run can finish, token by token; `None` for any other.
fn in_place(statement: &str) -> Option<InPlace> {
    use retort_schema::expr::lex::{lex, Lexicon, Token};
    let tokens: Vec<Token> = lex(statement, Lexicon::MYSQL)
        .into_iter()
        .map(|s| s.token)
        .filter(|t| !matches!(t, Token::Punct(p) if p == ";"))
        .collect();
    let is =
        |t: Option<&Token>, w: &str| matches!(t, Some(Token::Word(x)) if x.eq_ignore_ascii_case(w));
    let name = |t: Option<&Token>| match t {
        Some(Token::Word(x) | Token::QuotedIdent(x)) => Some(x.clone()),
        _ => None,
    };
    // The clauses of the statement, split at the commas outside parentheses.
    let mut clauses: Vec<&[Token]> = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, t) in tokens.iter().enumerate() {
        match t {
            Token::Punct(p) if p == "(" => depth += 1,
            Token::Punct(p) if p == ")" => depth -= 1,
            Token::Punct(p) if p == "," && depth == 0 => {
                clauses.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    clauses.push(&tokens[start..]);
    // `ALGORITHM=INPLACE` and `LOCK=NONE` (written together, or as their own clauses).
    let online = {
        let words: Vec<String> = tokens
            .iter()
            .filter_map(|t| match t {
                Token::Word(w) => Some(w.to_ascii_uppercase()),
                _ => None,
            })
            .collect();
        words.ends_with(&["ALGORITHM", "INPLACE", "LOCK", "NONE"].map(String::from))
    };
    let head = clauses[0];
    if is(head.first(), "CREATE") {
        // `CREATE [UNIQUE] INDEX n ON t (…) ALGORITHM=INPLACE LOCK=NONE`.
        let at = if is(head.get(1), "UNIQUE") { 2 } else { 1 };
        if !(online && is(head.get(at), "INDEX") && is(head.get(at + 2), "ON")) {
            return None;
        }
        return Some(InPlace::AddIndex {
            name: name(head.get(at + 1))?,
            table: name(head.get(at + 3))?,
        });
    }
    if !(is(head.first(), "ALTER") && is(head.get(1), "TABLE")) {
        return None;
    }
    let table = name(head.get(2))?;
    let options = |c: &[Token]| is(c.first(), "ALGORITHM") || is(c.first(), "LOCK");
    let mut changes = std::iter::once(&head[3..]).chain(clauses[1..].iter().copied());
    let change = changes.next()?;
    if !changes.all(options) {
        return None;
    }
    // `MODIFY COLUMN …` states the column's whole definition, and `ALTER COLUMN c SET
    // DEFAULT …` its default (before a backfill): a second run changes nothing more.
    if (is(change.first(), "MODIFY") && is(change.get(1), "COLUMN"))
        || (is(change.first(), "ALTER")
            && is(change.get(1), "COLUMN")
            && (is(change.get(3), "SET") || is(change.get(3), "DROP"))
            && is(change.get(4), "DEFAULT"))
    {
        return Some(InPlace::Again);
    }
    if online
        && is(change.first(), "ADD")
        && is(change.get(1), "CONSTRAINT")
        && is(change.get(3), "UNIQUE")
    {
        return Some(InPlace::AddIndex {
            table,
            name: name(change.get(2))?,
        });
    }
    None
}

pub(crate) struct MysqlBackend {
    conn: Connection,
    mariadb: bool,
    locked: bool,
    /// The replicated lock, on a Galera node.
    cluster: Option<ClusterLock>,
    /// The last migration's `applied` row update, not written yet: it goes with the next
    /// migration's first row, in one transaction (one commit instead of two), or before
    /// anything else reads or writes the version table or the lock is let go.
    finished: Option<String>,
    /// The URL, for the dump tool.
    url: String,
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

impl MysqlBackend {
    pub(crate) fn connect(url: &DatabaseUrl) -> Result<MysqlBackend> {
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
        let cluster = match galera::detect(&mut conn) {
            true => {
                ClusterLock::prepare_session(&mut conn)?;
                Some(ClusterLock::new(target, galera::stale_after_from_env()?))
            }
            false => None,
        };
        let mut conn = Connection::Mysql(conn);
        let version = super::first_text(&mut conn, "SELECT VERSION() AS v")
            .map_err(db_err("cannot read the server version"))?;
        let mariadb = version
            .flatten()
            .is_some_and(|v| v.to_ascii_lowercase().contains("mariadb"));
        Ok(MysqlBackend {
            conn,
            mariadb,
            locked: false,
            cluster,
            finished: None,
            url: target.clone(),
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

impl MysqlBackend {
    /// Writes the last migration's `applied` update, if it waits.
    fn write_finished(&mut self) -> Result<()> {
        match self.finished.take() {
            Some(update) => self.write_versions(&update),
            None => Ok(()),
        }
    }
}

impl Backend for MysqlBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    fn backup(&mut self, dir: Option<&std::path::Path>) -> Result<Option<super::Backup>> {
        super::dump::mysql(&self.url, dir.unwrap_or(std::path::Path::new("."))).map(Some)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            transactional_ddl: false,
            deferred_foreign_keys: false,
            lock_is_transaction: false,
            lock_outlives_commit: true,
        }
    }

    fn lock(&mut self, timeout: Duration) -> Result<()> {
        if let Some(cluster) = self.cluster.as_mut() {
            return cluster.lock(my(&mut self.conn), timeout);
        }
        let got = self.number(
            &format!(
                "SELECT GET_LOCK({LOCK}, {}) AS n",
                crate::seconds::fixed(timeout, 3)
            ),
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
        let finished = self.write_finished();
        if let Some(cluster) = self.cluster.as_mut() {
            return cluster.unlock(my(&mut self.conn));
        }
        if !self.locked {
            return Ok(());
        }
        self.locked = false;
        let released = self
            .number(
                &format!("SELECT RELEASE_LOCK({LOCK}) AS n"),
                "cannot release the migration lock",
            )
            .map(drop);
        finished.and(released)
    }

    fn applied(&mut self) -> Result<Vec<AppliedRow>> {
        self.write_finished()?;
        if !self.version_table_exists()? {
            return Ok(Vec::new());
        }
        versions::load(self.connection(), &versions::select_all())
    }

    fn is_applied(&mut self, revision: &str) -> Result<bool> {
        self.write_finished()?;
        let sql = versions::select_one(revision, Dialect::Mysql);
        Ok(!versions::load(self.connection(), &sql)?.is_empty())
    }

    fn record(&mut self, row: &AppliedRow) -> Result<()> {
        let insert = versions::insert(row, Dialect::Mysql);
        let Some(update) = self.finished.take() else {
            return self.write_versions(&insert);
        };
        // The last migration's end and this one's start: one transaction. Should it fail,
        // the last migration's end is written on its own all the same.
        let both = self.write_versions(&format!("START TRANSACTION; {update}; {insert}; COMMIT"));
        if both.is_err() {
            let _ = my(&mut self.conn).batch_execute("ROLLBACK");
            self.write_versions(&update)?;
        }
        both
    }

    fn set_state(&mut self, revision: &str, state: &RowState, execution_ms: i64) -> Result<()> {
        self.write_finished()?;
        let sql =
            versions::update_state(revision, &state.to_string(), execution_ms, Dialect::Mysql);
        if *state == RowState::Applied {
            // Written with the next migration's first row, or before anything else.
            self.finished = Some(sql);
            return Ok(());
        }
        self.write_versions(&sql)
    }

    fn forget(&mut self, revision: &str) -> Result<()> {
        self.write_finished()?;
        self.write_versions(&versions::delete_one(revision, Dialect::Mysql))
    }

    fn forget_all(&mut self) -> Result<()> {
        self.write_finished()?;
        self.write_versions(&versions::delete_all())
    }

    fn lock_notice(&mut self) -> Option<String> {
        self.cluster.as_mut().and_then(ClusterLock::take_notice)
    }

    fn still_locked(&mut self) -> Result<()> {
        match &self.cluster {
            Some(cluster) => cluster.still_held(),
            None => Ok(()),
        }
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
        crate::error::introspection("reading the live schema")?;
        let mariadb = self.mariadb;
        introspect(self.c(), mariadb)
    }

    fn has_tables(&mut self) -> Result<bool> {
        let n = self.number(
            &format!("SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME NOT IN ('{VERSION_TABLE}', '{}')", retort_schema::naming::LOCK_TABLE),
            "cannot read information_schema",
        )?;
        Ok(n.unwrap_or(0) > 0)
    }

    fn read_only(&mut self) -> Result<Option<String>> {
        // Refused whatever this user's privileges: a read-only server is a replica, and a
        // migration belongs on its primary even where the user could write past the flag.
        let sql = "SELECT CASE WHEN @@read_only = 1 THEN 'read-only (read_only = ON): a replica' WHEN @@tx_read_only = 1 THEN 'read-only (transactions are read-only by default)' END AS v";
        super::first_text(&mut self.conn, sql)
            .map(Option::flatten)
            .map_err(db_err("cannot tell whether the server takes writes"))
    }

    fn set_statement_lock_timeout(&mut self, timeout: Option<Duration>) -> Result<()> {
        let Some(t) = timeout else {
            return Ok(());
        };
        // Whole seconds, at least one: metadata locks (DDL) and row locks (data steps).
        let secs = t.as_secs() + u64::from(t.subsec_nanos() > 0);
        self.c()
            .batch_execute(&format!(
                "SET SESSION lock_wait_timeout = {secs}, innodb_lock_wait_timeout = {secs}"
            ))
            .map_err(db_err("cannot set lock_wait_timeout"))
    }

    fn gave_up_waiting(&self, message: &str) -> bool {
        message.contains("Lock wait timeout exceeded")
    }

    fn resumable(&self, statement: &str) -> bool {
        in_place(statement).is_some()
    }

    fn already_done(&mut self, statement: &str) -> bool {
        let Some(InPlace::AddIndex { table, name }) = in_place(statement) else {
            return false;
        };
        let sql = format!(
            "SELECT COUNT(*) AS n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = {} AND INDEX_NAME = {}",
            literal(&table, Dialect::Mysql),
            literal(&name, Dialect::Mysql)
        );
        self.number(&sql, "cannot read the indexes").ok().flatten() > Some(0)
    }

    fn lock_blockers(&mut self) -> String {
        // Open InnoDB transactions (PROCESS privilege); else the sessions on this database
        // the user can see.
        let with_transactions = "SELECT GROUP_CONCAT(CONCAT('session ', p.ID, ' (', p.USER, ', ', IF(p.COMMAND = 'Sleep', 'idle', p.COMMAND), ', transaction open ', TIMESTAMPDIFF(SECOND, t.trx_started, NOW()), ' s)', IFNULL(CONCAT(': ', LEFT(p.INFO, 200)), '')) ORDER BY t.trx_started SEPARATOR '; ') AS v FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id WHERE p.ID <> CONNECTION_ID()";
        let sessions = "SELECT GROUP_CONCAT(CONCAT('session ', ID, ' (', USER, ', ', IF(COMMAND = 'Sleep', 'idle', COMMAND), ' for ', TIME, ' s)', IFNULL(CONCAT(': ', LEFT(INFO, 200)), '')) SEPARATOR '; ') AS v FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND DB = DATABASE()";
        match super::first_text(&mut self.conn, with_transactions) {
            Ok(Some(Some(found))) => found,
            _ => super::holder(
                &mut self.conn,
                sessions,
                "none this user can see (seeing other users' transactions needs the PROCESS privilege)",
            ),
        }
    }

    /// MySQL has no temporary views and commits DDL: the probe is a real view under a name
    /// of this connection's own, dropped before and after (a failed probe leaves the view
    /// compared by name only).
    fn view_prints(&mut self, expected: &Schema) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if !crate::error::INTROSPECTION {
            return out;
        }
        // A replica takes no probe (a user with SUPER could still write one there).
        if !matches!(self.read_only(), Ok(None)) {
            return out;
        }
        let Ok(Some(id)) = self.number("SELECT CONNECTION_ID() AS n", "") else {
            return out;
        };
        let probe = format!("retort_view_probe_{id}");
        let drop = format!("DROP VIEW IF EXISTS `{probe}`");
        let read = format!(
            "SELECT {} AS v FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{probe}'",
            view_print(self.mariadb)
        );
        for o in expected.objects.values() {
            if o.kind != ObjectKind::View {
                continue;
            }
            let Some(statement) = o
                .sql_for(Dialect::Mysql)
                .and_then(|sql| renamed_create(sql, &format!("`{probe}`")))
            else {
                continue;
            };
            let printed = self
                .c()
                .batch_execute(&drop)
                .and_then(|()| self.c().batch_execute(&statement))
                .and_then(|()| super::first_text(&mut self.conn, &read));
            let _ = self.c().batch_execute(&drop);
            if let Ok(Some(Some(print))) = printed {
                out.insert(o.key(), print);
            }
        }
        out
    }

    fn catalog(&self) -> retort_schema::sql::Catalog {
        if self.mariadb {
            retort_schema::sql::Catalog::mariadb()
        } else {
            retort_schema::sql::Catalog::of(Dialect::Mysql)
        }
    }
}

/// A view as `information_schema.VIEWS` prints it: the server's rewrite of the query (names
/// qualified with the database, aliases spelled out), with the options that change what the
/// view does (check option, security, and MariaDB's algorithm). The definer is left out: it
/// names whoever ran the migration.
fn view_print(mariadb: bool) -> &'static str {
    if mariadb {
        "CONCAT(VIEW_DEFINITION, ' /* check option ', CHECK_OPTION, ', security ', SECURITY_TYPE, ', algorithm ', ALGORITHM, ' */')"
    } else {
        "CONCAT(VIEW_DEFINITION, ' /* check option ', CHECK_OPTION, ', security ', SECURITY_TYPE, ' */')"
    }
}

impl Drop for MysqlBackend {
    fn drop(&mut self) {
        let _ = self.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::{in_place, InPlace};

    #[test]
    fn the_online_statements_are_read_and_others_are_not() {
        let index = |t: &str, n: &str| {
            Some(InPlace::AddIndex {
                table: t.into(),
                name: n.into(),
            })
        };
        assert_eq!(
            in_place("CREATE INDEX `ix_t_a` ON `t` (`a`) ALGORITHM=INPLACE LOCK=NONE"),
            index("t", "ix_t_a")
        );
        assert_eq!(
            in_place("CREATE UNIQUE INDEX ix ON t (a, b) ALGORITHM=INPLACE LOCK=NONE;"),
            index("t", "ix")
        );
        assert_eq!(
            in_place("ALTER TABLE `t` ADD CONSTRAINT `uq_t_a` UNIQUE (`a`), ALGORITHM=INPLACE, LOCK=NONE"),
            index("t", "uq_t_a")
        );
        assert_eq!(
            in_place(
                "ALTER TABLE `t` MODIFY COLUMN `note` text NOT NULL, ALGORITHM=INPLACE, LOCK=NONE"
            ),
            Some(InPlace::Again)
        );
        for again in [
            "ALTER TABLE `t` MODIFY COLUMN `note` text NOT NULL",
            "ALTER TABLE `t` MODIFY COLUMN `n` decimal(10, 2) NOT NULL DEFAULT (uuid())",
            "ALTER TABLE `t` ALTER COLUMN `token` SET DEFAULT (uuid())",
            "ALTER TABLE `t` ALTER COLUMN `token` DROP DEFAULT",
        ] {
            assert_eq!(in_place(again), Some(InPlace::Again), "{again}");
        }
        for other in [
            "CREATE INDEX ix ON t (a)",
            "ALTER TABLE `t` ADD CONSTRAINT `uq_t_a` UNIQUE (`a`)",
            "ALTER TABLE `t` DROP COLUMN `x`, ALGORITHM=INPLACE, LOCK=NONE",
            "ALTER TABLE t ADD COLUMN c int, ALGORITHM=INPLACE, LOCK=SHARED",
            "ALTER TABLE `t` MODIFY COLUMN `a` int, ADD COLUMN `b` int",
            "ALTER TABLE `t` MODIFY COLUMN `a` int, DROP COLUMN `b`",
        ] {
            assert_eq!(in_place(other), None, "{other}");
        }
    }
}
