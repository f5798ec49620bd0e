//! Checkpoints (`retort squash`): a migration that replaces the history up to a revision
//! with operations that build its schema from nothing. Shared by the build script and the
//! runtime, so both see the same graph:
//!
//! - while every replaced revision's file remains (the transition), the checkpoint is set
//!   aside: databases go through the old files, and the build proves the two equal;
//! - once those files are deleted, the checkpoint takes their place: a parent that names one
//!   of them names the checkpoint, and the version rows of a database that went through them
//!   count as the checkpoint's;
//! - a checkpoint with some of its files deleted and some not is an error.
//!
//! A checkpoint lists the revisions it replaces parents first; the last one is the revision
//! it stands for (the later migrations name it as their parent).
//!
//! ```
//! use retort_schema::checkpoint::Checkpoints;
//! let replaces = vec!["a", "b"];
//! // The transition: "a" and "b" are still there, so "c" is set aside.
//! let both = Checkpoints::of([("a", vec![]), ("b", vec![]), ("c", replaces.clone()), ("d", vec![])]);
//! assert!(both.set_aside.contains("c") && both.aliases.is_empty());
//! // Their files deleted: "c" stands for them, and a parent named "b" is "c".
//! let after = Checkpoints::of([("c", replaces), ("d", vec![])]);
//! assert_eq!(after.resolve_parents(["b"]), Some(vec!["c".to_string()]));
//! assert_eq!(after.resolve_parents(["d"]), None);
//! assert_eq!(after.alias("b"), Some("c"));
//! assert!(after.set_aside.is_empty());
//! ```

use std::collections::{BTreeMap, BTreeSet};

/// How the checkpoints of a set of revisions stand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checkpoints {
    /// Checkpoints whose revisions are all still present: left out of the graph.
    pub set_aside: BTreeSet<String>,
    /// A replaced revision whose file is gone → the checkpoint that takes its place.
    pub aliases: BTreeMap<String, String>,
    /// Checkpoints with some of their files deleted and some not, with those that remain.
    pub partial: Vec<(String, Vec<String>)>,
}

impl Checkpoints {
    /// Works out the checkpoints of `revisions` (each an id with what it replaces).
    pub fn of<'a>(revisions: impl IntoIterator<Item = (&'a str, Vec<&'a str>)>) -> Checkpoints {
        let list: Vec<(&str, Vec<&str>)> = revisions.into_iter().collect();
        let present: BTreeSet<&str> = list.iter().map(|(id, _)| *id).collect();
        let mut out = Checkpoints::default();
        // Newest checkpoints last (ids sort by time): a later one's aliases win.
        let mut checkpoints: Vec<&(&str, Vec<&str>)> =
            list.iter().filter(|(_, r)| !r.is_empty()).collect();
        crate::order::sort_by_text(&mut checkpoints, |c| c.0);
        for (id, replaces) in &checkpoints {
            let stands_for = replaces.last().copied().unwrap_or_default();
            if present.contains(stands_for) {
                out.set_aside.insert(id.to_string());
            }
        }
        for (id, replaces) in &checkpoints {
            if out.set_aside.contains(*id) {
                // What is gone must have been replaced by an earlier checkpoint it also
                // replaces (a squash of a history that starts with one).
                let gone: Vec<&str> = replaces
                    .iter()
                    .copied()
                    .filter(|r| !present.contains(r))
                    .collect();
                let covered = |r: &str| {
                    checkpoints.iter().any(|(c, cr)| {
                        present.contains(c) && replaces.iter().any(|x| x == c) && cr.contains(&r)
                    })
                };
                if gone.iter().any(|r| !covered(r)) {
                    let remaining = replaces
                        .iter()
                        .filter(|r| present.contains(*r))
                        .map(|r| r.to_string())
                        .collect();
                    out.partial.push((id.to_string(), remaining));
                }
            } else {
                let remaining: Vec<String> = replaces
                    .iter()
                    .filter(|r| present.contains(*r))
                    .map(|r| r.to_string())
                    .collect();
                if !remaining.is_empty() {
                    out.partial.push((id.to_string(), remaining));
                }
                for r in replaces {
                    out.aliases.insert(r.to_string(), id.to_string());
                }
            }
        }
        out
    }

    /// The checkpoint that took `id`'s place, if its file is gone.
    pub fn alias(&self, id: &str) -> Option<&str> {
        self.aliases.get(id).map(String::as_str)
    }

    /// `id`, or the checkpoint that took its place.
    pub fn resolve<'a>(&'a self, id: &'a str) -> &'a str {
        self.alias(id).unwrap_or(id)
    }

    /// `parents` with each replaced one resolved to its checkpoint (a checkpoint named
    /// twice that way listed once), or `None` when none of them was replaced.
    pub fn resolve_parents<'a>(
        &self,
        parents: impl IntoIterator<Item = &'a str>,
    ) -> Option<Vec<String>> {
        let parents: Vec<&str> = parents.into_iter().collect();
        if !parents.iter().any(|p| self.alias(p).is_some()) {
            return None;
        }
        let mut out: Vec<String> = Vec::new();
        for p in parents {
            let p = self.resolve(p);
            if !out.iter().any(|o| o == p) {
                out.push(p.to_string());
            }
        }
        Some(out)
    }

    /// Whether nothing needs handling: no checkpoints, or none in effect.
    pub fn is_empty(&self) -> bool {
        self.set_aside.is_empty() && self.aliases.is_empty() && self.partial.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn none<'a>() -> Vec<&'a str> {
        Vec::new()
    }

    #[test]
    fn a_checkpoint_of_a_history_that_starts_with_one() {
        let first = vec!["a", "b"];
        let second = vec!["a", "b", "c", "d"];
        // c1 in effect (a, b gone), c2's transition: d remains.
        let mid = Checkpoints::of([
            ("c1", first.clone()),
            ("d", none()),
            ("e", second.clone()),
            ("f", none()),
        ]);
        // `c` (the first checkpoint, renamed here "c1") is in `second` as "c": not present,
        // but `a`, `b` are covered by c1 only if second lists c1. It does not: partial.
        assert_eq!(mid.partial.len(), 1);
        let second = vec!["a", "b", "c1", "d"];
        let mid = Checkpoints::of([
            ("c1", first.clone()),
            ("d", none()),
            ("e", second.clone()),
            ("f", none()),
        ]);
        assert!(mid.partial.is_empty(), "{mid:?}");
        assert!(mid.set_aside.contains("e"));
        assert_eq!(mid.alias("a"), Some("c1"));
        // Everything before e deleted: e stands for all of it.
        let after = Checkpoints::of([("e", second.clone()), ("f", none())]);
        assert_eq!(after.alias("a"), Some("e"));
        assert_eq!(after.alias("c1"), Some("e"));
        assert!(after.partial.is_empty());
    }

    #[test]
    fn some_files_deleted_and_some_not_is_partial() {
        let r = vec!["a", "b", "c"];
        let p = Checkpoints::of([("b", none()), ("x", r.clone())]);
        assert_eq!(p.partial, [("x".to_string(), ids(&["b"]))]);
        let p = Checkpoints::of([("a", none()), ("c", none()), ("x", r.clone())]);
        assert_eq!(p.partial, [("x".to_string(), ids(&["a", "c"]))]);
    }
}
