//! The migrate loop: plan, take the lock, apply a batch, record it, and again until the
//! target is reached.

use std::collections::BTreeSet;
use std::time::Instant;

use super::integrity::IntegrityScope;
use super::{Direction, LastApplied, Runner, TransactionMode};
use crate::backend::{versions, AppliedRow, KeptLock, RowState};
use crate::error::{Error, Result};
use crate::graph::plan::{describe_at, names_the_head, plan_downgrade, plan_upgrade};
use crate::graph::Graph;
use retort_schema::Schema;

impl<'g> Runner<'g> {
    /// The loop both directions share. Inside the lock: read and check the version table,
    /// plan (once), then apply one batch per transaction — everything in `All` mode, one
    /// migration in `PerMigration` mode.
    ///
    /// Between two transactions of `PerMigration` mode another runner may have moved the
    /// database. The next transaction re-checks, under the lock, only the rows its migration
    /// depends on (it, and its parents or children): O(1) per step instead of re-reading
    /// every row. When they are not as this run left them, everything is read and checked
    /// again, so a concurrent runner's work is never repeated.
    pub(super) fn migrate(&mut self, direction: Direction, target: &str) -> Result<Vec<String>> {
        let up = direction == Direction::Up;
        self.refuse_read_only(if up { "upgrade" } else { "downgrade" })?;
        if up && self.at_head_without_lock(target)? {
            return Ok(Vec::new());
        }
        if !self.ddl_lock_set {
            self.backend
                .set_statement_lock_timeout(self.options.ddl_lock_timeout)?;
            self.ddl_lock_set = true;
        }
        // Tries of the current batch that gave up waiting for a lock (in a transaction).
        let mut gave_up = 0;
        let mut done = Vec::new();
        let mut planned: Option<Vec<String>> = None;
        // What this run knows while it holds (or re-takes) the lock.
        let mut known: Option<Known> = None;
        // The lock is still this run's from the last batch (a session lock that outlives the
        // commit): nobody else can have moved the database, so nothing is checked again.
        let mut holding = false;
        // The lock passed to a keeper after a commit: another runner may have had it.
        let mut recheck = false;
        loop {
            let (held, moved) = (std::mem::take(&mut holding), std::mem::take(&mut recheck));
            self.resume(&mut known, held, moved, direction)?;
            let mut k = match known.take() {
                Some(k) => k,
                None => match self.plan(&mut planned, direction, target) {
                    Ok(k) => k,
                    Err(e) => return self.abort(e),
                },
            };
            if k.todo.is_empty() {
                self.leave()?;
                self.last_applied = LastApplied::Set(k.applied);
                return Ok(done);
            }
            if up && done.is_empty() && self.options.backup {
                self.back_up()?;
            }
            let (take, outside) = self.batch_size(&k);
            if outside && !self.step_outside(&k, direction)? {
                continue;
            }
            let batch: Vec<String> = k.todo.drain(..take).collect();
            // The schema at the applied set: replayed once per run, then carried along.
            let mut schema = match k.schema.take() {
                Some(s) => s,
                None => match self.graph.schema_at(&k.applied) {
                    Ok(s) => s,
                    Err(e) => return self.abort(e),
                },
            };
            self.position = (done.len(), done.len() + batch.len() + k.todo.len());
            let scope = match self.apply_batch(direction, &batch, &mut schema, &k.applied, outside)
            {
                Ok(scope) => scope,
                // In a transaction, a statement that gave up waiting for a lock ended it: the
                // batch is rolled back and tried again after a pause, with nothing held.
                Err(e @ Error::LockWait { .. })
                    if self.backend.capabilities().transactional_ddl && !outside =>
                {
                    self.roll_back();
                    self.after_lock_wait(e, &mut gave_up)?;
                    continue;
                }
                Err(e) => return self.abort(e),
            };
            gave_up = 0;
            if let Err(e) = self.check_before_commit(&scope, &schema, &batch, &k.applied) {
                return self.abort(e);
            }
            (holding, recheck) = self.finish_batch(outside, k.todo.len())?;
            self.record_done(direction, &batch, &mut k.applied);
            done.extend(batch);
            // Nothing left: the lock need not be taken again to find that out.
            if k.todo.is_empty() {
                self.last_applied = LastApplied::Set(k.applied);
                return Ok(done);
            }
            k.schema = Some(schema);
            known = Some(k);
        }
    }

