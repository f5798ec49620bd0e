//! Compares what the models (or a replayed history) say with what a database holds, exactly,
//! through the database's [`Catalog`]: the expected side is put in the form the database
//! keeps it in, defaults and checks are compared in canonical form, and every attribute the
//! model says something about is compared — so the list is empty exactly when the database
//! equals the models. Each difference names the object.
//!
//! Names: a constraint read back without a name (SQLite keeps none for an unnamed one made
//! by another tool) matches by definition; every other is matched by name, so a renamed
//! index or constraint is a difference.

use crate::model::{
    CheckConstraint, Column, Deferral, ForeignKey, Index, Schema, Table, UniqueConstraint,
};
use crate::sql::Catalog;

/// Differences between `expected` (models or a replay, in retort's form) and `live` (as the
/// backend introspected it). Empty when they match.
///
/// ```
/// use retort_schema::compare::differences;
/// use retort_schema::sql::{Catalog, Dialect};
/// use retort_schema::{Column, ColumnType, Schema, Table};
/// let mut t = Table::new("tasks");
/// let mut n = Column::new("n", ColumnType::Integer);
/// n.server_default = Some("-1".into());
/// t.columns.push(n);
/// let expected = Schema::from_tables([t.clone()]);
/// t.columns[0].server_default = Some("'-1'::integer".into());
/// let pg = Catalog::of(Dialect::Postgres);
/// assert!(differences(&expected, &Schema::from_tables([t.clone()]), &pg).is_empty());
/// t.columns[0].server_default = Some("'-2'::integer".into());
/// assert_eq!(differences(&expected, &Schema::from_tables([t]), &pg),
///            ["column `tasks.n`: expected default -1, database has '-2'::integer"]);
/// ```
pub fn differences(expected: &Schema, live: &Schema, catalog: &Catalog) -> Vec<String> {
    let mut out = Vec::new();
    for (name, e) in &expected.tables {
        match live.tables.get(name) {
            None => out.push(format!("table `{name}` is missing from the database")),
            Some(l) => out.extend(table_differences(e, l, catalog)),
        }
    }
    // Tables of other schemas count where the models keep tables in that schema.
    let schema_used = |name: &str| match crate::sql::split_schema(name).0 {
        None => true,
        Some(s) => expected
            .tables
            .keys()
            .any(|t| crate::sql::split_schema(t).0 == Some(s)),
    };
    for name in live.tables.keys() {
        if !expected.tables.contains_key(name) && schema_used(name) {
            out.push(format!(
                "table `{name}` is in the database but not in the models"
            ));
        }
    }
    out.extend(object_differences(expected, live, catalog));
    out.extend(enum_differences(expected, live, catalog));
    out
}

/// Enum types (PostgreSQL's; elsewhere the values are the columns' and compared with
/// them): missing, extra, or with other values. A type declared in `sql/` is an object.
fn enum_differences(expected: &Schema, live: &Schema, catalog: &Catalog) -> Vec<String> {
    if catalog.dialect != crate::sql::Dialect::Postgres {
        return Vec::new();
    }
    let declared = |name: &str| {
        expected
            .objects
            .values()
            .any(|o| o.kind == crate::ObjectKind::Type && o.name == name)
    };
    let mut out = Vec::new();
    for (name, e) in &expected.enums {
        match live.enums.get(name) {
            None => out.push(format!("enum `{name}` is missing from the database")),
            Some(l) if l.values != e.values => out.push(format!(
                "enum `{name}`: expected the values ({}), database has ({})",
                e.values.join(", "),
                l.values.join(", ")
            )),
            Some(_) => {}
        }
    }
    for name in live.enums.keys() {
        if !expected.enums.contains_key(name) && !declared(name) {
            out.push(format!(
                "enum `{name}` is in the database but not in the models"
            ));
        }
    }
    out
}

