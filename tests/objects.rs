//! Database objects declared as code (views, materialized views, functions, triggers,
//! extensions, sequences): the build's diff creates them after the tables in dependency
//! order, replaces a changed one together with what depends on it, drops a removed one
//! first, and the downgrade restores the previous definitions; `check` reports an object
//! missing, extra (a trigger or function made by hand), on another table, or changed by hand
//! where the catalog keeps the definition as given — on SQLite, PostgreSQL and MariaDB, each
//! with the objects it has.

#[path = "../runtime/tests/support/mod.rs"]
mod runtime_support;
mod support;

use retort::schema::diff::diff;
use retort::schema::ops::{DialectSql, Op};
use retort::schema::sql::Dialect;
use retort::schema::{Column, ColumnType, DbObject, ObjectKind, Schema, Table};
use retort::{Graph, Options, Runner};
use runtime_support::{hand_change_is_reported, round_trip, TestDb};
use support::generated_revision;

fn post() -> Table {
    let mut t = Table::new("post");
    let mut id = Column::new("id", ColumnType::Integer);
    id.autoincrement = true;
    let mut hits = Column::new("hits", ColumnType::Integer);
    hits.server_default = Some("0".into());
    t.columns = vec![
        id,
        Column::new("title", ColumnType::Varchar { length: 50 }),
        hits,
    ];
    t.primary_key = vec!["id".into()];
    t
}

fn object(kind: ObjectKind, name: &str, table: Option<&str>, sql: DialectSql) -> DbObject {
    DbObject {
        kind,
        name: name.into(),
        table: table.map(String::from),
        sql,
    }
}

fn only(d: Dialect, sql: &str) -> DialectSql {
    let s = Some(sql.to_string());
    match d {
        Dialect::Sqlite => DialectSql::PerDialect {
            sqlite: s,
            postgres: None,
            mysql: None,
        },
        Dialect::Postgres => DialectSql::PerDialect {
            sqlite: None,
            postgres: s,
            mysql: None,
        },
        Dialect::Mysql => DialectSql::PerDialect {
            sqlite: None,
            postgres: None,
            mysql: s,
        },
    }
}

/// The objects each backend gets; `hot` is the threshold of the view, `step` what the
/// trigger adds (the second version changes both).
fn objects(hot: u32, step: u32) -> Vec<DbObject> {
    use Dialect::*;
    use ObjectKind::*;
    let view = format!("CREATE VIEW hot_posts AS SELECT id, title FROM post WHERE hits > {hot}");
    vec![
        object(View, "hot_posts", None, DialectSql::All(view)),
        object(
            View,
            "hot_titles",
            None,
            DialectSql::All("CREATE VIEW hot_titles AS SELECT title FROM hot_posts".into()),
        ),
        object(
            Trigger,
            "post_touch",
            Some("post"),
            DialectSql::PerDialect {
                sqlite: Some(format!("CREATE TRIGGER post_touch AFTER UPDATE OF title ON post BEGIN UPDATE post SET hits = hits + {step} WHERE id = NEW.id; END")),
                postgres: Some("CREATE TRIGGER post_touch BEFORE UPDATE OF title ON post FOR EACH ROW EXECUTE FUNCTION touch()".into()),
                mysql: Some(format!("CREATE TRIGGER post_touch BEFORE UPDATE ON post FOR EACH ROW SET NEW.hits = NEW.hits + {step}")),
            },
        ),
        object(
            Function,
            "touch",
            None,
            only(Postgres, &format!("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.hits := NEW.hits + {step}; RETURN NEW; END $$")),
        ),
        object(
            Function,
            "add_one",
            None,
            only(Mysql, "CREATE FUNCTION add_one(x INT) RETURNS INT DETERMINISTIC RETURN x + 1"),
        ),
        object(Extension, "citext", None, only(Postgres, "CREATE EXTENSION IF NOT EXISTS citext")),
        object(
            Sequence,
            "ticket_seq",
            None,
            DialectSql::PerDialect {
                sqlite: None,
                postgres: Some("CREATE SEQUENCE ticket_seq START 100".into()),
                mysql: Some("CREATE SEQUENCE ticket_seq START WITH 100".into()),
            },
        ),
        object(
            MaterializedView,
            "post_stats",
            None,
            only(Postgres, "CREATE MATERIALIZED VIEW post_stats AS SELECT count(*) AS n FROM post"),
        ),
        object(
            Index,
            "post_stats_n",
            Some("post_stats"),
            only(Postgres, "CREATE UNIQUE INDEX post_stats_n ON post_stats (n)"),
        ),
    ]
}

