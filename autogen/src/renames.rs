//! Rename hints that stay in the models after their migration was written.
//!
//! A plain rename hint goes quiet by itself once applied (the new name exists, the old one
//! does not). A swap or a rotation (`a`↔`b`) does not: both names exist before and after,
//! so the same hints would swap the columns again at every build. A cycle of hints that the
//! last migration renaming those columns already performed is therefore dropped here, with
//! a warning to remove the hints.

use retort_schema::diff::rename_origins;
use retort_schema::ops::Op;
use retort_schema::Schema;

use crate::history::History;

/// Removes the cycle hints `history` (up to `heads`) already applied; returns a warning
/// for each table whose hints were dropped.
pub(crate) fn drop_applied_cycles(
    history: &History,
    heads: &[&str],
    head: &Schema,
    models: &mut Schema,
) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut all = std::collections::BTreeSet::new();
    for h in heads {
        all.extend(history.ancestors(h));
    }
    let ordered = history.order(&all);
    for table in models.tables.values_mut() {
        let Some(before) = head.tables.get(&table.name) else {
            continue;
        };
        // Hints whose both names exist at head: only a cycle (or a stale cycle) has them.
        let cyclic: Vec<(String, String)> = table
            .columns
            .iter()
            .filter_map(|c| {
                let from = c.renamed_from.as_ref()?;
                (before.column(from).is_some() && before.column(&c.name).is_some())
                    .then(|| (from.clone(), c.name.clone()))
            })
            .collect();
        if cyclic.is_empty() {
            continue;
        }
        // The last migration that renamed any of these columns of this table.
        let last = ordered.iter().rev().find_map(|entry| {
            let net = net_renames(&entry.file.up, &table.name);
            cyclic
                .iter()
                .any(|(f, t)| net.iter().any(|(a, b)| a == f || b == t))
                .then_some((entry, net))
        });
        let Some((entry, net)) = last else {
            continue;
        };
        if cyclic.iter().all(|pair| net.contains(pair)) {
            for c in &mut table.columns {
                if cyclic.iter().any(|(_, to)| *to == c.name) {
                    c.renamed_from = None;
                }
            }
            let names: Vec<String> = cyclic.iter().map(|(_, to)| format!("`{to}`")).collect();
            warnings.push(format!(
                "retort: the renames of {} in `{}` were applied by {}; remove their `renamed_from` hints (a cycle of hints cannot tell a new swap from the one already made)",
                names.join(", "),
                table.name,
                entry.file.revision
            ));
        }
    }
    warnings
}

/// The net column renames (old name, new name) of `table` made by a list of operations,
/// through temporary names.
fn net_renames(ops: &[Op], table: &str) -> Vec<(String, String)> {
    rename_origins(ops.iter().filter_map(|op| match op {
        Op::RenameColumn { table: t, from, to } if t == table => Some((from.as_str(), to.as_str())),
        _ => None,
    }))
    .into_iter()
    .filter(|(now, first)| now != first)
    .map(|(now, first)| (first, now))
    .collect()
}
