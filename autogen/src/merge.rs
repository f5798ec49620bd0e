//! Two heads after a git merge: when the branches touch different objects, a merge
//! migration (two parents, no operations) joins them; otherwise the build fails
//! naming both migrations and what they both change.

use std::collections::{BTreeMap, BTreeSet};

use retort_schema::ops::Op;

use crate::error::Error;
use crate::history::History;

/// Fails with [`Error::BranchConflict`] when branches below `heads` change the same objects,
/// or when their operations do not replay together.
pub fn check_branches(history: &History, heads: &[String]) -> Result<(), Error> {
    let sets: Vec<BTreeSet<String>> = heads.iter().map(|h| history.ancestors(h)).collect();
    let common: BTreeSet<String> = sets.iter().skip(1).fold(sets[0].clone(), |acc, s| {
        acc.intersection(s).cloned().collect()
    });
    // Per branch: objects touched, as (table, Some(member)) or (table, None) for the whole table.
    let touched: Vec<BTreeMap<String, BTreeSet<Option<String>>>> = sets
        .iter()
        .map(|set| {
            let mut objects: BTreeMap<String, BTreeSet<Option<String>>> = BTreeMap::new();
            for rev in set.difference(&common) {
                for op in &history.entries[rev].file.up {
                    for (table, member) in objects_of(op) {
                        objects.entry(table).or_default().insert(member);
                    }
                }
            }
            objects
        })
        .collect();
    let mut conflicts = BTreeSet::new();
    for i in 0..touched.len() {
        for j in i + 1..touched.len() {
            for (table, a) in &touched[i] {
                let Some(b) = touched[j].get(table) else {
                    continue;
                };
                if a.contains(&None) || b.contains(&None) {
                    conflicts.insert(format!("table `{table}`"));
                }
                for m in a.intersection(b).flatten() {
                    conflicts.insert(format!("`{table}.{m}`"));
                }
            }
        }
    }
    let files = heads
        .iter()
        .map(|h| history.entries[h].path.clone())
        .collect();
    if !conflicts.is_empty() {
        return Err(Error::BranchConflict {
            files,
            objects: conflicts.into_iter().collect(),
        });
    }
    let refs: Vec<&str> = heads.iter().map(String::as_str).collect();
    history.replay(&refs).map_err(|e| Error::BranchConflict {
        files: heads
            .iter()
            .map(|h| history.entries[h].path.clone())
            .collect(),
        objects: vec![format!("objects that do not replay together ({e})")],
    })?;
    Ok(())
}

/// What an operation changes: the whole table (`None`) or one member of it.
fn objects_of(op: &Op) -> Vec<(String, Option<String>)> {
    let whole = |t: &str| vec![(t.to_string(), None)];
    let member = |t: &str, m: &str| vec![(t.to_string(), Some(m.to_string()))];
    match op {
        Op::CreateTable { table } => whole(&table.name),
        Op::DropTable { table } => whole(table),
        Op::RenameTable { from, to } => vec![(from.clone(), None), (to.clone(), None)],
        Op::AddColumn { table, column } => member(table, &column.name),
        Op::DropColumn { table, column } => member(table, column),
        Op::RenameColumn { table, from, to } => vec![
            (table.clone(), Some(from.clone())),
            (table.clone(), Some(to.clone())),
        ],
        Op::AlterColumn { table, column, .. } => member(table, column),
        Op::CreateIndex { table, index, .. } => {
            let mut v = member(table, &index.name);
            v.extend(
                index
                    .mentioned_columns()
                    .into_iter()
                    .map(|c| (table.clone(), Some(c))),
            );
            v
        }
        Op::DropIndex { table, name, .. } => member(table, name),
        Op::AddUnique { table, unique, .. } => member(table, &unique.name),
        Op::AddForeignKey {
            table, foreign_key, ..
        } => member(table, &foreign_key.name),
        Op::AddCheck { table, check, .. } => member(table, &check.name),
        Op::DropConstraint { table, name, .. } => member(table, name),
        Op::RenameIndex { table, from, to }
        | Op::RenameConstraint {
            table, from, to, ..
        } => vec![
            (table.clone(), Some(from.clone())),
            (table.clone(), Some(to.clone())),
        ],
        Op::SetTableComment { table, .. } => member(table, "(comment)"),
        Op::Backfill { table, column, .. } => member(table, column),
        Op::Execute { .. } | Op::RunRust { .. } => Vec::new(),
        // Objects have names of their own, apart from tables: two branches that both
        // touch one conflict.
        Op::CreateObject { object } | Op::DropObject { object } => {
            vec![(format!("({})", object.key()), None)]
        }
        Op::CreateEnum { name, .. } | Op::DropEnum { name, .. } | Op::AlterEnum { name, .. } => {
            vec![(format!("(enum {name})"), None)]
        }
    }
}
