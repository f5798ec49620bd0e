//! `retort models` on a database made by hand, as another tool or a DBA would have made it,
//! on SQLite, PostgreSQL and MariaDB: the command writes the models, the first migration and
//! the snapshot; the build then has nothing to write; the migration makes a database that
//! the catalog reads as the original; the original is adopted at the first revision and
//! `check` is clean; a second run refuses and writes nothing.

#[path = "../../tests/support/fixture.rs"]
mod fixture;
#[path = "../../runtime/tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Command;

use retort::schema::sql::Dialect;
use retort::{Options, Runner};
use retort_build::{Mode, Settings};
use support::TestDb;

/// The schema as people write it for each database: keys made by the database, an enum,
/// defaults, a check, a foreign key with an action, comments, a partial index, an
/// expression index and a descending key where the backend has them.
fn hand_made(d: Dialect) -> &'static [&'static str] {
    match d {
        Dialect::Sqlite => &[
            "CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(80) NOT NULL, email TEXT NOT NULL, created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, CONSTRAINT authors_email_key UNIQUE (email))",
            "CREATE TABLE posts (id INTEGER PRIMARY KEY AUTOINCREMENT, author_id INTEGER NOT NULL, title TEXT NOT NULL, score INTEGER NOT NULL DEFAULT 0, published BOOLEAN NOT NULL DEFAULT 0, CONSTRAINT posts_author_id_fkey FOREIGN KEY (author_id) REFERENCES authors (id) ON DELETE CASCADE, CONSTRAINT posts_score_check CHECK (score >= 0))",
            "CREATE INDEX posts_recent ON posts (author_id, id DESC) WHERE published = 1",
            "CREATE INDEX posts_title_lower ON posts (lower(title))",
        ],
        Dialect::Postgres => &[
            "CREATE TYPE post_state AS ENUM ('draft', 'published', 'gone')",
            "CREATE TABLE authors (id BIGSERIAL PRIMARY KEY, name VARCHAR(80) NOT NULL, email TEXT NOT NULL UNIQUE, created_at TIMESTAMPTZ NOT NULL DEFAULT now())",
            "COMMENT ON TABLE authors IS 'People who write'",
            "COMMENT ON COLUMN authors.email IS 'Where they log in'",
            "CREATE TABLE posts (id BIGSERIAL PRIMARY KEY, author_id BIGINT NOT NULL REFERENCES authors (id) ON DELETE CASCADE, title TEXT NOT NULL, state post_state NOT NULL DEFAULT 'draft', score INTEGER NOT NULL DEFAULT 0 CHECK (score >= 0), tags TEXT[] NOT NULL DEFAULT '{}', body JSONB)",
            "CREATE INDEX posts_recent ON posts (author_id, id DESC) WHERE state = 'published'",
            "CREATE INDEX posts_title_lower ON posts (lower(title))",
        ],
        Dialect::Mysql => &[
            "CREATE TABLE authors (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(80) NOT NULL, email VARCHAR(190) NOT NULL, created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), UNIQUE KEY authors_email_key (email)) COMMENT 'People who write'",
            "CREATE TABLE posts (id BIGINT AUTO_INCREMENT PRIMARY KEY, author_id BIGINT NOT NULL, title VARCHAR(200) NOT NULL COMMENT 'Shown as the heading', state ENUM('draft','published','gone') NOT NULL DEFAULT 'draft', score INT NOT NULL DEFAULT 0, CONSTRAINT posts_score_check CHECK (score >= 0), CONSTRAINT posts_author_id_fkey FOREIGN KEY (author_id) REFERENCES authors (id) ON DELETE CASCADE, INDEX posts_recent (author_id, id DESC))",
        ],
    }
}

fn crate_dir(naming: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        format!("[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[package.metadata.retort]\nnaming = \"{naming}\"\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/main.rs"),
        "mod models;\n\nfn main() {}\n",
    )
    .unwrap();
    dir
}

fn retort(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_retort"))
        .args(args)
        .env_remove("DB_URL")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

fn files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn models_from_a_hand_made_database_on_every_backend() {
    for db in TestDb::all() {
        let d = db.dialect;
        for sql in hand_made(d) {
            db.exec(sql);
        }
        let naming = if d == Dialect::Postgres {
            "postgres"
        } else {
            "retort"
        };
        let dir = crate_dir(naming);
        let root = dir.path().to_str().unwrap();
        let out = retort(&[
            "models",
            "--database-url",
            &db.url_text,
            "--crate-dir",
            root,
        ]);
        assert!(
            out.status.success(),
            "{}: {}",
            d.name(),
            fixture::said(&out)
        );
        let text = fixture::said(&out);
        assert!(text.contains("wrote 2 models"), "{}: {text}", d.name());
        let models = std::fs::read_to_string(dir.path().join("src/models.rs")).unwrap();
        assert!(
            models.contains("pub struct Author {") && models.contains("pub struct Post {"),
            "{models}"
        );
        assert!(dir.path().join("migrations/schema.json").exists());

        // The build has nothing to write: check mode passes on the written crate.
        let scratch = tempfile::tempdir().unwrap();
        let settings = Settings {
            mode: Mode::Check("test".into()),
            message: None,
            now: 0,
            migrations_dir: "migrations".into(),
            model_files: Vec::new(),
            backends: vec![d],
            strict_locks: false,
            online_ddl: true,
        };
        let report = retort_build::generate_in(dir.path(), scratch.path(), &settings)
            .unwrap_or_else(|e| panic!("{}: the next build would write: {e}\n{models}", d.name()));
        assert!(report.written.is_empty(), "{}", d.name());

        // The first migration makes the database again, as its catalog reads.
        let graph = support::graph_of_folder(&dir.path().join("migrations"));
        let mut original = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        let live = original.introspect().unwrap();
        let fresh = db.another();
        let mut made = Runner::connect(&graph, &fresh.url, Options::default()).unwrap();
        made.upgrade("head")
            .unwrap_or_else(|e| panic!("{}: {e}\n{models}", d.name()));
        let differences = made.differences(&live).unwrap();
        assert!(
            differences.is_empty(),
            "{}: {differences:#?}\n{models}",
            d.name()
        );
        assert!(made.check().unwrap().is_empty(), "{}", d.name());

        // The original is adopted at that revision and is clean.
        assert!(original.upgrade("head").unwrap().is_empty(), "{}", d.name());
        assert_eq!(original.current().unwrap().len(), 1);
        let check = original.check().unwrap();
        assert!(check.is_empty(), "{}: {check:#?}", d.name());

        // A second run refuses, naming the file, and changes nothing.
        let before = files(dir.path());
        let again = retort(&[
            "models",
            "--database-url",
            &db.url_text,
            "--crate-dir",
            root,
        ]);
        assert!(!again.status.success());
        assert!(
            fixture::said(&again).contains("already exists"),
            "{}",
            fixture::said(&again)
        );
        assert_eq!(files(dir.path()), before, "{}", d.name());
    }
}
