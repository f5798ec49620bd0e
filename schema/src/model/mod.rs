//! The schema model: what a database schema is, independent of any dialect.
//!
//! A [`Schema`] is a set of [`Table`]s keyed by name. Everything here is plain
//! data with deterministic ordering, so two equal schemas always serialize to the
//! same bytes (see [`Schema::to_json`]).

use std::collections::BTreeMap;
use std::fmt;

mod index;
mod object;

pub use index::{Index, IndexKey, NullsOrder};
pub use object::{
    normalize_definition, read_create, renamed_create, view_body, DbObject, Declared, ObjectKind,
};

/// A whole database schema: tables keyed (and therefore sorted) by name.
///
/// ```
/// use retort_schema::{Schema, Table, Column, ColumnType};
///
/// let mut table = Table::new("tasks");
/// table.columns.push(Column::new("id", ColumnType::Integer));
/// table.primary_key = vec!["id".into()];
/// let schema = Schema::from_tables([table]);
/// let json = schema.to_json();
/// assert_eq!(Schema::from_json(&json).unwrap(), schema);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Schema {
    /// The tables, by name.
    #[cfg_attr(feature = "serde", serde(default))]
    pub tables: BTreeMap<String, Table>,
    /// Views, functions, triggers, extensions and sequences declared as code, by
    /// [`DbObject::key`].
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "BTreeMap::is_empty")
    )]
    pub objects: BTreeMap<String, DbObject>,
    /// Enum types (`#[derive(DbEnum)]`), by SQL name: a PostgreSQL `CREATE TYPE … AS
    /// ENUM`; on MySQL and SQLite they live in the columns that use them.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "BTreeMap::is_empty")
    )]
    pub enums: BTreeMap<String, EnumType>,
}

/// An enum type's values, in order (the order PostgreSQL and MySQL sort them by).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct EnumType {
    /// The values, as stored.
    pub values: Vec<String>,
    /// Declared renames of values (`(old, new)`, from `renamed_from` on a variant): hints
    /// for the diff, never stored in a snapshot.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub renamed: Vec<(String, String)>,
}

impl EnumType {
    /// An enum of these values.
    pub fn new(values: impl IntoIterator<Item = impl Into<String>>) -> Self {
        EnumType {
            values: values.into_iter().map(Into::into).collect(),
            renamed: Vec::new(),
        }
    }
}

impl Schema {
    /// An empty schema.
    pub fn new() -> Self {
        Self::default()
    }

    /// A schema holding these tables (a later table of the same name wins).
    pub fn from_tables(tables: impl IntoIterator<Item = Table>) -> Self {
        Schema {
            tables: tables.into_iter().map(|t| (t.name.clone(), t)).collect(),
            objects: BTreeMap::new(),
            enums: BTreeMap::new(),
        }
    }

    /// This schema without rename hints on its tables and columns (see
    /// [`Table::without_rename_hints`]): the form a snapshot stores; enums and objects kept.
    pub fn without_rename_hints(&self) -> Schema {
        Schema {
            objects: self.objects.clone(),
            enums: self.enums.clone(),
            ..Schema::from_tables(self.tables.values().map(Table::without_rename_hints))
        }
    }

    /// The table of this name, if any.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    /// Pretty, sorted JSON ending in a newline: the snapshot format.
    ///
    /// Equal schemas give identical bytes; [`Schema::from_json`] reads it back
    /// without loss. (Feature `serde`, which the build script and the macros enable.)
    #[cfg(feature = "serde")]
    pub fn to_json(&self) -> String {
        let mut schema = self.clone();
        schema.normalize();
        let mut out = serde_json::to_string_pretty(&schema)
            .unwrap_or_else(|e| unreachable!("schema always serializes: {e}"));
        out.push('\n');
        out
    }

    /// Reads a schema written by [`Schema::to_json`].
    #[cfg(feature = "serde")]
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        let mut schema: Schema = serde_json::from_str(json)?;
        schema.normalize();
        Ok(schema)
    }

    /// Sorts the parts of every table whose order carries no meaning.
    pub fn normalize(&mut self) {
        for table in self.tables.values_mut() {
            table.normalize();
        }
    }
}

