//! What the derives' expansions call; not an API.

/// Gives a column of a `#[derive(DbEnum)]` type its enum's name and values (the derive
/// of the table cannot see the enum; the compiler can).
pub fn set_enum(table: &mut retort_schema::Table, column: &str, name: &str, values: &[&str]) {
    if let Some(c) = table.columns.iter_mut().find(|c| c.name == column) {
        c.ty = retort_schema::ColumnType::Enum {
            name: name.to_string(),
            values: values.iter().map(|v| v.to_string()).collect(),
        };
    }
}
