//! The reference app end to end on real SQLite files: `records db <verb>`, the startup
//! upgrade (`records migrate`), adoption, refusals, concurrency and offline SQL.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use retort::{DatabaseUrl, Graph, Options, Runner};

fn records(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_records"))
        .args(args)
        .env("DB_URL", format!("sqlite:///{}", db.display()))
        .env_remove("DATABASE_URL")
        .env_remove("RETORT_BACKUP")
        .output()
        .unwrap()
}

fn ok(db: &Path, args: &[&str]) -> String {
    let out = records(db, args);
    assert!(
        out.status.success(),
        "records {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn revisions() -> (String, String) {
    let graph = Graph::from_migrations(&records::MIGRATIONS);
    let ordered: Vec<String> = graph
        .all_ordered()
        .iter()
        .map(|r| r.id().to_string())
        .collect();
    (ordered[0].clone(), ordered[1].clone())
}

fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.db");
    (dir, path)
}

fn conn(db: &Path) -> SqliteConnection {
    SqliteConnection::establish(db.to_str().unwrap()).unwrap()
}

#[derive(QueryableByName)]
struct One {
    #[diesel(sql_type = Text)]
    v: String,
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn query(db: &Path, sql: &str) -> String {
    let rows: Vec<One> = diesel::sql_query(sql).load(&mut conn(db)).unwrap();
    rows.into_iter().map(|r| r.v).collect::<Vec<_>>().join("\n")
}

fn count(db: &Path, sql: &str) -> i64 {
    let rows: Vec<N> = diesel::sql_query(sql).load(&mut conn(db)).unwrap();
    rows[0].n
}

fn task_columns(db: &Path) -> Vec<String> {
    query(
        db,
        "SELECT name AS v FROM pragma_table_info('tasks') ORDER BY cid",
    )
    .lines()
    .map(String::from)
    .collect()
}

const INSERT_TASKS: &str =
    "INSERT INTO tasks (uuid, status, task_type, created_at, updated_at, language) VALUES
    ('u1', 'queued', 'transcription', '2026-11-26T05:00:00Z', '2026-11-26T05:00:00Z', 'en'),
    ('u2', 'done', 'diarization', '2026-11-26T06:00:00Z', '2026-11-26T06:00:00Z', NULL);
    INSERT INTO speaker_embeddings (uuid, task_uuid, speaker_label, embedding, created_at) VALUES
    ('e1', 'u2', 'SPEAKER_00', '[0.1, 0.2]', '2026-11-26T06:00:00Z');";

const TASK_ROWS: &str = "SELECT json_group_array(json_array(id, uuid, status, task_type, created_at, updated_at, language)) AS v FROM (SELECT * FROM tasks ORDER BY id)";

#[test]
fn upgrade_downgrade_and_history_keep_rows() {
    let (_dir, db) = temp_db();
    let (first, second) = revisions();
    ok(&db, &["db", "upgrade", "head"]);
    assert!(
        ok(&db, &["db", "current"]).starts_with(&format!("{second} add_tasks_retry_count (head)"))
    );
    conn(&db).batch_execute(INSERT_TASKS).unwrap();
    let rows = query(&db, TASK_ROWS);
    assert!(task_columns(&db).contains(&"retry_count".to_string()));

    ok(&db, &["db", "downgrade", "-1"]);
    assert!(ok(&db, &["db", "current"]).starts_with(&format!("{first} initial")));
    assert!(
        !task_columns(&db).contains(&"retry_count".to_string()),
        "retry_count is gone"
    );
    assert_eq!(query(&db, TASK_ROWS), rows, "every row kept");
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM speaker_embeddings"),
        1
    );

