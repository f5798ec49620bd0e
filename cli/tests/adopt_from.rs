//! `db adopt --from <tool>` on SQLite, PostgreSQL and MariaDB, for each of the six tools:
//! diesel_migrations, sqlx and refinery make their databases for real (their crates run
//! their migration folders); SeaORM, golang-migrate and Alembic are made with their
//! documented version tables. For each: the success path (baseline recorded, the old table
//! left, `check` clean, upgrades continue), and refusals that change nothing — the schema
//! differs from the head, the tool has a migration it never applied, and (sqlx,
//! golang-migrate) the tool records a failed or dirty migration. A database that has
//! another tool's table and no retort table is refused at start-up unless adoption from it
//! is asked for.

#[path = "../../runtime/tests/support/mod.rs"]
mod support;

use std::path::Path;

use retort::schema::sql::{Dialect, Step};
use retort::tools::Tool;
use retort::{Error, Graph, Options, Runner};
use support::{rev, upgrade_steps, TestDb};

const USERS: &str = r#"create_table("users",
    column("id", bigint, autoincrement),
    column("email", varchar(120)),
    column("created_at", timestamp, server_default = "CURRENT_TIMESTAMP"),
    primary_key(["id"]),
    unique("uq_users_email", ["email"]))"#;
const POSTS: &str = r#"create_table("posts",
    column("id", bigint, autoincrement),
    column("user_id", bigint),
    column("title", text),
    primary_key(["id"]),
    foreign_key("fk_posts_user_id_users", ["user_id"], "users", ["id"], on_delete = "cascade")),
    create_index("ix_posts_user_id", "posts", ["user_id"])"#;
const TAGS: &str =
    r#"create_table("tags", column("id", integer, autoincrement), primary_key(["id"]))"#;

/// The app's history under retort: the two tables the other tool made.
fn graph() -> Graph {
    Graph::from_revisions([rev("r1", None, USERS, ""), rev("r2", Some("r1"), POSTS, "")])
}

/// The SQL a team on the other tool wrote for each of its migrations: the same tables, as
/// the dialect spells them.
fn tool_sql(d: Dialect) -> Vec<String> {
    let g = Graph::from_revisions([
        rev("r1", None, USERS, ""),
        rev("r2", Some("r1"), POSTS, ""),
        rev("r3", Some("r2"), TAGS, ""),
    ]);
    ["r1", "r2", "r3"]
        .iter()
        .map(|r| {
            upgrade_steps(&g, r, d)
                .into_iter()
                .map(|s| match s {
                    Step::Sql(sql) => format!("{sql};\n"),
                    other => panic!("not plain SQL: {other:?}"),
                })
                .collect()
        })
        .collect()
}

/// The other tool's migrations folder with the first `n` migrations (of three).
fn folder(tool: Tool, d: Dialect, n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let names = ["users", "posts", "tags"];
    for (i, sql) in tool_sql(d).into_iter().take(n).enumerate() {
        let v = i + 1;
        let name = names[i];
        match tool {
            Tool::Diesel => {
                let m = p.join(format!("2024-01-0{v}-000000_{name}"));
                std::fs::create_dir_all(&m).unwrap();
                std::fs::write(m.join("up.sql"), sql).unwrap();
                std::fs::write(m.join("down.sql"), format!("DROP TABLE {name};\n")).unwrap();
            }
            Tool::Sqlx => std::fs::write(p.join(format!("{v}_{name}.sql")), sql).unwrap(),
            Tool::Refinery => std::fs::write(p.join(format!("V{v}__{name}.sql")), sql).unwrap(),
            Tool::SeaOrm => std::fs::write(
                p.join(format!("m2024010{v}_000001_{name}.rs")),
                format!("// {sql}"),
            )
            .unwrap(),
            Tool::GolangMigrate => {
                std::fs::write(p.join(format!("00000{v}_{name}.up.sql")), sql).unwrap();
                std::fs::write(
                    p.join(format!("00000{v}_{name}.down.sql")),
                    format!("DROP TABLE {name};"),
                )
                .unwrap();
            }
            Tool::Alembic => {
                let down = if v == 1 {
                    "None".to_string()
                } else {
                    format!("'rev{}'", v - 1)
                };
                std::fs::write(
                    p.join(format!("rev{v}_{name}.py")),
                    format!("\"\"\"{name}\"\"\"\nrevision = 'rev{v}'\ndown_revision = {down}\n\ndef upgrade():\n    op.execute(\"\"\"{sql}\"\"\")\n"),
                )
                .unwrap();
            }
            _ => unreachable!(),
        }
    }
    dir
}

