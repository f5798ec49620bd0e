//! An app built with one backend only — PostgreSQL, retort's default SQLite left out — reads
//! and writes its JSON and time-zone columns through the `table!` the derive generates, with
//! plain `serde_json::Value` and `chrono::DateTime<Utc>` fields: the generated SQL types are
//! PostgreSQL's (`Jsonb` for its `jsonb` columns, `Timestamptz`). Built without the default
//! `introspect` feature too, it refuses to adopt a database made without retort.

mod support;

#[path = "../runtime/tests/support/mod.rs"]
mod runtime_support;

use runtime_support::TestDb;
use support::{stderr, Fixture};

const MODELS: &str = r#"use retort::Table;

#[derive(Table, diesel::Queryable, diesel::Selectable, diesel::Insertable, Debug)]
#[table(name = "docs")]
#[diesel(table_name = docs)]
pub struct Doc {
    #[column(primary_key)]
    pub id: i32,
    pub body: serde_json::Value,
    pub note: Option<serde_json::Value>,
    pub at: chrono::DateTime<chrono::Utc>,
}
"#;

const MAIN: &str = r#"mod models;

retort::include_migrations!();

use diesel::prelude::*;
use models::{docs, Doc};

fn main() {
    retort::Startup::new(&MIGRATIONS).run().expect("upgrade");
    let url = std::env::var("DB_URL").unwrap();
    let mut conn = diesel::PgConnection::establish(&url).unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2026-12-07T10:00:00.123456Z").unwrap().with_timezone(&chrono::Utc);
    let doc = Doc { id: 1, body: serde_json::json!({"words": [1, 2], "b": "x"}), note: None, at };
    diesel::insert_into(docs::table).values(&doc).execute(&mut conn).unwrap();
    let back: Doc = docs::table.select(Doc::as_select()).first(&mut conn).unwrap();
    let later: Vec<i32> = docs::table.filter(docs::at.ge(at)).select(docs::id).load(&mut conn).unwrap();
    println!("{} {} {:?} {}", back.body, back.at.to_rfc3339(), back.note, later.len());
}
"#;

#[test]
fn a_postgres_only_app_reads_json_and_timestamptz_through_the_generated_dsl() {
    let Some(db) = TestDb::on_server("RETORT_PG_URL") else {
        return;
    };
    let fixture = Fixture::new("pgonly");
    let manifest = fixture.path().join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let runtime = support::workspace().join("runtime");
    let text = text
        .replace(
            &format!("retort = {{ path = \"{}\" }}", runtime.display()),
            &format!(
                "retort = {{ path = \"{}\", default-features = false, features = [\"postgres\"] }}",
                runtime.display()
            ),
        )
        .replace("features = [\"sqlite\", ", "features = [\"postgres\", ");
    assert!(
        text.contains("\"postgres\"]") && !text.contains("\"sqlite\""),
        "{text}"
    );
    std::fs::write(&manifest, text).unwrap();
    fixture.write_models(MODELS);
    std::fs::write(fixture.path().join("src/main.rs"), MAIN).unwrap();
    let out = fixture.build(&[], false);
    assert!(out.status.success(), "{}", stderr(&out));
    let bin = support::workspace().join("target/fixtures/debug/pgonly");
    let out = std::process::Command::new(&bin)
        .env("DB_URL", &db.url_text)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        said.trim(),
        r#"{"b":"x","words":[1,2]} 2026-12-07T10:00:00.123456+00:00 None 1"#
    );
    assert_eq!(
        db.texts("SELECT data_type AS v FROM information_schema.columns WHERE table_name = 'docs' AND column_name = 'body'"),
        [Some("jsonb".to_string())]
    );

    // Without retort's default `introspect` feature the app cannot compare a database made
    // without retort with its migrations, so it refuses to adopt one, names the feature,
    // and changes nothing.
    let made_by_hand = db.another();
    made_by_hand.exec("CREATE TABLE docs (id integer PRIMARY KEY)");
    made_by_hand.exec("INSERT INTO docs VALUES (7)");
    let out = std::process::Command::new(&bin)
        .env("DB_URL", &made_by_hand.url_text)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let said = stderr(&out);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("adopting a database that has tables but no retort version table")
            && said.contains("NotInBuild")
            && said.contains(r#"feature: "introspect""#),
        "{said}"
    );
    assert_eq!(made_by_hand.count("SELECT COUNT(*) AS n FROM docs"), 1);
    assert_eq!(
        made_by_hand.count(
            "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name = 'retort_versions'"
        ),
        0,
        "no version table is made"
    );
}
