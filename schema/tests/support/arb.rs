//! proptest strategies for every schema-model type and every operation, with every field
//! varied (hostile strings included). Shared by the lossless tests of retort-schema and the
//! build's file tests through `#[path]`.
#![allow(dead_code)]

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use retort_schema::ops::{ColumnChanges, ConstraintKind, DialectSql, Op};
use retort_schema::{
    CheckConstraint, Column, ColumnType, DbObject, Deferral, ForeignKey, Index, IndexKey,
    NullsOrder, ObjectKind, ReferentialAction, Table, UniqueConstraint,
};

/// Any text: unicode, quotes, newlines, control characters, comment openers.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        1 => Just(String::new()),
        2 => "[a-z_]{1,12}",
        1 => Just("it's a \"quote\"; DROP TABLE x; -- */ /* \n\r\t\\".to_string()),
        1 => Just("line one\nline two\r\n// not code\n}".to_string()),
        1 => Just("é漢字🦀\u{2028}\u{0}".to_string()),
    ]
}

pub fn name() -> impl Strategy<Value = String> {
    text()
}

pub fn names() -> impl Strategy<Value = Vec<String>> {
    vec(name(), 0..3)
}

pub fn column_type() -> impl Strategy<Value = ColumnType> {
    prop_oneof![
        Just(ColumnType::SmallInt),
        Just(ColumnType::Integer),
        Just(ColumnType::BigInt),
        Just(ColumnType::Real),
        Just(ColumnType::Double),
        (option::of(0u32..1000), option::of(0u32..100)).prop_map(|(precision, scale)| {
            // `numeric(,s)` has no spelling: a scale needs a precision.
            ColumnType::Numeric {
                precision,
                scale: precision.and(scale),
            }
        }),
        Just(ColumnType::Boolean),
        Just(ColumnType::Text),
        (0u32..100_000).prop_map(|length| ColumnType::Varchar { length }),
        (0u32..1000).prop_map(|length| ColumnType::Char { length }),
        Just(ColumnType::Binary),
        Just(ColumnType::Date),
        Just(ColumnType::Time),
        Just(ColumnType::Timestamp),
        Just(ColumnType::TimestampTz),
        Just(ColumnType::Uuid),
        Just(ColumnType::Json),
        text().prop_map(|sql| ColumnType::Custom { sql }),
        (name(), names()).prop_map(|(name, values)| ColumnType::Enum { name, values }),
    ]
}

pub fn column() -> impl Strategy<Value = Column> {
    (
        name(),
        column_type(),
        any::<bool>(),
        option::of(text()),
        any::<bool>(),
        option::of(text()),
        any::<bool>(),
    )
        .prop_map(
            |(name, ty, nullable, server_default, autoincrement, comment, identity_always)| {
                Column {
                    name,
                    ty,
                    nullable,
                    server_default,
                    autoincrement,
                    identity_always,
                    comment,
                    renamed_from: None,
                }
            },
        )
}

pub fn action() -> impl Strategy<Value = ReferentialAction> {
    prop::sample::select(
        ReferentialAction::ALL
            .iter()
            .map(|(_, a)| *a)
            .collect::<Vec<_>>(),
    )
}

pub fn deferral() -> impl Strategy<Value = Deferral> {
    prop::sample::select(vec![
        Deferral::Immediate,
        Deferral::DeferrableImmediate,
        Deferral::Deferred,
    ])
}

pub fn foreign_key() -> impl Strategy<Value = ForeignKey> {
    (
        (name(), names(), name(), names()),
        (action(), action(), any::<bool>(), deferral()),
    )
        .prop_map(
            |(
                (name, columns, referred_table, referred_columns),
                (on_delete, on_update, not_valid, deferral),
            )| ForeignKey {
                name,
                columns,
                referred_table,
                referred_columns,
                on_delete,
                on_update,
                not_valid,
                deferral,
            },
        )
}

