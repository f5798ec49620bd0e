//! A migration's statement queued behind another session's long transaction waits at most
//! the DDL lock timeout, gives up and is tried again after a pause, so that the other
//! sessions' reads of the table (which queue behind the waiting statement) are held up for
//! no longer than the timeout; the migration completes once the long transaction ends. When
//! every try gives up, the error names the session in the way and nothing is changed.
//! On PostgreSQL (`lock_timeout`; a migration in a transaction is retried whole, one with
//! `atomic: false` statement by statement) and MariaDB (`lock_wait_timeout`, statement by
//! statement). SQLite takes its write lock before anything runs (its busy timeout).

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use retort::schema::sql::Dialect;
use retort::{Error, Graph, Options, Runner};
use support::{rev, rev_outside, TestDb};

const ADD_NOTE: &str = r#"add_column("tasks", column("note", text, nullable))"#;
const DROP_NOTE: &str = r#"drop_column("tasks", "note")"#;

/// `tasks`, then a column added to it (in a transaction, or `atomic: false`).
fn graph(atomic: bool) -> Graph {
    let make = if atomic { rev } else { rev_outside };
    Graph::from_revisions([
        rev(
            "r1",
            None,
            r#"create_table("tasks", column("id", integer, autoincrement), column("title", text), primary_key(["id"]))"#,
            r#"drop_table("tasks")"#,
        ),
        make("r2", Some("r1"), ADD_NOTE, DROP_NOTE),
    ])
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(backend: &mut dyn retort::backend::Backend, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .load::<N>(backend.connection())
        .unwrap_or_else(|e| panic!("{sql}: {e}"))[0]
        .n
}

/// What one run saw.
struct Run {
    /// The longest a read of `tasks` by another session took while the migration ran.
    worst_read: Duration,
    /// The upgrade's outcome.
    outcome: Result<Vec<String>, Error>,
    /// The session id of the long transaction.
    holder: i64,
}

/// A database at r1 with rows; one session opens a transaction that reads `tasks` and keeps
/// it open for `hold`; another reads `tasks` every 20 ms; the upgrade to r2 starts once the
/// reads run.
fn run_behind_a_long_transaction(
    db: &TestDb,
    graph: &Graph,
    options: Options,
    hold: Duration,
) -> Run {
    Runner::connect(graph, &db.url, Options::default())
        .unwrap()
        .upgrade("r1")
        .unwrap();
    db.exec("INSERT INTO tasks (title) VALUES ('a'), ('b'), ('c')");
    let session_id = match db.dialect {
        Dialect::Postgres => "SELECT pg_backend_pid()::bigint AS n",
        _ => "SELECT CONNECTION_ID() AS n",
    };
    let stop = AtomicBool::new(false);
    let (ready, holding) = mpsc::channel();
    std::thread::scope(|s| {
        let holder = s.spawn(|| {
            let mut b = db.backend();
            let id = count(&mut *b, session_id);
            b.execute("BEGIN").unwrap();
            assert_eq!(count(&mut *b, "SELECT COUNT(*) AS n FROM tasks"), 3);
            ready.send(()).unwrap();
            std::thread::sleep(hold);
            b.execute("COMMIT").unwrap();
            id
        });
        holding.recv().unwrap();
        let reader = s.spawn(|| {
            let mut b = db.backend();
            let mut worst = Duration::ZERO;
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                count(&mut *b, "SELECT COUNT(*) AS n FROM tasks");
                worst = worst.max(started.elapsed());
                std::thread::sleep(Duration::from_millis(20));
            }
            worst
        });
        std::thread::sleep(Duration::from_millis(200));
        let outcome = Runner::connect(graph, &db.url, options)
            .unwrap()
            .upgrade("head");
        // Reads go on a little after the upgrade: one queued behind its last try ends too.
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, Ordering::Relaxed);
        Run {
            worst_read: reader.join().unwrap(),
            outcome,
            holder: holder.join().unwrap(),
        }
    })
}

/// The migration shapes each server has: in a transaction, and (PostgreSQL, where DDL is
/// transactional) `atomic: false` too.
fn shapes(dialect: Dialect) -> Vec<bool> {
    match dialect {
        Dialect::Postgres => vec![true, false],
        _ => vec![true],
    }
}

