//! Operation order that holds on every backend, with rows in the tables: an index a foreign
//! key needs is replaced before it goes (MySQL refuses to drop it), foreign keys are dropped
//! and restored around a type change of the columns they join, a type change that would leave
//! a foreign key joining two types MySQL cannot join is refused before anything runs, and the
//! views that read a column whose type changes survive it (PostgreSQL refuses the change
//! under a view; SQLite's rebuild must not lose them); what cannot be made again (a
//! materialized view, SQLite triggers) stops the migration before anything changes.

mod support;

use retort::schema::sql::Dialect;
use retort::{Graph, Options, Runner};
use support::{rev, TestDb};

const PARENT_CHILD: &str = r#"
    create_table("parent", column("id", integer), column("code", varchar(10)), primary_key(["id"])),
    create_table("child",
        column("id", integer),
        column("parent_id", integer),
        column("other_id", integer, nullable),
        primary_key(["id"]),
        foreign_key("fk_child_parent_id_parent", ["parent_id"], "parent", ["id"], on_delete = "cascade")),
    create_index("ix_child_parent_id", "child", ["parent_id"])
"#;

fn rows(db: &TestDb) {
    db.exec("INSERT INTO parent (id, code) VALUES (1, 'a'), (2, 'b')");
    db.exec("INSERT INTO child (id, parent_id, other_id) VALUES (10, 1, 5), (11, 2, 6)");
}

/// Upgrade, check, downgrade, check, upgrade again, with the rows kept.
fn both_ways(db: &TestDb, graph: &Graph, what: &str) {
    let name = format!("{}: {what}", db.dialect.name());
    let mut r = Runner::connect(graph, &db.url, Options::default()).unwrap();
    r.upgrade("r1").unwrap();
    rows(db);
    for step in 0..3 {
        match step {
            1 => r.downgrade("r1").map(drop),
            _ => r.upgrade("head").map(drop),
        }
        .unwrap_or_else(|e| panic!("{name} (step {step}): {e}"));
        let expected = match step {
            1 => graph.schema_at(&["r1".to_string()].into()).unwrap(),
            _ => graph.head_schema().unwrap(),
        };
        assert_eq!(
            r.differences(&expected).unwrap(),
            Vec::<String>::new(),
            "{name}"
        );
        assert_eq!(
            db.count("SELECT COUNT(*) AS n FROM child"),
            2,
            "{name}: rows kept"
        );
    }
}

