//! The traits the derives implement: a table's description and a database enum.

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

/// A struct that describes a table; implemented by `#[derive(Table)]`.
pub trait Table {
    /// The table's SQL name.
    const NAME: &'static str;

    /// The table as the derive read it: columns, keys, indexes, constraints, comments.
    fn schema() -> &'static retort_schema::Table;
}
