//! MySQL's and MariaDB's spelling, both ways: how retort writes a type, a default and a
//! check, how `information_schema` prints each back (`COLUMN_TYPE`, `COLUMN_DEFAULT`,
//! `CHECK_CLAUSE`), and which spellings mean the same there.

use crate::expr::canon::Rules;
use crate::expr::lex::{lex, Lexicon, Token};
use crate::expr::parse::Grammar;
use crate::model::{ColumnType, Index, ReferentialAction, Table, UniqueConstraint};

/// What MySQL/MariaDB treat as the same: backquotes, names without case, `now()` ≡
/// `CURRENT_TIMESTAMP(6)` ≡ `current_timestamp()`, `lower` ≡ `lcase`, `length` ≡
/// `octet_length`, `%` ≡ `MOD`, `TRUE` ≡ `1`, `NOT x` ≡ `x = 0`, `||` ≡ `OR`.
pub const RULES: Rules = Rules {
    grammar: Grammar {
        lexicon: Lexicon::MYSQL,
        pipes_are_or: true,
    },
    strip_casts: true,
    quoted_case_sensitive: false,
    synonyms: &[
        ("now", "current_timestamp"),
        ("localtimestamp", "current_timestamp"),
        ("localtime", "current_timestamp"),
        ("curdate", "current_date"),
        ("curtime", "current_time"),
        ("lcase", "lower"),
        ("ucase", "upper"),
        ("length", "octet_length"),
        ("character_length", "char_length"),
        ("substr", "substring"),
        ("mid", "substring"),
        ("pow", "power"),
        ("ceil", "ceiling"),
    ],
};

/// The MySQL type for a portable type.
pub fn mysql_type(ty: &ColumnType) -> String {
    match ty {
        ColumnType::SmallInt => "SMALLINT".into(),
        ColumnType::Integer => "INT".into(),
        ColumnType::BigInt => "BIGINT".into(),
        ColumnType::Real => "FLOAT".into(),
        ColumnType::Double => "DOUBLE".into(),
        // MySQL's bare DECIMAL is DECIMAL(10,0), which would round every value: take the widest.
        ColumnType::Numeric {
            precision: None, ..
        } => "DECIMAL(65,30)".into(),
        ColumnType::Numeric {
            precision: Some(p),
            scale: None,
        } => format!("DECIMAL({p},0)"),
        ColumnType::Numeric {
            precision: Some(p),
            scale: Some(s),
        } => format!("DECIMAL({p},{s})"),
        ColumnType::Boolean => "BOOLEAN".into(),
        // TEXT holds 64 KiB; unbounded text is LONGTEXT.
        ColumnType::Text => "LONGTEXT".into(),
        ColumnType::Varchar { length } => format!("VARCHAR({length})"),
        ColumnType::Char { length } => format!("CHAR({length})"),
        ColumnType::Binary => "LONGBLOB".into(),
        ColumnType::Date => "DATE".into(),
        ColumnType::Time => "TIME(6)".into(),
        ColumnType::Timestamp => "DATETIME(6)".into(),
        // An instant, stored in UTC (TIMESTAMP would end in 2038).
        ColumnType::TimestampTz => "DATETIME(6)".into(),
        ColumnType::Uuid => "CHAR(36)".into(),
        ColumnType::Json => "JSON".into(),
        ColumnType::Enum { values, .. } => {
            let values: Vec<String> = values.iter().map(|v| mysql_literal(v)).collect();
            format!("ENUM({})", values.join(","))
        }
        ColumnType::Custom { sql } => sql.clone(),
    }
}

/// A string literal for MySQL, whose default mode also treats backslash as an escape.
pub fn mysql_literal(text: &str) -> String {
    crate::sql::literal(text, crate::sql::Dialect::Mysql)
}

/// A default as MySQL accepts it: literals as written, `CURRENT_TIMESTAMP` at the column's
/// precision, anything else as an expression in parentheses.
pub fn mysql_default(ty: &ColumnType, expr: &str) -> String {
    let e = expr.trim();
    let upper = e.to_ascii_uppercase();
    if matches!(
        upper.as_str(),
        "CURRENT_TIMESTAMP" | "CURRENT_TIMESTAMP()" | "NOW()"
    ) {
        return match ty {
            ColumnType::Timestamp | ColumnType::TimestampTz => "CURRENT_TIMESTAMP(6)".into(),
            _ => "CURRENT_TIMESTAMP".into(),
        };
    }
    if crate::expr::is_literal(e, Lexicon::MYSQL, &["NULL", "TRUE", "FALSE"]) {
        e.to_string()
    } else {
        format!("({e})")
    }
}

