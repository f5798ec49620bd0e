//! The runner: takes the lock, checks the version table against the code, plans a
//! path through the revision graph, applies it atomically and records it.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::backend::{self, versions, AppliedRow, Backend};
use crate::error::{Error, Result};
use crate::graph::{revisions_or_base, Graph, Migration};
use crate::schema::migration::ChecksumCheck;
use crate::schema::ops::Op;
use crate::schema::sql::{Dialect, Step};
use crate::schema::Schema;
use crate::tools::Tool;
use crate::url::DatabaseUrl;

mod adopt;

/// How migrations are grouped into transactions.
///
/// The default is [`TransactionMode::All`], as in Alembic: the database is either where it
/// was or at the target, so a replica starting during an upgrade never sees half of it, and a
/// failure needs no cleanup. [`TransactionMode::PerMigration`] keeps what succeeded, for long
/// upgrades that should make progress step by step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TransactionMode {
    /// The whole upgrade or downgrade in one transaction: all or nothing.
    #[default]
    All,
    /// Each migration and its version row in its own transaction.
    PerMigration,
}

/// Which way a run goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
}

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Transaction grouping.
    pub transaction: TransactionMode,
    /// How long to wait for another process holding the migration lock.
    pub lock_timeout: Duration,
    /// Copy an SQLite file aside before changing anything.
    pub backup: bool,
    /// How long one statement of a migration may wait for a lock on what it changes
    /// (PostgreSQL's `lock_timeout`; MySQL's `lock_wait_timeout` and
    /// `innodb_lock_wait_timeout`, in whole seconds there) before it gives up, so that a
    /// statement queued behind a long transaction does not hold up every other read and write
    /// of the table while it waits. `None` waits as long as the database does. SQLite waits
    /// for its write lock at the start instead (its busy timeout).
    pub ddl_lock_timeout: Option<Duration>,
    /// How many times a migration whose statement gave up waiting is tried again, pausing
    /// in between (the timeout, doubled each time, at most 30 s), before the run stops with
    /// an error that names the sessions in the way.
    pub ddl_lock_retries: u32,
    /// Take over a database that another migration tool keeps, at start-up, when it has no
    /// retort version table yet (opt-in; `RETORT_ADOPT_FROM` for [`Startup`](crate::Startup)):
    /// as [`Runner::adopt_from`] does, without the tool's migrations folder. Without it
    /// such a database is refused, naming the tool.
    pub adopt_from: Option<Tool>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            transaction: TransactionMode::All,
            lock_timeout: Duration::from_secs(60),
            backup: false,
            ddl_lock_timeout: Some(Duration::from_secs(5)),
            ddl_lock_retries: 3,
            adopt_from: None,
        }
    }
}

impl Options {
    /// The DDL lock settings from the environment over these: `RETORT_DDL_LOCK_TIMEOUT`
    /// (seconds, fractions allowed; `0` or `off` waits as long as the database does) and
    /// `RETORT_DDL_LOCK_RETRIES`. An unreadable value is an error that names it.
    ///
    /// ```
    /// let o = retort::Options::default().with_env_lock_settings().unwrap();
    /// assert!(o.ddl_lock_retries <= 100);
    /// ```
    pub fn with_env_lock_settings(mut self) -> Result<Self> {
        if let Ok(v) = std::env::var("RETORT_DDL_LOCK_TIMEOUT") {
            self.ddl_lock_timeout = parse_ddl_lock_timeout(&v).map_err(|problem| {
                Error::Usage(format!("RETORT_DDL_LOCK_TIMEOUT={v}: {problem}"))
            })?;
        }
        if let Ok(v) = std::env::var("RETORT_DDL_LOCK_RETRIES") {
            self.ddl_lock_retries = v.trim().parse().map_err(|_| {
                Error::Usage(format!(
                    "RETORT_DDL_LOCK_RETRIES={v}: not a number of retries (e.g. 3)"
                ))
            })?;
        }
        Ok(self)
    }

    /// The pause before try `n` (1 for the first retry) of a statement that gave up waiting.
    fn lock_retry_pause(&self, n: u32) -> Duration {
        let base = self.ddl_lock_timeout.unwrap_or_default();
        base.saturating_mul(1 << n.saturating_sub(1).min(16))
            .min(Duration::from_secs(30))
    }
}

/// Reads a DDL lock timeout as the CLI and the environment give it: seconds (`5`, `0.5`),
/// or `0` / `off` for none.
///
/// ```
/// use std::time::Duration;
/// use retort::runner::parse_ddl_lock_timeout;
/// assert_eq!(parse_ddl_lock_timeout("2.5"), Ok(Some(Duration::from_millis(2500))));
/// assert_eq!(parse_ddl_lock_timeout("off"), Ok(None));
/// assert!(parse_ddl_lock_timeout("soon").is_err());
/// ```
pub fn parse_ddl_lock_timeout(v: &str) -> std::result::Result<Option<Duration>, String> {
    let v = v.trim();
    if v.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    match v.parse::<f64>() {
        Ok(0.0) => Ok(None),
        Ok(s) if s.is_finite() && s > 0.0 && s <= 86_400.0 => Ok(Some(Duration::from_secs_f64(s))),
        _ => Err("not a number of seconds (e.g. 5 or 0.5; 0 or off to wait as long as the database does)".into()),
    }
}

/// Applies migrations to one database.
pub struct Runner<'g> {
    graph: &'g Graph,
    backend: Box<dyn Backend>,
    options: Options,
    log: Box<dyn FnMut(&str) + 'g>,
    /// The applied set the last upgrade or downgrade committed.
    last_applied: LastApplied,
    /// Whether the session's statement lock timeout is set (once, before the first change).
    ddl_lock_set: bool,
    /// Migrations that stopped part-way and are finished instead of refused (every statement
    /// left to run can be run again: PostgreSQL's concurrent index builds), with how many
    /// statements had run.
    resuming: std::collections::BTreeMap<String, usize>,
    /// The version-row writes of the open transaction's batch, sent with its commit.
    pending_rows: Option<String>,
}

