//! The shape of a migration history: which revision descends from which, in an order
//! that puts parents first. Shared by the build script (files on disk) and the runtime
//! (compiled migrations), so both order, find heads and take ancestors the same way.
//!
//! Everything here is linear in revisions + parent links (the order adds a log factor
//! for breaking ties by id): a history of 5 000 migrations costs 25 times one of 200, not
//! 625 times.
//!
//! ```
//! use retort_schema::graph::Shape;
//! let g = Shape::new([("b", vec!["a"]), ("a", vec![]), ("c", vec!["a"])]);
//! let ids: Vec<&str> = g.order().iter().map(|&i| g.id(i)).collect();
//! assert_eq!(ids, ["a", "b", "c"]);
//! assert_eq!(g.heads().iter().map(|&i| g.id(i)).collect::<Vec<_>>(), ["b", "c"]);
//! ```

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// The old name of [`Shape`].
#[deprecated(since = "0.1.0", note = "renamed to `Shape` (see docs/naming.md)")]
pub type RevisionGraph = Shape;

/// Revisions by index, with their parent and child links.
///
/// Indexes follow the ids' sort order. Parents that are not in the graph are kept aside
/// ([`Shape::missing_parents`]) and otherwise ignored; revisions on a cycle are
/// left out of [`Shape::order`] ([`Shape::on_cycle`] lists them).
#[derive(Debug, Clone, Default)]
pub struct Shape {
    ids: Vec<String>,
    index: HashMap<String, usize>,
    parents: Vec<Vec<usize>>,
    children: Vec<Vec<usize>>,
    missing: Vec<(usize, String)>,
    order: Vec<usize>,
}

