//! The generative round trip: a random schema A and a random evolution B, with random rows
//! valid in both, run on a real SQLite file through the path the build and the runtime use.
//!
//! A has a parent table (a single autoincrement key or a composite key) with columns of
//! every portable type, nullability, defaults with quotes, semicolons and unicode, comments,
//! a unique constraint, an index and a check; a child table referencing the parent's key
//! (its columns maybe indexed, which MySQL then uses for the key); a self-referencing table;
//! and two tables referencing each other (a cycle). B drops, renames, swaps, widens (not
//! dates and timestamps, whose text changes when they widen: `runtime/tests/conversions.rs`
//! covers those), makes nullable, re-defaults and re-comments columns, adds columns,
//! changes the unique, index and check, may rename the parent table, may drop the cycle,
//! may drop, make unique, widen or replace the index on the child's key columns, may widen
//! the parent's key together with the child's reference to it, and may have a view read a
//! column it widens (created before B by an `execute`). For each pair: the diff becomes the migration file text the build writes, is
//! read back through the grammar the macro and the build share, and runs on a file holding
//! the rows: upgrade → introspected schema equals B, surviving values unchanged,
//! `sqlite_sequence` not lowered, the view reading every row → downgrade → equals A, values
//! unchanged, the view still there → re-upgrade → the build has nothing more to write.
//!
//! The same generator runs on PostgreSQL and MariaDB (servers from `scripts/test-dbs.sh`; a
//! fresh database per case), with the catalogue adjusted where a type means something else
//! there (no CITEXT; on MySQL, no index or unique over unbounded text, and varchar widens
//! to a longer varchar) and values spelled for the dialect. Introspection is compared after the
//! dialect's normalisation, and comments are compared where the database stores them.
//!
//! `RETORT_PROPTEST_CASES` sets the number of cases (default 100) on SQLite;
//! `RETORT_SERVER_PROPTEST_CASES` on each server (default 100).

#[path = "../runtime/tests/support/mod.rs"]
mod runtime_support;
mod support;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use proptest::prelude::*;
use retort::backend::{connect, Backend};
use retort::schema::diff::diff;
use retort::schema::ops::DialectSql;
use retort::schema::sql::{literal, quote_ident, Dialect};
use retort::schema::{
    CheckConstraint, Column, ColumnType, DbObject, ForeignKey, Index, IndexKey, ObjectKind, Schema,
    Table, UniqueConstraint,
};
use retort::{Graph, Options, Runner};
use runtime_support::TestDb;
use support::generated_revision;