    ok(&db, &["db", "upgrade", "+1"]);
    assert_eq!(query(&db, TASK_ROWS), rows);
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM tasks WHERE retry_count = 0"),
        2,
        "the default fills the new column"
    );
    let history = ok(&db, &["db", "history"]);
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), 2, "{history}");
    assert!(
        lines[0].contains(&second) && lines[0].contains("(head)") && lines[0].contains("[applied "),
        "{history}"
    );
    assert!(
        lines[1].contains(&first) && lines[1].contains("[applied "),
        "{history}"
    );
    assert!(ok(&db, &["db", "heads"]).contains(&second));
    let shown = ok(&db, &["db", "show", &second[..15]]);
    assert!(
        shown.contains("add column tasks.retry_count")
            && shown.contains(
                "ALTER TABLE \"tasks\" ADD COLUMN \"retry_count\" INTEGER NOT NULL DEFAULT 0;"
            ),
        "{shown}"
    );
    assert!(ok(&db, &["db", "check"]).contains("matches the models"));
}

#[test]
fn a_database_built_from_printed_sql_is_stamped_and_upgraded() {
    let (_dir, db) = temp_db();
    let (first, second) = revisions();
    let sql = ok(&db, &["db", "sql", &format!("base:{first}")]);
    std::fs::remove_file(&db).ok();
    conn(&db).batch_execute(&sql).unwrap();
    ok(&db, &["db", "stamp", &first]);
    assert!(ok(&db, &["db", "current"]).starts_with(&first));
    let out = ok(&db, &["db", "upgrade", "head"]);
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("applied "))
            .collect::<Vec<_>>(),
        [format!("applied {second} (add_tasks_retry_count)")]
    );
}

#[test]
fn offline_sql_builds_the_same_schema_as_upgrade() {
    let (_dir, a) = temp_db();
    let (_dir2, b) = temp_db();
    ok(&a, &["db", "upgrade", "head"]);
    let sql = ok(&b, &["db", "sql", "base:head", "--dialect", "sqlite"]);
    std::fs::remove_file(&b).ok();
    conn(&b).batch_execute(&sql).unwrap();
    let graph = Graph::from_migrations(&records::MIGRATIONS);
    let schema = |p: &Path| {
        Runner::connect(
            &graph,
            &DatabaseUrl::SqliteFile(p.into()),
            Options::default(),
        )
        .unwrap()
        .introspect()
        .unwrap()
    };
    assert_eq!(schema(&a), schema(&b));
    let ddl = |p: &Path| {
        query(p, "SELECT sql AS v FROM sqlite_master WHERE sql IS NOT NULL AND name <> 'retort_versions' ORDER BY name")
    };
    assert_eq!(ddl(&a), ddl(&b));
    assert_eq!(ok(&b, &["db", "current"]), ok(&a, &["db", "current"]));
}

#[test]
fn a_database_made_before_migrations_is_adopted_at_head() {
    let (_dir, db) = temp_db();
    // The schema at head, made by hand: the migrations' SQL, without a version table.
    let graph = Graph::from_migrations(&records::MIGRATIONS);
    let mut schema = retort::schema::Schema::new();
    let mut ddl = Vec::new();
    for rev in graph.all_ordered() {
        let steps = retort::schema::sql::render_ops(
            &rev.up(),
            &mut schema,
            retort::schema::sql::Dialect::Sqlite,
        )
        .unwrap();
        for step in steps.into_iter().flatten() {
            if let retort::schema::sql::Step::Sql(s) = step {
                ddl.push(s);
            }
        }
    }
    conn(&db).batch_execute(&ddl.join(";\n")).unwrap();
    conn(&db).batch_execute(INSERT_TASKS).unwrap();
    let rows = query(&db, TASK_ROWS);
    let tables = query(
        &db,
        "SELECT sql AS v FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name",
    );
    let out = records(&db, &["migrate"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("adopted the existing database at"),
        "{stderr}"
    );
    assert!(!stderr.contains("applied "), "nothing re-run: {stderr}");
    assert_eq!(query(&db, TASK_ROWS), rows, "no row touched");
    let after = query(&db, "SELECT sql AS v FROM sqlite_master WHERE sql IS NOT NULL AND name <> 'retort_versions' AND name NOT LIKE 'sqlite_autoindex_retort%' ORDER BY name");
    assert_eq!(after, tables);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM retort_versions WHERE state = 'adopted'"
        ),
        2
    );
    assert!(ok(&db, &["db", "current"]).contains("(head)"));
}

