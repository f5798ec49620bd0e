//! `sql <from>:<to>`: the upgrade as an SQL script, with no database — for review,
//! or for a DBA to run by hand. It records the revisions in the version table as a
//! real upgrade would.

use std::collections::BTreeSet;

use crate::backend::RowState;
use crate::backend::{self, AppliedRow};
use crate::error::{Error, Result};
use crate::graph::{revisions_or_base, Graph};
use retort_schema::sql::{Dialect, Step};

/// The script that upgrades a database from `from` (a revision or `base`) to `to`.
pub fn upgrade_sql(graph: &Graph, from: &str, to: &str, dialect: Dialect) -> Result<String> {
    let from_rev = graph.resolve(from)?;
    let to_rev = graph.resolve(to)?.ok_or_else(|| {
        Error::Usage("the target of `sql` cannot be base; write e.g. base:head".into())
    })?;
    let start: BTreeSet<String> = from_rev
        .as_deref()
        .map(|r| graph.ancestors(r))
        .unwrap_or_default();
    let end = graph.ancestors(&to_rev);
    if !start.is_subset(&end) {
        return Err(Error::Usage(format!("{from} is not an ancestor of {to}; `sql` writes upgrades (from an older to a newer revision)")));
    }
    let mut schema = graph.schema_at(&start)?;
    let mut out = format!(
        "-- retort: upgrade {} -> {to_rev} ({})\n-- Generated offline; review before running.\n\n",
        from_rev.as_deref().unwrap_or("base"),
        dialect.name()
    );
    let wrapping = backend::offline_wrapping(dialect);
    for s in wrapping.before {
        out.push_str(s);
        out.push_str(";\n");
    }
    let todo: BTreeSet<String> = end.difference(&start).cloned().collect();
    let mut first = true;
    for rev in graph.order(&todo) {
        out.push_str(&format!(
            "\n-- Running upgrade {} -> {}: {}\n",
            revisions_or_base(&rev.parents().collect::<Vec<_>>()),
            rev.id(),
            rev.message()
        ));
        let outside = !rev.atomic();
        if outside {
            for s in wrapping.outside.0 {
                out.push_str(&format!(
                    "{s}; -- atomic: false, so outside a transaction\n"
                ));
            }
        }
        for step in rev
            .render_ops(&rev.up(), &mut schema, dialect)?
            .into_iter()
            .flatten()
        {
            match step {
                Step::Sql(s) => {
                    out.push_str(s.trim_end().trim_end_matches(';'));
                    out.push_str(";\n");
                }
                Step::Batches { whole, .. } => {
                    out.push_str("-- backfill: retort fills the rows in batches, each committed on its own; a script cannot loop, so here as one statement\n");
                    out.push_str(&whole);
                    out.push_str(";\n");
                }
                Step::Rust(name) => {
                    eprintln!("warning: {} runs the Rust function {name}(), which has no SQL form; the script skips it", rev.id());
                    out.push_str(&format!("-- run({name}): a Rust data migration; it cannot be expressed as SQL and is skipped here\n"));
                }
                Step::Verify { query, problem } => {
                    // A script cannot report a sample value; it can still stop: the check
                    // constraint of a scratch table fails when the query returns a row.
                    out.push_str(&format!("-- check: {}\n", problem.replace('\n', " ")));
                    for s in backend::offline_verify_sql(&query) {
                        out.push_str(&s);
                        out.push_str(";\n");
                    }
                }
            }
        }
        let row = AppliedRow::for_revision(rev, RowState::Applied, 0);
        if first {
            out.push_str(&backend::versions::create_table(dialect));
            out.push_str(";\n");
        }
        out.push_str(&backend::versions::insert(&row, dialect));
        out.push_str(";\n");
        if outside {
            for s in wrapping.outside.1 {
                out.push_str(s);
                out.push_str(";\n");
            }
        }
        first = false;
    }
    out.push('\n');
    for s in wrapping.after {
        out.push_str(s);
        out.push_str(";\n");
    }
    Ok(out)
}
