//! Every operation kind against real SQLite files holding rows: upgrade and downgrade keep
//! the row count and the contents of every surviving column, including the table rebuilds
//! of a table that other tables reference.

mod support;

use std::collections::BTreeSet;

use diesel::connection::SimpleConnection;
use retort::{Graph, Options, Runner};
use support::{in_mode, rev, Db, TestDb};

const BASE_UP: &str = r#"
    create_table("p",
        column("id", integer, autoincrement),
        column("name", varchar(100)),
        column("code", varchar(10), nullable),
        column("score", integer, server_default = "0"),
        primary_key(["id"])),
    create_table("c",
        column("id", integer, autoincrement),
        column("p_id", integer),
        column("owner_id", integer, nullable),
        column("note", text, nullable),
        primary_key(["id"]),
        foreign_key("fk_c_p_id_p", ["p_id"], "p", ["id"], on_delete = "cascade"))
"#;
const BASE_DOWN: &str = r#"drop_table("c"), drop_table("p")"#;

struct Case {
    name: &'static str,
    up: &'static str,
    down: &'static str,
    /// Columns of `p` that survive the upgrade (compared after it).
    p_after: &'static [&'static str],
    /// The upgrade changes data on purpose (execute / run).
    changes_data: bool,
    /// The table `p` is called after the upgrade.
    p_name: &'static str,
}

const P_ALL: &[&str] = &["id", "name", "code", "score"];

fn cases() -> Vec<Case> {
    let c = |name, up, down, p_after, p_name| Case {
        name,
        up,
        down,
        p_after,
        changes_data: false,
        p_name,
    };
    vec![
        c(
            "add nullable column",
            r#"add_column("p", column("extra", text, nullable))"#,
            r#"drop_column("p", "extra")"#,
            P_ALL,
            "p",
        ),
        c(
            "add NOT NULL column with default",
            r#"add_column("p", column("flag", boolean, server_default = "0"))"#,
            r#"drop_column("p", "flag")"#,
            P_ALL,
            "p",
        ),
        c(
            "add column with expression default (rebuild)",
            r#"add_column("p", column("made", text, server_default = "CURRENT_TIMESTAMP"))"#,
            r#"drop_column("p", "made")"#,
            P_ALL,
            "p",
        ),
        c(
            "drop column (native)",
            r#"drop_column("p", "code")"#,
            r#"add_column("p", column("code", varchar(10), nullable))"#,
            &["id", "name", "score"],
            "p",
        ),
        c(
            "drop constrained column (rebuild)",
            r#"create_unique_constraint("uq_p_code", "p", ["code"]), drop_column("p", "code")"#,
            r#"add_column("p", column("code", varchar(10), nullable))"#,
            &["id", "name", "score"],
            "p",
        ),
        c(
            "rename column",
            r#"rename_column("p", "name", "title")"#,
            r#"rename_column("p", "title", "name")"#,
            &["id", "title", "code", "score"],
            "p",
        ),
        c(
            "rename referenced table",
            r#"rename_table("p", "parents")"#,
            r#"rename_table("parents", "p")"#,
            P_ALL,
            "parents",
        ),
        c(
            "alter type (rebuild)",
            r#"alter_column("p", "score", type_ = bigint)"#,
            r#"alter_column("p", "score", type_ = integer)"#,
            P_ALL,
            "p",
        ),
        c(
            "alter to NOT NULL (rebuild)",
            r#"alter_column("p", "code", nullable = false)"#,
            r#"alter_column("p", "code", nullable = true)"#,
            P_ALL,
            "p",
        ),
        c(
            "alter server default (rebuild)",
            r#"alter_column("p", "score", server_default = "5")"#,
            r#"alter_column("p", "score", server_default = "0")"#,
            P_ALL,
            "p",
        ),
        c(
            "alter comment",
            r#"alter_column("p", "name", comment = "the name")"#,
            r#"alter_column("p", "name", comment = None)"#,
            P_ALL,
            "p",
        ),
        c(
            "create index",
            r#"create_index("ix_p_name", "p", ["name"])"#,
            r#"drop_index("ix_p_name", "p")"#,
            P_ALL,
            "p",
        ),
        c(
            "create unique index",
            r#"create_index("ix_p_code", "p", ["code"], unique = true)"#,
            r#"drop_index("ix_p_code", "p")"#,
            P_ALL,
            "p",
        ),
        c(
            "add unique constraint (rebuild)",
            r#"create_unique_constraint("uq_p_name", "p", ["name"])"#,
            r#"drop_constraint("uq_p_name", "p", type_ = "unique")"#,
            P_ALL,
            "p",
        ),
        c(
            "add foreign key (rebuild of the child)",
            r#"create_foreign_key("fk_c_owner_id_p", "c", "p", ["owner_id"], ["id"], on_delete = "set_null")"#,
            r#"drop_constraint("fk_c_owner_id_p", "c", type_ = "foreignkey")"#,
            P_ALL,
            "p",
        ),
        c(
            "add check (rebuild)",
            r#"create_check_constraint("ck_p_score", "p", "score >= 0")"#,
            r#"drop_constraint("ck_p_score", "p", type_ = "check")"#,
            P_ALL,
            "p",
        ),
        c(
            "table comment",
            r#"create_table_comment("p", "parents")"#,
            r#"drop_table_comment("p")"#,
            P_ALL,
            "p",
        ),
        c(
            "create table",
            r#"create_table("extra", column("id", integer), column("p_id", integer, nullable), primary_key(["id"]), foreign_key("fk_extra_p_id_p", ["p_id"], "p", ["id"]))"#,
            r#"drop_table("extra")"#,
            P_ALL,
            "p",
        ),
        Case {
            name: "execute",
            up: r#"execute("UPDATE p SET score = score + 10")"#,
            down: r#"execute("UPDATE p SET score = score - 10")"#,
            p_after: P_ALL,
            changes_data: true,
            p_name: "p",
        },
    ]
}

