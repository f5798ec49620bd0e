//! The generative round trip: a random schema A and a random evolution B, with random rows
//! valid in both, run on a real SQLite file through the path the build and the runtime use.
//!
//! A has a parent table (a single autoincrement key or a composite key) with columns of
//! every portable type, nullability, defaults with quotes, semicolons and unicode, comments,
//! a unique constraint, an index and a check; a child table referencing the parent's key; a
//! self-referencing table; and two tables referencing each other (a cycle). B drops,
//! renames, swaps, widens, makes nullable, re-defaults and re-comments columns, adds
//! columns, changes the unique, index and check, may rename the parent table, and may drop
//! the cycle. For each pair: the diff becomes the migration file text the build writes, is
//! read back through the grammar the macro and the build share, and runs on a file holding
//! the rows: upgrade → introspected schema equals B, surviving values unchanged,
//! `sqlite_sequence` not lowered → downgrade → equals A, values unchanged → re-upgrade →
//! the build has nothing more to write.
//!
//! `RETORT_PROPTEST_CASES` sets the number of cases (default 100).

mod support;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use proptest::prelude::*;
use retort::schema::diff::diff;
use retort::schema::sql::quote_literal;
use retort::schema::{
    CheckConstraint, Column, ColumnType, ForeignKey, Index, Schema, Table, UniqueConstraint,
};
use retort::{DatabaseUrl, Graph, Options, Runner};
use support::generated_revision;

/// Every portable type and a database-specific one, each with a type it widens to (the
/// same when there is none).
fn types() -> Vec<(ColumnType, ColumnType)> {
    use ColumnType::*;
    let numeric = |p| Numeric {
        precision: Some(p),
        scale: Some(2),
    };
    vec![
        (SmallInt, Integer),
        (Integer, BigInt),
        (BigInt, BigInt),
        (Real, Double),
        (Double, Double),
        (numeric(10), numeric(12)),
        (Boolean, Boolean),
        (Text, Text),
        (Varchar { length: 20 }, Text),
        (Char { length: 5 }, Varchar { length: 10 }),
        (Binary, Binary),
        (Date, Timestamp),
        (Time, Time),
        (Timestamp, TimestampTz),
        (TimestampTz, TimestampTz),
        (Uuid, Uuid),
        (Json, Json),
        (
            Custom {
                sql: "CITEXT".into(),
            },
            Custom {
                sql: "CITEXT".into(),
            },
        ),
    ]
}

const TEXTS: [&str; 6] = ["plain", "it's", "\"q\"", "日本 🦀", "a;b -- c", ""];
const COMMENTS: [&str; 4] = ["a comment", "it's \"quoted\"", "two\nlines", "日本語"];

/// A literal of `ty`, distinct for distinct `seed`s.
fn value(ty: &ColumnType, seed: u32) -> String {
    use ColumnType::*;
    match ty {
        SmallInt => (seed as i64 - 50).to_string(),
        Integer | BigInt => (seed as i64 * 1000 - 7).to_string(),
        Real | Double => format!("{seed}.5"),
        Numeric { .. } => format!("{seed}.25"),
        Boolean => (seed % 2).to_string(),
        Char { .. } => format!("'{:05}'", seed % 100_000),
        Binary => format!("x'{:02x}ff'", seed % 256),
        Date => format!("'2026-01-{:02}'", seed % 28 + 1),
        Time => format!("'10:{:02}:00'", seed % 60),
        Timestamp | TimestampTz => {
            format!("'2026-01-02 03:{:02}:{:02}'", seed / 60 % 60, seed % 60)
        }
        Uuid => format!("'00000000-0000-4000-8000-{seed:012}'"),
        Json => format!("'{{\"k\": {seed}}}'"),
        _ => {
            let base = TEXTS[seed as usize % TEXTS.len()];
            quote_literal(&format!("{base}{seed}"))
        }
    }
}

