//! `Vec<T>` fields are PostgreSQL arrays (`text[]`, `bigint[]`): made, indexed with GIN,
//! written and read through diesel's `Array<T>`, compared exactly by `check`; SQLite and
//! MySQL refuse them before anything runs.
#![cfg(feature = "postgres")]

mod support;

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text};
use retort::schema::sql::Dialect;
use retort::{Graph, Options, Runner};
use support::{hand_change_is_reported, refused_before_anything_runs, rev, TestDb};

const UP: &str = r#"
    create_table("post",
        column("id", integer),
        column("tags", custom("text[]")),
        column("scores", custom("bigint[]"), nullable),
        primary_key(["id"])),
    create_index("ix_post_tags", "post", ["tags"], using = "gin")
"#;

#[derive(QueryableByName, Debug, PartialEq)]
struct Post {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Array<Text>)]
    tags: Vec<String>,
    #[diesel(sql_type = Nullable<Array<BigInt>>)]
    scores: Option<Vec<i64>>,
}

#[test]
fn arrays_round_trip_on_postgres_and_are_refused_elsewhere() {
    let graph = Graph::from_revisions([rev("r1", None, UP, r#"drop_table("post")"#)]);
    for template in TestDb::all() {
        let db = template.another();
        if template.dialect != Dialect::Postgres {
            refused_before_anything_runs(&graph, &db, &["`post.tags`", "no array types"]);
            continue;
        }
        let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        runner.upgrade("head").unwrap();
        assert_eq!(runner.check().unwrap(), Vec::<String>::new());
        db.exec("INSERT INTO post (id, tags, scores) VALUES (1, ARRAY['rust', 'sql'], ARRAY[3, 4]), (2, '{}', NULL)");
        // Arrays are PostgreSQL's own: read through a PostgreSQL connection.
        let mut pg = diesel::PgConnection::establish(&db.url_text).unwrap();
        let rows: Vec<Post> = diesel::sql_query("SELECT id, tags, scores FROM post ORDER BY id")
            .load(&mut pg)
            .unwrap();
        assert_eq!(
            rows,
            [
                Post {
                    id: 1,
                    tags: vec!["rust".into(), "sql".into()],
                    scores: Some(vec![3, 4]),
                },
                Post {
                    id: 2,
                    tags: vec![],
                    scores: None,
                },
            ]
        );
        // The element type is compared exactly.
        hand_change_is_reported(
            &graph,
            &template,
            "scores made integer[]",
            "ALTER TABLE post ALTER COLUMN scores TYPE integer[]",
            "`post.scores`",
        );
    }
}

/// Lists convert element by element on PostgreSQL (`docs/type-conversions.md`, the second
/// matrix): a widening keeps every row both ways; a checked change stops at an element that
/// does not fit, naming the column, with nothing changed; a list and a single value are
/// refused at build time.
#[test]
fn arrays_convert_element_by_element() {
    use retort::schema::convert::{conversion, Conversion};
    use retort::schema::ColumnType;
    let list = |sql: &str| ColumnType::Custom { sql: sql.into() };
    assert_eq!(
        conversion(&list("integer[]"), &list("bigint[]")),
        Conversion::Widening
    );
    assert!(matches!(
        conversion(&list("bigint[]"), &ColumnType::BigInt),
        Conversion::Refused(_)
    ));
    assert!(matches!(
        conversion(&list("date[]"), &list("uuid[]")),
        Conversion::Refused(_)
    ));
    // The build refuses a list becoming a single value, naming the column.
    let table = |ty: ColumnType| {
        let mut t = retort::schema::Table::new("t");
        t.columns
            .push(retort::schema::Column::new("id", ColumnType::Integer));
        t.columns.push(retort::schema::Column::new("c", ty));
        t.primary_key = vec!["id".into()];
        retort::schema::Schema::from_tables([t])
    };
    let err =
        retort::schema::diff::diff(&table(list("text[]")), &table(ColumnType::Text)).unwrap_err();
    assert!(
        err.message.contains("`t.c`") && err.message.contains("single value"),
        "{}",
        err.message
    );

    let Some(template) = TestDb::on_server("RETORT_PG_URL") else {
        return;
    };
    let make = r#"create_table("t", column("id", integer), column("c", custom("integer[]")), column("s", custom("text[]")), primary_key(["id"]))"#;
    // Widening up, checked down: the rows come back as they were.
    let graph = Graph::from_revisions([
        rev("r1", None, make, r#"drop_table("t")"#),
        rev(
            "r2",
            Some("r1"),
            r#"alter_column("t", "c", type_ = custom("bigint[]")), alter_column("t", "s", type_ = custom("varchar(20)[]"))"#,
            r#"alter_column("t", "s", type_ = custom("text[]")), alter_column("t", "c", type_ = custom("integer[]"))"#,
        ),
    ]);
    let db = template.another();
    let rows = "SELECT CONCAT(id, ':', c::text, ':', s::text) AS v FROM t ORDER BY id";
    let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
    runner.upgrade("r1").unwrap();
    db.exec("INSERT INTO t (id, c, s) VALUES (1, '{1,2}', '{a,b}'), (2, '{}', '{\"x y\"}')");
    let before = db.texts(rows);
    runner.upgrade("head").unwrap();
    assert_eq!(runner.check().unwrap(), Vec::<String>::new());
    assert_eq!(db.texts(rows), before);
    runner.downgrade("r1").unwrap();
    assert_eq!(db.texts(rows), before);
    // Checked: an element that does not fit stops the change, and nothing changes.
    for (change, misfit) in [
        (
            r#"alter_column("t", "c", type_ = custom("smallint[]"))"#,
            "UPDATE t SET c = '{1,70000}' WHERE id = 2",
        ),
        (
            r#"alter_column("t", "s", type_ = custom("varchar(3)[]"))"#,
            "UPDATE t SET s = '{abcd}' WHERE id = 2",
        ),
        (
            r#"alter_column("t", "s", type_ = custom("integer[]"))"#,
            "UPDATE t SET s = '{1,two}' WHERE id = 2",
        ),
    ] {
        let db = template.another();
        let graph = Graph::from_revisions([
            rev("r1", None, make, r#"drop_table("t")"#),
            rev("r2", Some("r1"), change, ""),
        ]);
        let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        runner.upgrade("r1").unwrap();
        db.exec("INSERT INTO t (id, c, s) VALUES (1, '{1,2}', '{1,2}'), (2, '{}', '{}')");
        db.exec(misfit);
        let before = db.texts(rows);
        let err = runner.upgrade("head").unwrap_err().to_string();
        assert!(
            err.contains("alter column t.") && err.contains("rolled back"),
            "{change}: {err}"
        );
        assert_eq!(db.texts(rows), before, "{change}: nothing changed");
        let r1 = graph.schema_at(&["r1".to_string()].into()).unwrap();
        assert_eq!(
            runner.differences(&r1).unwrap(),
            Vec::<String>::new(),
            "{change}: still at r1"
        );
    }
}
