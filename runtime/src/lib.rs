//! retort: schema migrations for Rust, decided at compile time.
//!
//! Describe tables as structs; `cargo build` writes the migrations; this crate
//! applies them.
//!
//! ```
//! /// Transcription tasks.
//! #[derive(retort::Table)]
//! #[table(name = "tasks")]
//! pub struct Task {
//!     #[column(primary_key, autoincrement)]
//!     pub id: i32,
//!     /// Universally unique identifier for each task
//!     #[column(unique, max_length = 36)]
//!     pub uuid: String,
//!     pub result: Option<serde_json::Value>,
//! }
//!
//! use retort::Table as _;
//! let table = Task::schema();
//! assert_eq!(table.name, "tasks");
//! assert_eq!(table.comment.as_deref(), Some("Transcription tasks."));
//! assert!(table.column("result").unwrap().nullable);
//! ```
//!
//! # Attributes
//!
//! On the struct, `#[table(…)]`:
//!
//! | key | meaning |
//! |---|---|
//! | `name = "tasks"` | SQL name (default: diesel's, snake_case + `s`) |
//! | `renamed_from = "jobs"` | the table's previous name: the diff renames instead of drop + create |
//! | `comment = "…"` | table comment (default: the struct's doc comment; `""` for none) |
//! | `primary_key(a, b)` | composite primary key |
//! | `index(a, b, name = "…", unique)` | composite index (default name `ix_<table>_<a>_<b>`) |
//! | `unique(a, b, name = "…")` | composite unique constraint (default name `uq_<table>_<a>_<b>`) |
//! | `check(name = "…", expr = "…")` | named check constraint |
//! | `schema = "audit"` | PostgreSQL schema of the table (it is then `audit.<name>`) |
//!
//! On a field, `#[column(…)]`: `name`, `primary_key`, `autoincrement`, `unique`,
//! `index` (or `index = "ix_name"`), `server_default = "<SQL expression>"`, `max_length = N`
//! (String → varchar(N)), `sql_type = "<portable type>"`, `custom_type = "<SQL type>"`,
//! `diesel_type = "<path>"`, `references = "table(column)"` with `on_delete` / `on_update`,
//! `comment` (default: the field's doc comment), `renamed_from`, `skip`.
//!
//! The derive also writes diesel's `table!` module, named after the table, next to
//! the struct; your crate needs `diesel` among its dependencies to use it.
//!
//! A field whose type is an enum with `#[derive(DbEnum)]` is a column of that database
//! enum (see [`DbEnum`]); on the enum, `#[db_enum(name = "…")]` names the SQL type, and on a
//! variant `#[db_enum(name = "…")]` the stored value and `#[db_enum(renamed_from = "…")]` its
//! previous one.

pub mod backend;
#[cfg(feature = "cli")]
pub mod cli;
mod compare;
pub mod dsl;
mod error;
pub mod graph;
#[macro_use]
mod macros;
#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
mod migration;
mod models;
mod offline;
#[cfg(feature = "cli")]
mod revision;
pub mod runner;
mod seconds;
mod startup;
#[cfg(all(feature = "testing", feature = "sqlite"))]
pub mod testing;
pub mod tools;
mod url;

/// The schema model (tables, columns, types) shared with the build script.
pub mod schema {
    pub use retort_schema::*;
}

pub use backend::{AppliedRow, RowState};
pub use error::{Error, Result};
pub use graph::{Graph, Revision};
/// The old name of [`Revision`].
#[deprecated(since = "0.1.0", note = "renamed to `Revision` (see docs/naming.md)")]
pub type Migration = Revision;
pub use migration::{CompiledMigration, Connection, DataError, DataMigrationFn, Migrations, OpsFn};
pub use models::{DbEnum, Table};
pub use offline::upgrade_sql;
pub use retort_macros::{migration, DbEnum, Table};
pub use runner::{Options, Runner, TransactionMode};
pub use startup::{upgrade_on_startup, Startup};
pub use url::DatabaseUrl;