fn seed(db: &TestDb) {
    let (p, c) = (db.q("p"), db.q("c"));
    db.exec(&format!(
        "INSERT INTO {p} ({}, {}, {}) VALUES ('alpha', 'A', 1), ('beta', 'B', 2), ('gamma', 'G', 3)",
        db.q("name"),
        db.q("code"),
        db.q("score")
    ));
    db.exec(&format!(
        "INSERT INTO {c} ({}, {}, {}) VALUES (1, 2, 'one'), (1, NULL, 'two'), (3, 3, NULL)",
        db.q("p_id"),
        db.q("owner_id"),
        db.q("note")
    ));
}

fn live_schema(graph: &Graph, db: &TestDb) -> retort::schema::Schema {
    let mut s = Runner::connect(graph, &db.url, Options::default())
        .unwrap()
        .introspect()
        .unwrap();
    for t in s.tables.values_mut() {
        t.columns.sort_by(|a, b| a.name.cmp(&b.name));
    }
    s
}

/// Every operation kind, with rows, on every backend: upgrade and downgrade keep the rows.
#[test]
fn every_operation_keeps_rows_up_and_down() {
    let base = rev("r1", None, BASE_UP, BASE_DOWN);
    for case in cases() {
        let graph =
            Graph::from_revisions([base.clone(), rev("r2", Some("r1"), case.up, case.down)]);
        for db in TestDb::all() {
            let name = format!("{} on {}", case.name, db.dialect.name());
            let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
            runner.upgrade("r1").unwrap();
            seed(&db);
            let schema_before = live_schema(&graph, &db);
            let before_cols: Vec<&str> = case
                .p_after
                .iter()
                .map(|c| if *c == "title" { "name" } else { c })
                .collect();
            let p_rows = db.rows("p", &before_cols);
            let c_cols = ["id", "p_id", "owner_id", "note"];
            let c_rows = db.rows("c", &c_cols);

            let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
            runner
                .upgrade("head")
                .unwrap_or_else(|e| panic!("{name}: upgrade: {e}"));
            assert_eq!(runner.current().unwrap(), ["r2"], "{name}");
            assert_eq!(
                runner.check().unwrap(),
                Vec::<String>::new(),
                "{name}: the database matches the replay"
            );
            if !case.changes_data {
                assert_eq!(
                    db.rows(case.p_name, case.p_after),
                    p_rows,
                    "{name}: rows of p"
                );
            } else {
                assert_ne!(
                    db.rows(case.p_name, case.p_after),
                    p_rows,
                    "{name}: the data step ran"
                );
            }
            assert_eq!(
                db.rows("c", &c_cols),
                c_rows,
                "{name}: rows of c after upgrade"
            );
            // The child's rows still join their parents.
            let joined = db.count(&format!(
                "SELECT COUNT(*) AS n FROM {} JOIN {} ON {}.{} = {}.{}",
                db.q("c"),
                db.q(case.p_name),
                db.q(case.p_name),
                db.q("id"),
                db.q("c"),
                db.q("p_id")
            ));
            assert_eq!(joined, 3, "{name}: foreign keys still join");

            runner
                .downgrade("-1")
                .unwrap_or_else(|e| panic!("{name}: downgrade: {e}"));
            assert_eq!(runner.current().unwrap(), ["r1"], "{name}");
            assert_eq!(
                db.rows("p", &before_cols),
                p_rows,
                "{name}: rows of p after downgrade"
            );
            assert_eq!(
                db.rows("c", &c_cols),
                c_rows,
                "{name}: rows of c after downgrade"
            );
            assert_eq!(
                live_schema(&graph, &db),
                schema_before,
                "{name}: the downgrade restores the schema"
            );
        }
    }
}

