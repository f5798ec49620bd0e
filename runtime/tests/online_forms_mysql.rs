//! The online forms on MySQL/MariaDB (`online = true` / `concurrently = true` in a migration
//! with `atomic: false`): InnoDB's in-place change, asserted with `ALGORITHM=INPLACE,
//! LOCK=NONE`, for a unique key, `NOT NULL` and an index. For each: the schema equals the
//! plain form's (`check` clean, the introspected schemas equal), the rows are unchanged, the
//! downgrade works; an upgrade interrupted at any statement boundary, or killed with SIGKILL
//! while its `ALTER` runs, is finished by the next start. And where the server cannot make
//! the change in place it refuses at once, changes nothing, and the error names the plain
//! form; once the obstacle is gone the next start finishes the migration.

mod support;

use std::time::{Duration, Instant};

use retort::{DatabaseUrl, Graph, Options, Runner};
use retort_schema::sql::{Dialect, Step};
use support::{rev, rev_outside, TestDb};

/// Each online form: its name, its operation without the marker, the marker, its downgrade.
const FORMS: [(&str, &str, &str, &str); 3] = [
    (
        "unique",
        r#"create_unique_constraint("uq_t_a", "t", ["a"]"#,
        "online = true",
        r#"drop_constraint("uq_t_a", "t", type_ = "unique")"#,
    ),
    (
        "not null",
        r#"alter_column("t", "note", nullable = false"#,
        "online = true",
        r#"alter_column("t", "note", nullable = true)"#,
    ),
    (
        "index",
        r#"create_index("ix_t_a", "t", ["a"]"#,
        "concurrently = true",
        r#"drop_index("ix_t_a", "t")"#,
    ),
];

