//! Values whose column type one `table!` can name for every compiled backend.
//!
//! diesel's own SQL types for a date-time with a time zone and for JSON differ per backend
//! (`Timestamptz` on PostgreSQL, `TimestamptzSqlite` on SQLite, `Datetime` on MySQL; `Jsonb`,
//! `Json`), and diesel's coherence rules do not let another crate give `chrono::DateTime<Utc>`
//! or `serde_json::Value` a new SQL type. An application that serves more than one backend
//! from one binary types those fields with these wrappers instead; `#[derive(Table)]` maps
//! them to the same columns (`timestamptz`, `jsonb` on PostgreSQL; `DATETIME(6)`, `JSON` on
//! MySQL; text on SQLite) and to the portable SQL types below, so one diesel query
//! compiles for each backend.

use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
#[cfg(feature = "chrono")]
use diesel::{AsExpression, FromSqlRow};

/// Implements `HasSqlType<$ours>` for a backend as diesel implements `$theirs`.
macro_rules! metadata_as {
    ($backend:ty, $ours:ty, $theirs:ty) => {
        impl diesel::sql_types::HasSqlType<$ours> for $backend {
            fn metadata(
                lookup: &mut <$backend as diesel::sql_types::TypeMetadata>::MetadataLookup,
            ) -> <$backend as diesel::sql_types::TypeMetadata>::TypeMetadata {
                <$backend as diesel::sql_types::HasSqlType<$theirs>>::metadata(lookup)
            }
        }
    };
}

/// The SQL type of a [`UtcDateTime`] column on every compiled backend: PostgreSQL's
/// `timestamptz`, MySQL's `DATETIME` (holding UTC), SQLite's text form.
#[cfg(feature = "chrono")]
#[derive(
    Debug, Clone, Copy, Default, diesel::query_builder::QueryId, diesel::sql_types::SqlType,
)]
pub struct PortableTimestamptz;

/// The SQL type of a [`JsonValue`] column on every compiled backend: PostgreSQL's `jsonb`,
/// MySQL's `JSON`, SQLite's text form.
#[cfg(feature = "json")]
#[derive(
    Debug, Clone, Copy, Default, diesel::query_builder::QueryId, diesel::sql_types::SqlType,
)]
pub struct PortableJson;

#[cfg(all(feature = "chrono", feature = "sqlite"))]
metadata_as!(
    diesel::sqlite::Sqlite,
    PortableTimestamptz,
    diesel::sql_types::TimestamptzSqlite
);
#[cfg(all(feature = "chrono", feature = "postgres"))]
metadata_as!(
    diesel::pg::Pg,
    PortableTimestamptz,
    diesel::sql_types::Timestamptz
);
#[cfg(all(feature = "chrono", feature = "mysql"))]
metadata_as!(
    diesel::mysql::Mysql,
    PortableTimestamptz,
    diesel::sql_types::Datetime
);
#[cfg(all(feature = "json", feature = "sqlite"))]
metadata_as!(
    diesel::sqlite::Sqlite,
    PortableJson,
    diesel::sql_types::Json
);
#[cfg(all(feature = "json", feature = "postgres"))]
metadata_as!(diesel::pg::Pg, PortableJson, diesel::sql_types::Jsonb);
#[cfg(all(feature = "json", feature = "mysql"))]
metadata_as!(diesel::mysql::Mysql, PortableJson, diesel::sql_types::Json);

/// A point in time in UTC, stored as the backend's date-time with a time zone.
///
/// Use it for a model field that one binary reads and writes on more than one backend;
/// with a single backend, `chrono::DateTime<Utc>` works as well.
///
/// ```
/// use retort::dsl::UtcDateTime;
/// let now = UtcDateTime::now();
/// let inner: chrono::DateTime<chrono::Utc> = now.into();
/// assert_eq!(UtcDateTime::from(inner), now);
/// ```
#[cfg(feature = "chrono")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = PortableTimestamptz)]
pub struct UtcDateTime(pub chrono::DateTime<chrono::Utc>);

#[cfg(feature = "chrono")]
impl UtcDateTime {
    /// The current time.
    pub fn now() -> Self {
        Self(chrono::Utc::now())
    }
}

#[cfg(feature = "chrono")]
impl From<chrono::DateTime<chrono::Utc>> for UtcDateTime {
    fn from(t: chrono::DateTime<chrono::Utc>) -> Self {
        Self(t)
    }
}

#[cfg(feature = "chrono")]
impl From<UtcDateTime> for chrono::DateTime<chrono::Utc> {
    fn from(t: UtcDateTime) -> Self {
        t.0
    }
}

