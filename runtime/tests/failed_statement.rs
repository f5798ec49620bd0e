//! A migration whose long statement fails: the error shows the statement trimmed around
//! where the database says it failed (each backend's own message), with what was left out
//! counted, and carries the whole statement for `--verbose`.

mod support;

use retort::{Error, Graph, Options, Runner};

#[test]
fn a_long_failing_statement_is_shown_around_the_failure_on_every_backend() {
    let values: Vec<String> = (0..2000).map(|i| format!("({i})")).collect();
    let sql = format!(
        "INSERT INTO t (id) VALUES {}, (oops), {}",
        values[..1000].join(", "),
        values[1000..].join(", ")
    );
    let graph = Graph::from_revisions(vec![
        support::creates("r1", None, "t"),
        support::rev("r2", Some("r1"), &format!("execute(\"{sql}\")"), ""),
    ]);
    for db in support::TestDb::all() {
        let name = db.dialect.name();
        let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        let err = runner.upgrade("head").unwrap_err();
        let shown = err.to_string();
        let Error::MigrationFailed { statement, .. } = &err else {
            panic!("{name}: {err:?}");
        };
        assert_eq!(statement, &sql, "{name}: the whole statement is kept");
        let line = shown
            .lines()
            .find(|l| l.starts_with("statement: "))
            .unwrap_or_else(|| panic!("{name}: {shown}"));
        assert!(
            line.contains("(oops)"),
            "{name}: around the failure: {line}"
        );
        assert!(line.contains("characters left out"), "{name}: {line}");
        assert!(line.len() < 1000, "{name}: {} characters shown", line.len());
        assert!(
            line.contains(&format!("{} characters in all", sql.len())),
            "{name}: {line}"
        );
    }
}
