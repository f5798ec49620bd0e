//! The keeper: a second connection whose open transaction holds the migration lock while
//! statements run outside a transaction (`atomic: false`), or through the rest of a long
//! run, so the lock is not let go and taken again at every commit.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;

use super::{poll_lock, try_lock, PostgresBackend};
use crate::backend::{db_err, KeptLock};
use crate::error::{Error, Result};

/// How many batches must be left after a commit for a run to hand the lock to a keeper:
/// a second connection (made in the background, but a server process and an
/// authentication all the same) is worth it only where taking the lock and checking the
/// version rows again would cost more over the migrations left.
const KEEPER_AFTER: usize = 32;

/// How often a keeper that holds the lock is asked whether it is still there (before a
/// statement, at most this often).
const KEEPER_HEARTBEAT: Duration = Duration::from_secs(1);

/// A second connection to the server, set up as the first (its schema keys the lock).
fn connect_keeper(
    target: &str,
    setup: &str,
) -> std::result::Result<PgConnection, Box<dyn std::error::Error + Send + Sync>> {
    let mut keeper = <PgConnection as diesel::Connection>::establish(target)?;
    keeper.batch_execute(setup)?;
    Ok(keeper)
}

impl PostgresBackend {
    /// Takes the lock on a second connection (the keeper) and leaves its transaction open,
    /// idle, for as long as this run needs the lock (`why` says what for).
    pub(super) fn take_keeper(&mut self, why: &str) -> Result<()> {
        let keeper = connect_keeper(&self.target, &self.setup).map_err(|e| Error::Database {
            context: format!("cannot open a second connection to hold the migration lock {why}"),
            source: e,
        })?;
        self.hold_with(keeper)
    }

    /// `keeper` takes the lock (waiting as long as a lock may) and holds it, idle in its
    /// open transaction.
    fn hold_with(&mut self, mut keeper: PgConnection) -> Result<()> {
        if !poll_lock(&mut keeper, &try_lock(), self.lock_timeout)? {
            return Err(Error::LockTimeout {
                waited: self.lock_timeout,
                holder: self.lock_holder(),
            });
        }
        // The lock query's portal (extended protocol) would keep its snapshot while the
        // transaction idles, and `CREATE INDEX CONCURRENTLY` waits for every older snapshot:
        // a simple query drops the portal. An idle-in-transaction timeout would end the
        // keeper (and the lock) while it waits on purpose: off, for this transaction only.
        keeper
            .batch_execute("SET LOCAL idle_in_transaction_session_timeout = 0")
            .map_err(db_err("cannot hold the migration lock"))?;
        self.keeper = Some(keeper);
        self.keeper_seen = Instant::now();
        Ok(())
    }

    /// After a commit with `left` batches to go: whether the lock is still this run's (a
    /// keeper holds it), was taken over by a keeper that just connected, or was let go.
    pub(super) fn keep_after_commit(&mut self, left: usize) -> Result<KeptLock> {
        if left == 0 {
            return Ok(KeptLock::Released);
        }
        if self.keeper.is_some() {
            return Ok(KeptLock::Kept);
        }
        if left < KEEPER_AFTER && self.keeper_coming.is_none() {
            return Ok(KeptLock::Released);
        }
        // The keeper connects in the background while the run goes on taking the lock per
        // migration; at the first commit after it is ready, it takes the lock over. One
        // that cannot connect changes nothing: the run goes on as it was.
        match self.keeper_coming.take() {
            None if !self.keeper_tried => {
                self.keeper_tried = true;
                let (target, setup) = (self.target.clone(), self.setup.clone());
                self.keeper_coming = Some(std::thread::spawn(move || {
                    connect_keeper(&target, &setup).ok()
                }));
                Ok(KeptLock::Released)
            }
            Some(coming) if !coming.is_finished() => {
                self.keeper_coming = Some(coming);
                Ok(KeptLock::Released)
            }
            Some(coming) => match coming.join().ok().flatten() {
                Some(keeper) => {
                    self.hold_with(keeper)?;
                    Ok(KeptLock::Regained)
                }
                None => Ok(KeptLock::Released),
            },
            None => Ok(KeptLock::Released),
        }
    }

    /// Before a statement, at most every [`KEEPER_HEARTBEAT`]: whether the keeper (if
    /// any) is still there.
    pub(super) fn keeper_alive(&mut self) -> Result<()> {
        let Some(keeper) = self.keeper.as_mut() else {
            return Ok(());
        };
        if self.keeper_seen.elapsed() < KEEPER_HEARTBEAT {
            return Ok(());
        }
        keeper.batch_execute("SELECT 1").map_err(|e| Error::Database {
            context: "the connection holding the migration lock ended (the server or a pooler closed it), so the lock may be another process's now and this run stopped before its next statement. Check `db current` before running again".into(),
            source: Box::new(e),
        })?;
        self.keeper_seen = Instant::now();
        Ok(())
    }
}