#[cfg(feature = "chrono")]
impl std::ops::Deref for UtcDateTime {
    type Target = chrono::DateTime<chrono::Utc>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

#[cfg(feature = "chrono")]
impl std::fmt::Display for UtcDateTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(all(feature = "chrono", feature = "mysql"))]
mod utc_mysql {
    use super::*;
    use chrono::NaiveDateTime;
    use diesel::mysql::Mysql;
    use diesel::sql_types::Datetime;

    // MySQL's DATETIME has no zone: retort stores UTC in it (`DATETIME(6)`).
    impl FromSql<PortableTimestamptz, Mysql> for UtcDateTime {
        fn from_sql(value: diesel::mysql::MysqlValue<'_>) -> deserialize::Result<Self> {
            <NaiveDateTime as FromSql<Datetime, Mysql>>::from_sql(value).map(|t| Self(t.and_utc()))
        }
    }
    impl ToSql<PortableTimestamptz, Mysql> for UtcDateTime {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Mysql>) -> serialize::Result {
            let naive = self.0.naive_utc();
            <NaiveDateTime as ToSql<Datetime, Mysql>>::to_sql(&naive, &mut out.reborrow())
        }
    }
}

/// A JSON document, stored as the backend's JSON type (`jsonb` on PostgreSQL).
///
/// Use it for a model field that one binary reads and writes on more than one backend;
/// with SQLite or MySQL alone, `serde_json::Value` works as well.
///
/// ```
/// use retort::dsl::JsonValue;
/// let doc = JsonValue::from(serde_json::json!({"words": 12}));
/// assert_eq!(doc["words"], 12);
/// ```
#[cfg(feature = "json")]
#[derive(Debug, Clone, PartialEq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = PortableJson)]
pub struct JsonValue(pub serde_json::Value);

#[cfg(feature = "json")]
impl From<serde_json::Value> for JsonValue {
    fn from(v: serde_json::Value) -> Self {
        Self(v)
    }
}

#[cfg(feature = "json")]
impl From<JsonValue> for serde_json::Value {
    fn from(v: JsonValue) -> Self {
        v.0
    }
}

#[cfg(feature = "json")]
impl std::ops::Deref for JsonValue {
    type Target = serde_json::Value;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

#[cfg(feature = "json")]
impl serde::Serialize for JsonValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

#[cfg(feature = "json")]
impl<'de> serde::Deserialize<'de> for JsonValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde_json::Value::deserialize(d).map(Self)
    }
}

#[cfg(all(feature = "chrono", feature = "json"))]
impl serde::Serialize for UtcDateTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // RFC 3339 with the offset, as chrono's own serde form.
        s.collect_str(&self.0.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    }
}

#[cfg(all(feature = "chrono", feature = "json"))]
impl<'de> serde::Deserialize<'de> for UtcDateTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        chrono::DateTime::parse_from_rfc3339(&text)
            .map(|t| Self(t.with_timezone(&chrono::Utc)))
            .map_err(serde::de::Error::custom)
    }
}

/// `FromSql`/`ToSql` of `$value` as `$ours` on `$backend`: those of the value inside
/// (`$inner`) as diesel's own `$theirs`.
#[allow(unused_macros)]
macro_rules! same_as {
    ($value:ty, $ours:ty, $backend:ty, $inner:ty, $theirs:ty) => {
        impl FromSql<$ours, $backend> for $value {
            fn from_sql(
                value: <$backend as diesel::backend::Backend>::RawValue<'_>,
            ) -> deserialize::Result<Self> {
                <$inner as FromSql<$theirs, $backend>>::from_sql(value).map(Self)
            }
        }
        impl ToSql<$ours, $backend> for $value {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, $backend>) -> serialize::Result {
                <$inner as ToSql<$theirs, $backend>>::to_sql(&self.0, out)
            }
        }
    };
}

#[cfg(all(feature = "chrono", feature = "sqlite"))]
same_as!(
    UtcDateTime,
    PortableTimestamptz,
    diesel::sqlite::Sqlite,
    chrono::DateTime<chrono::Utc>,
    diesel::sql_types::TimestamptzSqlite
);
#[cfg(all(feature = "chrono", feature = "postgres"))]
same_as!(
    UtcDateTime,
    PortableTimestamptz,
    diesel::pg::Pg,
    chrono::DateTime<chrono::Utc>,
    diesel::sql_types::Timestamptz
);
#[cfg(all(feature = "json", feature = "sqlite"))]
same_as!(
    JsonValue,
    PortableJson,
    diesel::sqlite::Sqlite,
    serde_json::Value,
    diesel::sql_types::Json
);
#[cfg(all(feature = "json", feature = "postgres"))]
same_as!(
    JsonValue,
    PortableJson,
    diesel::pg::Pg,
    serde_json::Value,
    diesel::sql_types::Jsonb
);
#[cfg(all(feature = "json", feature = "mysql"))]
same_as!(
    JsonValue,
    PortableJson,
    diesel::mysql::Mysql,
    serde_json::Value,
    diesel::sql_types::Json
);
