//! What a column's values become when its type changes, between every two portable types:
//! the one table the diff, the renderers and the docs' conversion matrix share.
//!
//! - **widening**: every value of the old type converts and keeps its meaning;
//! - **checked**: a value converts when it fits the new type; each is checked before the
//!   change, and one that does not fit stops the migration naming the column (and nothing
//!   changes);
//! - **refused**: no conversion keeps the meaning in one direction or the other (the
//!   downgrade converts back), so the build refuses the change and says what to do instead.
//!
//! Types a database adds (`custom`) convert checked, as far as the database can tell.

use crate::model::ColumnType;

/// How values go from one type to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// The same type.
    Same,
    /// Every value converts and keeps its meaning.
    Widening,
    /// A value converts when it fits; each is checked first.
    Checked,
    /// No conversion keeps the meaning both ways; the reason.
    Refused(&'static str),
}

/// The kinds of value a portable type holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Number,
    Bool,
    Text,
    Bytes,
    Date,
    Time,
    Instant,
    Uuid,
    Json,
    Enum,
    Custom,
}

fn family(ty: &ColumnType) -> Family {
    use ColumnType::*;
    match ty {
        SmallInt | Integer | BigInt | Real | Double | Numeric { .. } => Family::Number,
        Boolean => Family::Bool,
        Text | Varchar { .. } | Char { .. } => Family::Text,
        Binary => Family::Bytes,
        Date => Family::Date,
        Time => Family::Time,
        Timestamp | TimestampTz => Family::Instant,
        Uuid => Family::Uuid,
        Json => Family::Json,
        Enum { .. } => Family::Enum,
        Custom { .. } => Family::Custom,
    }
}

/// Decimal digits before the point every value of a number type may need (`None`: more
/// than any exact type holds), and digits after it.
fn digits(ty: &ColumnType) -> Option<(u32, u32)> {
    use ColumnType::*;
    match ty {
        SmallInt => Some((5, 0)),
        Integer => Some((10, 0)),
        BigInt => Some((19, 0)),
        Boolean => Some((1, 0)),
        Numeric {
            precision: Some(p),
            scale,
        } => {
            let s = scale.unwrap_or(0);
            Some((p.saturating_sub(s), s))
        }
        _ => None,
    }
}

/// Significant decimal digits a floating type keeps exactly (a value of at most this many
/// digits reads back the same).
fn float_digits(ty: &ColumnType) -> Option<u32> {
    match ty {
        ColumnType::Real => Some(6),
        ColumnType::Double => Some(15),
        _ => None,
    }
}

/// Whether every value of number type `from` (or a boolean) is a value of `to`.
fn number_widens(from: &ColumnType, to: &ColumnType) -> bool {
    use ColumnType::*;
    match (from, to) {
        (
            _,
            Numeric {
                precision: None, ..
            },
        ) => !matches!(from, Real | Double),
        (Real, Double) => true,
        (Real | Double, _) => false,
        (
            Numeric {
                precision: None, ..
            },
            _,
        ) => false,
        (_, Real | Double) => {
            let (int, frac) = digits(from).unwrap_or((u32::MAX, 0));
            int.saturating_add(frac) <= float_digits(to).unwrap_or(0)
        }
        (_, Boolean) => false,
        (_, SmallInt | Integer | BigInt) => {
            // Integer ranges nest by width, not by decimal digits.
            let rank = |t: &ColumnType| match t {
                Boolean => Some(0),
                SmallInt => Some(1),
                Integer => Some(2),
                BigInt => Some(3),
                _ => None,
            };
            match (rank(from), rank(to)) {
                (Some(a), Some(b)) => a <= b,
                _ => false,
            }
        }
        _ => match (digits(from), digits(to)) {
            (Some((fi, fs)), Some((ti, ts))) => fi <= ti && fs <= ts,
            _ => false,
        },
    }
}

/// The longest text a value of `from` can be written as (`None`: unbounded or unknown).
fn text_width(from: &ColumnType) -> Option<u32> {
    use ColumnType::*;
    match from {
        SmallInt => Some(6),
        Integer => Some(11),
        BigInt => Some(20),
        Boolean => Some(5),
        Varchar { length } | Char { length } => Some(*length),
        Date => Some(10),
        Uuid => Some(36),
        _ => None,
    }
}

const NO_BYTES: &str = "bytes have no meaning as another type that every database can check (as text they would have to be valid UTF-8, which SQLite cannot tell)";
const NO_CLOCK: &str = "a time of day and a date or an instant do not convert into each other (which day? which time?)";
const NO_LIST: &str =
    "a list and a single value do not convert into each other (which element would the value be?)";
