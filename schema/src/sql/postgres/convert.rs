//! PostgreSQL's half of the conversion matrix ([`crate::convert`]): the `USING` expression
//! that converts a value, and the condition that finds a value which would not keep its
//! meaning, without raising an error itself (text is matched by shape before any cast; a
//! number is compared after a cast that cannot overflow). What only a cast can tell (a date
//! of February 30, invalid JSON) PostgreSQL refuses in the `ALTER`, inside the migration's
//! transaction: nothing changes.

use super::catalog::postgres_type;
use crate::model::ColumnType;

/// An optional sign and digits.
pub(super) const INT_RE: &str = "^[-+]?[0-9]+$";
/// A decimal number, with an exponent of at most four digits.
pub(super) const NUMBER_RE: &str = "^[-+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]{1,4})?$";
/// `YYYY-MM-DD`.
pub(super) const DATE_RE: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
/// `HH:MM[:SS[.fraction]]`.
pub(super) const TIME_RE: &str = "^[0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?$";
/// A date, with a time of day.
pub(super) const TIMESTAMP_RE: &str =
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?$";
/// A date and time with an optional offset.
pub(super) const INSTANT_RE: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?(Z|[-+][0-9]{2}(:?[0-9]{2})?)?$";
/// A UUID with hyphens.
pub(super) const UUID_RE: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/// The integer range of a type.
fn range(ty: &ColumnType) -> Option<(i128, i128)> {
    match ty {
        ColumnType::SmallInt => Some((i16::MIN.into(), i16::MAX.into())),
        ColumnType::Integer => Some((i32::MIN.into(), i32::MAX.into())),
        ColumnType::BigInt => Some((i64::MIN.into(), i64::MAX.into())),
        _ => None,
    }
}

/// The value of column `q` (of type `old`) as a `numeric`: exact for integers and decimals;
/// a float's shortest decimal text (what it reads back as); a boolean's 0 or 1.
fn number(q: &str, old: &ColumnType) -> String {
    match old {
        ColumnType::Real | ColumnType::Double => format!("CAST(CAST({q} AS TEXT) AS NUMERIC)"),
        ColumnType::Boolean => format!("CAST(CAST({q} AS INTEGER) AS NUMERIC)"),
        _ => format!("CAST({q} AS NUMERIC)"),
    }
}

/// `cond` guarded by a shape test of text: a text that does not match is a misfit, and
/// only one that matches reaches the casts in `cond`.
fn shaped(q: &str, pattern: &str, cond: String) -> String {
    format!("CASE WHEN {q} !~ '{pattern}' THEN TRUE ELSE {cond} END")
}