#[test]
fn a_database_that_matches_no_revision_is_not_adopted() {
    let (_dir, db) = temp_db();
    conn(&db)
        .batch_execute("CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT)")
        .unwrap();
    let bytes = std::fs::read(&db).unwrap();
    let out = records(&db, &["migrate"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("matches no revision")
            && stderr.contains("table `speaker_embeddings` is missing"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&db).unwrap(), bytes);
}

fn refused(db: &Path, args: &[&str], expect: &[&str]) {
    let bytes = std::fs::read(db).unwrap();
    let out = records(db, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "records {args:?} should fail");
    for e in expect {
        assert!(stderr.contains(e), "expected {e:?} in: {stderr}");
    }
    assert_eq!(
        std::fs::read(db).unwrap(),
        bytes,
        "the database file changed"
    );
}

#[test]
fn refusals_change_nothing() {
    let (_dir, db) = temp_db();
    let (first, _) = revisions();
    ok(&db, &["db", "upgrade", &first]);
    // Database ahead of the code.
    conn(&db)
        .batch_execute("INSERT INTO retort_versions VALUES ('29990101_000000_ffff', '', 'from the future', 'x', '2999-01-01', 0, 'applied')")
        .unwrap();
    refused(
        &db,
        &["db", "upgrade", "head"],
        &[
            "29990101_000000_ffff",
            "ahead of the code",
            "Nothing was changed",
        ],
    );
    refused(&db, &["migrate"], &["ahead of the code"]);
    conn(&db)
        .batch_execute("DELETE FROM retort_versions WHERE revision = '29990101_000000_ffff'")
        .unwrap();
    // An applied migration edited afterwards.
    conn(&db)
        .batch_execute(&format!(
            "UPDATE retort_versions SET checksum = 'deadbeef' WHERE revision = '{first}'"
        ))
        .unwrap();
    refused(
        &db,
        &["db", "upgrade", "head"],
        &[
            &format!("migration {first} was changed after it was applied"),
            &format!("db stamp {first}"),
        ],
    );
    // The advertised repair works.
    ok(&db, &["db", "stamp", &first]);
    ok(&db, &["db", "upgrade", "head"]);
    // Bad URLs.
    refused(
        &db,
        &["db", "current", "--database-url", "oracle://db/x"],
        &["unknown scheme `oracle`", "Accepted: sqlite:///"],
    );
    // Refused either way: by a build without the `mysql` feature, or by the unreachable host.
    refused(
        &db,
        &["db", "upgrade", "--database-url", "mysql://u@h/db"],
        &[],
    );
    let out = records(&db, &["db", "upgrade", "--database-url", "mysql://u@h/db"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "support for mysql is not compiled into this build; enable retort's `mysql` feature"
        ) || stderr.contains("cannot connect to MySQL/MariaDB at mysql://u@h/db"),
        "{stderr}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_records"))
        .args(["migrate"])
        .env("DB_URL", "nope://x")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot use database URL `nope://x`"));
}

#[test]
fn eight_processes_upgrading_at_once_apply_each_migration_once() {
    for args in [vec!["migrate"], vec!["db", "upgrade", "head"]] {
        let (_dir, db) = temp_db();
        let url = format!("sqlite:///{}", db.display());
        let applied_lines = support::records_at_once(8, &args, &url);
        assert_eq!(
            applied_lines, 2,
            "{args:?}: each of the two migrations applied once"
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) AS n FROM retort_versions WHERE state = 'applied'"
            ),
            2
        );
    }
}

