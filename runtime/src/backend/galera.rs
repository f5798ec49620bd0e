//! The migration lock on a MariaDB Galera cluster, where `GET_LOCK` is local to one node: a
//! row of a lock table, claimed by an `UPDATE` that the cluster's certification orders (of
//! two nodes claiming at once, the second's commit fails and it waits), kept alive by a
//! heartbeat from a thread of its own, and taken over when the heartbeat has stood still for
//! the stale-lock time (a holder that died: `kill -9`, a lost machine).
//!
//! Staleness is judged by the waiter's own clock on the heartbeat counter, so the nodes'
//! clocks do not matter; a read that took longer than a heartbeat (the cluster was busy
//! with a schema change, which Galera runs in total order and which holds back every other
//! commit, heartbeats too) starts the judgement again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use diesel::connection::SimpleConnection;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::db_err;
use crate::error::{Error, Result};
use retort_schema::naming::LOCK_TABLE;

/// How often the holder's heartbeat moves.
const HEARTBEAT: Duration = Duration::from_secs(1);
/// How often a waiter looks at the lock row.
const POLL: Duration = Duration::from_millis(200);
/// The stale-lock time when `RETORT_LOCK_STALE_AFTER` does not say.
pub(crate) const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(30);

/// Whether the session runs on a Galera node (`wsrep_on`); false on MySQL, which has no
/// such variable.
pub(crate) fn detect(conn: &mut MysqlConnection) -> bool {
    #[derive(QueryableByName)]
    struct On {
        #[diesel(sql_type = Nullable<BigInt>)]
        n: Option<i64>,
    }
    diesel::sql_query("SELECT CAST(@@wsrep_on AS SIGNED) AS n")
        .load::<On>(conn)
        .ok()
        .and_then(|rows| rows.into_iter().next())
        .and_then(|r| r.n)
        == Some(1)
}

/// The stale-lock time from `RETORT_LOCK_STALE_AFTER` (seconds; default 30); an unreadable
/// value is an error naming it.
pub(crate) fn stale_after_from_env() -> Result<Duration> {
    match std::env::var("RETORT_LOCK_STALE_AFTER") {
        Err(_) => Ok(DEFAULT_STALE_AFTER),
        Ok(v) => parse_stale_after(&v)
            .map_err(|problem| Error::Usage(format!("RETORT_LOCK_STALE_AFTER={v}: {problem}"))),
    }
}

fn parse_stale_after(v: &str) -> std::result::Result<Duration, String> {
    let least = 2 * HEARTBEAT.as_secs();
    match crate::seconds::parse(v.trim()) {
        Some(d) if d >= Duration::from_secs(least) && d <= Duration::from_secs(86_400) => Ok(d),
        _ => Err(format!("not a number of seconds of at least {least} (e.g. 30): how long a Galera migration lock's heartbeat may stand still before another process takes the lock over")),
    }
}

/// The lock row as a waiter sees it.
#[derive(QueryableByName, Debug, Clone, PartialEq, Eq)]
struct Row {
    #[diesel(sql_type = Nullable<Text>)]
    token: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    holder: Option<String>,
    #[diesel(sql_type = BigInt)]
    beat: i64,
}

/// A lock this process holds: its token, and the heartbeat thread.
struct Held {
    token: String,
    stop: mpsc::Sender<()>,
    beating: thread::JoinHandle<()>,
    lost: Arc<AtomicBool>,
}

/// The cluster-wide migration lock of one connection.
pub(crate) struct ClusterLock {
    /// The URL the heartbeat connects to (the same node as the migration's connection).
    target: String,
    stale_after: Duration,
    held: Option<Held>,
    notice: Option<String>,
}

/// Whether the cluster refused a commit that lost to another node's (certification), or
/// a lock wait ended: the claim is simply tried again.
fn transient(e: &diesel::result::Error) -> bool {
    let m = e.to_string();
    m.contains("Deadlock") || m.contains("deadlock") || m.contains("Lock wait timeout")
}

/// Runs `f` again while the cluster refuses it as transient (a commit that lost
/// certification to another node's), up to 50 times a poll apart.
fn retried<T>(mut f: impl FnMut() -> diesel::QueryResult<T>) -> diesel::QueryResult<T> {
    let mut attempt = 0;
    loop {
        match f() {
            Err(e) if transient(&e) && attempt < 50 => {
                attempt += 1;
                thread::sleep(POLL);
            }
            other => return other,
        }
    }
}

fn token() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{}-{nanos:x}", std::process::id())
}

impl ClusterLock {
    pub(crate) fn new(target: &str, stale_after: Duration) -> ClusterLock {
        ClusterLock {
            target: target.to_string(),
            stale_after,
            held: None,
            notice: None,
        }
    }

