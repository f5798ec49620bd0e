//! Failures keep what caused them as a typed source (the driver's error, the renderer's,
//! the operation's, the data-migration function's), while their messages stay as users read
//! them.

mod support;

use std::error::Error as _;

use retort::{Error, Graph, Options, Runner};
use support::{rev, Db};

fn upgrade(revisions: Vec<retort::Revision>) -> Error {
    let db = Db::new();
    let graph = Graph::from_revisions(revisions);
    let mut runner = Runner::connect(&graph, &db.url(), Options::default()).unwrap();
    runner.upgrade("head").unwrap_err()
}

#[test]
fn a_failed_statement_carries_the_drivers_error() {
    let err = upgrade(vec![rev(
        "r1",
        None,
        r#"execute("CREATE TABLE t (id INTEGER); CREATE TABLE t (id INTEGER)")"#,
        "",
    )]);
    let Error::MigrationFailed { ref message, .. } = err else {
        panic!("{err}");
    };
    let source = err.source().expect("a source");
    let driver = source
        .downcast_ref::<diesel::result::Error>()
        .unwrap_or_else(|| panic!("not diesel's error: {source:?}"));
    assert_eq!(driver.to_string(), **message);
    assert!(err.to_string().contains("database said: "), "{err}");
    assert!(message.contains("already exists"), "{message}");
}

#[test]
fn an_operation_that_cannot_apply_carries_its_error() {
    // Dropping a table the schema does not have: the operation's own error.
    let err = upgrade(vec![rev("r1", None, r#"drop_table("missing")"#, "")]);
    assert!(matches!(err, Error::Render { .. }), "{err}");
    let source = err.source().expect("a source");
    assert!(
        source.is::<retort::schema::ops::ApplyError>()
            || source.is::<retort::schema::sql::RenderError>(),
        "{source:?}"
    );
    assert!(err.to_string().starts_with("migration r1: "), "{err}");
    assert!(err.to_string().contains("missing"), "{err}");
}

#[test]
fn a_missing_function_is_a_render_error_with_a_message() {
    let err = upgrade(vec![rev("r1", None, "run(nowhere)", "")]);
    assert!(matches!(err, Error::Render { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("`run(nowhere)` names a function this build does not have"),
        "{err}"
    );
}
