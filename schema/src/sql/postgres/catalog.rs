//! PostgreSQL's spelling, both ways: how retort writes a type, a default and a check, how
//! `pg_catalog` prints each back (`format_type`, `pg_get_expr`, `pg_get_constraintdef`), and
//! which spellings mean the same there (the rules `check` and adoption compare with).

use crate::expr::canon::Rules;
use crate::expr::lex::Lexicon;
use crate::expr::parse::Grammar;
use crate::model::{ColumnType, Table};

/// What PostgreSQL treats as the same: casts it adds or drops (`'a'::text`, `(n)::text`,
/// `'-1'::integer`), `now()` ≡ `CURRENT_TIMESTAMP`, quoted names with their case.
pub const RULES: Rules = Rules {
    grammar: Grammar {
        lexicon: Lexicon::STANDARD,
        pipes_are_or: false,
    },
    strip_casts: true,
    quoted_case_sensitive: true,
    synonyms: &[
        ("now", "current_timestamp"),
        ("transaction_timestamp", "current_timestamp"),
        ("pg_catalog.now", "current_timestamp"),
    ],
};

/// The PostgreSQL type for a portable type.
pub fn postgres_type(ty: &ColumnType) -> String {
    match ty {
        ColumnType::SmallInt => "SMALLINT".into(),
        ColumnType::Integer => "INTEGER".into(),
        ColumnType::BigInt => "BIGINT".into(),
        ColumnType::Real => "REAL".into(),
        ColumnType::Double => "DOUBLE PRECISION".into(),
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
        ColumnType::Binary => "BYTEA".into(),
        ColumnType::Date => "DATE".into(),
        ColumnType::Time => "TIME".into(),
        ColumnType::Timestamp => "TIMESTAMP".into(),
        ColumnType::TimestampTz => "TIMESTAMPTZ".into(),
        ColumnType::Uuid => "UUID".into(),
        ColumnType::Json => "JSONB".into(),
        ColumnType::Enum { name, .. } => {
            crate::sql::quote_ident(name, crate::sql::Dialect::Postgres)
        }
        ColumnType::Custom { sql } => sql.clone(),
    }
}

/// A default as PostgreSQL needs it: a boolean column's `0`/`1` (SQLite's spelling, which
/// models often use) as `FALSE`/`TRUE`; everything else as written.
pub fn postgres_default(ty: &ColumnType, expr: &str) -> String {
    let e = expr.trim();
    if *ty == ColumnType::Boolean {
        match e {
            "0" | "'0'" => return "FALSE".into(),
            "1" | "'1'" => return "TRUE".into(),
            _ => {}
        }
    }
    e.to_string()
}