/// One table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Table {
    /// SQL name of the table.
    pub name: String,
    /// Declared previous name: a rename hint for the diff, never stored in a snapshot.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub renamed_from: Option<String>,
    /// Table comment (from `comment = "…"` or the struct's doc comment).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub comment: Option<String>,
    /// Columns in declaration order (the order of `CREATE TABLE`).
    pub columns: Vec<Column>,
    /// Primary key columns, in key order; empty only for tables read from a database that has none.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub primary_key: Vec<String>,
    /// The primary key constraint's name when it is not `pk_<table>` (see
    /// [`Table::primary_key_constraint`]). MySQL names every primary key `PRIMARY`.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub primary_key_name: Option<String>,
    /// Unique constraints, sorted by name.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub uniques: Vec<UniqueConstraint>,
    /// Indexes, sorted by name.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub indexes: Vec<Index>,
    /// Foreign keys, sorted by name.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub foreign_keys: Vec<ForeignKey>,
    /// Named check constraints, sorted by name.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub checks: Vec<CheckConstraint>,
}

impl Table {
    /// An empty table of this name.
    pub fn new(name: impl Into<String>) -> Self {
        Table {
            name: name.into(),
            renamed_from: None,
            comment: None,
            columns: Vec::new(),
            primary_key: Vec::new(),
            primary_key_name: None,
            uniques: Vec::new(),
            indexes: Vec::new(),
            foreign_keys: Vec::new(),
            checks: Vec::new(),
        }
    }

    /// The primary key constraint's name: as given, else `pk_<table>`.
    ///
    /// ```
    /// use retort_schema::Table;
    /// let mut t = Table::new("post");
    /// assert_eq!(t.primary_key_constraint(), "pk_post");
    /// t.set_primary_key_name("post_pkey");
    /// assert_eq!(t.primary_key_constraint(), "post_pkey");
    /// t.set_primary_key_name("pk_post");
    /// assert_eq!(t.primary_key_name, None);
    /// ```
    pub fn primary_key_constraint(&self) -> String {
        self.primary_key_name
            .clone()
            .unwrap_or_else(|| crate::naming::primary_key_name(&self.name))
    }

    /// Names the primary key constraint (kept as `None` when it is the default name, so a
    /// snapshot only says what differs).
    pub fn set_primary_key_name(&mut self, name: &str) {
        self.primary_key_name =
            (name != crate::naming::primary_key_name(&self.name)).then(|| name.to_string());
    }

    /// The column of this name, if any.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The names of its indexes and named constraints (uniques, foreign keys, checks): one
    /// namespace per table, and per schema on SQLite and PostgreSQL.
    pub fn constraint_names(&self) -> impl Iterator<Item = &String> {
        self.indexes
            .iter()
            .map(|i| &i.name)
            .chain(self.uniques.iter().map(|u| &u.name))
            .chain(self.foreign_keys.iter().map(|f| &f.name))
            .chain(self.checks.iter().map(|c| &c.name))
    }

    /// Sorts constraints and indexes by name so equal tables compare equal.
    pub fn normalize(&mut self) {
        self.uniques.sort_by(|a, b| a.name.cmp(&b.name));
        self.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        self.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
        self.checks.sort_by(|a, b| a.name.cmp(&b.name));
    }

    /// This table without rename hints (on the table and its columns): the form a snapshot stores.
    pub fn without_rename_hints(&self) -> Table {
        let mut t = self.clone();
        t.renamed_from = None;
        for c in &mut t.columns {
            c.renamed_from = None;
        }
        t
    }
}

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

/// A unique constraint over one or more columns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct UniqueConstraint {
    /// Constraint name (`uq_<table>_<columns>` unless given).
    pub name: String,
    /// Columns, in order.
    pub columns: Vec<String>,
    /// NULLs equal each other, so at most one row may hold them (`NULLS NOT DISTINCT`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "std::ops::Not::not")
    )]
    pub nulls_not_distinct: bool,
    /// When the constraint is checked.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Deferral::is_immediate")
    )]
    pub deferral: Deferral,
}

impl UniqueConstraint {
    /// A unique constraint over these columns, checked immediately, NULLs distinct.
    pub fn new<S: Into<String>>(
        name: impl Into<String>,
        columns: impl IntoIterator<Item = S>,
    ) -> Self {
        UniqueConstraint {
            name: name.into(),
            columns: columns.into_iter().map(Into::into).collect(),
            nulls_not_distinct: false,
            deferral: Deferral::Immediate,
        }
    }
}

