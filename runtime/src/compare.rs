//! Compares an expected schema with a live one, as far as the database can tell:
//! comments only where the database stores them, constraint names only where known.

use crate::schema::expr;
use crate::schema::{Column, ColumnType, Schema, Table};

/// Differences between what the migrations/models say (`expected`) and the database (`live`).
///
/// An empty list means the database matches.
pub fn differences(expected: &Schema, live: &Schema, compare_comments: bool) -> Vec<String> {
    let mut out = Vec::new();
    for (name, e) in &expected.tables {
        match live.tables.get(name) {
            None => out.push(format!("table `{name}` is missing from the database")),
            Some(l) => table(e, l, compare_comments, &mut out),
        }
    }
    for name in live.tables.keys() {
        if !expected.tables.contains_key(name) {
            out.push(format!(
                "table `{name}` is in the database but not in the models"
            ));
        }
    }
    out
}

/// Whether one table is the same on both sides (absent on both counts as the same).
fn same_table(expected: Option<&Table>, live: Option<&Table>, comments: bool) -> bool {
    match (expected, live) {
        (None, None) => true,
        (Some(e), Some(l)) => {
            let mut out = Vec::new();
            table(e, l, comments, &mut out);
            out.is_empty()
        }
        _ => false,
    }
}

/// Compares a schema that changes step by step (a replay) with a fixed live one, looking
/// again only at the tables each step changed: a replay of N revisions compared at every
/// step costs O(changes), not O(N × schema).
pub(crate) struct Convergence<'l> {
    live: &'l Schema,
    comments: bool,
    /// The database's form of an expected table (see `Backend::normalize`), where it has one.
    normalize: Option<&'l dyn Fn(&mut Table)>,
    /// Tables that differ now.
    differing: std::collections::BTreeSet<String>,
}

impl<'l> Convergence<'l> {
    /// Starts from an `expected` schema.
    pub(crate) fn new(
        expected: &Schema,
        live: &'l Schema,
        comments: bool,
        normalize: Option<&'l dyn Fn(&mut Table)>,
    ) -> Self {
        let mut c = Convergence {
            live,
            comments,
            normalize,
            differing: Default::default(),
        };
        c.recheck_all(expected);
        c
    }