    /// Makes this session's reads causal (they see every commit the cluster ordered
    /// before them, whichever node made it), so the version rows read under the lock are
    /// the last holder's.
    pub(crate) fn prepare_session(conn: &mut MysqlConnection) -> Result<()> {
        conn.batch_execute("SET SESSION wsrep_sync_wait = 1")
            .map_err(db_err("cannot make this Galera session's reads causal"))
    }

    /// The lock table and its one row, made once; nodes creating them at once are fine.
    fn ensure_table(conn: &mut MysqlConnection) -> Result<()> {
        let create = format!(
            "CREATE TABLE IF NOT EXISTS {LOCK_TABLE} (id INT NOT NULL PRIMARY KEY, token VARCHAR(64) NULL, holder VARCHAR(255) NULL, beat BIGINT NOT NULL DEFAULT 0, taken_at DATETIME(6) NULL) ENGINE=InnoDB"
        );
        let row = format!("INSERT IGNORE INTO {LOCK_TABLE} (id) VALUES (1)");
        for sql in [create, row] {
            retried(|| conn.batch_execute(&sql))
                .map_err(db_err("cannot make the migration lock table"))?;
        }
        Ok(())
    }

    fn read(conn: &mut MysqlConnection) -> std::result::Result<Row, diesel::result::Error> {
        diesel::sql_query(format!(
            "SELECT token, holder, beat FROM {LOCK_TABLE} WHERE id = 1"
        ))
        .get_result(conn)
    }

    /// Claims the lock, waiting at most `timeout`; a holder whose heartbeat has stood still
    /// for the stale-lock time is taken over (and [`ClusterLock::take_notice`] says so).
    pub(crate) fn lock(&mut self, conn: &mut MysqlConnection, timeout: Duration) -> Result<()> {
        if self.held.is_some() {
            return Ok(());
        }
        Self::ensure_table(conn)?;
        let token = token();
        let me = format!("CONCAT('process {} on ', @@hostname, ', connection ', CONNECTION_ID(), ' to node ', @@wsrep_node_name)", std::process::id());
        let started = Instant::now();
        // The holder and heartbeat last seen, and since when (this process's clock).
        let mut seen: Option<(Row, Instant)> = None;
        loop {
            let asked = Instant::now();
            let row = match Self::read(conn) {
                Ok(row) => Some(row),
                Err(e) if transient(&e) => None,
                Err(e) => return Err(db_err("cannot read the migration lock")(e)),
            };
            // A slow read means the cluster was holding commits back: judge afresh.
            let slow = asked.elapsed() > HEARTBEAT;
            let mut claim = None;
            if let Some(row) = row {
                match (&row.token, &seen) {
                    (None, _) => {
                        claim = Some((format!("token IS NULL AND beat = {}", row.beat), None))
                    }
                    (Some(t), Some((before, since)))
                        if !slow && *before == row && since.elapsed() >= self.stale_after =>
                    {
                        claim = Some((
                            format!("token = '{t}' AND beat = {}", row.beat),
                            Some((row.holder.clone(), since.elapsed())),
                        ));
                    }
                    (Some(_), Some((before, _))) if !slow && *before == row => {}
                    (Some(_), _) => seen = Some((row, Instant::now())),
                }
            } else {
                seen = None;
            }
            if let Some((condition, took_over)) = claim {
                let sql = format!(
                    "UPDATE {LOCK_TABLE} SET token = '{token}', holder = {me}, beat = beat + 1, taken_at = UTC_TIMESTAMP(6) WHERE id = 1 AND {condition}"
                );
                match diesel::sql_query(sql).execute(conn) {
                    Ok(1) => {
                        if let Some((holder, still)) = took_over {
                            self.notice = Some(format!(
                                "took over the migration lock from {}: its heartbeat had stood still for {} s (RETORT_LOCK_STALE_AFTER = {} s), so its holder is taken to have died; check `db current` for a migration it left part-way",
                                holder.as_deref().unwrap_or("a process that did not say who it was"),
                                crate::seconds::fixed(still, 0),
                                crate::seconds::short(self.stale_after)
                            ));
                        }
                        self.start_heartbeat(token);
                        if let Some(tables) = keyless_tables(conn) {
                            let warning = format!("tables without a primary key: {tables}. A Galera cluster does not replicate deletes from them; give each a primary key");
                            self.notice = Some(match self.notice.take() {
                                Some(n) => format!("{n}\n{warning}"),
                                None => warning,
                            });
                        }
                        return Ok(());
                    }
                    Ok(_) => {}
                    Err(e) if transient(&e) => {}
                    Err(e) => return Err(db_err("cannot take the migration lock")(e)),
                }
            }
            let waited = started.elapsed();
            if waited >= timeout {
                return Err(Error::LockTimeout {
                    waited: timeout,
                    holder: self.describe(seen.as_ref()),
                });
            }
            thread::sleep(POLL.min(timeout - waited));
        }
    }