/// When a unique constraint or foreign key is checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Deferral {
    /// At the end of each statement, and it cannot be deferred (`NOT DEFERRABLE`, the default).
    #[default]
    Immediate,
    /// `DEFERRABLE INITIALLY IMMEDIATE`: checked per statement unless a transaction runs
    /// `SET CONSTRAINTS … DEFERRED`.
    DeferrableImmediate,
    /// `DEFERRABLE INITIALLY DEFERRED`: checked at commit.
    Deferred,
}

impl Deferral {
    /// Reads the value of `deferrable = "…"`: `immediate` (`DEFERRABLE INITIALLY
    /// IMMEDIATE`) or `deferred` (`DEFERRABLE INITIALLY DEFERRED`).
    ///
    /// ```
    /// use retort_schema::Deferral;
    /// assert_eq!(Deferral::parse_deferrable("deferred"), Some(Deferral::Deferred));
    /// assert_eq!(Deferral::parse_deferrable("later"), None);
    /// ```
    pub fn parse_deferrable(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "immediate" => Some(Deferral::DeferrableImmediate),
            "deferred" => Some(Deferral::Deferred),
            _ => None,
        }
    }

    /// The value of `deferrable = "…"` for this state; `None` when not deferrable.
    pub fn deferrable(self) -> Option<&'static str> {
        match self {
            Deferral::Immediate => None,
            Deferral::DeferrableImmediate => Some("immediate"),
            Deferral::Deferred => Some("deferred"),
        }
    }

    /// The SQL clause after the constraint (empty for the default).
    pub fn sql(self) -> &'static str {
        match self {
            Deferral::Immediate => "",
            Deferral::DeferrableImmediate => " DEFERRABLE INITIALLY IMMEDIATE",
            Deferral::Deferred => " DEFERRABLE INITIALLY DEFERRED",
        }
    }

    /// Whether it is the default, [`Deferral::Immediate`].
    pub fn is_immediate(&self) -> bool {
        *self == Deferral::Immediate
    }
}

/// What a foreign key does when the referenced row is deleted or updated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ReferentialAction {
    /// Refuse, checked at the end of the statement (the SQL default).
    #[default]
    NoAction,
    /// Refuse immediately.
    Restrict,
    /// Delete or update the referencing rows too.
    Cascade,
    /// Set the referencing columns to NULL.
    SetNull,
    /// Set the referencing columns to their defaults.
    SetDefault,
}

impl ReferentialAction {
    /// Every action with the spelling accepted in attributes.
    pub const ALL: [(&'static str, ReferentialAction); 5] = [
        ("no_action", ReferentialAction::NoAction),
        ("restrict", ReferentialAction::Restrict),
        ("cascade", ReferentialAction::Cascade),
        ("set_null", ReferentialAction::SetNull),
        ("set_default", ReferentialAction::SetDefault),
    ];

    /// Parses `cascade`, `set_null`, `SET NULL`, … (case and `_`/space insensitive).
    pub fn parse(text: &str) -> Option<Self> {
        let key = text.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Self::ALL
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, a)| *a)
    }

    /// The SQL spelling (`SET NULL`).
    pub fn sql(self) -> &'static str {
        match self {
            ReferentialAction::NoAction => "NO ACTION",
            ReferentialAction::Restrict => "RESTRICT",
            ReferentialAction::Cascade => "CASCADE",
            ReferentialAction::SetNull => "SET NULL",
            ReferentialAction::SetDefault => "SET DEFAULT",
        }
    }

    #[cfg(feature = "serde")]
    fn is_default(&self) -> bool {
        *self == ReferentialAction::NoAction
    }
}

/// A foreign key from columns of this table to columns of another.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct ForeignKey {
    /// Constraint name (`fk_<table>_<column>_<referred table>`).
    pub name: String,
    /// Referencing columns of this table.
    pub columns: Vec<String>,
    /// Referenced table.
    pub referred_table: String,
    /// Referenced columns, matching `columns` one to one.
    pub referred_columns: Vec<String>,
    /// Action on delete of the referenced row.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "ReferentialAction::is_default")
    )]
    pub on_delete: ReferentialAction,
    /// Action on update of the referenced key.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "ReferentialAction::is_default")
    )]
    pub on_update: ReferentialAction,
    /// Marked `NOT VALID` in the database: rows written before it was added are not checked
    /// (read from PostgreSQL; models always ask for a validated key).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "std::ops::Not::not")
    )]
    pub not_valid: bool,
    /// When the key is checked.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Deferral::is_immediate")
    )]
    pub deferral: Deferral,
}