/// Runs the other tool's first two migrations on `db`: the real tool where a crate exists,
/// else its documented table, written as the tool writes it.
fn apply_tool(tool: Tool, db: &TestDb) -> tempfile::TempDir {
    let d = db.dialect;
    let dir = folder(tool, d, 2);
    match tool {
        Tool::Diesel => diesel_run(db, dir.path()),
        Tool::Sqlx => sqlx_run(db, dir.path()),
        Tool::Refinery => {
            let mut config = match &db.url {
                retort::DatabaseUrl::SqliteFile(path) => {
                    // refinery opens an SQLite file without creating it.
                    std::fs::File::create(path).unwrap();
                    refinery::config::Config::new(refinery::config::ConfigDbType::Sqlite)
                        .set_db_path(path.to_str().unwrap())
                }
                _ => db.url_text.parse().unwrap(),
            };
            let migrations = refinery::load_sql_migrations(dir.path()).unwrap();
            refinery::Runner::new(&migrations).run(&mut config).unwrap();
        }
        Tool::SeaOrm | Tool::GolangMigrate | Tool::Alembic => {
            for sql in tool_sql(d).into_iter().take(2) {
                for statement in sql.split(";\n").filter(|s| !s.trim().is_empty()) {
                    db.exec(statement);
                }
            }
            let bool_type = if d == Dialect::Mysql {
                "TINYINT(1)"
            } else {
                "BOOLEAN"
            };
            let (create, rows): (String, Vec<String>) = match tool {
                // sea-orm-migration's `seaql_migrations` (version, applied_at in seconds).
                Tool::SeaOrm => (
                    "CREATE TABLE seaql_migrations (version VARCHAR(255) NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)".into(),
                    (1..=2)
                        .map(|v| format!("INSERT INTO seaql_migrations VALUES ('m2024010{v}_000001_{}', 1704067200)", ["users", "posts"][v - 1]))
                        .collect(),
                ),
                // golang-migrate keeps one row: the version it stands at, and whether a
                // migration stopped half-way.
                Tool::GolangMigrate => (
                    format!("CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, dirty {bool_type} NOT NULL)"),
                    vec![format!("INSERT INTO schema_migrations VALUES (2, {})", if d == Dialect::Mysql { "0" } else { "FALSE" })],
                ),
                // Alembic keeps its head revision(s).
                _ => (
                    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))".into(),
                    vec!["INSERT INTO alembic_version VALUES ('rev2')".into()],
                ),
            };
            db.exec(&create);
            for row in rows {
                db.exec(&row);
            }
        }
        _ => unreachable!(),
    }
    dir
}

fn diesel_run(db: &TestDb, dir: &Path) {
    use diesel::Connection;
    use diesel_migrations::{FileBasedMigrations, MigrationHarness};
    let migrations = FileBasedMigrations::from_path(dir).unwrap();
    match &db.url {
        retort::DatabaseUrl::SqliteFile(path) => {
            let mut c = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
            c.run_pending_migrations(migrations).unwrap();
        }
        _ if db.dialect == Dialect::Postgres => {
            let mut c = diesel::PgConnection::establish(&db.url_text).unwrap();
            c.run_pending_migrations(migrations).unwrap();
        }
        _ => {
            let mut c = diesel::MysqlConnection::establish(&db.url_text).unwrap();
            c.run_pending_migrations(migrations).unwrap();
        }
    }
}