/// A type as `information_schema.COLUMNS.COLUMN_TYPE` prints it, from any spelling MySQL
/// accepts, without integer display widths (MariaDB prints `int(11)`, MySQL 8 `int`) but
/// with `tinyint(1)`, which is how a boolean reads back.
///
/// ```
/// use retort_schema::sql::mysql::catalog_type;
/// assert_eq!(catalog_type("INT(11)"), "int");
/// assert_eq!(catalog_type("BOOLEAN"), "tinyint(1)");
/// assert_eq!(catalog_type("int unsigned"), "int unsigned");
/// assert_eq!(catalog_type("DECIMAL"), "decimal(10,0)");
/// assert_eq!(catalog_type("ENUM('a', 'it''s')"), "enum('a','it''s')");
/// assert_eq!(catalog_type("double precision"), "double");
/// ```
pub fn catalog_type(sql: &str) -> String {
    let tokens: Vec<Token> = lex(sql, Lexicon::MYSQL)
        .into_iter()
        .map(|s| s.token)
        .collect();
    let mut words: Vec<String> = Vec::new();
    let mut args: Option<Vec<String>> = None;
    let mut attrs: Vec<String> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Punct(p) if p == "(" && args.is_none() => {
                let mut list = Vec::new();
                i += 1;
                while i < tokens.len() && !matches!(&tokens[i], Token::Punct(p) if p == ")") {
                    match &tokens[i] {
                        Token::Str(s) => list.push(format!("'{}'", s.replace('\'', "''"))),
                        Token::Number(n) => list.push(n.clone()),
                        Token::Word(w) => list.push(w.to_ascii_lowercase()),
                        _ => {}
                    }
                    i += 1;
                }
                args = Some(list);
            }
            Token::Word(w) => {
                let w = w.to_ascii_lowercase();
                // A character set or collation is not part of COLUMN_TYPE.
                if matches!(w.as_str(), "character" | "charset" | "collate")
                    && (w != "character"
                        || matches!(tokens.get(i + 1), Some(Token::Word(n)) if n.eq_ignore_ascii_case("set")))
                {
                    break;
                }
                if args.is_some() || matches!(w.as_str(), "unsigned" | "zerofill" | "signed") {
                    if w != "signed" {
                        attrs.push(w);
                    }
                } else {
                    words.push(w);
                }
            }
            _ => {}
        }
        i += 1;
    }
    let name = words.join(" ");
    let integer = |base: &str| -> String { base.to_string() };
    let base = match name.as_str() {
        "bool" | "boolean" => "tinyint(1)".to_string(),
        "tinyint" | "int1" if args.as_deref() == Some(&["1".to_string()]) && attrs.is_empty() => {
            "tinyint(1)".to_string()
        }
        "tinyint" | "int1" => integer("tinyint"),
        "smallint" | "int2" => integer("smallint"),
        "mediumint" | "int3" | "middleint" => integer("mediumint"),
        "int" | "integer" | "int4" => integer("int"),
        "bigint" | "int8" => integer("bigint"),
        "serial" => return "bigint unsigned".into(),
        "decimal" | "dec" | "numeric" | "fixed" => match args.as_deref() {
            None | Some([]) => "decimal(10,0)".to_string(),
            Some([p]) => format!("decimal({p},0)"),
            Some(a) => format!("decimal({})", a.join(",")),
        },
        "double" | "double precision" | "real" | "float8" => with_args("double", &args),
        "float4" => "float".to_string(),
        "float" => match args.as_deref() {
            Some([p]) if p.parse::<u32>().is_ok_and(|p| p > 24) => "double".to_string(),
            Some([_]) => "float".to_string(),
            _ => with_args("float", &args),
        },
        "char" | "character" | "nchar" | "national char" => {
            with_args("char", &args.clone().or_else(|| Some(vec!["1".into()])))
        }
        "varchar" | "character varying" | "nvarchar" | "national varchar" => {
            with_args("varchar", &args)
        }
        "binary" => with_args("binary", &args.clone().or_else(|| Some(vec!["1".into()]))),
        "long varchar" | "long" => "mediumtext".to_string(),
        "long varbinary" => "mediumblob".to_string(),
        "datetime" | "time" | "timestamp" => match args.as_deref() {
            Some([p]) if p != "0" => format!("{name}({p})"),
            _ => name.clone(),
        },
        "year" => "year".to_string(),
        other => with_args(other, &args),
    };
    let mut out = base;
    for a in attrs {
        out.push(' ');
        out.push_str(&a);
    }
    out
}

fn with_args(name: &str, args: &Option<Vec<String>>) -> String {
    match args {
        Some(a) => format!("{name}({})", a.join(",")),
        None => name.to_string(),
    }
}

