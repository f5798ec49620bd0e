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

pub use retort_macros::{migration, DbEnum, Table};

/// A Rust enum stored as a database enum type, implemented by `#[derive(DbEnum)]`.
///
/// On PostgreSQL the column is of the named type (`CREATE TYPE … AS ENUM`, made by the
/// migrations); on MySQL/MariaDB an `ENUM(…)` column; on SQLite text with a `CHECK`. The
/// derive also gives diesel what it needs to read and write the enum in such a column.
///
/// ```
/// #[derive(Debug, PartialEq, retort::DbEnum)]
/// #[db_enum(name = "post_status")]
/// enum Status {
///     Draft,
///     #[db_enum(renamed_from = "live")]
///     Published,
/// }
///
/// use retort::DbEnum as _;
/// assert_eq!(Status::NAME, "post_status");
/// assert_eq!(Status::VALUES, ["draft", "published"]);
/// assert_eq!(Status::Published.as_str(), "published");
/// assert_eq!(Status::from_str("draft"), Some(Status::Draft));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a column type retort knows",
    label = "no column type for this field",
    note = "derive `retort::DbEnum` on the enum to store it as a database enum, or give the column a type with #[column(sql_type = \"…\")] or #[column(custom_type = \"…\")] (with `diesel_type`)"
)]
pub trait DbEnum: Sized + 'static {
    /// The SQL type's name.
    const NAME: &'static str;
    /// The values, in order.
    const VALUES: &'static [&'static str];
    /// diesel's SQL type of a column of the enum.
    type SqlType;
    /// The value a variant is stored as.
    fn as_str(&self) -> &'static str;
    /// The variant stored as `value`, if any.
    fn from_str(value: &str) -> Option<Self>;
}

pub mod backend;
#[cfg(feature = "cli")]
pub mod cli;
mod compare;
mod error;
pub mod graph;
mod migration;
mod offline;
#[cfg(feature = "cli")]
mod revision;
pub mod runner;
mod startup;
#[cfg(all(feature = "testing", feature = "sqlite"))]
pub mod testing;
pub mod tools;
mod url;

pub use backend::AppliedRow;
pub use error::{Error, Result};
pub use graph::{Graph, Migration};
pub use migration::Connection;
pub use migration::{CompiledMigration, DataError, DataMigrationFn, Migrations, OpsFn};
pub use offline::upgrade_sql;
pub use runner::{Options, Runner, TransactionMode};
pub use startup::{upgrade_on_startup, Startup};
pub use url::DatabaseUrl;

/// The schema model (tables, columns, types) shared with the build script.
pub mod schema {
    pub use retort_schema::*;
}

pub mod dsl;

/// A struct that describes a table; implemented by `#[derive(Table)]`.
pub trait Table {
    /// The table's SQL name.
    const NAME: &'static str;

    /// The table as the derive read it: columns, keys, indexes, constraints, comments.
    fn schema() -> &'static schema::Table;
}

/// Includes what the build script wrote into `OUT_DIR`: the diesel relations
/// between the models (`joinable!`, `allow_tables_to_appear_in_same_query!`), every
/// migration file, and `pub static MIGRATIONS: retort::Migrations`.
///
/// Call it once, at the crate root, in the crate whose `build.rs` calls
/// `retort_build::generate()`.
#[macro_export]
macro_rules! include_migrations {
    () => {
        include!(concat!(env!("OUT_DIR"), "/retort_migrations.rs"));
    };
}

/// What the `mysql` backend cannot build, refused at compile time when it is compiled in.
#[cfg(feature = "mysql")]
#[doc(hidden)]
#[macro_export]
macro_rules! __unsupported_on_mysql {
    ($message:literal) => {
        ::core::compile_error!($message);
    };
}

/// Without the `mysql` backend, nothing MySQL/MariaDB lacks is refused.
#[cfg(not(feature = "mysql"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __unsupported_on_mysql {
    ($message:literal) => {};
}

/// What the `postgres` backend cannot build, refused at compile time when it is compiled in.
#[cfg(feature = "postgres")]
#[doc(hidden)]
#[macro_export]
macro_rules! __unsupported_on_postgres {
    ($message:literal) => {
        ::core::compile_error!($message);
    };
}

/// Without the `postgres` backend, nothing PostgreSQL lacks is refused.
#[cfg(not(feature = "postgres"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __unsupported_on_postgres {
    ($message:literal) => {};
}

/// What the `sqlite` backend cannot build, refused at compile time when it is compiled in.
#[cfg(feature = "sqlite")]
#[doc(hidden)]
#[macro_export]
macro_rules! __unsupported_on_sqlite {
    ($message:literal) => {
        ::core::compile_error!($message);
    };
}

/// Without the `sqlite` backend, nothing SQLite lacks is refused.
#[cfg(not(feature = "sqlite"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __unsupported_on_sqlite {
    ($message:literal) => {};
}

#[doc(hidden)]
pub mod __private {
    /// Gives a column of a `#[derive(DbEnum)]` type its enum's name and values (the derive
    /// of the table cannot see the enum; the compiler can).
    pub fn set_enum(table: &mut crate::schema::Table, column: &str, name: &str, values: &[&str]) {
        if let Some(c) = table.columns.iter_mut().find(|c| c.name == column) {
            c.ty = crate::schema::ColumnType::Enum {
                name: name.to_string(),
                values: values.iter().map(|v| v.to_string()).collect(),
            };
        }
    }
}