/// What the last run of a [`Runner`] left applied.
enum LastApplied {
    /// Every revision (the start-up at head: no set was built).
    Everything,
    /// These revisions.
    Set(BTreeSet<String>),
}

impl<'g> Runner<'g> {
    /// Connects to the database at `url`.
    pub fn connect(graph: &'g Graph, url: &DatabaseUrl, options: Options) -> Result<Runner<'g>> {
        let backend = backend::open(url, options.lock_timeout)?;
        Ok(Runner {
            graph,
            backend,
            options,
            log: Box::new(|_| {}),
            last_applied: LastApplied::Set(BTreeSet::new()),
            ddl_lock_set: false,
            resuming: std::collections::BTreeMap::new(),
            pending_rows: None,
        })
    }

    /// Sends a line per applied migration (and per notable event) to `log`.
    pub fn with_log(mut self, log: impl FnMut(&str) + 'g) -> Self {
        self.log = Box::new(log);
        self
    }

    /// The dialect of the connected database.
    pub fn dialect(&self) -> Dialect {
        self.backend.dialect()
    }

    /// The version table's rows.
    pub fn applied_rows(&mut self) -> Result<Vec<AppliedRow>> {
        let mut rows = self.backend.applied()?;
        rows.sort_by(|a, b| (&a.applied_at, &a.revision).cmp(&(&b.applied_at, &b.revision)));
        Ok(rows)
    }

    /// The current revision(s): applied revisions no applied revision descends from.
    pub fn current(&mut self) -> Result<Vec<String>> {
        let graph = self.graph;
        // Rows of revisions a checkpoint replaced count as the checkpoint's.
        let applied: BTreeSet<String> = self
            .backend
            .applied()?
            .into_iter()
            .map(|r| match graph.replaced_by(&r.revision) {
                Some(c) => c.to_string(),
                None => r.revision,
            })
            .collect();
        Ok(self.graph.current(&applied))
    }

    /// The current revision(s) as the last upgrade or downgrade of this runner left them
    /// (read under its lock; no second read of the version table).
    pub(crate) fn current_after_run(&self) -> Vec<String> {
        match &self.last_applied {
            LastApplied::Everything => self.graph.heads(),
            LastApplied::Set(set) => self.graph.current(set),
        }
    }

    /// The live schema.
    pub fn introspect(&mut self) -> Result<Schema> {
        self.backend.introspect()
    }

    /// Differences between the database and the models (or the head, when the build did
    /// not record the models). Empty when they match.
    pub fn check(&mut self) -> Result<Vec<String>> {
        let expected = match self.graph.models() {
            Some(m) => m.clone(),
            None => self.graph.head_schema()?,
        };
        self.differences(&expected)
    }

    /// Differences between `expected` and the database, as far as the database can tell:
    /// the expected schema is first put in the database's own form (its types, its spelling
    /// of defaults; see [`Backend::catalog`]). Empty when they match.
    pub fn differences(&mut self, expected: &Schema) -> Result<Vec<String>> {
        let mut live = self.backend.introspect()?;
        // Another tool's version table, left in place when the database was adopted from
        // it, is not the app's (unless the models declare a table of that name).
        live.tables
            .retain(|name, _| expected.tables.contains_key(name) || Tool::of_table(name).is_none());
        // Views the catalog keeps only as its own print: the declared ones printed by the
        // database too, so that the definitions compare.
        let prints = self.backend.view_prints(expected);
        let printed;
        let expected = if prints.is_empty() {
            expected
        } else {
            let mut e = expected.clone();
            for (key, print) in prints {
                if let Some(o) = e.objects.get_mut(&key) {
                    o.sql = crate::schema::ops::DialectSql::All(print);
                }
            }
            printed = e;
            &printed
        };
        Ok(crate::schema::compare::differences(
            expected,
            &live,
            &self.backend.catalog(),
        ))
    }

    /// Upgrades to `target`: `head`, `heads`, a revision (or unique prefix), or `+N`.
    /// Returns the revisions applied.
    pub fn upgrade(&mut self, target: &str) -> Result<Vec<String>> {
        self.migrate(Direction::Up, target)
    }

    /// Downgrades to `target`: `-N`, a revision (or unique prefix), or `base`.
    /// Returns the revisions undone.
    pub fn downgrade(&mut self, target: &str) -> Result<Vec<String>> {
        self.migrate(Direction::Down, target)
    }

    /// The loop both directions share. Inside the lock: read and check the version table,
    /// plan (once), then apply one batch per transaction — everything in `All` mode, one
    /// migration in `PerMigration` mode.
    ///
    /// Between two transactions of `PerMigration` mode another runner may have moved the
    /// database. The next transaction re-checks, under the lock, only the rows its migration
    /// depends on (it, and its parents or children): O(1) per step instead of re-reading
    /// every row. When they are not as this run left them, everything is read and checked
    /// again, so a concurrent runner's work is never repeated.
    fn migrate(&mut self, direction: Direction, target: &str) -> Result<Vec<String>> {
        let graph = self.graph;
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
        loop {
            // Taking the lock again with what the run knows: the rows the next migration
            // depends on are checked as the lock is taken (one round trip on PostgreSQL).
            match known.as_ref().and_then(|k| self.as_left(k, direction)) {
                Some(expect) => {
                    let timeout = self.options.lock_timeout;
                    if self.backend.enter_expecting(timeout, &expect)? {
                        if let Some(notice) = self.backend.lock_notice() {
                            (self.log)(&notice);
                        }
                    } else {
                        known = None;
                        self.enter()?;
                    }
                }
                None => {
                    self.enter()?;
                    if let Some(k) = &known {
                        match self.still_as_left(k, direction) {
                            Ok(true) => {}
                            Ok(false) => known = None,
                            Err(e) => return self.abort(e),
                        }
                    }
                }
            }
            let k = match known.take() {
                Some(k) => k,
                None => {
                    let applied = match self.prepare(up) {
                        Ok(a) => a,
                        Err(e) => return self.abort(e),
                    };
                    // At head already (every revision applied, one head): nothing to plan,
                    // and no need to work out the graph's links.
                    let at_head =
                        up && applied.len() == graph.len() && names_the_head(graph, target);
                    if planned.is_none() && at_head {
                        planned = Some(Vec::new());
                    }
                    if planned.is_none() {
                        let plan = match direction {
                            Direction::Up => plan_upgrade(graph, &applied, target),
                            Direction::Down => plan_downgrade(graph, &applied, target),
                        };
                        match plan {
                            Ok(p) => planned = Some(p),
                            Err(e) => return self.abort(e),
                        }
                    }
                    let todo = planned
                        .iter()
                        .flatten()
                        .filter(|r| applied.contains(*r) != up)
                        .cloned()
                        .collect::<std::collections::VecDeque<String>>();
                    Known {
                        applied,
                        todo,
                        schema: None,
                    }
                }
            };
            let mut k = k;
            if k.todo.is_empty() {
                self.leave()?;
                self.last_applied = LastApplied::Set(k.applied);
                return Ok(done);
            }
            if up && done.is_empty() && self.options.backup {
                match self.backend.backup() {
                    Ok(Some(path)) => {
                        (self.log)(&format!("backed up the database to {}", path.display()))
                    }
                    Ok(None) => {}
                    Err(e) => return self.abort(e),
                }
            }
            let mut take = match self.options.transaction {
                TransactionMode::All => k.todo.len(),
                TransactionMode::PerMigration => 1,
            };
            // A migration that says `atomic: false` runs alone, outside the transaction, where
            // the lock does not depend on one (PostgreSQL); the others are batched around it.
            let outside_possible = self.runs_outside_possible();
            let atomic = |id: &String| graph.get(id).is_none_or(|m| m.atomic());
            if outside_possible {
                // Only the batch's own revisions are looked at: a plan of N is not walked N times.
                match k.todo.iter().take(take).position(|id| !atomic(id)) {
                    Some(0) => take = 1,
                    Some(n) => take = take.min(n),
                    None => {}
                }
            }
            let outside = outside_possible && k.todo.iter().take(take).any(|id| !atomic(id));
            if outside {
                // End the transaction the checks ran in, keeping the lock for what runs
                // outside one; where it passed hands, the database is read again.
                match self.backend.hold_lock_outside_transaction() {
                    Ok(false) => {}
                    Ok(true) => match self.still_as_left(&k, direction) {
                        Ok(true) => {}
                        Ok(false) => {
                            self.backend.unlock()?;
                            known = None;
                            continue;
                        }
                        Err(e) => return self.abort(e),
                    },
                    Err(e) => return self.abort(e),
                }
            }
            let batch: Vec<String> = k.todo.drain(..take).collect();
            // The schema at the applied set: replayed once per run, then carried along.
            let mut schema = match k.schema.take() {
                Some(s) => s,
                None => match graph.schema_at(&k.applied) {
                    Ok(s) => s,
                    Err(e) => return self.abort(e),
                },
            };
            let scope = match self.apply_batch(direction, &batch, &mut schema, &k.applied, outside)
            {
                Ok(scope) => scope,
                // In a transaction, a statement that gave up waiting for a lock ended it: the
                // batch is rolled back and tried again after a pause, with nothing held.
                Err(Error::LockWait {
                    revision,
                    statement,
                    waited,
                    outcome,
                    ..
                }) if self.backend.capabilities().transactional_ddl && !outside => {
                    self.backend.rollback();
                    if gave_up < self.options.ddl_lock_retries {
                        let _ = self.backend.unlock();
                        gave_up += 1;
                        let pause = self.options.lock_retry_pause(gave_up);
                        (self.log)(&format!(
                            "{revision}: `{statement}` waited {:.1} s for a lock other sessions hold, and gave up; nothing was kept. Trying again in {:.1} s (retry {gave_up} of {})",
                            waited.as_secs_f64(),
                            pause.as_secs_f64(),
                            self.options.ddl_lock_retries
                        ));
                        std::thread::sleep(pause);
                        known = None;
                        continue;
                    }
                    let blockers = self.backend.lock_blockers();
                    let _ = self.backend.unlock();
                    return Err(Error::LockWait {
                        revision,
                        statement,
                        waited,
                        tries: gave_up + 1,
                        blockers,
                        outcome,
                    });
                }
                Err(e) => return self.abort(e),
            };
            gave_up = 0;
            let deferred = self.backend.capabilities().deferred_foreign_keys;
            if let Err(message) = match deferred {
                true => self
                    .backend
                    .check_integrity(scope.tables(&schema).as_deref()),
                false => Ok(()),
            } {
                return self.abort(Error::MigrationFailed {
                    revision: batch.join(", "),
                    at: describe_at(graph, &k.applied),
                    operation: "foreign keys checked before commit\nfix: rows reference parent rows that do not exist (a new foreign key over old rows, or a rebuilt parent); delete or correct them in an execute(…) before the operation that adds the key".into(),
                    statement: "(the foreign-key check before commit)".into(),
                    message,
                });
            }
            if outside {
                self.backend.unlock()?;
            } else {
                self.leave()?;
            }
            for id in &batch {
                let message = graph.get(id).map(|r| r.message()).unwrap_or_default();
                let verb = if up { "applied" } else { "reverted" };
                (self.log)(&format!("{verb} {id} ({message})"));
                if up {
                    k.applied.insert(id.clone());
                } else {
                    k.applied.remove(id);
                }
            }
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

    /// The common start-up case, read without taking the lock: every revision is applied
    /// (and checked), so an upgrade to head has nothing to do. A consistent read that shows
    /// the head needs no lock: nothing would be written. Anything else (no version table, a
    /// pending migration) goes the locked way.
    fn at_head_without_lock(&mut self, target: &str) -> Result<bool> {
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
        if rows
            .iter()
            .any(|r| versions::Interrupted::parse(&r.state).is_some())
        {
            return Ok(false);
        }
        // Rows are distinct (the revision is the key), so as many known rows as revisions
        // means every revision.
        self.verify_rows(&rows)?;
        self.last_applied = LastApplied::Everything;
        Ok(true)
    }

    /// The condition on the version table that says the rows the next migration depends on
    /// are as this run left them (see [`Runner::still_as_left`]); `None` where that takes
    /// more than keyed lookups (an interrupted migration's row) or the revision is unknown.
    fn as_left(&self, known: &Known, direction: Direction) -> Option<String> {
        let next = known.todo.front()?;
        if self.resuming.contains_key(next) {
            return None;
        }
        let rev = self.graph.get(next)?;
        let dialect = self.backend.dialect();
        Some(match direction {
            Direction::Up => {
                let parents: Vec<&str> = rev.parents().collect();
                versions::rows_are(&parents, &[next], dialect)
            }
            Direction::Down => versions::rows_are(&[next], &self.graph.children(next), dialect),
        })
    }

    /// Under the lock: whether the rows the next migration depends on are as this run left
    /// them — for an upgrade, it is not applied and its parents are; for a downgrade, it is
    /// applied and its children are not. A handful of keyed lookups, whatever the history.
    fn still_as_left(&mut self, known: &Known, direction: Direction) -> Result<bool> {
        let Some(next) = known.todo.front() else {
            return Ok(true);
        };
        let Some(rev) = self.graph.get(next) else {
            return Ok(false);
        };
        let up = direction == Direction::Up;
        if self.resuming.contains_key(next) {
            // Its row is the interrupted one: read it all again if it moved.
            let rows = self.backend.applied()?;
            let same = rows
                .iter()
                .find(|r| r.revision == *next)
                .and_then(|r| versions::Interrupted::parse(&r.state).map(|s| s.done))
                == self.resuming.get(next).copied();
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
    fn apply_batch(
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
        self.pending_rows = Some(match direction {
            Direction::Up => {
                let rows: Vec<AppliedRow> = rows
                    .into_iter()
                    .map(|(rev, ms)| AppliedRow::for_revision(rev, "applied", ms))
                    .collect();
                versions::insert_many(&rows, dialect)
            }
            Direction::Down => {
                let ids: Vec<&str> = rows.iter().map(|(rev, _)| rev.id()).collect();
                versions::delete_many(&ids, dialect)
            }
        });
        Ok(scope)
    }

    /// Marks a migration interrupted on a database without transactional DDL as applied
    /// (`applied = true`: the statements that had not run were run by hand) or as not
    /// applied (they were undone by hand), so migrations can go on.
    pub fn resolve(&mut self, target: &str, applied: bool) -> Result<()> {
        let revision = self
            .graph
            .resolve(target)?
            .ok_or_else(|| Error::Usage("`resolve` needs a revision, not base".into()))?;
        self.refuse_read_only("resolve")?;
        self.enter()?;
        let result = (|| {
            let rows = self.backend.applied()?;
            let row = rows.iter().find(|r| r.revision == revision);
            if row
                .and_then(|r| versions::Interrupted::parse(&r.state))
                .is_none()
            {
                return Err(Error::Usage(format!(
                    "{revision} is not interrupted (its state is `{}`); `resolve` is only for a migration that stopped part-way (see `db history`)",
                    row.map(|r| r.state.as_str()).unwrap_or("not applied")
                )));
            }
            if applied {
                self.backend.set_state(&revision, "applied", 0)
            } else {
                self.backend.forget(&revision)
            }
        })();
        match result {
            Ok(()) => {
                self.leave()?;
                (self.log)(&format!(
                    "resolved {revision} as {}",
                    if applied { "applied" } else { "reverted" }
                ));
                Ok(())
            }
            Err(e) => self.abort(e),
        }
    }

    /// A migration's statements as they are rendered: from the schema before it.
    fn steps_of(&self, rev: &Migration, upgrade: bool) -> Vec<Step> {
        let mut before: BTreeSet<String> = self.graph.ancestors(rev.id());
        let ops = if upgrade {
            before.remove(rev.id());
            rev.up()
        } else {
            rev.down()
        };
        self.graph
            .schema_at(&before)
            .and_then(|mut schema| rev.render_ops(&ops, &mut schema, self.backend.dialect()))
            .map(|steps| steps.into_iter().flatten().collect())
            .unwrap_or_default()
    }

    /// Whether an upgrade that stopped part-way can be finished: its checksum is the code's
    /// and every statement from the one it stopped in can be run again (the database says).
    fn can_resume(&self, row: &AppliedRow, state: &versions::Interrupted) -> bool {
        let Some(rev) = self.graph.get(&row.revision) else {
            return false;
        };
        if !state.upgrade || row.checksum != rev.checksum() {
            return false;
        }
        let steps = self.steps_of(rev, true);
        steps.len() == state.total
            && steps[state.done.min(steps.len())..]
                .iter()
                .all(|s| match s {
                    Step::Sql(sql) => self.backend.resumable(sql),
                    // Each batch takes rows still NULL: a second run goes on from there.
                    Step::Batches { .. } => true,
                    // A query that only reads (the check for NULLs before NOT NULL).
                    Step::Verify { .. } => true,
                    Step::Rust(_) => false,
                })
    }

    /// For the statement an interrupted run stopped in: clears what it left (an `INVALID`
    /// index) and says whether its work is there already (it ended before it was recorded).
    fn finished_before(&mut self, statement: &str) -> bool {
        self.backend.clear_given_up(statement).is_ok() && self.backend.already_done(statement)
    }

    /// The refusal for a migration that stopped part-way: which statements ran, which not.
    fn interrupted(&self, row: &AppliedRow, state: versions::Interrupted, cause: String) -> Error {
        let statements = self
            .graph
            .get(&row.revision)
            .map(|rev| self.steps_of(rev, state.upgrade))
            .unwrap_or_default()
            .into_iter()
            .map(step_text)
            .collect();
        Error::Interrupted {
            revision: row.revision.clone(),
            direction: if state.upgrade {
                "upgrade"
            } else {
                "downgrade"
            },
            done: state.done,
            total: state.total,
            statements,
            cause: cause.into(),
        }
    }

    /// Refuses a command that writes where the database takes no writes (a replica), before
    /// the lock is taken or anything is read for the run.
    fn refuse_read_only(&mut self, command: &'static str) -> Result<()> {
        match self.backend.read_only()? {
            Some(reason) => Err(Error::ReadOnly { reason, command }),
            None => Ok(()),
        }
    }

    /// Takes the lock, then begins a transaction.
    fn enter(&mut self) -> Result<()> {
        self.backend.lock(self.options.lock_timeout)?;
        if let Some(notice) = self.backend.lock_notice() {
            (self.log)(&notice);
        }
        if let Err(e) = self.backend.begin() {
            let _ = self.backend.unlock();
            return Err(e);
        }
        Ok(())
    }

    /// Commits, then releases the lock.
    fn leave(&mut self) -> Result<()> {
        let committed = match self.pending_rows.take() {
            Some(rows) => self.backend.commit_after(&rows),
            None => self.backend.commit(),
        };
        if committed.is_err() {
            self.backend.rollback();
        }
        let unlocked = self.backend.unlock();
        committed.and(unlocked)
    }

    /// Whether a migration can run outside a transaction while the lock stays held: the
    /// database has transactional DDL (else everything runs that way already) and a lock of
    /// its own (SQLite's lock is the transaction).
    fn runs_outside_possible(&self) -> bool {
        let c = self.backend.capabilities();
        c.transactional_ddl && !c.lock_is_transaction
    }

    fn abort<T>(&mut self, error: Error) -> Result<T> {
        self.pending_rows = None;
        self.backend.rollback();
        let _ = self.backend.unlock();
        Err(error)
    }

    /// Records `target` (and its ancestors) as applied without running anything; `base`
    /// clears the version table. Also repairs checksums of edited migrations.
    pub fn stamp(&mut self, target: &str) -> Result<Vec<String>> {
        let graph = self.graph;
        let revision = graph.resolve(target)?;
        self.refuse_read_only("stamp")?;
        self.enter()?;
        let result = (|| {
            self.backend.ensure_version_table()?;
            self.backend.forget_all()?;
            let set = revision
                .as_deref()
                .map(|r| graph.ancestors(r))
                .unwrap_or_default();
            for rev in graph.order(&set) {
                self.backend
                    .record(&AppliedRow::for_revision(rev, "stamped", 0))?;
            }
            Ok(graph.current(&set))
        })();
        match result {
            Ok(current) => {
                self.leave()?;
                (self.log)(&format!("stamped {}", revisions_or_base(&current)));
                Ok(current)
            }
            Err(e) => self.abort(e),
        }
    }

    /// Inside the lock: adopt a pre-migrations database if asked, make sure the version table
    /// exists, and check its rows against the code. Returns the applied set.
    fn prepare(&mut self, adopt: bool) -> Result<BTreeSet<String>> {
        if !self.backend.version_table_exists()? {
            // Tables of another PostgreSQL schema are the app's only where its migrations
            // keep tables there (another app's schema does not make this database in use).
            let live = self.live_app_schema()?;
            // Another tool's version table, unless the app's own migrations make a table of
            // that name (replayed only then: a fresh database's first start pays nothing).
            let mut other = live.tables.keys().find_map(|t| Tool::of_table(t));
            if let Some(tool) = other {
                if self.graph.head_schema()?.tables.contains_key(tool.table()) {
                    other = None;
                }
            }
            match (adopt, other, self.options.adopt_from) {
                (true, Some(_), Some(tool)) => {
                    self.take_over(tool, None, live)?;
                }
                (true, Some(tool), None) => {
                    return Err(Error::ManagedByOtherTool {
                        tool: tool.name().into(),
                        table: tool.table().into(),
                    })
                }
                (true, None, _) if !live.tables.is_empty() => self.adopt(&live)?,
                _ => {}
            }
            self.backend.ensure_version_table()?;
        }
        let mut rows = self.backend.applied()?;
        if self.graph.has_replaced() {
            rows = self.settle_replaced(rows)?;
        }
        self.resuming.clear();
        if adopt {
            // An upgrade finishes what one that stopped part-way left, where it can.
            let mut resumable = Vec::new();
            for row in &rows {
                if let Some(state) = versions::Interrupted::parse(&row.state) {
                    if self.can_resume(row, &state) {
                        resumable.push((row.revision.clone(), state.done));
                    }
                }
            }
            rows.retain(|r| !resumable.iter().any(|(id, _)| *id == r.revision));
            self.resuming.extend(resumable);
        }
        self.check_rows(rows)
    }

    /// The version rows against the code: every row names a known revision whose checksum
    /// matches. Returns the applied set.
    fn check_rows(&self, rows: Vec<AppliedRow>) -> Result<BTreeSet<String>> {
        self.verify_rows(&rows)?;
        Ok(rows.into_iter().map(|r| r.revision).collect())
    }

    fn verify_rows(&self, rows: &[AppliedRow]) -> Result<()> {
        for row in rows {
            if let Some(state) = versions::Interrupted::parse(&row.state) {
                return Err(self.interrupted(row, state, String::new()));
            }
        }
        let mut unknown = Vec::new();
        let mut known = Vec::with_capacity(rows.len());
        let mut hint = 0;
        for row in rows {
            match self.graph.get_near(&row.revision, hint) {
                Some((i, rev)) => {
                    hint = i + 1;
                    known.push((row, rev));
                }
                None => unknown.push(row.revision.clone()),
            }
        }
        if !unknown.is_empty() {
            unknown.sort();
            return Err(Error::DatabaseAhead { revisions: unknown });
        }
        for (row, rev) in known {
            if row.checksum == rev.checksum() {
                continue;
            }
            // Rows of an older checksum algorithm are accepted while their value still
            // matches; only those need the operations.
            if rev.check_recorded(&row.checksum) == ChecksumCheck::Differs {
                return Err(Error::ChecksumMismatch {
                    revision: row.revision.clone(),
                    recorded: row.checksum.clone(),
                    current: rev.checksum().to_string(),
                });
            }
        }
        Ok(())
    }

    /// Runs one migration's operations. With `progress` (a database without transactional
    /// DDL), its version row records how many statements ran, so a failure half-way leaves
    /// a visible `dirty K/N` state instead of a silent half-migration.
    fn run_ops(
        &mut self,
        rev: &Migration,
        ops: &[Op],
        schema: &mut Schema,
        at: &BTreeSet<String>,
        progress: Option<Direction>,
    ) -> Result<()> {
        let dialect = self.backend.dialect();
        let steps = rev.render_ops(ops, schema, dialect)?;
        let total: usize = steps.iter().map(Vec::len).sum();
        let started = Instant::now();
        let state = |done: usize| versions::Interrupted {
            upgrade: progress == Some(Direction::Up),
            done,
            total,
        };
        // Finishing one that stopped part-way: its row is there, and what ran is done.
        let resume_at = match progress {
            Some(Direction::Up) => self.resuming.remove(rev.id()),
            _ => None,
        };
        if let Some(at) = resume_at {
            (self.log)(&format!(
                "{}: finishing it: it stopped after {at} of {total} statement(s), and what is left can run again",
                rev.id()
            ));
        }
        match progress {
            Some(Direction::Up) if resume_at.is_some() => {}
            Some(Direction::Up) => {
                self.backend
                    .record(&AppliedRow::for_revision(rev, &state(0).state(), 0))?
            }
            Some(Direction::Down) => self.backend.set_state(rev.id(), &state(0).state(), 0)?,
            None => {}
        }
        let mut done = 0;
        let mut changed = resume_at.is_some_and(|at| at > 0);
        for (op, steps) in ops.iter().zip(steps) {
            let failed = |statement: String, message: String| Error::MigrationFailed {
                revision: rev.id().into(),
                at: describe_at(self.graph, at),
                operation: match op.failure_hint_for(&message) {
                    Some(fix) => format!("{}\nfix: {fix}", op.describe()),
                    None => op.describe(),
                }
                .into(),
                statement,
                message,
            };
            for step in steps {
                if resume_at.is_some_and(|at| done < at) {
                    done += 1;
                    continue;
                }
                let resuming_here = resume_at == Some(done);
                let effective = !matches!(step, Step::Verify { .. });
                let repeat = matches!(step, Step::Batches { .. });
                let walk = match &step {
                    Step::Batches { walk, .. } => walk.clone(),
                    _ => None,
                };
                // A lock another process took over (a stalled heartbeat) stops the run here.
                let outcome = match self.backend.still_locked() {
                    Err(e) => Err(e),
                    Ok(()) => match step {
                        // The statement it stopped in: clear what it left (or find it done).
                        Step::Sql(statement)
                            if resuming_here && self.finished_before(&statement) =>
                        {
                            Ok(())
                        }
                        Step::Sql(statement)
                        | Step::Batches {
                            batch: statement, ..
                        } => match execute_statement(
                            &mut *self.backend,
                            &self.options,
                            &mut *self.log,
                            &statement,
                            Run {
                                alone: progress.is_some(),
                                repeat,
                                walk: walk.as_ref(),
                            },
                        ) {
                            Ok(()) => Ok(()),
                            Err(Failure::Database(message)) => Err(failed(statement, message)),
                            Err(Failure::GaveUp { tries }) => Err(Error::LockWait {
                                revision: rev.id().into(),
                                outcome: match (progress.is_some(), changed) {
                                    (false, _) => format!(
                                        "it was rolled back; the database stays at {}",
                                        describe_at(self.graph, at)
                                    ),
                                    (true, false) => format!(
                                        "nothing of it ran; the database stays at {}",
                                        describe_at(self.graph, at)
                                    ),
                                    (true, true) => "part of it ran".into(),
                                },
                                blockers: match progress {
                                    // Nothing to roll back first: ask now, while they hold on.
                                    Some(_) => self.backend.lock_blockers(),
                                    None => String::new(),
                                },
                                statement,
                                waited: self.options.ddl_lock_timeout.unwrap_or_default(),
                                tries,
                            }),
                        },
                        Step::Verify { query, problem } => {
                            match self.backend.query_sample(&query) {
                                Ok(None) => Ok(()),
                                Ok(Some(sample)) => {
                                    Err(failed(query, format!("{problem} (for example {sample})")))
                                }
                                Err(e) => Err(failed(query, e.to_string())),
                            }
                        }
                        Step::Rust(name) => {
                            let f = rev.function(&name).ok_or_else(|| Error::Render {
                                revision: rev.id().into(),
                                message: format!(
                                    "`run({name})` names a function this build does not have"
                                ),
                            })?;
                            match f(self.backend.connection()) {
                                Ok(()) => Ok(()),
                                Err(e) => Err(failed(format!("run({name})"), e.to_string())),
                            }
                        }
                    },
                };
                if let Err(e) = outcome {
                    if !changed {
                        // Only checks ran: nothing changed, so nothing is left half-done.
                        match progress {
                            Some(Direction::Up) => self.backend.forget(rev.id())?,
                            Some(Direction::Down) => {
                                self.backend.set_state(rev.id(), "applied", 0)?
                            }
                            None => {}
                        }
                        return Err(e);
                    }
                    let cause = match &e {
                        Error::MigrationFailed {
                            operation,
                            statement,
                            message,
                            ..
                        } => Some(format!(
                            "; then `{statement}` failed.\noperation: {operation}\ndatabase said: {message}"
                        )),
                        Error::LockWait {
                            statement,
                            tries,
                            blockers,
                            ..
                        } => Some(format!(
                            "; then `{statement}` gave up waiting for a lock {tries} time(s) (in the way: {blockers})"
                        )),
                        Error::LockLost { .. } => Some(format!("; then {e}")),
                        _ => None,
                    };
                    if let (Some(_), Some(cause)) = (progress, cause) {
                        let row = AppliedRow::for_revision(rev, &state(done).state(), 0);
                        return Err(self.interrupted(&row, state(done), cause));
                    }
                    return Err(e);
                }
                done += 1;
                changed |= effective;
                if progress.is_some() && done < total {
                    self.backend.set_state(rev.id(), &state(done).state(), 0)?;
                }
            }
        }
        let ms = started.elapsed().as_millis() as i64;
        match progress {
            Some(Direction::Up) => self.backend.set_state(rev.id(), "applied", ms)?,
            Some(Direction::Down) => self.backend.forget(rev.id())?,
            None => {}
        }
        Ok(())
    }
}

/// Why a statement did not run.
enum Failure {
    /// The database refused it.
    Database(String),
    /// It gave up waiting for a lock, this many times.
    GaveUp { tries: u32 },
}

/// Runs one statement of a migration. Where it runs on its own (`alone`: no transaction
/// around it, so a give-up leaves nothing to undo), a statement that gave up waiting for a
/// lock is tried again after a pause, up to the retries; in a transaction the give-up has
/// ended the transaction, and the runner tries the whole batch again instead.
fn execute_statement(
    backend: &mut dyn Backend,
    options: &Options,
    log: &mut dyn FnMut(&str),
    statement: &str,
    run: Run,
) -> std::result::Result<(), Failure> {
    if !run.repeat {
        return execute_once(backend, options, log, statement, run).map(drop);
    }
    // A backfill: batch after batch, each committed on its own, until the key's end (a
    // walk) or until one changes nothing.
    let (mut rows, mut batches) = (0, 0);
    let (started, mut shown) = (Instant::now(), Instant::now());
    let mut after = None;
    loop {
        let changed = match run.walk {
            Some(walk) => {
                let query = walk.next_bound(after);
                let upto = match backend.query_sample(&query) {
                    Err(e) => return Err(Failure::Database(e.to_string())),
                    Ok(None) => None,
                    Ok(Some(v)) => v.trim().parse::<i64>().ok(),
                };
                let Some(upto) = upto else { break };
                let n = execute_once(backend, options, log, &walk.update(after, upto), run)?;
                after = Some(upto);
                n
            }
            None => match execute_once(backend, options, log, statement, run)? {
                0 => break,
                n => n,
            },
        };
        rows += changed;
        batches += 1;
        if shown.elapsed() >= Duration::from_secs(1) {
            log(&format!("filling in batches: {rows} row(s) so far"));
            shown = Instant::now();
        }
    }
    log(&format!(
        "filled {rows} row(s) in {batches} batch(es), {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// How a statement runs: `alone` outside a transaction (a lock give-up may be retried),
/// `repeat` again until it changes no row (a backfill's batch).
#[derive(Clone, Copy)]
struct Run<'w> {
    alone: bool,
    repeat: bool,
    /// A backfill's walk along its table's key.
    walk: Option<&'w retort_schema::sql::KeyWalk>,
}

/// Runs a statement once, retrying it after a lock give-up where it runs alone; the rows
/// a batch changed (0 for any other statement, which may be several).
fn execute_once(
    backend: &mut dyn Backend,
    options: &Options,
    log: &mut dyn FnMut(&str),
    statement: &str,
    Run { alone, repeat, .. }: Run,
) -> std::result::Result<usize, Failure> {
    let mut tries = 0;
    let run = |backend: &mut dyn Backend| match repeat {
        true => backend.execute_counted(statement),
        false => backend.execute(statement).map(|()| 0),
    };
    loop {
        // A retry first removes what the try that gave up left (an INVALID index).
        let ran = match tries {
            0 => run(backend),
            _ => backend
                .clear_given_up(statement)
                .and_then(|()| run(backend)),
        };
        let message = match ran {
            Ok(changed) => return Ok(changed),
            Err(e) => e.to_string(),
        };
        if !backend.gave_up_waiting(&message) {
            return Err(Failure::Database(message));
        }
        tries += 1;
        if !alone || tries > options.ddl_lock_retries {
            return Err(Failure::GaveUp { tries });
        }
        let pause = options.lock_retry_pause(tries);
        log(&format!(
            "`{statement}` waited {:.1} s for a lock other sessions hold, and gave up; trying it again in {:.1} s (retry {tries} of {})",
            options.ddl_lock_timeout.unwrap_or_default().as_secs_f64(),
            pause.as_secs_f64(),
            options.ddl_lock_retries
        ));
        std::thread::sleep(pause);
    }
}

/// A step as a statement to show.
fn step_text(step: Step) -> String {
    match step {
        Step::Sql(s) => s,
        Step::Verify { query, .. } => format!("-- check (must return no row): {query}"),
        Step::Rust(name) => format!("-- run({name}) (a Rust data migration)"),
        Step::Batches { batch, .. } => format!("{batch} -- until it changes no row"),
    }
}

/// What a `PerMigration` run carries from one transaction to the next.
struct Known {
    applied: BTreeSet<String>,
    todo: std::collections::VecDeque<String>,
    /// The schema at `applied`, once replayed.
    schema: Option<Schema>,
}

/// The tables whose rows a batch's operations can leave pointing at missing parents.
///
/// Foreign keys are not enforced while a migration runs (SQLite's rebuilds need that), so
/// they are checked before commit; checking every table would cost the database's size on
/// every step. Creating a table, an index or a comment cannot orphan a row; raw SQL and
/// Rust functions can touch anything.
#[derive(Debug, Default)]
struct IntegrityScope {
    everything: bool,
    tables: BTreeSet<String>,
}

impl IntegrityScope {
    /// Adds what `ops` can break, given the schema before them.
    fn add(&mut self, ops: &[Op], before: &Schema) {
        for op in ops {
            match op {
                Op::Execute { .. } | Op::RunRust { .. } => self.everything = true,
                Op::CreateTable { .. }
                | Op::CreateIndex { .. }
                | Op::DropIndex { .. }
                | Op::SetTableComment { .. } => {}
                // A new column references nothing (foreign keys are their own operation),
                // and a rebuild that adds one keeps every key value.
                Op::AddColumn { .. } => {}
                Op::AddForeignKey { table, .. } => {
                    self.tables.insert(table.clone());
                }
                _ => {
                    let names: Vec<&str> = match op {
                        Op::RenameTable { from, to } => vec![from, to],
                        other => other.table().into_iter().collect(),
                    };
                    for name in names {
                        self.tables.insert(name.to_string());
                        // Rows elsewhere that point at this table.
                        for t in before.tables.values() {
                            if t.foreign_keys.iter().any(|f| f.referred_table == name) {
                                self.tables.insert(t.name.clone());
                            }
                        }
                    }
                }
            }
        }
    }

    /// The tables to check that exist after the batch; `None` for every table.
    fn tables(&self, after: &Schema) -> Option<Vec<String>> {
        if self.everything {
            return None;
        }
        Some(
            self.tables
                .iter()
                .filter(|t| after.tables.contains_key(*t))
                .cloned()
                .collect(),
        )
    }
}

/// Whether `target` means "every revision" in this graph: `heads`, or `head` when there is
/// exactly one (with several, `head` is an error the planner reports).
fn names_the_head(graph: &Graph, target: &str) -> bool {
    target == "heads" || (target == "head" && graph.heads().len() == 1)
}

fn describe_at(graph: &Graph, applied: &BTreeSet<String>) -> String {
    revisions_or_base(&graph.current(applied))
}

/// Revisions to apply, parents first.
pub(crate) fn plan_upgrade(
    graph: &Graph,
    applied: &BTreeSet<String>,
    target: &str,
) -> Result<Vec<String>> {
    let wanted: BTreeSet<String> = if let Some(n) = target.strip_prefix('+') {
        let n: usize = n.parse().map_err(|_| {
            Error::Usage(format!("`{target}` is not a step count; write +1, +2, …"))
        })?;
        let head = graph
            .single_head()?
            .ok_or_else(|| Error::NoSuchRevision("head".into()))?;
        let pending: Vec<String> = graph
            .order(&graph.ancestors(&head))
            .into_iter()
            .map(|r| r.id().to_string())
            .filter(|r| !applied.contains(r))
            .collect();
        if pending.len() < n {
            return Err(Error::Usage(format!(
                "cannot upgrade {target}: only {} migration(s) are pending",
                pending.len()
            )));
        }
        return Ok(pending.into_iter().take(n).collect());
    } else if target == "heads" {
        graph.all_heads_ancestry()
    } else {
        match graph.resolve(target)? {
            Some(rev) => graph.ancestors(&rev),
            None => BTreeSet::new(),
        }
    };
    Ok(graph
        .order(&wanted)
        .into_iter()
        .map(|r| r.id().to_string())
        .filter(|r| !applied.contains(r))
        .collect())
}

/// Revisions to undo, children first.
pub(crate) fn plan_downgrade(
    graph: &Graph,
    applied: &BTreeSet<String>,
    target: &str,
) -> Result<Vec<String>> {
    let mut ordered: Vec<String> = graph
        .order(applied)
        .into_iter()
        .map(|r| r.id().to_string())
        .collect();
    ordered.reverse();
    if let Some(n) = target.strip_prefix('-') {
        let n: usize = n.parse().map_err(|_| {
            Error::Usage(format!("`{target}` is not a step count; write -1, -2, …"))
        })?;
        if ordered.len() < n {
            return Err(Error::Usage(format!(
                "cannot downgrade {target}: only {} migration(s) are applied",
                ordered.len()
            )));
        }
        return Ok(ordered.into_iter().take(n).collect());
    }
    let keep = match graph.resolve(target)? {
        Some(rev) => {
            if !applied.contains(&rev) {
                return Err(Error::Usage(format!(
                    "cannot downgrade to {rev}: it is not applied (see `db current`)"
                )));
            }
            graph.ancestors(&rev)
        }
        None => BTreeSet::new(),
    };
    Ok(ordered.into_iter().filter(|r| !keep.contains(r)).collect())
}

/// The PostgreSQL schemas other than the connection's that the migrations keep tables in.
fn app_schemas(graph: &Graph) -> BTreeSet<String> {
    graph
        .all_ordered()
        .into_iter()
        .flat_map(|m| {
            m.up()
                .iter()
                .filter_map(|op| op.table())
                .filter_map(|t| crate::schema::sql::split_schema(t).0.map(str::to_string))
                .collect::<Vec<_>>()
        })
        .collect()
}
