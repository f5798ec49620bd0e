//! Maps a field's Rust type to a portable column type.

use syn::{GenericArgument, PathArguments, Type};

use crate::model::ColumnType;

/// The column type a Rust type maps to, and whether it is `Option<…>` (nullable).
pub(crate) struct Mapped {
    pub ty: ColumnType,
    pub nullable: bool,
}

/// Why a Rust type has no column type.
pub(crate) enum Unmapped {
    /// Not a type we know; holds its spelling.
    Unsupported(String),
    /// `Option<Option<T>>`.
    NestedOption,
}

/// Known type names: (name, crates it may come from, column type). An empty crate list means std.
const KNOWN: &[(&str, &[&str], ColumnType)] = &[
    ("i16", &[], ColumnType::SmallInt),
    ("i32", &[], ColumnType::Integer),
    ("i64", &[], ColumnType::BigInt),
    ("f32", &[], ColumnType::Real),
    ("f64", &[], ColumnType::Double),
    ("bool", &[], ColumnType::Boolean),
    ("String", &["std", "alloc"], ColumnType::Text),
    ("NaiveDate", &["chrono"], ColumnType::Date),
    ("NaiveTime", &["chrono"], ColumnType::Time),
    ("NaiveDateTime", &["chrono"], ColumnType::Timestamp),
    ("Date", &["time"], ColumnType::Date),
    ("Time", &["time"], ColumnType::Time),
    ("PrimitiveDateTime", &["time"], ColumnType::Timestamp),
    ("OffsetDateTime", &["time"], ColumnType::TimestampTz),
    ("Uuid", &["uuid"], ColumnType::Uuid),
    ("Value", &["serde_json"], ColumnType::Json),
    ("UtcDateTime", &["retort"], ColumnType::TimestampTz),
    ("JsonValue", &["retort"], ColumnType::Json),
    (
        "Decimal",
        &["rust_decimal"],
        ColumnType::Numeric {
            precision: None,
            scale: None,
        },
    ),
    (
        "BigDecimal",
        &["bigdecimal"],
        ColumnType::Numeric {
            precision: None,
            scale: None,
        },
    ),
];

/// retort's portable values (`retort::dsl::UtcDateTime`, `retort::dsl::JsonValue`) and the
/// SQL type their `table!` column gets: one that every compiled backend implements, where
/// diesel's own differ per backend.
const PORTABLE: &[(&str, &str)] = &[
    ("UtcDateTime", "PortableTimestamptz"),
    ("JsonValue", "PortableJson"),
];

/// The diesel SQL type of a field typed with one of retort's portable values (`Option`
/// unwrapped), as a path into `retort::dsl::sql_types`; `None` for any other type.
pub(crate) fn portable_diesel_type(ty: &Type) -> Option<syn::Path> {
    let ty = option_inner(ty).unwrap_or(ty);
    let Type::Path(tp) = ty else { return None };
    let segments = &tp.path.segments;
    let last = segments.last()?;
    let first = segments.first()?.ident.to_string();
    if segments.len() > 1 && first != "retort" {
        return None;
    }
    let (_, sql) = PORTABLE.iter().find(|(name, _)| last.ident == name)?;
    syn::parse_str(&format!("::retort::dsl::sql_types::{sql}")).ok()
}

/// Maps `ty`, unwrapping one `Option`.
pub(crate) fn map_type(ty: &Type) -> Result<Mapped, Unmapped> {
    if let Some(inner) = option_inner(ty) {
        if option_inner(inner).is_some() {
            return Err(Unmapped::NestedOption);
        }
        return map_plain(inner).map(|ty| Mapped { ty, nullable: true });
    }
    map_plain(ty).map(|ty| Mapped {
        ty,
        nullable: false,
    })
}

/// The path of a type that may be a `#[derive(DbEnum)]` enum (unwrapping one `Option`): a
/// plain path without generic arguments that names no primitive or known type. The
/// derive has the compiler check it implements `retort::DbEnum`; the build script finds
/// it among the crate's enums.
pub(crate) fn enum_candidate(ty: &Type) -> Option<&syn::Path> {
    let ty = option_inner(ty).unwrap_or(ty);
    let Type::Path(tp) = ty else { return None };
    if tp.qself.is_some()
        || tp
            .path
            .segments
            .iter()
            .any(|s| !matches!(s.arguments, PathArguments::None))
    {
        return None;
    }
    let last = tp.path.segments.last()?.ident.to_string();
    const PRIMITIVE: &[&str] = &[
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i128", "isize", "f16", "f128", "char",
        "str", "bool", "i16", "i32", "i64", "f32", "f64", "String", "Vec", "Option", "Box", "Rc",
        "Arc", "Cow",
    ];
    if PRIMITIVE.contains(&last.as_str()) || KNOWN.iter().any(|(k, _, _)| *k == last) {
        return None;
    }
    Some(&tp.path)
}

/// Whether `ty` is `Option<…>`: the column is nullable whatever its explicit SQL type.
pub(crate) fn is_option(ty: &Type) -> bool {
    option_inner(ty).is_some()
}

/// `T` of an `Option<T>`.
fn option_inner(ty: &Type) -> Option<&Type> {
    generic_of(ty, "Option", &["std", "core", "option"])
}

