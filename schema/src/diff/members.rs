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

/// [`name_only_changes`] for items compared whole: the same definition is equal once the
/// old item takes the new one's name.
fn renamed_items<T: Clone + PartialEq>(
    old: &[T],
    new: &[T],
    name: fn(&T) -> &String,
    name_mut: fn(&mut T) -> &mut String,
) -> Vec<(String, String)> {
    name_only_changes(
        old,
        new,
        name,
        |a, b| a == b,
        |a, b| {
            let mut renamed = a.clone();
            *name_mut(&mut renamed) = name(b).clone();
            renamed == *b
        },
    )
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
        renamed_items(&o.indexes, &n.indexes, |i| &i.name, |i| &mut i.name),
    );
    add(
        Some(ConstraintKind::Unique),
        renamed_items(&o.uniques, &n.uniques, |u| &u.name, |u| &mut u.name),
    );
    add(
        Some(ConstraintKind::ForeignKey),
        renamed_items(
            &o.foreign_keys,
            &n.foreign_keys,
            |f| &f.name,
            |f| &mut f.name,
        ),
    );
    // The primary key keeps its name when its table is renamed (as the databases do), so a
    // name derived from the table follows by a rename, as does one changed in the models.
    if !o.primary_key.is_empty()
        && o.primary_key == n.primary_key
        && o.primary_key_constraint() != n.primary_key_constraint()
    {
        add(
            Some(ConstraintKind::PrimaryKey),
            vec![(o.primary_key_constraint(), n.primary_key_constraint())],
        );
    }
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

/// The renames of indexes and constraints that only change name, in an order where no new
/// name is still taken — across tables, since index and constraint names are one namespace
/// per schema on SQLite and PostgreSQL (a swap of two tables swaps their primary keys'
/// names): a cycle goes through a temporary name.
pub(super) fn rename_ops_of(kept: &[(&Table, &Table)], renamed: &[MemberRename]) -> Vec<Op> {
    if renamed.is_empty() {
        return Vec::new();
    }
    let pairs: Vec<(String, String)> = renamed
        .iter()
        .map(|r| (r.from.clone(), r.to.clone()))
        .collect();
    let rename_of = |from: &str| renamed.iter().find(|r| r.from == from);
    let taken = |name: &str| {
        kept.iter().any(|(o, n)| {
            o.constraint_names().any(|x| x == name)
                || n.constraint_names().any(|x| x == name)
                || (!o.primary_key.is_empty() && o.primary_key_constraint() == name)
                || (!n.primary_key.is_empty() && n.primary_key_constraint() == name)
        })
    };
    // A temporary name belongs to the rename it started from.
    let mut origin: BTreeMap<String, String> = BTreeMap::new();
    let mut out = Vec::new();
    for op in rename_ops(
        &pairs,
        |x| format!("_retort_tmp_{x}"),
        taken,
        |from, to| Op::RenameIndex {
            table: String::new(),
            from,
            to,
        },
    ) {
        let Op::RenameIndex { from, to, .. } = op else {
            continue;
        };
        let first = origin.remove(&from).unwrap_or_else(|| from.clone());
        let Some(r) = rename_of(&first) else {
            continue;
        };
        origin.insert(to.clone(), first);
        let table = r.table.clone();
        out.push(match r.kind {
            None => Op::RenameIndex { table, from, to },
            Some(kind) => Op::RenameConstraint {
                table,
                from,
                to,
                kind,
            },
        });
    }
    out
}