/// A type as `format_type` prints it, from any spelling PostgreSQL accepts (`int4`,
/// `varchar(20)[]`, `timestamptz(3)`, `float`, `decimal`): the grammar's own aliases are
/// finite; any other name is a type of the catalog (an enum, a domain, an extension's),
/// printed as written, without a `public.` qualifier.
///
/// ```
/// use retort_schema::sql::postgres::catalog_type;
/// assert_eq!(catalog_type("varchar"), "character varying");
/// assert_eq!(catalog_type("VARCHAR(20)[]"), "character varying(20)[]");
/// assert_eq!(catalog_type("timestamptz(3)"), "timestamp(3) with time zone");
/// assert_eq!(catalog_type("int4"), "integer");
/// assert_eq!(catalog_type("public.mood"), "mood");
/// assert_eq!(catalog_type("\"Mood\""), "\"Mood\"");
/// ```
pub fn catalog_type(sql: &str) -> String {
    let mut text = sql.trim().to_string();
    let mut dims = 0;
    loop {
        let t = text.trim_end();
        if let Some(rest) = t.strip_suffix(']') {
            if let Some(open) = rest.rfind('[') {
                text = rest[..open].to_string();
                dims += 1;
                continue;
            }
        }
        if let Some(rest) = t
            .to_ascii_lowercase()
            .strip_suffix(" array")
            .map(|r| t[..r.len()].to_string())
        {
            text = rest;
            dims += 1;
            continue;
        }
        break;
    }
    let quoted = text.contains('"');
    let lower = if quoted {
        text.trim().to_string()
    } else {
        text.to_ascii_lowercase()
    };
    let words: Vec<&str> = lower.split_whitespace().collect();
    let joined = words.join(" ");
    // Arguments: `numeric(10, 2)`, `timestamp(3) with time zone`.
    let (head, args, tail) = match (joined.find('('), joined.find(')')) {
        (Some(open), Some(close)) if close > open => (
            joined[..open].trim().to_string(),
            Some(joined[open + 1..close].replace(' ', "")),
            joined[close + 1..].trim().to_string(),
        ),
        _ => (joined.clone(), None, String::new()),
    };
    let name = format!("{head}{}{tail}", if tail.is_empty() { "" } else { " " });
    let name = name.trim();
    let args_text = |a: &Option<String>| a.as_ref().map(|a| format!("({a})")).unwrap_or_default();
    let base = match name {
        "int" | "integer" | "int4" | "serial" | "serial4" => "integer".to_string(),
        "smallint" | "int2" | "smallserial" | "serial2" => "smallint".to_string(),
        "bigint" | "int8" | "bigserial" | "serial8" => "bigint".to_string(),
        "real" | "float4" => "real".to_string(),
        "double precision" | "float8" => "double precision".to_string(),
        "float" => match args.as_deref().and_then(|a| a.parse::<u32>().ok()) {
            Some(p) if p <= 24 => "real".to_string(),
            _ => "double precision".to_string(),
        },
        "numeric" | "decimal" | "dec" => match args.as_deref() {
            Some(a) if !a.contains(',') => format!("numeric({a},0)"),
            _ => format!("numeric{}", args_text(&args)),
        },
        "boolean" | "bool" => "boolean".to_string(),
        "varchar" | "character varying" | "char varying" => {
            format!("character varying{}", args_text(&args))
        }
        "char" | "character" => format!(
            "character{}",
            args_text(&args.clone().or_else(|| Some("1".into())))
        ),
        "bpchar" => format!("bpchar{}", args_text(&args)),
        "time" | "time without time zone" => time_type("time", &args, "without"),
        "timetz" | "time with time zone" => time_type("time", &args, "with"),
        "timestamp" | "timestamp without time zone" => time_type("timestamp", &args, "without"),
        "timestamptz" | "timestamp with time zone" => time_type("timestamp", &args, "with"),
        "bit" => format!(
            "bit{}",
            args_text(&args.clone().or_else(|| Some("1".into())))
        ),
        "varbit" | "bit varying" => format!("bit varying{}", args_text(&args)),
        other => {
            let other = other.strip_prefix("public.").unwrap_or(other);
            let other = other.strip_prefix("pg_catalog.").unwrap_or(other);
            format!("{other}{}", args_text(&args))
        }
    };
    format!("{base}{}", "[]".repeat(dims))
}

fn time_type(base: &str, args: &Option<String>, zone: &str) -> String {
    match args {
        Some(p) => format!("{base}({p}) {zone} time zone"),
        None => format!("{base} {zone} time zone"),
    }
}

/// The portable type for what `format_type` prints (after [`catalog_type`]); a custom type
/// for anything a portable type does not say exactly (`character varying` without a
/// length, `json`, `time(3) without time zone`, arrays, enums).
pub fn read_type(catalog: &str) -> ColumnType {
    match catalog.to_ascii_lowercase().as_str() {
        "smallint" => ColumnType::SmallInt,
        "integer" => ColumnType::Integer,
        "bigint" => ColumnType::BigInt,
        "real" => ColumnType::Real,
        "double precision" => ColumnType::Double,
        "numeric" => ColumnType::Numeric {
            precision: None,
            scale: None,
        },
        "boolean" => ColumnType::Boolean,
        "text" => ColumnType::Text,
        "bytea" => ColumnType::Binary,
        "date" => ColumnType::Date,
        "time without time zone" => ColumnType::Time,
        "timestamp without time zone" => ColumnType::Timestamp,
        "timestamp with time zone" => ColumnType::TimestampTz,
        "uuid" => ColumnType::Uuid,
        "jsonb" => ColumnType::Json,
        _ => super::super::sized_type(catalog, "numeric", "character varying", "character"),
    }
}