/// Whether the type is a list of optional values (`Vec<Option<T>>`, optional or not).
pub(crate) fn has_nullable_elements(ty: &Type) -> bool {
    let ty = option_inner(ty).unwrap_or(ty);
    generic_of(ty, "Vec", &["std", "alloc", "vec"]).is_some_and(is_option)
}

fn map_plain(ty: &Type) -> Result<ColumnType, Unmapped> {
    let unsupported = || Unmapped::Unsupported(spell(ty));
    let Type::Path(tp) = ty else {
        return Err(unsupported());
    };
    if tp.qself.is_some() {
        return Err(unsupported());
    }
    if let Some(inner) = generic_of(ty, "Vec", &["std", "alloc", "vec"]) {
        return match inner {
            Type::Path(p) if p.path.is_ident("u8") => Ok(ColumnType::Binary),
            // A list of a portable type: a PostgreSQL array (the other backends refuse it,
            // with the alternative, where they are compiled in).
            // Its elements may be optional (`Vec<Option<T>>`): an array's elements are
            // always nullable in PostgreSQL, so the column type is the same.
            _ => match map_plain(option_inner(inner).unwrap_or(inner)) {
                Ok(elem) if !matches!(elem, ColumnType::Custom { .. } | ColumnType::Binary) => {
                    Ok(ColumnType::Custom {
                        sql: format!("{}[]", crate::sql::postgres_type(&elem).to_lowercase()),
                    })
                }
                _ => Err(unsupported()),
            },
        };
    }
    if let Some(inner) = generic_of(ty, "DateTime", &["chrono"]) {
        return match last_ident(inner).as_deref() {
            Some("Utc") => Ok(ColumnType::TimestampTz),
            _ => Err(unsupported()),
        };
    }
    let segments = &tp.path.segments;
    let last = segments.last().ok_or_else(unsupported)?;
    if !matches!(last.arguments, PathArguments::None) {
        return Err(unsupported());
    }
    let name = last.ident.to_string();
    let prefix: Vec<String> = segments
        .iter()
        .take(segments.len() - 1)
        .map(|s| s.ident.to_string())
        .collect();
    for (known, crates, column_type) in KNOWN {
        if *known != name {
            continue;
        }
        let from_known_crate = match prefix.first() {
            None => true,
            Some(first) => crates.contains(&first.as_str()),
        };
        if from_known_crate {
            return Ok(column_type.clone());
        }
    }
    Err(unsupported())
}

/// `T` when `ty` is `Name<T>` (optionally with a path through one of `crates`).
fn generic_of<'a>(ty: &'a Type, name: &str, crates: &[&str]) -> Option<&'a Type> {
    let Type::Path(tp) = ty else { return None };
    if tp.qself.is_some() {
        return None;
    }
    let segments = &tp.path.segments;
    let last = segments.last()?;
    if last.ident != name {
        return None;
    }
    if segments.len() > 1 && !crates.iter().any(|c| segments[0].ident == c) {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(t) if args.args.len() == 1 => Some(t),
        _ => None,
    }
}

fn last_ident(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

fn spell(ty: &Type) -> String {
    quote::ToTokens::to_token_stream(ty)
        .to_string()
        .replace(" < ", "<")
        .replace(" >", ">")
        .replace(" :: ", "::")
        .replace("& ", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(src: &str) -> Option<(ColumnType, bool)> {
        let ty: Type = syn::parse_str(src).unwrap();
        map_type(&ty).ok().map(|m| (m.ty, m.nullable))
    }

    #[test]
    fn maps_std_and_crate_types() {
        assert_eq!(map("i64"), Some((ColumnType::BigInt, false)));
        assert_eq!(map("Option<String>"), Some((ColumnType::Text, true)));
        assert_eq!(
            map("std::option::Option<Vec<u8>>"),
            Some((ColumnType::Binary, true))
        );
        assert_eq!(
            map("chrono::DateTime<chrono::Utc>"),
            Some((ColumnType::TimestampTz, false))
        );
        assert_eq!(map("DateTime<Utc>"), Some((ColumnType::TimestampTz, false)));
        assert_eq!(
            map("time::OffsetDateTime"),
            Some((ColumnType::TimestampTz, false))
        );
        assert_eq!(
            map("serde_json::Value"),
            Some((ColumnType::Json, true)).map(|(t, _)| (t, false))
        );
        assert_eq!(map("uuid::Uuid"), Some((ColumnType::Uuid, false)));
        assert_eq!(
            map("rust_decimal::Decimal").map(|m| m.0.is_integer()),
            Some(false)
        );
    }

    #[test]
    fn refuses_unknown_and_wrong_crate_types_and_maps_lists_of_optional_values() {
        assert_eq!(map("u64"), None);
        assert_eq!(
            map("Vec<Option<String>>"),
            Some((
                ColumnType::Custom {
                    sql: "text[]".into()
                },
                false
            ))
        );
        assert_eq!(map("Vec<Option<Option<String>>>"), None);
        assert_eq!(map("Vec<Vec<i32>>"), None);
        assert_eq!(map("other::Value"), None);
        assert_eq!(map("DateTime<Local>"), None);
        assert_eq!(map("&'static str"), None);
        assert!(matches!(
            map_type(&syn::parse_str("Option<Option<i32>>").unwrap()),
            Err(Unmapped::NestedOption)
        ));
    }
}