fn sqlx_run(db: &TestDb, dir: &Path) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let migrator = sqlx::migrate::Migrator::new(dir).await.unwrap();
        match db.dialect {
            Dialect::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&format!("{}?mode=rwc", db.url_text))
                    .await
                    .unwrap();
                migrator.run(&pool).await.unwrap();
                pool.close().await;
            }
            Dialect::Postgres => {
                let pool = sqlx::PgPool::connect(&db.url_text).await.unwrap();
                migrator.run(&pool).await.unwrap();
                pool.close().await;
            }
            Dialect::Mysql => {
                let pool = sqlx::MySqlPool::connect(&db.url_text).await.unwrap();
                migrator.run(&pool).await.unwrap();
                pool.close().await;
            }
        }
    });
}

/// What adoption must leave alone when it refuses: the schema, the other tool's rows, and
/// no retort version rows.
fn state(db: &TestDb, tool: Tool) -> (retort::schema::Schema, Vec<Option<String>>) {
    let schema = db.backend().introspect().unwrap();
    let column = match tool {
        Tool::Alembic => "version_num",
        _ => "version",
    };
    let text = if db.dialect == Dialect::Mysql {
        "CHAR"
    } else {
        "TEXT"
    };
    let rows = db.texts(&format!(
        "SELECT CAST({column} AS {text}) AS v FROM {} ORDER BY {column}",
        tool.table()
    ));
    (schema, rows)
}

fn no_retort_rows(db: &TestDb) -> bool {
    db.try_exec("SELECT 1 FROM retort_versions").is_err()
        || db.count("SELECT COUNT(*) AS n FROM retort_versions") == 0
}

#[test]
fn adopts_from_each_tool_on_every_backend() {
    let graph = graph();
    for template in TestDb::all() {
        let d = template.dialect;
        for tool in Tool::ALL {
            let what = format!("{} from {tool}", d.name());
            let db = template.another();
            let dir = apply_tool(tool, &db);
            let before_rows = state(&db, tool).1;
            assert_eq!(
                before_rows.len(),
                if matches!(tool, Tool::GolangMigrate | Tool::Alembic) {
                    1
                } else {
                    2
                },
                "{what}"
            );

            // Without asking, a start-up refuses and names the tool and the command.
            let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
            let err = runner.upgrade("head").unwrap_err();
            assert!(
                matches!(err, Error::ManagedByOtherTool { .. }),
                "{what}: {err}"
            );
            assert!(
                err.to_string().contains(&format!("db adopt --from {tool}")),
                "{what}: {err}"
            );
            assert!(no_retort_rows(&db), "{what}");

            let mut lines = Vec::new();
            let mut runner = Runner::connect(&graph, &db.url, Options::default())
                .unwrap()
                .with_log(|l| lines.push(l.to_string()));
            let current = runner
                .adopt_from(tool, Some(dir.path()))
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(current, ["r2"], "{what}");
            assert!(
                runner.check().unwrap().is_empty(),
                "{what}: {:?}",
                runner.check()
            );
            drop(runner);
            assert!(
                lines
                    .iter()
                    .any(|l| l.contains(&format!("adopted the database from {tool}"))
                        && l.contains(tool.table())),
                "{what}: {lines:?}"
            );
            // The old table stays, as it was.
            assert_eq!(state(&db, tool).1, before_rows, "{what}");
            let states = db.texts("SELECT state AS v FROM retort_versions ORDER BY revision");
            assert_eq!(
                states,
                [Some("adopted".to_string()), Some("adopted".to_string())],
                "{what}"
            );
            // The app goes on from there.
            let next = Graph::from_revisions([
                rev("r1", None, USERS, ""),
                rev("r2", Some("r1"), POSTS, ""),
                rev("r3", Some("r2"), TAGS, ""),
            ]);
            let mut runner = Runner::connect(&next, &db.url, Options::default()).unwrap();
            assert_eq!(runner.upgrade("head").unwrap(), ["r3"], "{what}");
            assert!(runner.check().unwrap().is_empty(), "{what}");
        }
    }
}