    /// Begins the next batch's transaction: with the lock still this run's (`held`),
    /// re-reading the rows the batch depends on when it passed through a keeper's hands
    /// (`moved`; `known` is dropped when they changed); else by taking the lock again.
    fn resume(
        &mut self,
        known: &mut Option<Known>,
        held: bool,
        moved: bool,
        direction: Direction,
    ) -> Result<()> {
        if !held {
            return self.relock(known, direction);
        }
        if let Err(e) = self.backend.begin() {
            return self.abort(e);
        }
        if let (true, Some(k)) = (moved, known.as_ref()) {
            match self.still_as_left(k, direction) {
                Ok(true) => {}
                Ok(false) => *known = None,
                Err(e) => return self.abort(e),
            }
        }
        Ok(())
    }

    /// The backup asked for (`Options::backup`), before an upgrade's first migration.
    fn back_up(&mut self) -> Result<()> {
        match self.backend.backup(self.options.backup_dir.as_deref()) {
            Ok(Some(b)) => {
                (self.log)(&format!(
                    "backed up the database to {}; to restore it: {}",
                    b.path.display(),
                    b.restore
                ));
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) => self.abort(e),
        }
    }

    /// Ends the transaction the checks ran in, keeping the lock, for a batch that runs
    /// outside one. `false` when the lock passed hands and the database moved meanwhile:
    /// the lock is let go and the loop reads everything again.
    fn step_outside(&mut self, k: &Known, direction: Direction) -> Result<bool> {
        // The transaction that took the lock commits here: what waits for a commit (a
        // fresh database's version table) goes with it.
        if let Err(e) = self.write_pending_now() {
            return self.abort(e);
        }
        let still = match self.backend.hold_lock_outside_transaction() {
            Ok(false) => Ok(true),
            Ok(true) => self.still_as_left(k, direction),
            Err(e) => Err(e),
        };
        match still {
            Ok(true) => Ok(true),
            Ok(false) => {
                self.backend.unlock()?;
                Ok(false)
            }
            Err(e) => self.abort(e),
        }
    }

    /// Commits a batch (or, for one run outside a transaction, lets the lock go), with
    /// `left` migrations still to run: whether the lock is still this run's afterwards,
    /// and whether it passed through other hands on the way (so the rows are re-read).
    fn finish_batch(&mut self, outside: bool, left: usize) -> Result<(bool, bool)> {
        if outside {
            self.backend.unlock()?;
            return Ok((false, false));
        }
        self.commit_keeping_lock()?;
        match self.backend.keep_lock_after_commit(left) {
            Ok(KeptLock::Kept) => Ok((true, false)),
            Ok(KeptLock::Regained) => Ok((true, true)),
            Ok(_) => {
                self.backend.unlock()?;
                Ok((false, false))
            }
            Err(e) => self.abort(e),
        }
    }

