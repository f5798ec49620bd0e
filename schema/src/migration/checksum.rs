//! Checksums of migrations over a documented canonical form of their operations.
//!
//! A checksum must change when what a migration does changes, and only then: not with
//! formatting, comments, line endings, the message, or how Rust types happen to be laid
//! out by serde. So it is computed over the canonical text defined here, which is part of
//! retort's compatibility promise, and it carries its algorithm's version:
//! `v1:<64 hex digits>`.
//!
//! # Canonical form, version 1
//!
//! Lines separated by `\n`:
//!
//! ```text
//! retort-checksum v1
//! revision <s>
//! parent <s>                 (one line per parent, in file order)
//! atomic 0                   (only for `atomic: false`)
//! replaces <s>               (one line per replaced revision, only on a checkpoint)
//! up <count>
//! <operation>                (one line each, in order)
//! down <count>
//! <operation>
//! ```
//!
//! A string `<s>` is written as its UTF-8 byte length, a colon, then the bytes (`5:tasks`),
//! so no character needs escaping. An optional string is `-` when absent and `+<s>` when
//! present; an `alter_column` change that is not made is `=` (keep). A list is its length
//! then its items, space separated. An operation is its Alembic name followed by its fields
//! in the order of the grammar, space separated; a column is
//! `col <name> <type> <nullable 0|1> <autoincrement 0|1> <default?> <comment?>`, a type is
//! its portable spelling (`varchar(36)`, `custom(<s>)`), a referential action its SQL
//! spelling with `_` for spaces. A `create_index` with `concurrently = true` ends with the
//! field `12:concurrently`; without it, nothing (so earlier checksums are unchanged).
//! Options added later follow the same rule — written only when set, so checksums of
//! migrations written before them stay: an index key that is not a plain column is
//! `text <its SQL form>` (`text published DESC`; a plain one stays its column's name), then
//! `using <s>`, `where <s>`, `include <list>`, `with <s>`, `nulls_not_distinct` follow the
//! unique flag; a unique constraint ends with `nulls_not_distinct` and, like a foreign key,
//! with `deferrable <immediate|deferred>` when deferrable; a foreign key or check ends with
//! `not_valid` when it is (and, in its online form, with `online`, as an `alter_column` and
//! a unique constraint do); `create_object` and `drop_object` are the kind's spelling, the
//! name, the trigger's table (optional) and the SQL as `execute`'s; an enum column's type
//! is `enum(<s> <list>)` (name, values); `create_enum` and `drop_enum` are the name and the
//! values, `alter_enum` the name, the old and new values and the renames (old and new, a
//! list of pairs flattened); a column with `identity_always` ends with that tag; a table's primary key list is followed by `pk_name <s>` when
//! it is named otherwise than `pk_<table>`.
//!
//! Version 0 (rows written by retort 0.1 before this module) was SHA-256 over serde JSON
//! of the same fields; such rows (64 hex digits, no prefix) are still accepted by
//! [`ChecksumCheck`].

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use super::MigrationFile;
use crate::model::{
    Column, ColumnType, Deferral, ForeignKey, Index, ReferentialAction, Table, UniqueConstraint,
};
use crate::ops::{ConstraintKind, DialectSql, Family, Op};

/// The algorithm version written by [`MigrationFile::checksum`].
pub const CHECKSUM_VERSION: &str = "v1";

/// How a recorded checksum compares with a migration's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumCheck {
    /// Same algorithm, same value.
    Matches,
    /// Recorded by an older algorithm whose value still matches: accept it.
    MatchesOlderVersion,
    /// The migration changed after it was recorded (or the algorithm is unknown).
    Differs,
}

impl MigrationFile {
    /// `v1:` and the SHA-256 of the [canonical form](self) of the revision, parents and
    /// operations. The message and the file's formatting do not change it.
    pub fn checksum(&self) -> String {
        format!(
            "{CHECKSUM_VERSION}:{}",
            hex(&Sha256::digest(self.canonical_form()))
        )
    }

