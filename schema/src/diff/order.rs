//! The order in which tables are created and dropped: referenced tables first, and the
//! tables caught in reference cycles.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::Table;

/// Tables in an order where every table comes after the tables it references (where possible).
pub(super) fn creation_order<'a>(tables: &[&'a Table]) -> Vec<&'a Table> {
    let names: BTreeSet<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    let mut deps: BTreeMap<&str, BTreeSet<&str>> = tables
        .iter()
        .map(|t| {
            let d = t
                .foreign_keys
                .iter()
                .map(|f| f.referred_table.as_str())
                .filter(|r| *r != t.name && names.contains(r))
                .collect();
            (t.name.as_str(), d)
        })
        .collect();
    let by_name: BTreeMap<&str, &Table> = tables.iter().map(|t| (t.name.as_str(), *t)).collect();
    let mut order = Vec::with_capacity(tables.len());
    while !deps.is_empty() {
        let ready: Vec<&str> = deps
            .iter()
            .filter(|(_, d)| d.is_empty())
            .map(|(n, _)| *n)
            .collect();
        // A cycle: take the first remaining table; its foreign keys into the cycle are deferred.
        let ready = if ready.is_empty() {
            vec![*deps.keys().next().unwrap_or(&"")]
        } else {
            ready
        };
        for name in ready {
            deps.remove(name);
            for d in deps.values_mut() {
                d.remove(name);
            }
            if let Some(t) = by_name.get(name) {
                order.push(*t);
            }
        }
    }
    order
}

/// Dropped tables with referencing tables first, and the tables caught in reference cycles.
pub(super) fn drop_order<'a>(tables: &[&'a Table]) -> (Vec<&'a Table>, Vec<&'a Table>) {
    let names: BTreeSet<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    // referenced_by[t] = dropped tables that reference t and are not dropped yet.
    let mut referenced_by: BTreeMap<&str, BTreeSet<&str>> = tables
        .iter()
        .map(|t| (t.name.as_str(), BTreeSet::new()))
        .collect();
    for t in tables {
        for f in &t.foreign_keys {
            if f.referred_table != t.name && names.contains(f.referred_table.as_str()) {
                if let Some(set) = referenced_by.get_mut(f.referred_table.as_str()) {
                    set.insert(t.name.as_str());
                }
            }
        }
    }
    let by_name: BTreeMap<&str, &Table> = tables.iter().map(|t| (t.name.as_str(), *t)).collect();
    let mut order = Vec::new();
    loop {
        let ready: Vec<&str> = referenced_by
            .iter()
            .filter(|(_, r)| r.is_empty())
            .map(|(n, _)| *n)
            .collect();
        if ready.is_empty() {
            break;
        }
        for name in ready {
            referenced_by.remove(name);
            for r in referenced_by.values_mut() {
                r.remove(name);
            }
            order.push(by_name[name]);
        }
    }
    let cyclic = referenced_by.keys().map(|n| by_name[n]).collect();
    (order, cyclic)
}