const NO_ELEMENTS: &str = "the lists' elements do not convert into each other";

/// The element type of an array type (`custom("bigint[]")`, a `Vec<i64>` field): a portable
/// type, or the database's own.
///
/// ```
/// use retort_schema::convert::array_element;
/// use retort_schema::ColumnType;
/// let list = ColumnType::Custom { sql: "bigint[]".into() };
/// assert_eq!(array_element(&list), Some(ColumnType::BigInt));
/// assert_eq!(array_element(&ColumnType::BigInt), None);
/// ```
pub fn array_element(ty: &ColumnType) -> Option<ColumnType> {
    let ColumnType::Custom { sql } = ty else {
        return None;
    };
    let element = sql.trim().strip_suffix("[]")?.trim();
    Some(
        ColumnType::parse_portable(element).unwrap_or_else(|| ColumnType::Custom {
            sql: element.to_string(),
        }),
    )
}

const NO_MEANING: &str = "no value of one type means a value of the other";

/// How values of `from` become values of `to`.
///
/// ```
/// use retort_schema::convert::{conversion, Conversion};
/// use retort_schema::ColumnType::*;
/// assert_eq!(conversion(&Integer, &BigInt), Conversion::Widening);
/// assert_eq!(conversion(&BigInt, &Integer), Conversion::Checked);
/// assert_eq!(conversion(&Integer, &Real), Conversion::Checked); // 16777217 is not a real
/// assert!(matches!(conversion(&Date, &Time), Conversion::Refused(_)));
/// ```
pub fn conversion(from: &ColumnType, to: &ColumnType) -> Conversion {
    use Family::*;
    if from == to {
        return Conversion::Same;
    }
    // A list converts element by element; a list and a single value do not convert.
    match (array_element(from), array_element(to)) {
        (Some(a), Some(b)) => {
            return match conversion(&a, &b) {
                Conversion::Refused(_) => Conversion::Refused(NO_ELEMENTS),
                other => other,
            }
        }
        (Some(_), None) | (None, Some(_)) => return Conversion::Refused(NO_LIST),
        (None, None) => {}
    }
    let (f, t) = (family(from), family(to));
    match (f, t) {
        (Custom, _) | (_, Custom) => Conversion::Checked,
        // An enum's values are text; text (or another enum) must be one of the values.
        (Enum, Text) => match to {
            ColumnType::Text => Conversion::Widening,
            _ => Conversion::Checked,
        },
        (Text | Enum, Enum) => Conversion::Checked,
        (Enum, _) | (_, Enum) => Conversion::Refused(NO_MEANING),
        (Bytes, _) | (_, Bytes) => Conversion::Refused(NO_BYTES),
        (Number | Bool, Number | Bool) => {
            if number_widens(from, to) {
                Conversion::Widening
            } else {
                Conversion::Checked
            }
        }
        // To text: widening when the text always fits, else checked (a length, or a
        // trailing space a CHAR would drop).
        (_, Text) => match to {
            ColumnType::Text => Conversion::Widening,
            ColumnType::Varchar { length } => match (from, text_width(from)) {
                (ColumnType::Char { .. } | ColumnType::Varchar { .. }, Some(w)) if w <= *length => {
                    Conversion::Widening
                }
                (ColumnType::Char { .. } | ColumnType::Varchar { .. }, _) => Conversion::Checked,
                (_, Some(w)) if w <= *length => Conversion::Widening,
                _ => Conversion::Checked,
            },
            ColumnType::Char { length } => match from {
                ColumnType::Char { length: l } if l <= length => Conversion::Widening,
                _ => Conversion::Checked,
            },
            _ => unreachable!("a text family type"),
        },
        // From text: the text must spell a value of the new type.
        (Text, _) => Conversion::Checked,
        (Date, Instant) => Conversion::Widening,
        (Instant, Date) => Conversion::Checked,
        (Instant, Instant) => Conversion::Widening,
        (Time, Date | Instant) | (Date | Instant, Time) => Conversion::Refused(NO_CLOCK),
        _ => Conversion::Refused(NO_MEANING),
    }
}

/// The build's refusal of a type change the matrix refuses, naming the column and what to
/// do instead; `None` when the change converts.
pub fn refusal(table: &str, column: &str, from: &ColumnType, to: &ColumnType) -> Option<String> {
    let why = match (conversion(from, to), conversion(to, from)) {
        (Conversion::Refused(why), _) | (_, Conversion::Refused(why)) => why,
        _ => return None,
    };
    Some(format!(
        "`{table}.{column}` changes from {from} to {to}, and {why}. Keep the type, or add a new column of the new type (fill it in a data migration: a `run(…)` function or `execute(\"UPDATE …\")`), then drop `{column}`"
    ))
}