#[test]
fn the_startup_upgrade_can_back_up_the_file_first() {
    let (dir, db) = temp_db();
    let (first, _) = revisions();
    ok(&db, &["db", "upgrade", &first]);
    let out = Command::new(env!("CARGO_BIN_EXE_records"))
        .arg("migrate")
        .env("DB_URL", format!("sqlite:///{}", db.display()))
        .env("RETORT_BACKUP", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("backed up the database to"), "{stderr}");
    assert!(stderr.contains("to restore it: cp "), "{stderr}");
    let backup = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".bak"))
        .expect("a backup file");
    // The copy is a database at the revision before the upgrade.
    assert!(ok(&backup, &["db", "current"]).starts_with(&first));
    assert!(ok(&db, &["db", "current"]).contains("(head)"));
}

/// `--help` and unknown words print usage and touch no database: neither the server nor
/// the startup upgrade runs.
#[test]
fn help_and_unknown_words_print_usage_and_touch_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    let help = records(&db, &["--help"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for verb in ["serve", "migrate", "db"] {
        assert!(text.contains(verb), "{verb} in: {text}");
    }
    let db_help = records(&db, &["db", "--help"]);
    assert!(String::from_utf8_lossy(&db_help.stdout).contains("upgrade"));
    for args in [
        &["frobnicate"][..],
        &["--frobnicate"],
        &["serve", "extra"],
        &["db"],
    ] {
        let out = records(&db, args);
        assert_eq!(out.status.code(), Some(2), "records {args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("Usage:"), "records {args:?}: {stderr}");
    }
    assert!(!db.exists(), "no database was created");
}

/// `db sql` writes the dialect of the database it is pointed at unless `--dialect` says
/// otherwise; a URL that cannot be read is refused rather than guessed around.
#[test]
fn offline_sql_takes_its_dialect_from_the_url() {
    let sql = |url: Option<&str>, extra: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_records"));
        c.args(["db", "sql", "base:head"])
            .args(extra)
            .env_remove("DATABASE_URL");
        match url {
            Some(u) => c.env("DB_URL", u),
            None => c.env_remove("DB_URL"),
        };
        c.output().unwrap()
    };
    let text = |o: &Output| String::from_utf8_lossy(&o.stdout).to_string();
    let pg = sql(Some("postgres://u@127.0.0.1:1/none"), &[]);
    assert!(
        pg.status.success(),
        "{}",
        String::from_utf8_lossy(&pg.stderr)
    );
    assert!(
        text(&pg).contains("(postgres)") && text(&pg).contains("JSONB"),
        "{}",
        text(&pg)
    );
    let my = sql(Some("mysql://u@127.0.0.1:1/none"), &[]);
    assert!(text(&my).contains("DATETIME(6)"), "{}", text(&my));
    // The flag wins; with no URL at all, SQLite.
    let flagged = sql(
        Some("postgres://u@127.0.0.1:1/none"),
        &["--dialect", "mysql"],
    );
    assert!(text(&flagged).contains("(mysql)") && !text(&flagged).contains("TIMESTAMPTZ"));
    let sqlite = sql(Some("sqlite:///nowhere.db"), &[]);
    assert!(text(&sqlite).contains("(sqlite)") && !text(&sqlite).contains("DATETIME(6)"));
    let unset = sql(None, &[]);
    assert!(text(&unset).contains("(sqlite)"), "{}", text(&unset));
    let bad = sql(Some("oracle://x"), &[]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("oracle"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

/// `--quiet` prints nothing on success; the default prints one line per migration.
#[test]
fn quiet_upgrades_print_nothing() {
    let (_dir, db) = temp_db();
    let out = records(&db, &["db", "--quiet", "upgrade"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert!(ok(&db, &["db", "current"]).contains("(head)"));
    let (_dir2, db2) = temp_db();
    let said = ok(&db2, &["db", "upgrade"]);
    assert_eq!(
        said.lines().filter(|l| l.starts_with("applied ")).count(),
        records::MIGRATIONS.all().len(),
        "{said}"
    );
}