fn bump_scores(conn: &mut retort::Connection) -> Result<(), retort::DataError> {
    conn.batch_execute("UPDATE p SET score = score * 100")?;
    Ok(())
}

#[test]
fn rust_data_migrations_run_inside_the_migration_transaction() {
    let base = rev("r1", None, BASE_UP, BASE_DOWN);
    let data = rev(
        "r2",
        Some("r1"),
        "run(bump_scores), execute(\"SELECT no_such_function()\")",
        "",
    )
    .with_function("bump_scores", bump_scores);
    let graph = Graph::from_revisions([base, data]);
    for db in TestDb::all() {
        let name = db.dialect.name();
        if !retort::backend::connect(&db.url)
            .unwrap()
            .capabilities()
            .transactional_ddl
        {
            continue; // MySQL: see backends.rs for the dirty state instead
        }
        Runner::connect(&graph, &db.url, Options::default())
            .unwrap()
            .upgrade("r1")
            .unwrap();
        seed(&db);
        let before = db.rows("p", P_ALL);
        let err = Runner::connect(&graph, &db.url, Options::default())
            .unwrap()
            .upgrade("head")
            .unwrap_err();
        assert!(
            err.to_string().contains("no_such_function"),
            "{name}: {err}"
        );
        // The function's update was rolled back with the failing statement.
        assert_eq!(db.rows("p", P_ALL), before, "{name}");
    }
}

#[test]
fn a_failing_third_statement_leaves_schema_and_version_table_as_before() {
    let base = rev("r1", None, BASE_UP, BASE_DOWN);
    let bad = rev(
        "r2",
        Some("r1"),
        r#"create_table("t2", column("id", integer), primary_key(["id"])), execute("INSERT INTO p (name) VALUES ('delta')"), execute("UPDATE nowhere SET x = 1")"#,
        r#"drop_table("t2")"#,
    );
    let graph = Graph::from_revisions([base, bad]);
    for db in TestDb::all() {
        let name = db.dialect.name();
        Runner::connect(&graph, &db.url, Options::default())
            .unwrap()
            .upgrade("r1")
            .unwrap();
        seed(&db);
        let file = match &db.url {
            retort::DatabaseUrl::SqliteFile(path) => Some(path.clone()),
            _ => None,
        };
        let bytes = file.as_ref().map(|p| std::fs::read(p).unwrap());
        let rows = db.rows("p", P_ALL);
        let err = Runner::connect(&graph, &db.url, Options::default())
            .unwrap()
            .upgrade("head")
            .unwrap_err();
        let msg = err.to_string();
        let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        if !retort::backend::connect(&db.url)
            .unwrap()
            .capabilities()
            .transactional_ddl
        {
            // MySQL: the first two statements stay; the row says so (backends.rs follows
            // the recovery).
            assert!(msg.contains("2 of 3 statement(s) ran"), "{name}: {msg}");
            assert!(msg.contains("UPDATE nowhere SET x = 1"), "{name}: {msg}");
            continue;
        }
        assert!(
            msg.contains("migration r2 failed and was rolled back"),
            "{name}: {msg}"
        );
        assert!(
            msg.contains("statement: UPDATE nowhere SET x = 1"),
            "{name}: {msg}"
        );
        assert!(msg.contains("nowhere"), "{name}: {msg}");
        assert!(msg.contains("stays at r1"), "{name}: {msg}");
        if let (Some(path), Some(bytes)) = (&file, &bytes) {
            assert_eq!(
                &std::fs::read(path).unwrap(),
                bytes,
                "the file is byte-identical"
            );
        }
        assert_eq!(
            db.rows("p", P_ALL),
            rows,
            "{name}: the insert was rolled back"
        );
        assert_eq!(runner.current().unwrap(), ["r1"], "{name}");
        assert!(
            !runner.introspect().unwrap().tables.contains_key("t2"),
            "{name}"
        );
    }
}

