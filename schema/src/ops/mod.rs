//! Migration operations in Alembic's vocabulary: what they are (here), how each reads to a
//! person ([`describe`]), how each changes a schema ([`apply`]), and what undoes it
//! ([`inverse`]).
//!
//! Operations are small, like Alembic's `op.*`: a drop names what it drops, an
//! alteration names only what changes. Whatever else a renderer or an inverse
//! needs comes from the schema before the operation, which the replay of the
//! history always has.

mod apply;
mod describe;
mod inverse;

use crate::model::{
    CheckConstraint, Column, ColumnType, DbObject, ForeignKey, Index, Table, UniqueConstraint,
};

pub use inverse::is_narrowing;

/// One schema change (or an escape hatch: raw SQL, a Rust function).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
// The layout stays internally tagged: version-0 checksums (rows written by retort 0.1) are a
// hash of exactly this JSON. (Externally tagged would decode ~40 % faster.)
#[cfg_attr(
    feature = "serde",
    serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)
)]
pub enum Op {
    /// `create_table`: a table with its columns and constraints (indexes are separate ops).
    CreateTable {
        /// The new table; its `indexes` list is empty.
        table: Table,
    },
    /// `drop_table`.
    DropTable {
        /// Table name.
        table: String,
    },
    /// `rename_table`: data kept.
    RenameTable {
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// `add_column`.
    AddColumn {
        /// Table name.
        table: String,
        /// The new column (appended).
        column: Column,
    },
    /// `drop_column`.
    DropColumn {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
    },
    /// `rename_column`: data kept.
    RenameColumn {
        /// Table name.
        table: String,
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// `alter_column`: only the given attributes change.
    AlterColumn {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
        /// What changes.
        changes: ColumnChanges,
        /// The form that does not hold writes up while it scans (PostgreSQL: a `CHECK (… IS NOT
        /// NULL) NOT VALID`, validated, then `SET NOT NULL` without a scan, then the check
        /// dropped), in statements of their own: the migration must say `atomic: false`.
        /// Only for a change of nullability (with a default or a comment); elsewhere the plain
        /// statement.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "std::ops::Not::not")
        )]
        online: bool,
    },
    /// `create_index`.
    CreateIndex {
        /// Table name.
        table: String,
        /// The index.
        index: Index,
        /// Build it without blocking writes (PostgreSQL's `CREATE INDEX CONCURRENTLY`), which
        /// cannot run in a transaction: the migration must say `atomic: false`. Elsewhere a
        /// plain `CREATE INDEX`.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "std::ops::Not::not")
        )]
        concurrently: bool,
    },
    /// `drop_index`.
    DropIndex {
        /// Table name.
        table: String,
        /// Index name.
        name: String,
        /// PostgreSQL's `DROP INDEX CONCURRENTLY IF EXISTS` (outside a transaction, in a
        /// migration with `atomic: false`): waits for the queries using the index instead of
        /// queueing every query of the table behind its lock. Elsewhere the plain drop.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "std::ops::Not::not")
        )]
        concurrently: bool,
    },
    /// `create_unique_constraint`.
    AddUnique {
        /// Table name.
        table: String,
        /// The constraint.
        unique: UniqueConstraint,
        /// Built without blocking writes (PostgreSQL: the unique index built concurrently, then
        /// `ADD CONSTRAINT … USING INDEX`), outside a transaction: the migration must say
        /// `atomic: false`. Elsewhere the plain statement.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "std::ops::Not::not")
        )]
        online: bool,
    },
    /// `create_foreign_key`.
    AddForeignKey {
        /// Table name (the referencing one).
        table: String,
        /// The constraint.
        foreign_key: ForeignKey,
        /// Checked without blocking writes (PostgreSQL: added `NOT VALID`, then `VALIDATE
        /// CONSTRAINT` in a statement of its own), outside a transaction: the migration must
        /// say `atomic: false`. Elsewhere the plain statement.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "std::ops::Not::not")
        )]
        online: bool,
    },
    /// `create_check_constraint`.
    AddCheck {
        /// Table name.
        table: String,
        /// The constraint.
        check: CheckConstraint,
        /// Checked without blocking writes (PostgreSQL: added `NOT VALID`, then `VALIDATE
        /// CONSTRAINT` in a statement of its own), outside a transaction: the migration must
        /// say `atomic: false`. Elsewhere the plain statement.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "std::ops::Not::not")
        )]
        online: bool,
    },
    /// `drop_constraint`.
    DropConstraint {
        /// Table name.
        table: String,
        /// Constraint name.
        name: String,
        /// Which kind of constraint.
        kind: ConstraintKind,
    },
    /// `rename_index`: the index follows a table or column rename under its new name,
    /// without being built again.
    RenameIndex {
        /// Table name.
        table: String,
        /// Old index name.
        from: String,
        /// New index name.
        to: String,
    },
    /// `rename_constraint`: a unique constraint, foreign key or check under a new name,
    /// without being checked again where the database can rename it.
    RenameConstraint {
        /// Table name.
        table: String,
        /// Old constraint name.
        from: String,
        /// New constraint name.
        to: String,
        /// Which kind of constraint.
        kind: ConstraintKind,
    },
    /// `create_table_comment` / `drop_table_comment`.
    SetTableComment {
        /// Table name.
        table: String,
        /// The new comment; `None` drops it.
        comment: Option<String>,
    },
    /// `execute`: raw SQL, for every dialect or per dialect. Does not change the replayed schema.
    Execute {
        /// The statements.
        sql: DialectSql,
    },
    /// `backfill`: sets `column` to `value` (an SQL expression, evaluated per row) in the
    /// rows where it is `NULL`, `batch` rows at a time, each batch committed on its own, until
    /// none is left: the online way to fill a column over a large table without holding its
    /// rows locked for the whole update. Runs only outside a transaction (`atomic: false`);
    /// an interrupted run goes on with the rows still `NULL`. Rows where `value` is itself
    /// `NULL` are left as they are. Does not change the replayed schema.
    Backfill {
        /// Table name.
        table: String,
        /// The column to fill.
        column: String,
        /// The value, as an SQL expression (it may name the row's columns).
        value: String,
        /// Rows per batch.
        batch: u32,
    },
    /// `run`: a named Rust function (a data migration). Does not change the replayed schema.
    RunRust {
        /// The function's name, as written in the migration file.
        function: String,
    },
    /// `create_object`: a view, function, trigger, extension or sequence declared as code.
    CreateObject {
        /// The object, with its `CREATE` statement(s).
        object: DbObject,
    },
    /// `drop_object`: the object as it was (so the downgrade can make it again).
    DropObject {
        /// The object, with its `CREATE` statement(s).
        object: DbObject,
    },
    /// `create_enum`: an enum type (PostgreSQL's `CREATE TYPE … AS ENUM`; nothing to run
    /// elsewhere, where the columns hold the values).
    CreateEnum {
        /// The type's SQL name.
        name: String,
        /// Its values, in order.
        values: Vec<String>,
    },
    /// `drop_enum`: the type as it was (so the downgrade can make it again).
    DropEnum {
        /// The type's SQL name.
        name: String,
        /// Its values, in order.
        values: Vec<String>,
    },
    /// `alter_enum`: the values of an enum type change from `from` to `to`; `renamed` pairs
    /// (old, new) keep their rows. A value only added is PostgreSQL's `ADD VALUE`; a value
    /// removed, or an order changed, rebuilds the type after checking that no row holds a
    /// value that goes.
    AlterEnum {
        /// The type's SQL name.
        name: String,
        /// The values before.
        from: Vec<String>,
        /// The values after.
        to: Vec<String>,
        /// Values renamed, `(old, new)`.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Vec::is_empty")
        )]
        renamed: Vec<(String, String)>,
    },
}

