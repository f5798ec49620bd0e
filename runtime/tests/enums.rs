//! Rust enums as database enums: PostgreSQL's `CREATE TYPE … AS ENUM`, MySQL's `ENUM(…)`,
//! SQLite's text with a `CHECK`. Made, written and read through the derived diesel impls,
//! changed (a value added — PostgreSQL's `ADD VALUE`, committed before a later migration
//! uses it — renamed, removed, reordered), checked exactly, taken down to base and up again;
//! a removal is refused while a row holds the value, and hand changes are reported.

mod support;

use diesel::prelude::*;
use retort::schema::sql::Dialect;
use retort::{DbEnum, Graph, Options, Runner, Table as _};
use support::{hand_change_is_reported, rev, rev_outside, round_trip, TestDb};

#[derive(Debug, Clone, Copy, PartialEq, Eq, retort::DbEnum)]
#[db_enum(name = "post_status")]
pub enum Status {
    Draft,
    Published,
}

#[derive(retort::Table)]
#[table(name = "post")]
pub struct Post {
    #[column(primary_key)]
    pub id: i32,
    #[column(server_default = "'draft'")]
    pub status: Status,
    pub previous: Option<Status>,
}

const R1: &str = r#"
    create_enum("post_status", ["draft", "published"]),
    create_table("post",
        column("id", integer),
        column("status", db_enum("post_status", ["draft", "published"]), server_default = "'draft'"),
        column("previous", db_enum("post_status", ["draft", "published"]), nullable),
        primary_key(["id"]))
"#;
const R1_DOWN: &str = r#"drop_table("post"), drop_enum("post_status", ["draft", "published"])"#;

/// Values added (one between two, one at the end): on PostgreSQL `ADD VALUE`, which a
/// transaction cannot use before it commits — hence `atomic: false`, as the build writes it.
const R2: &str = r#"alter_enum("post_status", ["draft", "published"], ["draft", "review", "published", "archived"])"#;
const R2_DOWN: &str = r#"alter_enum("post_status", ["draft", "review", "published", "archived"], ["draft", "published"])"#;
/// Uses a value R2 added, in the same upgrade.
const R3: &str = r#"execute("UPDATE post SET status = 'archived' WHERE id = 3")"#;
const R3_DOWN: &str = r#"execute("UPDATE post SET status = 'published' WHERE id = 3")"#;
/// A rename (the rows follow), a removal and a new order: the type is rebuilt.
const R4: &str = r#"alter_enum("post_status", ["draft", "review", "published", "archived"], ["archived", "draft", "live"], renamed = [("published", "live")])"#;
const R4_DOWN: &str = r#"alter_enum("post_status", ["archived", "draft", "live"], ["draft", "review", "published", "archived"], renamed = [("live", "published")])"#;

fn graph() -> Graph {
    Graph::from_revisions([
        rev("r1", None, R1, R1_DOWN),
        rev_outside("r2", Some("r1"), R2, R2_DOWN),
        rev("r3", Some("r2"), R3, R3_DOWN),
        rev("r4", Some("r3"), R4, R4_DOWN),
    ])
}

/// The values of the rows, as text, by id.
fn statuses(db: &TestDb) -> Vec<String> {
    texts(db, "ORDER BY id")
}

/// The statuses as text, in the order `order` gives.
fn texts(db: &TestDb, order: &str) -> Vec<String> {
    let text = if db.dialect == Dialect::Mysql {
        "CHAR"
    } else {
        "TEXT"
    };
    db.texts(&format!(
        "SELECT CAST(status AS {text}) AS v FROM post {order}"
    ))
    .into_iter()
    .flatten()
    .collect()
}

macro_rules! through_diesel {
    ($conn:expr) => {{
        let conn = &mut $conn;
        diesel::insert_into(post::table)
            .values((post::id.eq(1), post::previous.eq(Some(Status::Draft))))
            .execute(conn)
            .unwrap();
        diesel::insert_into(post::table)
            .values((post::id.eq(2), post::status.eq(Status::Published)))
            .execute(conn)
            .unwrap();
        diesel::insert_into(post::table)
            .values((post::id.eq(3), post::status.eq(Status::Published)))
            .execute(conn)
            .unwrap();
        let rows: Vec<(i32, Status, Option<Status>)> = post::table
            .select((post::id, post::status, post::previous))
            .order(post::id)
            .load(conn)
            .unwrap();
        assert_eq!(
            rows,
            [
                (1, Status::Draft, Some(Status::Draft)),
                (2, Status::Published, None),
                (3, Status::Published, None),
            ]
        );
        let published: i64 = post::table
            .filter(post::status.eq(Status::Published))
            .count()
            .get_result(conn)
            .unwrap();
        assert_eq!(published, 2);
    }};
}

