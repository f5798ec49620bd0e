//! Models written from a schema read back as that schema, as a class: random schemas with
//! every column type, nullability, defaults and comments of any text, single and composite
//! keys, derived and explicit names under both conventions, indexes of every shape, uniques,
//! checks, foreign keys with every action and state, enums (named and column-held), odd
//! table and column names (keywords, capitals, spaces, leading digits) — and the fixture
//! app's three real schemas. What a model cannot say is refused with the object named.

use std::collections::BTreeMap;

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use retort_build::models::{schema_of_source, source};
use retort_schema::naming::Convention;
use retort_schema::{
    CheckConstraint, Column, ColumnType, Deferral, EnumType, ForeignKey, Index, IndexKey,
    NullsOrder, ReferentialAction, Schema, Table, UniqueConstraint,
};

/// Names a database may hold: plain, keywords, capitals, spaces, digits first, unicode.
fn ident() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z][a-z0-9_]{0,10}",
        1 => prop::sample::select(vec!["type", "match", "self", "Order", "user data", "2fa", "_x", "é", "a-b", "crate"]).prop_map(String::from),
    ]
}

/// Any text for comments, defaults and check expressions.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => "[a-z0-9 _'()<>=+-]{1,20}",
        1 => Just("it's a \"quote\"; -- */ /* \\".to_string()),
        1 => Just("line one\n\nline two  \n  indented".to_string()),
        1 => Just(" leading space".to_string()),
        1 => Just("é漢字🦀".to_string()),
    ]
}

fn column_type(enum_names: Vec<String>) -> impl Strategy<Value = ColumnType> {
    prop_oneof![
        Just(ColumnType::SmallInt),
        Just(ColumnType::Integer),
        Just(ColumnType::BigInt),
        Just(ColumnType::Real),
        Just(ColumnType::Double),
        (option::of(1u32..40), option::of(0u32..10)).prop_map(|(precision, scale)| {
            ColumnType::Numeric {
                precision,
                scale: precision.and(scale),
            }
        }),
        Just(ColumnType::Boolean),
        Just(ColumnType::Text),
        (1u32..5000).prop_map(|length| ColumnType::Varchar { length }),
        (1u32..100).prop_map(|length| ColumnType::Char { length }),
        Just(ColumnType::Binary),
        Just(ColumnType::Date),
        Just(ColumnType::Time),
        Just(ColumnType::Timestamp),
        Just(ColumnType::TimestampTz),
        Just(ColumnType::Uuid),
        Just(ColumnType::Json),
        prop::sample::select(vec![
            "citext",
            "inet",
            "text[]",
            "integer[]",
            "INT UNSIGNED",
            "timestamp(3)",
            "ENUM('a','b')",
            "double precision[]"
        ])
        .prop_map(|s| ColumnType::Custom { sql: s.into() }),
        prop::sample::select(enum_names).prop_map(|name| ColumnType::Enum {
            name,
            values: Vec::new()
        }),
        // An enum that lives in its column (MySQL keeps no name).
        vec("[a-z][a-z_ ]{0,6}", 1..4).prop_map(|mut values: Vec<String>| {
            let mut seen = std::collections::BTreeSet::new();
            values.retain(|v| seen.insert(v.clone()));
            ColumnType::Enum {
                name: String::new(),
                values,
            }
        }),
    ]
}

#[derive(Debug, Clone)]
struct ColumnShape {
    name: String,
    ty: ColumnType,
    nullable: bool,
    default: Option<String>,
    comment: Option<String>,
}

fn column(enum_names: Vec<String>) -> impl Strategy<Value = ColumnShape> {
    (
        ident(),
        column_type(enum_names),
        any::<bool>(),
        // A default is an expression: never blank.
        option::of(text().prop_filter("blank", |t| !t.trim().is_empty())),
        option::of(text().prop_filter("blank", |t| !t.trim().is_empty())),
    )
        .prop_map(|(name, ty, nullable, default, comment)| ColumnShape {
            name,
            ty,
            nullable,
            default,
            comment,
        })
}

/// An index: keys (column pick, descending, nulls first), name, unique, method, predicate
/// pick, include, with.
type IndexShape = (
    Vec<(usize, bool, Option<bool>)>,
    Option<String>,
    bool,
    Option<String>,
    Option<usize>,
    bool,
    bool,
);

/// A foreign key: column pick, referred table pick, name, on delete, on update, not valid,
/// deferral.
type ForeignKeyShape = (usize, usize, Option<String>, u8, u8, bool, u8);