    /// Looks again at every table (after a step that can change tables it does not name).
    pub(crate) fn recheck_all(&mut self, expected: &Schema) {
        self.differing.clear();
        let names: std::collections::BTreeSet<String> = expected
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
            let normalized = match (self.normalize, expected.tables.get(name)) {
                (Some(f), Some(t)) => {
                    let mut t = t.without_rename_hints();
                    f(&mut t);
                    Some(t)
                }
                _ => None,
            };
            let expected_table = normalized.as_ref().or(expected.tables.get(name));
            if same_table(expected_table, self.live.tables.get(name), self.comments) {
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

fn table(e: &Table, l: &Table, comments: bool, out: &mut Vec<String>) {
    let t = &e.name;
    for ec in &e.columns {
        match l.column(&ec.name) {
            None => out.push(format!(
                "column `{t}.{}` is missing from the database",
                ec.name
            )),
            Some(lc) => column(t, ec, lc, comments, out),
        }
    }
    for lc in &l.columns {
        if e.column(&lc.name).is_none() {
            out.push(format!(
                "column `{t}.{}` is in the database but not in the models",
                lc.name
            ));
        }
    }
    if e.primary_key != l.primary_key {
        out.push(format!(
            "primary key of `{t}`: expected ({}), database has ({})",
            e.primary_key.join(", "),
            l.primary_key.join(", ")
        ));
    }
    for u in &e.uniques {
        let found = l
            .uniques
            .iter()
            .any(|x| x.columns == u.columns && (x.name.is_empty() || x.name == u.name));
        if !found {
            out.push(format!(
                "unique constraint `{}` on `{t}` ({}) is missing",
                u.name,
                u.columns.join(", ")
            ));
        }
    }
    for u in &l.uniques {
        if !e.uniques.iter().any(|x| x.columns == u.columns) {
            out.push(format!(
                "the database has a unique constraint on `{t}` ({}) the models do not",
                u.columns.join(", ")
            ));
        }
    }
    for i in &e.indexes {
        match l.indexes.iter().find(|x| x.name == i.name) {
            None => out.push(format!("index `{}` on `{t}` is missing", i.name)),
            Some(x) if x.columns != i.columns || x.unique != i.unique => out.push(format!(
                "index `{}` on `{t}` differs: expected ({}), database has ({})",
                i.name,
                i.columns.join(", "),
                x.columns.join(", ")
            )),
            _ => {}
        }
    }
    for i in &l.indexes {
        if !e.indexes.iter().any(|x| x.name == i.name) {
            out.push(format!(
                "index `{}` on `{t}` is in the database but not in the models",
                i.name
            ));
        }
    }
    for f in &e.foreign_keys {
        let found = l.foreign_keys.iter().any(|x| {
            x.columns == f.columns
                && x.referred_table == f.referred_table
                && x.referred_columns == f.referred_columns
                && x.on_delete == f.on_delete
                && x.on_update == f.on_update
        });
        if !found {
            out.push(format!(
                "foreign key `{}` on `{t}` ({}) -> {} is missing or differs",
                f.name,
                f.columns.join(", "),
                f.referred_table
            ));
        }
    }
    for f in &l.foreign_keys {
        if !e
            .foreign_keys
            .iter()
            .any(|x| x.columns == f.columns && x.referred_table == f.referred_table)
        {
            out.push(format!(
                "the database has a foreign key on `{t}` ({}) -> {} the models do not",
                f.columns.join(", "),
                f.referred_table
            ));
        }
    }
    for c in &e.checks {
        match l.checks.iter().find(|x| x.name == c.name) {
            None => out.push(format!("check constraint `{}` on `{t}` is missing", c.name)),
            Some(x) if !expr::same(&x.expression, &c.expression) => out.push(format!(
                "check constraint `{}` on `{t}` differs: expected ({}), database has ({})",
                c.name, c.expression, x.expression
            )),
            _ => {}
        }
    }
    if comments && e.comment != l.comment {
        out.push(format!("comment of `{t}` differs"));
    }
}

fn column(t: &str, e: &Column, l: &Column, comments: bool, out: &mut Vec<String>) {
    let n = &e.name;
    // A database-generated key is stored as the database's own integer type.
    let same_type = e.ty == l.ty
        || (e.autoincrement && e.ty.is_integer() && l.ty.is_integer())
        || custom_equal(&e.ty, &l.ty);
    if !same_type {
        out.push(format!(
            "column `{t}.{n}`: expected type {}, database has {}",
            e.ty, l.ty
        ));
    }
    if e.nullable != l.nullable {
        out.push(format!(
            "column `{t}.{n}`: expected {}, database has {}",
            if e.nullable { "NULL" } else { "NOT NULL" },
            if l.nullable { "NULL" } else { "NOT NULL" }
        ));
    }
    if !same_default(&e.server_default, &l.server_default) {
        out.push(format!(
            "column `{t}.{n}`: expected default {}, database has {}",
            e.server_default.as_deref().unwrap_or("none"),
            l.server_default.as_deref().unwrap_or("none")
        ));
    }
    if e.autoincrement != l.autoincrement {
        out.push(format!("column `{t}.{n}`: autoincrement differs"));
    }
    if comments && e.comment != l.comment {
        out.push(format!("column `{t}.{n}`: comment differs"));
    }
}

/// Defaults mean the same: the same expression, or the same number however printed (MySQL
/// prints a DECIMAL(10,2) column's default 0 as 0.00).
fn same_default(a: &Option<String>, b: &Option<String>) -> bool {
    expr::same_opt(a, b)
        || matches!((a, b), (Some(x), Some(y)) if matches!(
            (x.trim().parse::<f64>(), y.trim().parse::<f64>()),
            (Ok(p), Ok(q)) if p == q
        ))
}

fn custom_equal(a: &ColumnType, b: &ColumnType) -> bool {
    match (a, b) {
        (ColumnType::Custom { sql: x }, ColumnType::Custom { sql: y }) => x.eq_ignore_ascii_case(y),
        _ => false,
    }
}
