//! The runner on every backend this build has: SQLite, and PostgreSQL and MariaDB when
//! `scripts/test-dbs.sh` started them (with `CI=true` their absence is a failure). One
//! suite, parameterised by backend.

mod support;

use std::time::Duration;

use retort::backend::connect;
use retort::schema::sql::Dialect;
use retort::{Error, Graph, Options, Runner, TransactionMode};
use support::{in_mode, rev, TestDb};

const TASKS_UP: &str = r#"
    create_table("tasks",
        column("id", bigint, autoincrement),
        column("uuid", varchar(36)),
        column("status", varchar(20), server_default = "'queued'"),
        column("retry_count", integer, server_default = "0"),
        column("done", boolean, server_default = "0"),
        column("result", json, nullable),
        column("created_at", timestamptz, server_default = "CURRENT_TIMESTAMP"),
        column("note", text, nullable, comment = "free text"),
        primary_key(["id"]),
        unique("uq_tasks_uuid", ["uuid"]),
        comment = "Transcription tasks"),
    create_index("ix_tasks_status", "tasks", ["status"])
"#;
const TASKS_DOWN: &str = r#"drop_index("ix_tasks_status", "tasks"), drop_table("tasks")"#;

fn graph() -> Graph {
    Graph::from_revisions([
        rev("r1", None, TASKS_UP, TASKS_DOWN),
        rev(
            "r2",
            Some("r1"),
            r#"create_table("events", column("id", integer, autoincrement), column("task_id", bigint), column("kind", varchar(50)), primary_key(["id"]), foreign_key("fk_events_task_id_tasks", ["task_id"], "tasks", ["id"], on_delete = "cascade")), create_index("ix_events_task_id", "events", ["task_id"])"#,
            r#"drop_index("ix_events_task_id", "events"), drop_table("events")"#,
        ),
        rev(
            "r3",
            Some("r2"),
            r#"alter_column("tasks", "note", type_ = varchar(200)), alter_column("tasks", "retry_count", server_default = "1", comment = "retries"), add_column("events", column("at", timestamp, nullable))"#,
            r#"drop_column("events", "at"), alter_column("tasks", "retry_count", server_default = "0", comment = None), alter_column("tasks", "note", type_ = text)"#,
        ),
    ])
}

fn runner<'g>(graph: &'g Graph, db: &TestDb) -> Runner<'g> {
    Runner::connect(graph, &db.url, Options::default())
        .unwrap_or_else(|e| panic!("{}: connect: {e}", db.dialect.name()))
}

fn seed(db: &TestDb) {
    db.exec(&format!(
        "INSERT INTO {t} ({u}, {n}) VALUES ('a-1', 'one'), ('a-2', NULL), ('a-3', 'three')",
        t = db.q("tasks"),
        u = db.q("uuid"),
        n = db.q("note")
    ));
}

#[test]
fn upgrade_downgrade_reupgrade_keeps_rows_and_matches_the_replay() {
    let graph = graph();
    for db in TestDb::all() {
        let name = db.dialect.name();
        let mut r = runner(&graph, &db);
        r.upgrade("r1").unwrap_or_else(|e| panic!("{name}: {e}"));
        seed(&db);
        let before = db.rows("tasks", &["id", "uuid", "status", "retry_count", "note"]);
        assert_eq!(before.len(), 3, "{name}");
        r.upgrade("head").unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.current().unwrap(), ["r3"], "{name}");
        assert_eq!(
            r.check().unwrap(),
            Vec::<String>::new(),
            "{name}: introspection matches the replay"
        );
        r.downgrade("base")
            .unwrap_or_else(|e| panic!("{name}: downgrade: {e}"));
        assert!(
            r.introspect().unwrap().tables.is_empty(),
            "{name}: base is empty"
        );
        r.upgrade("r1").unwrap();
        seed(&db);
        r.upgrade("head")
            .unwrap_or_else(|e| panic!("{name}: re-upgrade: {e}"));
        r.downgrade("r1").unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            db.rows("tasks", &["id", "uuid", "status", "retry_count", "note"]),
            before,
            "{name}: rows kept through upgrade and downgrade"
        );
        r.upgrade("head").unwrap();
        assert_eq!(r.check().unwrap(), Vec::<String>::new(), "{name}");
    }
}