/// Whether the catalog's text of an object (read into `live`'s statement) is what was
/// declared: SQLite keeps the whole statement as run; PostgreSQL a function's body, MySQL a
/// function's or trigger's body, each verbatim, so the declared statement must hold it.
/// Where the catalog keeps only a print of its own (views on the servers), the declared
/// object must carry the database's print of its statement (see `Backend::view_prints` in
/// retort); while it carries the statement itself, nothing is compared.
fn kept_as_declared(declared: &crate::DbObject, live: &crate::DbObject, catalog: &Catalog) -> bool {
    let (Some(d), Some(l)) = (
        declared.sql_for(catalog.dialect),
        live.sql_for(catalog.dialect),
    ) else {
        return true;
    };
    if l.trim().is_empty() {
        return true;
    }
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let view = matches!(
        declared.kind,
        crate::ObjectKind::View | crate::ObjectKind::MaterializedView
    );
    match catalog.dialect {
        crate::sql::Dialect::Sqlite => {
            crate::model::normalize_definition(d) == crate::model::normalize_definition(l)
        }
        // A server's view is its print: compared with the database's print of the declared
        // statement where the caller could get one (else `d` is the statement itself).
        _ if view => {
            crate::model::read_create(d).is_ok()
                || squash(d).trim_end_matches(';') == squash(l).trim_end_matches(';')
        }
        _ => squash(d).contains(&squash(l.trim_end_matches(';'))),
    }
}

/// Declared objects (those with a statement for this database) against the catalog's, by
/// kind and name (and a trigger's table), and their definitions where the catalog keeps them
/// as given.
fn object_differences(expected: &Schema, live: &Schema, catalog: &Catalog) -> Vec<String> {
    let mut out = Vec::new();
    let here = |o: &&crate::DbObject| o.sql_for(catalog.dialect).is_some();
    let words = |o: &crate::DbObject| match &o.table {
        Some(t) => format!("{} `{}` on `{t}`", o.kind.word(), o.name),
        None => format!("{} `{}`", o.kind.word(), o.name),
    };
    for o in expected.objects.values().filter(here) {
        match live.objects.get(&o.key()) {
            None => out.push(format!("{} is missing from the database", words(o))),
            Some(l) if l.table != o.table => out.push(format!(
                "{}: the database has it on `{}`",
                words(o),
                l.table.as_deref().unwrap_or("no table")
            )),
            Some(l) if !kept_as_declared(o, l, catalog) => out.push(format!(
                "{}: its definition in the database is not the declared one (changed by hand?); make it again from sql/, or declare what the database has",
                words(o)
            )),
            Some(_) => {}
        }
    }
    for (key, l) in &live.objects {
        // An enum type of the models is compared as one (below).
        if l.kind == crate::ObjectKind::Type && expected.enums.contains_key(&l.name) {
            continue;
        }
        if expected.objects.get(key).is_none_or(|o| !here(&o)) {
            out.push(format!(
                "{} is in the database but not in the models",
                words(l)
            ));
        }
    }
    out
}

/// The differences of one table (`expected` in retort's form; it is put in the database's).
pub fn table_differences(expected: &Table, live: &Table, catalog: &Catalog) -> Vec<String> {
    let e = catalog.stored_table(expected);
    let mut out = Vec::new();
    let d = Differ {
        t: &e.name,
        catalog,
        out: &mut out,
    };
    d.compare(&e, live);
    out
}

struct Differ<'a> {
    t: &'a str,
    catalog: &'a Catalog,
    out: &'a mut Vec<String>,
}

