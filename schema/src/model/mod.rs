//! The schema model: what a database schema is, independent of any dialect.
//!
//! A [`Schema`] is a set of [`Table`]s keyed by name. Everything here is plain
//! data with deterministic ordering, so two equal schemas always serialize to the
//! same bytes (see [`Schema::to_json`]).

use std::collections::BTreeMap;

mod column;
mod constraint;
mod index;
mod object;

pub use column::{Column, ColumnType};
pub use constraint::{CheckConstraint, Deferral, ForeignKey, ReferentialAction, UniqueConstraint};
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
        use crate::order::sort_by_text;
        sort_by_text(&mut self.uniques, |u| &u.name);
        sort_by_text(&mut self.indexes, |i| &i.name);
        sort_by_text(&mut self.foreign_keys, |f| &f.name);
        sort_by_text(&mut self.checks, |c| &c.name);
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
