//! The reference app on PostgreSQL and MariaDB (servers from `scripts/test-dbs.sh`):
//! upgrade, downgrade and re-upgrade with rows kept and `db check` clean; the offline
//! `sql base:head` script run by `psql` / `mariadb` gives what `db upgrade head` gives; 16
//! processes upgrading at start at once apply each migration once, and a 17th does nothing.
//!
//! Without the servers (or without retort's `postgres` / `mysql` features) these tests say how
//! to run them and pass; with `CI=true` they fail instead.

use std::process::{Command, Output, Stdio};

use diesel::prelude::*;
use diesel::sql_types::Text;
use retort::backend::{connect, Backend};
use retort::DatabaseUrl;

/// The servers this run can reach: (dialect name, server URL).
fn servers() -> Vec<(&'static str, String)> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let mut out = Vec::new();
    for (name, var) in [("postgres", "RETORT_PG_URL"), ("mysql", "RETORT_MYSQL_URL")] {
        let how = "run `bash scripts/test-dbs.sh run cargo test --workspace --features retort/postgres,retort/mysql`";
        let Some(url) = std::env::var(var).ok().filter(|v| !v.is_empty()) else {
            assert!(!ci, "{var} is not set and CI=true: {how}");
            eprintln!("note: {var} is not set; skipping {name}. To test it, {how}");
            continue;
        };
        if let Err(e) = connect(&DatabaseUrl::parse(&url).unwrap()) {
            let text = e.to_string();
            assert!(!ci, "{name}: {text}");
            if text.contains("not compiled") {
                eprintln!("note: {text}; skipping {name}. To test it, {how}");
                continue;
            }
            panic!("{name}: {text}");
        }
        out.push((name, url));
    }
    out
}

/// A fresh database on a server, dropped on drop.
struct Fresh {
    server: String,
    name: String,
    dialect: &'static str,
    url: String,
}

impl Fresh {
    fn new(dialect: &'static str, server: &str) -> Fresh {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let name = format!(
            "ref_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let mut admin = connect(&DatabaseUrl::parse(server).unwrap()).unwrap();
        admin
            .execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("{dialect}: {e}"));
        let (base, query) = server.split_once('?').unwrap_or((server, ""));
        let cut = base.rfind('/').unwrap();
        let mut url = format!("{}/{name}", &base[..cut]);
        if !query.is_empty() {
            url = format!("{url}?{query}");
        }
        Fresh {
            server: server.to_string(),
            name,
            dialect,
            url,
        }
    }

    fn backend(&self) -> Box<dyn Backend> {
        connect(&DatabaseUrl::parse(&self.url).unwrap()).unwrap()
    }

    fn exec(&self, sql: &str) {
        self.backend()
            .execute(sql)
            .unwrap_or_else(|e| panic!("{}: {sql}: {e}", self.dialect));
    }

    /// One text column `v` of every row.
    fn texts(&self, sql: &str) -> Vec<String> {
        #[derive(QueryableByName)]
        struct V {
            #[diesel(sql_type = Text)]
            v: String,
        }
        let mut b = self.backend();
        let rows: Vec<V> = diesel::sql_query(sql)
            .load(b.connection())
            .unwrap_or_else(|e| panic!("{}: {sql}: {e}", self.dialect));
        rows.into_iter().map(|r| r.v).collect()
    }

    fn records(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_records"))
            .args(args)
            .env("DB_URL", &self.url)
            .env_remove("DATABASE_URL")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.records(args);
        assert!(
            out.status.success(),
            "{}: records {args:?} failed:\n{}{}",
            self.dialect,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }
}

impl Drop for Fresh {
    fn drop(&mut self) {
        let sql = if self.dialect == "postgres" {
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)
        } else {
            format!("DROP DATABASE IF EXISTS {}", self.name)
        };
        if let Ok(mut admin) = connect(&DatabaseUrl::parse(&self.server).unwrap()) {
            let _ = admin.execute(&sql);
        }
    }
}

const TASK_ROWS: &str =
    "SELECT CONCAT(uuid, '|', status, '|', task_type) AS v FROM tasks ORDER BY id";

