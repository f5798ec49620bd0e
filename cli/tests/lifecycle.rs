//! `docs/lifecycle.md`, run: each workflow's `sh` commands, line by line, in an app set up as
//! the document says (a real crate built with `cargo build`), against an SQLite database made
//! as the workflow starts — by hand for the first, by sqlx for the second, by the app's own
//! history of several migrations for the third. (Every backend is covered by
//! `models_from_database.rs`, `adopt_from.rs` and `squash.rs`.)

#[path = "../../tests/support/fixture.rs"]
mod fixture;

use std::path::Path;
use std::process::Command;

use fixture::{workspace, Fixture};

/// The `sh` commands of the section whose heading starts with `heading`.
fn section_commands(doc: &str, heading: &str) -> Vec<String> {
    let start = doc
        .find(&format!("\n## {heading}"))
        .unwrap_or_else(|| panic!("docs/lifecycle.md has no section `{heading}`"));
    let rest = &doc[start + 4..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    let out = fixture::sh_commands(&rest[..end]);
    assert!(!out.is_empty(), "section `{heading}` has commands");
    out
}

/// Asserts that the output of command `i` says `text`.
fn says(said: &[String], i: usize, text: &str) {
    assert!(
        said[i].contains(text),
        "command {i} did not say {text:?}:\n{}",
        said[i]
    );
}

/// The app of the document: the fixture crate with the command line at `myapp db …`.
fn app(name: &str) -> Fixture {
    let f = Fixture::with_retort_features(name, &["cli"]);
    std::fs::write(
        f.path().join("src/main.rs"),
        "mod models;\n\nretort::include_migrations!();\n\nfn main() {\n    let args: Vec<String> = std::env::args().skip(2).collect();\n    std::process::exit(retort::cli::run(\"myapp db\", &MIGRATIONS, args));\n}\n",
    )
    .unwrap();
    f
}

/// Runs the document's commands in the app's folder, each with bash, `retort` on the path.
fn run_all(f: &Fixture, commands: &[String], url: &str) -> Vec<String> {
    let bin = Path::new(env!("CARGO_BIN_EXE_retort"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut said = Vec::new();
    for line in commands {
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(line)
            .current_dir(f.path())
            .env("PATH", &path)
            .env("DATABASE_URL", url)
            .env_remove("DB_URL")
            .env("CARGO_TARGET_DIR", workspace().join("target/fixtures"))
            .env("CARGO_PROFILE_DEV_DEBUG", "0");
        for key in retort_build::SETTINGS_ENV {
            cmd.env_remove(key);
        }
        cmd.env("RETORT_MODE", "write");
        let out = cmd.output().unwrap();
        let text = fixture::said(&out);
        assert!(out.status.success(), "`{line}` failed:\n{text}");
        said.push(text);
    }
    said
}

fn sqlite(dir: &Path) -> (String, diesel::SqliteConnection) {
    use diesel::Connection;
    let path = dir.join("app.db");
    let conn = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    (format!("sqlite:///{}", path.display()), conn)
}

fn exec(conn: &mut diesel::SqliteConnection, sql: &str) {
    diesel::connection::SimpleConnection::batch_execute(conn, sql).unwrap();
}

const SCHEMA: &str = "
    CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(80) NOT NULL, created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
    CREATE TABLE posts (id INTEGER PRIMARY KEY AUTOINCREMENT, author_id INTEGER NOT NULL, title TEXT NOT NULL, CONSTRAINT posts_author_id_fkey FOREIGN KEY (author_id) REFERENCES authors (id) ON DELETE CASCADE);
    CREATE INDEX posts_title ON posts (title);
";

#[test]
fn starting_from_a_database_that_has_no_models() {
    let doc = std::fs::read_to_string(workspace().join("docs/lifecycle.md")).unwrap();
    let commands = section_commands(&doc, "Starting from a database");
    let f = app("lifecycle_models");
    let (url, mut conn) = sqlite(f.path());
    exec(&mut conn, SCHEMA);
    exec(&mut conn, "INSERT INTO authors (name) VALUES ('Ann'); INSERT INTO posts (author_id, title) VALUES (1, 'Hello');");
    let said = run_all(&f, &commands, &url);
    says(&said, 0, "wrote 2 models");
    assert!(
        !said[1].contains("wrote migrations"),
        "the build wrote: {}",
        said[1]
    );
    says(&said, 2, "adopted the existing database");
    says(&said, 3, "the database matches the models");
    assert_eq!(f.migration_files().len(), 1);
}

#[test]
fn switching_from_another_migration_tool() {
    let doc = std::fs::read_to_string(workspace().join("docs/lifecycle.md")).unwrap();
    let commands = section_commands(&doc, "Switching from another");
    let f = app("lifecycle_adopt");
    // The team's sqlx history: two migrations, applied by sqlx itself.
    let old = f.path().join("old-migrations");
    std::fs::create_dir_all(&old).unwrap();
    let (first, second) = SCHEMA.split_once("CREATE TABLE posts").unwrap();
    std::fs::write(old.join("1_authors.sql"), first).unwrap();
    std::fs::write(
        old.join("2_posts.sql"),
        format!("CREATE TABLE posts{second}"),
    )
    .unwrap();
    let (url, _conn) = sqlite(f.path());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("{url}?mode=rwc"))
            .await
            .unwrap();
        sqlx::migrate::Migrator::new(old.as_path())
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
    let said = run_all(&f, &commands, &url);
    says(&said, 0, "left out `_sqlx_migrations`");
    says(&said, 0, "db adopt --from sqlx");
    says(&said, 2, "adopted the database from sqlx");
    says(&said, 3, "the database matches the models");
}

#[test]
fn squashing_a_long_history() {
    let doc = std::fs::read_to_string(workspace().join("docs/lifecycle.md")).unwrap();
    let commands = section_commands(&doc, "Squashing");
    let f = app("lifecycle_squash");
    let (url, _conn) = sqlite(f.path());
    // A history of four migrations, each written by a build after a model change, applied.
    let mut models = String::from("#[derive(retort::Table)]\n#[table(name = \"notes\")]\npub struct Note {\n    #[column(primary_key)]\n    pub id: i64,\n    pub body: String,\n");
    for (n, extra) in [
        "",
        "    pub stars: i32,\n",
        "    pub tags: Option<String>,\n",
        "    pub flagged: bool,\n",
    ]
    .iter()
    .enumerate()
    {
        models.push_str(extra);
        f.write_models(&format!("{models}}}\n"));
        let out = f.build(
            &[("RETORT_NOW", &(1_800_000_000 + n * 60).to_string())],
            false,
        );
        assert!(out.status.success(), "{}", fixture::stderr(&out));
    }
    assert_eq!(f.migration_files().len(), 4);
    run_all(&f, &["cargo run -q -- db upgrade".to_string()], &url);
    let said = run_all(&f, &commands, &url);
    says(&said, 0, "replaces 4 migrations");
    says(&said, 3, "deleted the 4 files");
    says(&said, 5, "recorded checkpoint");
    says(&said, 6, "the database matches the models");
    assert_eq!(f.migration_files().len(), 1);
}
