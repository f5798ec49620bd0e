//! One migration's statements: rendered, run one by one with progress where the database
//! has no transactional DDL, retried after a lock give-up where they run alone.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::{Direction, Options, Runner};
use crate::backend::{versions, AppliedRow, Backend, RowState};
use crate::error::{Error, Result};
use crate::graph::plan::describe_at;
use crate::graph::Revision;
use retort_schema::ops::Op;
use retort_schema::sql::Step;
use retort_schema::Schema;

impl Runner<'_> {
    /// Runs one migration's operations. With `progress` (a database without transactional
    /// DDL), its version row records how many statements ran, so a failure half-way leaves
    /// a visible `dirty K/N` state instead of a silent half-migration.
    pub(super) fn run_ops(
        &mut self,
        rev: &Revision,
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
            Some(Direction::Up) => self.take_resume_point(rev.id()),
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
                    .record(&AppliedRow::for_revision(rev, state(0).into(), 0))?
            }
            Some(Direction::Down) => self.backend.set_state(rev.id(), &state(0).into(), 0)?,
            None => {}
        }
        let mut done = 0;
        let mut changed = resume_at.is_some_and(|at| at > 0);
        for (op, steps) in ops.iter().zip(steps) {
            for step in steps {
                if resume_at.is_some_and(|at| done < at) {
                    done += 1;
                    continue;
                }
                let effective = !matches!(step, Step::Verify { .. });
                let here = StepAt {
                    rev,
                    op,
                    at,
                    progress,
                    changed,
                    resuming: resume_at == Some(done),
                };
                if self.progress.is_some() && total > 1 {
                    let line = format!(
                        "{}: step {}/{total}, {}",
                        self.place,
                        done + 1,
                        op.describe()
                    );
                    self.report(&line);
                }
                if let Err(e) = self.run_step(step, &here) {
                    return Err(self.stopped(e, &here, state(done)));
                }
                done += 1;
                changed |= effective;
                if progress.is_some() && done < total {
                    self.backend.set_state(rev.id(), &state(done).into(), 0)?;
                }
            }
        }
        let ms = started.elapsed().as_millis() as i64;
        match progress {
            Some(Direction::Up) => self.backend.set_state(rev.id(), &RowState::Applied, ms)?,
            Some(Direction::Down) => self.backend.forget(rev.id())?,
            None => {}
        }
        Ok(())
    }

    /// Runs one step of a migration (a lock another process took over, a stalled heartbeat,
    /// stops the run before it).
    fn run_step(&mut self, step: Step, here: &StepAt<'_>) -> Result<()> {
        self.backend.still_locked()?;
        let failed =
            |statement: String, message: String| here.failed(self.graph, statement, message);
        match step {
            // The statement it stopped in: clear what it left (or find it done).
            Step::Sql(statement) if here.resuming && self.finished_before(&statement) => Ok(()),
            Step::Sql(statement) => self.run_statement(statement, false, None, here),
            Step::Batches { batch, walk, .. } => {
                self.run_statement(batch, true, walk.as_ref(), here)
            }
            Step::Verify { query, problem } => match self.backend.query_sample(&query) {
                Ok(None) => Ok(()),
                Ok(Some(sample)) => Err(failed(query, format!("{problem} (for example {sample})"))),
                Err(e) => Err(failed(query, e.to_string())),
            },
            Step::Rust(name) => {
                let f = here.rev.function(&name).ok_or_else(|| Error::Render {
                    revision: here.rev.id().into(),
                    source: format!("`run({name})` names a function this build does not have")
                        .into(),
                })?;
                match f(self.backend.connection()) {
                    Ok(()) => Ok(()),
                    Err(e) => Err(here.failed_with(self.graph, format!("run({name})"), e)),
                }
            }
        }
    }

    /// Runs one statement, or a backfill's batch until it changes no row.
    fn run_statement(
        &mut self,
        statement: String,
        repeat: bool,
        walk: Option<&retort_schema::sql::KeyWalk>,
        here: &StepAt<'_>,
    ) -> Result<()> {
        let run = Run {
            alone: here.progress.is_some(),
            repeat,
            walk,
        };
        match execute_statement(
            &mut *self.backend,
            &self.options,
            &mut *self.log,
            &statement,
            run,
        ) {
            Ok(()) => Ok(()),
            Err(Failure::Database(e)) => Err(here.failed_with(self.graph, statement, e)),
            Err(Failure::GaveUp { tries }) => Err(Error::LockWait {
                revision: here.rev.id().into(),
                outcome: match (here.progress.is_some(), here.changed) {
                    (false, _) => format!(
                        "it was rolled back; the database stays at {}",
                        describe_at(self.graph, here.at)
                    ),
                    (true, false) => format!(
                        "nothing of it ran; the database stays at {}",
                        describe_at(self.graph, here.at)
                    ),
                    (true, true) => "part of it ran".into(),
                },
                blockers: match here.progress {
                    // Nothing to roll back first: ask now, while they hold on.
                    Some(_) => self.backend.lock_blockers(),
                    None => String::new(),
                },
                statement,
                waited: self.options.ddl_lock_timeout.unwrap_or_default(),
                tries,
            }),
        }
    }

    /// The error a migration that stopped at a step ends with. Where only checks had run,
    /// its row is put back (nothing is left half-done); where statements had run on a
    /// database without transactional DDL, the error says how far it got.
    fn stopped(&mut self, e: Error, here: &StepAt<'_>, state: versions::Interrupted) -> Error {
        let rev = here.rev;
        if !here.changed {
            let put_back = match here.progress {
                Some(Direction::Up) => self.backend.forget(rev.id()),
                Some(Direction::Down) => self.backend.set_state(rev.id(), &RowState::Applied, 0),
                None => Ok(()),
            };
            return match put_back {
                Ok(()) => e,
                Err(put_back) => put_back,
            };
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
        match (here.progress, cause) {
            (Some(_), Some(cause)) => {
                let row = AppliedRow::for_revision(rev, state.into(), 0);
                self.interrupted(&row, state, cause)
            }
            _ => e,
        }
    }

    /// A migration's statements as they are rendered: from the schema before it.
    pub(super) fn steps_of(&self, rev: &Revision, upgrade: bool) -> Vec<Step> {
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

    /// For the statement an interrupted run stopped in: clears what it left (an `INVALID`
    /// index) and says whether its work is there already (it ended before it was recorded).
    pub(super) fn finished_before(&mut self, statement: &str) -> bool {
        self.backend.clear_given_up(statement).is_ok() && self.backend.already_done(statement)
    }
}

/// Why a statement did not run.
enum Failure {
    /// The database refused it.
    Database(Box<dyn std::error::Error + Send + Sync>),
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
                    Err(e) => return Err(Failure::Database(Box::new(e))),
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
        "filled {rows} row(s) in {batches} batch(es), {} s",
        crate::seconds::fixed(started.elapsed(), 1)
    ));
    Ok(())
}

