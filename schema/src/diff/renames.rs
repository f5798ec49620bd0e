//! The declared renames: tables, then columns, applied to the old schema before anything
//! else is compared.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::Schema;
use crate::ops::{ApplyError, Op};

/// Steps 1–2: the declared renames (tables, then columns of tables on both sides), and the
/// old schema with them applied, which the other steps compare with the new one.
pub(super) struct Renamed {
    pub(super) ops: Vec<Op>,
    pub(super) schema: Schema,
    /// Table names before the renames, by name after.
    pub(super) old_name: BTreeMap<String, String>,
}

impl Renamed {
    pub(super) fn plan(old: &Schema, new: &Schema) -> Result<Renamed, ApplyError> {
        let mut renames = Vec::new();
        let mut renamed_old = old.clone();
        let table_hints: Vec<(String, String)> = new
            .tables
            .values()
            .filter_map(|t| t.renamed_from.clone().map(|f| (f, t.name.clone())))
            .collect();
        for (from, to) in &table_hints {
            if !old.tables.contains_key(from) && !old.tables.contains_key(to) {
                return Err(ApplyError {
                    message: format!(
                        "`renamed_from = \"{from}\"` on table `{to}` names no table: the migrations have neither `{from}` nor `{to}`. Correct the old name, or remove `renamed_from` to create `{to}` as a new table"
                    ),
                });
            }
        }
        for op in rename_ops(
            &active_renames(&table_hints, |n| old.tables.contains_key(n)),
            |n| format!("_retort_tmp_{n}"),
            |n| old.tables.contains_key(n) || new.tables.contains_key(n),
            |from, to| Op::RenameTable { from, to },
        ) {
            op.apply(&mut renamed_old)?;
            renames.push(op);
        }
        for t in new.tables.values() {
            let Some(before) = renamed_old.tables.get(&t.name).cloned() else {
                continue;
            };
            let hints: Vec<(String, String)> = t
                .columns
                .iter()
                .filter_map(|c| c.renamed_from.clone().map(|f| (f, c.name.clone())))
                .collect();
            for (from, to) in &hints {
                if before.column(from).is_none() && before.column(to).is_none() {
                    return Err(ApplyError {
                        message: format!(
                            "`renamed_from = \"{from}\"` on `{}.{to}` names no column: the migrations' `{}` has neither `{from}` nor `{to}`. Correct the old name, or remove `renamed_from` to add `{to}` as a new column",
                            t.name, t.name
                        ),
                    });
                }
            }
            let table = t.name.clone();
            for op in rename_ops(
                &active_renames(&hints, |n| before.column(n).is_some()),
                |n| format!("_retort_tmp_{n}"),
                |n| before.column(n).is_some() || t.column(n).is_some(),
                |from, to| Op::RenameColumn {
                    table: table.clone(),
                    from,
                    to,
                },
            ) {
                op.apply(&mut renamed_old)?;
                renames.push(op);
            }
        }
        let old_name = rename_origins(renames.iter().filter_map(|op| match op {
            Op::RenameTable { from, to } => Some((from.as_str(), to.as_str())),
            _ => None,
        }));
        Ok(Renamed {
            ops: renames,
            schema: renamed_old,
            old_name,
        })
    }

    /// A table's name before the renames.
    pub(super) fn before(&self, name: &str) -> String {
        self.old_name
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }
}

/// The declared renames that still have to happen: the old name exists, and the new name
/// is free or is itself renamed away (a chain or a cycle). A hint whose new name already
/// exists and stays is a rename that was applied before (a stale hint) and is ignored.
pub(super) fn active_renames(
    hints: &[(String, String)],
    exists_before: impl Fn(&str) -> bool,
) -> Vec<(String, String)> {
    let mut active: Vec<(String, String)> = hints
        .iter()
        .filter(|(from, to)| from != to && exists_before(from))
        .cloned()
        .collect();
    loop {
        let froms: BTreeSet<String> = active.iter().map(|(f, _)| f.clone()).collect();
        let before = active.len();
        active.retain(|(_, to)| !exists_before(to) || froms.contains(to));
        if active.len() == before {
            return active;
        }
    }
}

/// The rename operations for a set of renames in one namespace, ordered so that no rename
/// lands on a name still in use; a cycle (a swap a↔b, or longer) goes through a temporary
/// name.
pub(super) fn rename_ops(
    renames: &[(String, String)],
    temp: impl Fn(&str) -> String,
    taken: impl Fn(&str) -> bool,
    make: impl Fn(String, String) -> Op,
) -> Vec<Op> {
    let mut pending: Vec<(String, String)> = renames.to_vec();
    pending.sort();
    let mut out = Vec::new();
    while !pending.is_empty() {
        let ready = pending
            .iter()
            .position(|(_, to)| !pending.iter().any(|(from, _)| from == to));
        match ready {
            Some(i) => {
                let (from, to) = pending.remove(i);
                out.push(make(from, to));
            }
            None => {
                // Every remaining rename waits for another: a cycle. Park the first one.
                let (from, _) = pending[0].clone();
                let mut parked = temp(&from);
                while taken(&parked) || pending.iter().any(|(f, t)| *f == parked || *t == parked) {
                    parked.push('_');
                }
                out.push(make(from, parked.clone()));
                pending[0].0 = parked;
            }
        }
    }
    out
}

/// Composes renames (old, new), in order, into new name → name before them, through
/// chains and temporary names (`a→tmp, b→a, tmp→b` gives `a←b, b←a`). A name renamed back
/// to itself maps to itself.
pub fn rename_origins<'a>(
    renames: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> BTreeMap<String, String> {
    let mut origin: BTreeMap<String, String> = BTreeMap::new();
    for (from, to) in renames {
        let first = origin.remove(from).unwrap_or_else(|| from.to_string());
        origin.insert(to.to_string(), first);
    }
    origin
}