#[test]
fn an_index_a_foreign_key_needs_is_replaced_before_it_goes() {
    let changes = [
        (
            "dropped",
            r#"drop_index("ix_child_parent_id", "child")"#,
            r#"create_index("ix_child_parent_id", "child", ["parent_id"])"#,
        ),
        (
            "made unique",
            r#"drop_index("ix_child_parent_id", "child"), create_unique_constraint("uq_child_parent_id", "child", ["parent_id"])"#,
            r#"drop_constraint("uq_child_parent_id", "child", type_ = "unique"), create_index("ix_child_parent_id", "child", ["parent_id"])"#,
        ),
        (
            "widened to two columns",
            r#"drop_index("ix_child_parent_id", "child"), create_index("ix_child_parent_id_other_id", "child", ["parent_id", "other_id"])"#,
            r#"drop_index("ix_child_parent_id_other_id", "child"), create_index("ix_child_parent_id", "child", ["parent_id"])"#,
        ),
        (
            "replaced by one of another column",
            r#"drop_index("ix_child_parent_id", "child"), create_index("ix_child_other_id", "child", ["other_id"])"#,
            r#"drop_index("ix_child_other_id", "child"), create_index("ix_child_parent_id", "child", ["parent_id"])"#,
        ),
        // Keys that are not plain ascending columns still back the key when they lead.
        (
            "replaced by one with a descending key after it",
            r#"drop_index("ix_child_parent_id", "child"), create_index("ix_child_top", "child", ["parent_id", text("other_id DESC")])"#,
            r#"drop_index("ix_child_top", "child"), create_index("ix_child_parent_id", "child", ["parent_id"])"#,
        ),
        (
            "replaced by one led by the column descending",
            r#"drop_index("ix_child_parent_id", "child"), create_index("ix_child_desc", "child", [text("parent_id DESC")])"#,
            r#"drop_index("ix_child_desc", "child"), create_index("ix_child_parent_id", "child", ["parent_id"])"#,
        ),
        (
            "replaced by one led by an expression",
            r#"drop_index("ix_child_parent_id", "child"), create_index("ix_child_expr", "child", [text("(other_id + 1)"), "parent_id"])"#,
            r#"drop_index("ix_child_expr", "child"), create_index("ix_child_parent_id", "child", ["parent_id"])"#,
        ),
    ];
    for template in TestDb::all() {
        for (what, up, down) in changes {
            if what.ends_with("an expression") && template.dialect == Dialect::Mysql {
                continue; // MariaDB has no expression keys (refused at build time).
            }
            let graph = Graph::from_revisions([
                rev("r1", None, PARENT_CHILD, ""),
                rev("r2", Some("r1"), up, down),
            ]);
            both_ways(&template.another(), &graph, what);
        }
        // A key with no index of its own (InnoDB made one, and drops it silently when an
        // index led by the key's columns arrives): that index, in any key form, dropped.
        for keys in [
            r#"["parent_id"]"#,
            r#"["parent_id", text("other_id DESC")]"#,
            r#"[text("parent_id DESC"), "other_id"]"#,
        ] {
            let graph = Graph::from_revisions([
                rev(
                    "r1",
                    None,
                    &PARENT_CHILD.replace(
                        r#",
    create_index("ix_child_parent_id", "child", ["parent_id"])"#,
                        "",
                    ),
                    "",
                ),
                rev(
                    "r2",
                    Some("r1"),
                    &format!(r#"create_index("ix_child_led", "child", {keys})"#),
                    r#"drop_index("ix_child_led", "child")"#,
                ),
            ]);
            both_ways(
                &template.another(),
                &graph,
                &format!("index {keys} over the key"),
            );
        }
        // A unique constraint backing the key, dropped.
        let graph = Graph::from_revisions([
            rev(
                "r1",
                None,
                &PARENT_CHILD.replace(
                    r#"create_index("ix_child_parent_id", "child", ["parent_id"])"#,
                    r#"create_unique_constraint("uq_child_parent_id", "child", ["parent_id"])"#,
                ),
                "",
            ),
            rev(
                "r2",
                Some("r1"),
                r#"drop_constraint("uq_child_parent_id", "child", type_ = "unique")"#,
                r#"create_unique_constraint("uq_child_parent_id", "child", ["parent_id"])"#,
            ),
        ]);
        both_ways(&template.another(), &graph, "unique dropped");
    }
}

#[test]
fn foreign_keys_follow_a_type_change_of_the_columns_they_join() {
    let graph = Graph::from_revisions([
        rev("r1", None, PARENT_CHILD, ""),
        rev(
            "r2",
            Some("r1"),
            r#"alter_column("parent", "id", type_ = bigint), alter_column("child", "parent_id", type_ = bigint)"#,
            r#"alter_column("child", "parent_id", type_ = integer), alter_column("parent", "id", type_ = integer)"#,
        ),
    ]);
    for template in TestDb::all() {
        both_ways(&template.another(), &graph, "key and reference widened");
    }
    // Only the referenced key: MySQL cannot join an INT to a BIGINT, and says so first.
    let graph = Graph::from_revisions([
        rev("r1", None, PARENT_CHILD, ""),
        rev(
            "r2",
            Some("r1"),
            r#"alter_column("parent", "id", type_ = bigint)"#,
            r#"alter_column("parent", "id", type_ = integer)"#,
        ),
    ]);
    for template in TestDb::all() {
        let db = template.another();
        if db.dialect != Dialect::Mysql {
            both_ways(&db, &graph, "only the key widened");
            continue;
        }
        let mut r = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        r.upgrade("r1").unwrap();
        rows(&db);
        let err = r.upgrade("head").unwrap_err().to_string();
        assert!(
            err.contains("fk_child_parent_id_parent")
                && err.contains("`child.parent_id`")
                && err.contains("same type"),
            "{err}"
        );
        assert_eq!(r.current().unwrap(), ["r1"]);
        assert_eq!(
            r.differences(&graph.schema_at(&["r1".to_string()].into()).unwrap())
                .unwrap(),
            Vec::<String>::new()
        );
    }
}

#[test]
fn views_that_read_a_retyped_column_survive_the_change() {
    // A view on the table and a view on that view, declared as objects.
    let views = r#"
        create_object(view, "parent_codes", "CREATE VIEW parent_codes AS SELECT id, code FROM parent WHERE id > 0"),
        create_object(view, "child_codes", "CREATE VIEW child_codes AS SELECT c.id, p.code FROM child c JOIN parent_codes p ON p.id = c.parent_id")
    "#;
    let views_down = r#"
        drop_object(view, "child_codes", "CREATE VIEW child_codes AS SELECT c.id, p.code FROM child c JOIN parent_codes p ON p.id = c.parent_id"),
        drop_object(view, "parent_codes", "CREATE VIEW parent_codes AS SELECT id, code FROM parent WHERE id > 0")
    "#;
    let graph = Graph::from_revisions([
        rev("r1", None, PARENT_CHILD, ""),
        rev("r1v", Some("r1"), views, views_down),
        rev(
            "r2",
            Some("r1v"),
            r#"alter_column("parent", "code", type_ = varchar(40)), alter_column("child", "parent_id", type_ = bigint), alter_column("parent", "id", type_ = bigint)"#,
            r#"alter_column("parent", "id", type_ = integer), alter_column("child", "parent_id", type_ = integer), alter_column("parent", "code", type_ = varchar(10))"#,
        ),
    ]);
    for template in TestDb::all() {
        let db = template.another();
        let name = db.dialect.name();
        let mut r = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        r.upgrade("r1v").unwrap();
        rows(&db);
        // The views get options, a comment and a grant where the database keeps them.
        if db.dialect == Dialect::Postgres {
            db.exec("ALTER VIEW parent_codes SET (security_barrier = true); COMMENT ON VIEW child_codes IS 'codes of children'; COMMENT ON COLUMN parent_codes.code IS 'the code'; GRANT SELECT ON child_codes TO PUBLIC");
        }
        let read = |db: &TestDb| {
            let sql = match db.dialect {
                Dialect::Sqlite => "SELECT id || code AS v FROM child_codes ORDER BY id",
                Dialect::Postgres => "SELECT id::text || code AS v FROM child_codes ORDER BY id",
                Dialect::Mysql => {
                    "SELECT CONCAT(CAST(id AS CHAR), code) AS v FROM child_codes ORDER BY id"
                }
            };
            db.texts(sql).into_iter().flatten().collect::<Vec<_>>()
        };
        let before = read(&db);
        assert_eq!(before, ["10a", "11b"], "{name}");
        r.upgrade("head").unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            read(&db),
            before,
            "{name}: views read the same after the upgrade"
        );
        assert_eq!(
            r.differences(&graph.head_schema().unwrap()).unwrap(),
            Vec::<String>::new(),
            "{name}"
        );
        if db.dialect == Dialect::Postgres {
            let kept = db.texts(
                "SELECT concat_ws('|', obj_description('child_codes'::regclass, 'pg_class'), col_description('parent_codes'::regclass, 2), (SELECT array_to_string(reloptions, ',') FROM pg_class WHERE oid = 'parent_codes'::regclass), has_table_privilege('public', 'child_codes', 'SELECT')::text) AS v",
            );
            assert_eq!(
                kept,
                [Some(
                    "codes of children|the code|security_barrier=true|true".to_string()
                )],
                "the views' comments, options and grants are made again"
            );
            let ty = db.texts("SELECT format_type(atttypid, atttypmod) AS v FROM pg_attribute WHERE attrelid = 'parent_codes'::regclass AND attname = 'code'");
            assert_eq!(
                ty,
                [Some("character varying(40)".to_string())],
                "the view reads the new type"
            );
        }
        r.downgrade("r1v").unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(read(&db), before, "{name}: and after the downgrade");
    }
}

