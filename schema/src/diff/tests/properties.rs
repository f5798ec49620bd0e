//! Property: for any two schemas, up reaches the new one and down returns.

use proptest::prelude::*;

use super::*;

fn column_type() -> impl Strategy<Value = ColumnType> {
    prop_oneof![
        Just(ColumnType::Integer),
        Just(ColumnType::BigInt),
        Just(ColumnType::Text),
        Just(ColumnType::Varchar { length: 20 }),
        Just(ColumnType::Varchar { length: 40 }),
        Just(ColumnType::Boolean),
        Just(ColumnType::Json),
        Just(ColumnType::TimestampTz),
        Just(ColumnType::Numeric {
            precision: Some(10),
            scale: Some(2)
        }),
        // Of the schema's enum `mood` when it has one (text otherwise): see `schema()`.
        Just(ColumnType::Enum {
            name: "mood".into(),
            values: Vec::new()
        }),
    ]
}

fn column() -> impl Strategy<Value = Column> {
    (
        prop::sample::select(vec!["a", "b", "c", "d", "e"]),
        column_type(),
        any::<bool>(),
        prop::option::of(prop::sample::select(vec!["0", "'x'"])),
        prop::option::of(prop::sample::select(vec!["first", "second"])),
    )
        .prop_map(|(name, ty, nullable, default, comment)| Column {
            name: name.into(),
            ty,
            nullable,
            server_default: default.map(String::from),
            autoincrement: false,
            identity_always: false,
            comment: comment.map(String::from),
            renamed_from: None,
        })
}

fn schema() -> impl Strategy<Value = Schema> {
    let one = (
        prop::collection::vec(column(), 0..5),
        any::<[bool; 4]>(),
        prop::option::of(prop::sample::select(vec!["t1", "t2", "t3"])),
        prop::option::of(prop::sample::select(vec!["table comment", "other"])),
    );
    // The enum `mood`: some of four values in some order, and a declared rename.
    let mood = prop::option::of((
        Just(vec!["a", "b", "c", "d"]).prop_shuffle(),
        1..=4usize,
        prop::option::of((
            prop::sample::select(vec!["a", "b", "c", "d", "e"]),
            prop::sample::select(vec!["a", "b", "c", "d", "e"]),
        )),
    ));
    (
        prop::collection::btree_map(
            prop::sample::select(vec!["t1", "t2", "t3", "t4"]),
            one,
            0..4,
        ),
        mood,
    )
        .prop_map(|(tables, mood)| {
            let mood: Option<crate::model::EnumType> = mood.map(|(pool, n, hint)| {
                let mut e = crate::model::EnumType::new(pool[..n].iter().copied());
                e.renamed = hint
                    .map(|(o, n)| (o.to_string(), n.to_string()))
                    .into_iter()
                    .collect();
                e
            });
            let names: Vec<&str> = tables.keys().copied().collect();
            let mut out = Vec::new();
            for (name, (cols, flags, fk_target, comment)) in &tables {
                let mut seen = BTreeSet::new();
                let cols: Vec<Column> = cols
                    .iter()
                    .filter(|c| seen.insert(c.name.clone()))
                    .cloned()
                    .collect();
                let mut t = table(name, cols);
                for c in &mut t.columns {
                    if let ColumnType::Enum { values, .. } = &mut c.ty {
                        match &mood {
                            Some(e) => values.clone_from(&e.values),
                            None => c.ty = ColumnType::Text,
                        }
                        // A default must be a value: the enum's first.
                        if c.server_default.is_some() {
                            c.server_default = Some(format!("'{}'", values_of(&c.ty)));
                        }
                    }
                }
                t.comment = comment.map(String::from);
                if let Some(first) = t.columns.get(1).map(|c| c.name.clone()) {
                    if flags[0] {
                        t.indexes.push(Index::on_columns(
                            format!("ix_{name}_{first}"),
                            [first.clone()],
                            flags[1],
                        ));
                    }
                    if flags[2] {
                        t.uniques.push(UniqueConstraint::new(
                            format!("uq_{name}_{first}"),
                            [first.clone()],
                        ));
                    }
                }
                if flags[3] {
                    t.checks.push(CheckConstraint {
                        name: format!("ck_{name}"),
                        expression: "id > 0".into(),
                        not_valid: false,
                    });
                }
                if let Some(target) = fk_target.filter(|t| names.contains(t)) {
                    let mut c = col("ref_id", ColumnType::Integer);
                    c.nullable = true;
                    t.columns.push(c);
                    t.foreign_keys.push(ForeignKey {
                        name: format!("fk_{name}_ref_id_{target}"),
                        columns: vec!["ref_id".into()],
                        referred_table: target.into(),
                        referred_columns: vec!["id".into()],
                        on_delete: ReferentialAction::SetNull,
                        on_update: ReferentialAction::NoAction,
                        not_valid: false,
                        deferral: Default::default(),
                    });
                }
                out.push(t);
            }
            let mut s = Schema::from_tables(out);
            if let Some(e) = mood {
                s.enums.insert("mood".into(), e);
            }
            s
        })
}

/// The first value of an enum type (text for the others).
fn values_of(ty: &ColumnType) -> String {
    match ty {
        ColumnType::Enum { values, .. } => values[0].clone(),
        _ => "x".into(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn up_reaches_the_new_schema_and_down_returns(old in schema(), new in schema()) {
        // A type change with no conversion is refused (the matrix's own tests cover which);
        // every other pair of schemas diffs and round-trips.
        let unconvertible = new.tables.values().any(|n| {
            old.tables.get(&n.name).is_some_and(|o| {
                n.columns.iter().any(|c| {
                    o.column(&c.name)
                        .is_some_and(|b| crate::convert::refusal("t", "c", &b.ty, &c.ty).is_some())
                })
            })
        });
        // A declared rename into a value that is kept or not there is refused, naming it.
        let bad_rename = match (old.enums.get("mood"), new.enums.get("mood")) {
            (Some(o), Some(n)) => n.renamed.iter().any(|(from, to)| {
                from != to && o.values.contains(from) && !n.values.contains(from)
                    && (!n.values.contains(to) || o.values.contains(to))
            }),
            _ => false,
        };
        if unconvertible || bad_rename {
            let err = diff(&old, &new).unwrap_err();
            prop_assert!(
                err.message.contains("changes from") || err.message.contains("is renamed to"),
                "{}",
                err.message
            );
        } else {
            assert_round_trip(&old, &new);
        }
    }
}
