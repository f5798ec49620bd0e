//! `check` is clean right after an upgrade, as a class: random schemas whose columns have
//! every portable type and each dialect's own types (unbounded `varchar`, `inet`, `text[]`,
//! `citext`, `ltree`, an enum on PostgreSQL; `INT UNSIGNED`, `ENUM`, `YEAR`, `DATETIME` on
//! MariaDB), whose defaults are functions (`now()`, `CURRENT_TIMESTAMP`,
//! `gen_random_uuid()`, `uuid()`), literals with casts, negative numbers and quotes, and
//! whose checks mix comparisons, casts, `IN`, `BETWEEN`, `LIKE`, `NOT`, arithmetic and
//! functions, written with random parentheses and keyword case. Each goes through the
//! migration file the build writes, is applied to a real database, and then `check`
//! reports nothing; the same database, its version table removed, is adopted as it is
//! (adoption compares the same way).
//!
//! Case counts: `RETORT_PROPTEST_CASES` on SQLite and `RETORT_SERVER_PROPTEST_CASES` on each
//! server (default 100; CI runs 500 and 100).

#[path = "../runtime/tests/support/mod.rs"]
mod runtime_support;
mod support;

use proptest::prelude::*;
use retort::schema::sql::Dialect;
use retort::schema::{CheckConstraint, Column, ColumnType, Schema, Table};
use retort::{Graph, Options, Runner};
use runtime_support::{rev, TestDb};
use support::generated_revision;

/// What a check can say of a column.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Number,
    Chars,
    Bool,
    Other,
}

