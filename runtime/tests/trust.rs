//! A migration never silently changes meaning, on real SQLite files holding rows: each test
//! is one defect class of the trust issue, through the path the macro and the runner use.

mod support;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use retort::schema::sql::{render_ops, Dialect, Step};
use retort::{Graph, Migrations, Options, Runner};
use support::{rev, Db};

#[derive(QueryableByName)]
struct V {
    #[diesel(sql_type = Nullable<Text>)]
    v: Option<String>,
}

impl Db {
    fn exec(&self, sql: &str) {
        self.conn().batch_execute(sql).unwrap();
    }
    fn text(&self, sql: &str) -> Option<String> {
        let r: Vec<V> = diesel::sql_query(sql).load(&mut self.conn()).unwrap();
        r.into_iter().next().and_then(|r| r.v)
    }
    fn runner<'g>(&self, g: &'g Graph) -> Runner<'g> {
        Runner::connect(g, &self.url(), Options::default()).unwrap()
    }
}

mod drop_default {
    retort::migration! {
        revision: "r2",
        parents: ["r1"],
        message: "drop default and comment",
        up: [alter_column("t", "n", server_default = None, comment = None)],
        down: [alter_column("t", "n", server_default = "7", comment = "a number")],
    }
}
mod create_t {
    retort::migration! {
        revision: "r1",
        parents: [],
        message: "create",
        up: [create_table("t", column("id", integer, autoincrement), column("n", integer, server_default = "7", comment = "a number"), primary_key(["id"]))],
        down: [drop_table("t")],
    }
}

/// Defect 1: `server_default = None` reaches the database through the compiled macro.
#[test]
fn dropping_a_default_through_the_compiled_macro_drops_it() {
    static LIST: [&retort::CompiledMigration; 2] = [&create_t::MIGRATION, &drop_default::MIGRATION];
    let migrations = Migrations::new(&LIST);
    let up = drop_default::MIGRATION.up();
    let retort::schema::ops::Op::AlterColumn { changes, .. } = &up[0] else {
        panic!("{up:?}")
    };
    assert_eq!(changes.server_default, Some(None));
    assert_eq!(changes.comment, Some(None));
    let graph = Graph::from_migrations(&migrations);
    for db in support::TestDb::all() {
        let name = db.dialect.name();
        let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        runner.upgrade("r1").unwrap();
        let col = |r: &mut Runner| {
            r.introspect().unwrap().tables["t"]
                .column("n")
                .unwrap()
                .clone()
        };
        assert_eq!(
            col(&mut runner).server_default.as_deref(),
            Some("7"),
            "{name}"
        );
        runner.upgrade("head").unwrap();
        assert_eq!(col(&mut runner).server_default, None, "{name}");
        // No default any more: a row without `n` is refused (it is NOT NULL).
        let inserted = db.try_exec("INSERT INTO t (id) VALUES (1)");
        assert!(inserted.is_err(), "{name}: a row without n went in");
        runner.downgrade("r1").unwrap();
        assert_eq!(
            col(&mut runner).server_default.as_deref(),
            Some("7"),
            "{name}"
        );
    }
}

/// Defect 3a: a rebuild keeps the AUTOINCREMENT high-water mark; ids of deleted rows do not
/// come back, in both directions.
#[test]
fn rebuilds_keep_the_autoincrement_high_water_mark() {
    let graph = Graph::from_revisions([
        rev(
            "r1",
            None,
            r#"create_table("t", column("id", integer, autoincrement), column("n", integer, nullable), primary_key(["id"]))"#,
            r#"drop_table("t")"#,
        ),
        rev(
            "r2",
            Some("r1"),
            r#"alter_column("t", "n", type_ = bigint)"#,
            r#"alter_column("t", "n", type_ = integer)"#,
        ),
    ]);
    for db in support::TestDb::all() {
        let name = db.dialect.name();
        let top = |db: &support::TestDb| -> String {
            db.rows("t", &["id"])
                .last()
                .and_then(|r| r[0].clone())
                .unwrap_or_default()
        };
        let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        runner.upgrade("r1").unwrap();
        db.exec("INSERT INTO t (n) VALUES (1), (2), (3), (4), (5)");
        db.exec("DELETE FROM t WHERE id >= 3");
        runner.upgrade("head").unwrap();
        db.exec("INSERT INTO t (n) VALUES (6)");
        assert_eq!(top(&db), "6", "{name}: ids 3..5 must not come back");
        db.exec("DELETE FROM t WHERE id = 6");
        runner.downgrade("r1").unwrap();
        db.exec("INSERT INTO t (n) VALUES (7)");
        assert_eq!(top(&db), "7", "{name}");
        // An emptied table keeps its mark too.
        db.exec("DELETE FROM t");
        runner.upgrade("head").unwrap();
        db.exec("INSERT INTO t (n) VALUES (8)");
        assert_eq!(top(&db), "8", "{name}");
    }
}