impl Differ<'_> {
    fn push(&mut self, s: String) {
        self.out.push(s);
    }

    fn compare(mut self, e: &Table, l: &Table) {
        let t = self.t;
        for ec in &e.columns {
            match l.column(&ec.name) {
                None => self.push(format!(
                    "column `{t}.{}` is missing from the database",
                    ec.name
                )),
                Some(lc) => self.column(ec, lc),
            }
        }
        for lc in &l.columns {
            if e.column(&lc.name).is_none() {
                self.push(format!(
                    "column `{t}.{}` is in the database but not in the models",
                    lc.name
                ));
            }
        }
        if e.primary_key != l.primary_key {
            self.push(format!(
                "primary key of `{t}`: expected ({}), database has ({})",
                e.primary_key.join(", "),
                l.primary_key.join(", ")
            ));
        }
        // A name read back empty is one the database does not keep (MySQL's is always
        // PRIMARY; SQLite keeps none for a rowid key or an unnamed one).
        let live_name = l.primary_key_constraint();
        if !e.primary_key.is_empty()
            && e.primary_key == l.primary_key
            && !live_name.is_empty()
            && self.catalog.dialect != crate::sql::Dialect::Mysql
            && e.primary_key_constraint() != live_name
        {
            self.push(format!(
                "primary key of `{t}`: expected the name `{}`, database has `{live_name}`",
                e.primary_key_constraint()
            ));
        }
        self.uniques(&e.uniques, &l.uniques);
        self.indexes(&e.indexes, &l.indexes);
        self.foreign_keys(&e.foreign_keys, &l.foreign_keys);
        self.checks(&e.checks, &l.checks);
        if self.catalog.stores_comments() && e.comment != l.comment {
            self.push(format!(
                "comment of `{t}`: expected {}, database has {}",
                shown(&e.comment),
                shown(&l.comment)
            ));
        }
    }

    fn column(&mut self, e: &Column, l: &Column) {
        let (t, n) = (self.t, &e.name);
        if e.ty != l.ty {
            self.push(format!(
                "column `{t}.{n}`: expected type {}, database has {}",
                e.ty, l.ty
            ));
        }
        if e.nullable != l.nullable {
            self.push(format!(
                "column `{t}.{n}`: expected {}, database has {}",
                if e.nullable { "NULL" } else { "NOT NULL" },
                if l.nullable { "NULL" } else { "NOT NULL" }
            ));
        }
        let key = |d: &Option<String>| d.as_deref().map(|d| self.catalog.default_key(&e.ty, d));
        if key(&e.server_default) != key(&l.server_default) {
            self.push(format!(
                "column `{t}.{n}`: expected default {}, database has {}",
                e.server_default.as_deref().unwrap_or("none"),
                l.server_default.as_deref().unwrap_or("none")
            ));
        }
        if e.autoincrement && l.autoincrement && e.identity_always != l.identity_always {
            let kind = |always: bool| {
                if always {
                    "GENERATED ALWAYS"
                } else {
                    "GENERATED BY DEFAULT"
                }
            };
            self.push(format!(
                "column `{t}.{n}`: expected {}, database has {}",
                kind(e.identity_always),
                kind(l.identity_always)
            ));
        }
        if e.autoincrement != l.autoincrement {
            self.push(format!(
                "column `{t}.{n}`: expected {}, database has {}",
                generated(e.autoincrement),
                generated(l.autoincrement)
            ));
        }
        if self.catalog.stores_comments() && e.comment != l.comment {
            self.push(format!(
                "column `{t}.{n}`: expected comment {}, database has {}",
                shown(&e.comment),
                shown(&l.comment)
            ));
        }
    }

    fn uniques(&mut self, expected: &[UniqueConstraint], live: &[UniqueConstraint]) {
        let t = self.t;
        let pairs = pair(expected, live, |u| &u.name, |a, b| a.columns == b.columns);
        for (e, l) in &pairs.matched {
            if e.columns != l.columns || e.nulls_not_distinct != l.nulls_not_distinct {
                self.push(format!(
                    "unique constraint `{}` on `{t}`: expected {}, database has {}",
                    e.name,
                    unique_definition(e),
                    unique_definition(l)
                ));
            }
            if e.deferral != l.deferral {
                self.push(deferral("unique constraint", &e.name, t, *e, *l));
            }
        }
        let unmatched = pairs.unmatched("unique constraint", t, |u| &u.name, unique_definition);
        self.out.extend(unmatched);
    }

    fn indexes(&mut self, expected: &[Index], live: &[Index]) {
        let t = self.t;
        let key = |i: &Index| self.catalog.index_key(i);
        let pairs = pair(expected, live, |i| &i.name, |a, b| key(a) == key(b));
        let mut found = Vec::new();
        for (e, l) in &pairs.matched {
            if key(e) != key(l) {
                found.push(format!(
                    "index `{}` on `{t}`: expected {}, database has {}",
                    e.name,
                    index_definition(e),
                    index_definition(l)
                ));
            }
        }
        found.extend(pairs.unmatched("index", t, |i| &i.name, index_definition));
        self.out.extend(found);
    }

    fn foreign_keys(&mut self, expected: &[ForeignKey], live: &[ForeignKey]) {
        let t = self.t;
        let same = |a: &ForeignKey, b: &ForeignKey| {
            a.columns == b.columns
                && a.referred_table == b.referred_table
                && a.referred_columns == b.referred_columns
                && a.on_delete == b.on_delete
                && a.on_update == b.on_update
        };
        let pairs = pair(expected, live, |f| &f.name, same);
        for (e, l) in &pairs.matched {
            if !same(e, l) {
                self.push(format!(
                    "foreign key `{}` on `{t}`: expected {}, database has {}",
                    e.name,
                    reference(e),
                    reference(l)
                ));
            }
            if e.not_valid != l.not_valid {
                self.push(validity("foreign key", &l.name, t, l.not_valid));
            }
            if e.deferral != l.deferral {
                self.push(deferral("foreign key", &e.name, t, *e, *l));
            }
        }
        let unmatched = pairs.unmatched("foreign key", t, |f| &f.name, reference);
        self.out.extend(unmatched);
    }

    fn checks(&mut self, expected: &[CheckConstraint], live: &[CheckConstraint]) {
        let t = self.t;
        let key = |c: &CheckConstraint| self.catalog.check_key(&c.expression);
        let pairs = pair(expected, live, |c| &c.name, |a, b| key(a) == key(b));
        let mut found = Vec::new();
        for (e, l) in &pairs.matched {
            if key(e) != key(l) {
                found.push(format!(
                    "check constraint `{}` on `{t}`: expected ({}), database has ({})",
                    e.name, e.expression, l.expression
                ));
            }
            if e.not_valid != l.not_valid {
                found.push(validity("check constraint", &l.name, t, l.not_valid));
            }
        }
        found.extend(pairs.unmatched(
            "check constraint",
            t,
            |c| &c.name,
            |c| format!("({})", c.expression),
        ));
        self.out.extend(found);
    }
}

