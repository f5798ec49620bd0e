//! SQLite's spelling, both ways: the declared types retort writes (names that keep the
//! portable type readable and give SQLite the right affinity), defaults, and how
//! `pragma_table_info` and the stored `CREATE TABLE` text give them back (as written).

use crate::expr::canon::Rules;
use crate::expr::lex::Lexicon;
use crate::expr::parse::Grammar;
use crate::model::{ColumnType, Table};

/// What SQLite treats as the same: names without case (quoted or not); everything else it
/// keeps as written, so only spelling (parentheses, whitespace, case) is left to agree on.
pub const RULES: Rules = Rules {
    grammar: Grammar {
        lexicon: Lexicon::STANDARD,
        pipes_are_or: false,
    },
    strip_casts: true,
    quoted_case_sensitive: false,
    synonyms: &[],
};

/// The declared type for a column: names that keep the portable type readable (for
/// introspection) and give SQLite the right affinity.
pub fn sqlite_type(ty: &ColumnType) -> String {
    match ty {
        ColumnType::SmallInt => "SMALLINT".into(),
        ColumnType::Integer => "INTEGER".into(),
        ColumnType::BigInt => "BIGINT".into(),
        ColumnType::Real => "REAL".into(),
        ColumnType::Double => "DOUBLE".into(),
        ColumnType::Numeric {
            precision: None, ..
        } => "NUMERIC".into(),
        ColumnType::Numeric {
            precision: Some(p),
            scale: None,
        } => format!("NUMERIC({p})"),
        ColumnType::Numeric {
            precision: Some(p),
            scale: Some(s),
        } => format!("NUMERIC({p},{s})"),
        ColumnType::Boolean => "BOOLEAN".into(),
        ColumnType::Text => "TEXT".into(),
        ColumnType::Varchar { length } => format!("VARCHAR({length})"),
        ColumnType::Char { length } => format!("CHAR({length})"),
        ColumnType::Binary => "BLOB".into(),
        ColumnType::Date => "DATE".into(),
        ColumnType::Time => "TIME".into(),
        ColumnType::Timestamp => "TIMESTAMP".into(),
        ColumnType::TimestampTz => "TIMESTAMPTZ".into(),
        ColumnType::Uuid => "UUID".into(),
        ColumnType::Json => "JSON".into(),
        // Text; the column's CHECK holds the values (see `enum_check`).
        ColumnType::Enum { .. } => "TEXT".into(),
        ColumnType::Custom { sql } => sql.clone(),
    }
}

/// A default as SQLite accepts it: literals as written, anything else in parentheses.
pub(super) fn default_clause(expr: &str) -> String {
    let e = expr.trim();
    let words = [
        "NULL",
        "TRUE",
        "FALSE",
        "CURRENT_TIMESTAMP",
        "CURRENT_DATE",
        "CURRENT_TIME",
    ];
    if crate::expr::is_literal(e, Lexicon::STANDARD, &words) {
        format!(" DEFAULT {e}")
    } else {
        format!(" DEFAULT ({e})")
    }
}

/// The portable type a declared SQLite type stands for (the inverse of [`sqlite_type`]).
pub fn read_type(declared: &str) -> ColumnType {
    let compact: String = declared
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    let portable = match compact.as_str() {
        "int" => Some(ColumnType::Integer),
        "double" | "doubleprecision" => Some(ColumnType::Double),
        "blob" => Some(ColumnType::Binary),
        _ => ColumnType::parse_portable(&compact),
    };
    portable.unwrap_or_else(|| ColumnType::Custom {
        sql: declared.trim().to_string(),
    })
}

/// The condition an enum column's CHECK holds on SQLite: `"status" IN ('draft', 'published')`.
pub fn enum_check(c: &crate::Column) -> Option<String> {
    let ColumnType::Enum { values, .. } = &c.ty else {
        return None;
    };
    let values: Vec<String> = values
        .iter()
        .map(|v| crate::sql::quote_literal(v))
        .collect();
    Some(format!(
        "{} IN ({})",
        crate::sql::quote_ident(&c.name, crate::sql::Dialect::Sqlite),
        values.join(", ")
    ))
}

/// The type SQLite keeps for a model's type, read back portable.
pub fn stored_type(ty: &ColumnType) -> ColumnType {
    read_type(&sqlite_type(ty))
}

/// A default as `pragma_table_info` shows it: as written, parentheses included (`(0)` →
/// `0`).
pub fn read_default(text: &str) -> String {
    crate::expr::unwrap_parens(text)
        .unwrap_or(text.trim())
        .to_string()
}

/// A table as SQLite keeps it: stored types; an autoincrement key is the rowid, an
/// `INTEGER` without a default.
pub fn stored_table(t: &mut Table) {
    let key = t.primary_key.clone();
    // An enum column's values are its unnamed CHECK.
    for c in &t.columns {
        if let Some(expression) = enum_check(c) {
            t.checks.push(crate::CheckConstraint {
                name: String::new(),
                expression,
                not_valid: false,
            });
        }
    }
    for c in &mut t.columns {
        c.ty = stored_type(&c.ty);
        if c.autoincrement {
            c.server_default = None;
            if key == [c.name.clone()] && c.ty.is_integer() {
                c.ty = ColumnType::Integer;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_map_back() {
        assert_eq!(read_type("TIMESTAMPTZ"), ColumnType::TimestampTz);
        assert_eq!(read_type("VARCHAR(36)"), ColumnType::Varchar { length: 36 });
        assert_eq!(read_type("DOUBLE"), ColumnType::Double);
        assert_eq!(
            read_type("citext"),
            ColumnType::Custom {
                sql: "citext".into()
            }
        );
        assert_eq!(read_default("(1 + 2)"), "1 + 2");
        assert_eq!(read_default("(1) + (2)"), "(1) + (2)");
    }
}