/// Every portable type, one of each kind (the rows and columns of the matrix).
pub fn portable_types() -> Vec<ColumnType> {
    use ColumnType::*;
    vec![
        SmallInt,
        Integer,
        BigInt,
        Real,
        Double,
        Numeric {
            precision: Some(10),
            scale: Some(2),
        },
        Boolean,
        Text,
        Varchar { length: 20 },
        Char { length: 5 },
        Binary,
        Date,
        Time,
        Timestamp,
        TimestampTz,
        Uuid,
        Json,
    ]
}

/// The matrix as a Markdown table: a row per old type, a column per new type; `=` same,
/// `W` widening, `C` checked, `—` refused.
pub fn matrix_markdown() -> String {
    markdown(&portable_types())
}

fn markdown(types: &[ColumnType]) -> String {
    let mut out = String::from("| from \\ to |");
    for t in types {
        out.push_str(&format!(" {t} |"));
    }
    out.push_str("\n|---|");
    for _ in types {
        out.push_str("---|");
    }
    out.push('\n');
    for from in types {
        out.push_str(&format!("| **{from}** |"));
        for to in types {
            let cell = match conversion(from, to) {
                Conversion::Same => "=",
                Conversion::Widening => "W",
                Conversion::Checked => "C",
                Conversion::Refused(_) => "—",
            };
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}

/// Types beyond the portable ones, as the matrix of [`extended_matrix_markdown`] shows
/// them: an enum, lists (PostgreSQL arrays) and a database's own type, beside the text and
/// number types they meet most.
pub fn extended_types() -> Vec<ColumnType> {
    use ColumnType::*;
    let custom = |sql: &str| Custom { sql: sql.into() };
    vec![
        Integer,
        BigInt,
        Text,
        Varchar { length: 20 },
        Enum {
            name: "status".into(),
            values: vec!["draft".into(), "published".into()],
        },
        custom("integer[]"),
        custom("bigint[]"),
        custom("text[]"),
        custom("varchar(20)[]"),
        custom("citext"),
    ]
}

/// The matrix of [`extended_types`], in the form of [`matrix_markdown`].
pub fn extended_matrix_markdown() -> String {
    markdown(&extended_types())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_go_both_ways() {
        let types: Vec<ColumnType> = portable_types()
            .into_iter()
            .chain(extended_types())
            .collect();
        for a in &types {
            for b in &types {
                let refused = |x, y| matches!(conversion(x, y), Conversion::Refused(_));
                assert_eq!(refused(a, b), refused(b, a), "{a} / {b}");
            }
        }
    }

    #[test]
    fn widening_is_never_both_ways_between_different_types() {
        let types = portable_types();
        for a in &types {
            for b in &types {
                if a != b {
                    assert!(
                        !(conversion(a, b) == Conversion::Widening
                            && conversion(b, a) == Conversion::Widening)
                            || matches!(
                                (a, b),
                                (ColumnType::Timestamp, ColumnType::TimestampTz)
                                    | (ColumnType::TimestampTz, ColumnType::Timestamp)
                            ),
                        "{a} / {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn numbers() {
        use ColumnType::*;
        let n = |p, s| Numeric {
            precision: Some(p),
            scale: Some(s),
        };
        assert_eq!(conversion(&SmallInt, &Real), Conversion::Widening);
        assert_eq!(conversion(&BigInt, &Double), Conversion::Checked);
        assert_eq!(conversion(&n(10, 2), &n(12, 2)), Conversion::Widening);
        assert_eq!(conversion(&n(10, 2), &n(10, 4)), Conversion::Checked);
        assert_eq!(
            conversion(
                &Double,
                &Numeric {
                    precision: None,
                    scale: None
                }
            ),
            Conversion::Checked
        );
        assert_eq!(conversion(&Boolean, &SmallInt), Conversion::Widening);
        assert_eq!(conversion(&SmallInt, &Boolean), Conversion::Checked);
        assert_eq!(
            conversion(&Integer, &Varchar { length: 20 }),
            Conversion::Widening
        );
        assert_eq!(
            conversion(&Integer, &Varchar { length: 4 }),
            Conversion::Checked
        );
        assert!(refusal("t", "c", &Text, &Binary).is_some());
    }
}
