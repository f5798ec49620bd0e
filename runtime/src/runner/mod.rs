//! The runner: takes the lock, checks the version table against the code, plans a
//! path through the revision graph, applies it atomically and records it.
//!
//! - `mod.rs`: [`Runner`] and its commands (upgrade, downgrade, stamp, resolve, check);
//! - `options.rs`: [`Options`], [`TransactionMode`];
//! - `migrate.rs`: the loop: plan, lock, batch, record, again;
//! - `verify.rs`: the version rows against the code, before anything is planned;
//! - `apply.rs`: one migration's statements, with progress and lock-wait retries;
//! - `integrity.rs`: what the foreign-key check before commit covers;
//! - `adopt.rs`: taking over a database made without retort or by another tool.
//!
//! Planning (which revisions, in which order) is the graph's: `crate::graph::plan`.

use std::collections::BTreeSet;

use crate::backend::{self, AppliedRow, Backend, RowState};
use crate::error::{Error, Result};
use crate::graph::{revisions_or_base, Graph};
use crate::tools::Tool;
use crate::url::DatabaseUrl;
use retort_schema::sql::Dialect;
use retort_schema::Schema;

/// What `check` needs that a build without introspection leaves out.
const CHECK: &str = "`check` (it compares the database with the models)";

mod adopt;
mod apply;
mod integrity;
mod migrate;
mod options;
mod verify;

pub use options::{parse_ddl_lock_timeout, Options, TransactionMode};

/// Which way a run goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
}

/// Where a runner sends lines (its log, its progress).
type LineSink<'g> = Box<dyn FnMut(&str) + 'g>;

