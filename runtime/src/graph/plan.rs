//! Paths through the revision graph: what an upgrade or a downgrade to a target runs, in
//! order.

use std::collections::BTreeSet;

use super::{revisions_or_base, Graph};
use crate::error::{Error, Result};

/// Whether `target` means "every revision" in this graph: `heads`, or `head` when there is
/// exactly one (with several, `head` is an error the planner reports).
pub(crate) fn names_the_head(graph: &Graph, target: &str) -> bool {
    target == "heads" || (target == "head" && graph.heads().len() == 1)
}

pub(crate) fn describe_at(graph: &Graph, applied: &BTreeSet<String>) -> String {
    revisions_or_base(&graph.current(applied))
}

/// Revisions to apply, parents first.
pub(crate) fn plan_upgrade(
    graph: &Graph,
    applied: &BTreeSet<String>,
    target: &str,
) -> Result<Vec<String>> {
    let pending = |wanted: Vec<&crate::graph::Revision>| -> Vec<String> {
        wanted
            .into_iter()
            .map(|r| r.id())
            .filter(|r| !applied.contains(*r))
            .map(str::to_string)
            .collect()
    };
    if let Some(n) = target.strip_prefix('+') {
        let n: usize = n.parse().map_err(|_| {
            Error::Usage(format!("`{target}` is not a step count; write +1, +2, …"))
        })?;
        let head = graph
            .single_head()?
            .ok_or_else(|| Error::NoSuchRevision("head".into()))?;
        let pending = pending(graph.ordered_ancestors(&head));
        if pending.len() < n {
            return Err(Error::Usage(format!(
                "cannot upgrade {target}: only {} migration(s) are pending",
                pending.len()
            )));
        }
        return Ok(pending.into_iter().take(n).collect());
    }
    let wanted = if target == "heads" {
        graph.ordered_heads_ancestry()
    } else {
        match graph.resolve(target)? {
            Some(rev) => graph.ordered_ancestors(&rev),
            None => Vec::new(),
        }
    };
    Ok(pending(wanted))
}

/// Revisions to undo, children first.
pub(crate) fn plan_downgrade(
    graph: &Graph,
    applied: &BTreeSet<String>,
    target: &str,
) -> Result<Vec<String>> {
    let mut ordered: Vec<String> = graph
        .order(applied)
        .into_iter()
        .map(|r| r.id().to_string())
        .collect();
    ordered.reverse();
    if let Some(n) = target.strip_prefix('-') {
        let n: usize = n.parse().map_err(|_| {
            Error::Usage(format!("`{target}` is not a step count; write -1, -2, …"))
        })?;
        if ordered.len() < n {
            return Err(Error::Usage(format!(
                "cannot downgrade {target}: only {} migration(s) are applied",
                ordered.len()
            )));
        }
        return Ok(ordered.into_iter().take(n).collect());
    }
    let keep = match graph.resolve(target)? {
        Some(rev) => {
            if !applied.contains(&rev) {
                return Err(Error::Usage(format!(
                    "cannot downgrade to {rev}: it is not applied (see `db current`)"
                )));
            }
            graph.ancestors(&rev)
        }
        None => BTreeSet::new(),
    };
    Ok(ordered.into_iter().filter(|r| !keep.contains(r)).collect())
}

/// The PostgreSQL schemas other than the connection's that the migrations keep tables in.
pub(crate) fn app_schemas(graph: &Graph) -> BTreeSet<String> {
    graph
        .all_ordered()
        .into_iter()
        .flat_map(|m| {
            m.up()
                .iter()
                .filter_map(|op| op.table())
                .filter_map(|t| retort_schema::sql::split_schema(t).0.map(str::to_string))
                .collect::<Vec<_>>()
        })
        .collect()
}