/// Defect 3b: a re-typing or narrowing that would change stored values fails, atomically,
/// naming the table, the column and the value; each kind of narrowing, on every backend
/// (SQLite copies in a rebuild; PostgreSQL's casts round and cut; MySQL's strict mode still
/// rounds, keeps 2 in a BOOLEAN and drops a time of day). Bytes to text is refused before
/// anything runs (see the conversion matrix, `conversions.rs`).
#[test]
fn narrowing_copies_fail_atomically_with_a_sample() {
    use retort::schema::sql::Dialect;
    let cases = [
        ("text", "'abc'", "integer", "'abc'"),
        ("real", "1.5", "integer", "1.5"),
        ("bigint", "5000000000", "integer", "5000000000"),
        ("integer", "40000", "smallint", "40000"),
        ("varchar(10)", "'0123456789'", "varchar(4)", "'0123456789'"),
        ("numeric(10,2)", "1.25", "numeric(10,1)", "1.25"),
        ("text", "'yes'", "boolean", "'yes'"),
        ("integer", "2", "boolean", "2"),
        ("text", "'x'", "double", "'x'"),
        (
            "timestamp",
            "'2026-01-02 10:00:00'",
            "date",
            "'2026-01-02 10:00:00'",
        ),
    ];
    for backend in support::TestDb::all() {
        let name = backend.dialect.name();
        for (from, value, to, sample) in cases {
            let db = backend.another();
            let graph = Graph::from_revisions([
                rev(
                    "r1",
                    None,
                    &format!(
                        r#"create_table("t", column("id", integer, autoincrement), column("v", {from}, nullable), primary_key(["id"]))"#
                    ),
                    r#"drop_table("t")"#,
                ),
                rev(
                    "r2",
                    Some("r1"),
                    &format!(r#"alter_column("t", "v", type_ = {to})"#),
                    &format!(r#"alter_column("t", "v", type_ = {from})"#),
                ),
            ]);
            let what = format!("{name}: {from} -> {to}");
            let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
            runner.upgrade("r1").unwrap();
            let value = match (value, db.dialect) {
                ("x'00ff'", Dialect::Postgres) => "decode('00ff', 'hex')",
                (v, _) => v,
            };
            db.exec(&format!("INSERT INTO t (v) VALUES ({value}), (NULL)"));
            // (Bytes are not text: compared by row there.)
            let cols: &[&str] = if from == "binary" {
                &["id"]
            } else {
                &["id", "v"]
            };
            let before = db.rows("t", cols);
            let err = match runner.upgrade("head") {
                Ok(done) => panic!("{what}: the change went through ({done:?})"),
                Err(e) => e.to_string(),
            };
            // SQLite quotes its sample; the servers print the bare value.
            let bare = sample
                .trim_matches('\'')
                .trim_start_matches("X'")
                .to_lowercase();
            let needles: Vec<&str> = match db.dialect {
                Dialect::Sqlite => vec!["migration r2", "`t.v`", sample, "fix:"],
                _ => vec!["migration r2", "t.v", "fix:"],
            };
            for needle in needles {
                assert!(err.contains(needle), "{what}: {err}\n(expected {needle})");
            }
            assert!(
                err.to_lowercase().contains(&bare),
                "{what}: names the value {bare}: {err}"
            );
            assert!(
                err.contains("rolled back"),
                "{what}: nothing is left half-done: {err}"
            );
            assert_eq!(runner.current().unwrap(), ["r1"], "{what}");
            assert_eq!(db.rows("t", cols), before, "{what}: values unchanged");
            // Values that fit go through.
            db.exec("DELETE FROM t");
            db.exec("INSERT INTO t (v) VALUES (NULL)");
            runner
                .upgrade("head")
                .unwrap_or_else(|e| panic!("{what}: {e}"));
        }
    }
}

/// Defect 3c: all changes to one table in one migration are one rebuild.
#[test]
fn one_rebuild_per_table_per_migration() {
    let r1 = rev(
        "r1",
        None,
        r#"create_table("t", column("id", integer, autoincrement), column("a", integer), column("b", text, nullable), column("c", integer, nullable), primary_key(["id"])),
           create_table("u", column("id", integer), primary_key(["id"]))"#,
        r#"drop_table("u"), drop_table("t")"#,
    );
    let r2 = rev(
        "r2",
        Some("r1"),
        r#"alter_column("t", "a", type_ = bigint),
           alter_column("t", "b", nullable = false, server_default = "'x'"),
           drop_table("u"),
           create_check_constraint("ck_t_a", "t", "a >= 0"),
           create_index("ix_t_c", "t", ["c"]),
           create_unique_constraint("uq_t_b", "t", ["b"])"#,
        r#"drop_constraint("uq_t_b", "t", type_ = "unique"), drop_index("ix_t_c", "t"),
           drop_constraint("ck_t_a", "t", type_ = "check"),
           create_table("u", column("id", integer), primary_key(["id"])),
           alter_column("t", "b", nullable = true, server_default = None),
           alter_column("t", "a", type_ = integer)"#,
    );
    let graph = Graph::from_revisions([r1.clone(), r2.clone()]);
    let mut schema = graph.schema_at(&["r1".to_string()].into()).unwrap();
    let rebuilds_of_t = |steps: &[Vec<Step>]| {
        steps
            .iter()
            .flatten()
            .filter(
                |s| matches!(s, Step::Sql(q) if q.starts_with("CREATE TABLE \"_retort_new_t\"")),
            )
            .count()
    };
    let steps = render_ops(&r2.up(), &mut schema, Dialect::Sqlite).unwrap();
    assert_eq!(rebuilds_of_t(&steps), 1, "{steps:#?}");
    let down = render_ops(&r2.down(), &mut schema, Dialect::Sqlite).unwrap();
    assert_eq!(rebuilds_of_t(&down), 1, "{down:#?}");
    // And it does what the separate operations would: rows kept, schema as replayed.
    let db = Db::new();
    let mut runner = db.runner(&graph);
    runner.upgrade("r1").unwrap();
    db.exec("INSERT INTO t (a, b, c) VALUES (1, 'p', 3), (2, NULL, NULL)");
    let err = runner.upgrade("head").unwrap_err().to_string();
    assert!(err.contains("`t.b` holds NULL"), "{err}");
    db.exec("UPDATE t SET b = 'q' WHERE b IS NULL");
    runner.upgrade("head").unwrap();
    let expected = graph.head_schema().unwrap();
    assert!(runner.differences(&expected).unwrap().is_empty());
    assert_eq!(
        db.text("SELECT group_concat(a || b || coalesce(c, '-'), ',') AS v FROM t"),
        Some("1p3,2q-".into())
    );
    runner.downgrade("r1").unwrap();
    assert_eq!(
        db.text("SELECT group_concat(a || b || coalesce(c, '-'), ',') AS v FROM t"),
        Some("1p3,2q-".into())
    );
}

/// Defect 4: a swap of two columns moves the data both ways; a check over a renamed column
/// has a downgrade that runs.
#[test]
fn swaps_and_checks_over_renamed_columns_run_both_ways() {
    use retort::schema::{CheckConstraint, Column, ColumnType, Schema, Table};
    use retort_schema::diff::diff;
    let mut t = Table::new("t");
    let mut id = Column::new("id", ColumnType::Integer);
    id.autoincrement = true;
    t.columns = vec![
        id,
        Column::new("a", ColumnType::Integer),
        Column::new("b", ColumnType::Text),
    ];
    t.primary_key = vec!["id".into()];
    t.checks.push(CheckConstraint {
        name: "ck_t_a".into(),
        expression: "a > 0".into(),
        not_valid: false,
    });
    let old = Schema::from_tables([t.clone()]);
    // a <-> b swapped (with their types), and the check follows its column.
    let mut swapped = t.clone();
    swapped.columns[1] = Column::new("b", ColumnType::Integer);
    swapped.columns[1].renamed_from = Some("a".into());
    swapped.columns[2] = Column::new("a", ColumnType::Text);
    swapped.columns[2].renamed_from = Some("b".into());
    swapped.checks[0].expression = "b > 0".into();
    // a renamed to c, and the check follows it: the downgrade must rename c back before it
    // re-adds `a > 0`.
    let mut renamed = t.clone();
    renamed.columns[1] = Column::new("c", ColumnType::Integer);
    renamed.columns[1].renamed_from = Some("a".into());
    renamed.checks[0].expression = "c > 0".into();
    let render = |ops: &[retort::schema::ops::Op]| {
        ops.iter()
            .map(|o| retort_schema::migration::op_tokens(o).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (new, after_up, violation) in [
        (
            swapped,
            "CONCAT(b, '/', a)",
            "INSERT INTO t (a, b) VALUES ('x', 0)",
        ),
        (
            renamed,
            "CONCAT(c, '/', b)",
            "INSERT INTO t (c, b) VALUES (0, 'x')",
        ),
    ] {
        let d = diff(&Schema::from_tables([]), &old).unwrap();
        let d2 = diff(&old, &Schema::from_tables([new])).unwrap();
        let graph = Graph::from_revisions([
            rev("r1", None, &render(&d.up), &render(&d.down)),
            rev("r2", Some("r1"), &render(&d2.up), &render(&d2.down)),
        ]);
        for db in support::TestDb::all() {
            let name = db.dialect.name();
            let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
            runner.upgrade("r1").unwrap();
            db.exec("INSERT INTO t (a, b) VALUES (5, 'five')");
            runner.upgrade("head").unwrap();
            assert_eq!(db.value(after_up, "t"), Some("5/five".into()), "{name}");
            let err = db.try_exec(violation).unwrap_err();
            assert!(
                err.to_lowercase().contains("check") || err.contains("CONSTRAINT"),
                "{name}: {err}"
            );
            runner
                .downgrade("r1")
                .unwrap_or_else(|e| panic!("{name} {after_up}: the downgrade cannot run: {e}"));
            assert_eq!(
                db.value("CONCAT(a, '/', b)", "t"),
                Some("5/five".into()),
                "{name}"
            );
            runner.upgrade("head").unwrap();
        }
    }
}

/// Defect 8: an operation that fails on existing rows names the migration, the operation
/// and the fix, not only the database's message.
#[test]
fn failures_on_existing_rows_name_migration_operation_and_fix() {
    let cases = [
        (
            r#"add_column("t", column("m", integer))"#,
            r#"drop_column("t", "m")"#,
            "add column t.m",
            "server_default",
        ),
        (
            r#"create_unique_constraint("uq_t_n", "t", ["n"])"#,
            r#"drop_constraint("uq_t_n", "t", type_ = "unique")"#,
            "add unique constraint uq_t_n",
            "GROUP BY n HAVING",
        ),
        (
            r#"create_check_constraint("ck_t_n", "t", "n > 5")"#,
            r#"drop_constraint("ck_t_n", "t", type_ = "check")"#,
            "add check constraint ck_t_n",
            "WHERE NOT (n > 5)",
        ),
    ];
    for (up, down, op, fix) in cases {
        let graph = Graph::from_revisions([
            rev(
                "r1",
                None,
                r#"create_table("t", column("id", integer, autoincrement), column("n", integer), primary_key(["id"]))"#,
                r#"drop_table("t")"#,
            ),
            rev("r2", Some("r1"), up, down),
        ]);
        for backend in support::TestDb::all() {
            let db = backend.another();
            let name = db.dialect.name();
            let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
            runner.upgrade("r1").unwrap();
            db.exec("INSERT INTO t (n) VALUES (1), (1)");
            let err = match runner.upgrade("head") {
                Ok(_) => panic!("{name}: `{up}` went through over the rows"),
                Err(e) => e.to_string(),
            };
            for needle in ["migration r2", op, "fix:", fix, "rolled back"] {
                assert!(err.contains(needle), "{name}: {err}\n(expected {needle})");
            }
            assert_eq!(runner.current().unwrap(), ["r1"], "{name}");
        }
    }
}
