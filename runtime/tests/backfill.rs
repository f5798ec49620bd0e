//! `backfill`: a column filled in batches outside a transaction, each batch committed on
//! its own. On every backend it fills each `NULL` whose value is not itself `NULL`, in as
//! many batches as the rows need, and ends; the online form of a NOT NULL column with a
//! per-row default (added nullable, the default set, backfilled, made NOT NULL online)
//! builds what the plain form builds; and an upgrade killed with SIGKILL in the middle of
//! the backfill, or stopped at any statement boundary, is finished by the next start
//! without filling a row twice.

mod support;

use std::time::{Duration, Instant};

use retort::{DatabaseUrl, Graph, Options, Runner};
use retort_schema::sql::{Dialect, Step};
use support::{rev, rev_outside, TestDb};

/// r1 the table, r2 2 500 rows (`a` NULL in every 500th), then `r3`, then `rest`.
fn revisions(r3: retort::Revision, gate: &str) -> Vec<retort::Revision> {
    vec![
        rev(
            "r1",
            None,
            &format!(
                r#"{gate}create_table("t", column("id", integer, autoincrement), column("a", integer, nullable), column("b", integer, nullable), primary_key(["id"]))"#
            ),
            r#"drop_table("t")"#,
        ),
        rev(
            "r2",
            Some("r1"),
            r#"execute("INSERT INTO t (a) WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 500) SELECT CASE WHEN n = 500 THEN NULL ELSE n END FROM g; INSERT INTO t (a) SELECT a + 500 * k.m FROM t, (SELECT 1 AS m UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4) k WHERE t.id <= 500")"#,
            r#"execute("DELETE FROM t")"#,
        ),
        r3,
    ]
}

/// A column added after `parent`, the head.
fn r4(parent: &str) -> retort::Revision {
    rev(
        "r4",
        Some(parent),
        r#"add_column("t", column("c", integer, nullable))"#,
        r#"drop_column("t", "c")"#,
    )
}

/// [`revisions`] then [`r4`].
fn graph(r3: retort::Revision, gate: &str) -> Graph {
    let mut all = revisions(r3, gate);
    all.push(r4("r3"));
    Graph::from_revisions(all)
}

/// `a` and `b` of every row, in order.
fn rows(db: &TestDb) -> Vec<Vec<Option<String>>> {
    db.rows("t", &["id", "a", "b"])
}

#[test]
fn a_backfill_fills_every_null_in_batches_and_ends_on_every_backend() {
    let fill = rev_outside(
        "r3",
        Some("r2"),
        r#"backfill("t", "b", "a * 2", batch = 1000)"#,
        "",
    );
    let graph = graph(fill, "");
    for db in TestDb::all() {
        let name = db.dialect.name();
        let mut lines = Vec::new();
        Runner::connect(&graph, &db.url, Options::default())
            .unwrap()
            .with_log(|l| lines.push(l.to_string()))
            .upgrade("head")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let rows = rows(&db);
        assert_eq!(rows.len(), 2_500, "{name}");
        for r in &rows {
            let want = r[1]
                .as_ref()
                .map(|a| (a.parse::<i64>().unwrap() * 2).to_string());
            assert_eq!(r[2], want, "{name}: {r:?}");
        }
        // 2 495 rows to fill, 1 000 a batch: three batches, then one that finds none.
        assert!(
            lines
                .iter()
                .any(|l| l.contains("filled 2495 row(s) in 3 batch(es)")),
            "{name}: {lines:?}"
        );
        let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        assert_eq!(runner.check().unwrap(), Vec::<String>::new(), "{name}");
        // Going down past it leaves the values (they were NULL: nothing to restore).
        runner.downgrade("r2").unwrap();
        runner.upgrade("head").unwrap();
        assert_eq!(runner.current().unwrap(), ["r4"], "{name}");
    }
}

/// Per server: a default computed per row, as that server spells it.
fn per_row_default(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "(gen_random_uuid())::text",
        _ => "uuid()",
    }
}