/// A named check constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct CheckConstraint {
    /// Constraint name.
    pub name: String,
    /// Boolean SQL expression.
    pub expression: String,
    /// Marked `NOT VALID` in the database: rows written before it was added are not checked
    /// (read from PostgreSQL; models always ask for a validated check).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "std::ops::Not::not")
    )]
    pub not_valid: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Schema {
        let mut t = Table::new("tasks");
        t.comment = Some("Tasks".into());
        let mut id = Column::new("id", ColumnType::Integer);
        id.autoincrement = true;
        t.columns.push(id);
        let mut n = Column::new(
            "price",
            ColumnType::Numeric {
                precision: Some(10),
                scale: Some(2),
            },
        );
        n.server_default = Some("0".into());
        t.columns.push(n);
        t.columns.push(Column::new(
            "kind",
            ColumnType::Custom {
                sql: "citext".into(),
            },
        ));
        t.primary_key = vec!["id".into()];
        t.indexes.push(Index::on_columns("ix_b", ["kind"], true));
        t.indexes.push(Index::on_columns("ix_a", ["price"], false));
        t.foreign_keys.push(ForeignKey {
            name: "fk".into(),
            columns: vec!["id".into()],
            referred_table: "other".into(),
            referred_columns: vec!["id".into()],
            on_delete: ReferentialAction::Cascade,
            on_update: ReferentialAction::NoAction,
            not_valid: false,
            deferral: Deferral::Immediate,
        });
        t.checks.push(CheckConstraint {
            name: "ck".into(),
            expression: "price >= 0".into(),
            not_valid: false,
        });
        Schema::from_tables([t, Table::new("other")])
    }

    #[test]
    fn json_round_trip_is_lossless_and_byte_stable() {
        let schema = sample();
        let json = schema.to_json();
        let back = Schema::from_json(&json).unwrap();
        let mut normalized = schema.clone();
        normalized.normalize();
        assert_eq!(back, normalized);
        assert_eq!(back.to_json(), json);
        // Sorted: indexes by name, tables by name.
        assert!(json.find("\"ix_a\"").unwrap() < json.find("\"ix_b\"").unwrap());
        assert!(json.find("\"other\"").unwrap() < json.find("\"tasks\"").unwrap());
        assert!(json.ends_with("}\n"));
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = Schema::from_json(r#"{"tables": {}, "extra": 1}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `extra`"), "{err}");
    }

    #[test]
    fn portable_type_spelling_round_trips() {
        let all = [
            ColumnType::SmallInt,
            ColumnType::Integer,
            ColumnType::BigInt,
            ColumnType::Real,
            ColumnType::Double,
            ColumnType::Numeric {
                precision: None,
                scale: None,
            },
            ColumnType::Numeric {
                precision: Some(12),
                scale: None,
            },
            ColumnType::Numeric {
                precision: Some(12),
                scale: Some(4),
            },
            ColumnType::Boolean,
            ColumnType::Text,
            ColumnType::Varchar { length: 36 },
            ColumnType::Char { length: 2 },
            ColumnType::Binary,
            ColumnType::Date,
            ColumnType::Time,
            ColumnType::Timestamp,
            ColumnType::TimestampTz,
            ColumnType::Uuid,
            ColumnType::Json,
        ];
        for ty in all {
            assert_eq!(
                ColumnType::parse_portable(&ty.to_string()),
                Some(ty.clone()),
                "{ty}"
            );
        }
        assert_eq!(ColumnType::parse_portable("varchar"), None);
        assert_eq!(ColumnType::parse_portable("numeric(a)"), None);
    }

    #[test]
    fn referential_actions_parse_loosely() {
        assert_eq!(
            ReferentialAction::parse("SET NULL"),
            Some(ReferentialAction::SetNull)
        );
        assert_eq!(
            ReferentialAction::parse("cascade"),
            Some(ReferentialAction::Cascade)
        );
        assert_eq!(ReferentialAction::parse("explode"), None);
    }
}
