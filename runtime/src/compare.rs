//! Compares a schema that changes step by step (the replay adoption walks) with a fixed live
//! one, through the database's catalog (see `retort_schema::compare`).

use std::collections::BTreeSet;

use retort_schema::compare::table_differences;
use retort_schema::sql::Catalog;
use retort_schema::{Schema, Table};

/// Whether one table is the same on both sides (absent on both counts as the same).
fn same_table(expected: Option<&Table>, live: Option<&Table>, catalog: &Catalog) -> bool {
    match (expected, live) {
        (None, None) => true,
        (Some(e), Some(l)) => table_differences(e, l, catalog).is_empty(),
        _ => false,
    }
}

/// A replay compared at every step, looking again only at the tables each step changed: a
/// replay of N revisions compared at every step costs O(changes), not O(N × schema).
pub(crate) struct Convergence<'l> {
    live: &'l Schema,
    catalog: Catalog,
    /// Tables that differ now.
    differing: BTreeSet<String>,
}

impl<'l> Convergence<'l> {
    /// Starts from an `expected` schema.
    pub(crate) fn new(expected: &Schema, live: &'l Schema, catalog: Catalog) -> Self {
        let mut c = Convergence {
            live,
            catalog,
            differing: BTreeSet::new(),
        };
        c.recheck_all(expected);
        c
    }

    /// Looks again at every table (after a step that can change tables it does not name).
    pub(crate) fn recheck_all(&mut self, expected: &Schema) {
        self.differing.clear();
        let names: BTreeSet<String> = expected
            .tables
            .keys()
            .chain(self.live.tables.keys())
            .cloned()
            .collect();
        self.recheck(expected, names.iter().map(String::as_str));
    }

    /// Looks again at the named tables.
    pub(crate) fn recheck<'a>(
        &mut self,
        expected: &Schema,
        names: impl IntoIterator<Item = &'a str>,
    ) {
        for name in names {
            if same_table(
                expected.tables.get(name),
                self.live.tables.get(name),
                &self.catalog,
            ) {
                self.differing.remove(name);
            } else {
                self.differing.insert(name.to_string());
            }
        }
    }

    /// Whether the two schemas are the same now.
    pub(crate) fn converged(&self) -> bool {
        self.differing.is_empty()
    }
}