/// Adoption from `tool` with the tool's folder `dir` is refused saying `text`, and leaves the
/// schema, the tool's rows and retort's (none) as they were.
fn refused_unchanged(
    graph: &Graph,
    db: &TestDb,
    tool: Tool,
    dir: &Path,
    text: &str,
    what: &str,
) -> Error {
    let before = state(db, tool);
    let mut runner = Runner::connect(graph, &db.url, Options::default()).unwrap();
    let err = runner.adopt_from(tool, Some(dir)).unwrap_err();
    assert!(err.to_string().contains(text), "{what}: {err}");
    drop(runner);
    assert_eq!(state(db, tool), before, "{what}");
    assert!(no_retort_rows(db), "{what}");
    err
}

#[test]
fn refuses_with_nothing_changed_when_the_schema_differs_or_the_tool_is_not_done() {
    let graph = graph();
    for template in TestDb::all() {
        let d = template.dialect;
        for tool in Tool::ALL {
            let what = format!("{} from {tool}", d.name());

            // The schema differs from the head: the exact differences, nothing written.
            let db = template.another();
            let dir = apply_tool(tool, &db);
            db.exec("ALTER TABLE posts ADD COLUMN extra INTEGER");
            let err = refused_unchanged(&graph, &db, tool, dir.path(), "extra", &what);
            assert!(
                matches!(err, Error::AdoptionRefused { .. }),
                "{what}: {err}"
            );

            // The tool has a migration it never applied here.
            let db = template.another();
            apply_tool(tool, &db);
            let three = folder(tool, d, 3);
            let err = refused_unchanged(&graph, &db, tool, three.path(), "never applied", &what);
            assert!(
                matches!(err, Error::AdoptFromRefused { .. }),
                "{what}: {err}"
            );

            // The tool records a failed or dirty migration.
            let mark = match (tool, d) {
                (Tool::Sqlx, Dialect::Mysql) => {
                    Some("UPDATE _sqlx_migrations SET success = 0 WHERE version = 2")
                }
                (Tool::Sqlx, _) => {
                    Some("UPDATE _sqlx_migrations SET success = FALSE WHERE version = 2")
                }
                (Tool::GolangMigrate, Dialect::Mysql) => {
                    Some("UPDATE schema_migrations SET dirty = 1")
                }
                (Tool::GolangMigrate, _) => Some("UPDATE schema_migrations SET dirty = TRUE"),
                _ => None,
            };
            if let Some(sql) = mark {
                let db = template.another();
                let dir = apply_tool(tool, &db);
                db.exec(sql);
                let before = state(&db, tool);
                refused_unchanged(&graph, &db, tool, dir.path(), "failed or dirty", &what);
                // At start-up with adoption asked for, the same refusal.
                let options = Options {
                    adopt_from: Some(tool),
                    ..Options::default()
                };
                let mut runner = Runner::connect(&graph, &db.url, options).unwrap();
                let err = runner.upgrade("head").unwrap_err();
                assert!(err.to_string().contains("failed or dirty"), "{what}: {err}");
                drop(runner);
                assert_eq!(state(&db, tool), before, "{what}");
                assert!(no_retort_rows(&db), "{what}");
            }
        }
    }
}

/// Opted in at start-up (`RETORT_ADOPT_FROM`, `Options::adopt_from`), the first upgrade takes
/// the database over and goes on.
#[test]
fn adoption_at_start_up_is_opt_in() {
    let next = Graph::from_revisions([
        rev("r1", None, USERS, ""),
        rev("r2", Some("r1"), POSTS, ""),
        rev("r3", Some("r2"), TAGS, ""),
    ]);
    for db in TestDb::all() {
        apply_tool(Tool::Sqlx, &db);
        let options = Options {
            adopt_from: Some(Tool::Sqlx),
            ..Options::default()
        };
        let mut runner = Runner::connect(&next, &db.url, options).unwrap();
        assert_eq!(
            runner.upgrade("head").unwrap(),
            ["r3"],
            "{}",
            db.dialect.name()
        );
        assert!(runner.check().unwrap().is_empty());
        assert_eq!(db.count("SELECT COUNT(*) AS n FROM _sqlx_migrations"), 2);
    }
}