#[test]
fn per_migration_mode_keeps_what_succeeded() {
    let base = rev("r1", None, BASE_UP, BASE_DOWN);
    let good = rev(
        "r2",
        Some("r1"),
        r#"add_column("p", column("extra", text, nullable))"#,
        r#"drop_column("p", "extra")"#,
    );
    let bad = rev(
        "r3",
        Some("r2"),
        r#"execute("UPDATE nowhere SET x = 1")"#,
        "",
    );
    let graph = Graph::from_revisions([base, good, bad]);
    for backend in TestDb::all() {
        let name = backend.dialect.name();
        let db = backend.another();
        let options = in_mode(retort::TransactionMode::PerMigration);
        let mut runner = Runner::connect(&graph, &db.url, options).unwrap();
        assert!(runner.upgrade("head").is_err(), "{name}");
        assert_eq!(runner.current().unwrap(), ["r2"], "{name}");
        if !retort::backend::connect(&db.url)
            .unwrap()
            .capabilities()
            .transactional_ddl
        {
            continue; // MySQL keeps what ran in either mode
        }
        // All-or-nothing (the default) keeps nothing.
        let db2 = backend.another();
        let mut runner = Runner::connect(&graph, &db2.url, Options::default()).unwrap();
        assert!(runner.upgrade("head").is_err(), "{name}");
        assert!(runner.current().unwrap().is_empty(), "{name}");
    }
}

#[test]
fn revision_arguments_resolve_like_alembic() {
    let graph = Graph::from_revisions([
        rev("20260101_000000_aaaa", None, BASE_UP, BASE_DOWN),
        rev(
            "20260102_000000_bbbb",
            Some("20260101_000000_aaaa"),
            r#"create_index("ix_p_name", "p", ["name"])"#,
            r#"drop_index("ix_p_name", "p")"#,
        ),
    ]);
    assert_eq!(
        graph.resolve("20260102").unwrap().as_deref(),
        Some("20260102_000000_bbbb")
    );
    assert_eq!(
        graph.resolve("head").unwrap().as_deref(),
        Some("20260102_000000_bbbb")
    );
    assert_eq!(graph.resolve("base").unwrap(), None);
    assert!(graph
        .resolve("2026")
        .unwrap_err()
        .to_string()
        .contains("matches several revisions"));
    let db = Db::new();
    let mut runner = Runner::connect(&graph, &db.url(), Options::default()).unwrap();
    assert_eq!(runner.upgrade("+1").unwrap(), ["20260101_000000_aaaa"]);
    let err = runner.upgrade("2026010").unwrap_err().to_string();
    assert!(err.contains("several"), "{err}");
    assert_eq!(runner.upgrade("head").unwrap(), ["20260102_000000_bbbb"]);
    assert_eq!(runner.downgrade("base").unwrap().len(), 2);
    let applied: BTreeSet<String> = runner
        .applied_rows()
        .unwrap()
        .into_iter()
        .map(|r| r.revision)
        .collect();
    assert!(applied.is_empty());
}