/// Every portable type and a database-specific one, each with a type it widens to (the
/// same when there is none). On a server, an entry whose meaning differs there is swapped
/// for one that holds (the list keeps its length: generated cases index into it).
fn types_for(d: Dialect) -> Vec<(ColumnType, ColumnType)> {
    use ColumnType::*;
    let mut all = types();
    for (from, to) in &mut all {
        // A date widened to a timestamp gains its midnight, and a timestamp widened to an
        // instant its zone: the text of the value changes (the conversion matrix's own test,
        // runtime/tests/conversions.rs, covers these).
        if matches!(from, Date | Timestamp) {
            *to = from.clone();
        }
    }
    if d != Dialect::Sqlite {
        for (from, to) in &mut all {
            match from {
                // CITEXT is an extension on PostgreSQL and unknown to MySQL.
                Custom { .. } => (*from, *to) = (Text, Text),
                Varchar { length } if d == Dialect::Mysql => {
                    *to = Varchar {
                        length: *length * 10,
                    }
                }
                _ => {}
            }
        }
    }
    all
}

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
fn value(ty: &ColumnType, seed: u32, d: Dialect) -> String {
    use ColumnType::*;
    match (ty, d) {
        (Boolean, Dialect::Postgres | Dialect::Mysql) => {
            return ["FALSE", "TRUE"][seed as usize % 2].into()
        }
        (Binary, Dialect::Postgres) => return format!("decode('{:02x}ff', 'hex')", seed % 256),
        _ => {}
    }
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
            literal(&format!("{base}{seed}"), d)
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

/// A server default for `ty` as the dialect spells it, if it has one: bytes are `x'00'` to
/// SQLite, `'\x00'` to PostgreSQL (`x'00'` is a bit string there), and get none on MySQL
/// (whose metadata prints them in a form of its own).
fn default_in(ty: &ColumnType, pick: usize, d: Dialect) -> Option<String> {
    match (ty, d) {
        (ColumnType::Binary, Dialect::Postgres) => Some(r"'\x00'".into()),
        (ColumnType::Binary, Dialect::Mysql) => None,
        _ => Some(default_for(ty, pick)),
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

fn column(name: &str, c: &Col, d: Dialect) -> Column {
    let mut col = Column::new(name, types_for(d)[c.ty].0.clone());
    col.nullable = c.nullable;
    col.server_default = c.default.and_then(|p| default_in(&col.ty, p, d));
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
    /// 0: no index on the second column; else one of the forms the backend has (see
    /// `index_form`).
    index_second: u8,
    check_first: bool,
    table_comment: Option<usize>,
    /// The child's foreign key columns have an index of their own (which MySQL then uses
    /// for the key).
    child_fk_index: bool,
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
    index_second: u8,
    check_first: bool,
    rename_parent: bool,
    drop_cycle: bool,
    node_label_widened: bool,
    table_comment: Option<usize>,
    /// What becomes of the index on the child's foreign key columns: 0 kept, 1 dropped, 2
    /// made unique, 3 widened with `id`, 4 replaced by an index of another column.
    fk_index_change: u8,
    /// The parent's key (its integer part) and the child's reference to it become bigint.
    widen_key: bool,
    /// A view reads a parent column whose type B widens (when one is widened and neither
    /// the table nor the column is renamed).
    view: bool,
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        any::<bool>(),
        proptest::collection::vec(col_strategy(), 1..6),
        proptest::collection::vec(col_strategy(), 0..3),
        any::<bool>(),
        0u8..7,
        any::<bool>(),
        proptest::option::of(0..COMMENTS.len()),
        any::<bool>(),
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
                child_fk_index,
            )| {
                Shape {
                    composite,
                    cols,
                    child_cols,
                    unique_first,
                    index_second,
                    check_first,
                    table_comment,
                    child_fk_index,
                }
            },
        )
}

fn evolution(n: usize) -> impl Strategy<Value = Evolution> {
    (
        proptest::collection::vec(0u8..7, n),
        any::<bool>(),
        proptest::collection::vec(col_strategy(), 0..3),
        (any::<bool>(), 0u8..7, any::<bool>()),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        proptest::option::of(0..COMMENTS.len()),
        (0u8..5, any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(
                edits,
                swap,
                added,
                (u, i, c),
                (rename_parent, drop_cycle, widen),
                table_comment,
                (fk_index_change, widen_key, view),
            )| {
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
                    fk_index_change,
                    widen_key,
                    view,
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
        not_valid: false,
        deferral: Default::default(),
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
    index_second: u8,
    check_first: bool,
    d: Dialect,
) {
    // MySQL cannot index unbounded text, bytes or JSON (retort refuses; see mysql.rs).
    let indexable = |c: &Column| {
        d != Dialect::Mysql
            || !matches!(
                c.ty,
                ColumnType::Text | ColumnType::Binary | ColumnType::Json
            )
    };
    let first = t.columns.get(keys).cloned();
    let second = t.columns.get(keys + 1).cloned();
    t.uniques.clear();
    t.indexes.clear();
    t.checks.clear();
    if let Some(first) = &first {
        if unique_first && first.ty != ColumnType::Boolean && indexable(first) {
            t.uniques.push(UniqueConstraint::new(
                format!("uq_{}_{}", t.name, first.name),
                [first.name.clone()],
            ));
        }
        if check_first {
            // A server prints a check back in its own way; one comparison reads back the same.
            let expression = match d {
                Dialect::Sqlite => format!(
                    "\"{0}\" IS NULL OR length(CAST(\"{0}\" AS TEXT)) >= 0",
                    first.name
                ),
                _ => format!("{0} = {0}", first.name),
            };
            t.checks.push(CheckConstraint {
                name: format!("ck_{}_first", t.name),
                expression,
                not_valid: false,
            });
        }
    }
    if let (Some(second), true) = (
        &second,
        index_second > 0 && second.as_ref().is_some_and(indexable),
    ) {
        let mut index = Index::on_columns(
            format!("ix_{}_{}", t.name, second.name),
            [second.name.clone()],
            false,
        );
        index_form(&mut index, index_second, &t.columns[0].name, d);
        t.indexes.push(index);
    }
}

/// Gives an index over one column the `form`-th shape the backend has: plain, descending,
/// partial (not MySQL), and on PostgreSQL also with an INCLUDE column or NULLS FIRST.
fn index_form(index: &mut Index, form: u8, key_column: &str, d: Dialect) {
    let forms: u8 = match d {
        Dialect::Mysql => 2,
        Dialect::Sqlite => 3,
        Dialect::Postgres => 5,
    };
    let column = index.keys[0].target.clone();
    match (form - 1) % forms {
        0 => {}
        1 => index.keys[0].descending = true,
        2 => index.predicate = Some(format!("{} IS NOT NULL", quote_ident(&column, d))),
        3 => index.include = vec![key_column.to_string()],
        _ => index.keys[0].nulls = Some(retort::schema::NullsOrder::First),
    }
}

fn schema_a(s: &Shape, d: Dialect) -> Schema {
    let keys = key_columns(s.composite);
    let mut p = Table::new("parent");
    p.comment = s.table_comment.map(|i| COMMENTS[i].to_string());
    p.columns = keys.clone();
    p.columns.extend(
        s.cols
            .iter()
            .enumerate()
            .map(|(i, c)| column(&format!("c{i}"), c, d)),
    );
    p.primary_key = keys.iter().map(|c| c.name.clone()).collect();
    constraints(
        &mut p,
        keys.len(),
        s.unique_first,
        s.index_second,
        s.check_first,
        d,
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
            .map(|(i, col)| column(&format!("d{i}"), col, d)),
    );
    if s.child_fk_index {
        c.indexes.push(Index::on_columns(
            "ix_child_parent",
            c.foreign_keys[0].columns.clone(),
            false,
        ));
    }

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
fn schema_b(
    a: &Schema,
    s: &Shape,
    e: &Evolution,
    d: Dialect,
) -> (Schema, String, Vec<(String, String)>, Option<String>) {
    let keys = key_columns(s.composite).len();
    let mut p = a.tables["parent"].clone();
    let mut surviving: Vec<(Column, String)> = Vec::new();
    // With a view, a column it can read widens (unless the table is renamed: MySQL's views
    // do not follow a rename).
    let widens = |ty: &ColumnType| {
        types_for(d)
            .into_iter()
            .any(|(from, to)| from == *ty && to != *ty)
    };
    let force_widen = (e.view && !e.rename_parent)
        .then(|| p.columns.iter().skip(keys).position(|c| widens(&c.ty)))
        .flatten();
    for (i, c) in p.columns.iter().skip(keys).enumerate() {
        let mut c = c.clone();
        let from = c.name.clone();
        let mut edit = e.edits.get(i).copied().unwrap_or(0);
        if force_widen == Some(i) {
            edit = 3;
        }
        // A dropped NOT NULL column without a default cannot come back over rows (the
        // downgrade is warned about at build time): drop only what can be re-added.
        // Nor a column under a unique constraint: re-added, its rows all hold one value.
        let unique_in_a = a.tables["parent"]
            .uniques
            .iter()
            .any(|u| u.columns == [c.name.clone()]);
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
                let (_, wider) = types_for(d).into_iter().find(|(t, _)| *t == c.ty).unwrap();
                // The default must still be a value of the wider type.
                c.ty = wider;
            }
            4 => c.nullable = true,
            5 => {
                c.server_default = match c.server_default {
                    Some(_) => None,
                    None => default_in(&c.ty, i, d),
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
    // The column a view reads: one whose type widens, neither it nor the table renamed.
    let viewed = surviving
        .iter()
        .find(|(c, from)| {
            c.renamed_from.is_none()
                && a.tables["parent"]
                    .column(from)
                    .is_some_and(|old| old.ty != c.ty)
        })
        .map(|(c, _)| c.name.clone())
        .filter(|_| e.view && !e.rename_parent);
    p.columns.truncate(keys);
    p.columns.extend(surviving.into_iter().map(|(c, _)| c));
    for (i, c) in e.added.iter().enumerate() {
        let mut col = column(&format!("n{i}"), c, d);
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
    constraints(&mut p, keys, unique, e.index_second, e.check_first, d);

    let mut b = a.clone();
    b.tables.remove("parent");
    let child = b.tables.get_mut("child").unwrap();
    child.foreign_keys[0].referred_table = parent_name.into();
    if let Some(ix) = child
        .indexes
        .iter()
        .position(|i| i.name == "ix_child_parent")
    {
        let fk_columns = child.foreign_keys[0].columns.clone();
        match e.fk_index_change {
            1 => {
                child.indexes.remove(ix);
            }
            2 => child.indexes[ix].unique = true,
            3 => {
                child.indexes[ix].name = "ix_child_parent_id".into();
                child.indexes[ix].keys = [fk_columns, vec!["id".to_string()]]
                    .concat()
                    .into_iter()
                    .map(IndexKey::column)
                    .collect();
            }
            4 => {
                child.indexes[ix].name = "ix_child_id".into();
                child.indexes[ix].keys = vec![IndexKey::column("id")];
            }
            _ => {}
        }
    }
    if e.widen_key {
        // The key's integer part and the reference to it, together (MySQL joins one type).
        let (key, reference) = if s.composite {
            ("ka", "pa")
        } else {
            ("id", "parent_id")
        };
        p.columns.iter_mut().find(|c| c.name == key).unwrap().ty = ColumnType::BigInt;
        child
            .columns
            .iter_mut()
            .find(|c| c.name == reference)
            .unwrap()
            .ty = ColumnType::BigInt;
    }
    b.tables.insert(parent_name.into(), p);
    if e.node_label_widened {
        b.tables.get_mut("node").unwrap().columns[2].ty = types_for(d)
            .into_iter()
            .find(|(t, _)| *t == ColumnType::Varchar { length: 20 })
            .map(|(_, wider)| wider)
            .unwrap();
    }
    if e.drop_cycle {
        b.tables.remove("x");
        b.tables.remove("y");
    }
    b.normalize();
    (b, parent_name.to_string(), kept, viewed)
}

#[derive(QueryableByName)]
struct J {
    #[diesel(sql_type = Text)]
    j: String,
}

/// The rows of `table` ordered by `key`, restricted to `columns`, as text (types from
/// `schema`, for the dialect's spelling of a value as text).
fn rows(
    db: &mut dyn Backend,
    schema: &Schema,
    table: &str,
    key: &[&str],
    columns: &[String],
) -> String {
    let d = db.dialect();
    let t = &schema.tables[table];
    let text = |c: &str| {
        let q = quote_ident(c, d);
        let ty = t.column(c).map(|c| c.ty.clone());
        match d {
            Dialect::Sqlite => format!("quote({q})"),
            Dialect::Postgres => format!("COALESCE(CAST({q} AS TEXT), 'NULL')"),
            Dialect::Mysql if ty == Some(ColumnType::Binary) => {
                format!("COALESCE(HEX({q}), 'NULL')")
            }
            Dialect::Mysql => format!("COALESCE(CAST({q} AS CHAR), 'NULL')"),
        }
    };
    let mut cols: Vec<String> = key.iter().map(|c| text(c)).collect();
    cols.extend(columns.iter().map(|c| text(c)));
    let order: Vec<String> = key.iter().map(|c| quote_ident(c, d)).collect();
    let row = match d {
        Dialect::Sqlite => cols.join(" || ',' || "),
        _ => format!("CONCAT({})", cols.join(", ',', ")),
    };
    let sql = format!(
        "SELECT {row} AS j FROM {} ORDER BY {}",
        quote_ident(table, d),
        order.join(", ")
    );
    let rows: Vec<J> = diesel::sql_query(&sql)
        .load(db.connection())
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.into_iter().map(|r| r.j).collect::<Vec<_>>().join("|")
}

/// How many rows a table or view holds.
fn count_of(db: &mut dyn Backend, relation: &str) -> String {
    let text = match db.dialect() {
        Dialect::Mysql => "CHAR",
        _ => "TEXT",
    };
    let sql = format!("SELECT CAST(COUNT(*) AS {text}) AS j FROM {relation}");
    let rows: Vec<J> = diesel::sql_query(&sql)
        .load(db.connection())
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows[0].j.clone()
}

/// SQLite's AUTOINCREMENT high-water mark of the parent table.
fn seq(db: &mut dyn Backend) -> i64 {
    let rows: Vec<J> = diesel::sql_query(
        "SELECT CAST(COALESCE(MAX(seq), 0) AS TEXT) AS j FROM sqlite_sequence WHERE name LIKE 'parent%'",
    )
    .load(db.connection())
    .unwrap();
    rows[0].j.parse().unwrap()
}

fn stripped(s: &Schema) -> Schema {
    Schema::from_tables(s.tables.values().map(|t| t.without_rename_hints()))
}

fn cases(var: &str) -> u32 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

/// Rows valid in A and B: `n` parents (distinct values), a child per parent, a chain of
/// nodes, and the x ↔ y cycle closed by an update.
fn insert_rows(db: &mut dyn Backend, a: &Schema, s: &Shape, n: u32, offset: u32) {
    let d = db.dialect();
    let q = |name: &str| quote_ident(name, d);
    let mut run = |sql: String| {
        db.connection()
            .batch_execute(&sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    };
    let p = &a.tables["parent"];
    let keys = key_columns(s.composite).len();
    for r in 0..n {
        let seed = offset + r * 13;
        let mut names: Vec<String> = Vec::new();
        let mut values: Vec<String> = Vec::new();
        if s.composite {
            names.extend([q("ka"), q("kb")]);
            values.extend([r.to_string(), literal(&format!("k'{r}"), d)]);
        }
        for (i, c) in p.columns.iter().skip(keys).enumerate() {
            names.push(q(&c.name));
            values.push(value(&c.ty, seed + i as u32, d));
        }
        run(format!(
            "INSERT INTO parent ({}) VALUES ({})",
            names.join(", "),
            values.join(", ")
        ));
        let child = &a.tables["child"];
        let extra: Vec<&Column> = child
            .columns
            .iter()
            .filter(|c| c.name.starts_with('d'))
            .collect();
        let extra_names: String = extra.iter().map(|c| format!(", {}", q(&c.name))).collect();
        let refs = if s.composite {
            format!("pa, pb{extra_names}")
        } else {
            format!("parent_id{extra_names}")
        };
        let parent_key = if s.composite {
            format!("{r}, {}", literal(&format!("k'{r}"), d))
        } else {
            "(SELECT MAX(id) FROM parent)".to_string()
        };
        let extra_values: String = extra
            .iter()
            .map(|c| format!(", {}", value(&c.ty, seed, d)))
            .collect();
        run(format!(
            "INSERT INTO child ({refs}) SELECT {parent_key}{extra_values}"
        ));
        // INSERT … SELECT from the same table: MySQL refuses a subquery on it in VALUES.
        run(format!(
            "INSERT INTO node (up_id, label) SELECT MAX(id), {} FROM node",
            literal(&format!("node {r} it's"), d)
        ));
    }
    run("INSERT INTO x (y_id) VALUES (NULL)".into());
    run("INSERT INTO y (x_id) SELECT MAX(id) FROM x".into());
    run("UPDATE x SET y_id = (SELECT MAX(id) FROM y)".into());
}

/// One case on one backend.
fn round_trip(
    case: &TestDb,
    s: &Shape,
    e: &Evolution,
    count: u32,
    offset: u32,
    deleted: u32,
) -> Result<(), TestCaseError> {
    let d = case.dialect;
    let a = schema_a(s, d);
    let (b, parent_b, kept, viewed) = schema_b(&a, s, e, d);
    // A view over the parent that reads a column whose type changes (PostgreSQL refuses the
    // change under it; SQLite's rebuild must keep it).
    let key: Vec<&str> = if s.composite {
        vec!["ka", "kb"]
    } else {
        vec!["id"]
    };
    // Declared as an object, so the models (and `check`) know it.
    let view = viewed.as_ref().map(|column| {
        let cols: Vec<String> = key
            .iter()
            .chain(std::iter::once(&column.as_str()))
            .map(|c| quote_ident(c, d))
            .collect();
        DbObject {
            kind: ObjectKind::View,
            name: "parent_view".into(),
            table: None,
            sql: DialectSql::All(format!(
                "CREATE VIEW parent_view AS SELECT {} FROM parent",
                cols.join(", ")
            )),
        }
    });
    let with_view = |s: &Schema| {
        let mut s = s.clone();
        if let Some(v) = &view {
            s.objects.insert(v.key(), v.clone());
        }
        s
    };
    let graph = Graph::from_revisions([
        generated_revision("r1", None, &Schema::new(), &a),
        generated_revision("r1v", Some("r1"), &a, &with_view(&a)),
        generated_revision("r2", Some("r1v"), &with_view(&a), &with_view(&b)),
    ]);
    let mut runner = Runner::connect(&graph, &case.url, Options::default()).unwrap();
    runner.upgrade("r1").unwrap();
    let mut conn = connect(&case.url).unwrap();
    let db = conn.as_mut();
    insert_rows(db, &a, s, count, offset);
    // Delete the last parents again (children first): the sequence stays where it was.
    if !s.composite {
        let keep = count.saturating_sub(deleted).max(1);
        db.connection()
            .batch_execute(&format!("DELETE FROM child WHERE parent_id > {keep}"))
            .unwrap();
        db.connection()
            .batch_execute(&format!("DELETE FROM parent WHERE id > {keep}"))
            .unwrap();
    }
    let sqlite = d == Dialect::Sqlite;
    let from_cols: Vec<String> = kept.iter().map(|(_, f)| f.clone()).collect();
    let to_cols: Vec<String> = kept.iter().map(|(t, _)| t.clone()).collect();
    let all_a: Vec<String> = a.tables["parent"]
        .columns
        .iter()
        .skip(key.len())
        .map(|c| c.name.clone())
        .collect();
    let parent_a = rows(db, &a, "parent", &key, &from_cols);
    let parent_full = rows(db, &a, "parent", &key, &all_a);
    let child_cols: Vec<String> = a.tables["child"]
        .columns
        .iter()
        .skip(1)
        .map(|c| c.name.clone())
        .collect();
    let child_a = rows(db, &a, "child", &["id"], &child_cols);
    let node_cols = vec!["up_id".to_string(), "label".to_string()];
    let node_a = rows(db, &a, "node", &["id"], &node_cols);
    let seq_a = if sqlite { seq(db) } else { 0 };

    runner.upgrade("head").unwrap();
    let differences = runner.differences(&with_view(&stripped(&b))).unwrap();
    prop_assert!(differences.is_empty(), "after upgrade: {differences:?}");
    if viewed.is_some() {
        prop_assert_eq!(count_of(db, "parent_view"), count_of(db, "parent"));
    }
    prop_assert_eq!(runner.introspect().unwrap().tables.len(), b.tables.len());
    // Widened values read the same; renamed and swapped columns carry their values.
    let parent_b_rows = rows(db, &b, &parent_b, &key, &to_cols);
    prop_assert_eq!(&parent_b_rows, &parent_a);
    prop_assert_eq!(&rows(db, &b, "child", &["id"], &child_cols), &child_a);
    prop_assert_eq!(&rows(db, &b, "node", &["id"], &node_cols), &node_a);
    if sqlite {
        prop_assert!(seq(db) >= seq_a, "sqlite_sequence lowered");
    }

    runner.downgrade("r1v").unwrap();
    let differences = runner.differences(&with_view(&a)).unwrap();
    prop_assert!(differences.is_empty(), "after downgrade: {differences:?}");
    if viewed.is_some() {
        prop_assert_eq!(count_of(db, "parent_view"), count_of(db, "parent"));
    }
    prop_assert_eq!(runner.introspect().unwrap().tables.len(), a.tables.len());
    prop_assert_eq!(&rows(db, &a, "parent", &key, &from_cols), &parent_a);
    if kept.len() == all_a.len() {
        prop_assert_eq!(&rows(db, &a, "parent", &key, &all_a), &parent_full);
    }
    prop_assert_eq!(&rows(db, &a, "child", &["id"], &child_cols), &child_a);
    prop_assert_eq!(&rows(db, &a, "node", &["id"], &node_cols), &node_a);
    if sqlite {
        prop_assert!(seq(db) >= seq_a, "sqlite_sequence lowered by the downgrade");
    }

    runner.upgrade("head").unwrap();
    prop_assert_eq!(&rows(db, &b, &parent_b, &key, &to_cols), &parent_b_rows);
    // The build now has nothing to write: the replayed head equals B.
    let head = graph.head_schema().unwrap();
    let rest = diff(&head, &with_view(&stripped(&b))).unwrap();
    prop_assert!(rest.is_empty(), "{:?}", rest.up);
    Ok(())
}

/// Models from a database, on these schemas too (keys of one or two columns, foreign keys
/// with actions, index forms, checks, comments, renamed and widened columns): the database
/// schema A — and its evolution B — made is read, its models written and read back as the
/// build reads them, and their first migration makes a fresh database the catalog reads
/// the same. A two-column foreign key is refused by the writer, naming it.
fn models_round_trip(db: &TestDb, s: &Shape, e: &Evolution) -> Result<(), TestCaseError> {
    use retort_schema::naming::Convention;
    let d = db.dialect;
    let a = schema_a(s, d);
    // B as a database holds it: its rename hints are the diff's, not the schema's.
    let b = schema_b(&a, s, e, d).0.without_rename_hints();
    for (which, target) in [("A", a), ("B", b)] {
        let what = format!("{} {which}", d.name());
        let first = db.another();
        let graph =
            Graph::from_revisions([generated_revision("r1", None, &Schema::new(), &target)]);
        let mut runner = Runner::connect(&graph, &first.url, Options::default()).unwrap();
        runner
            .upgrade("head")
            .map_err(|e| TestCaseError::fail(format!("{what}: upgrade failed: {e}")))?;
        let live = runner.introspect().unwrap();
        let catalog = first.backend().catalog();
        let source = match retort_build::models::source(&live, Convention::Retort, Some(&catalog)) {
            // What a model cannot say is refused, naming the key: one over two columns, or a
            // key the evolution widened past the column it references.
            Err(err)
                if err.to_string().contains("spans several columns")
                    || err
                        .to_string()
                        .contains("a key and its reference in one type") =>
            {
                let err = err.to_string();
                prop_assert!(err.contains("foreign key `fk_"), "{what}: {err}");
                prop_assert!(s.composite || which == "B", "{what}: {err}");
                continue;
            }
            Err(err) => return Err(TestCaseError::fail(format!("{what}: {err}"))),
            Ok(source) => source,
        };
        let models = retort_build::models::schema_of_source(&source, Convention::Retort, &[d])
            .map_err(|err| TestCaseError::fail(format!("{what}: {err}\n{source}")))?;
        let differences = runner.differences(&models).unwrap();
        prop_assert!(
            differences.is_empty(),
            "{what}: models differ: {differences:#?}\n{source}"
        );
        let fresh = db.another();
        let again =
            Graph::from_revisions([generated_revision("m1", None, &Schema::new(), &models)]);
        let mut second = Runner::connect(&again, &fresh.url, Options::default()).unwrap();
        second.upgrade("head").map_err(|err| {
            TestCaseError::fail(format!(
                "{what}: the models' migration failed: {err}\n{source}"
            ))
        })?;
        let rebuilt = second.differences(&live).unwrap();
        prop_assert!(
            rebuilt.is_empty(),
            "{what}: the catalog reads differently: {rebuilt:#?}\n{source}"
        );
    }
    Ok(())
}

fn models_case() -> impl Strategy<Value = (Shape, Evolution)> {
    shape().prop_flat_map(|s| {
        let n = s.cols.len();
        (Just(s), evolution(n))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases("RETORT_PROPTEST_CASES") / 4 + 1, max_shrink_iters: 100, ..ProptestConfig::default() })]

    #[test]
    fn models_from_the_database_make_it_again_on_sqlite((s, e) in models_case()) {
        models_round_trip(&TestDb::sqlite(), &s, &e)?;
    }
}

#[test]
fn models_from_the_database_make_it_again_on_postgres() {
    on_server("RETORT_PG_URL", 4, models_case(), |db, (s, e)| {
        models_round_trip(db, &s, &e)
    });
}

#[test]
fn models_from_the_database_make_it_again_on_mariadb() {
    on_server("RETORT_MYSQL_URL", 4, models_case(), |db, (s, e)| {
        models_round_trip(db, &s, &e)
    });
}

fn case() -> impl Strategy<Value = (Shape, Evolution, u32, u32, u32)> {
    (
        shape().prop_flat_map(|s| {
            let n = s.cols.len();
            (Just(s), evolution(n))
        }),
        1u32..5,
        0u32..1000,
        0u32..3,
    )
        .prop_map(|((s, e), count, offset, deleted)| (s, e, count, offset, deleted))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases("RETORT_PROPTEST_CASES"), max_shrink_iters: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_evolutions_round_trip_on_sqlite((s, e, count, offset, deleted) in case()) {
        round_trip(&TestDb::sqlite(), &s, &e, count, offset, deleted)?;
    }
}

/// The server suites, a fresh database per case: skipped (with a note) when the server is
/// not there, failing under `CI=true`. `share` divides the server case count.
fn on_server<S: Strategy>(
    var: &'static str,
    share: u32,
    strategy: S,
    property: impl Fn(&TestDb, S::Value) -> Result<(), TestCaseError>,
) {
    let Some(first) = TestDb::on_server(var) else {
        return;
    };
    let config = ProptestConfig {
        cases: cases("RETORT_SERVER_PROPTEST_CASES") / share + u32::from(share > 1),
        max_shrink_iters: 50,
        ..ProptestConfig::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    if let Err(e) = runner.run(&strategy, |v| property(&first, v)) {
        panic!("{}: {e}", first.dialect.name());
    }
}

#[test]
fn random_evolutions_round_trip_on_postgres() {
    on_server(
        "RETORT_PG_URL",
        1,
        case(),
        |db, (s, e, count, offset, deleted)| {
            round_trip(&db.another(), &s, &e, count, offset, deleted)
        },
    );
}

#[test]
fn random_evolutions_round_trip_on_mariadb() {
    on_server(
        "RETORT_MYSQL_URL",
        1,
        case(),
        |db, (s, e, count, offset, deleted)| {
            round_trip(&db.another(), &s, &e, count, offset, deleted)
        },
    );
}