/// How the table uses its columns: picks are indexes into the column list.
#[derive(Debug, Clone)]
struct Extras {
    pk_len: usize,
    autoincrement: Option<bool>,
    pk_name: Option<String>,
    comment: Option<String>,
    indexes: Vec<IndexShape>,
    uniques: Vec<(Vec<usize>, Option<String>, bool, u8)>,
    checks: Vec<(String, usize, usize, bool)>,
    fks: Vec<ForeignKeyShape>,
}

fn extras() -> impl Strategy<Value = Extras> {
    (
        (
            1usize..3,
            option::of(any::<bool>()),
            option::of(ident()),
            option::of(text().prop_filter("blank", |t| !t.trim().is_empty())),
        ),
        vec(
            (
                vec((0usize..8, any::<bool>(), option::of(any::<bool>())), 1..3),
                option::of(ident()),
                any::<bool>(),
                option::of(
                    prop::sample::select(vec!["gin", "brin", "hash"]).prop_map(String::from),
                ),
                option::of(0usize..32),
                any::<bool>(),
                any::<bool>(),
            ),
            0..3,
        ),
        vec(
            (
                vec(0usize..8, 1..3),
                option::of(ident()),
                any::<bool>(),
                0u8..3,
            ),
            0..2,
        ),
        vec((ident(), 0usize..8, 0usize..4, any::<bool>()), 0..2),
        vec(
            (
                0usize..8,
                0usize..4,
                option::of(ident()),
                0u8..5,
                0u8..5,
                any::<bool>(),
                0u8..3,
            ),
            0..3,
        ),
    )
        .prop_map(
            |((pk_len, autoincrement, pk_name, comment), indexes, uniques, checks, fks)| Extras {
                pk_len,
                autoincrement,
                pk_name,
                comment,
                indexes,
                uniques,
                checks,
                fks,
            },
        )
}

/// A condition over a column, as a database would print one (quoted where it must be).
fn condition(column: &str, which: usize) -> String {
    let c = if column
        .chars()
        .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
        && !column.starts_with(|ch: char| ch.is_ascii_digit())
    {
        column.to_string()
    } else {
        format!("\"{column}\"")
    };
    match which % 4 {
        0 => format!("{c} IS NOT NULL"),
        1 => format!("({c} IS NULL) OR ({c} IS NOT NULL)"),
        2 => format!("{c} IS NULL"),
        _ => format!("NOT ({c} IS NULL)"),
    }
}

fn deferral(n: u8) -> Deferral {
    [
        Deferral::Immediate,
        Deferral::DeferrableImmediate,
        Deferral::Deferred,
    ][n as usize % 3]
}

fn action(n: u8) -> ReferentialAction {
    ReferentialAction::ALL[n as usize % 5].1
}

/// A schema a model can say: every reference resolves, names are unique per table.
fn schema() -> impl Strategy<Value = (Schema, Convention)> {
    let enums = vec(("[a-z][a-z_]{0,8}", vec("[a-z][a-z_ ]{0,6}", 1..4)), 1..3);
    (enums, any::<bool>()).prop_flat_map(|(enums, pg)| {
        let mut enum_types = BTreeMap::new();
        for (name, mut values) in enums {
            let mut seen = std::collections::BTreeSet::new();
            values.retain(|v| seen.insert(v.clone()));
            enum_types.insert(name, EnumType::new(values));
        }
        let names: Vec<String> = enum_types.keys().cloned().collect();
        let table = (ident(), vec(column(names), 1..6), extras());
        (
            vec(table, 1..4),
            Just(enum_types),
            Just(if pg {
                Convention::Postgres
            } else {
                Convention::Retort
            }),
        )
            .prop_map(|(tables, enum_types, naming)| (build(tables, enum_types, naming), naming))
    })
}