    /// Takes the lock (again) and begins a transaction. With what the run knows, the rows
    /// the next migration depends on are checked as the lock is taken (one round trip on
    /// PostgreSQL); when they moved, `known` is dropped and everything is read again.
    fn relock(&mut self, known: &mut Option<Known>, direction: Direction) -> Result<()> {
        let entered = match known.as_ref().and_then(|k| self.as_left(k, direction)) {
            Some(expect) => Some(
                self.backend
                    .enter_expecting(self.options.lock_timeout, &expect)?,
            ),
            None => None,
        };
        match entered {
            Some(true) => {
                if let Some(notice) = self.backend.lock_notice() {
                    (self.log)(&notice);
                }
            }
            Some(false) => {
                *known = None;
                self.enter()?;
            }
            None => {
                self.enter()?;
                if let Some(k) = known.as_ref() {
                    match self.still_as_left(k, direction) {
                        Ok(true) => {}
                        Ok(false) => *known = None,
                        Err(e) => return self.abort(e),
                    }
                }
            }
        }
        Ok(())
    }

    /// Under the lock: the version rows read and checked, the path planned (once per run)
    /// and what of it is left to do.
    fn plan(
        &mut self,
        planned: &mut Option<Vec<String>>,
        direction: Direction,
        target: &str,
    ) -> Result<Known> {
        let graph = self.graph;
        let up = direction == Direction::Up;
        let applied = self.prepare(up)?;
        // At head already (every revision applied, one head): nothing to plan, and no need
        // to work out the graph's links.
        let at_head = up && applied.len() == graph.len() && names_the_head(graph, target);
        if planned.is_none() && at_head {
            *planned = Some(Vec::new());
        }
        if planned.is_none() {
            *planned = Some(match direction {
                Direction::Up => plan_upgrade(graph, &applied, target)?,
                Direction::Down => plan_downgrade(graph, &applied, target)?,
            });
        }
        let todo = planned
            .iter()
            .flatten()
            .filter(|r| applied.contains(*r) != up)
            .cloned()
            .collect();
        Ok(Known {
            applied,
            todo,
            schema: None,
        })
    }

    /// How many of the next revisions go in this batch, and whether it runs outside a
    /// transaction. A migration that says `atomic: false` runs alone, outside the
    /// transaction, where the lock does not depend on one (PostgreSQL); the others are
    /// batched around it.
    fn batch_size(&self, k: &Known) -> (usize, bool) {
        let mut take = match self.options.transaction {
            TransactionMode::All => k.todo.len(),
            TransactionMode::PerMigration => 1,
        };
        if !self.runs_outside_possible() {
            return (take, false);
        }
        let atomic = |id: &String| self.graph.get(id).is_none_or(|m| m.atomic());
        // Only the batch's own revisions are looked at: a plan of N is not walked N times.
        match k.todo.iter().take(take).position(|id| !atomic(id)) {
            Some(0) => return (1, true),
            Some(n) => take = take.min(n),
            None => {}
        }
        (take, false)
    }

    /// After a batch's statement gave up waiting for a lock (the batch rolled back): a pause
    /// and another try while retries are left (`Ok`), else the error naming who is in the way.
    fn after_lock_wait(&mut self, error: Error, gave_up: &mut u32) -> Result<()> {
        let Error::LockWait {
            revision,
            statement,
            waited,
            outcome,
            ..
        } = error
        else {
            return Err(error);
        };
        if *gave_up < self.options.ddl_lock_retries {
            let _ = self.backend.unlock();
            *gave_up += 1;
            let pause = self.options.lock_retry_pause(*gave_up);
            (self.log)(&format!(
                "{revision}: `{statement}` waited {} s for a lock other sessions hold, and gave up; nothing was kept. Trying again in {} s (retry {} of {})",
                crate::seconds::fixed(waited, 1),
                crate::seconds::fixed(pause, 1),
                gave_up,
                self.options.ddl_lock_retries
            ));
            std::thread::sleep(pause);
            return Ok(());
        }
        let blockers = self.backend.lock_blockers();
        let _ = self.backend.unlock();
        Err(Error::LockWait {
            revision,
            statement,
            waited,
            tries: *gave_up + 1,
            blockers,
            outcome,
        })
    }