/// Expected and live items paired: by name where the live one has a name, else by
/// definition.
struct Pairs<'a, T> {
    matched: Vec<(&'a T, &'a T)>,
    missing: Vec<&'a T>,
    extra: Vec<&'a T>,
}

impl<T> Pairs<'_, T> {
    /// What only one side has, a line each: "<kind> `name` on `table` <definition> is
    /// missing from the database" / "… is in the database but not in the models".
    fn unmatched(
        &self,
        kind: &str,
        table: &str,
        name: impl Fn(&T) -> &String,
        definition: impl Fn(&T) -> String,
    ) -> Vec<String> {
        let missing = self.missing.iter().map(|x| {
            format!(
                "{kind} `{}` on `{table}` {} is missing from the database",
                name(x),
                definition(x)
            )
        });
        let extra = self.extra.iter().map(|x| {
            format!(
                "{kind} {}on `{table}` {} is in the database but not in the models",
                named(name(x)),
                definition(x)
            )
        });
        missing.chain(extra).collect()
    }
}

fn pair<'a, T>(
    expected: &'a [T],
    live: &'a [T],
    name: impl Fn(&T) -> &String,
    same: impl Fn(&T, &T) -> bool,
) -> Pairs<'a, T> {
    let mut used = vec![false; live.len()];
    let mut matched = Vec::new();
    let mut missing = Vec::new();
    for e in expected {
        let by_name = live
            .iter()
            .enumerate()
            .find(|(i, l)| !used[*i] && !name(l).is_empty() && name(l) == name(e));
        let found = by_name.or_else(|| {
            live.iter()
                .enumerate()
                .find(|(i, l)| !used[*i] && name(l).is_empty() && same(e, l))
        });
        match found {
            Some((i, l)) => {
                used[i] = true;
                matched.push((e, l));
            }
            None => missing.push(e),
        }
    }
    let extra = live
        .iter()
        .enumerate()
        .filter(|(i, _)| !used[*i])
        .map(|(_, l)| l)
        .collect();
    Pairs {
        matched,
        missing,
        extra,
    }
}

