//! Runners through PgBouncer in transaction pooling mode (`scripts/topology.sh`), with
//! migrations that run outside a transaction (`atomic: false`: `CREATE INDEX CONCURRENTLY`)
//! between ones that run in one. Outside a transaction the lock is held by a second
//! connection's open transaction, which keeps its server connection through the pooler;
//! a session lock would be taken on one pooled server connection and released on another,
//! and stay behind. Eight runners at once, both transaction modes, several rounds: each
//! migration applied once, every runner succeeds, no advisory lock is left in `pg_locks`,
//! and a later runner is not held up. A downgrade through the pooler runs the concurrent
//! drops the same way.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use retort::{DatabaseUrl, Graph, Options, Runner, TransactionMode};
use support::{rev, rev_outside, TestDb};

fn graph() -> Graph {
    Graph::from_revisions([
        rev(
            "r1",
            None,
            r#"create_table("t", column("id", integer, autoincrement), column("a", integer, nullable), primary_key(["id"]))"#,
            r#"drop_table("t")"#,
        ),
        rev_outside(
            "r2",
            Some("r1"),
            r#"execute("CREATE INDEX CONCURRENTLY ix_t_a ON t (a)")"#,
            r#"execute("DROP INDEX CONCURRENTLY ix_t_a")"#,
        ),
        rev(
            "r3",
            Some("r2"),
            r#"add_column("t", column("b", integer, nullable))"#,
            r#"drop_column("t", "b")"#,
        ),
        rev_outside(
            "r4",
            Some("r3"),
            r#"execute("CREATE INDEX CONCURRENTLY ix_t_b ON t (b)")"#,
            r#"execute("DROP INDEX CONCURRENTLY ix_t_b")"#,
        ),
    ])
}

fn advisory_locks(db: &TestDb) -> i64 {
    db.count("SELECT COUNT(*) AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = current_database()")
}

fn indexes(db: &TestDb) -> i64 {
    db.count("SELECT COUNT(*) AS n FROM pg_indexes WHERE tablename = 't' AND indexname IN ('ix_t_a', 'ix_t_b')")
}

#[test]
fn runners_through_pgbouncer_apply_migrations_outside_a_transaction_once_and_leave_no_lock() {
    let graph = graph();
    let modes = [TransactionMode::All, TransactionMode::PerMigration];
    for round in 0..3 {
        for mode in modes {
            let Some(db) = TestDb::on_server("RETORT_PG_URL") else {
                return;
            };
            let Some(url) = db.through("RETORT_BOUNCER_URL") else {
                return;
            };
            let url = DatabaseUrl::parse(&url).unwrap();
            let what = format!("round {round}, {mode:?}");
            let options = Options {
                transaction: mode,
                lock_timeout: Duration::from_secs(30),
                ..Options::default()
            };
            let applied: Vec<Vec<String>> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..8)
                    .map(|_| {
                        s.spawn(|| {
                            Runner::connect(&graph, &url, options.clone())
                                .unwrap()
                                .upgrade("head")
                                .unwrap_or_else(|e| panic!("{what}: {e}"))
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let mut by_revision: BTreeMap<String, usize> = BTreeMap::new();
            for r in applied.iter().flatten() {
                *by_revision.entry(r.clone()).or_default() += 1;
            }
            assert_eq!(
                by_revision,
                ["r1", "r2", "r3", "r4"]
                    .into_iter()
                    .map(|r| (r.to_string(), 1))
                    .collect(),
                "{what}: each migration applied once: {applied:?}"
            );
            assert_eq!(indexes(&db), 2, "{what}");
            assert_eq!(advisory_locks(&db), 0, "{what}: no advisory lock left");
            // Not held up by a stranded lock.
            let started = Instant::now();
            let mut later = Runner::connect(&graph, &url, options.clone()).unwrap();
            assert!(later.upgrade("head").unwrap().is_empty(), "{what}");
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{what}: a later runner took {:?}",
                started.elapsed()
            );
            // Down through the pooler: the concurrent drops run outside a transaction too.
            assert_eq!(later.downgrade("r1").unwrap(), ["r4", "r3", "r2"], "{what}");
            assert_eq!(indexes(&db), 0, "{what}");
            assert_eq!(advisory_locks(&db), 0, "{what}: after the downgrade");
        }
    }
}

/// A long chain (a second connection holds the lock through the rest of a long run), with
/// migrations outside a transaction among the others: through the pooler, four runners at
/// once, one transaction per migration. Each migration applied once, no lock left.
#[test]
fn long_runs_through_pgbouncer_hand_the_lock_to_a_keeper_and_leave_none() {
    let n = 40;
    let id = |i: usize| format!("r{i:03}");
    let graph = Graph::from_revisions((0..n).map(|i| {
        let parent = (i > 0).then(|| id(i - 1));
        match i {
            0 => rev(
                &id(i),
                None,
                r#"create_table("t", column("id", integer, autoincrement), primary_key(["id"]))"#,
                r#"drop_table("t")"#,
            ),
            i if i % 10 == 5 => rev_outside(
                &id(i),
                parent.as_deref(),
                &format!(
                    r#"execute("CREATE INDEX CONCURRENTLY ix_t_c{} ON t (c{})")"#,
                    i - 1,
                    i - 1
                ),
                &format!(r#"execute("DROP INDEX CONCURRENTLY ix_t_c{}")"#, i - 1),
            ),
            i => rev(
                &id(i),
                parent.as_deref(),
                &format!(r#"add_column("t", column("c{i}", integer, nullable))"#),
                &format!(r#"drop_column("t", "c{i}")"#),
            ),
        }
    }));
    let Some(db) = TestDb::on_server("RETORT_PG_URL") else {
        return;
    };
    let Some(url) = db.through("RETORT_BOUNCER_URL") else {
        return;
    };
    let url = DatabaseUrl::parse(&url).unwrap();
    let options = Options {
        transaction: TransactionMode::PerMigration,
        lock_timeout: Duration::from_secs(60),
        ..Options::default()
    };
    let applied: Vec<Vec<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    Runner::connect(&graph, &url, options.clone())
                        .unwrap()
                        .upgrade("head")
                        .unwrap_or_else(|e| panic!("{e}"))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut by_revision: BTreeMap<String, usize> = BTreeMap::new();
    for r in applied.iter().flatten() {
        *by_revision.entry(r.clone()).or_default() += 1;
    }
    assert_eq!(by_revision.len(), n, "{applied:?}");
    assert!(by_revision.values().all(|&k| k == 1), "{by_revision:?}");
    assert_eq!(advisory_locks(&db), 0, "no advisory lock left");
    let mut later = Runner::connect(&graph, &url, options).unwrap();
    assert!(later.upgrade("head").unwrap().is_empty());
    // (The indexes are made by `execute`, which the schema model does not follow.)
    let columns = db.count("SELECT COUNT(*) AS n FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 't'");
    let indexes = db.count(
        "SELECT COUNT(*) AS n FROM pg_indexes WHERE tablename = 't' AND indexname LIKE 'ix_t_c%'",
    );
    assert_eq!((columns, indexes), (1 + 35, 4));
}
