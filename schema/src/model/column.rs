//! A column and its portable type.

use std::fmt;

/// One column.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Column {
    /// SQL name of the column.
    pub name: String,
    /// Portable type.
    #[cfg_attr(feature = "serde", serde(rename = "type"))]
    pub ty: ColumnType,
    /// Whether NULL is allowed.
    #[cfg_attr(feature = "serde", serde(default))]
    pub nullable: bool,
    /// Server default: an SQL expression, stored as written (`"0"`, `"'new'"`, `"CURRENT_TIMESTAMP"`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub server_default: Option<String>,
    /// Whether the database generates values (only on a single-column integer primary key).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "std::ops::Not::not")
    )]
    pub autoincrement: bool,
    /// With `autoincrement`: the database always generates the value and refuses one given
    /// (PostgreSQL's `GENERATED ALWAYS AS IDENTITY`); without it, an explicit value goes in
    /// (`BY DEFAULT`, as SQLite's and MySQL's keys do).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "std::ops::Not::not")
    )]
    pub identity_always: bool,
    /// Column comment (from `comment = "…"` or the field's doc comment).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub comment: Option<String>,
    /// Declared previous name: a rename hint for the diff, never stored in a snapshot.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub renamed_from: Option<String>,
}

impl Column {
    /// A NOT NULL column of this type with no default, comment or hint.
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Self {
        Column {
            name: name.into(),
            ty,
            nullable: false,
            server_default: None,
            autoincrement: false,
            identity_always: false,
            comment: None,
            renamed_from: None,
        }
    }
}

/// A portable column type; each SQL renderer maps it to its dialect.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ColumnType {
    /// 16-bit integer (`i16`).
    #[cfg_attr(feature = "serde", serde(rename = "smallint"))]
    SmallInt,
    /// 32-bit integer (`i32`).
    Integer,
    /// 64-bit integer (`i64`).
    #[cfg_attr(feature = "serde", serde(rename = "bigint"))]
    BigInt,
    /// Single precision float (`f32`).
    Real,
    /// Double precision float (`f64`).
    Double,
    /// Exact decimal with optional precision and scale.
    Numeric {
        /// Total digits.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        precision: Option<u32>,
        /// Digits after the point.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        scale: Option<u32>,
    },
    /// Boolean.
    Boolean,
    /// Unbounded text.
    Text,
    /// Text of at most `length` characters.
    Varchar {
        /// Maximum length in characters.
        length: u32,
    },
    /// Fixed-length text.
    Char {
        /// Length in characters.
        length: u32,
    },
    /// Bytes.
    Binary,
    /// Calendar date.
    Date,
    /// Time of day.
    Time,
    /// Date and time without time zone.
    Timestamp,
    /// Date and time with time zone (an instant).
    #[cfg_attr(feature = "serde", serde(rename = "timestamptz"))]
    TimestampTz,
    /// UUID.
    Uuid,
    /// JSON document.
    Json,
    /// An enum type (`#[derive(DbEnum)]`): PostgreSQL's named type, MySQL's `ENUM(…)`,
    /// SQLite's text with a `CHECK`. The values repeat the schema's [`EnumType`], so a column
    /// renders alone.
    Enum {
        /// The type's SQL name (PostgreSQL's; the others keep no name).
        name: String,
        /// Its values, in order.
        values: Vec<String>,
    },
    /// A database-specific type, written verbatim into DDL.
    Custom {
        /// The SQL type as written.
        sql: String,
    },
}

impl ColumnType {
    /// Whether this is one of the integer types.
    pub fn is_integer(&self) -> bool {
        matches!(
            self,
            ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt
        )
    }

    /// Whether this holds text.
    pub fn is_text(&self) -> bool {
        matches!(
            self,
            ColumnType::Text | ColumnType::Varchar { .. } | ColumnType::Char { .. }
        )
    }