/// A server default for `ty` (quotes, semicolons and unicode for text).
fn default_for(ty: &ColumnType, pick: usize) -> String {
    use ColumnType::*;
    match ty {
        Text | Varchar { .. } => ["'it''s'", "'日本 🦀'", "'a;b'", "''"][pick % 4].to_string(),
        Char { .. } => "'abcde'".into(),
        Binary => "x'00'".into(),
        Date => "'2026-01-01'".into(),
        Time => "'00:00:00'".into(),
        Timestamp | TimestampTz => "CURRENT_TIMESTAMP".into(),
        Uuid => "'00000000-0000-4000-8000-000000000000'".into(),
        Json => "'{}'".into(),
        _ => "0".into(),
    }
}

#[derive(Debug, Clone)]
struct Col {
    ty: usize,
    nullable: bool,
    default: Option<usize>,
    comment: Option<usize>,
}

fn col_strategy() -> impl Strategy<Value = Col> {
    (
        0..types().len(),
        any::<bool>(),
        proptest::option::of(0..4usize),
        proptest::option::of(0..COMMENTS.len()),
    )
        .prop_map(|(ty, nullable, default, comment)| Col {
            ty,
            nullable,
            default,
            comment,
        })
}

fn column(name: &str, c: &Col) -> Column {
    let mut col = Column::new(name, types()[c.ty].0.clone());
    col.nullable = c.nullable;
    col.server_default = c.default.map(|d| default_for(&col.ty, d));
    col.comment = c.comment.map(|i| COMMENTS[i].to_string());
    col
}

/// What A looks like.
#[derive(Debug, Clone)]
struct Shape {
    composite: bool,
    cols: Vec<Col>,
    child_cols: Vec<Col>,
    unique_first: bool,
    index_second: bool,
    check_first: bool,
    table_comment: Option<usize>,
}

/// How B differs from A.
#[derive(Debug, Clone)]
struct Evolution {
    /// Per parent column: 0 keep, 1 drop, 2 rename, 3 widen, 4 make nullable, 5 change the
    /// default, 6 change the comment.
    edits: Vec<u8>,
    /// Swap the names of the first two surviving columns.
    swap: bool,
    added: Vec<Col>,
    unique_first: bool,
    index_second: bool,
    check_first: bool,
    rename_parent: bool,
    drop_cycle: bool,
    node_label_widened: bool,
    table_comment: Option<usize>,
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        any::<bool>(),
        proptest::collection::vec(col_strategy(), 1..6),
        proptest::collection::vec(col_strategy(), 0..3),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(0..COMMENTS.len()),
    )
        .prop_map(
            |(
                composite,
                cols,
                child_cols,
                unique_first,
                index_second,
                check_first,
                table_comment,
            )| {
                Shape {
                    composite,
                    cols,
                    child_cols,
                    unique_first,
                    index_second,
                    check_first,
                    table_comment,
                }
            },
        )
}

fn evolution(n: usize) -> impl Strategy<Value = Evolution> {
    (
        proptest::collection::vec(0u8..7, n),
        any::<bool>(),
        proptest::collection::vec(col_strategy(), 0..3),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        proptest::option::of(0..COMMENTS.len()),
    )
        .prop_map(
            |(edits, swap, added, (u, i, c), (rename_parent, drop_cycle, widen), table_comment)| {
                Evolution {
                    edits,
                    swap,
                    added,
                    unique_first: u,
                    index_second: i,
                    check_first: c,
                    rename_parent,
                    drop_cycle,
                    node_label_widened: widen,
                    table_comment,
                }
            },
        )
}

