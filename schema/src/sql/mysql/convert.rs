//! MySQL's and MariaDB's half of the conversion matrix ([`crate::convert`]): `MODIFY
//! COLUMN` converts a value the way MySQL converts it implicitly, and strict mode refuses
//! some values (out of range, too long, not a number); the conditions here find what strict
//! mode lets through: rounding, a number other than 0 and 1 in a boolean, digits a `FLOAT`
//! does not keep, text that does not spell a date, a UUID or JSON, a time of day a `DATE`
//! drops.

use crate::model::ColumnType;

/// The patterns text must match to become a value (`REGEXP`, PCRE on MariaDB).
const INT_RE: &str = "^[-+]?[0-9]+$";
const NUMBER_RE: &str = "^[-+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]{1,4})?$";
const DATE_RE: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
const TIME_RE: &str = "^[0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?$";
const TIMESTAMP_RE: &str =
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?$";
const UUID_RE: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/// Text that does not match `pattern` (`BINARY`: case and collation do not bend it).
fn unlike(q: &str, pattern: &str) -> String {
    format!("{q} NOT REGEXP BINARY '{pattern}'")
}

/// The exact decimal a value stands for.
fn decimal(q: &str) -> String {
    format!("CAST({q} AS DECIMAL(65,30))")
}

/// A condition true for a value of column `q` (of type `old`) that would not keep its
/// meaning as `new`; `None` when MySQL itself refuses every such value (or nothing is
/// lost).
pub(super) fn misfit(q: &str, old: &ColumnType, new: &ColumnType) -> Option<String> {
    use ColumnType::*;
    if matches!(old, Custom { .. }) || matches!(new, Custom { .. }) || matches!(old, Binary) {
        return None;
    }
    if let Enum { values, .. } = new {
        let values: Vec<String> = values.iter().map(|v| super::mysql_literal(v)).collect();
        return Some(format!("{q} NOT IN ({})", values.join(", ")));
    }
    let text = old.is_text();
    // Text must spell a number before it is one.
    let numeric = |bad: String| -> String {
        if text {
            format!("{} OR {bad}", unlike(q, NUMBER_RE))
        } else {
            bad
        }
    };
    let range = |lo: i128, hi: i128| {
        let bad = format!("{q} < {lo} OR {q} > {hi} OR {q} <> ROUND({q})");
        if text {
            format!("{} OR {bad}", unlike(q, INT_RE))
        } else {
            bad
        }
    };
    Some(match new {
        SmallInt => range(i16::MIN.into(), i16::MAX.into()),
        Integer => range(i32::MIN.into(), i32::MAX.into()),
        BigInt => range(i64::MIN.into(), i64::MAX.into()),
        // The text a FLOAT or DOUBLE gives back is the value it keeps (MariaDB prints a
        // FLOAT with six digits): compared as decimals with the value's own.
        Real => numeric(format!(
            "{} <> {}",
            decimal(&format!("CAST(CAST({q} AS FLOAT) AS CHAR)")),
            decimal(q)
        )),
        Double => numeric(format!(
            "{} <> {}",
            decimal(&format!("CAST(CAST({q} AS DOUBLE) AS CHAR)")),
            decimal(q)
        )),
        Numeric {
            precision: Some(p),
            scale,
        } => {
            let s = scale.unwrap_or(0);
            let whole = p.saturating_sub(s);
            let x = if text { decimal(q) } else { q.to_string() };
            numeric(format!("{x} <> ROUND({x}, {s}) OR ABS({x}) >= 1e{whole}"))
        }
        Numeric {
            precision: None, ..
        } => numeric(format!("ABS({q}) >= 1e35")),
        Boolean if text => format!("{q} NOT IN ('0', '1')"),
        Boolean => format!("{q} NOT IN (0, 1)"),
        // MySQL drops a CHAR's trailing spaces when it reads it.
        Varchar { .. } | Char { .. } => return super::super::length_misfit(q, old, new, "CHAR"),
        Text => return None,
        Date if text => unlike(q, DATE_RE),
        Date => format!("TIME({q}) <> '00:00:00'"),
        Time if text => unlike(q, TIME_RE),
        Timestamp | TimestampTz if text => unlike(q, TIMESTAMP_RE),
        Uuid if text => unlike(q, UUID_RE),
        Json if text => format!("NOT JSON_VALID({q})"),
        _ => return None,
    })
}