/// An index key: any column name, or an expression over one, with every order, null
/// placement and operator class.
pub fn index_key() -> impl Strategy<Value = IndexKey> {
    (
        prop_oneof![
            3 => name().prop_map(|n| (n, false)),
            1 => "[a-z_]{1,8}".prop_map(|n| (format!("lower({n})"), true)),
            1 => "[a-z_]{1,8}".prop_map(|n| (format!("{n} + 1"), true)),
            1 => Just(("coalesce(a, 'it''s (odd)')".to_string(), true)),
        ],
        any::<bool>(),
        option::of(prop::sample::select(vec![
            NullsOrder::First,
            NullsOrder::Last,
        ])),
        option::of("[a-z_][a-z0-9_]{0,12}"),
    )
        .prop_map(|((target, expression), descending, nulls, opclass)| {
            // The text form drops a placement equal to the direction's default.
            let nulls = match (descending, nulls) {
                (false, Some(NullsOrder::Last)) | (true, Some(NullsOrder::First)) => None,
                (_, n) => n,
            };
            IndexKey {
                target,
                expression,
                descending,
                nulls,
                opclass,
            }
        })
}

pub fn index() -> impl Strategy<Value = Index> {
    (
        (name(), vec(index_key(), 0..3), any::<bool>()),
        (
            option::of("[a-z]{1,6}"),
            option::of(text()),
            names(),
            option::of(("[a-z_]{1,10}", "[0-9]{1,3}")),
            any::<bool>(),
        ),
    )
        .prop_map(
            |((name, keys, unique), (method, predicate, include, with, nulls_not_distinct))| {
                let mut i = Index::on_columns(name, Vec::<String>::new(), unique);
                i.keys = keys;
                i.method = method.filter(|m| m != "btree");
                i.predicate = predicate;
                i.include = include;
                i.with = with.into_iter().collect();
                i.nulls_not_distinct = nulls_not_distinct;
                i
            },
        )
}

pub fn unique() -> impl Strategy<Value = UniqueConstraint> {
    (name(), names(), any::<bool>(), deferral()).prop_map(
        |(name, columns, nulls_not_distinct, deferral)| {
            let mut u = UniqueConstraint::new(name, columns);
            u.nulls_not_distinct = nulls_not_distinct;
            u.deferral = deferral;
            u
        },
    )
}

pub fn check() -> impl Strategy<Value = CheckConstraint> {
    (name(), text(), any::<bool>()).prop_map(|(name, expression, not_valid)| CheckConstraint {
        name,
        expression,
        not_valid,
    })
}

/// A table as `create_table` carries it: no indexes (they are separate operations).
pub fn table() -> impl Strategy<Value = Table> {
    (
        name(),
        option::of(text()),
        vec(column(), 0..4),
        names(),
        vec(unique(), 0..2),
        vec(foreign_key(), 0..2),
        vec(check(), 0..2),
        option::of(name()),
    )
        .prop_map(
            |(name, comment, columns, primary_key, uniques, foreign_keys, checks, pk_name)| {
                let mut t = Table::new(name);
                t.comment = comment;
                t.columns = columns;
                t.primary_key = primary_key;
                t.primary_key_name = pk_name;
                t.uniques = uniques;
                t.foreign_keys = foreign_keys;
                t.checks = checks;
                t.normalize();
                t
            },
        )
}

pub fn changes() -> impl Strategy<Value = ColumnChanges> {
    (
        option::of(column_type()),
        option::of(any::<bool>()),
        option::of(option::of(text())),
        option::of(option::of(text())),
    )
        .prop_map(|(ty, nullable, server_default, comment)| ColumnChanges {
            ty,
            nullable,
            server_default,
            comment,
        })
        .prop_filter("alter_column changes something", |c| !c.is_empty())
}

pub fn constraint_kind() -> impl Strategy<Value = ConstraintKind> {
    prop_oneof![
        Just(ConstraintKind::Unique),
        Just(ConstraintKind::ForeignKey),
        Just(ConstraintKind::Check),
    ]
}

/// A Rust identifier for `run(…)`.
pub fn function_name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,10}".prop_filter("not a keyword", |s| {
        syn::parse_str::<syn::Ident>(s).is_ok() && s != "None"
    })
}

