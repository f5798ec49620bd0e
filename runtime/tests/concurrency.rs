//! Runners started at once on one database, each applying one migration per transaction:
//! between its transactions another runner may move the database, and each step re-checks
//! under the lock only the rows it depends on (falling back to a full re-read when they
//! moved). Every migration must be applied exactly once, and every runner must succeed.
//! On every backend: SQLite's lock is its write transaction, PostgreSQL's an advisory lock,
//! MySQL's `GET_LOCK`.

mod support;

use std::collections::BTreeMap;

use retort::{Graph, Options, Runner, TransactionMode};
use support::{in_mode, rev, TestDb};

fn id(i: usize) -> String {
    format!("r{i:03}")
}

/// A chain of `n` migrations: a table, then a column each.
fn chain(n: usize) -> Graph {
    let revisions: Vec<_> = (0..n)
        .map(|i| {
            let parent = (i > 0).then(|| id(i - 1));
            let up = if i == 0 {
                r#"create_table("t", column("id", integer, autoincrement), primary_key(["id"]))"#
                    .to_string()
            } else {
                format!(r#"add_column("t", column("c{i}", integer, nullable))"#)
            };
            let down = if i == 0 {
                r#"drop_table("t")"#.to_string()
            } else {
                format!(r#"drop_column("t", "c{i}")"#)
            };
            rev(&id(i), parent.as_deref(), &up, &down)
        })
        .collect();
    Graph::from_revisions(revisions)
}

/// Threads race for the lock; however they interleave, the outcome is the same.
#[test]
fn per_migration_runners_at_once_apply_each_migration_once() {
    let n = 40;
    let graph = chain(n);
    for db in TestDb::all() {
        let name = db.dialect.name();
        let runners = 6;
        let applied: Vec<Vec<String>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..runners)
                .map(|_| {
                    s.spawn(|| {
                        let options = in_mode(TransactionMode::PerMigration);
                        Runner::connect(&graph, &db.url, options)
                            .unwrap()
                            .upgrade("head")
                            .unwrap_or_else(|e| panic!("{name}: {e}"))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        // Each migration applied by exactly one runner.
        let mut by_revision: BTreeMap<String, usize> = BTreeMap::new();
        for list in &applied {
            for r in list {
                *by_revision.entry(r.clone()).or_default() += 1;
            }
        }
        assert_eq!(by_revision.len(), n, "{name}: {applied:?}");
        assert!(
            by_revision.values().all(|&k| k == 1),
            "{name}: {by_revision:?}"
        );
        // The version table and the schema are at head.
        let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        assert_eq!(runner.applied_rows().unwrap().len(), n, "{name}");
        assert_eq!(runner.current().unwrap(), [id(n - 1)], "{name}");
        let head = graph.head_schema().unwrap();
        assert_eq!(
            runner.differences(&head).unwrap(),
            Vec::<String>::new(),
            "{name}"
        );
        assert!(runner.upgrade("head").unwrap().is_empty(), "{name}");
    }
}

/// The interleaving made certain: between two of runner A's transactions, runner B applies
/// A's next migration. A's next step sees it under the lock, re-reads, and goes on with the
/// rest; nothing is applied twice. Where the lock outlives a commit (MySQL's session lock),
/// A keeps it from one migration to the next: B cannot get in between, and waits.
///
/// A long run on PostgreSQL (32 migrations or more left after its first commit) hands the
/// lock to a second connection's open transaction once that has connected, in the
/// background: B either gets in before (and A goes on past it) or waits.
#[test]
fn a_step_taken_by_another_runner_between_transactions_is_not_repeated() {
    for n in [6, 40] {
        between_transactions(n);
    }
}

fn between_transactions(n: usize) {
    let graph = chain(n);
    for db in TestDb::all() {
        let name = format!("{}, {n} migrations", db.dialect.name());
        let options = in_mode(TransactionMode::PerMigration);
        let keeps_lock = db.dialect == retort::schema::sql::Dialect::Mysql;
        let may_keep = db.dialect == retort::schema::sql::Dialect::Postgres && n > 32;
        let mut taken_by_b = Vec::new();
        let mut b_waited = false;
        let applied_by_a = {
            let mut runner_a = Runner::connect(&graph, &db.url, options.clone())
                .unwrap()
                .with_log(|line| {
                    // After A's second commit, B tries the next one.
                    if line.starts_with(&format!("applied {}", id(1))) {
                        let b_options = Options {
                            lock_timeout: std::time::Duration::from_millis(500),
                            ..options.clone()
                        };
                        let mut runner_b = Runner::connect(&graph, &db.url, b_options).unwrap();
                        match runner_b.upgrade("+1") {
                            Ok(taken) => taken_by_b = taken,
                            Err(retort::Error::LockTimeout { .. }) => b_waited = true,
                            Err(e) => panic!("{name}: {e}"),
                        }
                    }
                });
            runner_a.upgrade("head").unwrap()
        };
        if keeps_lock || (may_keep && b_waited) {
            assert!(b_waited && taken_by_b.is_empty(), "{name}: {taken_by_b:?}");
            let all: Vec<String> = (0..n).map(id).collect();
            assert_eq!(applied_by_a, all, "{name}");
        } else {
            assert_eq!(taken_by_b, [id(2)], "{name}");
            let expected_a: Vec<String> = (0..n).filter(|&i| i != 2).map(id).collect();
            assert_eq!(applied_by_a, expected_a, "{name}");
        }
        let mut check = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        assert_eq!(check.applied_rows().unwrap().len(), n, "{name}");
        let head = graph.head_schema().unwrap();
        assert_eq!(
            check.differences(&head).unwrap(),
            Vec::<String>::new(),
            "{name}"
        );
    }
}

/// The connection that holds the lock through a long run on PostgreSQL ends (the server or
/// a pooler closed it): the run stops before its next statement with an error that says
/// so, every migration it reported is recorded, and the next run finishes the rest.
#[test]
fn a_long_run_whose_lock_keeper_ends_stops_and_the_next_run_finishes() {
    let n = 100;
    let graph = chain(n);
    let Some(db) = TestDb::on_server("RETORT_PG_URL") else {
        return;
    };
    let options = in_mode(TransactionMode::PerMigration);
    let mut reported = Vec::new();
    let mut killed = false;
    // Between two of the run's transactions a lock is held only by its keeper.
    let held = "SELECT COUNT(*) AS n FROM pg_locks l WHERE l.locktype = 'advisory' AND l.classid = 1920234100::oid AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())";
    let result = Runner::connect(&graph, &db.url, options.clone())
        .unwrap()
        .with_log(|line| {
            let Some(rest) = line.strip_prefix("applied ") else {
                return;
            };
            reported.push(rest.split_whitespace().next().unwrap_or("").to_string());
            if killed {
                return;
            }
            if db.count(held) == 1 {
                db.exec("SELECT pg_terminate_backend(l.pid) FROM pg_locks l WHERE l.locktype = 'advisory' AND l.classid = 1920234100::oid AND l.granted AND l.pid <> pg_backend_pid() AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())");
                killed = true;
                // Past the keeper's heartbeat, so the next statement asks it.
                std::thread::sleep(std::time::Duration::from_millis(1100));
            } else {
                // (Time for the keeper to connect in the background.)
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        })
        .upgrade("head");
    assert!(killed, "a keeper took the lock over during the run");
    let e = result.expect_err("the run stops once its keeper is gone");
    assert!(
        e.to_string()
            .contains("the connection holding the migration lock ended"),
        "{e}"
    );
    let mut runner = Runner::connect(&graph, &db.url, options).unwrap();
    let rows = runner.applied_rows().unwrap();
    assert!(rows.len() < n, "{rows:?}");
    assert!(rows.iter().all(|r| r.state == "applied"), "{rows:?}");
    assert!(
        reported
            .iter()
            .all(|r| rows.iter().any(|row| row.revision == *r)),
        "reported {reported:?}, recorded {rows:?}"
    );
    let rest = runner.upgrade("head").unwrap();
    assert_eq!(rows.len() + rest.len(), n);
    let head = graph.head_schema().unwrap();
    assert_eq!(runner.differences(&head).unwrap(), Vec::<String>::new());
}

/// A long run on PostgreSQL whose statement gives up waiting for a table lock after its
/// keeper took the migration lock over: the batch is rolled back, the keeper let go, and
/// the run takes the lock again and finishes once the table is free; nothing applied twice.
#[test]
fn a_long_run_retried_after_a_lock_wait_finishes() {
    let n = 60;
    let graph = chain(n);
    let Some(db) = TestDb::on_server("RETORT_PG_URL") else {
        return;
    };
    let options = Options {
        transaction: TransactionMode::PerMigration,
        ddl_lock_timeout: Some(std::time::Duration::from_millis(100)),
        ddl_lock_retries: 6,
        ..Options::default()
    };
    let held = "SELECT COUNT(*) AS n FROM pg_locks l WHERE l.locktype = 'advisory' AND l.classid = 1920234100::oid AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())";
    let (blocked_tx, blocked_rx) = std::sync::mpsc::channel::<()>();
    let mut blocked = false;
    let mut retried = false;
    let done = std::thread::scope(|s| {
        let url = db.url.clone();
        let mut blocker = Some(s.spawn(move || {
            // Holds `t` for a while once asked: the run's next ALTER gives up at least once.
            if blocked_rx.recv().is_ok() {
                let mut b = retort::backend::connect(&url).unwrap();
                b.execute("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
                    .unwrap();
                std::thread::sleep(std::time::Duration::from_millis(400));
                b.execute("COMMIT").unwrap();
            }
        }));
        let result = Runner::connect(&graph, &db.url, options.clone())
            .unwrap()
            .with_log(|line| {
                if line.contains("gave up; nothing was kept") {
                    retried = true;
                }
                if blocked || !line.starts_with("applied ") {
                    return;
                }
                if db.count(held) == 1 {
                    blocked = true;
                    blocked_tx.send(()).unwrap();
                    // (Until the blocker holds the table.)
                    let started = std::time::Instant::now();
                    while db.count("SELECT COUNT(*) AS n FROM pg_locks l WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock' AND l.granted AND l.pid <> pg_backend_pid() AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())") == 0 {
                        assert!(started.elapsed() < std::time::Duration::from_secs(10));
                        std::thread::sleep(std::time::Duration::from_millis(5));
                    }
                } else {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            })
            .upgrade("head");
        drop(blocked_tx);
        blocker.take().unwrap().join().unwrap();
        result
    });
    let done = done.unwrap_or_else(|e| panic!("{e}"));
    assert!(blocked, "a keeper took the lock over during the run");
    assert!(retried, "the blocked statement gave up and was tried again");
    assert_eq!(done.len(), n);
    let mut runner = Runner::connect(&graph, &db.url, options).unwrap();
    assert_eq!(runner.applied_rows().unwrap().len(), n);
    assert_eq!(
        db.count(
            "SELECT COUNT(*) AS n FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        0
    );
    let head = graph.head_schema().unwrap();
    assert_eq!(runner.differences(&head).unwrap(), Vec::<String>::new());
}
