//! Reads a `#[derive(DbEnum)]` enum: its SQL type name and values.

use syn::{Data, DeriveInput, Fields, Ident, LitStr};

use crate::model::EnumType;
use crate::naming;

/// A Rust enum that is a database enum type.
#[derive(Debug, Clone)]
pub struct EnumModel {
    /// The enum's name.
    pub ident: Ident,
    /// The SQL type name (`#[db_enum(name = "…")]`, default the snake_case of the enum's).
    pub name: String,
    /// Each variant with its value (`#[db_enum(name = "…")]` on it, default its snake_case).
    pub variants: Vec<(Ident, String)>,
    /// Declared renames of values, `(old, new)`.
    pub renamed: Vec<(String, String)>,
}

impl EnumModel {
    /// The type as the schema keeps it.
    pub fn enum_type(&self) -> EnumType {
        EnumType {
            values: self.variants.iter().map(|(_, v)| v.clone()).collect(),
            renamed: self.renamed.clone(),
        }
    }
}

/// Reads a `#[derive(DbEnum)]` input: unit variants only, each value named once.
///
/// ```
/// let input: syn::DeriveInput = syn::parse_quote! {
///     #[db_enum(name = "post_status")]
///     enum Status {
///         Draft,
///         #[db_enum(renamed_from = "live")]
///         Published,
///         #[db_enum(name = "gone")]
///         Archived,
///     }
/// };
/// let e = retort_schema::parse_enum(&input).unwrap();
/// assert_eq!(e.name, "post_status");
/// assert_eq!(e.enum_type().values, ["draft", "published", "gone"]);
/// assert_eq!(e.renamed, [("live".to_string(), "published".to_string())]);
/// ```
pub fn parse_enum(input: &DeriveInput) -> Result<EnumModel, syn::Error> {
    let mut errors: Vec<syn::Error> = Vec::new();
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new(
            input.ident.span(),
            "#[derive(DbEnum)] works on enums with unit variants (`enum Status { Draft, Published }`)",
        ));
    };
    if !input.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &input.generics,
            "#[derive(DbEnum)] needs an enum without generic parameters",
        ));
    }
    let mut name = naming::snake_case(&input.ident.to_string());
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("db_enum")) {
        let r = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                let lit: LitStr = meta.value()?.parse()?;
                match naming::check_identifier(&lit.value()) {
                    Ok(()) => name = lit.value(),
                    Err(problem) => errors.push(syn::Error::new_spanned(
                        &lit,
                        format!("enum type name `{}` {problem}", lit.value()),
                    )),
                }
                Ok(())
            } else {
                Err(meta.error("unknown key in #[db_enum(…)] on an enum; it takes `name = \"…\"` (the SQL type's name)"))
            }
        });
        if let Err(e) = r {
            errors.push(e);
        }
    }
    let mut variants: Vec<(Ident, String)> = Vec::new();
    let mut renamed = Vec::new();
    for v in &data.variants {
        if !matches!(v.fields, Fields::Unit) {
            errors.push(syn::Error::new_spanned(
                &v.fields,
                format!("variant `{}` holds data; a database enum's variants are plain names (`{}`), so keep the data in other columns", v.ident, v.ident),
            ));
            continue;
        }
        let mut value = naming::snake_case(&v.ident.to_string());
        for attr in v.attrs.iter().filter(|a| a.path().is_ident("db_enum")) {
            let r = attr.parse_nested_meta(|meta| {
                let lit: LitStr = if meta.path.is_ident("name") || meta.path.is_ident("renamed_from") {
                    meta.value()?.parse()?
                } else {
                    return Err(meta.error("unknown key in #[db_enum(…)] on a variant; it takes `name = \"…\"` (the stored value) and `renamed_from = \"…\"` (its previous value)"));
                };
                if lit.value().is_empty() {
                    return Err(syn::Error::new_spanned(&lit, "an enum value cannot be empty"));
                }
                if meta.path.is_ident("name") {
                    value = lit.value();
                } else {
                    renamed.push((lit.value(), v.ident.clone()));
                }
                Ok(())
            });
            if let Err(e) = r {
                errors.push(e);
            }
        }
        if let Some((first, _)) = variants.iter().find(|(_, x)| *x == value) {
            errors.push(syn::Error::new_spanned(
                &v.ident,
                format!("variant `{}` stores the value `{value}`, as `{first}` does; give one of them another with #[db_enum(name = \"…\")]", v.ident),
            ));
        }
        variants.push((v.ident.clone(), value));
    }
    if data.variants.is_empty() {
        errors.push(syn::Error::new(
            input.ident.span(),
            "#[derive(DbEnum)] needs at least one variant: a database enum has values",
        ));
    }
    let renamed: Vec<(String, String)> = renamed
        .into_iter()
        .filter_map(|(old, ident)| {
            variants
                .iter()
                .find(|(i, _)| *i == ident)
                .map(|(_, new)| (old, new.clone()))
        })
        .collect();
    let mut all = errors.into_iter();
    if let Some(mut first) = all.next() {
        for e in all {
            first.combine(e);
        }
        return Err(first);
    }
    Ok(EnumModel {
        ident: input.ident.clone(),
        name,
        variants,
        renamed,
    })
}
