//! Indexes and constraints that only change name (a name derived from a renamed table or
//! column, or a swap): renamed, not dropped and made again.

use std::collections::BTreeMap;

use super::rename_ops;
use crate::model::Table;
use crate::ops::{ConstraintKind, Op};

/// An index (`kind: None`) or constraint of a kept table whose definition stays and whose
/// name changes.
pub(super) struct MemberRename {
    pub(super) table: String,
    pub(super) from: String,
    pub(super) to: String,
    pub(super) kind: Option<ConstraintKind>,
}

impl MemberRename {
    pub(super) fn covers(
        &self,
        table: &str,
        name: &str,
        kind: Option<ConstraintKind>,
        old_side: bool,
    ) -> bool {
        self.table == table
            && self.kind == kind
            && if old_side {
                self.from == name
            } else {
                self.to == name
            }
    }
}

/// Pairs of (old name, new name) of items of one kind that change only in name: each item
/// of `old` with no equal in `new`, paired one to one with an item of `new` with no equal in
/// `old` and the same definition.
fn name_only_changes<T>(
    old: &[T],
    new: &[T],
    name: impl Fn(&T) -> &String,
    equal: impl Fn(&T, &T) -> bool,
    same_definition: impl Fn(&T, &T) -> bool,
) -> Vec<(String, String)> {
    let news: Vec<&T> = new
        .iter()
        .filter(|n| !old.iter().any(|o| equal(o, n)))
        .collect();
    let mut used = vec![false; news.len()];
    let mut out = Vec::new();
    for o in old.iter().filter(|o| !new.iter().any(|n| equal(o, n))) {
        let found = (0..news.len())
            .find(|&j| !used[j] && name(o) != name(news[j]) && same_definition(o, news[j]));
        if let Some(j) = found {
            used[j] = true;
            out.push((name(o).clone(), name(news[j]).clone()));
        }
    }
    out
}

/// The indexes and constraints of `o` and `n` (one table before and after) that differ only
/// in name.
pub(super) fn member_renames(o: &Table, n: &Table) -> Vec<MemberRename> {
    let mut out = Vec::new();
    let mut add = |kind: Option<ConstraintKind>, pairs: Vec<(String, String)>| {
        out.extend(pairs.into_iter().map(|(from, to)| MemberRename {
            table: n.name.clone(),
            from,
            to,
            kind,
        }));
    };
    add(
        None,
        name_only_changes(
            &o.indexes,
            &n.indexes,
            |i| &i.name,
            |a, b| a == b,
            |a, b| {
                let mut renamed = a.clone();
                renamed.name = b.name.clone();
                renamed == *b
            },
        ),
    );
    add(
        Some(ConstraintKind::Unique),
        name_only_changes(
            &o.uniques,
            &n.uniques,
            |u| &u.name,
            |a, b| a == b,
            |a, b| {
                let mut renamed = a.clone();
                renamed.name = b.name.clone();
                renamed == *b
            },
        ),
    );
    add(
        Some(ConstraintKind::ForeignKey),
        name_only_changes(
            &o.foreign_keys,
            &n.foreign_keys,
            |f| &f.name,
            |a, b| a == b,
            |a, b| {
                let mut renamed = a.clone();
                renamed.name = b.name.clone();
                renamed == *b
            },
        ),
    );
    let same_check = |a: &crate::CheckConstraint, b: &crate::CheckConstraint| {
        crate::expr::same(&a.expression, &b.expression)
    };
    add(
        Some(ConstraintKind::Check),
        name_only_changes(
            &o.checks,
            &n.checks,
            |c| &c.name,
            |a, b| a.name == b.name && same_check(a, b),
            same_check,
        ),
    );
    out
}

/// The renames of indexes and constraints that only change name, per table in an order where
/// no new name is still taken (a swap goes through a temporary name).
pub(super) fn rename_ops_of(kept: &[(&Table, &Table)], renamed: &[MemberRename]) -> Vec<Op> {
    let mut out = Vec::new();
    for (o, n) in kept {
        let here: Vec<&MemberRename> = renamed.iter().filter(|r| r.table == n.name).collect();
        if here.is_empty() {
            continue;
        }
        let pairs: Vec<(String, String)> = here
            .iter()
            .map(|r| (r.from.clone(), r.to.clone()))
            .collect();
        let kind_of = |name: &str| {
            here.iter()
                .find(|r| r.from == name || r.to == name)
                .map(|r| r.kind)
                .unwrap_or(None)
        };
        let taken = |name: &str| {
            o.constraint_names().any(|x| x == name) || n.constraint_names().any(|x| x == name)
        };
        // The kind of a temporary name is its origin's.
        let mut origin: BTreeMap<String, String> = BTreeMap::new();
        for op in rename_ops(
            &pairs,
            |x| format!("_retort_tmp_{x}"),
            taken,
            |from, to| Op::RenameIndex {
                table: n.name.clone(),
                from,
                to,
            },
        ) {
            let Op::RenameIndex { table, from, to } = op else {
                continue;
            };
            let first = origin.remove(&from).unwrap_or_else(|| from.clone());
            let kind = kind_of(&first);
            origin.insert(to.clone(), first);
            out.push(match kind {
                None => Op::RenameIndex { table, from, to },
                Some(kind) => Op::RenameConstraint {
                    table,
                    from,
                    to,
                    kind,
                },
            });
        }
    }
    out
}