#[test]
fn check_reports_a_column_added_by_hand() {
    let graph = graph();
    for db in TestDb::all() {
        let name = db.dialect.name();
        let mut r = runner(&graph, &db);
        r.upgrade("head").unwrap();
        db.exec(&format!(
            "ALTER TABLE {} ADD COLUMN {} INTEGER",
            db.q("tasks"),
            db.q("by_hand")
        ));
        let diff = r.check().unwrap();
        assert!(
            diff.iter().any(|d| d.contains("tasks.by_hand")),
            "{name}: {diff:?}"
        );
    }
}

fn double_counts(conn: &mut retort::Connection) -> Result<(), retort::DataError> {
    use diesel::RunQueryDsl;
    diesel::sql_query("UPDATE tasks SET retry_count = retry_count + 40").execute(conn)?;
    Ok(())
}

#[test]
fn data_migrations_get_one_connection_type_on_every_backend() {
    for db in TestDb::all() {
        let name = db.dialect.name();
        let graph = Graph::from_revisions([
            rev("r1", None, TASKS_UP, TASKS_DOWN),
            rev("r2", Some("r1"), "run(double_counts)", "")
                .with_function("double_counts", double_counts),
        ]);
        let mut r = runner(&graph, &db);
        r.upgrade("r1").unwrap();
        seed(&db);
        r.upgrade("head").unwrap_or_else(|e| panic!("{name}: {e}"));
        let counts = db.rows("tasks", &["retry_count"]);
        assert!(
            counts.iter().all(|c| c[0].as_deref() == Some("40")),
            "{name}: {counts:?}"
        );
    }
}