/// A condition true for a value of column `q` (of type `old`) that would not keep its
/// meaning as `new`; `None` when PostgreSQL itself refuses every such value.
pub(super) fn misfit(q: &str, old: &ColumnType, new: &ColumnType) -> Option<String> {
    use ColumnType::*;
    if matches!(old, Custom { .. }) || matches!(new, Custom { .. }) {
        // The value converted and back: what changes in between did not fit (a cast
        // PostgreSQL cannot make fails the check, with its own message).
        return Some(format!(
            "CAST(CAST({q} AS {}) AS {}) IS DISTINCT FROM {q}",
            postgres_type(new),
            postgres_type(old)
        ));
    }
    if let Enum { values, .. } = new {
        return Some(format!(
            "CAST({q} AS TEXT) NOT IN ({})",
            crate::sql::enums::literals(values)
        ));
    }
    let text = old.is_text();
    // A CHAR's padding (and an enum's type) is not part of its value.
    let padded = format!("CAST({q} AS TEXT)");
    let q = if matches!(old, Char { .. } | Enum { .. }) {
        padded.as_str()
    } else {
        q
    };
    // The number a value stands for, and what is wrong with it in `new`.
    let numeric = |bad: &dyn Fn(&str) -> String| -> String {
        if text {
            shaped(q, NUMBER_RE, bad(&format!("CAST({q} AS NUMERIC)")))
        } else {
            bad(&number(q, old))
        }
    };
    Some(match new {
        SmallInt | Integer | BigInt => {
            let (lo, hi) = range(new).unwrap_or((0, 0));
            let bad = |x: &str| format!("{x} <> TRUNC({x}) OR {x} < {lo} OR {x} > {hi}");
            if text {
                shaped(q, INT_RE, bad(&format!("CAST({q} AS NUMERIC)")))
            } else {
                bad(&number(q, old))
            }
        }
        Real | Double => {
            let (ty, max, min) = if *new == Real {
                ("REAL", "3.4028234e38", "1.1754944e-38")
            } else {
                (
                    "DOUBLE PRECISION",
                    "1.7976931348623157e308",
                    "2.2250738585072014e-308",
                )
            };
            numeric(&|x: &str| {
                format!(
                    "CASE WHEN {x} IN ('NaN', 'Infinity', '-Infinity') THEN FALSE WHEN ABS({x}) > {max} OR ({x} <> 0 AND ABS({x}) < {min}) THEN TRUE ELSE CAST(CAST(CAST({x} AS {ty}) AS TEXT) AS NUMERIC) <> {x} END"
                )
            })
        }
        Numeric {
            precision: Some(p),
            scale,
        } => {
            let s = scale.unwrap_or(0);
            let whole = p.saturating_sub(s);
            numeric(&|x: &str| {
                format!(
                    "{x} IN ('NaN', 'Infinity', '-Infinity') OR ROUND({x}, {s}) <> {x} OR ABS({x}) >= 1e{whole}"
                )
            })
        }
        // Floats become their shortest decimal text, exactly (see `using`).
        Numeric {
            precision: None, ..
        } => numeric(&|x: &str| format!("{x} IN ('Infinity', '-Infinity')")),
        Boolean if text => format!("{q} NOT IN ('true', 'false')"),
        Boolean => format!("{} NOT IN (0, 1)", number(q, old)),
        Varchar { .. } | Char { .. } => return super::super::length_misfit(q, old, new, "TEXT"),
        Text => return None,
        Date if text => format!("{q} !~ '{DATE_RE}'"),
        Date if *old == TimestampTz => {
            format!("CAST({q} AT TIME ZONE 'UTC' AS TIME) <> '00:00:00'")
        }
        Date => format!("CAST({q} AS TIME) <> '00:00:00'"),
        Time if text => format!("{q} !~ '{TIME_RE}'"),
        Timestamp if text => format!("{q} !~ '{TIMESTAMP_RE}'"),
        TimestampTz if text => format!("{q} !~ '{INSTANT_RE}'"),
        Uuid if text => format!("{q} !~ '{UUID_RE}'"),
        _ => return None,
    })
}

/// The expression that converts column `q` from `old` to `new` in `ALTER COLUMN … TYPE
/// … USING`: booleans through integers (PostgreSQL has no cast between smallint and
/// boolean), floats to decimals through their shortest text, instants at UTC (retort's
/// timestamps without a zone are UTC), JSON through its text.
pub(super) fn using(q: &str, old: &ColumnType, new: &ColumnType) -> String {
    use ColumnType::*;
    let pg = postgres_type(new);
    match (old, new) {
        (Boolean, SmallInt | BigInt | Real | Double | Numeric { .. }) => {
            format!("CAST(CAST({q} AS INTEGER) AS {pg})")
        }
        (SmallInt | Integer | BigInt | Real | Double | Numeric { .. }, Boolean) => {
            format!("CAST(CAST({q} AS INTEGER) AS BOOLEAN)")
        }
        (Real | Double, Numeric { .. }) => format!("CAST(CAST({q} AS TEXT) AS {pg})"),
        (Timestamp, TimestampTz) | (TimestampTz, Timestamp) => {
            format!("{q} AT TIME ZONE 'UTC'")
        }
        (Date, TimestampTz) => format!("CAST({q} AS TIMESTAMP) AT TIME ZONE 'UTC'"),
        (TimestampTz, Date) => format!("CAST({q} AT TIME ZONE 'UTC' AS DATE)"),
        (Json | Enum { .. }, Text | Varchar { .. } | Char { .. }) | (_, Enum { .. }) => {
            format!("CAST(CAST({q} AS TEXT) AS {pg})")
        }
        _ => format!("CAST({q} AS {pg})"),
    }
}