/// A column type of the dialect, its kind, and defaults spelled as a model might.
fn types(d: Dialect) -> Vec<(ColumnType, Kind, Vec<&'static str>)> {
    use ColumnType::*;
    use Kind::*;
    let custom = |s: &str| Custom { sql: s.into() };
    let numeric = Numeric {
        precision: Some(10),
        scale: Some(2),
    };
    let mut all = vec![
        (SmallInt, Number, vec!["0", "-1", "'-5'", "(1 + 2) * 3"]),
        (Integer, Number, vec!["-1", "'7'", "42"]),
        (BigInt, Number, vec!["-9000000000", "0"]),
        (Double, Number, vec!["-1.5e3", "0.25", "-0.5"]),
        (numeric.clone(), Number, vec!["1.50", "-0.5", "0"]),
        (Boolean, Bool, vec!["TRUE", "false", "0", "1"]),
        (Text, Chars, vec!["'it''s'", "''", "'a;b -- c'"]),
        (Varchar { length: 30 }, Chars, vec!["'x'", "'日本'", "''"]),
        (Char { length: 3 }, Chars, vec!["'abc'"]),
        (Date, Other, vec!["CURRENT_DATE", "'2026-01-02'"]),
        (
            Timestamp,
            Other,
            vec!["CURRENT_TIMESTAMP", "'2026-01-02 03:04:05'"],
        ),
        (Uuid, Other, vec!["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"]),
        (Json, Other, vec!["'{}'", "'{\"b\": 1, \"a\": [1, 2]}'"]),
    ];
    match d {
        Dialect::Postgres => {
            all.extend([
                (Real, Number, vec!["-1.5", "0"]),
                (
                    TimestampTz,
                    Other,
                    vec!["now()", "CURRENT_TIMESTAMP", "'2026-01-02 03:04:05+00'"],
                ),
                (
                    Timestamp,
                    Other,
                    vec!["LOCALTIMESTAMP", "'2026-01-02T03:04'"],
                ),
                (
                    Uuid,
                    Other,
                    vec![
                        "gen_random_uuid()",
                        "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'",
                    ],
                ),
                (Time, Other, vec!["'10:20:30'", "CURRENT_TIME"]),
                (Json, Other, vec!["'{}'::jsonb", "'[1, \"x\"]'::jsonb"]),
                (
                    Text,
                    Chars,
                    vec!["'index'::text", "lower('ABC')", "'a' || 'b'"],
                ),
                (
                    custom("varchar"),
                    Chars,
                    vec!["''::character varying", "'x'::varchar"],
                ),
                (custom("citext"), Chars, vec!["'Abc'::citext", "'x'"]),
                (
                    custom("inet"),
                    Other,
                    vec!["'127.0.0.1'::inet", "'10.0.0.1'"],
                ),
                (
                    custom("text[]"),
                    Other,
                    vec!["'{}'::text[]", "ARRAY['a', 'b']"],
                ),
                (custom("integer[]"), Other, vec!["'{1,2}'"]),
                (custom("ltree"), Other, vec!["'0'::ltree", "'a.b'"]),
                (custom("mood"), Other, vec!["'sad'::mood", "'happy'"]),
                (custom("json"), Other, vec!["'{\"a\":1}'::json"]),
                (custom("timestamp(3)"), Other, vec!["CURRENT_TIMESTAMP"]),
                (custom("int4"), Number, vec!["'-3'::int4", "3"]),
                (custom("decimal(8, 3)"), Number, vec!["-1.250"]),
                (custom("interval"), Other, vec!["'1 day'"]),
            ]);
        }
        Dialect::Mysql => {
            all.extend([
                (Real, Number, vec!["-1.5", "0"]),
                (TimestampTz, Other, vec!["now()", "CURRENT_TIMESTAMP"]),
                (Uuid, Other, vec!["uuid()"]),
                (Time, Other, vec!["'10:20:30'"]),
                (
                    Varchar { length: 30 },
                    Chars,
                    vec!["lower('ABC')", "concat('a', 'b')"],
                ),
                (custom("INT UNSIGNED"), Number, vec!["3", "'4'"]),
                (custom("MEDIUMTEXT"), Chars, vec!["'x'"]),
                (custom("ENUM('happy','sad')"), Other, vec!["'sad'"]),
                (custom("YEAR"), Other, vec!["2026"]),
                (
                    custom("DATETIME"),
                    Other,
                    vec!["CURRENT_TIMESTAMP", "'2026-01-02 03:04:05'"],
                ),
                (custom("DECIMAL(8, 3)"), Number, vec!["-1.250"]),
                (custom("DOUBLE PRECISION"), Number, vec!["-2.5"]),
                (custom("TINYINT"), Number, vec!["-3"]),
                (
                    custom("VARCHAR(10) CHARACTER SET ascii"),
                    Chars,
                    vec!["'a'"],
                ),
            ]);
        }
        Dialect::Sqlite => {
            all.extend([
                (Real, Number, vec!["-1.5"]),
                (TimestampTz, Other, vec!["CURRENT_TIMESTAMP"]),
                (Time, Other, vec!["CURRENT_TIME", "'10:20:30'"]),
                (Text, Chars, vec!["(lower('ABC'))", "'a' || 'b'"]),
                (Binary, Other, vec!["x'00ff'"]),
                (custom("CITEXT"), Chars, vec!["'x'"]),
                (custom("VARCHAR"), Chars, vec!["'x'"]),
                (custom("DATETIME"), Other, vec!["(datetime('now'))"]),
                (custom("INT"), Number, vec!["-1"]),
            ]);
        }
    }
    all
}

/// What must exist before the tables: PostgreSQL's extensions and an enum.
fn prelude() -> &'static str {
    r#"create_object(extension, "citext", postgres = "CREATE EXTENSION IF NOT EXISTS citext"),
    create_object(extension, "ltree", postgres = "CREATE EXTENSION IF NOT EXISTS ltree"),
    create_object(type_, "mood", postgres = "CREATE TYPE mood AS ENUM ('happy', 'sad')")"#
}

#[derive(Debug, Clone)]
struct Col {
    ty: usize,
    nullable: bool,
    default: Option<usize>,
}

/// A boolean condition, generated as a tree and written in random spellings.
#[derive(Debug, Clone)]
enum Cond {
    /// An atom over column `col` (an index into the table's columns), variant `which`.
    Atom {
        col: usize,
        which: usize,
        value: i64,
    },
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
}

fn cond() -> impl Strategy<Value = Cond> {
    let atom = (0usize..8, 0usize..12, -20i64..20).prop_map(|(col, which, value)| Cond::Atom {
        col,
        which,
        value,
    });
    atom.prop_recursive(3, 8, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|c| Cond::Not(Box::new(c))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Cond::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner).prop_map(|(a, b)| Cond::Or(Box::new(a), Box::new(b))),
        ]
    })
}