    /// Parses the portable spelling used by `sql_type = "…"` and by [`fmt::Display`].
    ///
    /// ```
    /// use retort_schema::ColumnType;
    /// assert_eq!(ColumnType::parse_portable("varchar(36)"), Some(ColumnType::Varchar { length: 36 }));
    /// assert_eq!(ColumnType::parse_portable("numeric(10, 2)").unwrap().to_string(), "numeric(10,2)");
    /// assert_eq!(ColumnType::parse_portable("tsvector"), None);
    /// ```
    pub fn parse_portable(text: &str) -> Option<ColumnType> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        let (head, args) = match compact.find('(') {
            Some(open) if compact.ends_with(')') => {
                let args: Vec<&str> = compact[open + 1..compact.len() - 1].split(',').collect();
                (&compact[..open], Some(args))
            }
            Some(_) => return None,
            None => (compact.as_str(), None),
        };
        let number = |s: &str| s.parse::<u32>().ok();
        let ty = match (head, args.as_deref()) {
            ("smallint" | "int2" | "small_int", None) => ColumnType::SmallInt,
            ("integer" | "int" | "int4", None) => ColumnType::Integer,
            ("bigint" | "int8" | "big_int", None) => ColumnType::BigInt,
            ("real" | "float4", None) => ColumnType::Real,
            ("double" | "float8" | "doubleprecision", None) => ColumnType::Double,
            ("numeric" | "decimal", None) => ColumnType::Numeric {
                precision: None,
                scale: None,
            },
            ("numeric" | "decimal", Some([p])) => ColumnType::Numeric {
                precision: Some(number(p)?),
                scale: None,
            },
            ("numeric" | "decimal", Some([p, s])) => ColumnType::Numeric {
                precision: Some(number(p)?),
                scale: Some(number(s)?),
            },
            ("boolean" | "bool", None) => ColumnType::Boolean,
            ("text", None) => ColumnType::Text,
            ("varchar", Some([n])) => ColumnType::Varchar { length: number(n)? },
            ("char", Some([n])) => ColumnType::Char { length: number(n)? },
            ("binary" | "blob" | "bytea", None) => ColumnType::Binary,
            ("date", None) => ColumnType::Date,
            ("time", None) => ColumnType::Time,
            ("timestamp", None) => ColumnType::Timestamp,
            ("timestamptz", None) => ColumnType::TimestampTz,
            ("uuid", None) => ColumnType::Uuid,
            // PostgreSQL keeps `json` as jsonb; its text-keeping `json` is `custom_type = "json"`.
            ("json" | "jsonb", None) => ColumnType::Json,
            _ => return None,
        };
        Some(ty)
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnType::SmallInt => f.write_str("smallint"),
            ColumnType::Integer => f.write_str("integer"),
            ColumnType::BigInt => f.write_str("bigint"),
            ColumnType::Real => f.write_str("real"),
            ColumnType::Double => f.write_str("double"),
            ColumnType::Numeric {
                precision: None, ..
            } => f.write_str("numeric"),
            ColumnType::Numeric {
                precision: Some(p),
                scale: None,
            } => write!(f, "numeric({p})"),
            ColumnType::Numeric {
                precision: Some(p),
                scale: Some(s),
            } => write!(f, "numeric({p},{s})"),
            ColumnType::Boolean => f.write_str("boolean"),
            ColumnType::Text => f.write_str("text"),
            ColumnType::Varchar { length } => write!(f, "varchar({length})"),
            ColumnType::Char { length } => write!(f, "char({length})"),
            ColumnType::Binary => f.write_str("binary"),
            ColumnType::Date => f.write_str("date"),
            ColumnType::Time => f.write_str("time"),
            ColumnType::Timestamp => f.write_str("timestamp"),
            ColumnType::TimestampTz => f.write_str("timestamptz"),
            ColumnType::Uuid => f.write_str("uuid"),
            ColumnType::Json => f.write_str("json"),
            ColumnType::Enum { name, values } if name.is_empty() => {
                write!(f, "enum('{}')", values.join("', '"))
            }
            ColumnType::Enum { name, .. } => write!(f, "enum({name})"),
            ColumnType::Custom { sql } => write!(f, "custom({sql})"),
        }
    }
}