/// The portable type for a `COLUMN_TYPE` (after [`catalog_type`]); a custom type for
/// anything a portable type does not say exactly (`datetime` without fractions, `text`,
/// `int unsigned`, enums).
pub fn read_type(catalog: &str) -> ColumnType {
    // An enum keeps its values, not a name.
    if catalog.starts_with("enum(") {
        let values = lex(catalog, Lexicon::MYSQL)
            .into_iter()
            .filter_map(|s| match s.token {
                Token::Str(v) => Some(v),
                _ => None,
            })
            .collect();
        return ColumnType::Enum {
            name: String::new(),
            values,
        };
    }
    match catalog {
        "tinyint(1)" => ColumnType::Boolean,
        "smallint" => ColumnType::SmallInt,
        "int" => ColumnType::Integer,
        "bigint" => ColumnType::BigInt,
        "float" => ColumnType::Real,
        "double" => ColumnType::Double,
        "longtext" => ColumnType::Text,
        "longblob" => ColumnType::Binary,
        "date" => ColumnType::Date,
        "time(6)" => ColumnType::Time,
        "datetime(6)" => ColumnType::Timestamp,
        "json" => ColumnType::Json,
        _ => super::super::sized_type(catalog, "decimal", "varchar", "char"),
    }
}

/// The type MySQL keeps for a model's type, read back portable: a UUID is `CHAR(36)`, an
/// instant a `DATETIME(6)` in UTC, an unbounded numeric `DECIMAL(65,30)`.
pub fn stored_type(ty: &ColumnType) -> ColumnType {
    read_type(&catalog_type(&mysql_type(ty)))
}

/// A default as `information_schema.COLUMNS.COLUMN_DEFAULT` shows it: MariaDB writes the
/// literal `NULL` for "no default" on a nullable column; the rest stays in MySQL's spelling
/// (backslash escapes), which [`RULES`] read.
pub fn read_default(text: &str, nullable: bool) -> Option<String> {
    let e = text.trim();
    if e.eq_ignore_ascii_case("NULL") && nullable {
        return None;
    }
    Some(e.to_string())
}

/// The column a check marks as JSON, when it is MariaDB's own for a JSON column: a
/// column-level `json_valid(`c`)` (MariaDB stores JSON as LONGTEXT with that check; the
/// check keeps its first column's name through renames, so the clause names the column).
pub fn json_column(level: &str, clause: &str) -> Option<String> {
    if !level.eq_ignore_ascii_case("column") {
        return None;
    }
    let tokens: Vec<Token> = lex(clause, Lexicon::MYSQL)
        .into_iter()
        .map(|s| s.token)
        .collect();
    match tokens.as_slice() {
        [Token::Word(f), Token::Punct(open), Token::QuotedIdent(c) | Token::Word(c), Token::Punct(close)]
            if f.eq_ignore_ascii_case("json_valid") && open == "(" && close == ")" =>
        {
            Some(c.clone())
        }
        _ => None,
    }
}