fn timeout(secs: f64, retries: u32) -> Options {
    Options {
        ddl_lock_timeout: Some(Duration::from_secs_f64(secs)),
        ddl_lock_retries: retries,
        ..Options::default()
    }
}

#[test]
fn a_statement_waiting_for_a_lock_gives_way_to_reads_and_completes_after() {
    let hold = Duration::from_secs(4);
    for template in TestDb::servers() {
        let name = template.dialect.name();
        for atomic in shapes(template.dialect) {
            let graph = graph(atomic);
            let what = format!("{name}, atomic: {atomic}");
            // Without a timeout, the statement waits in the queue for the whole transaction,
            // and so does every read behind it.
            let unbounded = run_behind_a_long_transaction(
                &template.another(),
                &graph,
                Options {
                    ddl_lock_timeout: None,
                    ..Options::default()
                },
                hold,
            );
            assert_eq!(unbounded.outcome.unwrap(), ["r2"], "{what}");
            // With one of a second (MySQL's smallest), each try holds reads up for at most
            // about that long; the tries go on until the transaction ends.
            let db = template.another();
            let bounded = run_behind_a_long_transaction(&db, &graph, timeout(1.0, 10), hold);
            assert_eq!(
                bounded.outcome.unwrap(),
                ["r2"],
                "{what}: completes after the transaction"
            );
            assert_eq!(db.count("SELECT COUNT(*) AS n FROM tasks"), 3, "{what}");
            eprintln!(
                "{what}: worst read of the table while the migration waited: {:?} without a lock timeout, {:?} with 1 s",
                unbounded.worst_read, bounded.worst_read
            );
            assert!(
                unbounded.worst_read > Duration::from_millis(2500),
                "{what}: without a timeout, reads queue behind the waiting statement ({:?})",
                unbounded.worst_read
            );
            assert!(
                bounded.worst_read < Duration::from_millis(1900),
                "{what}: with a 1 s timeout, no read waits much longer than 1 s ({:?})",
                bounded.worst_read
            );
            assert!(bounded.worst_read * 2 < unbounded.worst_read, "{what}");
        }
    }
}

#[test]
fn a_statement_that_keeps_giving_up_names_the_session_in_the_way_and_changes_nothing() {
    for template in TestDb::servers() {
        let name = template.dialect.name();
        for atomic in shapes(template.dialect) {
            let graph = graph(atomic);
            let what = format!("{name}, atomic: {atomic}");
            let db = template.another();
            // Two tries of 1 s with a 1 s pause between: over before the transaction ends.
            let run =
                run_behind_a_long_transaction(&db, &graph, timeout(1.0, 1), Duration::from_secs(5));
            let message = match run.outcome {
                Err(e @ Error::LockWait { .. }) => e.to_string(),
                other => panic!("{what}: expected a lock wait refusal, got {other:?}"),
            };
            for said in [
                "migration r2 could not get the lock its statement needs: each of 2 tries waited 1 s",
                "ADD COLUMN",
                "in the way: ",
                "--ddl-lock-timeout",
            ] {
                assert!(message.contains(said), "{what}: `{said}` in:\n{message}");
            }
            let holder = match db.dialect {
                Dialect::Postgres => format!("pid {}", run.holder),
                _ => format!("session {}", run.holder),
            };
            assert!(
                message.contains(&holder),
                "{what}: names {holder}:\n{message}"
            );
            // PostgreSQL shows an idle session's last statement; MySQL only that it idles
            // in an open transaction.
            let doing = match db.dialect {
                Dialect::Postgres => "idle in transaction, transaction open",
                _ => "idle, transaction open",
            };
            assert!(
                message.contains(doing),
                "{what}: says what it does:\n{message}"
            );
            if db.dialect == Dialect::Postgres {
                assert!(
                    message.contains("SELECT COUNT(*) AS n FROM tasks"),
                    "{what}: shows its query:\n{message}"
                );
            }
            // Nothing changed: still at r1 (no half-recorded row), no new column.
            let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
            assert_eq!(runner.current().unwrap(), ["r1"], "{what}");
            let rows = runner.applied_rows().unwrap();
            assert!(
                rows.iter().all(|r| r.state == "applied"),
                "{what}: {rows:?}"
            );
            let live = runner.introspect().unwrap();
            assert!(live.tables["tasks"].column("note").is_none(), "{what}");
            // Once the transaction has ended, the same upgrade goes through.
            assert_eq!(runner.upgrade("head").unwrap(), ["r2"], "{what}");
        }
    }
}

