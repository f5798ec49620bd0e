//! Support for the diesel DSL that `#[derive(Table)]` generates.

#[cfg(any(feature = "chrono", feature = "json"))]
mod portable;
#[cfg(feature = "json")]
pub use portable::JsonValue;
#[cfg(feature = "chrono")]
pub use portable::UtcDateTime;

/// The SQL types used in the generated `table!` modules: diesel's, plus the
/// portable names whose diesel type differs per backend.
///
/// `TimestampWithTimeZone` maps to diesel's SQLite flavour and `Uuid` to `Text` on SQLite,
/// which has neither natively.
pub mod sql_types {
    pub use diesel::sql_types::*;

    #[cfg(feature = "json")]
    pub use super::portable::PortableJson;
    #[cfg(feature = "chrono")]
    pub use super::portable::PortableTimestamptz;

    /// Date and time with time zone, as diesel spells it for SQLite (used whenever the
    /// `sqlite` feature is on: one `table!` type must serve every compiled backend).
    #[cfg(feature = "sqlite")]
    pub type TimestampWithTimeZone = diesel::sql_types::TimestamptzSqlite;
    /// Date and time with time zone: PostgreSQL's `timestamptz`.
    #[cfg(all(feature = "postgres", not(feature = "sqlite")))]
    pub type TimestampWithTimeZone = diesel::sql_types::Timestamptz;
    /// Date and time with time zone: stored in UTC in a MySQL `DATETIME(6)`.
    #[cfg(all(feature = "mysql", not(feature = "sqlite"), not(feature = "postgres")))]
    pub type TimestampWithTimeZone = diesel::sql_types::Datetime;

    /// JSON: PostgreSQL's columns are `jsonb`, whose wire form diesel's `Json` cannot read;
    /// a build whose `table!` types are PostgreSQL's (no `sqlite`) reads them as `Jsonb`.
    #[cfg(all(feature = "postgres", not(feature = "sqlite")))]
    pub type Json = diesel::sql_types::Jsonb;

    /// UUIDs as text (SQLite and MySQL have no UUID type).
    #[cfg(any(feature = "sqlite", not(feature = "postgres")))]
    pub type Uuid = diesel::sql_types::Text;
}
