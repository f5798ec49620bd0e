//! The online forms of constraints, `NOT NULL` and dropping an index on PostgreSQL (`online
//! = true`, `concurrently = true` in a migration with `atomic: false`): a unique constraint
//! from a concurrently built index, a foreign key and a check added `NOT VALID` then
//! validated, `NOT NULL` through a validated check, `DROP INDEX CONCURRENTLY`. For each: the schema equals the plain form's (`check` clean, the
//! introspected schemas equal), the rows are unchanged, the downgrade works; an upgrade
//! interrupted at any statement boundary — before a statement, or after it ran but before
//! it was recorded — is finished by the next start; and a run killed with SIGKILL while it
//! validates is finished too.

mod support;

use std::time::{Duration, Instant};

use retort::{DatabaseUrl, Graph, Options, Runner};
use retort_schema::sql::{Dialect, Step};
use support::{rev, rev_outside, TestDb};

/// A check whose rows wait, while it is validated, for an advisory lock the test holds.
const GATE: &str = r#"function, "gate", "CREATE FUNCTION gate(x integer) RETURNS boolean LANGUAGE sql AS 'SELECT pg_advisory_lock_shared(7) IS NOT NULL AND x > 0'""#;

/// Each online form: its name, its operation (without the marker), the marker, and its
/// downgrade.
const FORMS: [(&str, &str, &str, &str); 5] = [
    (
        "unique",
        r#"create_unique_constraint("uq_t_a", "t", ["a"]"#,
        "online = true",
        r#"drop_constraint("uq_t_a", "t", type_ = "unique")"#,
    ),
    (
        "foreign key",
        r#"create_foreign_key("fk_t_p_parent", "t", "parent", ["p"], ["id"], on_delete = "cascade""#,
        "online = true",
        r#"drop_constraint("fk_t_p_parent", "t", type_ = "foreignkey")"#,
    ),
    (
        "check",
        r#"create_check_constraint("ck_t_a", "t", "gate(a)""#,
        "online = true",
        r#"drop_constraint("ck_t_a", "t", type_ = "check")"#,
    ),
    (
        "not null",
        r#"alter_column("t", "note", nullable = false"#,
        "online = true",
        r#"alter_column("t", "note", nullable = true)"#,
    ),
    (
        "drop index",
        r#"drop_index("ix_t_note", "t""#,
        "concurrently = true",
        r#"create_index("ix_t_note", "t", ["note"])"#,
    ),
];

/// r1 the tables, r2 `rows` rows, r3 the form (online or plain), r4 a column after it.
fn graph(form: usize, online: bool, rows: i64) -> Graph {
    let (_, op, marker, down) = FORMS[form];
    let r3 = match online {
        true => rev_outside("r3", Some("r2"), &format!("{op}, {marker})"), down),
        false => rev("r3", Some("r2"), &format!("{op})"), down),
    };
    Graph::from_revisions([
        rev(
            "r1",
            None,
            &format!(
                r#"create_object({GATE}), create_table("parent", column("id", integer), primary_key(["id"])), create_table("t", column("id", integer, autoincrement), column("a", integer), column("p", integer, nullable), column("note", text, nullable), primary_key(["id"])), create_index("ix_t_note", "t", ["note"])"#
            ),
            &format!(r#"drop_table("t"), drop_table("parent"), drop_object({GATE})"#),
        ),
        rev(
            "r2",
            Some("r1"),
            &format!(
                r#"execute("INSERT INTO parent (id) SELECT g FROM generate_series(1, 1000) g; INSERT INTO t (a, p, note) SELECT g, g % 1000 + 1, 'n' || g FROM generate_series(1, {rows}) g")"#
            ),
            r#"execute("DELETE FROM t; DELETE FROM parent")"#,
        ),
        r3,
        rev(
            "r4",
            Some("r3"),
            r#"add_column("t", column("c", integer, nullable))"#,
            r#"drop_column("t", "c")"#,
        ),
    ])
}

/// Every row of `t`, in order.
fn rows(db: &TestDb) -> Vec<Vec<Option<String>>> {
    db.rows("t", &["id", "a", "p", "note"])
}

/// At head: applied rows all `applied`, `check` clean, the rows as before.
fn at_head(db: &TestDb, graph: &Graph, before: &[Vec<Option<String>>], what: &str) {
    let mut runner = Runner::connect(graph, &db.url, Options::default()).unwrap();
    assert_eq!(runner.current().unwrap(), ["r4"], "{what}");
    let applied = runner.applied_rows().unwrap();
    assert!(
        applied.iter().all(|r| r.state == "applied"),
        "{what}: {applied:?}"
    );
    assert_eq!(runner.check().unwrap(), Vec::<String>::new(), "{what}");
    assert_eq!(rows(db), before, "{what}: the rows are unchanged");
    // No index or check of the online form's own is left behind.
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM pg_constraint WHERE conname LIKE 'retort_nn_%' OR NOT convalidated"),
        0,
        "{what}"
    );
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM pg_index WHERE NOT indisvalid"),
        0,
        "{what}"
    );
}