    /// Where foreign keys are not enforced while a migration runs (SQLite), the rows the
    /// batch could have orphaned are checked before commit.
    fn check_before_commit(
        &mut self,
        scope: &IntegrityScope,
        schema: &Schema,
        batch: &[String],
        applied: &BTreeSet<String>,
    ) -> Result<()> {
        if !self.backend.capabilities().deferred_foreign_keys {
            return Ok(());
        }
        self.backend
            .check_integrity(scope.tables(schema).as_deref())
            .map_err(|message| Error::MigrationFailed {
                revision: batch.join(", "),
                at: describe_at(self.graph, applied).into(),
                operation: "foreign keys checked before commit\nfix: rows reference parent rows that do not exist (a new foreign key over old rows, or a rebuilt parent); delete or correct them in an execute(…) before the operation that adds the key".into(),
                statement: "(the foreign-key check before commit)".into(),
                message: message.into(),
                source: None,
            })
    }

    /// Logs a committed batch and advances the applied set past it.
    fn record_done(
        &mut self,
        direction: Direction,
        batch: &[String],
        applied: &mut BTreeSet<String>,
    ) {
        let up = direction == Direction::Up;
        for id in batch {
            let message = self.graph.get(id).map(|r| r.message()).unwrap_or_default();
            let verb = if up { "applied" } else { "reverted" };
            (self.log)(&format!("{verb} {id} ({message})"));
            if up {
                applied.insert(id.clone());
            } else {
                applied.remove(id);
            }
        }
    }

    /// The common start-up case, read without taking the lock: every revision is applied
    /// (and checked), so an upgrade to head has nothing to do. A consistent read that shows
    /// the head needs no lock: nothing would be written. Anything else (no version table, a
    /// pending migration) goes the locked way.
    pub(super) fn at_head_without_lock(&mut self, target: &str) -> Result<bool> {
        let graph = self.graph;
        if !names_the_head(graph, target) {
            return Ok(false);
        }
        let rows = self.backend.applied()?;
        if rows.len() != graph.len()
            || rows
                .iter()
                .any(|r| graph.replaced_by(&r.revision).is_some())
        {
            return Ok(false);
        }
        // A migration in progress (a `dirty` row, visible without a transaction on MySQL) may
        // be another process's, still running: only under the lock does it mean one stopped.
        if rows.iter().any(|r| r.row_state().is_interrupted()) {
            return Ok(false);
        }
        // Rows are distinct (the revision is the key), so as many known rows as revisions
        // means every revision.
        self.verify_rows(&rows)?;
        self.last_applied = LastApplied::Everything;
        Ok(true)
    }

