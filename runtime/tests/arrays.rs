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