/// What an `alter_enum` does to the values, as PostgreSQL can do it in place or not.
/// Which part of a schema an operation works on: how the long per-operation functions
/// (`apply`, `inverse`, `describe`, the grammar's writer) are split, decided in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// Tables as a whole (and their comments).
    Tables,
    /// Columns, and backfills of them.
    Columns,
    /// Indexes and constraints.
    Indexes,
    /// Raw SQL, Rust functions, database objects and enum types.
    Rest,
}

impl Op {
    /// The operation's [`Family`].
    pub(crate) fn family(&self) -> Family {
        match self {
            Op::CreateTable { .. }
            | Op::DropTable { .. }
            | Op::RenameTable { .. }
            | Op::SetTableComment { .. } => Family::Tables,
            Op::AddColumn { .. }
            | Op::DropColumn { .. }
            | Op::RenameColumn { .. }
            | Op::AlterColumn { .. }
            | Op::Backfill { .. } => Family::Columns,
            Op::CreateIndex { .. }
            | Op::DropIndex { .. }
            | Op::AddUnique { .. }
            | Op::AddForeignKey { .. }
            | Op::AddCheck { .. }
            | Op::DropConstraint { .. }
            | Op::RenameIndex { .. }
            | Op::RenameConstraint { .. } => Family::Indexes,
            Op::Execute { .. }
            | Op::RunRust { .. }
            | Op::CreateObject { .. }
            | Op::DropObject { .. }
            | Op::CreateEnum { .. }
            | Op::DropEnum { .. }
            | Op::AlterEnum { .. } => Family::Rest,
        }
    }
}

