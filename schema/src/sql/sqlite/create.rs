//! `CREATE TABLE` and column definitions as SQLite spells them, each written into one
//! buffer (a migration's table costs one string, not one per clause).

use super::catalog::{default_clause, enum_check, sqlite_type};
use crate::model::{Column, Table};
use crate::sql::{push_ident, Dialect};

/// A column's definition (`"name" TYPE NOT NULL DEFAULT …`), as `ADD COLUMN` takes it.
pub(super) fn column_def(t: &Table, c: &Column) -> String {
    let mut s = String::new();
    push_column_def(&mut s, t, c);
    s
}

/// Whether `c` is `t`'s rowid key: its one primary-key column, autoincremented.
fn is_rowid_key(t: &Table, c: &Column) -> bool {
    c.autoincrement && t.primary_key.len() == 1 && t.primary_key[0] == c.name
}

/// A column's definition, written at the end of `out`.
fn push_column_def(out: &mut String, t: &Table, c: &Column) {
    push_ident(out, &c.name, Dialect::Sqlite);
    if is_rowid_key(t, c) {
        // Only `INTEGER PRIMARY KEY` aliases the rowid; AUTOINCREMENT never reuses ids.
        out.push_str(" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL");
        return;
    }
    out.push(' ');
    out.push_str(&sqlite_type(&c.ty));
    if !c.nullable {
        out.push_str(" NOT NULL");
    }
    if let Some(d) = &c.server_default {
        out.push_str(&default_clause(d));
    }
    if let Some(check) = enum_check(c) {
        out.push_str(" CHECK (");
        out.push_str(&check);
        out.push(')');
    }
}

/// `name, name, …`, each quoted, written at the end of `out`.
fn push_idents(out: &mut String, names: &[String]) {
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_ident(out, name, Dialect::Sqlite);
    }
}

/// `CREATE TABLE` for `t` under the name `name`, written into one buffer.
pub(super) fn create_table(t: &Table, name: &str) -> String {
    let mut s = String::with_capacity(64 + 48 * t.columns.len());
    s.push_str("CREATE TABLE ");
    push_ident(&mut s, name, Dialect::Sqlite);
    s.push_str(" (");
    // Each clause on its own line, after a comma from the second on.
    let mut first = true;
    let mut line = |s: &mut String| {
        s.push_str(if first { "\n    " } else { ",\n    " });
        first = false;
    };
    for c in &t.columns {
        line(&mut s);
        push_column_def(&mut s, t, c);
    }
    // `CONSTRAINT "name" KIND (columns`, the list left open.
    let mut constraint = |s: &mut String, name: &str, kind: &str, columns: &[String]| {
        line(s);
        s.push_str("CONSTRAINT ");
        push_ident(s, name, Dialect::Sqlite);
        s.push_str(kind);
        push_idents(s, columns);
    };
    let rowid_key = t.columns.iter().any(|c| is_rowid_key(t, c));
    if !t.primary_key.is_empty() && !rowid_key {
        constraint(
            &mut s,
            &t.primary_key_constraint(),
            " PRIMARY KEY (",
            &t.primary_key,
        );
        s.push(')');
    }
    for u in &t.uniques {
        constraint(&mut s, &u.name, " UNIQUE (", &u.columns);
        s.push(')');
    }
    for fk in &t.foreign_keys {
        constraint(&mut s, &fk.name, " FOREIGN KEY (", &fk.columns);
        s.push_str(") REFERENCES ");
        push_ident(&mut s, &fk.referred_table, Dialect::Sqlite);
        s.push_str(" (");
        push_idents(&mut s, &fk.referred_columns);
        s.push(')');
        if fk.on_delete != crate::ReferentialAction::NoAction {
            s.push_str(" ON DELETE ");
            s.push_str(fk.on_delete.sql());
        }
        if fk.on_update != crate::ReferentialAction::NoAction {
            s.push_str(" ON UPDATE ");
            s.push_str(fk.on_update.sql());
        }
        s.push_str(fk.deferral.sql());
    }
    for c in &t.checks {
        constraint(&mut s, &c.name, " CHECK (", &[]);
        s.push_str(&c.expression);
        s.push(')');
    }
    s.push_str("\n)");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        CheckConstraint, ColumnType, Deferral, ForeignKey, ReferentialAction, UniqueConstraint,
    };

    /// Every clause, as the `format!`-and-`join` renderer wrote it (SQLite keeps the text in
    /// `sqlite_master`, and introspection reads constraint names back from it).
    #[test]
    fn every_clause_as_before() {
        let mut t = Table::new("or\"der");
        let mut id = Column::new("id", ColumnType::BigInt);
        id.server_default = Some("0".into());
        let mut mood = Column::new(
            "mood",
            ColumnType::Enum {
                name: "mood".into(),
                values: vec!["it's".into(), "ok".into()],
            },
        );
        mood.nullable = true;
        t.columns = vec![id, Column::new("pa\"rent", ColumnType::Integer), mood];
        t.primary_key = vec!["id".into(), "pa\"rent".into()];
        t.uniques = vec![UniqueConstraint {
            name: "uq_mood".into(),
            columns: vec!["mood".into(), "id".into()],
            nulls_not_distinct: false,
            deferral: Deferral::Immediate,
        }];
        t.foreign_keys = vec![ForeignKey {
            name: "fk_parent".into(),
            columns: vec!["pa\"rent".into()],
            referred_table: "parent".into(),
            referred_columns: vec!["id".into()],
            on_delete: ReferentialAction::Cascade,
            on_update: ReferentialAction::SetNull,
            deferral: Deferral::Deferred,
            not_valid: false,
        }];
        t.checks = vec![CheckConstraint {
            name: "ck_id".into(),
            expression: "id >= 0".into(),
            not_valid: false,
        }];
        assert_eq!(
            create_table(&t, "_new_order"),
            "CREATE TABLE \"_new_order\" (\n    \"id\" BIGINT NOT NULL DEFAULT 0,\n    \"pa\"\"rent\" INTEGER NOT NULL,\n    \"mood\" TEXT CHECK (\"mood\" IN ('it''s', 'ok')),\n    CONSTRAINT \"pk_or\"\"der\" PRIMARY KEY (\"id\", \"pa\"\"rent\"),\n    CONSTRAINT \"uq_mood\" UNIQUE (\"mood\", \"id\"),\n    CONSTRAINT \"fk_parent\" FOREIGN KEY (\"pa\"\"rent\") REFERENCES \"parent\" (\"id\") ON DELETE CASCADE ON UPDATE SET NULL DEFERRABLE INITIALLY DEFERRED,\n    CONSTRAINT \"ck_id\" CHECK (id >= 0)\n)"
        );
        let mut key = Column::new("id", ColumnType::Integer);
        key.autoincrement = true;
        let mut t = Table::new("t");
        t.columns = vec![key.clone(), Column::new("n", ColumnType::Text)];
        t.primary_key = vec!["id".into()];
        assert_eq!(
            create_table(&t, "t"),
            "CREATE TABLE \"t\" (\n    \"id\" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,\n    \"n\" TEXT NOT NULL\n)"
        );
        assert_eq!(
            column_def(&t, &key),
            "\"id\" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL"
        );
    }
}
