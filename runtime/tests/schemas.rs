//! Tables in a second PostgreSQL schema (`#[table(schema = "audit")]`, `audit.events` in
//! migration files): the schema made with its first table and dropped with its last, a table
//! moved between schemas, foreign keys and indexes across them, checked exactly (a table of
//! a schema the models do not use is none of the app's business); SQLite and MySQL refuse
//! them before anything runs.

mod support;

use retort::schema::sql::Dialect;
use retort::{Graph, Options, Runner};
use support::{hand_change_is_reported, refused_before_anything_runs, rev, round_trip, TestDb};

const R1: &str = r#"
    create_table("audit.events",
        column("id", integer, autoincrement),
        column("kind", text),
        primary_key(["id"], name = "pk_events")),
    create_index("ix_events_kind", "audit.events", ["kind"]),
    create_table("post",
        column("id", integer),
        column("event_id", integer, nullable),
        primary_key(["id"])),
    create_foreign_key("fk_post_event_id_events", "post", "audit.events", ["event_id"], ["id"])
"#;
const R1_DOWN: &str = r#"drop_table("post"), drop_table("audit.events")"#;
const R2: &str = r#"rename_table("audit.events", "archive.events")"#;
const R2_DOWN: &str = r#"rename_table("archive.events", "audit.events")"#;

fn namespaces(db: &TestDb) -> Vec<String> {
    db.texts("SELECT nspname::text AS v FROM pg_namespace WHERE nspname IN ('audit', 'archive') ORDER BY nspname")
        .into_iter()
        .flatten()
        .collect()
}

/// (The derive itself refuses the attribute where SQLite or MySQL is compiled in, as in this
/// test crate: the model is read as the derive and the build script read it.)
#[test]
fn the_derive_names_the_table_in_its_schema() {
    let t = retort_schema::parse_model(&syn::parse_quote! {
        #[table(schema = "audit", name = "events")]
        pub struct Event {
            #[column(primary_key, autoincrement)]
            pub id: i32,
            #[column(index)]
            pub kind: String,
        }
    })
    .unwrap()
    .table;
    assert_eq!(t.name, "audit.events");
    assert_eq!(t.primary_key_constraint(), "pk_events");
    assert_eq!(t.indexes[0].name, "ix_events_kind");
}

#[test]
fn tables_in_another_schema_on_postgres_and_refused_elsewhere() {
    let graph = Graph::from_revisions([
        rev("r1", None, R1, R1_DOWN),
        rev("r2", Some("r1"), R2, R2_DOWN),
    ]);
    let first = Graph::from_revisions([rev("r1", None, R1, R1_DOWN)]);
    for template in TestDb::all() {
        let db = template.another();
        if template.dialect != Dialect::Postgres {
            refused_before_anything_runs(&first, &db, &["`audit.events`", "another schema"]);
            continue;
        }
        let mut runner = Runner::connect(&first, &db.url, Options::default()).unwrap();
        runner.upgrade("head").unwrap();
        assert_eq!(runner.check().unwrap(), Vec::<String>::new());
        assert_eq!(namespaces(&db), ["audit"]);
        db.exec("INSERT INTO audit.events (kind) VALUES ('login')");
        db.exec("INSERT INTO post (id, event_id) VALUES (1, 1)");
        // A table of a schema the models do not use is not reported; one in `audit` is.
        db.exec("CREATE SCHEMA other; CREATE TABLE other.t (x integer)");
        assert_eq!(runner.check().unwrap(), Vec::<String>::new());
        drop(runner);
        hand_change_is_reported(
            &first,
            &template,
            "an extra table in the models' schema",
            "CREATE TABLE audit.extra (x integer)",
            "table `audit.extra` is in the database but not in the models",
        );
        hand_change_is_reported(
            &first,
            &template,
            "an index of the other schema dropped",
            "DROP INDEX audit.ix_events_kind",
            "ix_events_kind",
        );
        hand_change_is_reported(
            &first,
            &template,
            "the table moved out of its schema",
            "ALTER TABLE audit.events SET SCHEMA public",
            "table `audit.events` is missing",
        );

        // Moved to another schema: made, the empty one dropped; the rows and the key follow.
        let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        runner.upgrade("head").unwrap();
        assert_eq!(runner.check().unwrap(), Vec::<String>::new());
        assert_eq!(namespaces(&db), ["archive"]);
        assert_eq!(
            db.texts("SELECT kind AS v FROM archive.events"),
            [Some("login".to_string())]
        );
        drop(runner);
        db.exec("DELETE FROM post; DELETE FROM archive.events");
        let mut runner = round_trip(&graph, &db, "base");
        runner.downgrade("base").unwrap();
        assert!(
            namespaces(&db).is_empty(),
            "the schemas went with their tables"
        );
    }
}