impl Op {
    /// For an `alter_enum`: whether it only renames and adds values, keeping the order of
    /// the old ones (PostgreSQL's `RENAME VALUE` and `ADD VALUE`, without rebuilding the
    /// type), and whether it adds any.
    pub fn enum_change_in_place(&self) -> Option<(bool, bool)> {
        let Op::AlterEnum {
            from, to, renamed, ..
        } = self
        else {
            return None;
        };
        let kept: Vec<&String> = from
            .iter()
            .map(|v| {
                renamed
                    .iter()
                    .find(|(old, _)| old == v)
                    .map_or(v, |(_, new)| new)
            })
            .collect();
        let positions: Option<Vec<usize>> = kept
            .iter()
            .map(|v| to.iter().position(|t| t == *v))
            .collect();
        let in_place = positions.is_some_and(|p| p.windows(2).all(|w| w[0] < w[1]));
        Some((in_place, in_place && to.len() > kept.len()))
    }
}

/// The attributes an `alter_column` changes; `None` leaves one as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct ColumnChanges {
    /// New type.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub ty: Option<ColumnType>,
    /// New nullability.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub nullable: Option<bool>,
    /// New server default (`Some(None)` drops it).
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "present"
        )
    )]
    pub server_default: Option<Option<String>>,
    /// New comment (`Some(None)` drops it).
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "present"
        )
    )]
    pub comment: Option<Option<String>>,
}

/// Reads a field that is present: `null` is `Some(None)` ("drop it"), a value `Some(Some(v))`;
/// an absent field stays `None` ("no change") through `#[serde(default)]`. Without this,
/// serde reads `null` back as `None` and a dropped default silently becomes "no change".
#[cfg(feature = "serde")]
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

impl ColumnChanges {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        *self == ColumnChanges::default()
    }

    /// The changes that turn `from` into `to` (names are not compared).
    pub fn between(from: &Column, to: &Column) -> ColumnChanges {
        ColumnChanges {
            ty: (from.ty != to.ty).then(|| to.ty.clone()),
            nullable: (from.nullable != to.nullable).then_some(to.nullable),
            // A whitespace-only edit of a default is no change (no rebuild).
            server_default: (!crate::expr::same_opt(&from.server_default, &to.server_default))
                .then(|| to.server_default.clone()),
            comment: (from.comment != to.comment).then(|| to.comment.clone()),
        }
    }

    /// Applies the changes to a column.
    pub fn apply_to(&self, column: &mut Column) {
        if let Some(ty) = &self.ty {
            column.ty = ty.clone();
        }
        if let Some(n) = self.nullable {
            column.nullable = n;
        }
        if let Some(d) = &self.server_default {
            column.server_default = d.clone();
        }
        if let Some(c) = &self.comment {
            column.comment = c.clone();
        }
    }
}

/// Which kind of constraint `drop_constraint` drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ConstraintKind {
    /// A unique constraint.
    Unique,
    /// A foreign key.
    ForeignKey,
    /// A check constraint.
    Check,
    /// The primary key (only renamed by an operation: it is made and dropped with its
    /// table).
    PrimaryKey,
}

impl ConstraintKind {
    /// How a migration file names it: `type_ = "unique" | "foreignkey" | "check" | "primary"`.
    pub fn word(self) -> &'static str {
        match self {
            ConstraintKind::Unique => "unique",
            ConstraintKind::ForeignKey => "foreignkey",
            ConstraintKind::Check => "check",
            ConstraintKind::PrimaryKey => "primary",
        }
    }
}