/// The type PostgreSQL keeps for a model's type, read back portable.
pub fn stored_type(ty: &ColumnType) -> ColumnType {
    // An enum column is of the named type, as `format_type` prints it (its values are
    // compared with the type's).
    if let ColumnType::Enum { name, .. } = ty {
        let plain = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        return ColumnType::Custom {
            sql: if plain {
                name.clone()
            } else {
                crate::sql::quote_ident(name, crate::sql::Dialect::Postgres)
            },
        };
    }
    read_type(&catalog_type(&postgres_type(ty)))
}

/// A default as `pg_get_expr` prints it, in the models' spelling for a reader: the cast
/// PostgreSQL adds to a literal of the column's type goes (`'new'::text` → `'new'`,
/// `'-1'::integer` → `-1`); a literal cast to another type keeps its quotes (`'0'::ltree`
/// → `'0'`). `check` compares canonical forms, not this text.
pub fn read_default(expr: &str) -> String {
    let e = expr.trim();
    if let Some(rest) = e.strip_prefix('\'') {
        // The literal's end: a quote not doubled.
        let bytes = rest.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'\'' {
                if bytes.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                break;
            }
            i += 1;
        }
        if i < bytes.len() {
            let literal = &e[..i + 2];
            let tail = &e[i + 2..];
            if tail.is_empty() || tail.starts_with("::") {
                let inner = &literal[1..literal.len() - 1];
                let to_number = NUMBER_CASTS.iter().any(|t| tail == format!("::{t}"));
                if to_number && inner.parse::<f64>().is_ok() {
                    return inner.to_string();
                }
                return literal.to_string();
            }
        }
    }
    match e {
        "true" => "TRUE".into(),
        "false" => "FALSE".into(),
        _ => e.to_string(),
    }
}

const NUMBER_CASTS: [&str; 6] = [
    "smallint",
    "integer",
    "bigint",
    "numeric",
    "real",
    "double precision",
];

/// The expression of a check as `pg_get_constraintdef` prints it (`CHECK ((a > 0)) NOT
/// VALID` → `((a > 0))`); whether it is validated, the catalog says in `convalidated`.
pub fn check_body(definition: &str) -> String {
    let d = definition.trim();
    let d = d.strip_suffix("NOT VALID").unwrap_or(d).trim_end();
    let body = d.strip_prefix("CHECK").unwrap_or(d).trim();
    body.strip_suffix("NO INHERIT")
        .unwrap_or(body)
        .trim()
        .to_string()
}

