//! The `migration! { … }` grammar: one migration file's revision, parents, message
//! and operations. Parsed here for both the proc macro (to compile a migration)
//! and the build script (to replay the history), and rendered back by the generator.
//!
//! ```
//! let file = retort_schema::migration::parse_body(quote::quote! {
//!     revision: "20261126_054012_3f9a",
//!     parents: ["20261120_101010_0a1b"],
//!     message: "add tasks retry_count",
//!     up: [add_column("tasks", column("retry_count", integer, server_default = "0"))],
//!     down: [drop_column("tasks", "retry_count")],
//! }).unwrap();
//! assert_eq!(file.up[0].describe(), "add column tasks.retry_count (integer, NOT NULL, default 0)");
//! ```

mod call;
mod checksum;
mod parse;
mod render;

use std::collections::{BTreeMap, BTreeSet};

use crate::ops::Op;

pub use checksum::{ChecksumCheck, CHECKSUM_VERSION};
pub use parse::{conflict_marker_line, parse_body, parse_file, FileError};
pub use render::{render_column_type, render_op};

/// One migration as written in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationFile {
    /// Revision id: sortable timestamp plus a short unique suffix (`20261126_054012_3f9a`).
    pub revision: String,
    /// Parent revisions: none for the first, two for a merge.
    pub parents: Vec<String>,
    /// What the migration does, in a few words.
    pub message: String,
    /// Upgrade operations.
    pub up: Vec<Op>,
    /// Downgrade operations.
    pub down: Vec<Op>,
}

/// The revisions no other revision names as a parent, by id.
///
/// `revisions` yields each revision's id with its parents.
pub fn heads<'a>(revisions: impl IntoIterator<Item = (&'a str, &'a [String])>) -> Vec<String> {
    let all: Vec<(&str, &[String])> = revisions.into_iter().collect();
    let parents: BTreeSet<&str> = all
        .iter()
        .flat_map(|(_, ps)| ps.iter().map(String::as_str))
        .collect();
    let mut out: Vec<String> = all
        .iter()
        .filter(|(id, _)| !parents.contains(id))
        .map(|(id, _)| id.to_string())
        .collect();
    out.sort();
    out
}

/// `id` and every revision it descends from; `parents` answers `None` for an unknown id,
/// which is left out.
pub fn ancestors<'a>(id: &str, parents: impl Fn(&str) -> Option<&'a [String]>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![id.to_string()];
    while let Some(r) = stack.pop() {
        if let Some(ps) = parents(&r) {
            if seen.insert(r) {
                stack.extend(ps.iter().cloned());
            }
        }
    }
    seen
}

/// Orders revisions parents first, ties broken by id; revisions on a cycle are left out
/// (callers compare lengths to detect one). Parents outside `ids` are ignored.
///
/// ```
/// use std::collections::BTreeSet;
/// let parents = |id: &str| -> Vec<String> { if id == "b" { vec!["a".into()] } else { vec![] } };
/// let ids: BTreeSet<String> = ["b".to_string(), "a".to_string()].into();
/// assert_eq!(retort_schema::migration::topological_order(&ids, parents), ["a", "b"]);
/// ```
pub fn topological_order<P, I>(ids: &BTreeSet<String>, parents: P) -> Vec<String>
where
    P: Fn(&str) -> I,
    I: IntoIterator<Item = String>,
{
    let parents_in: BTreeMap<&str, Vec<String>> = ids
        .iter()
        .map(|id| {
            (
                id.as_str(),
                parents(id)
                    .into_iter()
                    .filter(|p| ids.contains(p))
                    .collect(),
            )
        })
        .collect();
    let mut waiting: BTreeMap<&str, usize> =
        parents_in.iter().map(|(id, ps)| (*id, ps.len())).collect();
    let mut ready: BTreeSet<&str> = waiting
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(id, _)| *id)
        .collect();
    waiting.retain(|_, n| *n > 0);
    let mut out = Vec::with_capacity(ids.len());
    while let Some(id) = ready.pop_first() {
        out.push(id.to_string());
        for (child, n) in waiting.iter_mut() {
            if parents_in[child].iter().any(|p| p == id) {
                *n -= 1;
                if *n == 0 {
                    ready.insert(child);
                }
            }
        }
        waiting.retain(|_, n| *n > 0);
    }
    out
}