#[test]
fn reference_app_upgrades_downgrades_and_upgrades_again_keeping_rows() {
    for (dialect, server) in servers() {
        let db = Fresh::new(dialect, &server);
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
        let tasks = db.texts(TASK_ROWS);
        assert_eq!(tasks.len(), 2, "{dialect}");
        db.ok(&["db", "downgrade", "-1"]);
        assert_eq!(
            db.texts(TASK_ROWS),
            tasks,
            "{dialect}: rows kept by the downgrade"
        );
        db.ok(&["db", "upgrade", "head"]);
        assert_eq!(
            db.texts(TASK_ROWS),
            tasks,
            "{dialect}: rows kept by the re-upgrade"
        );
        assert_eq!(
            db.texts("SELECT CONCAT(retry_count, '') AS v FROM tasks ORDER BY id"),
            ["0", "0"],
            "{dialect}: the new column's server default filled the old rows"
        );
        assert_eq!(
            db.texts("SELECT CONCAT(uuid, '|', task_uuid, '|', speaker_label) AS v FROM speaker_embeddings"),
            ["s-1|u-1|SPEAKER_00"],
            "{dialect}"
        );
        // Introspection equals the models (the snapshot) after the dialect's normalisation.
        let out = db.ok(&["db", "check"]);
        assert!(out.contains("matches"), "{dialect}: {out}");
    }
}

/// The offline script piped into the database's own client.
fn run_script(db: &Fresh, script: &str) {
    let mut cmd = if db.dialect == "postgres" {
        let mut c = Command::new("psql");
        c.args(["-q", "-v", "ON_ERROR_STOP=1", &db.url]);
        c
    } else {
        // mysql://user:password@host:port/name
        let rest = db.url.strip_prefix("mysql://").unwrap();
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
        .unwrap_or_else(|e| panic!("{}: cannot run the client: {e}", db.dialect));
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
        db.dialect,
        String::from_utf8_lossy(&out.stderr),
        script
    );
}

#[test]
fn the_offline_script_run_by_the_client_gives_what_upgrade_gives() {
    for (dialect, server) in servers() {
        let scripted = Fresh::new(dialect, &server);
        let upgraded = Fresh::new(dialect, &server);
        let script = scripted.ok(&["db", "sql", "base:head", "--dialect", dialect]);
        run_script(&scripted, &script);
        upgraded.ok(&["db", "upgrade", "head"]);
        let a = scripted.backend().introspect().unwrap();
        let b = upgraded.backend().introspect().unwrap();
        assert_eq!(a, b, "{dialect}: the same schema either way");
        let revisions = |db: &Fresh| {
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
    for (dialect, server) in servers() {
        let db = Fresh::new(dialect, &server);
        let children: Vec<_> = (0..16)
            .map(|_| {
                Command::new(env!("CARGO_BIN_EXE_records"))
                    .arg("migrate")
                    .env("DB_URL", &db.url)
                    .env_remove("DATABASE_URL")
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut applied_lines = 0;
        for child in children {
            let out = child.wait_with_output().unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.status.success(), "{dialect}: {text}");
            applied_lines += text
                .lines()
                .filter(|l| l.trim_start_matches("retort: ").starts_with("applied "))
                .count();
        }
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
    for (dialect, server) in servers() {
        let db = Fresh::new(dialect, &server);
        let mut holder = db.backend();
        holder.lock(std::time::Duration::from_secs(1)).unwrap();
        let started = std::time::Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_records"))
            .arg("migrate")
            .env("DB_URL", &db.url)
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
    for (dialect, server) in servers() {
        let db = Fresh::new(dialect, &server);
        urls.push((dialect, db.url.clone(), Some(db)));
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
    // SQLite first: a file.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:///{}", dir.path().join("check.db").display());
    let sqlite = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_records"))
            .args(args)
            .env("DB_URL", &url)
            .env_remove("DATABASE_URL")
            .output()
            .unwrap()
    };
    assert!(sqlite(&["db", "upgrade", "head"]).status.success());
    assert!(sqlite(&["db", "check"]).status.success());
    let mut backend = connect(&DatabaseUrl::parse(&url).unwrap()).unwrap();
    backend
        .execute("ALTER TABLE tasks ADD COLUMN by_hand INTEGER")
        .unwrap();
    let out = sqlite(&["db", "check"]);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "sqlite: {text}");
    assert!(text.contains("tasks.by_hand"), "sqlite: {text}");
    for (dialect, server) in servers() {
        let db = Fresh::new(dialect, &server);
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
    let Some((dialect, server)) = servers().into_iter().find(|(d, _)| *d == "mysql") else {
        return;
    };
    let db = Fresh::new(dialect, &server);
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