fn build(
    shapes: Vec<(String, Vec<ColumnShape>, Extras)>,
    enums: BTreeMap<String, EnumType>,
    naming: Convention,
) -> Schema {
    let mut schema = Schema::new();
    schema.enums = enums;
    let mut keyed: Vec<(String, String, ColumnType)> = Vec::new();
    // Index and constraint names are the schema's, not the table's.
    let mut used: Vec<String> = Vec::new();
    for (ti, (name, cols, x)) in shapes.into_iter().enumerate() {
        let name = if schema.tables.contains_key(&name) {
            format!("{name}_{ti}")
        } else {
            name
        };
        let mut t = Table::new(name.clone());
        t.comment = x.comment.clone();
        for (ci, c) in cols.into_iter().enumerate() {
            let cname = if t.column(&c.name).is_some() {
                format!("{}_{ci}", c.name)
            } else {
                c.name
            };
            let ty = match c.ty {
                ColumnType::Enum { name, .. } if !name.is_empty() => {
                    let values = schema.enums[&name].values.clone();
                    ColumnType::Enum { name, values }
                }
                other => other,
            };
            let mut col = Column::new(cname, ty);
            col.nullable = c.nullable;
            col.server_default = c.default;
            col.comment = c.comment;
            t.columns.push(col);
        }
        let n = t.columns.len();
        let pk_len = x.pk_len.min(n);
        for c in &mut t.columns[..pk_len] {
            c.nullable = false;
        }
        t.primary_key = t.columns[..pk_len].iter().map(|c| c.name.clone()).collect();
        if pk_len == 1 {
            if let Some(always) = x.autoincrement {
                t.columns[0].ty = ColumnType::BigInt;
                t.columns[0].autoincrement = true;
                t.columns[0].identity_always = always;
            }
        }
        let pk = x
            .pk_name
            .clone()
            .unwrap_or_else(|| naming.primary_key(&name));
        let mut pk_name = pk.clone();
        while used.contains(&pk_name) {
            pk_name.push('2');
        }
        used.push(pk_name.clone());
        t.set_primary_key_name(&pk_name);
        let cols: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
        let fresh = |wanted: String, used: &mut Vec<String>| {
            let mut n = wanted;
            while used.contains(&n) {
                n.push('2');
            }
            used.push(n.clone());
            n
        };
        for (keys, iname, unique, method, predicate, include, nnd) in x.indexes {
            let keys: Vec<IndexKey> = keys
                .into_iter()
                .map(|(k, desc, nulls)| {
                    let target = cols[k % n].clone();
                    if k >= 6 {
                        IndexKey {
                            target: format!("lower({})", target.replace(' ', "_")),
                            expression: true,
                            descending: desc,
                            nulls: None,
                            opclass: None,
                        }
                    } else {
                        let nulls = match (desc, nulls) {
                            (false, Some(true)) => Some(NullsOrder::First),
                            (true, Some(false)) => Some(NullsOrder::Last),
                            _ => None,
                        };
                        IndexKey {
                            target,
                            expression: false,
                            descending: desc,
                            nulls,
                            opclass: None,
                        }
                    }
                })
                .collect();
            let mut i = Index::on_columns("", Vec::<String>::new(), unique);
            i.keys = keys;
            let derived = i.plain_columns().map(|c| naming.index(&name, &c));
            i.name = fresh(
                match (iname, derived) {
                    (Some(n), _) | (None, Some(n)) => n,
                    (None, None) => format!("ix_expr_{ti}"),
                },
                &mut used,
            );
            i.method = method;
            i.predicate = predicate.map(|p| condition(&cols[p % n], p / 8));
            if include {
                i.include = vec![cols[n - 1].clone()];
            }
            if nnd {
                i.with.insert("fillfactor".into(), "70".into());
            }
            i.nulls_not_distinct = unique && nnd;
            t.indexes.push(i);
        }
        for (ucols, uname, nnd, d) in x.uniques {
            let mut columns: Vec<String> = ucols.iter().map(|k| cols[k % n].clone()).collect();
            columns.dedup();
            let derived = naming.unique(&name, &columns);
            let mut u = UniqueConstraint::new(fresh(uname.unwrap_or(derived), &mut used), columns);
            u.nulls_not_distinct = nnd;
            u.deferral = deferral(d);
            t.uniques.push(u);
        }
        for (cname, col, which, not_valid) in x.checks {
            let expression = condition(&cols[col % n], which);
            t.checks.push(CheckConstraint {
                name: fresh(cname, &mut used),
                expression,
                not_valid,
            });
        }
        let mut with_fk: Vec<usize> = Vec::new();
        for (col, target, fk_name, del, upd, not_valid, d) in x.fks {
            let col = col % n;
            if keyed.is_empty() || with_fk.contains(&col) {
                continue;
            }
            with_fk.push(col);
            let (rt, rc, rty) = keyed[target % keyed.len()].clone();
            // A key compares with its reference only in the same type.
            let c = &mut t.columns[col];
            if c.ty != rty {
                c.autoincrement &= rty.is_integer();
                c.identity_always &= c.autoincrement;
                c.ty = rty;
            }
            let columns = vec![cols[col].clone()];
            let derived = naming.foreign_key(&name, &columns, &rt);
            t.foreign_keys.push(ForeignKey {
                name: fresh(fk_name.unwrap_or(derived), &mut used),
                columns,
                referred_table: rt,
                referred_columns: vec![rc],
                on_delete: action(del),
                on_update: action(upd),
                not_valid,
                deferral: deferral(d),
            });
        }
        if pk_len == 1 {
            keyed.push((
                name.clone(),
                t.primary_key[0].clone(),
                t.columns[0].ty.clone(),
            ));
        }
        t.normalize();
        schema.tables.insert(name, t);
    }
    schema
}

