//! A build without retort's `introspect` feature (`default-features = false`): it upgrades
//! databases retort made, and refuses, changing nothing, whatever needs the live schema read
//! (adopting a database made without retort, `check`, `introspect`, `adopt --from`). CI runs
//! it with `-p retort --no-default-features --features sqlite`; with the feature on there is
//! nothing here to test, and the adoption suites cover what the refusals stand for.
#![cfg(not(feature = "introspect"))]

mod support;

use retort::tools::Tool;
use retort::{Error, Graph, Runner};
use support::{creates, TestDb};

fn left_out(e: Error) -> &'static str {
    match e {
        Error::NotInBuild { what, feature } => {
            assert_eq!(feature, "introspect");
            what
        }
        other => panic!("expected the build's refusal, got: {other}"),
    }
}

#[test]
fn a_database_retort_made_upgrades_and_one_made_by_hand_is_refused_unchanged() {
    let graph = Graph::from_revisions([creates("a", None, "t0"), creates("b", Some("a"), "t1")]);

    // A fresh database goes up and down as with the feature.
    let db = TestDb::sqlite();
    let mut runner = Runner::connect(&graph, &db.url, retort::Options::default()).unwrap();
    assert_eq!(runner.upgrade("head").unwrap(), ["a", "b"]);
    assert_eq!(runner.downgrade("a").unwrap(), ["b"]);
    assert_eq!(runner.upgrade("head").unwrap(), ["b"]);
    assert!(left_out(runner.check().unwrap_err()).contains("`check`"));
    assert!(left_out(runner.introspect().unwrap_err()).contains("live schema"));
    drop(runner);

    // A database made without retort: not adopted, not touched.
    let by_hand = TestDb::sqlite();
    by_hand.exec("CREATE TABLE t0 (id integer PRIMARY KEY)");
    by_hand.exec("INSERT INTO t0 VALUES (7)");
    let mut runner = Runner::connect(&graph, &by_hand.url, retort::Options::default()).unwrap();
    let e = runner.upgrade("head").unwrap_err();
    let message = e.to_string();
    assert!(
        left_out(e).contains("adopting a database that has tables but no retort version table"),
        "{message}"
    );
    assert!(
        message.contains("enable retort's `introspect` feature"),
        "{message}"
    );
    let e = runner.adopt_from(Tool::Alembic, None).unwrap_err();
    assert!(left_out(e).contains("another migration tool"));
    drop(runner);
    assert!(!by_hand.backend().version_table_exists().unwrap());
    assert_eq!(by_hand.count("SELECT COUNT(*) AS n FROM t0"), 1);
    assert_eq!(
        by_hand.count("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'"),
        1,
        "no table is made"
    );
}