/// `CREATE INDEX CONCURRENTLY` waits for every older snapshot; when it gives up it leaves
/// its index `INVALID`, and the same statement tried again would fail with "already
/// exists". The retry removes the invalid index first, and the index is built (valid) once
/// the long transaction ends.
#[test]
fn a_concurrent_index_build_that_gave_up_is_built_again_not_refused() {
    let Some(db) = TestDb::on_server("RETORT_PG_URL") else {
        return;
    };
    let graph = Graph::from_revisions([
        rev(
            "r1",
            None,
            r#"create_table("tasks", column("id", integer, autoincrement), column("title", text), primary_key(["id"]))"#,
            r#"drop_table("tasks")"#,
        ),
        rev_outside(
            "r2",
            Some("r1"),
            r#"execute("CREATE INDEX CONCURRENTLY ix_tasks_title ON tasks (title)")"#,
            r#"execute("DROP INDEX CONCURRENTLY ix_tasks_title")"#,
        ),
    ]);
    let run = run_behind_a_long_transaction(&db, &graph, timeout(0.5, 20), Duration::from_secs(3));
    assert_eq!(run.outcome.unwrap(), ["r2"]);
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'ix_tasks_title' AND i.indisvalid"),
        1,
        "the index is there and valid"
    );
    let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
    assert_eq!(runner.current().unwrap(), ["r2"]);
    let rows = runner.applied_rows().unwrap();
    assert!(rows.iter().all(|r| r.state == "applied"), "{rows:?}");
    // And down again: the concurrent drop.
    assert_eq!(runner.downgrade("r1").unwrap(), ["r2"]);
}

#[test]
fn the_lock_timeout_settings_are_read_from_the_environment_and_refused_when_unreadable() {
    assert_eq!(
        retort::runner::parse_ddl_lock_timeout("0.25"),
        Ok(Some(Duration::from_millis(250)))
    );
    assert_eq!(retort::runner::parse_ddl_lock_timeout("0"), Ok(None));
    for bad in ["-1", "soon", "", "1e9"] {
        let e = retort::runner::parse_ddl_lock_timeout(bad).unwrap_err();
        assert!(e.contains("seconds"), "{bad}: {e}");
    }
    let d = Options::default();
    assert_eq!(
        (d.ddl_lock_timeout, d.ddl_lock_retries),
        (Some(Duration::from_secs(5)), 3)
    );
    // No other test of this binary reads these variables.
    std::env::set_var("RETORT_DDL_LOCK_TIMEOUT", "off");
    std::env::set_var("RETORT_DDL_LOCK_RETRIES", "7");
    let o = Options::default().with_env_lock_settings().unwrap();
    assert_eq!((o.ddl_lock_timeout, o.ddl_lock_retries), (None, 7));
    std::env::set_var("RETORT_DDL_LOCK_RETRIES", "many");
    let e = Options::default().with_env_lock_settings().unwrap_err();
    assert!(
        e.to_string().contains("RETORT_DDL_LOCK_RETRIES=many"),
        "{e}"
    );
    std::env::set_var("RETORT_DDL_LOCK_RETRIES", "2");
    std::env::set_var("RETORT_DDL_LOCK_TIMEOUT", "later");
    let e = Options::default().with_env_lock_settings().unwrap_err();
    assert!(
        e.to_string().contains("RETORT_DDL_LOCK_TIMEOUT=later"),
        "{e}"
    );
    std::env::remove_var("RETORT_DDL_LOCK_TIMEOUT");
    std::env::remove_var("RETORT_DDL_LOCK_RETRIES");
}