#[test]
fn each_online_form_builds_what_the_plain_form_builds_and_goes_down_again() {
    let Some(plain_db) = TestDb::on_server("RETORT_PG_URL") else {
        return;
    };
    for (form, (name, ..)) in FORMS.iter().enumerate() {
        let plain_db = plain_db.another();
        let online_db = plain_db.another();
        let plain = graph(form, false, 5_000);
        let online = graph(form, true, 5_000);
        assert!(plain.get("r3").unwrap().atomic(), "{name}: the plain form");
        assert!(
            !online.get("r3").unwrap().atomic(),
            "{name}: the online form"
        );
        let mut schemas = Vec::new();
        let mut data = Vec::new();
        for (graph, db) in [(&plain, &plain_db), (&online, &online_db)] {
            let mut runner = support::round_trip(graph, db, "r2");
            schemas.push(runner.introspect().unwrap());
            data.push(rows(db));
            // The downgrade past the form and back up.
            runner.downgrade("r2").unwrap();
            let at_r2 = graph.schema_at(&graph.ancestors("r2")).unwrap();
            assert_eq!(
                runner.differences(&at_r2).unwrap(),
                Vec::<String>::new(),
                "{name}: down again"
            );
            runner.upgrade("head").unwrap();
        }
        assert_eq!(schemas[0], schemas[1], "{name}: online = plain");
        assert_eq!(data[0], data[1], "{name}: the same rows");
        assert_eq!(data[0].len(), 5_000, "{name}");
        at_head(&online_db, &online, &data[0], name);
        // The online form is made of the statements that let writers go on.
        let steps = statements(&online, "r3");
        assert!(
            steps
                .iter()
                .flatten()
                .any(|s| s.contains("CONCURRENTLY") || s.contains("NOT VALID")),
            "{name}: {steps:?}"
        );
    }
}

/// The statements of `revision`'s upgrade on PostgreSQL, read-only checks as `None`.
fn statements(graph: &Graph, revision: &str) -> Vec<Option<String>> {
    support::upgrade_steps(graph, revision, Dialect::Postgres)
        .into_iter()
        .map(|s| match s {
            Step::Sql(sql) => Some(sql),
            _ => None,
        })
        .collect()
}

#[test]
fn an_online_form_interrupted_at_any_statement_is_finished_by_the_next_start() {
    let Some(server) = TestDb::on_server("RETORT_PG_URL") else {
        return;
    };
    for (form, (name, ..)) in FORMS.iter().enumerate() {
        let graph = graph(form, true, 2_000);
        let steps = statements(&graph, "r3");
        support::each_interruption(
            &server,
            &graph,
            ("r2", "r3", steps.len()),
            rows,
            |db, stopped_in, ran| {
                for sql in steps[..stopped_in + usize::from(ran)].iter().flatten() {
                    db.exec(sql);
                }
            },
            |db, before, applied, what| {
                let what = format!("{name}: {what}");
                assert_eq!(applied, ["r3", "r4"], "{what}");
                at_head(db, &graph, before, &what);
            },
        );
    }
}

#[test]
#[ignore = "the child process of the SIGKILL test"]
fn online_child() {
    let url = std::env::var("RETORT_ONLINE_URL").expect("RETORT_ONLINE_URL");
    let graph = graph(2, true, 20_000);
    let _ = Runner::connect(
        &graph,
        &DatabaseUrl::parse(&url).unwrap(),
        Options::default(),
    )
    .unwrap()
    .upgrade("head");
}

#[test]
fn an_upgrade_killed_while_it_validates_is_finished_by_the_next_start() {
    let Some(db) = TestDb::on_server("RETORT_PG_URL") else {
        return;
    };
    let graph = graph(2, true, 20_000);
    Runner::connect(&graph, &db.url, Options::default())
        .unwrap()
        .upgrade("r2")
        .unwrap();
    let before = rows(&db);
    // The validation waits at its first row for the gate this connection holds.
    let mut gate = db.backend();
    gate.execute("SELECT pg_advisory_lock(7)").unwrap();
    let mut child = support::spawn_child("online_child", "RETORT_ONLINE_URL", &db);
    support::wait_until(&db, &mut child, "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%VALIDATE CONSTRAINT%' AND wait_event_type = 'Lock'", "the validation starting");
    child.kill().unwrap();
    child.wait().unwrap();
    // Its server session is ended before the gate opens (a killed client's statement runs
    // on until the server notices), as when the machine it ran on goes away.
    db.end_other_sessions("%VALIDATE CONSTRAINT%");
    let started = Instant::now();
    while db.count("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'ALTER TABLE%VALIDATE CONSTRAINT%'") > 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "the session did not end");
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(gate);
    db.end_other_sessions("%");
    db.settle();
    // As the kill left it: r3 dirty after its first statement, the check there NOT VALID.
    let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
    let r3 = runner
        .applied_rows()
        .unwrap()
        .into_iter()
        .find(|r| r.revision == "r3")
        .expect("r3 was started");
    assert_eq!(r3.state, "dirty 1/2", "{r3:?}");
    assert_eq!(
        db.count(
            "SELECT COUNT(*) AS n FROM pg_constraint WHERE conname = 'ck_t_a' AND NOT convalidated"
        ),
        1
    );
    drop(runner);
    let applied = Runner::connect(&graph, &db.url, Options::default())
        .unwrap()
        .upgrade("head")
        .unwrap();
    assert_eq!(applied, ["r3", "r4"]);
    at_head(&db, &graph, &before, "after SIGKILL");
}
