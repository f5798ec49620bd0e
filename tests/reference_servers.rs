//! The reference app on PostgreSQL and MariaDB (servers from `scripts/test-dbs.sh`):
//! upgrade, downgrade and re-upgrade with rows kept and `db check` clean; the offline
//! `sql base:head` script run by `psql` / `mariadb` gives what `db upgrade head` gives; 16
//! processes upgrading at start at once apply each migration once, and a 17th does nothing.
//!
//! Without the servers (or without retort's `postgres` / `mysql` features) these tests say how
//! to run them and pass; with `CI=true` they fail instead.

use std::process::{Command, Output, Stdio};

use retort::schema::sql::Dialect;

#[path = "../runtime/tests/support/mod.rs"]
mod runtime_support;
mod support;
use runtime_support::TestDb;

/// The reference app's binary against a test database.
trait Records {
    /// `records …` with `DB_URL` naming the database.
    fn records(&self, args: &[&str]) -> Output;
    /// The same, which must succeed; its output.
    fn ok(&self, args: &[&str]) -> String;
    /// The text column `v` of every row, none NULL.
    fn strings(&self, sql: &str) -> Vec<String>;
}

impl Records for TestDb {
    fn records(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_records"))
            .args(args)
            .env("DB_URL", &self.url_text)
            .env_remove("DATABASE_URL")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.records(args);
        assert!(
            out.status.success(),
            "{}: records {args:?} failed:\n{}{}",
            self.dialect.name(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    fn strings(&self, sql: &str) -> Vec<String> {
        self.texts(sql)
            .into_iter()
            .map(|v| v.unwrap_or_else(|| panic!("{}: NULL from {sql}", self.dialect.name())))
            .collect()
    }
}

const TASK_ROWS: &str =
    "SELECT CONCAT(uuid, '|', status, '|', task_type) AS v FROM tasks ORDER BY id";

#[test]
fn reference_app_upgrades_downgrades_and_upgrades_again_keeping_rows() {
    for db in TestDb::servers() {
        let dialect = db.dialect.name();
        db.ok(&["db", "upgrade", "head"]);
        db.ok(&["db", "check"]);
        db.exec(
            "INSERT INTO tasks (uuid, status, task_type, created_at, updated_at) VALUES \
             ('u-1', 'queued', 'transcription', '2026-01-01 10:00:00', '2026-01-01 10:00:00'), \
             ('u-2', 'done', 'diarization', '2026-01-02 10:00:00', '2026-01-02 10:00:00')",
        );
        db.exec(
            "INSERT INTO speaker_embeddings (uuid, task_uuid, speaker_label, embedding, created_at) VALUES \
             ('s-1', 'u-1', 'SPEAKER_00', '[0.5, 1.5]', '2026-01-01 10:00:00')",
        );
        let tasks = db.strings(TASK_ROWS);
        assert_eq!(tasks.len(), 2, "{dialect}");
        db.ok(&["db", "downgrade", "-1"]);
        assert_eq!(
            db.strings(TASK_ROWS),
            tasks,
            "{dialect}: rows kept by the downgrade"
        );
        db.ok(&["db", "upgrade", "head"]);
        assert_eq!(
            db.strings(TASK_ROWS),
            tasks,
            "{dialect}: rows kept by the re-upgrade"
        );
        assert_eq!(
            db.strings("SELECT CONCAT(retry_count, '') AS v FROM tasks ORDER BY id"),
            ["0", "0"],
            "{dialect}: the new column's server default filled the old rows"
        );
        assert_eq!(
            db.strings("SELECT CONCAT(uuid, '|', task_uuid, '|', speaker_label) AS v FROM speaker_embeddings"),
            ["s-1|u-1|SPEAKER_00"],
            "{dialect}"
        );
        // Introspection equals the models (the snapshot) after the dialect's normalisation.
        let out = db.ok(&["db", "check"]);
        assert!(out.contains("matches"), "{dialect}: {out}");
    }
}

/// The offline script piped into the database's own client.
fn run_script(db: &TestDb, script: &str) {
    let mut cmd = if db.dialect == Dialect::Postgres {
        let mut c = Command::new("psql");
        c.args(["-q", "-v", "ON_ERROR_STOP=1", &db.url_text]);
        c
    } else {
        // mysql://user:password@host:port/name
        let rest = db.url_text.strip_prefix("mysql://").unwrap();
        let (auth, place) = rest.rsplit_once('@').unwrap();
        let (user, password) = auth.split_once(':').unwrap();
        let (hostport, name) = place.split_once('/').unwrap();
        let (host, port) = hostport.split_once(':').unwrap_or((hostport, "3306"));
        let mut c = Command::new("mariadb");
        c.args([
            "--no-defaults",
            "-h",
            host,
            "-P",
            port,
            "-u",
            user,
            &format!("-p{password}"),
            name.split('?').next().unwrap(),
        ]);
        c
    };
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: cannot run the client: {e}", db.dialect.name()));
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}: the client refused the script:\n{}\n{}",
        db.dialect.name(),
        String::from_utf8_lossy(&out.stderr),
        script
    );
}

#[test]
fn the_offline_script_run_by_the_client_gives_what_upgrade_gives() {
    for scripted in TestDb::servers() {
        let dialect = scripted.dialect.name();
        let upgraded = scripted.another();
        let script = scripted.ok(&["db", "sql", "base:head", "--dialect", dialect]);
        run_script(&scripted, &script);
        upgraded.ok(&["db", "upgrade", "head"]);
        let a = scripted.backend().introspect().unwrap();
        let b = upgraded.backend().introspect().unwrap();
        assert_eq!(a, b, "{dialect}: the same schema either way");
        let revisions = |db: &TestDb| {
            let mut rows: Vec<String> = db
                .backend()
                .applied()
                .unwrap()
                .into_iter()
                .map(|r| format!("{} {} {}", r.revision, r.checksum, r.state))
                .collect();
            rows.sort();
            rows
        };
        assert_eq!(
            revisions(&scripted),
            revisions(&upgraded),
            "{dialect}: version rows"
        );
        // The scripted database is one the runner accepts as it is.
        let out = scripted.ok(&["db", "check"]);
        assert!(out.contains("matches"), "{dialect}: {out}");
        assert_eq!(
            scripted
                .ok(&["db", "upgrade", "head"])
                .matches("applied ")
                .count(),
            0
        );
    }
}

#[test]
fn sixteen_processes_upgrading_at_start_apply_each_migration_once() {
    for db in TestDb::servers() {
        let dialect = db.dialect.name();
        let applied_lines = support::records_at_once(16, &["migrate"], &db.url_text);
        assert_eq!(
            applied_lines, 2,
            "{dialect}: each of the two migrations applied once"
        );
        let rows = db.backend().applied().unwrap();
        assert_eq!(rows.len(), 2, "{dialect}");
        assert!(
            rows.iter().all(|r| r.state == "applied"),
            "{dialect}: {rows:?}"
        );
        // A 17th start is a no-op: nothing applied, the rows untouched.
        let out = db.ok(&["migrate"]);
        assert!(!out.contains("applied "), "{dialect}: {out}");
        let mut again = db.backend().applied().unwrap();
        let mut before = rows;
        again.sort_by(|a, b| a.revision.cmp(&b.revision));
        before.sort_by(|a, b| a.revision.cmp(&b.revision));
        assert_eq!(again, before, "{dialect}: the version rows did not change");
    }
}

#[test]
fn a_start_up_waits_for_a_held_lock_then_fails_naming_the_holder() {
    for db in TestDb::servers() {
        let dialect = db.dialect.name();
        let mut holder = db.backend();
        holder.lock(std::time::Duration::from_secs(1)).unwrap();
        let started = std::time::Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_records"))
            .arg("migrate")
            .env("DB_URL", &db.url_text)
            .env("RETORT_LOCK_TIMEOUT", "2")
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        let waited = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{dialect}: {stderr}");
        assert!(
            waited >= std::time::Duration::from_secs(2)
                && waited < std::time::Duration::from_secs(30),
            "{dialect}: waited {waited:?}"
        );
        assert!(
            stderr.contains("held the migration lock for more than 2s")
                && (stderr.contains("pid ") || stderr.contains("connection ")),
            "{dialect}: {stderr}"
        );
        assert!(
            db.backend().applied().unwrap().is_empty(),
            "{dialect}: nothing ran"
        );
        holder.unlock().unwrap();
        db.ok(&["migrate"]);
    }
}

#[allow(dead_code)]
#[path = "../examples/data_migration.rs"]
mod data_migration;

/// The data-migration example on every backend: the same `run(…)` function through
/// `retort::Connection`.
#[test]
fn the_data_migration_example_runs_on_every_backend() {
    let dir = tempfile::tempdir().unwrap();
    let mut urls = vec![(
        "sqlite",
        format!("sqlite:///{}", dir.path().join("jobs.db").display()),
        None,
    )];
    for db in TestDb::servers() {
        urls.push((db.dialect.name(), db.url_text.clone(), Some(db)));
    }
    for (dialect, url, _db) in urls {
        let jobs = data_migration::run(&url).unwrap_or_else(|e| panic!("{dialect}: {e}"));
        assert_eq!(
            jobs,
            [
                ("transcribe".to_string(), 0),
                ("urgent: diarize".to_string(), 10),
                ("embed".to_string(), 0)
            ],
            "{dialect}"
        );
    }
}

#[test]
fn db_check_reports_a_column_added_by_hand_with_exit_code_1() {
    for db in TestDb::all() {
        let dialect = db.dialect.name();
        db.ok(&["db", "upgrade", "head"]);
        db.ok(&["db", "check"]);
        db.exec("ALTER TABLE tasks ADD COLUMN by_hand INTEGER");
        let out = db.records(&["db", "check"]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(1), "{dialect}: {text}");
        assert!(text.contains("tasks.by_hand"), "{dialect}: {text}");
    }
}

#[test]
fn the_documented_recovery_from_a_dirty_state_works_through_the_cli() {
    let Some(db) = TestDb::on_server("RETORT_MYSQL_URL") else {
        return;
    };
    let graph = retort::Graph::from_migrations(&records::MIGRATIONS);
    let ids: Vec<String> = graph
        .all_ordered()
        .iter()
        .map(|r| r.id().to_string())
        .collect();
    db.ok(&["db", "upgrade", &ids[0]]);
    // What a crash in the first statement of the second migration leaves (its statement
    // did not run): the row says so.
    let second = graph.get(&ids[1]).unwrap();
    db.exec(&format!(
        "INSERT INTO retort_versions (revision, parents, message, checksum, applied_at, execution_ms, state) VALUES ('{}', '{}', 'm', '{}', '2026-12-01T00:00:00.000Z', 0, 'dirty 0/1')",
        ids[1],
        ids[0],
        second.checksum()
    ));
    let out = db.records(&["db", "upgrade", "head"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("0 of 1 statement(s) ran")
            && stderr.contains("ADD COLUMN `retry_count`")
            && stderr.contains(&format!("db resolve {} --reverted", ids[1])),
        "{stderr}"
    );
    // Nothing ran, so: resolve as reverted, then upgrade.
    db.ok(&["db", "resolve", &ids[1], "--reverted"]);
    let out = db.ok(&["db", "upgrade", "head"]);
    assert!(out.contains(&format!("applied {}", ids[1])), "{out}");
    db.ok(&["db", "check"]);
}