#[test]
fn what_cannot_be_made_again_stops_the_change_before_it_runs() {
    let graph = Graph::from_revisions([
        rev("r1", None, PARENT_CHILD, ""),
        rev(
            "r2",
            Some("r1"),
            r#"alter_column("parent", "code", type_ = varchar(40))"#,
            r#"alter_column("parent", "code", type_ = varchar(10))"#,
        ),
    ]);
    for template in TestDb::all() {
        let db = template.another();
        let name = db.dialect.name();
        let (object, sql) = match db.dialect {
            Dialect::Postgres => (
                "parent_codes",
                "CREATE MATERIALIZED VIEW parent_codes AS SELECT id, code FROM parent",
            ),
            Dialect::Sqlite => (
                "`parent`",
                "CREATE TRIGGER parent_touch AFTER UPDATE ON parent BEGIN SELECT 1; END",
            ),
            // MySQL changes a column under its views and triggers: nothing to refuse.
            Dialect::Mysql => continue,
        };
        let mut r = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        r.upgrade("r1").unwrap();
        rows(&db);
        db.exec(sql);
        let err = r.upgrade("head").unwrap_err().to_string();
        assert!(err.contains(object), "{name}: {err}");
        assert!(err.contains("execute("), "{name}: names the fix: {err}");
        assert_eq!(r.current().unwrap(), ["r1"], "{name}");
        // Nothing changed: the one difference is the object made by hand.
        let made_by_hand = match db.dialect {
            Dialect::Postgres => {
                "materialized view `parent_codes` is in the database but not in the models"
            }
            _ => "trigger `parent_touch` on `parent` is in the database but not in the models",
        };
        assert_eq!(
            r.differences(&graph.schema_at(&["r1".to_string()].into()).unwrap())
                .unwrap(),
            vec![made_by_hand.to_string()],
            "{name}: nothing changed"
        );
    }
}