/// A table as PostgreSQL keeps it: types as it stores them, defaults as retort writes them,
/// no default of its own on an identity column.
pub fn stored_table(t: &mut Table) {
    for c in &mut t.columns {
        c.ty = stored_type(&c.ty);
        if c.autoincrement {
            c.server_default = None;
        }
        if let Some(d) = &c.server_default {
            c.server_default = Some(postgres_default(&c.ty, d));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::canon::{canonical, canonical_default};

    #[test]
    fn every_portable_type_reads_back_as_itself() {
        use ColumnType::*;
        for ty in [
            SmallInt,
            Integer,
            BigInt,
            Real,
            Double,
            Numeric {
                precision: None,
                scale: None,
            },
            Numeric {
                precision: Some(10),
                scale: Some(2),
            },
            Boolean,
            Text,
            Varchar { length: 3 },
            Char { length: 2 },
            Binary,
            Date,
            Time,
            Timestamp,
            TimestampTz,
            Uuid,
            Json,
        ] {
            assert_eq!(stored_type(&ty), ty, "{ty}");
        }
        assert_eq!(
            stored_type(&Numeric {
                precision: Some(8),
                scale: None
            }),
            Numeric {
                precision: Some(8),
                scale: Some(0)
            }
        );
        for (custom, catalog) in [
            ("varchar", "character varying"),
            ("text[]", "text[]"),
            ("INT[]", "integer[]"),
            ("inet", "inet"),
            ("citext", "citext"),
            ("json", "json"),
            ("timestamp(3)", "timestamp(3) without time zone"),
            ("float", "double precision"),
            ("char", "character(1)"),
        ] {
            let want = read_type(catalog);
            assert_eq!(
                stored_type(&Custom { sql: custom.into() }),
                want,
                "{custom}"
            );
            // What the catalog prints is already in its own spelling.
            assert_eq!(catalog_type(catalog), catalog);
        }
    }

    #[test]
    fn defaults_and_checks_as_the_catalog_prints_them_are_the_models() {
        let d = |ty: &ColumnType, t: &str| canonical_default(ty, t, &RULES);
        use ColumnType::*;
        let enum_ty = Custom {
            sql: "community_visibility".into(),
        };
        let ltree = Custom {
            sql: "ltree".into(),
        };
        for (ty, model, catalog) in [
            (&TimestampTz, "now()", "CURRENT_TIMESTAMP"),
            (&TimestampTz, "CURRENT_TIMESTAMP", "now()"),
            (
                &enum_ty,
                "'Public'::community_visibility",
                "'Public'::community_visibility",
            ),
            (&enum_ty, "'Public'", "'Public'::community_visibility"),
            (&ltree, "'0'::ltree", "'0'::ltree"),
            (&Text, "'index'::text", "'index'::text"),
            (&Text, "'index'", "'index'::text"),
            (
                &Custom {
                    sql: "varchar".into(),
                },
                "''::character varying",
                "''::character varying",
            ),
            (&Json, "'{}'::jsonb", "'{}'::jsonb"),
            (
                &Json,
                "'{\"b\": 1, \"a\": 2}'",
                "'{\"a\": 2, \"b\": 1}'::jsonb",
            ),
            (&Integer, "-1", "'-1'::integer"),
            (&Double, "-1.5e3", "'-1500'::numeric"),
            (&Boolean, "FALSE", "false"),
            (&Uuid, "gen_random_uuid()", "gen_random_uuid()"),
            (&Date, "CURRENT_DATE", "CURRENT_DATE"),
            (&Text, "lower('ABC')", "lower('ABC'::text)"),
            (&BigInt, "(1 + 2) * 3", "((1 + 2) * 3)"),
            (
                &Timestamp,
                "'2026-01-01T00:00'",
                "'2026-01-01 00:00:00'::timestamp without time zone",
            ),
        ] {
            assert_eq!(d(ty, model), d(ty, catalog), "{model} vs {catalog}");
        }
        assert_ne!(d(&ltree, "'0'::ltree"), d(&ltree, "0"));
        assert_ne!(d(&Integer, "-1"), d(&Integer, "1"));
        let c = |t: &str| canonical(t, &RULES);
        for (model, catalog) in [
            ("amount > -1", "(amount > '-1'::integer)"),
            ("n IN ('a', 'b')", "((n)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))"),
            ("m BETWEEN -1.5 AND 10", "(((m >= '-1.5'::numeric) AND (m <= (10)::numeric)))"),
            ("n LIKE 'a%'", "((n)::text ~~ 'a%'::text)"),
            ("n NOT IN ('c')", "((n)::text <> 'c'::text)"),
            ("length(n) > 0 AND (n <> 'x' OR n IS NULL)", "((length((n)::text) > 0) AND (((n)::text <> 'x'::text) OR (n IS NULL)))"),
            ("NOT o", "(NOT o)"),
            ("CAST(v AS integer) < 5", "((v)::integer < 5)"),
            ("coalesce(v, 'z') <> 'y'", "(COALESCE(v, 'z'::text) <> 'y'::text)"),
            ("v ILIKE 'x%'", "(v ~~* 'x%'::text)"),
        ] {
            assert_eq!(c(model), c(catalog), "{model} vs {catalog}");
        }
        assert_eq!(check_body("CHECK ((a > 0)) NOT VALID"), "((a > 0))");
    }
}
