//! A default's literal in the form its column's type gives it: what a database prints back
//! for a value of that type (a number for a number column, `1`/`0` for a boolean, dates and
//! times padded, JSON with its keys sorted).

use super::canon::number_literal;
use super::json;
use super::parse::Expr;
use crate::model::ColumnType;

/// A literal default in the form its column's type gives it.
pub(super) fn literal_for(ty: &ColumnType, e: Expr) -> Expr {
    use ColumnType::*;
    let text = match &e {
        Expr::Str(s) => s.clone(),
        Expr::Num(n) => n.clone(),
        _ => return e,
    };
    let canon = match ty {
        SmallInt | Integer | BigInt | Real | Double | Numeric { .. } => number_literal(&text),
        Boolean => boolean(&text).map(|b| Expr::Num(if b { "1" } else { "0" }.into())),
        Date => temporal::date(&text).map(Expr::Str),
        Time => temporal::time(&text).map(Expr::Str),
        Timestamp => temporal::timestamp(&text, false).map(Expr::Str),
        TimestampTz => temporal::timestamp(&text, true).map(Expr::Str),
        Uuid => Some(Expr::Str(text.to_ascii_lowercase())),
        Json => json::canonical(&text).map(Expr::Str),
        Custom { sql } => return literal_for(&custom_family(sql), e),
        _ => None,
    };
    match (canon, &e) {
        (Some(c), _) => c,
        // A number written as a string for a text column stays a string, and the other way.
        (None, _) => e,
    }
}

/// The portable type whose literals a database-specific type spells alike (`int
/// unsigned` and `year` are numbers, `datetime` a timestamp, `json` JSON); text otherwise.
fn custom_family(sql: &str) -> ColumnType {
    let lower = sql.trim().to_ascii_lowercase();
    let head: String = lower
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let zoned = lower.contains("with time zone") || head == "timestamptz";
    match head.as_str() {
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "int2" | "int4"
        | "int8" | "decimal" | "dec" | "numeric" | "float" | "float4" | "float8" | "double"
        | "real" | "year" | "serial" | "bigserial" | "smallserial" => ColumnType::Numeric {
            precision: None,
            scale: None,
        },
        "datetime" | "timestamp" | "timestamptz" if zoned => ColumnType::TimestampTz,
        "datetime" | "timestamp" => ColumnType::Timestamp,
        "date" => ColumnType::Date,
        "time" | "timetz" => ColumnType::Time,
        "json" | "jsonb" => ColumnType::Json,
        "uuid" => ColumnType::Uuid,
        _ => ColumnType::Text,
    }
}

/// A boolean's value from how a database or a model may write it.
fn boolean(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "t" | "true" | "y" | "yes" | "on" => Some(true),
        "0" | "f" | "false" | "n" | "no" | "off" => Some(false),
        _ => None,
    }
}

mod temporal {
    //! Dates and times as the databases print them back.

    fn number(s: &str, width: usize) -> Option<String> {
        if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) || s.len() > width.max(4) {
            return None;
        }
        Some(format!("{:0width$}", s.parse::<u32>().ok()?))
    }

    /// `YYYY-MM-DD`.
    pub(super) fn date(s: &str) -> Option<String> {
        let mut parts = s.trim().split('-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        Some(format!(
            "{}-{}-{}",
            number(y, 4)?,
            number(m, 2)?,
            number(d, 2)?
        ))
    }

    /// `HH:MM:SS[.fraction]`, zeros at the end of the fraction dropped.
    pub(super) fn time(s: &str) -> Option<String> {
        let (clock, fraction) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
        let mut parts = clock.split(':');
        let (h, m) = (parts.next()?, parts.next()?);
        let sec = parts.next().unwrap_or("0");
        if parts.next().is_some() || !fraction.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let fraction = fraction.trim_end_matches('0');
        let mut out = format!("{}:{}:{}", number(h, 2)?, number(m, 2)?, number(sec, 2)?);
        if !fraction.is_empty() {
            out.push('.');
            out.push_str(fraction);
        }
        Some(out)
    }

    /// `YYYY-MM-DD HH:MM:SS[.fraction]`, with `+HH:MM` for an instant (`+00:00` when none
    /// is written: retort's instants are UTC).
    pub(super) fn timestamp(s: &str, zoned: bool) -> Option<String> {
        let s = s.trim();
        let (day, rest) = match s.find([' ', 'T', 't']) {
            Some(i) => (&s[..i], s[i + 1..].trim()),
            None => (s, "00:00:00"),
        };
        let (clock, offset) = split_offset(rest);
        let mut out = format!("{} {}", date(day)?, time(clock)?);
        if zoned {
            out.push_str(&offset_text(offset)?);
        } else if !offset.is_empty() {
            return None;
        }
        Some(out)
    }

    fn split_offset(rest: &str) -> (&str, &str) {
        if let Some(clock) = rest.strip_suffix(['Z', 'z']) {
            return (clock, "+00");
        }
        match rest.rfind(['+', '-']) {
            Some(i) => (rest[..i].trim(), &rest[i..]),
            None => (rest, ""),
        }
    }

    fn offset_text(offset: &str) -> Option<String> {
        if offset.is_empty() {
            return Some("+00:00".into());
        }
        let sign = &offset[..1];
        let body: String = offset[1..].chars().filter(|c| *c != ':').collect();
        let (h, m) = match body.len() {
            1 | 2 => (body.as_str(), "0"),
            4 => body.split_at(2),
            _ => return None,
        };
        let (h, m) = (number(h, 2)?, number(m, 2)?);
        let sign = if h == "00" && m == "00" { "+" } else { sign };
        Some(format!("{sign}{h}:{m}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporal_literals_read_back_alike() {
        assert_eq!(temporal::date("2026-1-2").as_deref(), Some("2026-01-02"));
        assert_eq!(
            temporal::time("00:00:00.000000").as_deref(),
            Some("00:00:00")
        );
        assert_eq!(
            temporal::timestamp("2026-01-01T00:00", true).as_deref(),
            Some("2026-01-01 00:00:00+00:00")
        );
        assert_eq!(
            temporal::timestamp("2026-01-01 00:00:00+00", true),
            temporal::timestamp("2026-01-01 00:00:00Z", true)
        );
        assert_ne!(
            temporal::timestamp("2026-01-01 00:00:00+01", true),
            temporal::timestamp("2026-01-01 00:00:00", true)
        );
    }
}