#[test]
fn concurrent_runners_apply_each_migration_once() {
    let graph = graph();
    for db in TestDb::all() {
        let name = db.dialect.name();
        for mode in [TransactionMode::All, TransactionMode::PerMigration] {
            let fresh = db.another();
            let applied: Vec<Vec<String>> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..8)
                    .map(|_| {
                        s.spawn(|| {
                            let options = in_mode(mode);
                            Runner::connect(&graph, &fresh.url, options)
                                .and_then(|mut r| r.upgrade("head"))
                                .unwrap_or_else(|e| panic!("{name}: {e}"))
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let mut all: Vec<String> = applied.into_iter().flatten().collect();
            all.sort();
            assert_eq!(
                all,
                ["r1", "r2", "r3"],
                "{name} {mode:?}: each applied once"
            );
            let rows = runner(&graph, &fresh).applied_rows().unwrap();
            assert_eq!(rows.len(), 3, "{name}");
            assert!(rows.iter().all(|r| r.state == "applied"), "{name}");
        }
    }
}

#[test]
fn a_held_lock_makes_the_next_runner_wait_then_fail_naming_the_holder() {
    let graph = graph();
    for db in TestDb::all() {
        if db.dialect == Dialect::Sqlite {
            // SQLite's lock is the write transaction itself (see the concurrency tests).
            continue;
        }
        let name = db.dialect.name();
        let mut holder = connect(&db.url).unwrap();
        holder.lock(Duration::from_secs(1)).unwrap();
        let started = std::time::Instant::now();
        let options = Options {
            lock_timeout: Duration::from_millis(1500),
            ..Options::default()
        };
        let err = Runner::connect(&graph, &db.url, options)
            .unwrap()
            .upgrade("head")
            .unwrap_err();
        assert!(
            started.elapsed() >= Duration::from_millis(1400),
            "{name}: it waited"
        );
        assert!(matches!(err, Error::LockTimeout { .. }), "{name}: {err}");
        let text = err.to_string();
        assert!(text.contains("held the migration lock"), "{name}: {text}");
        assert!(
            text.contains("pid ") || text.contains("connection "),
            "{name}: names the holder: {text}"
        );
        holder.unlock().unwrap();
        runner(&graph, &db)
            .upgrade("head")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn a_migration_failing_half_way_without_transactional_ddl_leaves_a_dirty_state() {
    for db in TestDb::all() {
        let name = db.dialect.name();
        let graph = Graph::from_revisions([
            rev("r1", None, TASKS_UP, TASKS_DOWN),
            rev(
                "r2",
                Some("r1"),
                r#"add_column("tasks", column("first", integer, nullable)), execute("SELECT * FROM no_such_table"), add_column("tasks", column("third", integer, nullable))"#,
                r#"drop_column("tasks", "third"), drop_column("tasks", "first")"#,
            ),
        ]);
        let mut r = runner(&graph, &db);
        r.upgrade("r1").unwrap();
        let err = r.upgrade("head").unwrap_err();
        let transactional = connect(&db.url).unwrap().capabilities().transactional_ddl;
        if transactional {
            assert!(
                matches!(err, Error::MigrationFailed { .. }),
                "{name}: {err}"
            );
            assert_eq!(r.current().unwrap(), ["r1"], "{name}: rolled back");
            continue;
        }
        let Error::Interrupted {
            done,
            total,
            ref statements,
            ..
        } = err
        else {
            panic!("{name}: {err}");
        };
        assert_eq!((done, total, statements.len()), (1, 3, 3), "{name}: {err}");
        assert!(statements[0].contains("first"), "{name}: {statements:?}");
        assert!(
            statements[1].contains("no_such_table"),
            "{name}: {statements:?}"
        );
        let text = err.to_string();
        let listed = text.split_once("\nran:\n").unwrap().1;
        let (ran, not_run) = listed.split_once("not run:").unwrap();
        assert!(
            ran.contains("ADD COLUMN `first`") && !ran.contains("no_such_table"),
            "{text}"
        );
        assert!(
            not_run.contains("no_such_table") && not_run.contains("`third`"),
            "{text}"
        );
        assert!(err.to_string().contains("db resolve r2 --applied"), "{err}");
        // The next run refuses, saying the same.
        let again = runner(&graph, &db).upgrade("head").unwrap_err();
        assert!(
            matches!(again, Error::Interrupted { done: 1, .. }),
            "{name}: {again}"
        );
        let rows = runner(&graph, &db).applied_rows().unwrap();
        assert!(
            rows.iter()
                .any(|r| r.revision == "r2" && r.state == "dirty 1/3"),
            "{rows:?}"
        );
        // The documented recovery: finish by hand, then resolve as applied.
        db.exec(&format!(
            "ALTER TABLE {} ADD COLUMN {} INTEGER NULL",
            db.q("tasks"),
            db.q("third")
        ));
        runner(&graph, &db).resolve("r2", true).unwrap();
        let mut r = runner(&graph, &db);
        assert_eq!(r.current().unwrap(), ["r2"], "{name}");
        assert_eq!(r.upgrade("head").unwrap(), Vec::<String>::new());
        assert_eq!(
            r.check().unwrap_or_default().len(),
            0,
            "{name}: {:?}",
            r.check()
        );
        // And the other way: downgrade works from there.
        r.downgrade("r1").unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn mysql_refuses_to_index_unbounded_text_naming_the_fix_and_changes_nothing() {
    for db in TestDb::all() {
        let name = db.dialect.name();
        let graph = Graph::from_revisions([
            rev("r1", None, TASKS_UP, TASKS_DOWN),
            rev(
                "r2",
                Some("r1"),
                r#"add_column("tasks", column("extra", integer, nullable)), create_index("ix_tasks_note", "tasks", ["note"])"#,
                r#"drop_index("ix_tasks_note", "tasks"), drop_column("tasks", "extra")"#,
            ),
        ]);
        let mut r = runner(&graph, &db);
        r.upgrade("r1").unwrap();
        let result = r.upgrade("head");
        if db.dialect != Dialect::Mysql {
            result.unwrap_or_else(|e| panic!("{name}: {e}"));
            continue;
        }
        let err = result.unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("`tasks.note`") && text.contains("max_length"),
            "{text}"
        );
        assert_eq!(r.current().unwrap(), ["r1"], "nothing recorded");
        assert!(
            r.introspect().unwrap().tables["tasks"]
                .column("extra")
                .is_none(),
            "refused before the first statement"
        );
    }
}

/// A migration from its full text (for header fields `rev` does not write).
fn migration(text: &str) -> retort::Revision {
    retort::Revision::from_file(
        retort_schema::migration::parse_file(text).unwrap_or_else(|e| panic!("{e}")),
    )
}

#[test]
fn a_concurrent_index_needs_a_non_atomic_migration_and_runs_outside_the_transaction() {
    // Without `atomic: false` the file is refused, with the fix.
    let refused = retort_schema::migration::parse_file(
        r#"retort::migration! { revision: "r2", parents: ["r1"], message: "m", up: [create_index("ix", "tasks", ["status"], concurrently = true)], down: [] }"#,
    )
    .unwrap_err()
    .to_string();
    assert!(refused.contains("add `atomic: false,`"), "{refused}");
    for db in TestDb::all() {
        let name = db.dialect.name();
        let graph = Graph::from_revisions([
            rev("r1", None, TASKS_UP, TASKS_DOWN),
            migration(
                r#"retort::migration! { revision: "r2", parents: ["r1"], message: "index", atomic: false,
                    up: [create_index("ix_tasks_uuid_status", "tasks", ["uuid", "status"], concurrently = true)],
                    down: [drop_index("ix_tasks_uuid_status", "tasks")] }"#,
            ),
            rev(
                "r3",
                Some("r2"),
                r#"add_column("tasks", column("later", integer, nullable))"#,
                r#"drop_column("tasks", "later")"#,
            ),
        ]);
        if db.dialect == Dialect::Postgres {
            let script = retort::upgrade_sql(&graph, "r1", "r2", Dialect::Postgres).unwrap();
            let create = script
                .find("CREATE INDEX CONCURRENTLY")
                .expect("rendered concurrently");
            let commit = script
                .find("COMMIT; -- atomic: false")
                .expect("the script leaves its transaction");
            assert!(commit < create, "{script}");
        }
        let mut r = runner(&graph, &db);
        // PostgreSQL refuses CREATE INDEX CONCURRENTLY in a transaction: this passing there
        // shows r2 ran outside one, between r1's and r3's.
        assert_eq!(
            r.upgrade("head").unwrap_or_else(|e| panic!("{name}: {e}")),
            ["r1", "r2", "r3"]
        );
        assert_eq!(r.check().unwrap(), Vec::<String>::new(), "{name}");
        let rows = r.applied_rows().unwrap();
        assert!(
            rows.iter().all(|row| row.state == "applied"),
            "{name}: {rows:?}"
        );
        r.downgrade("r1").unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.current().unwrap(), ["r1"], "{name}");
        r.upgrade("head").unwrap();
        assert_eq!(r.check().unwrap(), Vec::<String>::new(), "{name}");
    }
}

#[test]
fn a_non_atomic_migration_failing_half_way_leaves_a_dirty_state_on_postgres_too() {
    for db in TestDb::all() {
        let name = db.dialect.name();
        let graph = Graph::from_revisions([
            rev("r1", None, TASKS_UP, TASKS_DOWN),
            migration(
                r#"retort::migration! { revision: "r2", parents: ["r1"], message: "index", atomic: false,
                    up: [create_index("ix_tasks_status_uuid", "tasks", ["status", "uuid"], concurrently = true), execute("SELECT * FROM no_such_table")],
                    down: [drop_index("ix_tasks_status_uuid", "tasks")] }"#,
            ),
        ]);
        let mut r = runner(&graph, &db);
        r.upgrade("r1").unwrap();
        let err = r.upgrade("head").unwrap_err();
        if db.dialect == Dialect::Sqlite {
            // SQLite's lock is its transaction: the migration ran in one and rolled back.
            assert!(
                matches!(err, Error::MigrationFailed { .. }),
                "{name}: {err}"
            );
            assert!(r.introspect().unwrap().tables["tasks"]
                .indexes
                .iter()
                .all(|i| i.name != "ix_tasks_status_uuid"));
            continue;
        }
        assert!(
            matches!(
                err,
                Error::Interrupted {
                    done: 1,
                    total: 2,
                    ..
                }
            ),
            "{name}: {err}"
        );
        assert!(err.to_string().contains("db resolve r2 --applied"), "{err}");
        // The index was built and stays; the fix: the rest was a mistake, resolve as applied.
        runner(&graph, &db).resolve("r2", true).unwrap();
        let mut r = runner(&graph, &db);
        assert_eq!(r.current().unwrap(), ["r2"], "{name}");
        assert_eq!(r.check().unwrap(), Vec::<String>::new(), "{name}");
    }
}

#[test]
fn a_database_made_before_migrations_is_adopted_on_every_backend() {
    let graph = graph();
    for db in TestDb::all() {
        let name = db.dialect.name();
        let mut r = runner(&graph, &db);
        r.upgrade("r2").unwrap();
        // The same schema, but nothing says so: as if made by hand or by another tool.
        db.exec("DROP TABLE retort_versions");
        let mut log = Vec::new();
        let applied = Runner::connect(&graph, &db.url, Options::default())
            .unwrap()
            .with_log(|l| log.push(l.to_string()))
            .upgrade("head")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(applied, ["r3"], "{name}: adopted at r2, then upgraded");
        assert!(
            log.iter()
                .any(|l| l.contains("adopted the existing database at r2")),
            "{name}: {log:?}"
        );
        let mut r = runner(&graph, &db);
        assert_eq!(r.check().unwrap(), Vec::<String>::new(), "{name}");
    }
}

/// What the servers need in a migration's order: a foreign key to a table created later,
/// tables dropped while they reference each other, an index renamed rather than rebuilt,
/// a referenced key's type changed on both sides, an index a foreign key needs replaced.
#[test]
fn orderings_the_servers_need_within_one_migration() {
    let graph = Graph::from_revisions([
        rev(
            "r1",
            None,
            r#"create_table("child", column("id", integer, autoincrement), column("parent_id", integer), column("x", integer, nullable), primary_key(["id"]), foreign_key("fk_child_parent_id_parent", ["parent_id"], "parent", ["id"])),
               create_table("parent", column("id", integer, autoincrement), column("status", varchar(20), nullable), primary_key(["id"])),
               create_index("ix_parent_status", "parent", ["status"]),
               create_index("ix_child_parent_id", "child", ["parent_id"])"#,
            // The referenced table first: its key must lose the reference before it goes.
            r#"drop_table("parent"), drop_table("child")"#,
        ),
        rev(
            "r2",
            Some("r1"),
            r#"drop_index("ix_parent_status", "parent"), create_index("ix_parent_status_renamed", "parent", ["status"]),
               alter_column("parent", "id", type_ = bigint), alter_column("child", "parent_id", type_ = bigint),
               drop_index("ix_child_parent_id", "child"), create_index("ix_child_parent_id_x", "child", ["parent_id", "x"])"#,
            r#"drop_index("ix_child_parent_id_x", "child"), create_index("ix_child_parent_id", "child", ["parent_id"]),
               alter_column("child", "parent_id", type_ = integer), alter_column("parent", "id", type_ = integer),
               drop_index("ix_parent_status_renamed", "parent"), create_index("ix_parent_status", "parent", ["status"])"#,
        ),
    ]);
    for dialect in [Dialect::Postgres, Dialect::Mysql] {
        let script = retort::upgrade_sql(&graph, "r1", "r2", dialect).unwrap();
        assert!(
            script.contains("RENAME TO") || script.contains("RENAME INDEX"),
            "{script}"
        );
        assert!(
            !script.contains("DROP INDEX \"ix_parent_status\""),
            "{script}"
        );
        assert!(
            !script.contains("DROP INDEX `ix_parent_status`"),
            "{script}"
        );
    }
    for db in TestDb::all() {
        let name = db.dialect.name();
        let mut r = runner(&graph, &db);
        r.upgrade("r1").unwrap_or_else(|e| panic!("{name}: {e}"));
        db.exec("INSERT INTO parent (status) VALUES ('a'), ('b')");
        db.exec("INSERT INTO child (parent_id) VALUES (1), (2), (2)");
        r.upgrade("head").unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.check().unwrap(), Vec::<String>::new(), "{name}");
        assert_eq!(db.rows("child", &["parent_id"]).len(), 3, "{name}");
        r.downgrade("r1")
            .unwrap_or_else(|e| panic!("{name}: downgrade: {e}"));
        let head = graph.schema_at(&["r1".to_string()].into()).unwrap();
        assert_eq!(
            r.differences(&head).unwrap(),
            Vec::<String>::new(),
            "{name}"
        );
        r.downgrade("base")
            .unwrap_or_else(|e| panic!("{name}: to base: {e}"));
        assert!(r.introspect().unwrap().tables.is_empty(), "{name}");
    }
}

fn slow_step(_conn: &mut retort::Connection) -> Result<(), retort::DataError> {
    std::thread::sleep(Duration::from_millis(1500));
    Ok(())
}

/// A replica starting while another is half-way through a migration (on MySQL its row reads
/// `dirty` meanwhile, visible to everyone): it waits for the lock and then has nothing to do,
/// rather than taking the other's progress for an interrupted migration.
#[test]
fn a_start_up_during_another_runners_migration_waits_and_finds_nothing_to_do() {
    for db in TestDb::all() {
        let name = db.dialect.name();
        let graph = Graph::from_revisions([
            rev("r1", None, TASKS_UP, TASKS_DOWN),
            rev(
                "r2",
                Some("r1"),
                r#"add_column("tasks", column("a", integer, nullable)), run(slow_step), add_column("tasks", column("b", integer, nullable))"#,
                r#"drop_column("tasks", "b"), drop_column("tasks", "a")"#,
            )
            .with_function("slow_step", slow_step),
        ]);
        runner(&graph, &db).upgrade("r1").unwrap();
        let (first, second) = std::thread::scope(|s| {
            let a = s.spawn(|| runner(&graph, &db).upgrade("head"));
            std::thread::sleep(Duration::from_millis(500));
            let b = s.spawn(|| runner(&graph, &db).upgrade("head"));
            (a.join().unwrap(), b.join().unwrap())
        });
        assert_eq!(
            first.unwrap_or_else(|e| panic!("{name}: {e}")),
            ["r2"],
            "{name}"
        );
        assert_eq!(
            second.unwrap_or_else(|e| panic!("{name}: the second runner: {e}")),
            Vec::<String>::new(),
            "{name}"
        );
    }
}

/// Names a database takes only quoted (a reserved word, spaces, a quote, unicode, 63 bytes)
/// and defaults with quotes and semicolons work on every backend, up and down, with the
/// row's values intact.
#[test]
fn hostile_but_valid_names_and_defaults_work_on_every_backend() {
    use retort::schema::Schema;
    let long = "l".repeat(63);
    for db in TestDb::all() {
        let name = db.dialect.name();
        // A check is SQL of the database's own: MySQL quotes names with backticks.
        let select = db.q("select").replace('"', "\\\"");
        let source = format!(
            r#"#[table(name = "order", index(my_column, name = "ix order by"), check(name = "ck it's", expr = "{select} >= 0"))]
            struct Order {{
                #[column(primary_key, autoincrement)] id: i64,
                #[column(name = "select", server_default = "0")] select_: i32,
                #[column(name = "my column", server_default = "'a;b'", max_length = 30)] my_column: String,
                #[column(name = "naïve 日本", server_default = "'; DROP TABLE x; --'", max_length = 30)] naive: String,
                #[column(name = "{long}", max_length = 30)] long: Option<String>,
                #[column(name = "it's", server_default = "'it''s'", max_length = 30)] its: String,
            }}"#
        );
        let input: syn::DeriveInput = syn::parse_str(&source).unwrap();
        let table = retort_schema::parse_model(&input).unwrap().table;
        let models = Schema::from_tables([table]);
        let d = retort_schema::diff::diff(&Schema::new(), &models).unwrap();
        let render = |ops: &[retort::schema::ops::Op]| {
            ops.iter()
                .map(|o| retort_schema::migration::op_tokens(o).to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let graph = Graph::from_revisions([rev("r1", None, &render(&d.up), &render(&d.down))]);
        let mut r = runner(&graph, &db);
        r.upgrade("head").unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            r.differences(&models).unwrap(),
            Vec::<String>::new(),
            "{name}"
        );
        db.exec(&format!(
            "INSERT INTO {} ({}) VALUES ('v')",
            db.q("order"),
            db.q(&long)
        ));
        let cols = ["select", "my column", "naïve 日本", "it's", &long]
            .iter()
            .map(|c| db.q(c))
            .collect::<Vec<_>>()
            .join(", '|', ");
        assert_eq!(
            db.value(&format!("CONCAT({cols})"), "order").as_deref(),
            Some("0|a;b|; DROP TABLE x; --|it's|v"),
            "{name}"
        );
        // The check holds under its quoted name.
        let err = db
            .try_exec(&format!(
                "INSERT INTO {} ({}) VALUES (-1)",
                db.q("order"),
                db.q("select")
            ))
            .unwrap_err();
        assert!(err.contains("ck it's"), "{name}: {err}");
        r.downgrade("base")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(r.introspect().unwrap().tables.is_empty(), "{name}");
        r.upgrade("head").unwrap();
    }
}

/// MySQL's MODIFY COLUMN replaces the whole definition: a comment-only change must carry
/// NOT NULL and the default along (on every backend the column stays as it was).
#[test]
fn a_comment_only_change_keeps_not_null_and_the_default() {
    let graph = Graph::from_revisions([
        rev(
            "r1",
            None,
            r#"create_table("t", column("id", integer, autoincrement), column("n", integer, server_default = "7"), primary_key(["id"]))"#,
            r#"drop_table("t")"#,
        ),
        rev(
            "r2",
            Some("r1"),
            r#"alter_column("t", "n", comment = "a number")"#,
            r#"alter_column("t", "n", comment = None)"#,
        ),
    ]);
    for db in TestDb::all() {
        let name = db.dialect.name();
        let mut r = runner(&graph, &db);
        r.upgrade("head").unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.check().unwrap(), Vec::<String>::new(), "{name}");
        let live = r.introspect().unwrap();
        let n = live.tables["t"].column("n").unwrap();
        assert!(!n.nullable, "{name}: still NOT NULL");
        assert_eq!(n.server_default.as_deref(), Some("7"), "{name}");
        db.exec("INSERT INTO t (id) VALUES (1)");
        assert_eq!(db.value("n", "t").as_deref(), Some("7"), "{name}");
        r.downgrade("r1").unwrap();
        let comments = connect(&db.url).unwrap().catalog().stores_comments();
        assert_eq!(
            r.check().unwrap().len(),
            usize::from(comments),
            "{name}: only the comment differs from head, where comments are stored"
        );
    }
}

/// PostgreSQL: a schema other than `public`, named by `?schema=` (created when missing) or
/// by libpq's `options=-csearch_path%3D…`, holds the tables and the version table; two
/// schemas of one database are migrated independently (their locks differ too).
#[test]
fn a_postgres_schema_named_in_the_url_holds_everything() {
    let graph = graph();
    for db in TestDb::all() {
        if db.dialect != Dialect::Postgres {
            continue;
        }
        db.exec("CREATE SCHEMA other");
        let urls = [
            format!("{}?schema=billing", db.url_text),
            format!("{}?options=-csearch_path%3Dother", db.url_text),
        ];
        for url in &urls {
            let url = retort::DatabaseUrl::parse(url).unwrap();
            let mut holder = connect(&url).unwrap();
            // Each schema's lock is its own: holding one does not stop the other.
            holder.lock(Duration::from_secs(1)).unwrap();
            holder.unlock().unwrap();
            let mut r = Runner::connect(&graph, &url, Options::default()).unwrap();
            assert_eq!(r.upgrade("head").unwrap(), ["r1", "r2", "r3"], "{url}");
            assert_eq!(r.check().unwrap(), Vec::<String>::new(), "{url}");
        }
        let count = |schema: &str| {
            db.count(&format!(
                "SELECT COUNT(*) AS n FROM pg_tables WHERE schemaname = '{schema}' AND tablename IN ('tasks', 'events', 'retort_versions')"
            ))
        };
        assert_eq!(count("billing"), 3);
        assert_eq!(count("other"), 3);
        assert_eq!(count("public"), 0, "nothing in public");
        // Held in one schema, the lock does not block the other.
        let billing = retort::DatabaseUrl::parse(&urls[0]).unwrap();
        let other = retort::DatabaseUrl::parse(&urls[1]).unwrap();
        let mut a = connect(&billing).unwrap();
        a.lock(Duration::from_secs(1)).unwrap();
        let mut b = connect(&other).unwrap();
        b.lock(Duration::from_millis(500))
            .unwrap_or_else(|e| panic!("the other schema's lock: {e}"));
        b.unlock().unwrap();
        a.unlock().unwrap();
    }
}
