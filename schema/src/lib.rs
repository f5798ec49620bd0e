//! The schema model of retort and everything that works on it without a database.
//!
//! - [`model`]: [`Schema`], [`Table`], [`Column`], [`ColumnType`], indexes and constraints,
//!   serialized as deterministic JSON (the snapshot format);
//! - [`parse_model`]: reads a `#[derive(Table)]` struct into a [`Table`] — the one parser
//!   shared by the derive and the build script;
//! - [`clock`]: UTC time for revision ids, headers and version rows;
//! - [`expr`]: SQL expressions parsed, put in canonical form per dialect, searched for
//!   column names;
//! - [`construct`] (feature `parse`): schema values as the Rust code that builds them (what
//!   the macros compile operations and table metadata into);
//! - [`compare`]: what the models say against what a database holds, exactly, through the
//!   dialect's [`sql::Catalog`];
//! - [`convert`]: what values become when a column's type changes (the conversion matrix);
//! - [`graph`]: the shape of a migration history (order, heads, ancestors), linear in size;
//! - [`naming`]: identifier rules and conventional index/constraint names;
//! - [`ops`]: migration operations, how each changes a schema, and its inverse;
//! - [`diff`] (feature `diff`, for the build script): two schemas → operations, downgrade and
//!   warnings ([`lint`]);
//! - [`migration`]: the `migration!` grammar, parsed and rendered;
//! - [`sql`]: operations rendered to SQL per dialect (SQLite table rebuilds included).

pub mod checkpoint;
pub mod clock;
pub mod compare;
#[cfg(feature = "parse")]
pub mod construct;
pub mod convert;
#[cfg(feature = "diff")]
pub mod diff;
pub mod expr;
pub mod graph;
pub mod lint;
pub mod migration;
pub mod model;
#[cfg(feature = "parse")]
mod model_parse;
pub mod naming;
pub mod ops;
pub mod order;
pub mod sql;

pub use model::{
    CheckConstraint, Column, ColumnType, DbObject, Deferral, EnumType, ForeignKey, Index, IndexKey,
    NullsOrder, ObjectKind, ReferentialAction, Schema, Table, UniqueConstraint,
};
#[cfg(feature = "parse")]
pub use model_parse::{
    parse_enum, parse_model, parse_model_partial, parse_model_with, EnumModel, Model, ModelField,
};