/// How to write a condition: keyword case and extra parentheses, from bits.
#[derive(Debug, Clone, Copy)]
struct Style(u32);

impl Style {
    fn kw(&self, word: &str, salt: u32) -> String {
        if (self.0 >> (salt % 31)) & 1 == 1 {
            word.to_ascii_uppercase()
        } else {
            word.to_ascii_lowercase()
        }
    }
    fn wrap(&self, text: String, salt: u32) -> String {
        if (self.0 >> ((salt + 7) % 31)) & 1 == 1 {
            format!("({text})")
        } else {
            text
        }
    }
}

/// An atom over a column of kind `kind` named `c`, valid in the dialect.
fn atom(c: &str, kind: Kind, which: usize, v: i64, d: Dialect, s: Style) -> String {
    let k = |w: &str, i: u32| s.kw(w, i + which as u32);
    let n = v.to_string();
    let cast_int = match d {
        Dialect::Mysql => "SIGNED",
        _ => "INTEGER",
    };
    match kind {
        Kind::Number => match which % 10 {
            0 => format!("{c} > {n}"),
            1 => format!("{c} {} {n}.5 {} {}", k("between", 1), k("and", 2), v + 10),
            2 => format!("{c} {} ({n}, {}, 3)", k("in", 3), v + 1),
            3 => format!(
                "{c} <> 0 {} {c} {} {}",
                k("or", 4),
                k("is", 5),
                k("null", 6)
            ),
            4 => format!("{} ({c} < {n})", k("not", 7)),
            5 => format!("{c} + 1 >= {n}"),
            6 => format!("{}({c}) < 1000000", k("abs", 8)),
            7 => format!("{}({c} {} {cast_int}) > {n}", k("cast", 9), k("as", 10)),
            8 => format!("{c} * 2 <> -{}", v.abs() + 1),
            _ => format!("{c} {} ({n})", k("not in", 11)),
        },
        Kind::Chars => {
            let len = match d {
                Dialect::Postgres => "length",
                Dialect::Mysql => "char_length",
                Dialect::Sqlite => "length",
            };
            match which % 9 {
                0 => format!("{}({c}) > {}", k(len, 1), v.abs() % 3),
                1 => format!("{c} <> ''"),
                2 => format!("{c} {} ('a', 'b', 'it''s')", k("in", 2)),
                3 => format!("{c} {} ('x')", k("not in", 3)),
                4 => format!("{c} {} 'a%'", k("like", 4)),
                5 => format!("{}({c}) <> 'x'", k("lower", 5)),
                6 => format!("{}({c}, 'z') <> 'y'", k("coalesce", 6)),
                7 => format!("{c} {} {} {}", k("is", 7), k("not", 8), k("null", 9)),
                _ => format!("{c} <> 'it''s'"),
            }
        }
        Kind::Bool => match (which % 4, d) {
            (0, _) => c.to_string(),
            (1, _) => format!("{} {c}", k("not", 1)),
            (2, Dialect::Mysql | Dialect::Postgres) => format!("{c} = {}", k("true", 2)),
            (2, Dialect::Sqlite) => format!("{c} = 1"),
            _ => format!("{c} {} {} {}", k("is", 3), k("not", 4), k("null", 5)),
        },
        Kind::Other => format!("{c} {} {} {}", k("is", 1), k("not", 2), k("null", 3)),
    }
}

fn write(cond: &Cond, cols: &[(String, Kind)], d: Dialect, s: Style, salt: u32) -> String {
    let text = match cond {
        Cond::Atom { col, which, value } => {
            let (name, kind) = &cols[col % cols.len()];
            atom(name, *kind, *which, *value, d, s)
        }
        Cond::Not(inner) => format!(
            "{} ({})",
            s.kw("not", salt),
            write(inner, cols, d, s, salt + 1)
        ),
        Cond::And(a, b) | Cond::Or(a, b) => {
            let op = if matches!(cond, Cond::And(..)) {
                "and"
            } else {
                "or"
            };
            format!(
                "({}) {} ({})",
                write(a, cols, d, s, salt + 2),
                s.kw(op, salt),
                write(b, cols, d, s, salt + 3)
            )
        }
    };
    s.wrap(text, salt)
}