    /// The condition on the version table that says the rows the next migration depends on
    /// are as this run left them (see [`Runner::still_as_left`]), written only when a backend
    /// reads it (SQLite knows without reading whether anybody else wrote); `None` where that
    /// takes more than keyed lookups (an interrupted migration's row) or the revision is
    /// unknown.
    pub(super) fn as_left<'k>(
        &self,
        known: &'k Known,
        direction: Direction,
    ) -> Option<impl Fn() -> String + 'k>
    where
        'g: 'k,
    {
        let next = known.todo.front()?;
        if self.resume_point(next).is_some() {
            return None;
        }
        let graph: &'g Graph = self.graph;
        let rev = graph.get(next)?;
        let dialect = self.backend.dialect();
        Some(move || match direction {
            Direction::Up => {
                let parents: Vec<&str> = rev.parents().collect();
                versions::rows_are(&parents, &[next], dialect)
            }
            Direction::Down => versions::rows_are(&[next], &graph.children(next), dialect),
        })
    }

    /// How many statements of `revision` had run when it stopped, if this run finishes it.
    fn resume_point(&self, revision: &str) -> Option<usize> {
        self.resuming
            .iter()
            .find(|(id, _)| id == revision)
            .map(|&(_, done)| done)
    }

    /// [`resume_point`](Self::resume_point), taken: the run is finishing that migration now.
    pub(super) fn take_resume_point(&mut self, revision: &str) -> Option<usize> {
        let at = self.resuming.iter().position(|(id, _)| id == revision)?;
        Some(self.resuming.swap_remove(at).1)
    }

    /// Under the lock: whether the rows the next migration depends on are as this run left
    /// them — for an upgrade, it is not applied and its parents are; for a downgrade, it is
    /// applied and its children are not. A handful of keyed lookups, whatever the history.
    pub(super) fn still_as_left(&mut self, known: &Known, direction: Direction) -> Result<bool> {
        let Some(next) = known.todo.front() else {
            return Ok(true);
        };
        let Some(rev) = self.graph.get(next) else {
            return Ok(false);
        };
        let up = direction == Direction::Up;
        if let Some(resume_at) = self.resume_point(next) {
            // Its row is the interrupted one: read it all again if it moved.
            let rows = self.backend.applied()?;
            let same = rows
                .iter()
                .find(|r| r.revision == *next)
                .and_then(|r| r.row_state().interrupted().map(|s| s.done))
                == Some(resume_at);
            if !same {
                return Ok(false);
            }
        } else if self.backend.is_applied(next)? == up {
            return Ok(false);
        }
        let (neighbours, want): (Vec<&str>, bool) = if up {
            (rev.parents().collect(), true)
        } else {
            (self.graph.children(next), false)
        };
        for n in neighbours {
            if self.backend.is_applied(n)? != want {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Runs the batch's operations and writes the version table, inside the transaction;
    /// `schema` is advanced past them. Returns which rows the foreign-key check must cover.
    pub(super) fn apply_batch(
        &mut self,
        direction: Direction,
        batch: &[String],
        schema: &mut Schema,
        applied: &BTreeSet<String>,
        outside: bool,
    ) -> Result<IntegrityScope> {
        let graph = self.graph;
        let mut scope = IntegrityScope::default();
        let mut rows = Vec::with_capacity(batch.len());
        let transactional = self.backend.capabilities().transactional_ddl && !outside;
        for id in batch {
            let rev = graph
                .get(id)
                .ok_or_else(|| Error::NoSuchRevision(id.clone()))?;
            self.position.0 += 1;
            if self.progress.is_some() {
                let verb = match direction {
                    Direction::Up => "upgrading",
                    Direction::Down => "downgrading",
                };
                let (at, of) = self.position;
                self.place = format!("{verb} {at}/{of}: {id}");
                let line = format!("{} ({})", self.place, rev.message());
                self.report(&line);
            }
            let started = Instant::now();
            let ops = match direction {
                Direction::Up => rev.up(),
                Direction::Down => rev.down(),
            };
            scope.add(&ops, schema);
            let progress = (!transactional).then_some(direction);
            self.run_ops(rev, &ops, schema, applied, progress)?;
            rows.push((rev, started.elapsed().as_millis() as i64));
        }
        if !transactional {
            // Each migration's row was written as it went.
            return Ok(scope);
        }
        // The version rows go in after the batch's DDL, in the same transaction, in one
        // statement sent with the commit.
        let dialect = self.backend.dialect();
        let writes = match direction {
            Direction::Up => {
                let rows: Vec<AppliedRow> = rows
                    .into_iter()
                    .map(|(rev, ms)| AppliedRow::for_revision(rev, RowState::Applied, ms))
                    .collect();
                versions::insert_many(&rows, dialect)
            }
            Direction::Down => {
                let ids: Vec<&str> = rows.iter().map(|(rev, _)| rev.id()).collect();
                versions::delete_many(&ids, dialect)
            }
        };
        self.write_at_commit(writes);
        Ok(scope)
    }
}

/// What a `PerMigration` run carries from one transaction to the next.
pub(super) struct Known {
    applied: BTreeSet<String>,
    todo: std::collections::VecDeque<String>,
    /// The schema at `applied`, once replayed.
    schema: Option<Schema>,
}