/// How a statement runs: `alone` outside a transaction (a lock give-up may be retried),
/// `repeat` again until it changes no row (a backfill's batch).
#[derive(Clone, Copy)]
pub(super) struct Run<'w> {
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
        let error = match ran {
            Ok(changed) => return Ok(changed),
            Err(e) => e,
        };
        if !backend.gave_up_waiting(&error.to_string()) {
            return Err(Failure::Database(Box::new(error)));
        }
        tries += 1;
        if !alone || tries > options.ddl_lock_retries {
            return Err(Failure::GaveUp { tries });
        }
        let pause = options.lock_retry_pause(tries);
        log(&format!(
            "`{statement}` waited {} s for a lock other sessions hold, and gave up; trying it again in {} s (retry {tries} of {})",
            crate::seconds::fixed(options.ddl_lock_timeout.unwrap_or_default(), 1),
            crate::seconds::fixed(pause, 1),
            options.ddl_lock_retries
        ));
        std::thread::sleep(pause);
    }
}

/// A step as a statement to show.
pub(super) fn step_text(step: Step) -> String {
    match step {
        Step::Sql(s) => s,
        Step::Verify { query, .. } => format!("-- check (must return no row): {query}"),
        Step::Rust(name) => format!("-- run({name}) (a Rust data migration)"),
        Step::Batches { batch, .. } => format!("{batch} -- until it changes no row"),
    }
}

/// Where a step of a migration runs: what its errors name, and what its failure leaves.
struct StepAt<'a> {
    rev: &'a Revision,
    op: &'a Op,
    /// The applied set before the migration.
    at: &'a BTreeSet<String>,
    /// `Some` where statements run one by one with progress recorded.
    progress: Option<Direction>,
    /// Whether an effective statement of the migration has run.
    changed: bool,
    /// Whether this is the statement an interrupted run stopped in.
    resuming: bool,
}

impl StepAt<'_> {
    /// A statement's failure, with the operation it belongs to and the fix where one is
    /// known.
    fn failed(&self, graph: &crate::graph::Graph, statement: String, message: String) -> Error {
        self.failed_as(graph, statement, message, None)
    }

    /// A statement's failure with the error that says why (the driver's, a function's).
    fn failed_with(
        &self,
        graph: &crate::graph::Graph,
        statement: String,
        error: Box<dyn std::error::Error + Send + Sync>,
    ) -> Error {
        self.failed_as(graph, statement, error.to_string(), Some(error))
    }

    fn failed_as(
        &self,
        graph: &crate::graph::Graph,
        statement: String,
        message: String,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Error {
        Error::MigrationFailed {
            revision: self.rev.id().into(),
            at: describe_at(graph, self.at).into(),
            operation: match self.op.failure_hint_for(&message) {
                Some(fix) => format!("{}\nfix: {fix}", self.op.describe()),
                None => self.op.describe(),
            }
            .into(),
            statement,
            message: message.into(),
            source,
        }
    }
}
