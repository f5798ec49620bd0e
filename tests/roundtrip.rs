//! The generative round trip: a random schema A and a random evolution B (types, nullability,
//! defaults with quotes and unicode, renames including swaps, added and dropped columns,
//! indexes, uniques, checks, foreign keys), random rows valid in both. For each pair the
//! diff becomes migration files (the text the build writes), read back through the grammar
//! the macro and the build share, and runs on a real SQLite file holding the rows:
//! upgrade → introspected schema equals B, surviving values unchanged, `sqlite_sequence`
//! not lowered → downgrade → equals A, values unchanged → re-upgrade → the build has
//! nothing more to write.
//!
//! `RETORT_PROPTEST_CASES` sets the number of cases (default 100).

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use proptest::prelude::*;
use retort::schema::diff::diff;
use retort::schema::migration::parse_file;
use retort::schema::sql::quote_literal;
use retort::schema::{CheckConstraint, Column, ColumnType, ForeignKey, Index, Schema, Table};
use retort::{DatabaseUrl, Graph, Options, Revision, Runner};

#[derive(Debug, Clone)]
struct Col {
    ty: usize,
    nullable: bool,
    default: Option<usize>,
}

#[derive(Debug, Clone)]
struct Evolution {
    /// Per column of A: 0 keep, 1 drop, 2 rename, 3 widen, 4 make nullable, 5 change default.
    edits: Vec<u8>,
    /// Swap the names of the first two kept columns.
    swap: bool,
    added: Vec<Col>,
    index_on_first: bool,
    check_on_first: bool,
}

const TYPES: [ColumnType; 5] = [
    ColumnType::Integer,
    ColumnType::Text,
    ColumnType::Varchar { length: 20 },
    ColumnType::Real,
    ColumnType::Boolean,
];
const DEFAULTS: [&str; 4] = ["0", "'it''s'", "'日本 🦀'", "'a;b'"];

fn widen(t: &ColumnType) -> ColumnType {
    match t {
        ColumnType::Integer => ColumnType::BigInt,
        ColumnType::Varchar { .. } => ColumnType::Text,
        ColumnType::Real => ColumnType::Double,
        other => other.clone(),
    }
}

fn value(ty: &ColumnType, seed: u32) -> String {
    match ty {
        ColumnType::Integer | ColumnType::BigInt => (seed as i64 - 50).to_string(),
        ColumnType::Real | ColumnType::Double => format!("{}.5", seed),
        ColumnType::Boolean => (seed % 2).to_string(),
        _ => {
            quote_literal(["plain", "it's", "\"q\"", "日本 🦀", "a;b -- c", ""][seed as usize % 6])
        }
    }
}

fn default_for(ty: &ColumnType, d: usize) -> String {
    if ty.is_text() && d > 0 {
        DEFAULTS[d].to_string()
    } else {
        "0".to_string()
    }
}

fn col_strategy() -> impl Strategy<Value = Col> {
    (
        0..TYPES.len(),
        any::<bool>(),
        proptest::option::of(0..DEFAULTS.len()),
    )
        .prop_map(|(ty, nullable, default)| Col {
            ty,
            nullable,
            default,
        })
}

fn evolution(n: usize) -> impl Strategy<Value = Evolution> {
    (
        proptest::collection::vec(0u8..6, n),
        any::<bool>(),
        proptest::collection::vec(col_strategy(), 0..3),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(edits, swap, added, index_on_first, check_on_first)| Evolution {
                edits,
                swap,
                added,
                index_on_first,
                check_on_first,
            },
        )
}

fn column(name: &str, c: &Col) -> Column {
    let mut col = Column::new(name, TYPES[c.ty].clone());
    col.nullable = c.nullable;
    col.server_default = c.default.map(|d| default_for(&col.ty, d));
    col
}

fn id() -> Column {
    let mut id = Column::new("id", ColumnType::Integer);
    id.autoincrement = true;
    id
}

/// A: `parent` and `child` (child references parent), both with random columns.
fn schema_a(cols: &[Col], child_cols: &[Col]) -> Schema {
    let mut p = Table::new("parent");
    p.columns.push(id());
    p.columns.extend(
        cols.iter()
            .enumerate()
            .map(|(i, c)| column(&format!("c{i}"), c)),
    );
    p.primary_key = vec!["id".into()];
    let mut c = Table::new("child");
    c.columns.push(id());
    c.columns
        .push(Column::new("parent_id", ColumnType::Integer));
    c.columns.extend(
        child_cols
            .iter()
            .enumerate()
            .map(|(i, col)| column(&format!("d{i}"), col)),
    );
    c.primary_key = vec!["id".into()];
    c.foreign_keys.push(ForeignKey {
        name: "fk_child_parent_id_parent".into(),
        columns: vec!["parent_id".into()],
        referred_table: "parent".into(),
        referred_columns: vec!["id".into()],
        on_delete: Default::default(),
        on_update: Default::default(),
    });
    Schema::from_tables([p, c])
}