    fn describe(&self, seen: Option<&(Row, Instant)>) -> String {
        match seen {
            Some((row, since)) => format!(
                "{}; its heartbeat last moved {} s ago, and a lock whose heartbeat stands still for {} s (RETORT_LOCK_STALE_AFTER) is taken over",
                row.holder.as_deref().unwrap_or("a process that did not say who it was"),
                crate::seconds::fixed(since.elapsed(), 0),
                crate::seconds::fixed(self.stale_after, 0)
            ),
            None => "a process on the cluster (the lock row could not be read)".into(),
        }
    }

    fn start_heartbeat(&mut self, token: String) {
        let (stop, stopped) = mpsc::channel();
        let lost = Arc::new(AtomicBool::new(false));
        let beating = {
            let target = self.target.clone();
            let token = token.clone();
            let lost = Arc::clone(&lost);
            thread::spawn(move || heartbeat(&target, &token, &stopped, &lost))
        };
        self.held = Some(Held {
            token,
            stop,
            beating,
            lost,
        });
    }

    /// What taking the lock had to say (a takeover), once.
    pub(crate) fn take_notice(&mut self) -> Option<String> {
        self.notice.take()
    }

    /// Fails when another process has taken the lock over since this one took it.
    pub(crate) fn still_held(&self) -> Result<()> {
        match &self.held {
            Some(h) if h.lost.load(Ordering::SeqCst) => Err(self.lost()),
            _ => Ok(()),
        }
    }

    fn lost(&self) -> Error {
        Error::LockLost {
            stale_after: self.stale_after,
        }
    }

    /// Stops the heartbeat and frees the row, if this process still holds it.
    pub(crate) fn unlock(&mut self, conn: &mut MysqlConnection) -> Result<()> {
        let Some(held) = self.held.take() else {
            return Ok(());
        };
        drop(held.stop);
        let _ = held.beating.join();
        let sql = format!(
            "UPDATE {LOCK_TABLE} SET token = NULL, holder = NULL, beat = beat + 1 WHERE id = 1 AND token = '{}'",
            held.token
        );
        match retried(|| diesel::sql_query(&sql).execute(conn)) {
            Ok(1) => Ok(()),
            Ok(_) => Err(Error::LockLost {
                stale_after: self.stale_after,
            }),
            Err(e) => Err(db_err("cannot release the migration lock")(e)),
        }
    }
}

/// The database's tables that have no primary key, listed; `None` when every table has one
/// (or the catalog cannot be read: this is a warning, not a check).
fn keyless_tables(conn: &mut MysqlConnection) -> Option<String> {
    #[derive(QueryableByName)]
    struct Tables {
        #[diesel(sql_type = Nullable<Text>)]
        v: Option<String>,
    }
    let sql = "SELECT GROUP_CONCAT(t.TABLE_NAME ORDER BY t.TABLE_NAME SEPARATOR ', ') AS v FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE' AND NOT EXISTS (SELECT 1 FROM information_schema.TABLE_CONSTRAINTS c WHERE c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME AND c.CONSTRAINT_TYPE = 'PRIMARY KEY')";
    diesel::sql_query(sql)
        .get_result::<Tables>(conn)
        .ok()
        .and_then(|t| t.v)
}

/// Moves the heartbeat every [`HEARTBEAT`] until told to stop, on a connection of its own
/// (the migration's may be inside a long statement). A beat that finds the row no longer
/// this process's marks the lock lost; a beat that fails is tried again on a new connection.
fn heartbeat(target: &str, token: &str, stop: &mpsc::Receiver<()>, lost: &AtomicBool) {
    let sql = format!("UPDATE {LOCK_TABLE} SET beat = beat + 1 WHERE id = 1 AND token = '{token}'");
    let mut conn: Option<MysqlConnection> = None;
    loop {
        match stop.recv_timeout(HEARTBEAT) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        if conn.is_none() {
            conn = <MysqlConnection as diesel::Connection>::establish(target).ok();
        }
        let Some(c) = conn.as_mut() else { continue };
        match diesel::sql_query(&sql).execute(c) {
            Ok(1) => {}
            Ok(_) => {
                lost.store(true, Ordering::SeqCst);
                return;
            }
            Err(e) if transient(&e) => {}
            Err(_) => conn = None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stale_time_is_seconds_of_at_least_two_heartbeats() {
        assert_eq!(parse_stale_after("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_stale_after(" 2.5 "), Ok(Duration::from_millis(2500)));
        for bad in ["1", "soon", "-5", "inf", ""] {
            let err = parse_stale_after(bad).unwrap_err();
            assert!(err.contains("at least 2"), "{bad}: {err}");
        }
    }

    #[test]
    fn tokens_differ_between_calls() {
        let a = token();
        thread::sleep(Duration::from_millis(1));
        assert_ne!(a, token());
        assert!(a.len() < 64, "{a}");
    }
}