/// A table's columns, and its checks with the style each is written in.
type TableShape = (Vec<Col>, Vec<(Cond, u32)>);

#[derive(Debug, Clone)]
struct Shape {
    tables: Vec<TableShape>,
}

fn shape() -> impl Strategy<Value = Shape> {
    let col = (0usize..64, any::<bool>(), proptest::option::of(0usize..8)).prop_map(
        |(ty, nullable, default)| Col {
            ty,
            nullable,
            default,
        },
    );
    let table = (
        proptest::collection::vec(col, 1..7),
        proptest::collection::vec((cond(), any::<u32>()), 0..3),
    );
    proptest::collection::vec(table, 1..3).prop_map(|tables| Shape { tables })
}

fn schema(s: &Shape, d: Dialect) -> Schema {
    let catalogue = types(d);
    let mut tables = Vec::new();
    for (ti, (cols, checks)) in s.tables.iter().enumerate() {
        let mut t = Table::new(format!("t{ti}"));
        let mut id = Column::new("id", ColumnType::Integer);
        id.autoincrement = true;
        t.columns.push(id);
        t.primary_key = vec!["id".into()];
        let mut kinds = Vec::new();
        for (ci, c) in cols.iter().enumerate() {
            let (ty, kind, defaults) = &catalogue[c.ty % catalogue.len()];
            let mut col = Column::new(format!("c{ci}"), ty.clone());
            col.nullable = c.nullable;
            col.server_default = c.default.map(|i| defaults[i % defaults.len()].to_string());
            kinds.push((col.name.clone(), *kind));
            t.columns.push(col);
        }
        for (i, (cond, style)) in checks.iter().enumerate() {
            t.checks.push(CheckConstraint {
                name: format!("ck_t{ti}_{i}"),
                expression: write(cond, &kinds, d, Style(*style), *style % 17),
                not_valid: false,
            });
        }
        tables.push(t);
    }
    let mut s = Schema::from_tables(tables);
    s.normalize();
    s
}

fn clean_after_apply(db: &TestDb, s: &Shape) -> Result<(), TestCaseError> {
    let d = db.dialect;
    let target = schema(s, d);
    let graph = Graph::from_revisions([
        rev("r0", None, prelude(), ""),
        generated_revision("r1", Some("r0"), &Schema::new(), &target),
    ]);
    // The extensions the prelude declares are part of what the database must hold.
    let mut target = target;
    target.objects = graph.schema_at(&["r0".to_string()].into()).unwrap().objects;
    let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
    if let Err(e) = runner.upgrade("head") {
        // The generator writes only what the database accepts: a refusal fails the case.
        return Err(TestCaseError::fail(format!("upgrade failed: {e}")));
    }
    let differences = runner.differences(&target).unwrap();
    prop_assert!(
        differences.is_empty(),
        "{}: after upgrade: {differences:#?}",
        d.name()
    );
    // Adoption compares the same way: without its version table, the database is adopted.
    db.exec("DROP TABLE retort_versions");
    let mut again = Runner::connect(&graph, &db.url, Options::default()).unwrap();
    let adopted = again.upgrade("head");
    prop_assert!(
        adopted.is_ok(),
        "{}: adoption refused: {adopted:?}",
        d.name()
    );
    prop_assert_eq!(again.current().unwrap(), vec!["r1".to_string()]);
    Ok(())
}

