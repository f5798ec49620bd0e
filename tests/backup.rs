//! Backups before an upgrade on the servers (`RETORT_BACKUP=1`): `records migrate` dumps the
//! database with the server's own tool before anything runs and prints the command that
//! restores it; running that command after the upgrade gives back the schema, the rows and
//! the version table as they were. A missing or failing dump tool stops the upgrade with
//! nothing applied and no file left behind.

use std::process::{Command, Output};

#[path = "../runtime/tests/support/mod.rs"]
mod runtime_support;
use runtime_support::TestDb;

fn records(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_records"));
    c.args(args)
        .env("DB_URL", &db.url_text)
        .env_remove("DATABASE_URL")
        .env_remove("RETORT_BACKUP")
        .env_remove("RETORT_BACKUP_DIR");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The database at the first revision, with rows.
fn at_first_revision_with_rows(db: &TestDb) -> &'static str {
    let first = records::MIGRATIONS.all()[0].revision;
    let out = records(db, &["db", "upgrade", first], &[]);
    assert!(out.status.success(), "{}", said(&out));
    for i in 0..3 {
        db.exec(&format!(
            "INSERT INTO tasks (uuid, status, task_type, url, created_at, updated_at) VALUES ('u{i}', 'queued', 't', 'https://example.invalid/{i}.wav', '2026-01-0{} 10:00:00', '2026-01-01 10:00:00')",
            i + 1
        ));
    }
    first
}

/// The schema as the database reports it, the tasks' rows, the version rows.
type State = (String, Vec<Vec<Option<String>>>, Vec<Option<String>>);

/// The database's [`State`].
fn state(db: &TestDb) -> State {
    let schema = db.backend().introspect().unwrap();
    let tasks = db.rows("tasks", &["id", "uuid", "status", "url", "created_at"]);
    let versions = db.texts(
        "SELECT CONCAT(revision, ' ', checksum, ' ', state) AS v FROM retort_versions ORDER BY revision",
    );
    (format!("{schema:?}"), tasks, versions)
}

/// The password in a server test URL (the test servers use one), for the restore's client.
fn password(db: &TestDb) -> String {
    let userinfo = db
        .url_text
        .split("://")
        .nth(1)
        .unwrap()
        .split('@')
        .next()
        .unwrap();
    userinfo.split(':').nth(1).unwrap_or_default().to_string()
}

#[test]
fn backup_upgrade_restore_gives_back_the_database_as_it_was() {
    for db in TestDb::servers() {
        let name = db.dialect.name();
        let first = at_first_revision_with_rows(&db);
        let before = state(&db);
        let dir = tempfile::tempdir().unwrap();
        let out = records(
            &db,
            &["migrate"],
            &[
                ("RETORT_BACKUP", "1"),
                ("RETORT_BACKUP_DIR", dir.path().to_str().unwrap()),
            ],
        );
        let text = said(&out);
        assert!(out.status.success(), "{name}: {text}");
        let line = text
            .lines()
            .find(|l| l.contains("backed up the database to "))
            .unwrap_or_else(|| panic!("{name}: no backup line: {text}"));
        // The backup came first: before any migration was applied.
        let backed = text.find("backed up").unwrap();
        let applied = text
            .find("applied ")
            .unwrap_or_else(|| panic!("{name}: {text}"));
        assert!(backed < applied, "{name}: {text}");
        let restore = line.split("; to restore it: ").nth(1).unwrap().to_string();
        let files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(
            files.len(),
            1,
            "{name}: one backup file, no partial: {files:?}"
        );
        assert!(
            line.contains(&files[0].display().to_string()),
            "{name}: {line}"
        );

        let after = state(&db);
        assert_ne!(after.0, before.0, "{name}: the upgrade changed the schema");
        assert_ne!(after.2, before.2, "{name}: and the version table");
        db.exec("INSERT INTO tasks (uuid, status, task_type, url, created_at, updated_at) VALUES ('later', 'queued', 't', 'u', '2026-02-01 10:00:00', '2026-02-01 10:00:00')");

        // The printed command, as an operator would run it (the password from the
        // environment, as the clients read it).
        let status = Command::new("sh")
            .args(["-c", &restore])
            .env("PGPASSWORD", password(&db))
            .env("MYSQL_PWD", password(&db))
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{name}: {restore}: {}",
            said(&status)
        );
        let restored = state(&db);
        assert_eq!(restored.0, before.0, "{name}: schema as before the upgrade");
        assert_eq!(restored.1, before.1, "{name}: rows as before the upgrade");
        assert_eq!(
            restored.2, before.2,
            "{name}: versions as before the upgrade"
        );
        let current = records(&db, &["db", "current"], &[]);
        assert!(said(&current).contains(first), "{name}: {}", said(&current));
    }
}

#[test]
fn without_a_working_dump_tool_nothing_is_applied() {
    for db in TestDb::servers() {
        let name = db.dialect.name();
        at_first_revision_with_rows(&db);
        let before = state(&db);
        // The tool is not on PATH.
        let empty = tempfile::tempdir().unwrap();
        let out = records(
            &db,
            &["migrate"],
            &[
                ("RETORT_BACKUP", "1"),
                ("PATH", empty.path().to_str().unwrap()),
                ("RETORT_BACKUP_DIR", empty.path().to_str().unwrap()),
            ],
        );
        let text = said(&out);
        assert!(!out.status.success(), "{name}: {text}");
        let tool = if name == "postgres" {
            "pg_dump"
        } else {
            "mariadb-dump"
        };
        assert!(
            text.contains(tool) && text.contains("not on PATH"),
            "{name}: {text}"
        );
        assert!(text.contains("nothing was applied"), "{name}: {text}");
        assert_eq!(state(&db), before, "{name}: nothing changed");

        // The tool fails part-way: it wrote some of its file, then exited 2.
        let tools = tempfile::tempdir().unwrap();
        for tool in ["pg_dump", "mariadb-dump"] {
            let path = tools.path().join(tool);
            std::fs::write(
                &path,
                "#!/bin/sh\nfor a in \"$@\"; do case \"$a\" in --file=*|--result-file=*) echo partial > \"${a#*=}\";; esac; done\necho 'dump: connection lost' >&2\nexit 2\n",
            )
            .unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let backups = tempfile::tempdir().unwrap();
        let out = records(
            &db,
            &["migrate"],
            &[
                ("RETORT_BACKUP", "1"),
                ("PATH", tools.path().to_str().unwrap()),
                ("RETORT_BACKUP_DIR", backups.path().to_str().unwrap()),
            ],
        );
        let text = said(&out);
        assert!(!out.status.success(), "{name}: {text}");
        assert!(
            text.contains("cannot back up") && text.contains("connection lost"),
            "{name}: {text}"
        );
        assert_eq!(state(&db), before, "{name}: nothing changed");
        let left: Vec<_> = std::fs::read_dir(backups.path()).unwrap().collect();
        assert!(
            left.is_empty(),
            "{name}: the partial dump is removed: {left:?}"
        );
    }
}