/// B from A, and for each column of B that keeps data, the column of A it came from.
fn schema_b(a: &Schema, e: &Evolution) -> (Schema, Vec<(String, String)>) {
    let mut p = a.tables["parent"].clone();
    let mut kept = Vec::new();
    let mut columns = vec![id()];
    let mut surviving = Vec::new();
    for (i, c) in p.columns.iter().skip(1).enumerate() {
        let mut c = c.clone();
        let from = c.name.clone();
        let mut edit = e.edits.get(i).copied().unwrap_or(0);
        // A dropped NOT NULL column without a default cannot come back over rows (the
        // downgrade is warned about at build time): drop only what can be re-added.
        if edit == 1 && !c.nullable && c.server_default.is_none() {
            edit = 4;
        }
        match edit {
            1 => continue,
            2 => {
                c.name = format!("r{i}");
                c.renamed_from = Some(from.clone());
            }
            3 => c.ty = widen(&c.ty),
            4 => c.nullable = true,
            5 => {
                c.server_default = match c.server_default {
                    Some(_) => None,
                    None => Some(default_for(&c.ty, 1)),
                }
            }
            _ => {}
        }
        surviving.push((c, from));
    }
    if e.swap && surviving.len() >= 2 {
        let (a_name, b_name) = (surviving[0].0.name.clone(), surviving[1].0.name.clone());
        let (a_from, b_from) = (surviving[0].1.clone(), surviving[1].1.clone());
        surviving[0].0.name = b_name;
        surviving[0].0.renamed_from = Some(a_from);
        surviving[1].0.name = a_name;
        surviving[1].0.renamed_from = Some(b_from);
    }
    for (c, from) in &surviving {
        kept.push((c.name.clone(), from.clone()));
        columns.push(c.clone());
    }
    for (i, c) in e.added.iter().enumerate() {
        let mut col = column(&format!("n{i}"), c);
        // A column added to a table with rows needs NULL or a default.
        if !col.nullable && col.server_default.is_none() {
            col.nullable = true;
        }
        columns.push(col);
    }
    p.columns = columns;
    p.indexes.clear();
    p.checks.clear();
    if let Some(first) = p.columns.get(1).cloned() {
        if e.index_on_first {
            p.indexes.push(Index {
                name: "ix_parent_first".into(),
                columns: vec![first.name.clone()],
                unique: false,
            });
        }
        if e.check_on_first {
            p.checks.push(CheckConstraint {
                name: "ck_parent_first".into(),
                expression: format!("\"{}\" IS NOT NULL OR 1 = 1", first.name),
            });
        }
    }
    let mut b = a.clone();
    b.tables.insert("parent".into(), p);
    b.normalize();
    (b, kept)
}

fn file(id: &str, parent: Option<&str>, from: &Schema, to: &Schema) -> Revision {
    let d = diff(from, to).unwrap();
    let render = |ops: &[retort::schema::ops::Op]| -> Vec<(retort::schema::ops::Op, bool)> {
        ops.iter().map(|o| (o.clone(), false)).collect()
    };
    let parents: Vec<String> = parent.map(|p| vec![p.to_string()]).unwrap_or_default();
    // The text the build writes, read back through the grammar the macro and build share.
    let text = retort_build::codegen::render(&retort_build::codegen::NewMigration {
        revision: id,
        parents: &parents,
        message: id,
        created: "2026-12-01 00:00:00 UTC",
        up: &render(&d.up),
        down: &render(&d.down),
        lints: &d.lints,
    });
    let parsed = parse_file(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(parsed.up, d.up);
    Revision::from_file(parsed)
}

#[derive(QueryableByName)]
struct J {
    #[diesel(sql_type = Text)]
    j: String,
}
#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn rows(conn: &mut SqliteConnection, columns: &[String]) -> String {
    let cols: Vec<String> = columns.iter().map(|c| format!("quote(\"{c}\")")).collect();
    let sql = format!(
        "SELECT COALESCE(group_concat(r, '|'), '') AS j FROM (SELECT {} AS r FROM parent ORDER BY id)",
        if cols.is_empty() { "id".to_string() } else { format!("id || ',' || {}", cols.join(" || ',' || ")) }
    );
    diesel::sql_query(sql).load::<J>(conn).unwrap().remove(0).j
}