fn reference(f: &ForeignKey) -> String {
    let mut s = format!(
        "({}) -> {}({})",
        f.columns.join(", "),
        f.referred_table,
        f.referred_columns.join(", ")
    );
    s.push_str(&format!(" ON DELETE {}", f.on_delete.sql()));
    s.push_str(&format!(" ON UPDATE {}", f.on_update.sql()));
    s
}

/// A constraint validated on one side and `NOT VALID` on the other, with the fix.
fn validity(kind: &str, name: &str, t: &str, live_not_valid: bool) -> String {
    if live_not_valid {
        format!(
            "{kind} `{name}` on `{t}` is NOT VALID in the database (rows written before it was added are not checked); the models expect it validated: ALTER TABLE {t} VALIDATE CONSTRAINT {name}"
        )
    } else {
        format!(
            "{kind} `{name}` on `{t}` is validated in the database; the models expect it NOT VALID"
        )
    }
}

/// A constraint checked at another time than the models say, with the fix.
fn deferral<T: HasDeferral>(kind: &str, name: &str, t: &str, e: &T, l: &T) -> String {
    let word = |d: Deferral| match d {
        Deferral::Immediate => "NOT DEFERRABLE",
        Deferral::DeferrableImmediate => "DEFERRABLE INITIALLY IMMEDIATE",
        Deferral::Deferred => "DEFERRABLE INITIALLY DEFERRED",
    };
    format!(
        "{kind} `{name}` on `{t}`: expected {}, database has {}",
        word(e.deferral()),
        word(l.deferral())
    )
}

trait HasDeferral {
    fn deferral(&self) -> Deferral;
}

impl HasDeferral for UniqueConstraint {
    fn deferral(&self) -> Deferral {
        self.deferral
    }
}

impl HasDeferral for ForeignKey {
    fn deferral(&self) -> Deferral {
        self.deferral
    }
}

/// An index as a reader would write it: `unique gin (a, (lower(b)) DESC) WHERE …`.
pub fn index_definition(i: &Index) -> String {
    if i.unique {
        format!("unique {}", index_shape(i))
    } else {
        index_shape(i)
    }
}

/// [`index_definition`] without `unique`.
pub fn index_shape(i: &Index) -> String {
    let mut s = String::new();
    if let Some(m) = &i.method {
        s.push_str(m);
        s.push(' ');
    }
    s.push_str(&format!("({})", i.key_texts().join(", ")));
    s.push_str(&i.trailing_clauses(&|c| c.to_string()));
    s
}

fn unique_definition(u: &UniqueConstraint) -> String {
    format!(
        "({}){}",
        u.columns.join(", "),
        if u.nulls_not_distinct {
            " NULLS NOT DISTINCT"
        } else {
            ""
        }
    )
}

fn named(name: &str) -> String {
    if name.is_empty() {
        String::new()
    } else {
        format!("`{name}` ")
    }
}

fn shown(comment: &Option<String>) -> String {
    comment
        .as_deref()
        .map_or("none".to_string(), |c| format!("{c:?}"))
}

fn generated(autoincrement: bool) -> &'static str {
    if autoincrement {
        "generated values (autoincrement)"
    } else {
        "no generated values"
    }
}