fn fk(name: &str, columns: &[&str], referred: &str, referred_columns: &[&str]) -> ForeignKey {
    ForeignKey {
        name: name.into(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        referred_table: referred.into(),
        referred_columns: referred_columns.iter().map(|c| c.to_string()).collect(),
        on_delete: Default::default(),
        on_update: Default::default(),
    }
}

fn autoincrement_id() -> Column {
    let mut id = Column::new("id", ColumnType::Integer);
    id.autoincrement = true;
    id
}

fn key_columns(composite: bool) -> Vec<Column> {
    if composite {
        vec![
            Column::new("ka", ColumnType::Integer),
            Column::new("kb", ColumnType::Varchar { length: 10 }),
        ]
    } else {
        vec![autoincrement_id()]
    }
}

/// The unique constraint, index and check a table gets from its flags, over its first and
/// second non-key columns.
fn constraints(
    t: &mut Table,
    keys: usize,
    unique_first: bool,
    index_second: bool,
    check_first: bool,
) {
    let first = t.columns.get(keys).cloned();
    let second = t.columns.get(keys + 1).cloned();
    t.uniques.clear();
    t.indexes.clear();
    t.checks.clear();
    if let Some(first) = &first {
        if unique_first && first.ty != ColumnType::Boolean {
            t.uniques.push(UniqueConstraint {
                name: format!("uq_{}_{}", t.name, first.name),
                columns: vec![first.name.clone()],
            });
        }
        if check_first {
            t.checks.push(CheckConstraint {
                name: format!("ck_{}_first", t.name),
                expression: format!(
                    "\"{0}\" IS NULL OR length(CAST(\"{0}\" AS TEXT)) >= 0",
                    first.name
                ),
            });
        }
    }
    if let (Some(second), true) = (&second, index_second) {
        t.indexes.push(Index {
            name: format!("ix_{}_{}", t.name, second.name),
            columns: vec![second.name.clone()],
            unique: false,
        });
    }
}

fn schema_a(s: &Shape) -> Schema {
    let keys = key_columns(s.composite);
    let mut p = Table::new("parent");
    p.comment = s.table_comment.map(|i| COMMENTS[i].to_string());
    p.columns = keys.clone();
    p.columns.extend(
        s.cols
            .iter()
            .enumerate()
            .map(|(i, c)| column(&format!("c{i}"), c)),
    );
    p.primary_key = keys.iter().map(|c| c.name.clone()).collect();
    constraints(
        &mut p,
        keys.len(),
        s.unique_first,
        s.index_second,
        s.check_first,
    );

    let mut c = Table::new("child");
    c.columns.push(autoincrement_id());
    c.primary_key = vec!["id".into()];
    if s.composite {
        c.columns.push(Column::new("pa", ColumnType::Integer));
        c.columns
            .push(Column::new("pb", ColumnType::Varchar { length: 10 }));
        c.foreign_keys.push(fk(
            "fk_child_parent",
            &["pa", "pb"],
            "parent",
            &["ka", "kb"],
        ));
    } else {
        c.columns
            .push(Column::new("parent_id", ColumnType::Integer));
        c.foreign_keys
            .push(fk("fk_child_parent", &["parent_id"], "parent", &["id"]));
    }
    c.columns.extend(
        s.child_cols
            .iter()
            .enumerate()
            .map(|(i, col)| column(&format!("d{i}"), col)),
    );

    let mut node = Table::new("node");
    node.columns = vec![
        autoincrement_id(),
        Column::new("up_id", ColumnType::Integer),
        Column::new("label", ColumnType::Varchar { length: 20 }),
    ];
    node.columns[1].nullable = true;
    node.primary_key = vec!["id".into()];
    node.foreign_keys
        .push(fk("fk_node_up", &["up_id"], "node", &["id"]));

    let mut x = Table::new("x");
    let mut y = Table::new("y");
    for (t, other) in [(&mut x, "y"), (&mut y, "x")] {
        let mut r = Column::new(format!("{other}_id"), ColumnType::Integer);
        r.nullable = true;
        t.columns = vec![autoincrement_id(), r];
        t.primary_key = vec!["id".into()];
        t.foreign_keys.push(fk(
            &format!("fk_{}_{other}", t.name),
            &[&format!("{other}_id")],
            other,
            &["id"],
        ));
    }
    let mut a = Schema::from_tables([p, c, node, x, y]);
    a.normalize();
    a
}

/// B from A, and for the parent: its name in B, and each surviving column's (B name, A name).
fn schema_b(a: &Schema, s: &Shape, e: &Evolution) -> (Schema, String, Vec<(String, String)>) {
    let keys = key_columns(s.composite).len();
    let mut p = a.tables["parent"].clone();
    let mut surviving: Vec<(Column, String)> = Vec::new();
    for (i, c) in p.columns.iter().skip(keys).enumerate() {
        let mut c = c.clone();
        let from = c.name.clone();
        let mut edit = e.edits.get(i).copied().unwrap_or(0);
        // A dropped NOT NULL column without a default cannot come back over rows (the
        // downgrade is warned about at build time): drop only what can be re-added.
        // Nor a column under a unique constraint: re-added, its rows all hold one value.
        let unique_in_a = i == 0 && s.unique_first && c.ty != ColumnType::Boolean;
        if edit == 1 && ((!c.nullable && c.server_default.is_none()) || unique_in_a) {
            edit = 4;
        }
        match edit {
            1 => continue,
            2 => {
                c.name = format!("r{i}");
                c.renamed_from = Some(from.clone());
            }
            3 => {
                let (_, wider) = types().into_iter().find(|(t, _)| *t == c.ty).unwrap();
                // The default must still be a value of the wider type.
                c.ty = wider;
            }
            4 => c.nullable = true,
            5 => {
                c.server_default = match c.server_default {
                    Some(_) => None,
                    None => Some(default_for(&c.ty, i)),
                }
            }
            6 => {
                c.comment = match c.comment {
                    Some(_) => None,
                    None => Some(COMMENTS[i % COMMENTS.len()].to_string()),
                }
            }
            _ => {}
        }
        surviving.push((c, from));
    }
    if e.swap && surviving.len() >= 2 {
        let names = (surviving[0].0.name.clone(), surviving[1].0.name.clone());
        let froms = (surviving[0].1.clone(), surviving[1].1.clone());
        surviving[0].0.name = names.1;
        surviving[0].0.renamed_from = Some(froms.0);
        surviving[1].0.name = names.0;
        surviving[1].0.renamed_from = Some(froms.1);
    }
    let kept: Vec<(String, String)> = surviving
        .iter()
        .map(|(c, from)| (c.name.clone(), from.clone()))
        .collect();
    p.columns.truncate(keys);
    p.columns.extend(surviving.into_iter().map(|(c, _)| c));
    for (i, c) in e.added.iter().enumerate() {
        let mut col = column(&format!("n{i}"), c);
        // A column added to a table with rows needs NULL or a default.
        if !col.nullable && col.server_default.is_none() {
            col.nullable = true;
        }
        p.columns.push(col);
    }
    p.comment = e.table_comment.map(|i| COMMENTS[i].to_string());
    let parent_name = if e.rename_parent {
        "parent_renamed"
    } else {
        "parent"
    };
    if e.rename_parent {
        p.name = parent_name.into();
        p.renamed_from = Some("parent".into());
    }
    // A unique constraint only over values the rows already hold (a column of A): an added
    // column holds its default in every row.
    let unique = e.unique_first && !kept.is_empty();
    constraints(&mut p, keys, unique, e.index_second, e.check_first);

    let mut b = a.clone();
    b.tables.remove("parent");
    b.tables.get_mut("child").unwrap().foreign_keys[0].referred_table = parent_name.into();
    b.tables.insert(parent_name.into(), p);
    if e.node_label_widened {
        b.tables.get_mut("node").unwrap().columns[2].ty = ColumnType::Text;
    }
    if e.drop_cycle {
        b.tables.remove("x");
        b.tables.remove("y");
    }
    b.normalize();
    (b, parent_name.to_string(), kept)
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

/// The rows of `table` ordered by `key`, restricted to `columns`, as text.
fn rows(conn: &mut SqliteConnection, table: &str, key: &[&str], columns: &[String]) -> String {
    let mut cols: Vec<String> = key.iter().map(|c| format!("quote(\"{c}\")")).collect();
    cols.extend(columns.iter().map(|c| format!("quote(\"{c}\")")));
    let order: Vec<String> = key.iter().map(|c| format!("\"{c}\"")).collect();
    let sql = format!(
        "SELECT COALESCE(group_concat(r, '|'), '') AS j FROM (SELECT {} AS r FROM \"{table}\" ORDER BY {})",
        cols.join(" || ',' || "),
        order.join(", ")
    );
    diesel::sql_query(sql).load::<J>(conn).unwrap().remove(0).j
}

fn seq(conn: &mut SqliteConnection) -> i64 {
    diesel::sql_query(
        "SELECT COALESCE(MAX(seq), 0) AS n FROM sqlite_sequence WHERE name LIKE 'parent%'",
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

/// Rows valid in A and B: `n` parents (distinct values), a child per parent, a chain of
/// nodes, and the x ↔ y cycle closed by an update.
fn insert_rows(conn: &mut SqliteConnection, a: &Schema, s: &Shape, n: u32, offset: u32) {
    let p = &a.tables["parent"];
    let keys = key_columns(s.composite).len();
    for r in 0..n {
        let seed = offset + r * 13;
        let mut names: Vec<String> = Vec::new();
        let mut values: Vec<String> = Vec::new();
        if s.composite {
            names.extend(["\"ka\"".to_string(), "\"kb\"".to_string()]);
            values.extend([r.to_string(), quote_literal(&format!("k'{r}"))]);
        }
        for (i, c) in p.columns.iter().skip(keys).enumerate() {
            names.push(format!("\"{}\"", c.name));
            values.push(value(&c.ty, seed + i as u32));
        }
        conn.batch_execute(&format!(
            "INSERT INTO parent ({}) VALUES ({})",
            names.join(", "),
            values.join(", ")
        ))
        .unwrap();
        let child = &a.tables["child"];
        let extra: Vec<&Column> = child
            .columns
            .iter()
            .filter(|c| c.name.starts_with('d'))
            .collect();
        let refs = if s.composite {
            format!(
                "pa, pb{}",
                extra
                    .iter()
                    .map(|c| format!(", \"{}\"", c.name))
                    .collect::<String>()
            )
        } else {
            format!(
                "parent_id{}",
                extra
                    .iter()
                    .map(|c| format!(", \"{}\"", c.name))
                    .collect::<String>()
            )
        };
        let parent_key = if s.composite {
            format!("{r}, {}", quote_literal(&format!("k'{r}")))
        } else {
            "(SELECT MAX(id) FROM parent)".to_string()
        };
        let extra_values: String = extra
            .iter()
            .map(|c| format!(", {}", value(&c.ty, seed)))
            .collect();
        conn.batch_execute(&format!(
            "INSERT INTO child ({refs}) SELECT {parent_key}{extra_values}"
        ))
        .unwrap();
        conn.batch_execute(&format!(
            "INSERT INTO node (up_id, label) VALUES ((SELECT MAX(id) FROM node), {})",
            quote_literal(&format!("node {r} it's"))
        ))
        .unwrap();
    }
    conn.batch_execute(
        "INSERT INTO x (y_id) VALUES (NULL); INSERT INTO y (x_id) SELECT MAX(id) FROM x; UPDATE x SET y_id = (SELECT MAX(id) FROM y)",
    )
    .unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_evolutions_round_trip_on_sqlite(
        (s, e) in shape().prop_flat_map(|s| { let n = s.cols.len(); (Just(s), evolution(n)) }),
        count in 1u32..5,
        offset in 0u32..1000,
        deleted in 0u32..3,
    ) {
        let a = schema_a(&s);
        let (b, parent_b, kept) = schema_b(&a, &s, &e);
        let graph = Graph::from_revisions([
            generated_revision("r1", None, &Schema::new(), &a),
            generated_revision("r2", Some("r1"), &a, &b),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rt.db");
        let url = DatabaseUrl::SqliteFile(path.clone());
        let mut runner = Runner::connect(&graph, &url, Options::default()).unwrap();
        runner.upgrade("r1").unwrap();
        let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        insert_rows(&mut conn, &a, &s, count, offset);
        // Delete the last parents again (children first): the sequence stays where it was.
        if !s.composite {
            let keep = count.saturating_sub(deleted).max(1);
            conn.batch_execute(&format!(
                "DELETE FROM child WHERE parent_id > {keep}; DELETE FROM parent WHERE id > {keep}"
            ))
            .unwrap();
        }
        let key: Vec<&str> = if s.composite { vec!["ka", "kb"] } else { vec!["id"] };
        let from_cols: Vec<String> = kept.iter().map(|(_, f)| f.clone()).collect();
        let to_cols: Vec<String> = kept.iter().map(|(t, _)| t.clone()).collect();
        let all_a: Vec<String> = a.tables["parent"].columns.iter().skip(key.len()).map(|c| c.name.clone()).collect();
        let parent_a = rows(&mut conn, "parent", &key, &from_cols);
        let parent_full = rows(&mut conn, "parent", &key, &all_a);
        let child_cols: Vec<String> = a.tables["child"].columns.iter().skip(1).map(|c| c.name.clone()).collect();
        let child_a = rows(&mut conn, "child", &["id"], &child_cols);
        let node_cols = vec!["up_id".to_string(), "label".to_string()];
        let node_a = rows(&mut conn, "node", &["id"], &node_cols);
        let seq_a = seq(&mut conn);

        runner.upgrade("head").unwrap();
        let live = runner.introspect().unwrap();
        let differences = retort::compare::differences(&stripped(&b), &live, false);
        prop_assert!(differences.is_empty(), "after upgrade: {differences:?}");
        prop_assert_eq!(live.tables.len(), b.tables.len());
        // Widened values read the same; renamed and swapped columns carry their values.
        let parent_b_rows = rows(&mut conn, &parent_b, &key, &to_cols);
        prop_assert_eq!(&parent_b_rows, &parent_a);
        prop_assert_eq!(&rows(&mut conn, "child", &["id"], &child_cols), &child_a);
        prop_assert_eq!(&rows(&mut conn, "node", &["id"], &node_cols), &node_a);
        prop_assert!(seq(&mut conn) >= seq_a, "sqlite_sequence lowered");

        runner.downgrade("r1").unwrap();
        let live = runner.introspect().unwrap();
        let differences = retort::compare::differences(&a, &live, false);
        prop_assert!(differences.is_empty(), "after downgrade: {differences:?}");
        prop_assert_eq!(live.tables.len(), a.tables.len());
        prop_assert_eq!(&rows(&mut conn, "parent", &key, &from_cols), &parent_a);
        if kept.len() == all_a.len() {
            prop_assert_eq!(&rows(&mut conn, "parent", &key, &all_a), &parent_full);
        }
        prop_assert_eq!(&rows(&mut conn, "child", &["id"], &child_cols), &child_a);
        prop_assert_eq!(&rows(&mut conn, "node", &["id"], &node_cols), &node_a);
        prop_assert!(seq(&mut conn) >= seq_a, "sqlite_sequence lowered by the downgrade");

        runner.upgrade("head").unwrap();
        prop_assert_eq!(&rows(&mut conn, &parent_b, &key, &to_cols), &parent_b_rows);
        // The build now has nothing to write: the replayed head equals B.
        let head = graph.head_schema().unwrap();
        let rest = diff(&head, &stripped(&b)).unwrap();
        prop_assert!(rest.is_empty(), "{:?}", rest.up);
    }
}