/// r1 the table, r2 3 000 rows, r3 the form (online or plain), r4 a column after it.
fn graph(form: usize, online: bool) -> Graph {
    let (_, op, marker, down) = FORMS[form];
    let r3 = match online {
        true => rev_outside("r3", Some("r2"), &format!("{op}, {marker})"), down),
        false => rev("r3", Some("r2"), &format!("{op})"), down),
    };
    Graph::from_revisions([
        rev(
            "r1",
            None,
            r#"create_table("t", column("id", integer, autoincrement), column("a", integer), column("note", text, nullable), column("body", text, nullable), primary_key(["id"]))"#,
            r#"drop_table("t")"#,
        ),
        rev(
            "r2",
            Some("r1"),
            r#"execute("INSERT INTO t (a, note, body) WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1000) SELECT n, CONCAT('n', n), 'some words' FROM g; INSERT INTO t (a, note, body) SELECT a + 1000 * k.m, CONCAT('n', a + 1000 * k.m), body FROM t, (SELECT 1 AS m UNION ALL SELECT 2) k")"#,
            r#"execute("DELETE FROM t")"#,
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
    db.rows("t", &["id", "a", "note", "body"])
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
}

/// The statements of `revision`'s upgrade on MySQL, read-only checks as `None`.
fn statements(graph: &Graph, revision: &str) -> Vec<Option<String>> {
    support::upgrade_steps(graph, revision, Dialect::Mysql)
        .into_iter()
        .map(|s| match s {
            Step::Sql(sql) => Some(sql),
            _ => None,
        })
        .collect()
}

#[test]
fn each_online_form_builds_what_the_plain_form_builds_and_goes_down_again() {
    let Some(plain_db) = TestDb::on_server("RETORT_MYSQL_URL") else {
        return;
    };
    for (form, (name, ..)) in FORMS.iter().enumerate() {
        let plain_db = plain_db.another();
        let online_db = plain_db.another();
        let plain = graph(form, false);
        let online = graph(form, true);
        let mut schemas = Vec::new();
        let mut data = Vec::new();
        for (graph, db) in [(&plain, &plain_db), (&online, &online_db)] {
            let mut runner = support::round_trip(graph, db, "r2");
            schemas.push(runner.introspect().unwrap());
            data.push(rows(db));
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
        assert_eq!(data[0].len(), 3_000, "{name}");
        at_head(&online_db, &online, &data[0], name);
        // The online form asks for the in-place change; the plain form does not.
        let asks = |graph: &Graph| {
            statements(graph, "r3")
                .iter()
                .flatten()
                .any(|s| s.contains("ALGORITHM=INPLACE") && s.contains("LOCK=NONE"))
        };
        assert!(asks(&online), "{name}: {:?}", statements(&online, "r3"));
        assert!(!asks(&plain), "{name}: {:?}", statements(&plain, "r3"));
    }
}

#[test]
fn an_online_form_interrupted_at_any_statement_is_finished_by_the_next_start() {
    let Some(server) = TestDb::on_server("RETORT_MYSQL_URL") else {
        return;
    };
    for (form, (name, ..)) in FORMS.iter().enumerate() {
        let graph = graph(form, true);
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
fn online_mysql_child() {
    let url = std::env::var("RETORT_ONLINE_URL").expect("RETORT_ONLINE_URL");
    let graph = graph(0, true);
    let _ = Runner::connect(
        &graph,
        &DatabaseUrl::parse(&url).unwrap(),
        Options::default(),
    )
    .unwrap()
    .upgrade("head");
}

/// The server sessions of this database running an `ALTER TABLE`, other than `db`'s own.
const ALTERS: &str = "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND INFO LIKE 'ALTER TABLE%' AND ID <> CONNECTION_ID()";

#[test]
fn an_upgrade_killed_while_its_alter_runs_is_finished_by_the_next_start() {
    let Some(db) = TestDb::on_server("RETORT_MYSQL_URL") else {
        return;
    };
    let graph = graph(0, true);
    Runner::connect(&graph, &db.url, Options::default())
        .unwrap()
        .upgrade("r2")
        .unwrap();
    let before = rows(&db);
    // A reader's open transaction: the in-place ALTER has started, and waits for it to end
    // before it may change the table's definition.
    let mut reader = db.backend();
    reader
        .execute("START TRANSACTION; SELECT COUNT(*) FROM t")
        .unwrap();
    let mut child = support::spawn_child("online_mysql_child", "RETORT_ONLINE_URL", &db);
    support::wait_until(&db, &mut child, ALTERS, "the ALTER starting");
    child.kill().unwrap();
    child.wait().unwrap();
    // Its server session is ended too, as when the machine it ran on goes away.
    let sessions = db.texts("SELECT CAST(ID AS CHAR) AS v FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND INFO LIKE 'ALTER TABLE%' AND ID <> CONNECTION_ID()");
    for id in sessions.into_iter().flatten() {
        let _ = db.try_exec(&format!("KILL {id}"));
    }
    let started = Instant::now();
    while db.count(ALTERS) > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the session did not end"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    reader.execute("COMMIT").unwrap();
    drop(reader);
    // As the kill left it: r3 recorded as started, nothing of it done, no unique key.
    let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
    let r3 = runner
        .applied_rows()
        .unwrap()
        .into_iter()
        .find(|r| r.revision == "r3")
        .expect("r3 was started");
    assert_eq!(r3.state, "dirty 0/1", "{r3:?}");
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = 'uq_t_a'"),
        0
    );
    drop(runner);
    let applied = Runner::connect(&graph, &db.url, Options::default())
        .unwrap()
        .upgrade("head")
        .unwrap();
    assert_eq!(applied, ["r3", "r4"]);
    at_head(&db, &graph, &before, "after SIGKILL");
}

#[test]
fn where_the_server_cannot_change_in_place_it_refuses_at_once_and_changes_nothing() {
    let Some(db) = TestDb::on_server("RETORT_MYSQL_URL") else {
        return;
    };
    // A FULLTEXT index makes InnoDB rebuild `t` under a lock for a NOT NULL change.
    let graph = graph(1, true);
    Runner::connect(&graph, &db.url, Options::default())
        .unwrap()
        .upgrade("r2")
        .unwrap();
    db.exec("CREATE FULLTEXT INDEX fx ON t (body)");
    let before = rows(&db);
    let nullable = || {
        db.texts("SELECT IS_NULLABLE AS v FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 't' AND COLUMN_NAME = 'note'")
    };
    let started = Instant::now();
    let error = Runner::connect(&graph, &db.url, Options::default())
        .unwrap()
        .upgrade("head")
        .expect_err("the server cannot make it NOT NULL in place")
        .to_string();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "refused at once, not after a copy"
    );
    for said in [
        "LOCK=NONE is not supported",
        "`t`",
        "online = true",
        "plain form",
    ] {
        assert!(error.contains(said), "{said}: {error}");
    }
    assert_eq!(nullable(), [Some("YES".to_string())], "nothing changed");
    assert_eq!(rows(&db), before, "the rows are unchanged");
    // With the obstacle gone, the next start finishes the migration.
    db.exec("DROP INDEX fx ON t");
    let applied = Runner::connect(&graph, &db.url, Options::default())
        .unwrap()
        .upgrade("head")
        .unwrap();
    assert_eq!(applied, ["r3", "r4"]);
    assert_eq!(nullable(), [Some("NO".to_string())]);
    at_head(&db, &graph, &before, "after the obstacle went");
}