/// The plain form: the NOT NULL column with its default, added in one statement.
fn plain(default: &str) -> Graph {
    graph(
        rev(
            "r3",
            Some("r2"),
            &format!(r#"add_column("t", column("token", text, server_default = "{default}"))"#),
            r#"drop_column("t", "token")"#,
        ),
        "",
    )
}

/// The online form, as the build writes it: nullable without the default in a transaction
/// (r3), then the default, the backfill and NOT NULL online (r35).
fn online(default: &str, value: &str, gate: &str) -> Graph {
    let mut revisions = revisions(
        rev(
            "r3",
            Some("r2"),
            r#"add_column("t", column("token", text, nullable))"#,
            r#"drop_column("t", "token")"#,
        ),
        gate,
    );
    revisions.push(rev_outside(
        "r35",
        Some("r3"),
        &format!(
            r#"alter_column("t", "token", server_default = "{default}"), backfill("t", "token", "{value}", batch = 500), alter_column("t", "token", nullable = false, online = true)"#
        ),
        r#"alter_column("t", "token", nullable = true, server_default = None)"#,
    ));
    revisions.push(r4("r35"));
    Graph::from_revisions(revisions)
}

#[test]
fn the_online_form_of_a_per_row_default_builds_what_the_plain_form_builds() {
    for plain_db in TestDb::servers() {
        let name = plain_db.dialect.name();
        let default = per_row_default(plain_db.dialect);
        let online_db = plain_db.another();
        let (plain, online) = (plain(default), online(default, default, ""));
        let mut schemas = Vec::new();
        for (graph, db) in [(&plain, &plain_db), (&online, &online_db)] {
            let mut runner = support::round_trip(graph, db, "r2");
            schemas.push(runner.introspect().unwrap());
            let ids = rows(db);
            assert_eq!(ids.len(), 2_500, "{name}");
            // Every row has its own value.
            assert_eq!(
                db.count("SELECT COUNT(DISTINCT token) AS n FROM t"),
                2_500,
                "{name}"
            );
        }
        assert_eq!(schemas[0], schemas[1], "{name}: online = plain");
        // New rows get the default.
        online_db.exec("INSERT INTO t (a) VALUES (1)");
        assert_eq!(
            online_db.count("SELECT COUNT(*) AS n FROM t WHERE token IS NULL"),
            0,
            "{name}"
        );
    }
}

/// PostgreSQL: a value whose rows past `a` = 1500 wait, while it is computed, for an
/// advisory lock the test holds.
const GATE: &str = r#"create_object(function, "gate", "CREATE FUNCTION gate(x integer) RETURNS text LANGUAGE sql AS 'SELECT CASE WHEN x IS NULL OR x <= 1500 OR pg_advisory_lock_shared(7) IS NOT NULL THEN gen_random_uuid()::text END'"), "#;

/// The statements of `revision`'s upgrade, read-only checks as `None`: each as run in
/// full, and as far as an interruption in it leaves it (a backfill's first batch).
fn statements(graph: &Graph, revision: &str, dialect: Dialect) -> Vec<Option<(String, String)>> {
    support::upgrade_steps(graph, revision, dialect)
        .into_iter()
        .map(|s| match s {
            Step::Sql(sql) => Some((sql.clone(), sql)),
            Step::Batches { batch, whole, .. } => Some((whole, batch)),
            _ => None,
        })
        .collect()
}

/// At head: every row with a token, no two alike, `check` clean, `a` as before.
fn at_head(db: &TestDb, graph: &Graph, before: &[Vec<Option<String>>], what: &str) {
    let mut runner = Runner::connect(graph, &db.url, Options::default()).unwrap();
    assert_eq!(runner.current().unwrap(), ["r4"], "{what}");
    assert!(
        runner
            .applied_rows()
            .unwrap()
            .iter()
            .all(|r| r.state == "applied"),
        "{what}"
    );
    assert_eq!(runner.check().unwrap(), Vec::<String>::new(), "{what}");
    assert_eq!(rows(db), before, "{what}: the rows are unchanged");
    assert_eq!(
        db.count("SELECT COUNT(DISTINCT token) AS n FROM t"),
        2_500,
        "{what}"
    );
}

#[test]
fn an_online_form_stopped_at_any_statement_is_finished_by_the_next_start() {
    for server in TestDb::servers() {
        let default = per_row_default(server.dialect);
        let graph = online(default, default, "");
        let steps = statements(&graph, "r35", server.dialect);
        support::each_interruption(
            &server,
            &graph,
            ("r3", "r35", steps.len()),
            rows,
            // The statements before it ran in full; the one it stopped in, if it ran, as far
            // as an interruption leaves it (one batch of a backfill).
            |db, stopped_in, ran| {
                for (full, _) in steps[..stopped_in].iter().flatten() {
                    db.exec(full);
                }
                if let (true, Some((_, partial))) = (ran, &steps[stopped_in]) {
                    db.exec(partial);
                }
            },
            |db, before, applied, what| {
                assert_eq!(applied, ["r35", "r4"], "{what}");
                at_head(db, &graph, before, what);
            },
        );
    }
}

#[test]
#[ignore = "the child process of the SIGKILL test"]
fn backfill_child() {
    let url = std::env::var("RETORT_BACKFILL_URL").expect("RETORT_BACKFILL_URL");
    let graph = online(per_row_default(Dialect::Postgres), "gate(a)", GATE);
    let _ = Runner::connect(
        &graph,
        &DatabaseUrl::parse(&url).unwrap(),
        Options::default(),
    )
    .unwrap()
    .upgrade("head");
}

#[test]
fn an_upgrade_killed_in_the_middle_of_a_backfill_is_finished_by_the_next_start() {
    let Some(db) = TestDb::on_server("RETORT_PG_URL") else {
        return;
    };
    let graph = online(per_row_default(Dialect::Postgres), "gate(a)", GATE);
    Runner::connect(&graph, &db.url, Options::default())
        .unwrap()
        .upgrade("r3")
        .unwrap();
    let before = rows(&db);
    // The batches past a = 1500 wait for the gate this connection holds.
    let mut gate = db.backend();
    gate.execute("SELECT pg_advisory_lock(7)").unwrap();
    let mut child = support::spawn_child("backfill_child", "RETORT_BACKFILL_URL", &db);
    let waiting = "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'UPDATE%' AND wait_event_type = 'Lock'";
    support::wait_until(&db, &mut child, waiting, "the backfill reaching the gate");
    child.kill().unwrap();
    child.wait().unwrap();
    db.end_other_sessions("UPDATE%");
    let started = Instant::now();
    while db.count("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'UPDATE%' AND pid <> pg_backend_pid()") > 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "the session did not end");
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(gate);
    db.settle();
    // As the kill left it: the batches before the gate committed, the rest still NULL.
    let filled = db.count("SELECT COUNT(*) AS n FROM t WHERE token IS NOT NULL");
    assert!((500..2_500).contains(&filled), "{filled} rows filled");
    let r35 = Runner::connect(&graph, &db.url, Options::default())
        .unwrap()
        .applied_rows()
        .unwrap()
        .into_iter()
        .find(|r| r.revision == "r35")
        .expect("r35 was started");
    assert!(r35.state.starts_with("dirty 1/"), "{r35:?}");
    let tokens = || db.rows("t", &["id", "token"]);
    let kept: Vec<Vec<Option<String>>> = tokens().into_iter().filter(|r| r[1].is_some()).collect();
    let mut lines = Vec::new();
    let applied = Runner::connect(&graph, &db.url, Options::default())
        .unwrap()
        .with_log(|l| lines.push(l.to_string()))
        .upgrade("head")
        .unwrap();
    assert_eq!(applied, ["r35", "r4"]);
    assert!(
        lines.iter().any(|l| l.contains("r35: finishing it")),
        "{lines:?}"
    );
    // The rows filled before the kill keep their values; the rest were filled after.
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("filled {} row(s)", 2_500 - filled))),
        "{lines:?}"
    );
    let now = tokens();
    for row in &kept {
        assert!(now.contains(row), "{row:?} kept its value");
    }
    at_head(&db, &graph, &before, "after SIGKILL");
}

