//! Support for the diesel DSL that `#[derive(Table)]` generates.

/// The SQL types used in the generated `table!` modules: diesel's, plus the
/// portable names whose diesel type differs per backend.
///
/// `TimestampWithTimeZone` maps to diesel's SQLite flavour and `Uuid` to `Text` on SQLite,
/// which has neither natively.
pub mod sql_types {
    pub use diesel::sql_types::*;

    /// Date and time with time zone, as diesel spells it for SQLite.
    #[cfg(feature = "sqlite")]
    pub type TimestampWithTimeZone = diesel::sql_types::TimestamptzSqlite;

    /// UUIDs are stored as text on SQLite.
    #[cfg(feature = "sqlite")]
    pub type Uuid = diesel::sql_types::Text;
}