#[test]
fn the_derive_describes_the_column_and_diesel_reads_and_writes_it() {
    let c = Post::schema().column("status").unwrap();
    assert_eq!(
        c.ty,
        retort::schema::ColumnType::Enum {
            name: "post_status".into(),
            values: vec!["draft".into(), "published".into()],
        }
    );
    assert!(Post::schema().column("previous").unwrap().nullable);
    assert_eq!(Status::VALUES, ["draft", "published"]);
    let graph = Graph::from_revisions([rev("r1", None, R1, R1_DOWN)]);
    for db in TestDb::all() {
        let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        runner.upgrade("head").unwrap();
        assert_eq!(
            runner.check().unwrap(),
            Vec::<String>::new(),
            "{}",
            db.dialect.name()
        );
        match db.dialect {
            Dialect::Sqlite => {
                let retort::DatabaseUrl::SqliteFile(path) = &db.url else {
                    unreachable!("an SQLite test database is a file")
                };
                through_diesel!(diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap())
            }
            #[cfg(feature = "postgres")]
            Dialect::Postgres => {
                through_diesel!(diesel::PgConnection::establish(&db.url_text).unwrap())
            }
            #[cfg(feature = "mysql")]
            Dialect::Mysql => {
                through_diesel!(diesel::MysqlConnection::establish(&db.url_text).unwrap())
            }
            #[allow(unreachable_patterns)]
            _ => continue,
        }
        // A value that is not the enum's is refused by the database itself.
        assert!(
            db.try_exec("INSERT INTO post (id, status) VALUES (9, 'gone')")
                .is_err(),
            "{}: an unknown value was stored",
            db.dialect.name()
        );
    }
}

#[test]
fn values_are_added_renamed_removed_and_reordered_on_every_backend() {
    let graph = graph();
    for template in TestDb::all() {
        let name = template.dialect.name();
        let db = template.another();
        let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        runner.upgrade("r1").unwrap();
        db.exec(
            "INSERT INTO post (id, status) VALUES (1, 'draft'), (2, 'published'), (3, 'published')",
        );
        // r2 adds values, r3 uses one: in one upgrade (one transaction but for r2).
        runner
            .upgrade("r3")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(statuses(&db), ["draft", "published", "archived"], "{name}");
        runner
            .upgrade("r4")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            statuses(&db),
            ["draft", "live", "archived"],
            "{name}: rows follow the rename"
        );
        assert_eq!(
            runner.check().unwrap(),
            Vec::<String>::new(),
            "{name} at r4"
        );
        if template.dialect != Dialect::Sqlite {
            // The new order is the one the database sorts by.
            assert_eq!(
                texts(&db, "ORDER BY status"),
                ["archived", "draft", "live"],
                "{name}"
            );
        }
        drop(runner);
        let mut runner = round_trip(&graph, &db, "r1");
        runner.downgrade("r1").unwrap();
        assert_eq!(
            statuses(&db),
            ["draft", "published", "published"],
            "{name}: down to r1"
        );
        runner.downgrade("base").unwrap();
        assert!(
            db.try_exec("SELECT 1 FROM post").is_err(),
            "{name}: the table went"
        );
        if template.dialect == Dialect::Postgres {
            assert!(
                db.try_exec("SELECT 'draft'::post_status").is_err(),
                "{name}: the type went"
            );
        }
        runner
            .upgrade("head")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            runner.check().unwrap(),
            Vec::<String>::new(),
            "{name} up from base"
        );
    }
}

#[test]
fn a_value_still_held_is_not_removed() {
    let graph = Graph::from_revisions([
        rev("r1", None, R1, R1_DOWN),
        rev(
            "r2",
            Some("r1"),
            r#"alter_enum("post_status", ["draft", "published"], ["draft"])"#,
            r#"alter_enum("post_status", ["draft"], ["draft", "published"])"#,
        ),
    ]);
    for template in TestDb::all() {
        let name = template.dialect.name();
        let db = template.another();
        let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        runner.upgrade("r1").unwrap();
        db.exec("INSERT INTO post (id, status) VALUES (1, 'draft'), (2, 'published')");
        let err = runner.upgrade("head").unwrap_err().to_string();
        for said in [
            "`post_status`",
            "`published`",
            "`post.status`",
            "UPDATE post",
        ] {
            assert!(err.contains(said), "{name}: `{said}` not in: {err}");
        }
        assert_eq!(runner.current().unwrap(), ["r1"], "{name}");
        assert_eq!(statuses(&db), ["draft", "published"], "{name}");
        // Unchanged: a new value is still refused, as at r1.
        assert!(
            db.try_exec("INSERT INTO post (id, status) VALUES (9, 'gone')")
                .is_err(),
            "{name}"
        );
        db.exec("INSERT INTO post (id, status) VALUES (8, 'published')");
        db.exec("DELETE FROM post WHERE id = 8");
        // Once no row holds it, it goes.
        db.exec("UPDATE post SET status = 'draft'");
        runner
            .upgrade("head")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(runner.check().unwrap(), Vec::<String>::new(), "{name}");
    }
}

