//! Quoting: identifiers, table names in a schema, and string literals, as each dialect
//! spells them; the `push_` forms write into a buffer the caller is building.

use super::Dialect;

/// Quotes an identifier for the dialect.
pub fn quote_ident(name: &str, dialect: Dialect) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    push_ident(&mut out, name, dialect);
    out
}

/// [`quote_ident`] written at the end of `out` (no string of its own).
///
/// ```
/// use retort_schema::sql::{push_ident, Dialect};
/// let mut sql = String::from("DROP TABLE ");
/// push_ident(&mut sql, "odd\"name", Dialect::Sqlite);
/// assert_eq!(sql, r#"DROP TABLE "odd""name""#);
/// ```
pub fn push_ident(out: &mut String, name: &str, dialect: Dialect) {
    let quote = match dialect {
        Dialect::Mysql => '`',
        _ => '"',
    };
    out.push(quote);
    for (i, part) in name.split(quote).enumerate() {
        if i > 0 {
            // The quote character, doubled.
            out.push(quote);
            out.push(quote);
        }
        out.push_str(part);
    }
    out.push(quote);
}

/// Quotes a table's name: on PostgreSQL a name `schema.table` (a table in another schema,
/// `#[table(schema = "…")]`) is `"schema"."table"`; elsewhere the name as one identifier.
///
/// ```
/// use retort_schema::sql::{quote_table, Dialect};
/// assert_eq!(quote_table("audit.events", Dialect::Postgres), r#""audit"."events""#);
/// assert_eq!(quote_table("events", Dialect::Postgres), r#""events""#);
/// ```
pub fn quote_table(name: &str, dialect: Dialect) -> String {
    match (dialect, split_schema(name)) {
        (Dialect::Postgres, (Some(schema), table)) => format!(
            "{}.{}",
            quote_ident(schema, dialect),
            quote_ident(table, dialect)
        ),
        _ => quote_ident(name, dialect),
    }
}

/// A table's schema (when it is in another one than the connection's) and its own name:
/// `audit.events` → (`audit`, `events`).
pub fn split_schema(name: &str) -> (Option<&str>, &str) {
    match name.split_once('.') {
        Some((schema, table)) if !schema.is_empty() && !table.is_empty() => (Some(schema), table),
        _ => (None, name),
    }
}

/// Quotes a string literal for the dialect (MySQL also escapes backslashes).
pub fn literal(text: &str, dialect: Dialect) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    push_literal(&mut out, text, dialect);
    out
}

/// Appends [`literal`]`(text, dialect)` to `out`, without an intermediate string: what a
/// statement of many values (the version rows of a batch) is written with.
///
/// ```
/// use retort_schema::sql::{push_literal, Dialect};
/// let mut sql = String::from("VALUES (");
/// push_literal(&mut sql, r"it's a\b", Dialect::Mysql);
/// sql.push(')');
/// assert_eq!(sql, r"VALUES ('it''s a\\b')");
/// ```
pub fn push_literal(out: &mut String, text: &str, dialect: Dialect) {
    out.push('\'');
    let mysql = dialect == Dialect::Mysql;
    let mut rest = text;
    while let Some(i) = rest.find(|c| c == '\'' || (mysql && c == '\\')) {
        out.push_str(&rest[..=i]);
        out.push(rest.as_bytes()[i] as char);
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    out.push('\'');
}

/// Quotes a string literal (standard SQL: quotes doubled).
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::{literal, quote_ident, Dialect};
    use proptest::prelude::*;

    proptest! {
        /// A literal is the text with its quotes doubled (and, for MySQL, its backslashes
        /// too), in quotes: written straight into a buffer as it was by `replace`.
        #[test]
        fn literals_escape_quotes_and_mysql_backslashes(text in "\\PC*|['\\\\a]{0,12}") {
            let standard = format!("'{}'", text.replace('\'', "''"));
            let mysql = format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"));
            prop_assert_eq!(literal(&text, Dialect::Sqlite), standard.clone());
            prop_assert_eq!(literal(&text, Dialect::Postgres), standard);
            prop_assert_eq!(literal(&text, Dialect::Mysql), mysql);
        }

        /// An identifier is the name with its quote character doubled, in quotes: written
        /// straight into a buffer as it was by `replace` and `format!`.
        #[test]
        fn identifiers_double_their_quote(name in "\\PC*|[\"`a]{0,12}") {
            let standard = format!("\"{}\"", name.replace('"', "\"\""));
            let mysql = format!("`{}`", name.replace('`', "``"));
            prop_assert_eq!(quote_ident(&name, Dialect::Sqlite), standard.clone());
            prop_assert_eq!(quote_ident(&name, Dialect::Postgres), standard);
            prop_assert_eq!(quote_ident(&name, Dialect::Mysql), mysql);
        }
    }
}