    /// The text the checksum is computed over (see the module documentation).
    pub fn canonical_form(&self) -> String {
        let mut w = Canonical(String::new());
        w.0.push_str("retort-checksum v1\n");
        w.0.push_str("revision ");
        w.s(&self.revision);
        w.0.push('\n');
        for p in &self.parents {
            w.0.push_str("parent ");
            w.s(p);
            w.0.push('\n');
        }
        if !self.atomic {
            // Only when set: checksums of migrations written before it stay as they were.
            w.0.push_str("atomic 0\n");
        }
        for r in &self.replaces {
            w.0.push_str("replaces ");
            w.s(r);
            w.0.push('\n');
        }
        for (key, ops) in [("up", &self.up), ("down", &self.down)] {
            let _ = writeln!(w.0, "{key} {}", ops.len());
            for op in ops {
                w.op(op);
                w.0.push('\n');
            }
        }
        w.0
    }

    /// The checksum of retort 0.1 (version 0: SHA-256 over serde JSON), for old rows.
    /// (Feature `serde`: the `migration!` macro computes it at compile time.)
    #[cfg(feature = "serde")]
    pub fn checksum_v0(&self) -> String {
        #[derive(serde::Serialize)]
        struct V0<'a> {
            revision: &'a str,
            parents: &'a [String],
            up: &'a [Op],
            down: &'a [Op],
        }
        let json = serde_json::to_vec(&V0 {
            revision: &self.revision,
            parents: &self.parents,
            up: &self.up,
            down: &self.down,
        })
        .unwrap_or_else(|e| unreachable!("operations always serialize: {e}"));
        hex(&Sha256::digest(json))
    }

    /// Compares a recorded checksum with this migration, accepting older algorithm versions.
    ///
    /// `current` is this migration's [`MigrationFile::checksum`], passed in because callers
    /// keep it precomputed.
    #[cfg(feature = "serde")]
    pub fn check_recorded(&self, recorded: &str, current: &str) -> ChecksumCheck {
        if recorded == current {
            ChecksumCheck::Matches
        } else if recorded.len() == 64
            && recorded.bytes().all(|b| b.is_ascii_hexdigit())
            && recorded == self.checksum_v0()
        {
            ChecksumCheck::MatchesOlderVersion
        } else {
            ChecksumCheck::Differs
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

struct Canonical(String);

impl Canonical {
    fn s(&mut self, s: &str) {
        let _ = write!(self.0, "{}:{s}", s.len());
    }
    fn sp(&mut self) {
        self.0.push(' ');
    }
    fn word(&mut self, w: &str) {
        self.sp();
        self.0.push_str(w);
    }
    fn field(&mut self, s: &str) {
        self.sp();
        self.s(s);
    }
    fn opt(&mut self, v: Option<&str>) {
        self.sp();
        match v {
            None => self.0.push('-'),
            Some(s) => {
                self.0.push('+');
                self.s(s);
            }
        }
    }
    fn change(&mut self, v: &Option<Option<String>>) {
        match v {
            None => self.word("="),
            Some(inner) => self.opt(inner.as_deref()),
        }
    }
    fn list(&mut self, items: &[String]) {
        let _ = write!(self.0, " {}", items.len());
        for i in items {
            self.field(i);
        }
    }
    fn flag(&mut self, b: bool) {
        self.word(if b { "1" } else { "0" });
    }
    fn ty(&mut self, t: &ColumnType) {
        match t {
            ColumnType::Custom { sql } => {
                self.word("custom(");
                self.s(sql);
                self.0.push(')');
            }
            ColumnType::Enum { name, values } => {
                self.word("enum(");
                self.s(name);
                self.list(values);
                self.0.push(')');
            }
            other => self.word(&other.to_string()),
        }
    }
    fn column(&mut self, c: &Column) {
        self.word("col");
        self.field(&c.name);
        self.ty(&c.ty);
        self.flag(c.nullable);
        self.flag(c.autoincrement);
        self.opt(c.server_default.as_deref());
        self.opt(c.comment.as_deref());
        self.tag(c.identity_always, "identity_always");
    }
    fn action(&mut self, a: ReferentialAction) {
        self.word(&a.sql().replace(' ', "_"));
    }
    fn foreign_key(&mut self, f: &ForeignKey) {
        self.word("fk");
        self.field(&f.name);
        self.list(&f.columns);
        self.field(&f.referred_table);
        self.list(&f.referred_columns);
        self.action(f.on_delete);
        self.action(f.on_update);
        self.deferral(f.deferral);
        self.tag(f.not_valid, "not_valid");
    }
    /// `<tag>` only when set, so checksums written before the option existed stay.
    fn tag(&mut self, set: bool, tag: &str) {
        if set {
            self.field(tag);
        }
    }
    fn deferral(&mut self, d: Deferral) {
        if let Some(when) = d.deferrable() {
            self.field("deferrable");
            self.field(when);
        }
    }
    fn unique(&mut self, u: &UniqueConstraint) {
        self.field(&u.name);
        self.list(&u.columns);
        self.tag(u.nulls_not_distinct, "nulls_not_distinct");
        self.deferral(u.deferral);
    }
    fn index(&mut self, i: &Index) {
        self.word("ix");
        self.field(&i.name);
        // A plain key is its column's name (as before keys had options); any other is
        // `text <its SQL form>`.
        let keys: Vec<String> = i
            .keys
            .iter()
            .map(|k| {
                if k.is_plain() {
                    k.target.clone()
                } else {
                    format!("text {k}")
                }
            })
            .collect();
        self.list(&keys);
        self.flag(i.unique);
        if let Some(m) = &i.method {
            self.field("using");
            self.field(m);
        }
        if let Some(p) = &i.predicate {
            self.field("where");
            self.field(p);
        }
        if !i.include.is_empty() {
            self.field("include");
            self.list(&i.include);
        }
        if !i.with.is_empty() {
            self.field("with");
            self.field(&i.with_sql());
        }
        self.tag(i.nulls_not_distinct, "nulls_not_distinct");
    }
    fn table(&mut self, t: &Table) {
        self.field(&t.name);
        self.opt(t.comment.as_deref());
        let _ = write!(self.0, " {}", t.columns.len());
        for c in &t.columns {
            self.column(c);
        }
        self.list(&t.primary_key);
        if let Some(n) = &t.primary_key_name {
            self.field("pk_name");
            self.field(n);
        }
        let _ = write!(self.0, " {}", t.uniques.len());
        for u in &t.uniques {
            self.word("uq");
            self.unique(u);
        }
        let _ = write!(self.0, " {}", t.indexes.len());
        for i in &t.indexes {
            self.index(i);
        }
        let _ = write!(self.0, " {}", t.foreign_keys.len());
        for f in &t.foreign_keys {
            self.foreign_key(f);
        }
        let _ = write!(self.0, " {}", t.checks.len());
        for c in &t.checks {
            self.word("ck");
            self.field(&c.name);
            self.field(&c.expression);
            self.tag(c.not_valid, "not_valid");
        }
    }
    fn dialect_sql(&mut self, sql: &DialectSql) {
        match sql {
            DialectSql::All(s) => {
                self.word("all");
                self.field(s);
            }
            DialectSql::PerDialect {
                sqlite,
                postgres,
                mysql,
            } => {
                self.word("per_dialect");
                self.opt(sqlite.as_deref());
                self.opt(postgres.as_deref());
                self.opt(mysql.as_deref());
            }
        }
    }
    fn kind(&mut self, kind: ConstraintKind) {
        self.word(kind.word());
    }
    fn op(&mut self, op: &Op) {
        // The variant, not `Op::name`, which reads the same for both comment forms.
        let tag = match op {
            Op::SetTableComment { .. } => "set_table_comment",
            other => other.name(),
        };
        self.0.push_str(tag);
        match op.family() {
            Family::Tables => self.op_tables(op),
            Family::Columns => self.op_columns(op),
            Family::Indexes => self.op_indexes(op),
            Family::Rest => self.op_rest(op),
        }
    }

    /// Tables as a whole.
    fn op_tables(&mut self, op: &Op) {
        match op {
            Op::CreateTable { table } => self.table(table),
            Op::DropTable { table } => self.field(table),
            Op::RenameTable { from, to } => {
                self.field(from);
                self.field(to);
            }
            Op::SetTableComment { table, comment } => {
                self.field(table);
                self.opt(comment.as_deref());
            }
            _ => unreachable!("op sends only these operations here"),
        }
    }

    /// Columns, and backfills.
    fn op_columns(&mut self, op: &Op) {
        match op {
            Op::AddColumn { table, column } => {
                self.field(table);
                self.column(column);
            }
            Op::DropColumn { table, column } => {
                self.field(table);
                self.field(column);
            }
            Op::RenameColumn { table, from, to } => {
                self.field(table);
                self.field(from);
                self.field(to);
            }
            Op::AlterColumn {
                table,
                column,
                changes,
                online,
            } => {
                self.field(table);
                self.field(column);
                match &changes.ty {
                    None => self.word("="),
                    Some(t) => self.ty(t),
                }
                match changes.nullable {
                    None => self.word("="),
                    Some(n) => self.flag(n),
                }
                self.change(&changes.server_default);
                self.change(&changes.comment);
                self.tag(*online, "online");
            }
            Op::Backfill {
                table,
                column,
                value,
                batch,
            } => {
                self.field(table);
                self.field(column);
                self.field(value);
                self.field(&batch.to_string());
            }
            _ => unreachable!("op sends only these operations here"),
        }
    }

    /// Indexes and constraints.
    fn op_indexes(&mut self, op: &Op) {
        match op {
            Op::CreateIndex {
                table,
                index,
                concurrently,
            } => {
                self.field(table);
                self.index(index);
                // Only when set: checksums of migrations written before it stay as they were.
                if *concurrently {
                    self.field("concurrently");
                }
            }
            Op::DropIndex {
                table,
                name,
                concurrently,
            } => {
                self.field(table);
                self.field(name);
                // Only when set, as for create_index.
                if *concurrently {
                    self.field("concurrently");
                }
            }
            Op::AddUnique {
                table,
                unique,
                online,
            } => {
                self.field(table);
                self.unique(unique);
                self.tag(*online, "online");
            }
            Op::AddForeignKey {
                table,
                foreign_key,
                online,
            } => {
                self.field(table);
                self.foreign_key(foreign_key);
                self.tag(*online, "online");
            }
            Op::AddCheck {
                table,
                check,
                online,
            } => {
                self.field(table);
                self.field(&check.name);
                self.field(&check.expression);
                self.tag(check.not_valid, "not_valid");
                self.tag(*online, "online");
            }
            Op::DropConstraint { table, name, kind } => {
                self.field(table);
                self.field(name);
                self.kind(*kind);
            }
            Op::RenameIndex { table, from, to } => {
                self.field(table);
                self.field(from);
                self.field(to);
            }
            Op::RenameConstraint {
                table,
                from,
                to,
                kind,
            } => {
                self.field(table);
                self.field(from);
                self.field(to);
                self.kind(*kind);
            }
            _ => unreachable!("op sends only these operations here"),
        }
    }

    /// Raw SQL, Rust functions, database objects and enum types.
    fn op_rest(&mut self, op: &Op) {
        match op {
            Op::Execute { sql } => self.dialect_sql(sql),
            Op::RunRust { function } => self.field(function),
            Op::CreateObject { object } | Op::DropObject { object } => {
                self.word(object.kind.ident());
                self.field(&object.name);
                self.opt(object.table.as_deref());
                self.dialect_sql(&object.sql);
            }
            Op::CreateEnum { name, values } | Op::DropEnum { name, values } => {
                self.field(name);
                self.list(values);
            }
            Op::AlterEnum {
                name,
                from,
                to,
                renamed,
            } => {
                self.field(name);
                self.list(from);
                self.list(to);
                let flat: Vec<String> = renamed
                    .iter()
                    .flat_map(|(o, n)| [o.clone(), n.clone()])
                    .collect();
                self.list(&flat);
            }
            _ => unreachable!("op sends only these operations here"),
        }
    }
}