/// A table as MySQL/MariaDB keep it: stored types, defaults as retort writes them, unique
/// indexes as unique constraints, `NO ACTION` as `RESTRICT` (what InnoDB does and prints),
/// and on MariaDB a default's characters outside the BMP as `?` (its metadata is utf8mb3).
pub fn stored_table(t: &mut Table, mariadb: bool) {
    for c in &mut t.columns {
        c.ty = stored_type(&c.ty);
        if c.autoincrement {
            c.server_default = None;
        }
        if let Some(d) = &c.server_default {
            c.server_default = Some(mysql_default(&c.ty, d));
        }
        let blob = matches!(
            c.ty,
            ColumnType::Text | ColumnType::Binary | ColumnType::Json
        );
        if let (true, Some(d)) = (mariadb, &mut c.server_default) {
            if d.chars().any(|ch| ch.len_utf8() == 4) {
                // The default itself still inserts the character whole.
                let mark = if blob { "????" } else { "?" };
                *d = d
                    .chars()
                    .map(|ch| {
                        if ch.len_utf8() == 4 {
                            mark.to_string()
                        } else {
                            ch.to_string()
                        }
                    })
                    .collect();
            }
        }
    }
    // MySQL keeps a unique constraint as a unique index: a plain one reads back as the
    // constraint.
    let (unique, plain): (Vec<Index>, Vec<Index>) = t
        .indexes
        .drain(..)
        .partition(|i| i.unique && i.plain_columns().is_some());
    t.indexes = plain;
    t.uniques.extend(unique.into_iter().map(|i| {
        let columns = i.plain_columns().unwrap_or_default();
        UniqueConstraint::new(i.name, columns)
    }));
    for f in &mut t.foreign_keys {
        for a in [&mut f.on_delete, &mut f.on_update] {
            if *a == ReferentialAction::NoAction {
                *a = ReferentialAction::Restrict;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::canon::{canonical, canonical_default};

    #[test]
    fn portable_types_read_back_as_mysql_keeps_them() {
        use ColumnType::*;
        for ty in [
            SmallInt,
            Integer,
            BigInt,
            Real,
            Double,
            Boolean,
            Text,
            Varchar { length: 3 },
            Char { length: 2 },
            Binary,
            Date,
            Time,
            Timestamp,
            Json,
        ] {
            assert_eq!(stored_type(&ty), ty, "{ty}");
        }
        assert_eq!(stored_type(&Uuid), Char { length: 36 });
        assert_eq!(stored_type(&TimestampTz), Timestamp);
        for (custom, printed) in [
            ("INT UNSIGNED", "int(10) unsigned"),
            ("MEDIUMTEXT", "mediumtext"),
            ("DATETIME", "datetime"),
            ("ENUM('a','b')", "enum('a','b')"),
            ("YEAR", "year(4)"),
            ("VARCHAR(10) CHARACTER SET ascii", "varchar(10)"),
        ] {
            assert_eq!(
                stored_type(&Custom { sql: custom.into() }),
                read_type(&catalog_type(printed)),
                "{custom}"
            );
        }
        assert_eq!(read_type(&catalog_type("int(11)")), Integer);
        assert_eq!(read_type(&catalog_type("bigint(20)")), BigInt);
    }

    #[test]
    fn mariadb_prints_what_the_models_say() {
        let d = |ty: &ColumnType, t: &str| canonical_default(ty, t, &RULES);
        use ColumnType::*;
        for (ty, model, printed) in [
            (&Timestamp, "CURRENT_TIMESTAMP(6)", "current_timestamp(6)"),
            (&Timestamp, "now()", "current_timestamp(6)"),
            (&Date, "(CURRENT_DATE)", "curdate()"),
            (&Char { length: 36 }, "(uuid())", "uuid()"),
            (
                &Numeric {
                    precision: Some(10),
                    scale: Some(2),
                },
                "1.5",
                "1.50",
            ),
            (&Double, "-1.5e3", "-1500"),
            (&Boolean, "FALSE", "0"),
            (&Boolean, "true", "1"),
            (&SmallInt, "'-5'", "-5"),
            (&Text, "(lower('ABC'))", "lcase('ABC')"),
            (&Time, "'00:00:00'", "'00:00:00.000000'"),
            (
                &Timestamp,
                "'2026-01-01 00:00:00'",
                "'2026-01-01 00:00:00.000000'",
            ),
            (&Varchar { length: 5 }, "'it''s'", "'it''s'"),
            (&Varchar { length: 5 }, "'it''s'", r"'it\'s'"),
            (&Json, "'{}'", "'{}'"),
        ] {
            assert_eq!(d(ty, model), d(ty, printed), "{model} vs {printed}");
        }
        let c = |t: &str| canonical(t, &RULES);
        for (model, printed) in [
            ("a > -1", "`a` > -1"),
            ("m BETWEEN -1.5 AND 10", "`m` between -1.5 and 10"),
            ("n NOT IN ('c')", "`n` <> 'c'"),
            (
                "length(n) > 0 AND (n <> 'x' OR n IS NULL)",
                "octet_length(`n`) > 0 and (`n` <> 'x' or `n` is null)",
            ),
            ("NOT o", "`o` = 0"),
            ("NOT (a = 1)", "`a` <> 1"),
            ("NOT (a > 0 AND b > 0)", "`a` <= 0 or `b` <= 0"),
            ("NOT NOT o", "`o` <> 0"),
            ("a % 2 = 0", "`a` MOD 2 = 0"),
            (
                "s = upper(s) OR character_length(s) < 4",
                "`s` = ucase(`s`) or char_length(`s`) < 4",
            ),
            ("s = 'it''s' OR s = \"dq\"", r"`s` = 'it\'s' or `s` = 'dq'"),
            ("-a < -(-2) AND +a > -5.50", "-`a` < 2 and `a` > -5.50"),
            ("\"x\" = 'x' OR TRUE", "'x' = 'x' or 1"),
        ] {
            assert_eq!(c(model), c(printed), "{model} vs {printed}");
        }
        assert_eq!(
            json_column("Column", "json_valid(`z`)").as_deref(),
            Some("z")
        );
        assert_eq!(json_column("Table", "json_valid(`z`)"), None);
    }
}
