//! A fresh database's version table is created inside the first transaction, as its last
//! statement where the DDL is transactional: it is there exactly when that transaction's
//! migrations are, whatever the run does first (nothing at all, a migration outside a
//! transaction, a statement that fails).

mod support;

use retort::{Graph, Runner, TransactionMode};
use support::{creates, in_mode, on_each_fresh_database, rev, rev_outside, TestDb};

fn version_table_exists(db: &TestDb) -> bool {
    db.backend().version_table_exists().unwrap()
}

/// A run with nothing to do still leaves the version table (a downgrade to `base` of a
/// fresh database: it commits no migration and no row).
#[test]
fn nothing_to_do_still_leaves_the_version_table() {
    let graph = Graph::from_revisions([creates("a", None, "t0")]);
    on_each_fresh_database(|db, options, name| {
        let mut runner = Runner::connect(&graph, &db.url, options).unwrap();
        let done = runner.downgrade("base").unwrap();
        assert_eq!(done, Vec::<String>::new(), "{name}");
        drop(runner);
        assert!(version_table_exists(db), "{name}");
    });
}

/// Tables made, changed (an `ALTER TABLE` makes SQLite read its schema again) and recorded
/// in the same transaction as the version table.
#[test]
fn migrations_and_their_rows_arrive_together() {
    let graph = Graph::from_revisions([
        creates("a", None, "t0"),
        rev(
            "b",
            Some("a"),
            r#"add_column("t0", column("n", integer, nullable))"#,
            r#"drop_column("t0", "n")"#,
        ),
        creates("c", Some("b"), "t1"),
    ]);
    on_each_fresh_database(|db, options, name| {
        let mut runner = Runner::connect(&graph, &db.url, options).unwrap();
        assert_eq!(runner.upgrade("head").unwrap().len(), 3, "{name}");
        let mut rows: Vec<String> = runner
            .applied_rows()
            .unwrap()
            .into_iter()
            .map(|r| r.revision)
            .collect();
        rows.sort();
        assert_eq!(rows, ["a", "b", "c"], "{name}");
    });
}

/// A first migration that runs outside a transaction records its progress as it goes: the
/// table is made before its first row.
#[test]
fn a_first_migration_outside_a_transaction_is_recorded() {
    let (up, down) = support::table_ops("t0");
    let graph = Graph::from_revisions([
        rev_outside("a", None, &up, &down),
        creates("b", Some("a"), "t1"),
    ]);
    on_each_fresh_database(|db, options, name| {
        let mut runner = Runner::connect(&graph, &db.url, options).unwrap();
        assert_eq!(runner.upgrade("head").unwrap().len(), 2, "{name}");
        assert_eq!(runner.applied_rows().unwrap().len(), 2, "{name}");
        assert_eq!(runner.upgrade("head").unwrap().len(), 0, "{name}");
    });
}

/// A first transaction that fails leaves nothing: no table, no version table, where the
/// DDL is transactional (MySQL creates the version table first, and keeps it).
#[test]
fn a_failed_first_transaction_leaves_nothing() {
    let graph = Graph::from_revisions([
        creates("a", None, "t0"),
        rev(
            "b",
            Some("a"),
            r#"execute("SELECT nothing FROM nowhere")"#,
            "",
        ),
    ]);
    for db in TestDb::all() {
        if db.dialect == retort::schema::sql::Dialect::Mysql {
            continue;
        }
        let name = db.dialect.name();
        let mut runner = Runner::connect(&graph, &db.url, in_mode(TransactionMode::All)).unwrap();
        assert!(runner.upgrade("head").is_err(), "{name}");
        drop(runner);
        assert!(!version_table_exists(&db), "{name}");
        assert!(
            db.try_exec("SELECT 1 FROM t0").is_err(),
            "{name}: t0 is not there"
        );
        // The next run starts from the same fresh database, and stops at the same place.
        let mut again = Runner::connect(&graph, &db.url, in_mode(TransactionMode::All)).unwrap();
        assert!(again.upgrade("a").is_ok(), "{name}");
        drop(again);
        assert!(version_table_exists(&db), "{name}");
    }
}