/// Applies migrations to one database.
pub struct Runner<'g> {
    graph: &'g Graph,
    backend: Box<dyn Backend>,
    options: Options,
    log: LineSink<'g>,
    /// Where the run is, before each migration and each of its steps runs (see
    /// [`Runner::with_progress`]); `None`: nobody asked, nothing is formatted.
    progress: Option<LineSink<'g>>,
    /// Migrations of this run started so far, and how many it has in all.
    position: (usize, usize),
    /// The migration running now, as progress names it (`upgrading 3/40: <revision>`).
    place: String,
    /// The applied set the last upgrade or downgrade committed.
    last_applied: LastApplied,
    /// Whether the session's statement lock timeout is set (once, before the first change).
    ddl_lock_set: bool,
    /// Migrations that stopped part-way and are finished instead of refused (every statement
    /// left to run can be run again: PostgreSQL's concurrent index builds), with how many
    /// statements had run. Few (usually none), so a list.
    resuming: Vec<(String, usize)>,
    /// What the open transaction writes to the version table as it commits: a fresh
    /// database's `CREATE TABLE` (see [`Runner::write_at_commit`]), then the batch's rows.
    pending_writes: Option<String>,
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
            progress: None,
            position: (0, 0),
            place: String::new(),
            last_applied: LastApplied::Set(BTreeSet::new()),
            ddl_lock_set: false,
            resuming: Vec::new(),
            pending_writes: None,
        })
    }

    /// Sends a line per applied migration (and per notable event) to `log`.
    pub fn with_log(mut self, log: impl FnMut(&str) + 'g) -> Self {
        self.log = Box::new(log);
        self
    }

    /// Sends where the run is to `progress` before each migration runs —
    /// `upgrading 3/40: <revision> (<message>)` — and before each of its steps when it has
    /// several (`upgrading 3/40: <revision>: step 2/5, <operation>`: a table rebuild's
    /// copy, a concurrent index build), for a status line: unlike the log's lines,
    /// these say what is starting, not what was committed (in one transaction nothing is
    /// committed until the end), so a terminal may rewrite one line with them and a log may
    /// leave them out.
    ///
    /// ```no_run
    /// # fn f(graph: &retort::Graph, url: &retort::DatabaseUrl) -> retort::Result<()> {
    /// let mut runner = retort::Runner::connect(graph, url, retort::Options::default())?
    ///     .with_log(|line| println!("{line}"))
    ///     .with_progress(|now| eprint!("\r{now}"));
    /// runner.upgrade("head")?;
    /// # Ok(()) }
    /// ```
    pub fn with_progress(mut self, progress: impl FnMut(&str) + 'g) -> Self {
        self.progress = Some(Box::new(progress));
        self
    }

    /// Tells the progress consumer where the run is (callers format only when
    /// `self.progress` is set).
    pub(super) fn report(&mut self, now: &str) {
        if let Some(p) = self.progress.as_mut() {
            p(now);
        }
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

    /// The live schema. In a build without the `introspect` feature (on by default) it
    /// returns [`Error::NotInBuild`].
    pub fn introspect(&mut self) -> Result<Schema> {
        self.backend.introspect()
    }

    /// Differences between the database and the models (or the head, when the build did
    /// not record the models). Empty when they match. In a build without the `introspect`
    /// feature (on by default) it returns [`Error::NotInBuild`].
    pub fn check(&mut self) -> Result<Vec<String>> {
        crate::error::introspection(CHECK)?;
        let expected = match self.graph.models() {
            Some(m) => m.clone(),
            None => self.graph.head_schema()?,
        };
        self.differences(&expected)
    }

    /// Differences between `expected` and the database, as far as the database can tell:
    /// the expected schema is first put in the database's own form (its types, its spelling
    /// of defaults; see [`Backend::catalog`]). Empty when they match. In a build
    /// without the `introspect` feature (on by default) it returns [`Error::NotInBuild`].
    pub fn differences(&mut self, expected: &Schema) -> Result<Vec<String>> {
        crate::error::introspection(CHECK)?;
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
                    o.sql = retort_schema::ops::DialectSql::All(print);
                }
            }
            printed = e;
            &printed
        };
        Ok(retort_schema::compare::differences(
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
            if row.and_then(|r| r.row_state().interrupted()).is_none() {
                return Err(Error::Usage(format!(
                    "{revision} is not interrupted (its state is `{}`); `resolve` is only for a migration that stopped part-way (see `db history`)",
                    row.map(|r| r.state.as_str()).unwrap_or("not applied")
                )));
            }
            if applied {
                self.backend.set_state(&revision, &RowState::Applied, 0)
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

    /// Commits and keeps the lock (one that outlives the commit) for the next batch.
    fn commit_keeping_lock(&mut self) -> Result<()> {
        if let Err(e) = self.commit_with_pending() {
            return self.abort(e);
        }
        Ok(())
    }

    /// Commits, then releases the lock.
    fn leave(&mut self) -> Result<()> {
        let committed = self.commit_with_pending();
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

    /// Leaves `sql` for the open transaction to send as it commits, after what is already
    /// waiting.
    ///
    /// A fresh database's version table waits this way too, where DDL is transactional:
    /// SQLite parses its whole schema again after each `ALTER TABLE` in a transaction, and a
    /// version table created first would be parsed each time (a fresh upgrade in one
    /// transaction spent 1.5 % of its instructions on that). Created in the same
    /// transaction either way, it is there exactly when the migrations are.
    pub(super) fn write_at_commit(&mut self, sql: String) {
        self.pending_writes = Some(match self.pending_writes.take() {
            Some(mut waiting) => {
                waiting.push_str(";\n");
                waiting.push_str(&sql);
                waiting
            }
            None => sql,
        });
    }

    /// Commits, sending what waited for the commit first.
    fn commit_with_pending(&mut self) -> Result<()> {
        match self.pending_writes.take() {
            Some(writes) => self.backend.commit_after(&writes),
            None => self.backend.commit(),
        }
    }

    /// Sends what waits for the commit now, for a transaction that commits without it (the
    /// one that took the lock, before a migration that runs outside a transaction).
    pub(super) fn write_pending_now(&mut self) -> Result<()> {
        match self.pending_writes.take() {
            Some(writes) => self.backend.write_versions(&writes),
            None => Ok(()),
        }
    }

    fn abort<T>(&mut self, error: Error) -> Result<T> {
        self.roll_back();
        let _ = self.backend.unlock();
        Err(error)
    }

    /// Rolls the open transaction back, and with it what waited for its commit.
    pub(super) fn roll_back(&mut self) {
        self.pending_writes = None;
        self.backend.rollback();
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
                    .record(&AppliedRow::for_revision(rev, RowState::Stamped, 0))?;
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
}