/// Raw SQL: one text for every dialect, or one per dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum DialectSql {
    /// The same SQL everywhere.
    All(String),
    /// SQL per dialect; a dialect without an entry cannot run the migration.
    PerDialect {
        /// For SQLite.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        sqlite: Option<String>,
        /// For PostgreSQL.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        postgres: Option<String>,
        /// For MySQL / MariaDB.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        mysql: Option<String>,
    },
}

/// Why an operation cannot be applied to a schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct ApplyError {
    /// What is wrong, naming the objects.
    pub message: String,
}

fn fail<T>(message: String) -> Result<T, ApplyError> {
    Err(ApplyError { message })
}

impl Op {
    /// Short Alembic-style name (`add_column`).
    pub fn name(&self) -> &'static str {
        match self {
            Op::CreateTable { .. } => "create_table",
            Op::DropTable { .. } => "drop_table",
            Op::RenameTable { .. } => "rename_table",
            Op::AddColumn { .. } => "add_column",
            Op::DropColumn { .. } => "drop_column",
            Op::RenameColumn { .. } => "rename_column",
            Op::AlterColumn { .. } => "alter_column",
            Op::CreateIndex { .. } => "create_index",
            Op::DropIndex { .. } => "drop_index",
            Op::AddUnique { .. } => "create_unique_constraint",
            Op::AddForeignKey { .. } => "create_foreign_key",
            Op::AddCheck { .. } => "create_check_constraint",
            Op::DropConstraint { .. } => "drop_constraint",
            Op::RenameIndex { .. } => "rename_index",
            Op::RenameConstraint { .. } => "rename_constraint",
            Op::SetTableComment {
                comment: Some(_), ..
            } => "create_table_comment",
            Op::SetTableComment { comment: None, .. } => "drop_table_comment",
            Op::Execute { .. } => "execute",
            Op::Backfill { .. } => "backfill",
            Op::RunRust { .. } => "run",
            Op::CreateObject { .. } => "create_object",
            Op::DropObject { .. } => "drop_object",
            Op::CreateEnum { .. } => "create_enum",
            Op::DropEnum { .. } => "drop_enum",
            Op::AlterEnum { .. } => "alter_enum",
        }
    }

    /// Whether the operation must run outside a transaction, statement by statement: an
    /// index built `concurrently`, or a constraint or `NOT NULL` in its online form
    /// (PostgreSQL commits between adding it `NOT VALID` and validating it).
    pub fn outside_transaction(&self) -> bool {
        match self {
            Op::CreateIndex { concurrently, .. } | Op::DropIndex { concurrently, .. } => {
                *concurrently
            }
            Op::AlterColumn { online, .. }
            | Op::AddUnique { online, .. }
            | Op::AddForeignKey { online, .. }
            | Op::AddCheck { online, .. } => *online,
            Op::Backfill { .. } => true,
            _ => false,
        }
    }

    /// The table the operation works on (the new name for a rename), if any.
    pub fn table(&self) -> Option<&str> {
        match self {
            Op::CreateTable { table } => Some(&table.name),
            Op::RenameTable { to, .. } => Some(to),
            Op::DropTable { table }
            | Op::AddColumn { table, .. }
            | Op::DropColumn { table, .. }
            | Op::RenameColumn { table, .. }
            | Op::AlterColumn { table, .. }
            | Op::CreateIndex { table, .. }
            | Op::DropIndex { table, .. }
            | Op::AddUnique { table, .. }
            | Op::AddForeignKey { table, .. }
            | Op::AddCheck { table, .. }
            | Op::DropConstraint { table, .. }
            | Op::RenameIndex { table, .. }
            | Op::RenameConstraint { table, .. }
            | Op::SetTableComment { table, .. }
            | Op::Backfill { table, .. } => Some(table),
            Op::Execute { .. }
            | Op::RunRust { .. }
            | Op::CreateObject { .. }
            | Op::DropObject { .. }
            | Op::CreateEnum { .. }
            | Op::DropEnum { .. }
            | Op::AlterEnum { .. } => None,
        }
    }
}