fn seq(conn: &mut SqliteConnection) -> i64 {
    diesel::sql_query(
        "SELECT COALESCE(MAX(seq), 0) AS n FROM sqlite_sequence WHERE name = 'parent'",
    )
    .load::<N>(conn)
    .unwrap()[0]
        .n
}

fn stripped(s: &Schema) -> Schema {
    Schema::from_tables(s.tables.values().map(|t| t.without_rename_hints()))
}

fn cases() -> u32 {
    std::env::var("RETORT_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_evolutions_round_trip_on_sqlite(
        (cols, e) in proptest::collection::vec(col_strategy(), 1..5).prop_flat_map(|c| { let n = c.len(); (Just(c), evolution(n)) }),
        child_cols in proptest::collection::vec(col_strategy(), 0..2),
        seeds in proptest::collection::vec(0u32..100, 1..5),
        deleted in 0usize..3,
    ) {
        let a = schema_a(&cols, &child_cols);
        let (b, kept) = schema_b(&a, &e);
        let graph = Graph::from_revisions([
            file("r1", None, &Schema::new(), &a),
            file("r2", Some("r1"), &a, &b),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rt.db");
        let url = DatabaseUrl::SqliteFile(path.clone());
        let mut runner = Runner::connect(&graph, &url, Options::default()).unwrap();
        runner.upgrade("r1").unwrap();
        let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        // Rows valid in A and B; the last `deleted` are deleted again (the sequence stays up).
        let p = &a.tables["parent"];
        for s in &seeds {
            let names: Vec<String> = p.columns.iter().skip(1).map(|c| format!("\"{}\"", c.name)).collect();
            let values: Vec<String> = p.columns.iter().skip(1).enumerate().map(|(i, c)| value(&c.ty, s + i as u32)).collect();
            conn.batch_execute(&format!("INSERT INTO parent ({}) VALUES ({})", names.join(", "), values.join(", "))).unwrap();
            conn.batch_execute(&format!("INSERT INTO child (parent_id{}) SELECT MAX(id){} FROM parent",
                child_cols.iter().enumerate().map(|(i, _)| format!(", \"d{i}\"")).collect::<String>(),
                a.tables["child"].columns.iter().skip(2).map(|c| format!(", {}", value(&c.ty, *s))).collect::<String>())).unwrap();
        }
        let keep = seeds.len().saturating_sub(deleted).max(1);
        conn.batch_execute(&format!("DELETE FROM child WHERE parent_id > {keep}; DELETE FROM parent WHERE id > {keep}")).unwrap();
        let from_cols: Vec<String> = kept.iter().map(|(_, f)| f.clone()).collect();
        let to_cols: Vec<String> = kept.iter().map(|(t, _)| t.clone()).collect();
        let rows_a = rows(&mut conn, &from_cols);
        let all_a: Vec<String> = p.columns.iter().skip(1).map(|c| c.name.clone()).collect();
        let full_a = rows(&mut conn, &all_a);
        let seq_a = seq(&mut conn);

        runner.upgrade("head").unwrap();
        let live = runner.introspect().unwrap();
        let differences = retort::compare::differences(&stripped(&b), &live, false);
        prop_assert!(differences.is_empty(), "after upgrade: {differences:?}");
        let rows_b = rows(&mut conn, &to_cols);
        // Widened values read the same (integer → bigint, varchar → text, real → double).
        prop_assert_eq!(&rows_b, &rows_a);
        prop_assert!(seq(&mut conn) >= seq_a, "sqlite_sequence lowered");

        runner.downgrade("r1").unwrap();
        let live = runner.introspect().unwrap();
        let differences = retort::compare::differences(&a, &live, false);
        prop_assert!(differences.is_empty(), "after downgrade: {differences:?}");
        prop_assert_eq!(rows(&mut conn, &from_cols), rows_a.clone());
        if kept.len() == all_a.len() {
            prop_assert_eq!(rows(&mut conn, &all_a), full_a);
        }
        prop_assert!(seq(&mut conn) >= seq_a, "sqlite_sequence lowered by the downgrade");

        runner.upgrade("head").unwrap();
        prop_assert_eq!(rows(&mut conn, &to_cols), rows_b);
        // The build now has nothing to write: the replayed head equals B.
        let head = graph.head_schema().unwrap();
        prop_assert!(diff(&head, &stripped(&b)).unwrap().is_empty());
    }
}