#[test]
fn hand_changes_of_values_are_reported() {
    let graph = Graph::from_revisions([rev("r1", None, R1, R1_DOWN)]);
    for template in TestDb::all() {
        let (sql, expected) = match template.dialect {
            Dialect::Postgres => ("ALTER TYPE post_status ADD VALUE 'gone'", "enum `post_status`"),
            Dialect::Mysql => (
                "ALTER TABLE post MODIFY status ENUM('draft','published','gone') NOT NULL DEFAULT 'draft'",
                "`post.status`",
            ),
            Dialect::Sqlite => (
                "CREATE TABLE post_new (id INTEGER NOT NULL, status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'gone')), previous TEXT CHECK (\"previous\" IN ('draft', 'published')), CONSTRAINT pk_post PRIMARY KEY (id)); DROP TABLE post; ALTER TABLE post_new RENAME TO post",
                "on `post`",
            ),
        };
        hand_change_is_reported(&graph, &template, "an enum value added", sql, expected);
    }
    // An enum of the database that the models do not have.
    let pg: Vec<TestDb> = TestDb::servers()
        .into_iter()
        .filter(|d| d.dialect == Dialect::Postgres)
        .collect();
    for template in pg {
        hand_change_is_reported(
            &graph,
            &template,
            "an extra enum",
            "CREATE TYPE mood AS ENUM ('ok')",
            "enum `mood` is in the database but not in the models",
        );
    }
}

/// Why the build writes added values alone, `atomic: false`: PostgreSQL refuses to use a
/// value added in the transaction still open, so the same migrations in one transaction
/// fail there (and change nothing).
#[test]
fn postgres_cannot_use_a_value_added_in_the_same_transaction() {
    let atomic = Graph::from_revisions([
        rev("r1", None, R1, R1_DOWN),
        rev("r2", Some("r1"), R2, R2_DOWN),
        rev("r3", Some("r2"), R3, R3_DOWN),
    ]);
    for template in TestDb::servers()
        .into_iter()
        .filter(|d| d.dialect == Dialect::Postgres)
    {
        let db = template.another();
        let mut runner = Runner::connect(&atomic, &db.url, Options::default()).unwrap();
        runner.upgrade("r1").unwrap();
        db.exec("INSERT INTO post (id, status) VALUES (3, 'published')");
        let err = runner.upgrade("head").unwrap_err().to_string();
        assert!(err.contains("unsafe use of new value"), "{err}");
        assert_eq!(runner.current().unwrap(), ["r1"]);
        // The graph the build writes (r2 outside a transaction) goes through.
        let graph = graph();
        let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        runner.upgrade("r3").unwrap();
        assert_eq!(statuses(&db), ["archived"]);
    }
}

/// A text column becomes an enum column (each value checked first: one that is not a value
/// stops it, naming the column, with nothing changed) and back to text.
#[test]
fn text_becomes_an_enum_and_back() {
    let graph = Graph::from_revisions([
        rev(
            "r1",
            None,
            r#"create_table("post", column("id", integer), column("status", text), primary_key(["id"]))"#,
            r#"drop_table("post")"#,
        ),
        rev(
            "r2",
            Some("r1"),
            r#"create_enum("post_status", ["draft", "published"]), alter_column("post", "status", type_ = db_enum("post_status", ["draft", "published"]))"#,
            r#"alter_column("post", "status", type_ = text), drop_enum("post_status", ["draft", "published"])"#,
        ),
    ]);
    for template in TestDb::all() {
        let name = template.dialect.name();
        let db = template.another();
        let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        runner.upgrade("r1").unwrap();
        db.exec("INSERT INTO post (id, status) VALUES (1, 'draft'), (2, 'Draft')");
        let err = runner.upgrade("head").unwrap_err().to_string();
        assert!(err.contains("`post.status`"), "{name}: {err}");
        assert_eq!(runner.current().unwrap(), ["r1"], "{name}");
        assert_eq!(statuses(&db), ["draft", "Draft"], "{name}");
        db.exec("UPDATE post SET status = 'published' WHERE id = 2");
        runner
            .upgrade("head")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(runner.check().unwrap(), Vec::<String>::new(), "{name}");
        assert!(
            db.try_exec("UPDATE post SET status = 'Draft'").is_err(),
            "{name}"
        );
        runner
            .downgrade("r1")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        db.exec("UPDATE post SET status = 'Draft' WHERE id = 1");
        assert_eq!(statuses(&db), ["Draft", "published"], "{name}");
    }
}

