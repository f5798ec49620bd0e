//! Database objects (views, functions, triggers, …) and enum types: what changed, in
//! dependency order.

use std::collections::BTreeSet;

use crate::model::Schema;
use crate::ops::{ApplyError, Op};

/// The drops (of objects that go or change, dependents first) and creations (of objects
/// that come or change, dependencies first) that turn `old`'s declared objects into `new`'s.
/// A changed definition is dropped and made again — what `CREATE OR REPLACE` cannot do (a
/// view's columns, a function's signature) works the same way — and so is every object
/// that depends on one dropped (a trigger calling a replaced function, a view over a
/// replaced view). An object depends on another when its statement names it.
pub(super) fn object_ops(old: &Schema, new: &Schema) -> (Vec<Op>, Vec<Op>) {
    use crate::DbObject;
    let same = |a: &DbObject, b: &DbObject| {
        a.kind == b.kind && a.table == b.table && definitions(&a.sql) == definitions(&b.sql)
    };
    let mut gone: BTreeSet<String> = old
        .objects
        .iter()
        .filter(|(k, o)| new.objects.get(*k).is_none_or(|n| !same(o, n)))
        .map(|(k, _)| k.clone())
        .collect();
    // What depends on something dropped goes (and comes back) with it.
    loop {
        let more: Vec<String> = old
            .objects
            .iter()
            .filter(|(k, o)| {
                !gone.contains(*k)
                    && gone
                        .iter()
                        .any(|g| old.objects.get(g).is_some_and(|g| depends_on(o, g)))
            })
            .map(|(k, _)| k.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        gone.extend(more);
    }
    let drops: Vec<&DbObject> = old
        .objects
        .values()
        .filter(|o| gone.contains(&o.key()))
        .collect();
    let creates: Vec<&DbObject> = new
        .objects
        .iter()
        .filter(|(k, n)| gone.contains(*k) || old.objects.get(*k).is_none_or(|o| !same(o, n)))
        .map(|(_, n)| n)
        .collect();
    let mut drops = in_dependency_order(drops);
    drops.reverse();
    (
        drops
            .into_iter()
            .map(|o| Op::DropObject { object: o.clone() })
            .collect(),
        in_dependency_order(creates)
            .into_iter()
            .map(|o| Op::CreateObject { object: o.clone() })
            .collect(),
    )
}

/// The enum operations that turn `old`'s enum types into `new`'s: `create_enum` and
/// `alter_enum` (run before the tables), `drop_enum` (after them). A value renamed is
/// declared (`renamed_from` on the variant), never guessed from a drop and an add.
pub(super) fn enum_ops(old: &Schema, new: &Schema) -> Result<(Vec<Op>, Vec<Op>), ApplyError> {
    let mut first = Vec::new();
    for (name, e) in &new.enums {
        let Some(before) = old.enums.get(name) else {
            first.push(Op::CreateEnum {
                name: name.clone(),
                values: e.values.clone(),
            });
            continue;
        };
        // A hint is active while the old value is still there.
        let renamed: Vec<(String, String)> = e
            .renamed
            .iter()
            .filter(|(o, n)| o != n && before.values.contains(o) && !e.values.contains(o))
            .cloned()
            .collect();
        for (o, n) in &renamed {
            if !e.values.contains(n) {
                return Err(ApplyError {
                    message: format!(
                        "enum `{name}`: `{o}` is renamed to `{n}`, which is not one of its values"
                    ),
                });
            }
            if before.values.contains(n) && !renamed.iter().any(|(o2, _)| o2 == n) {
                return Err(ApplyError {
                    message: format!("enum `{name}`: `{o}` is renamed to `{n}`, which it already has; rows cannot merge into another value by a rename. Update them in a data migration (an execute(\"UPDATE …\")), then remove `{o}`"),
                });
            }
        }
        if before.values != e.values {
            first.push(Op::AlterEnum {
                name: name.clone(),
                from: before.values.clone(),
                to: e.values.clone(),
                renamed,
            });
        }
    }
    let last = old
        .enums
        .iter()
        .filter(|(name, _)| !new.enums.contains_key(*name))
        .map(|(name, e)| Op::DropEnum {
            name: name.clone(),
            values: e.values.clone(),
        })
        .collect();
    Ok((first, last))
}

/// Whether an object's statement names a table of either schema (a function that reads
/// one is made after the tables).
pub(super) fn names_a_table(o: &crate::DbObject, old: &Schema, new: &Schema) -> bool {
    old.tables
        .keys()
        .chain(new.tables.keys())
        .any(|t| statement_names(o, t))
}

/// Whether `a`'s statement names `b` (as an identifier, in any dialect's statement).
pub(super) fn depends_on(a: &crate::DbObject, b: &crate::DbObject) -> bool {
    a.key() != b.key() && statement_names(a, &b.name)
}

/// Whether one of `o`'s statements holds `name` as an identifier.
pub(super) fn statement_names(o: &crate::DbObject, name: &str) -> bool {
    use crate::expr::lex::Token;
    use crate::ops::DialectSql;
    let texts: Vec<&String> = match &o.sql {
        DialectSql::All(s) => vec![s],
        DialectSql::PerDialect {
            sqlite,
            postgres,
            mysql,
        } => [sqlite, postgres, mysql].into_iter().flatten().collect(),
    };
    texts.into_iter().any(|t| {
        crate::expr::tokens(t).into_iter().any(|tok| match tok {
            Token::Word(w) => w.eq_ignore_ascii_case(name),
            Token::QuotedIdent(q) => q == name,
            _ => false,
        })
    })
}

/// The objects with every one after those it depends on (kind, then name, among equals; a
/// cycle keeps that order).
pub(super) fn in_dependency_order(mut objects: Vec<&crate::DbObject>) -> Vec<&crate::DbObject> {
    objects.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    let mut out: Vec<&crate::DbObject> = Vec::with_capacity(objects.len());
    while !objects.is_empty() {
        let ready = objects
            .iter()
            .position(|o| {
                !objects
                    .iter()
                    .any(|other| other.key() != o.key() && depends_on(o, other))
            })
            .unwrap_or(0);
        out.push(objects.remove(ready));
    }
    out
}

/// An object's statements with whitespace normalised, for comparing definitions.
pub(super) fn definitions(sql: &crate::ops::DialectSql) -> [Option<String>; 3] {
    use crate::ops::DialectSql;
    let norm = |s: &Option<String>| s.as_deref().map(crate::model::normalize_definition);
    match sql {
        DialectSql::All(s) => {
            let n = Some(crate::model::normalize_definition(s));
            [n.clone(), n.clone(), n]
        }
        DialectSql::PerDialect {
            sqlite,
            postgres,
            mysql,
        } => [norm(sqlite), norm(postgres), norm(mysql)],
    }
}