/// Models from a database, as a class: the database a random schema made is read, its
/// models written and read back as the build reads them, and their first migration, run on
/// a fresh database (after the same prelude), makes a database whose catalog reads exactly
/// as the first one's.
fn models_round_trip(db: &TestDb, s: &Shape) -> Result<(), TestCaseError> {
    use retort_schema::naming::Convention;
    let d = db.dialect;
    let target = schema(s, d);
    let first = rev("r0", None, prelude(), "");
    let graph = Graph::from_revisions([
        first.clone(),
        generated_revision("r1", Some("r0"), &Schema::new(), &target),
    ]);
    let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
    runner
        .upgrade("head")
        .map_err(|e| TestCaseError::fail(format!("upgrade failed: {e}")))?;
    let live = runner.introspect().unwrap();
    let mut tables = live.clone();
    tables.objects.clear();
    let source =
        retort_build::models::source(&tables, Convention::Retort, Some(&db.backend().catalog()))
            .map_err(|e| TestCaseError::fail(format!("{}: {e}", d.name())))?;
    let models = retort_build::models::schema_of_source(&source, Convention::Retort, &[d])
        .map_err(|e| TestCaseError::fail(format!("{}: {e}\n{source}", d.name())))?;
    // What the models say is what the database holds, as `check` reads it.
    let mut expected = models.clone();
    let before_tables = Graph::from_revisions([first.clone()])
        .schema_at(&["r0".to_string()].into())
        .unwrap();
    expected.objects = before_tables.objects.clone();
    let differences = runner.differences(&expected).unwrap();
    prop_assert!(
        differences.is_empty(),
        "{}: models differ from the database: {differences:#?}\n{source}",
        d.name()
    );
    // Their first migration makes the same database again, after the prelude's extensions
    // (an enum type is the models' now: they declare it).
    let fresh = db.another();
    let prelude_again = if models.enums.contains_key("mood") {
        rev("r0", None, &prelude().replace(",\n    create_object(type_, \"mood\", postgres = \"CREATE TYPE mood AS ENUM ('happy', 'sad')\")", ""), "")
    } else {
        first
    };
    let before_again = Graph::from_revisions([prelude_again.clone()])
        .schema_at(&["r0".to_string()].into())
        .unwrap();
    let mut expected_again = models.clone();
    expected_again.objects = before_again.objects.clone();
    let again = Graph::from_revisions([
        prelude_again,
        generated_revision("m1", Some("r0"), &before_again, &expected_again),
    ]);
    let mut second = Runner::connect(&again, &fresh.url, Options::default()).unwrap();
    second.upgrade("head").map_err(|e| {
        TestCaseError::fail(format!(
            "{}: the models' migration failed: {e}\n{source}",
            d.name()
        ))
    })?;
    // Equal as the catalog tells (PostgreSQL's print of a check is not a fixed point: it
    // may nest the same ANDs differently when it reads its own print back).
    let rebuilt = second.differences(&live).unwrap();
    prop_assert!(
        rebuilt.is_empty(),
        "{}: the catalog reads differently: {rebuilt:#?}\n{source}",
        d.name()
    );
    Ok(())
}

fn cases(var: &str) -> u32 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases("RETORT_PROPTEST_CASES"), max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn check_is_clean_after_apply_on_sqlite(s in shape()) {
        clean_after_apply(&TestDb::sqlite(), &s)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases("RETORT_PROPTEST_CASES") / 4 + 1, max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn models_from_the_database_make_it_again_on_sqlite(s in shape()) {
        models_round_trip(&TestDb::sqlite(), &s)?;
    }
}

#[test]
fn models_from_the_database_make_it_again_on_postgres() {
    on_server("RETORT_PG_URL", 4, models_round_trip);
}

#[test]
fn models_from_the_database_make_it_again_on_mariadb() {
    on_server("RETORT_MYSQL_URL", 4, models_round_trip);
}

/// Runs `property` on fresh databases of the server in `var`, for the server case count
/// divided by `share`.
fn on_server(
    var: &'static str,
    share: u32,
    property: fn(&TestDb, &Shape) -> Result<(), TestCaseError>,
) {
    let Some(first) = TestDb::on_server(var) else {
        return;
    };
    let config = ProptestConfig {
        cases: cases("RETORT_SERVER_PROPTEST_CASES") / share + u32::from(share > 1),
        max_shrink_iters: 100 / share,
        ..ProptestConfig::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    if let Err(e) = runner.run(&shape(), |s| property(&first.another(), &s)) {
        panic!("{}: {e}", first.dialect.name());
    }
}

#[test]
fn check_is_clean_after_apply_on_postgres() {
    on_server("RETORT_PG_URL", 1, clean_after_apply);
}

#[test]
fn check_is_clean_after_apply_on_mariadb() {
    on_server("RETORT_MYSQL_URL", 1, clean_after_apply);
}