/// Every operation, every field.
pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        table().prop_map(|table| Op::CreateTable { table }),
        name().prop_map(|table| Op::DropTable { table }),
        (name(), name()).prop_map(|(from, to)| Op::RenameTable { from, to }),
        (name(), column()).prop_map(|(table, column)| Op::AddColumn { table, column }),
        (name(), name()).prop_map(|(table, column)| Op::DropColumn { table, column }),
        (name(), name(), name()).prop_map(|(table, from, to)| Op::RenameColumn { table, from, to }),
        (name(), name(), changes(), any::<bool>()).prop_map(|(table, column, changes, on)| {
            // The online form is a nullability change to NOT NULL without a type change.
            let online = on && changes.nullable == Some(false) && changes.ty.is_none();
            Op::AlterColumn {
                table,
                column,
                changes,
                online,
            }
        }),
        (name(), index(), any::<bool>()).prop_map(|(table, index, concurrently)| {
            Op::CreateIndex {
                table,
                index,
                concurrently,
            }
        }),
        (name(), name(), any::<bool>()).prop_map(|(table, name, concurrently)| Op::DropIndex {
            table,
            name,
            concurrently
        }),
        (name(), unique(), any::<bool>()).prop_map(|(table, unique, online)| Op::AddUnique {
            table,
            unique,
            online
        }),
        (name(), foreign_key(), any::<bool>()).prop_map(|(table, foreign_key, online)| {
            Op::AddForeignKey {
                table,
                foreign_key,
                online,
            }
        }),
        (name(), check(), any::<bool>()).prop_map(|(table, check, online)| Op::AddCheck {
            table,
            check,
            online
        }),
        (name(), name(), constraint_kind()).prop_map(|(table, name, kind)| Op::DropConstraint {
            table,
            name,
            kind
        }),
        (name(), name(), name()).prop_map(|(table, from, to)| Op::RenameIndex { table, from, to }),
        (
            name(),
            name(),
            name(),
            prop_oneof![constraint_kind(), Just(ConstraintKind::PrimaryKey)]
        )
            .prop_map(|(table, from, to, kind)| {
                Op::RenameConstraint {
                    table,
                    from,
                    to,
                    kind,
                }
            }),
        (name(), option::of(text()))
            .prop_map(|(table, comment)| Op::SetTableComment { table, comment }),
        text().prop_map(|s| Op::Execute {
            sql: DialectSql::All(s)
        }),
        (option::of(text()), option::of(text()), option::of(text()))
            .prop_filter("execute names at least one dialect", |(a, b, c)| {
                a.is_some() || b.is_some() || c.is_some()
            })
            .prop_map(|(sqlite, postgres, mysql)| Op::Execute {
                sql: DialectSql::PerDialect {
                    sqlite,
                    postgres,
                    mysql
                }
            }),
        function_name().prop_map(|function| Op::RunRust { function }),
        (
            name(),
            name(),
            text().prop_filter("a value", |v| !v.trim().is_empty()),
            1..=u32::MAX
        )
            .prop_map(|(table, column, value, batch)| Op::Backfill {
                table,
                column,
                value,
                batch
            }),
        (db_object(), any::<bool>()).prop_map(|(object, create)| if create {
            Op::CreateObject { object }
        } else {
            Op::DropObject { object }
        }),
        (name(), names(), any::<bool>()).prop_map(|(name, values, create)| if create {
            Op::CreateEnum { name, values }
        } else {
            Op::DropEnum { name, values }
        }),
        (name(), names(), names(), vec((name(), name()), 0..3)).prop_map(
            |(name, from, to, renamed)| Op::AlterEnum {
                name,
                from,
                to,
                renamed
            }
        ),
    ]
}

/// A declared object of any kind, for one dialect or all, hostile names and SQL included.
pub fn db_object() -> impl Strategy<Value = DbObject> {
    (
        prop::sample::select(ObjectKind::ALL.to_vec()),
        name(),
        option::of(name()),
        prop_oneof![
            text().prop_map(DialectSql::All),
            (option::of(text()), option::of(text()), option::of(text()))
                .prop_filter("at least one dialect", |(a, b, c)| {
                    a.is_some() || b.is_some() || c.is_some()
                })
                .prop_map(|(sqlite, postgres, mysql)| DialectSql::PerDialect {
                    sqlite,
                    postgres,
                    mysql
                }),
        ],
    )
        .prop_map(|(kind, name, table, sql)| DbObject {
            kind,
            name,
            table,
            sql,
        })
}