#[test]
fn without_an_integer_key_the_batches_repeat_until_none_is_left() {
    // A text key: no range to walk, so each batch picks rows still NULL.
    let graph = Graph::from_revisions([
        rev(
            "u1",
            None,
            r#"create_table("u", column("code", varchar(20)), column("a", integer, nullable), column("b", integer, nullable), primary_key(["code"]))"#,
            r#"drop_table("u")"#,
        ),
        rev(
            "u2",
            Some("u1"),
            r#"execute("INSERT INTO u (code, a) WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 26) SELECT CONCAT('c', n), CASE WHEN n = 26 THEN NULL ELSE n END FROM g")"#,
            r#"execute("DELETE FROM u")"#,
        ),
        rev_outside(
            "u3",
            Some("u2"),
            r#"backfill("u", "b", "a + 1", batch = 10)"#,
            "",
        ),
    ]);
    for db in TestDb::all() {
        let name = db.dialect.name();
        let mut lines = Vec::new();
        Runner::connect(&graph, &db.url, Options::default())
            .unwrap()
            .with_log(|l| lines.push(l.to_string()))
            .upgrade("head")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            lines
                .iter()
                .any(|l| l.contains("filled 25 row(s) in 3 batch(es)")),
            "{name}: {lines:?}"
        );
        assert_eq!(
            db.count("SELECT COUNT(*) AS n FROM u WHERE b IS NULL"),
            1,
            "{name}: the row whose value is NULL stays NULL"
        );
        assert_eq!(
            db.count("SELECT COUNT(*) AS n FROM u WHERE b = a + 1"),
            25,
            "{name}"
        );
    }
}
