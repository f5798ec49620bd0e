//! `Runner::with_progress`: before each migration runs, where the run is (`upgrading 2/3:
//! <revision> (<message>)`), in either transaction mode and when downgrading — what a
//! terminal's status line shows while a long run has committed nothing yet.

mod support;

use std::cell::RefCell;

use retort::{Graph, Options, Runner, TransactionMode};

fn graph() -> Graph {
    Graph::from_revisions(vec![
        support::creates("r1", None, "a"),
        support::creates("r2", Some("r1"), "b"),
        support::creates("r3", Some("r2"), "c"),
    ])
}

#[test]
fn progress_names_each_migration_and_its_place_before_it_runs() {
    let graph = graph();
    for transaction in [TransactionMode::All, TransactionMode::PerMigration] {
        let db = support::Db::new();
        let seen = RefCell::new(Vec::new());
        let logged = RefCell::new(Vec::new());
        {
            let options = Options {
                transaction,
                ..Options::default()
            };
            let mut runner = Runner::connect(&graph, &db.url(), options)
                .unwrap()
                .with_log(|l| logged.borrow_mut().push(l.to_string()))
                .with_progress(|p| seen.borrow_mut().push(p.to_string()));
            runner.upgrade("r1").unwrap();
            runner.upgrade("head").unwrap();
            runner.downgrade("base").unwrap();
        }
        assert_eq!(
            seen.into_inner(),
            [
                "upgrading 1/1: r1 (r1)",
                "upgrading 1/2: r2 (r2)",
                "upgrading 2/2: r3 (r3)",
                "downgrading 1/3: r3 (r3)",
                "downgrading 2/3: r2 (r2)",
                "downgrading 3/3: r1 (r1)",
            ],
            "{transaction:?}"
        );
        // The log still says what was committed, once each.
        let logged = logged.into_inner();
        assert_eq!(
            logged.iter().filter(|l| l.starts_with("applied ")).count(),
            3,
            "{logged:?}"
        );
        assert_eq!(
            logged.iter().filter(|l| l.starts_with("reverted ")).count(),
            3,
            "{logged:?}"
        );
    }
}

#[test]
fn a_migration_of_several_steps_reports_each_step() {
    let graph = Graph::from_revisions(vec![
        support::creates("r1", None, "a"),
        support::rev(
            "r2",
            Some("r1"),
            r#"add_column("a", column("x", integer, nullable)), add_column("a", column("y", text, nullable))"#,
            r#"drop_column("a", "y"), drop_column("a", "x")"#,
        ),
    ]);
    let db = support::Db::new();
    let seen = RefCell::new(Vec::new());
    Runner::connect(&graph, &db.url(), Options::default())
        .unwrap()
        .with_progress(|p| seen.borrow_mut().push(p.to_string()))
        .upgrade("head")
        .unwrap();
    let seen = seen.into_inner();
    assert_eq!(seen.len(), 4, "{seen:#?}");
    assert_eq!(seen[0], "upgrading 1/2: r1 (r1)");
    assert_eq!(seen[1], "upgrading 2/2: r2 (r2)");
    assert!(
        seen[2].starts_with("upgrading 2/2: r2: step 1/2, ") && seen[2].contains("a.x"),
        "{seen:#?}"
    );
    assert!(
        seen[3].starts_with("upgrading 2/2: r2: step 2/2, ") && seen[3].contains("a.y"),
        "{seen:#?}"
    );
}