fn schema_with(objects: Vec<DbObject>) -> Schema {
    let mut s = Schema::from_tables([post()]);
    s.objects = objects.into_iter().map(|o| (o.key(), o)).collect();
    s
}

#[test]
fn the_diff_orders_objects_by_dependency_and_replaces_what_depends_on_a_change() {
    let v1 = schema_with(objects(10, 1));
    let d = diff(&Schema::new(), &v1).unwrap();
    let names: Vec<String> = d.up.iter().map(Op::describe).collect();
    let at = |what: &str| {
        names
            .iter()
            .position(|n| n == what)
            .unwrap_or_else(|| panic!("{what} in {names:?}"))
    };
    // What the tables may use comes first, what reads them after.
    let table = at("create table post");
    for early in [
        "create extension citext",
        "create sequence ticket_seq",
        "create function touch",
    ] {
        assert!(at(early) < table, "{early} before the table: {names:?}");
    }
    for late in [
        "create view hot_posts",
        "create materialized view post_stats",
        "create trigger post_touch on post",
    ] {
        assert!(at(late) > table, "{late} after the table: {names:?}");
    }
    assert!(at("create function touch") < at("create trigger post_touch on post"));
    assert!(at("create view hot_posts") < at("create view hot_titles"));
    assert!(at("create extension citext") < at("create function touch"));

    // The view under another view changes: both go (the dependent first) and come back.
    let v2 = schema_with(objects(20, 1));
    let d = diff(&v1, &v2).unwrap();
    let names: Vec<String> = d.up.iter().map(Op::describe).collect();
    assert_eq!(
        names,
        [
            "drop view hot_titles",
            "drop view hot_posts",
            "create view hot_posts",
            "create view hot_titles"
        ]
    );
    // The downgrade makes the old definitions again.
    let Op::CreateObject { object } = &d.down[2] else {
        panic!("{:?}", d.down)
    };
    assert!(object
        .sql_for(Dialect::Sqlite)
        .unwrap()
        .contains("hits > 10"));

    // A function changes: the trigger calling it is replaced with it.
    let v3 = schema_with(objects(20, 2));
    let names: Vec<String> = diff(&v2, &v3)
        .unwrap()
        .up
        .iter()
        .map(Op::describe)
        .collect();
    assert_eq!(
        names,
        [
            "drop trigger post_touch on post",
            "drop function touch",
            "create function touch",
            "create trigger post_touch on post"
        ]
    );
    // Removing one drops it, before anything else.
    let mut fewer = objects(20, 2);
    fewer.retain(|o| o.name != "hot_titles");
    let d = diff(&v3, &schema_with(fewer)).unwrap();
    assert_eq!(
        d.up.iter().map(Op::describe).collect::<Vec<_>>(),
        ["drop view hot_titles"]
    );
}

#[test]
fn objects_are_made_replaced_checked_and_restored_on_every_backend() {
    let v1 = schema_with(objects(10, 1));
    let v2 = schema_with(objects(20, 2));
    let graph = Graph::from_revisions([
        generated_revision("r1", None, &Schema::new(), &v1),
        generated_revision("r2", Some("r1"), &v1, &v2),
    ]);
    for template in TestDb::all() {
        let name = template.dialect.name();
        let db = template.another();
        let mut runner = round_trip(&graph, &db, "r1");
        // The replaced trigger adds 2 now (the function on PostgreSQL, the trigger elsewhere).
        db.exec("INSERT INTO post (title, hits) VALUES ('a', 0)");
        db.exec("UPDATE post SET title = 'b'");
        assert_eq!(hits(&db), "2", "{name}");
        // Down to r1: the first definitions again.
        runner.downgrade("r1").unwrap();
        db.exec("UPDATE post SET title = 'c'");
        assert_eq!(hits(&db), "3", "{name}: the trigger adds 1 again");
        runner.upgrade("head").unwrap();
        assert_eq!(runner.check().unwrap(), Vec::<String>::new(), "{name}");
    }
}

