//! SQLite's half of the conversion matrix ([`crate::convert`]). A rebuild copies each value
//! into the new column, where SQLite's type affinity converts what it can and keeps the rest
//! as it was (text in an INTEGER column, 300 characters in a VARCHAR(200)); so a changed
//! type is checked twice: before the copy, what only the old value can tell (an integer a
//! double rounds, a time of day a date drops, text that spells no date, UUID or JSON), and
//! after it, whether the copied value is of the new type at all. Dates and times are text
//! in the forms diesel reads: a date becoming a timestamp gains its midnight.

use crate::model::ColumnType;

/// `[0-9]` `n` times, for GLOB patterns.
fn digits(n: usize) -> String {
    "[0-9]".repeat(n)
}

fn hex(n: usize) -> String {
    "[0-9a-fA-F]".repeat(n)
}

/// A condition on the old value `q` (of type `old`) true when it would not keep its
/// meaning as `new`, for what the copied value cannot show.
pub(super) fn misfit_before(q: &str, old: &ColumnType, new: &ColumnType) -> Option<String> {
    use ColumnType::*;
    let text = old.is_text();
    let date = format!("{}-{}-{}", digits(4), digits(2), digits(2));
    Some(match (old, new) {
        (_, Enum { values, .. }) => {
            format!("{q} NOT IN ({})", crate::sql::enums::literals(values))
        }
        // A double has 53 bits: a larger integer would come back rounded.
        (SmallInt | Integer | BigInt, Real | Double) => {
            format!("typeof({q}) = 'integer' AND CAST({q} AS REAL) <> {q}")
        }
        (Timestamp | TimestampTz, Date) => format!(
            "typeof({q}) = 'text' AND length({q}) > 10 AND replace(replace(replace(replace(replace(substr({q}, 12), '0', ''), ':', ''), '.', ''), '+', ''), 'Z', '') <> ''"
        ),
        // An offset other than UTC would be dropped, not applied.
        (TimestampTz, Timestamp) => format!(
            "{q} GLOB '*[+-][0-9][0-9]:[0-9][0-9]' AND NOT {q} GLOB '*[+-]00:00'"
        ),
        (_, Date) if text => format!("NOT {q} GLOB '{date}' OR date({q}) IS NULL"),
        (_, Time) if text => format!("time({q}) IS NULL OR NOT {q} GLOB '[0-9][0-9]:[0-9][0-9]*'"),
        (_, Timestamp | TimestampTz) if text => format!(
            "datetime({q}) IS NULL OR NOT ({q} GLOB '{date}' OR {q} GLOB '{date}[ T][0-9][0-9]:[0-9][0-9]*')"
        ),
        (_, Uuid) if text => format!(
            "NOT {q} GLOB '{}-{}-{}-{}-{}'",
            hex(8),
            hex(4),
            hex(4),
            hex(4),
            hex(12)
        ),
        (_, Json) if text => format!("NOT json_valid({q})"),
        (_, Char { .. }) if text => format!("{q} LIKE '% '"),
        _ => return None,
    })
}

/// A condition on the copied value `c` true when SQLite kept it as it was instead of
/// converting it to `ty` (or it does not fit the declared size); `None` when SQLite
/// cannot tell.
pub(super) fn misfit_after(ty: &ColumnType, c: &str) -> Option<String> {
    let int_range = |lo: i64, hi: i64| {
        format!("typeof({c}) NOT IN ('integer', 'null') OR {c} < {lo} OR {c} > {hi}")
    };
    Some(match ty {
        ColumnType::SmallInt => int_range(i16::MIN.into(), i16::MAX.into()),
        ColumnType::Integer => int_range(i32::MIN.into(), i32::MAX.into()),
        ColumnType::BigInt => format!("typeof({c}) NOT IN ('integer', 'null')"),
        ColumnType::Real | ColumnType::Double => {
            format!("typeof({c}) NOT IN ('real', 'integer', 'null')")
        }
        // More digits after the point than the scale, or before it than precision - scale.
        ColumnType::Numeric {
            precision: Some(p),
            scale,
        } => {
            let s = scale.unwrap_or(0);
            format!(
                "typeof({c}) IN ('text', 'blob') OR {c} <> ROUND({c}, {s}) OR ABS({c}) >= 1e{}",
                p.saturating_sub(s)
            )
        }
        ColumnType::Numeric { .. } => format!("typeof({c}) IN ('text', 'blob')"),
        ColumnType::Boolean => {
            format!("typeof({c}) NOT IN ('integer', 'null') OR {c} NOT IN (0, 1)")
        }
        ColumnType::Varchar { length } | ColumnType::Char { length } => {
            format!("typeof({c}) = 'blob' OR length({c}) > {length}")
        }
        ColumnType::Text => format!("typeof({c}) = 'blob'"),
        _ => return None,
    })
}

/// What the copy writes into the new column for the old value `q`: a date gains its
/// midnight, an instant its UTC offset (`+00:00`, as diesel writes one), a timestamp made
/// from an instant loses a UTC offset.
pub(super) fn copy(q: &str, old: &ColumnType, new: &ColumnType) -> String {
    use ColumnType::*;
    let date = format!("{}-{}-{}", digits(4), digits(2), digits(2));
    let zoned = format!("({q} GLOB '*[+-][0-9][0-9]:[0-9][0-9]' OR {q} GLOB '*Z')");
    let text_only =
        |expr: String| format!("CASE WHEN typeof({q}) = 'text' THEN {expr} ELSE {q} END");
    match (old, new) {
        (Date, Timestamp) => text_only(format!("{q} || ' 00:00:00'")),
        (Date, TimestampTz) => text_only(format!("{q} || ' 00:00:00+00:00'")),
        (Timestamp | TimestampTz, Date) => text_only(format!("substr({q}, 1, 10)")),
        (Text | Varchar { .. } | Char { .. }, Timestamp) => {
            format!("CASE WHEN {q} GLOB '{date}' THEN {q} || ' 00:00:00' ELSE {q} END")
        }
        (Text | Varchar { .. } | Char { .. } | Timestamp, TimestampTz) => format!(
            "CASE WHEN {q} GLOB '{date}' THEN {q} || ' 00:00:00+00:00' WHEN NOT {zoned} THEN {q} || '+00:00' ELSE {q} END"
        ),
        (TimestampTz, Timestamp) => format!(
            "CASE WHEN {q} GLOB '*+00:00' THEN substr({q}, 1, length({q}) - 6) WHEN {q} GLOB '*Z' THEN substr({q}, 1, length({q}) - 1) ELSE {q} END"
        ),
        _ => q.to_string(),
    }
}
