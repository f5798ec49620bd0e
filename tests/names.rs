//! Names: an app that chose PostgreSQL's naming convention (`naming = "postgres"`) adopts a
//! database another tool made with PostgreSQL's own names (`<table>_pkey`,
//! `<table>_<col>_fkey`, `<table>_<col>_key`, `<table>_<col>_idx`, `serial` keys) without a
//! rename; a database whose names differ is refused with each difference and nothing is
//! written; every constraint can be named explicitly, and under retort's convention a table
//! rename carries its primary key's name along on every backend.

#[path = "../runtime/tests/support/mod.rs"]
mod runtime_support;
mod support;

use retort::schema::naming::Convention;
use retort::schema::sql::Dialect;
use retort::schema::{parse_model_with, Schema, Table};
use retort::{Graph, Options, Runner};
use runtime_support::{rev, round_trip, TestDb};
use support::generated_revision;

fn models(convention: Convention) -> Schema {
    let author: syn::DeriveInput = syn::parse_quote! {
        #[table(name = "author")]
        struct Author {
            #[column(primary_key, autoincrement)]
            id: i32,
            #[column(max_length = 100, unique)]
            email: String,
        }
    };
    let post: syn::DeriveInput = syn::parse_quote! {
        #[table(name = "post", unique(author_id, title))]
        struct Post {
            #[column(primary_key, autoincrement)]
            id: i32,
            #[column(references = "author(id)", index)]
            author_id: i32,
            #[column(max_length = 200)]
            title: String,
        }
    };
    let tables: Vec<Table> = [author, post]
        .iter()
        .map(|d| parse_model_with(d, convention).unwrap().table)
        .collect();
    Schema::from_tables(tables)
}

/// What another tool made: no names given, so PostgreSQL chose them.
const BY_ANOTHER_TOOL: &str = "
    CREATE TABLE author (id serial PRIMARY KEY, email varchar(100) NOT NULL UNIQUE);
    CREATE TABLE post (
        id serial PRIMARY KEY,
        author_id integer NOT NULL REFERENCES author (id),
        title varchar(200) NOT NULL,
        UNIQUE (author_id, title));
    CREATE INDEX ON post (author_id);
";

#[test]
fn postgres_names_are_adopted_without_renames_and_differences_are_refused() {
    let Some(template) = TestDb::servers()
        .into_iter()
        .find(|d| d.dialect == Dialect::Postgres)
    else {
        return;
    };
    let pg_models = models(Convention::Postgres);
    let names: Vec<String> = pg_models
        .tables
        .values()
        .flat_map(|t| {
            let mut n = vec![t.primary_key_constraint()];
            n.extend(t.constraint_names().cloned());
            n
        })
        .collect();
    for expected in [
        "author_pkey",
        "author_email_key",
        "post_pkey",
        "post_author_id_fkey",
        "post_author_id_title_key",
        "post_author_id_idx",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    let graph = Graph::from_revisions([generated_revision("r1", None, &Schema::new(), &pg_models)]);

    // Equal, names included: adopted as it is, and it checks clean.
    let db = template.another();
    db.exec(BY_ANOTHER_TOOL);
    let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
    runner
        .upgrade("head")
        .unwrap_or_else(|e| panic!("adoption refused: {e}"));
    assert_eq!(runner.current().unwrap(), vec!["r1".to_string()]);
    assert_eq!(runner.check().unwrap(), Vec::<String>::new());

    // The same database under retort's own names is another schema: refused, listing them.
    let retort_names = Graph::from_revisions([generated_revision(
        "r1",
        None,
        &Schema::new(),
        &models(Convention::Retort),
    )]);
    let db = template.another();
    db.exec(BY_ANOTHER_TOOL);
    let mut runner = Runner::connect(&retort_names, &db.url, Options::default()).unwrap();
    let refused = runner.upgrade("head").unwrap_err().to_string();
    for object in [
        "`pk_author`",
        "`uq_author_email`",
        "`fk_post_author_id_author`",
        "`ix_post_author_id`",
    ] {
        assert!(refused.contains(object), "{object} not listed: {refused}");
    }
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name = 'retort_versions'"),
        0,
        "nothing written"
    );

    // One renamed primary key is refused, named.
    let db = template.another();
    db.exec(BY_ANOTHER_TOOL);
    db.exec("ALTER TABLE author RENAME CONSTRAINT author_pkey TO author_pk");
    let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
    let refused = runner.upgrade("head").unwrap_err().to_string();
    assert!(
        refused.contains("primary key of `author`") && refused.contains("author_pk"),
        "{refused}"
    );
}

/// Explicit names on every kind, and the primary key's name through a table rename, on
/// every backend: made, read back clean, and a hand rename of the primary key is reported
/// where the database keeps its name.
#[test]
fn explicit_names_and_primary_key_renames_check_clean_everywhere() {
    let r1 = r#"
        create_table("account",
            column("id", integer, autoincrement),
            column("code", varchar(20)),
            primary_key(["id"], name = "account_pk"),
            unique("account_code_uq", ["code"])),
        create_table("entry",
            column("id", integer),
            column("account_id", integer),
            primary_key(["id"]),
            foreign_key("entry_account_fk", ["account_id"], "account", ["id"])),
        create_index("entry_account_ix", "entry", ["account_id"])
    "#;
    // A rename as the build writes it: the table, then its derived primary key name.
    let r2 = r#"
        rename_table("entry", "ledger_entry"),
        rename_constraint("ledger_entry", "pk_entry", "pk_ledger_entry", type_ = "primary")
    "#;
    let r2_down = r#"
        rename_constraint("ledger_entry", "pk_ledger_entry", "pk_entry", type_ = "primary"),
        rename_table("ledger_entry", "entry")
    "#;
    let graph = Graph::from_revisions([
        rev(
            "r1",
            None,
            r1,
            r#"drop_table("entry"), drop_table("account")"#,
        ),
        rev("r2", Some("r1"), r2, r2_down),
    ]);
    for template in TestDb::all() {
        let name = template.dialect.name();
        let db = template.another();
        let mut runner = round_trip(&graph, &db, "r1");
        let hand = match template.dialect {
            Dialect::Postgres => {
                Some("ALTER TABLE account RENAME CONSTRAINT account_pk TO account_pkey")
            }
            // SQLite keeps the name in the CREATE TABLE text only; MySQL calls every key PRIMARY.
            Dialect::Sqlite | Dialect::Mysql => None,
        };
        if let Some(sql) = hand {
            db.exec(sql);
            let found = runner.check().unwrap();
            assert!(
                found.iter().any(|d| d.contains("primary key of `account`")),
                "{name}: {found:?}"
            );
        }
    }
}

/// The diff writes the primary key's rename after a table rename (the databases keep the
/// constraint's name), so the replay and the database agree.
#[test]
fn a_table_rename_renames_its_derived_primary_key() {
    let before = models(Convention::Retort);
    let mut after = before.clone();
    let mut post = after.tables.remove("post").unwrap();
    post.name = "article".into();
    post.renamed_from = Some("post".into());
    after.tables.insert("article".into(), post);
    let d = retort::schema::diff::diff(&before, &after).unwrap();
    let described: Vec<String> = d.up.iter().map(|o| o.describe()).collect();
    assert!(
        described
            .iter()
            .any(|d| d == "rename primary key pk_post on article to pk_article"),
        "{described:?}"
    );
    for template in TestDb::all() {
        let db = template.another();
        let graph = Graph::from_revisions([
            generated_revision("r1", None, &Schema::new(), &before),
            generated_revision("r2", Some("r1"), &before, &after),
        ]);
        round_trip(&graph, &db, "base");
    }
}