/// A small deterministic generator (the cases are the same on every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }

    /// Some (at least one) of `pool`, in a random order.
    fn some_of(&mut self, pool: &[&str]) -> Vec<String> {
        let mut left: Vec<&str> = pool.to_vec();
        let n = 1 + self.next(pool.len());
        (0..n)
            .map(|_| left.remove(self.next(left.len())).to_string())
            .collect()
    }
}

/// The models' schema: enum `mood` of `values` (with a declared rename) and a table using it.
fn mood_schema(values: &[String], renamed: Option<(String, String)>) -> retort::schema::Schema {
    use retort::schema::{Column, ColumnType, EnumType, Schema, Table};
    let mut t = Table::new("feeling");
    t.columns.push(Column::new("id", ColumnType::Integer));
    let mut m = Column::new(
        "mood",
        ColumnType::Enum {
            name: "mood".into(),
            values: values.to_vec(),
        },
    );
    m.nullable = true;
    t.columns.push(m);
    t.primary_key = vec!["id".into()];
    let mut s = Schema::from_tables([t]);
    let mut e = EnumType::new(values.to_vec());
    e.renamed = renamed.into_iter().collect();
    s.enums.insert("mood".into(), e);
    s
}

/// The migration the build would write for a diff, through the file grammar.
fn written(id: &str, parent: Option<&str>, d: &retort::schema::diff::Diff) -> retort::Revision {
    use retort::schema::migration::{op_tokens, runs_outside_a_transaction};
    let list = |ops: &[retort::schema::ops::Op]| {
        ops.iter()
            .map(|o| op_tokens(o).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (up, down) = (list(&d.up), list(&d.down));
    if runs_outside_a_transaction(&d.up, &d.down) {
        rev_outside(id, parent, &up, &down)
    } else {
        rev(id, parent, &up, &down)
    }
}

/// Random changes of an enum's values — added, removed, reordered, one renamed — each diffed
/// as the build diffs, written through the grammar and run on every backend over rows of
/// every old value: a row of a value that goes stops the upgrade with nothing changed; once
/// it is gone, the upgrade keeps (or renames) every other row, checks clean, goes back down
/// to the old names and up again.
#[test]
fn random_value_changes_keep_every_row() {
    let mut rng = Lcg(7);
    let cases = 25;
    let templates = TestDb::all();
    for case in 0..cases {
        let old = rng.some_of(&["a", "b", "c", "d"]);
        let mut new = rng.some_of(&["a", "b", "c", "d", "e"]);
        let gone: Vec<String> = old.iter().filter(|v| !new.contains(v)).cloned().collect();
        let fresh: Vec<String> = new.iter().filter(|v| !old.contains(v)).cloned().collect();
        let renamed = (!gone.is_empty() && !fresh.is_empty() && rng.next(2) == 0).then(|| {
            (
                gone[rng.next(gone.len())].clone(),
                fresh[rng.next(fresh.len())].clone(),
            )
        });
        if new.is_empty() {
            new.push("a".into());
        }
        let after = |v: &String| match &renamed {
            Some((o, n)) if o == v => Some(n.clone()),
            _ => new.contains(v).then(|| v.clone()),
        };
        let a = mood_schema(&old, None);
        let b = mood_schema(&new, renamed.clone());
        let first = retort::schema::diff::diff(&retort::schema::Schema::new(), &a).unwrap();
        let second = retort::schema::diff::diff(&a, &b).unwrap();
        let graph = Graph::from_revisions([
            written("r1", None, &first),
            written("r2", Some("r1"), &second),
        ]);
        let what = format!("case {case}: {old:?} → {new:?}, renamed {renamed:?}");
        for template in &templates {
            let name = template.dialect.name();
            let db = template.another();
            let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
            runner.upgrade("r1").unwrap();
            for (i, v) in old.iter().enumerate() {
                db.exec(&format!(
                    "INSERT INTO feeling (id, mood) VALUES ({i}, '{v}')"
                ));
            }
            db.exec("INSERT INTO feeling (id, mood) VALUES (99, NULL)");
            let lost: Vec<usize> = (0..old.len())
                .filter(|&i| after(&old[i]).is_none())
                .collect();
            if !lost.is_empty() {
                let err = runner.upgrade("head").unwrap_err().to_string();
                assert!(err.contains("`feeling.mood`"), "{name} {what}: {err}");
                assert_eq!(runner.current().unwrap(), ["r1"], "{name} {what}");
                for i in &lost {
                    db.exec(&format!("DELETE FROM feeling WHERE id = {i}"));
                }
            }
            runner
                .upgrade("head")
                .unwrap_or_else(|e| panic!("{name} {what}: {e}"));
            assert_eq!(
                runner.check().unwrap(),
                Vec::<String>::new(),
                "{name} {what}"
            );
            let kept: Vec<String> = (0..old.len()).filter_map(|i| after(&old[i])).collect();
            let text = if db.dialect == Dialect::Mysql {
                "CHAR"
            } else {
                "TEXT"
            };
            let read = |db: &TestDb| -> Vec<String> {
                db.texts(&format!(
                    "SELECT CAST(mood AS {text}) AS v FROM feeling WHERE id < 99 ORDER BY id"
                ))
                .into_iter()
                .flatten()
                .collect()
            };
            assert_eq!(read(&db), kept, "{name} {what}");
            runner
                .downgrade("r1")
                .unwrap_or_else(|e| panic!("{name} {what}: down: {e}"));
            let back: Vec<String> = (0..old.len())
                .filter(|i| !lost.contains(i))
                .map(|i| old[i].clone())
                .collect();
            assert_eq!(read(&db), back, "{name} {what}: down");
            runner
                .upgrade("head")
                .unwrap_or_else(|e| panic!("{name} {what}: up again: {e}"));
            assert_eq!(
                runner.check().unwrap(),
                Vec::<String>::new(),
                "{name} {what}"
            );
        }
    }
}

/// A type rebuilt (a value removed) under what reads its columns: a partial index whose
/// predicate names a value, and a declared view over the column. Both survive (or the
/// change is refused before anything runs, naming them), on every backend.
#[test]
fn a_rebuilt_enum_keeps_the_indexes_and_views_over_its_columns() {
    let view =
        "CREATE VIEW published_posts AS SELECT id, status FROM post WHERE status = 'published'";
    let check =
        r#"create_check_constraint("ck_post_status", "post", "status <> 'draft' OR id > 0")"#;
    let index =
        r#"create_index("ix_post_undrafted", "post", ["id"], where_ = "status <> 'draft'")"#;
    let r1 = |partial: bool| {
        format!(
            "{R1}, {check}, {}create_object(view, \"published_posts\", \"{view}\")",
            if partial {
                format!("{index}, ")
            } else {
                String::new()
            }
        )
    };
    let r1_down = |partial: bool| {
        format!(
            "drop_object(view, \"published_posts\", \"{view}\"), {}drop_constraint(\"ck_post_status\", \"post\", type_ = \"check\"), {R1_DOWN}",
            if partial { r#"drop_index("ix_post_undrafted", "post"), "# } else { "" }
        )
    };
    let graph = |partial: bool| {
        Graph::from_revisions([
            rev("r1", None, &r1(partial), &r1_down(partial)),
            rev(
                "r2",
                Some("r1"),
                r#"alter_enum("post_status", ["draft", "published"], ["published", "draft", "gone"])"#,
                r#"alter_enum("post_status", ["published", "draft", "gone"], ["draft", "published"])"#,
            ),
        ])
    };
    for template in TestDb::all() {
        let name = template.dialect.name();
        let db = template.another();
        // MariaDB has no partial indexes: the check stands for them there.
        let graph = graph(template.dialect != Dialect::Mysql);
        let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        runner.upgrade("r1").unwrap();
        db.exec("INSERT INTO post (id, status) VALUES (1, 'draft'), (2, 'published')");
        runner
            .upgrade("head")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(runner.check().unwrap(), Vec::<String>::new(), "{name}");
        assert_eq!(
            db.count("SELECT COUNT(*) AS n FROM published_posts"),
            1,
            "{name}"
        );
        runner
            .downgrade("r1")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let r1_schema = graph.schema_at(&["r1".to_string()].into()).unwrap();
        assert_eq!(
            runner.differences(&r1_schema).unwrap(),
            Vec::<String>::new(),
            "{name}"
        );
    }
}