fn hits(db: &TestDb) -> String {
    db.texts("SELECT CAST(hits AS CHAR(10)) AS v FROM post")[0]
        .clone()
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[test]
fn hand_made_and_missing_objects_are_reported() {
    let v1 = schema_with(objects(10, 1));
    let graph = Graph::from_revisions([generated_revision("r1", None, &Schema::new(), &v1)]);
    const CHANGED: &str = "its definition in the database is not the declared one";
    let cases: [(Dialect, &str, &str); 21] = [
        (
            Dialect::Sqlite,
            "DROP TRIGGER post_touch; CREATE TRIGGER post_touch AFTER UPDATE OF title ON post BEGIN UPDATE post SET hits = hits + 5 WHERE id = NEW.id; END",
            CHANGED,
        ),
        (
            Dialect::Sqlite,
            "DROP VIEW hot_titles; CREATE VIEW hot_titles AS SELECT title, id FROM hot_posts",
            CHANGED,
        ),
        (
            Dialect::Postgres,
            "CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.hits := NEW.hits + 5; RETURN NEW; END $$",
            CHANGED,
        ),
        (
            Dialect::Mysql,
            "DROP TRIGGER post_touch; CREATE TRIGGER post_touch BEFORE UPDATE ON post FOR EACH ROW SET NEW.hits = NEW.hits + 5",
            CHANGED,
        ),
        (
            Dialect::Mysql,
            "DROP FUNCTION add_one; CREATE FUNCTION add_one(x INT) RETURNS INT DETERMINISTIC RETURN x + 2",
            CHANGED,
        ),
        (
            Dialect::Sqlite,
            "DROP VIEW hot_titles",
            "view `hot_titles` is missing",
        ),
        (
            Dialect::Sqlite,
            "CREATE TRIGGER extra_t AFTER INSERT ON post BEGIN SELECT 1; END",
            "trigger `extra_t` on `post` is in the database but not in the models",
        ),
        (
            Dialect::Postgres,
            "CREATE TRIGGER extra_t BEFORE INSERT ON post FOR EACH ROW EXECUTE FUNCTION touch()",
            "trigger `extra_t` on `post` is in the database but not in the models",
        ),
        (
            Dialect::Postgres,
            "CREATE FUNCTION extra_f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
            "function `extra_f` is in the database but not in the models",
        ),
        // A server keeps its own print of a view: the declared one is printed by the
        // server too (a probe) and the two prints compared.
        (
            Dialect::Postgres,
            "CREATE OR REPLACE VIEW hot_posts AS SELECT id, title FROM post WHERE hits > 11",
            CHANGED,
        ),
        (
            Dialect::Postgres,
            "CREATE OR REPLACE VIEW hot_titles AS SELECT title FROM hot_posts WHERE id > 1",
            CHANGED,
        ),
        (
            Dialect::Postgres,
            "DROP MATERIALIZED VIEW post_stats; CREATE MATERIALIZED VIEW post_stats AS SELECT count(*) AS n FROM post WHERE hits > 0",
            CHANGED,
        ),
        (
            Dialect::Mysql,
            "CREATE OR REPLACE VIEW hot_posts AS SELECT id, title FROM post WHERE hits > 11",
            CHANGED,
        ),
        (
            Dialect::Mysql,
            "CREATE OR REPLACE VIEW hot_titles AS SELECT title FROM hot_posts WHERE id > 1",
            CHANGED,
        ),
        (
            Dialect::Mysql,
            "CREATE OR REPLACE VIEW hot_posts AS SELECT id, title FROM post WHERE hits > 10 WITH CHECK OPTION",
            CHANGED,
        ),
        (
            Dialect::Mysql,
            "CREATE OR REPLACE SQL SECURITY INVOKER VIEW hot_posts AS SELECT id, title FROM post WHERE hits > 10",
            CHANGED,
        ),
        (
            Dialect::Postgres,
            "DROP INDEX post_stats_n",
            "index `post_stats_n` on `post_stats` is missing",
        ),
        (
            Dialect::Postgres,
            "CREATE INDEX post_stats_by_hand ON post_stats (n)",
            "index `post_stats_by_hand` on `post_stats` is in the database but not in the models",
        ),
        (
            Dialect::Postgres,
            "DROP MATERIALIZED VIEW post_stats",
            "materialized view `post_stats` is missing",
        ),
        (
            Dialect::Mysql,
            "CREATE TRIGGER extra_t AFTER INSERT ON post FOR EACH ROW SET @x = 1",
            "trigger `extra_t` on `post` is in the database but not in the models",
        ),
        (
            Dialect::Mysql,
            "DROP SEQUENCE ticket_seq",
            "sequence `ticket_seq` is missing",
        ),
    ];
    for template in TestDb::all() {
        let name = template.dialect.name();
        let mut seen = 0;
        for (dialect, sql, expected) in cases {
            if dialect != template.dialect {
                continue;
            }
            hand_change_is_reported(
                &graph,
                &template,
                "an object changed by hand",
                sql,
                expected,
            );
            seen += 1;
        }
        assert!(seen >= 4, "{name}: cases ran");
    }
}

/// A table SQLite must rebuild keeps the triggers declared on it (made again after the
/// copy); a trigger made by hand still stops the rebuild before anything changes.
#[test]
fn a_rebuilt_sqlite_table_keeps_its_declared_triggers() {
    let v1 = schema_with(objects(10, 1));
    let mut v2 = v1.clone();
    v2.tables.get_mut("post").unwrap().columns[1].ty = ColumnType::Varchar { length: 80 };
    let graph = Graph::from_revisions([
        generated_revision("r1", None, &Schema::new(), &v1),
        generated_revision("r2", Some("r1"), &v1, &v2),
    ]);
    let db = TestDb::sqlite();
    let mut runner = round_trip(&graph, &db, "r1");
    db.exec("INSERT INTO post (title, hits) VALUES ('a', 0)");
    db.exec("UPDATE post SET title = 'b'");
    assert_eq!(hits(&db), "1", "the trigger runs after the rebuild");

    let db = TestDb::sqlite();
    let mut runner2 = Runner::connect(&graph, &db.url, Options::default()).unwrap();
    runner2.upgrade("r1").unwrap();
    db.exec("CREATE TRIGGER by_hand AFTER INSERT ON post BEGIN SELECT 1; END");
    let err = runner2.upgrade("head").unwrap_err().to_string();
    assert!(
        err.contains("`post`") && err.contains("Declare the trigger in sql/"),
        "{err}"
    );
    assert_eq!(runner2.current().unwrap(), ["r1"]);
    runner.downgrade("r1").unwrap();
}

/// Types (an enum, a composite) come before the tables whose columns use them and go after
/// them; one made by hand is reported (PostgreSQL).
#[test]
fn types_come_before_the_tables_that_use_them() {
    let state = object(
        ObjectKind::Type,
        "post_state",
        None,
        only(
            Dialect::Postgres,
            "CREATE TYPE post_state AS ENUM ('draft', 'live')",
        ),
    );
    let point = object(
        ObjectKind::Type,
        "point2",
        None,
        only(
            Dialect::Postgres,
            "CREATE TYPE point2 AS (x integer, y integer)",
        ),
    );
    let mut t = post();
    let mut col = Column::new(
        "state",
        ColumnType::Custom {
            sql: "post_state".into(),
        },
    );
    col.server_default = Some("'draft'".into());
    t.columns.push(col);
    let mut with_types = Schema::from_tables([t]);
    for o in [state, point] {
        with_types.objects.insert(o.key(), o);
    }
    let d = diff(&Schema::new(), &with_types).unwrap();
    let names: Vec<String> = d.up.iter().map(Op::describe).collect();
    assert_eq!(
        names,
        [
            "create type point2",
            "create type post_state",
            "create table post"
        ],
        "types first"
    );
    let gone = diff(&with_types, &Schema::new()).unwrap();
    let names: Vec<String> = gone.up.iter().map(Op::describe).collect();
    assert_eq!(
        names,
        [
            "drop table post",
            "drop type post_state",
            "drop type point2"
        ],
        "types last"
    );
    let Some(template) = TestDb::servers()
        .into_iter()
        .find(|d| d.dialect == Dialect::Postgres)
    else {
        return;
    };
    let graph =
        Graph::from_revisions([generated_revision("r1", None, &Schema::new(), &with_types)]);
    let db = template.another();
    let mut runner = round_trip(&graph, &db, "base");
    db.exec("INSERT INTO post (title) VALUES ('a')");
    assert!(db
        .try_exec("INSERT INTO post (title, state) VALUES ('b', 'gone')")
        .is_err());
    db.exec("CREATE TYPE extra_t AS (a integer)");
    let found = runner.check().unwrap();
    assert!(
        found.contains(&"type `extra_t` is in the database but not in the models".to_string()),
        "{found:?}"
    );
}