impl Shape {
    /// The graph of `revisions`, each an id with its parents' ids. A repeated id keeps its
    /// first parents (callers refuse duplicates before building a graph).
    pub fn new<I, S, P, Q>(revisions: I) -> Shape
    where
        I: IntoIterator<Item = (S, P)>,
        S: Into<String>,
        P: IntoIterator<Item = Q>,
        Q: Into<String>,
    {
        let mut listed: Vec<(String, Vec<String>)> = revisions
            .into_iter()
            .map(|(id, ps)| (id.into(), ps.into_iter().map(Into::into).collect()))
            .collect();
        crate::order::sort_by_text(&mut listed, |(id, _)| id);
        listed.dedup_by(|later, first| later.0 == first.0);
        let index: HashMap<String, usize> = listed
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (id.clone(), i))
            .collect();
        let n = listed.len();
        let mut parents = vec![Vec::new(); n];
        let mut children = vec![Vec::new(); n];
        let mut missing = Vec::new();
        for (i, (_, ps)) in listed.iter().enumerate() {
            for p in ps {
                match index.get(p) {
                    Some(&j) => {
                        parents[i].push(j);
                        children[j].push(i);
                    }
                    None => missing.push((i, p.clone())),
                }
            }
        }
        let mut graph = Shape {
            ids: listed.into_iter().map(|(id, _)| id).collect(),
            index,
            parents,
            children,
            missing,
            order: Vec::new(),
        };
        graph.order = graph.kahn();
        graph
    }

    /// Kahn's algorithm with the ready set ordered by id (indexes sort like ids).
    fn kahn(&self) -> Vec<usize> {
        let mut waiting: Vec<usize> = self.parents.iter().map(Vec::len).collect();
        let mut ready: BinaryHeap<Reverse<usize>> = (0..self.ids.len())
            .filter(|&i| waiting[i] == 0)
            .map(Reverse)
            .collect();
        let mut out = Vec::with_capacity(self.ids.len());
        while let Some(Reverse(i)) = ready.pop() {
            out.push(i);
            for &c in &self.children[i] {
                waiting[c] -= 1;
                if waiting[c] == 0 {
                    ready.push(Reverse(c));
                }
            }
        }
        out
    }

    /// How many revisions.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The id at an index.
    pub fn id(&self, i: usize) -> &str {
        &self.ids[i]
    }

    /// The index of an id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// Children of a revision.
    pub fn children(&self, i: usize) -> &[usize] {
        &self.children[i]
    }

    /// Every revision, parents first, ties broken by id; revisions on a cycle are left out.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// Revisions that sit on (or below) a cycle, by id: those the order leaves out.
    pub fn on_cycle(&self) -> Vec<&str> {
        let mut placed = vec![false; self.len()];
        for &i in &self.order {
            placed[i] = true;
        }
        (0..self.len())
            .filter(|&i| !placed[i])
            .map(|i| self.id(i))
            .collect()
    }

    /// `(revision, parent)` for each parent id that is not in the graph.
    pub fn missing_parents(&self) -> impl Iterator<Item = (&str, &str)> {
        self.missing.iter().map(|(i, p)| (self.id(*i), p.as_str()))
    }

    /// Revisions nobody names as a parent, by id.
    pub fn heads(&self) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| self.children[i].is_empty())
            .collect()
    }

    /// A membership mask of `starts` and everything they descend from.
    pub fn ancestors_mask(&self, starts: impl IntoIterator<Item = usize>) -> Vec<bool> {
        let mut seen = vec![false; self.len()];
        let mut stack: Vec<usize> = starts.into_iter().collect();
        while let Some(i) = stack.pop() {
            if !seen[i] {
                seen[i] = true;
                stack.extend(self.parents[i].iter().copied());
            }
        }
        seen
    }

    /// The members of `mask`, parents first (the global order, filtered: a valid order of
    /// any subset closed under ancestry, and the same order every caller sees).
    pub fn ordered(&self, mask: &[bool]) -> Vec<usize> {
        self.order.iter().copied().filter(|&i| mask[i]).collect()
    }

    /// The members of `mask` that no member descends from: the current heads of an
    /// applied set.
    pub fn tips(&self, mask: &[bool]) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| mask[i] && !self.children[i].iter().any(|&c| mask[c]))
            .collect()
    }

    /// The ids in `mask`, in index (id) order.
    pub fn ids_in<'a>(&'a self, mask: &'a [bool]) -> impl Iterator<Item = &'a str> + 'a {
        (0..self.len()).filter(|&i| mask[i]).map(|i| self.id(i))
    }

    /// A mask of the given ids; unknown ids are ignored.
    pub fn mask_of<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Vec<bool> {
        let mut mask = vec![false; self.len()];
        for id in ids {
            if let Some(i) = self.index_of(id) {
                mask[i] = true;
            }
        }
        mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_parents_first_and_breaks_ties_by_id() {
        let g = Shape::new([
            ("m", vec!["b", "c"]),
            ("c", vec!["a"]),
            ("b", vec!["a"]),
            ("a", vec![]),
            ("z", vec!["gone"]),
        ]);
        let ids: Vec<&str> = g.order().iter().map(|&i| g.id(i)).collect();
        assert_eq!(ids, ["a", "b", "c", "m", "z"]);
        assert_eq!(g.missing_parents().collect::<Vec<_>>(), [("z", "gone")]);
        let heads: Vec<&str> = g.heads().iter().map(|&i| g.id(i)).collect();
        assert_eq!(heads, ["m", "z"]);
        let below_b = g.ancestors_mask([g.index_of("b").unwrap()]);
        let tips: Vec<&str> = g.tips(&below_b).iter().map(|&i| g.id(i)).collect();
        assert_eq!(tips, ["b"]);
        assert_eq!(g.ordered(&below_b).len(), 2);
    }

    #[test]
    fn revisions_on_a_cycle_are_left_out_of_the_order() {
        let g = Shape::new([("a", vec!["b"]), ("b", vec!["a"]), ("c", vec![])]);
        assert_eq!(g.order().len(), 1);
        assert_eq!(g.on_cycle(), ["a", "b"]);
    }

    #[test]
    fn a_long_chain_orders_in_linear_time() {
        // 200 000 revisions in a chain, listed child first: quadratic ordering would take
        // minutes; this takes milliseconds.
        let n = 200_000;
        let id = |i: usize| format!("r{i:07}");
        let g = Shape::new((0..n).rev().map(|i| {
            let parents = if i == 0 { vec![] } else { vec![id(i - 1)] };
            (id(i), parents)
        }));
        assert_eq!(g.order().len(), n);
        assert_eq!(g.id(g.order()[n - 1]), id(n - 1));
    }
}