/// What a model reads back as: enums of a column without a name are named after it.
fn comparable(mut s: Schema) -> Schema {
    for t in s.tables.values_mut() {
        for c in &mut t.columns {
            if let ColumnType::Enum { name, .. } = &mut c.ty {
                name.clear();
            }
        }
    }
    s.enums.clear();
    s.normalize();
    s
}

fn round_trip(schema: &Schema, naming: Convention) -> Result<Schema, String> {
    let text = source(schema, naming, None).map_err(|e| e.to_string())?;
    syn::parse_file(&text).map_err(|e| format!("not Rust: {e}\n{text}"))?;
    schema_of_source(&text, naming, &[]).map_err(|e| format!("{e}\n{text}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("RETORT_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
    ))]

    #[test]
    fn models_read_back_as_the_schema_they_were_written_from((schema, naming) in schema()) {
        let back = round_trip(&schema, naming).map_err(TestCaseError::fail)?;
        let used: std::collections::BTreeSet<&str> = schema.tables.values()
            .flat_map(|t| &t.columns)
            .filter_map(|c| match &c.ty { ColumnType::Enum { name, .. } if !name.is_empty() => Some(name.as_str()), _ => None })
            .collect();
        // Every named enum a column uses is declared with its values, in order.
        for name in used {
            prop_assert_eq!(&back.enums[name].values, &schema.enums[name].values);
        }
        prop_assert_eq!(comparable(back), comparable(schema));
    }
}

/// The fixture app's schemas on each backend (32–35 tables: partial, expression, GIN and
/// DESC indexes, enums, arrays, deferrable and NOT VALID constraints, identity keys, another
/// PostgreSQL schema) read back unchanged.
#[test]
fn the_fixture_apps_schemas_read_back_unchanged() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/agora");
    for backend in ["sqlite", "postgres", "mysql"] {
        let text =
            std::fs::read_to_string(root.join("migrations").join(backend).join("schema.json"))
                .unwrap();
        let mut schema = Schema::from_json(&text).unwrap();
        schema.objects.clear();
        let back =
            round_trip(&schema, Convention::Postgres).unwrap_or_else(|e| panic!("{backend}: {e}"));
        assert_eq!(comparable(back), comparable(schema), "{backend}");
    }
}

#[test]
fn what_a_model_cannot_say_is_refused_naming_it() {
    let mut a = Table::new("a");
    a.columns.push(Column::new("x", ColumnType::Integer));
    a.columns.push(Column::new("y", ColumnType::Integer));
    a.primary_key = vec!["x".into(), "y".into()];
    let mut b = Table::new("b");
    b.columns.push(Column::new("x", ColumnType::Integer));
    let mut y = Column::new("y", ColumnType::Integer);
    y.comment = Some("  ".into());
    b.columns.push(y);
    b.foreign_keys.push(ForeignKey {
        name: "fk_b_a".into(),
        columns: vec!["x".into(), "y".into()],
        referred_table: "a".into(),
        referred_columns: vec!["x".into(), "y".into()],
        on_delete: ReferentialAction::NoAction,
        on_update: ReferentialAction::NoAction,
        not_valid: false,
        deferral: Deferral::Immediate,
    });
    let err = source(&Schema::from_tables([a, b]), Convention::Retort, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("table `b` has no primary key"), "{err}");
    assert!(
        err.contains("foreign key `fk_b_a` on `b` (x, y) spans several columns"),
        "{err}"
    );
    assert!(err.contains("column `b.y` has a blank comment"), "{err}");
    // A key widened past the column it references (a database allows it; a model does not).
    let mut p = Table::new("p");
    p.columns.push(Column::new("id", ColumnType::Integer));
    p.primary_key = vec!["id".into()];
    let mut c = Table::new("c");
    c.columns.push(Column::new("id", ColumnType::Integer));
    c.columns.push(Column::new("p_id", ColumnType::BigInt));
    c.primary_key = vec!["id".into()];
    c.foreign_keys.push(ForeignKey {
        name: "fk_c_p".into(),
        columns: vec!["p_id".into()],
        referred_table: "p".into(),
        referred_columns: vec!["id".into()],
        on_delete: ReferentialAction::NoAction,
        on_update: ReferentialAction::NoAction,
        not_valid: false,
        deferral: Deferral::Immediate,
    });
    let err = source(&Schema::from_tables([p, c]), Convention::Retort, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "foreign key `fk_c_p`: `c.p_id` is bigint but `p.id`, which it references, is integer"
        ),
        "{err}"
    );
}
