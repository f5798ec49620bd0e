//! Code emitted by `#[derive(Table)]`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use retort_schema::sql::Dialect;
use retort_schema::{ColumnType, Model};

/// The `impl retort::Table` and the diesel `table!` module for one model.
pub(crate) fn expand(model: &Model, table_attr: Span) -> TokenStream {
    let ident = &model.ident;
    let table = &model.table;
    let name = &table.name;
    let built = retort_schema::construct::Construct::construct(table);
    let dsl = diesel_table(model);
    // A field of a `#[derive(DbEnum)]` type: the compiler checks it is one (at the type),
    // and the schema takes its name and values from it.
    let enum_fields: Vec<(&retort_schema::ModelField, &syn::Path)> = model
        .fields
        .iter()
        .filter_map(|f| f.enum_type.as_ref().map(|p| (f, p)))
        .collect();
    let enum_checks = enum_fields.iter().map(|(_, path)| {
        let span = syn::spanned::Spanned::span(path);
        quote::quote_spanned! {span=>
            const _: fn() = || {
                fn column_type<T: ::retort::DbEnum>() {}
                column_type::<#path>();
            };
        }
    });
    let enum_fill = enum_fields.iter().map(|(f, path)| {
        let column = &f.column;
        quote! {
            ::retort::__private::set_enum(
                &mut table,
                #column,
                <#path as ::retort::DbEnum>::NAME,
                <#path as ::retort::DbEnum>::VALUES,
            );
        }
    });
    // What MySQL cannot index, refused at compile time when the app compiles the `mysql`
    // backend (retort's macro expands to nothing otherwise), at the field.
    let unindexable = retort_schema::sql::mysql_unindexable(table)
        .into_iter()
        .map(|(column, message)| {
            let span = model
                .fields
                .iter()
                .find(|f| f.column == column)
                .map_or(ident.span(), |f| f.ident.span());
            let message = format!("{message} (retort's `mysql` backend is compiled in)");
            quote::quote_spanned!(span=> ::retort::__unsupported_on_mysql!(#message);)
        });
    // What a backend lacks (a partial index on MySQL, a deferrable unique on SQLite), each
    // refused only when that backend is compiled in.
    let unsupported = [
        (Dialect::Sqlite, "sqlite"),
        (Dialect::Postgres, "postgres"),
        (Dialect::Mysql, "mysql"),
    ]
    .into_iter()
    .flat_map(|(dialect, feature)| {
        let refuse = format_ident!("__unsupported_on_{feature}", span = table_attr);
        retort_schema::sql::unsupported(dialect, table)
            .into_iter()
            .map(move |m| {
                let message = format!("{m} (retort's `{feature}` backend is compiled in)");
                quote::quote_spanned!(table_attr=> ::retort::#refuse!(#message);)
            })
    });
    quote! {
        #(#unindexable)*
        #(#unsupported)*

        #(#enum_checks)*

        impl ::retort::Table for #ident {
            const NAME: &'static str = #name;

            fn schema() -> &'static ::retort::schema::Table {
                static SCHEMA: ::std::sync::OnceLock<::retort::schema::Table> = ::std::sync::OnceLock::new();
                SCHEMA.get_or_init(|| {
                    #[allow(unused_mut)]
                    let mut table: ::retort::schema::model::Table = #built;
                    #(#enum_fill)*
                    table
                })
            }
        }

        #dsl
    }
}

/// The `impl retort::Table` emitted beside attribute errors: it never runs (the crate does
/// not compile), it only keeps the errors to the attributes.
pub(crate) fn fallback(input: &syn::DeriveInput) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        impl #impl_generics ::retort::Table for #ident #ty_generics #where_clause {
            const NAME: &'static str = "";

            fn schema() -> &'static ::retort::schema::Table {
                ::core::unreachable!("#[derive(Table)] reported errors")
            }
        }
    }
}

/// diesel's `table!` for a model the derive refused, as far as it could be read: only when
/// it has a primary key whose columns it read (diesel's `table!` needs one), else nothing.
pub(crate) fn diesel_fallback(model: &Model) -> TokenStream {
    let table = &model.table;
    let keyed = !table.primary_key.is_empty()
        && table
            .primary_key
            .iter()
            .all(|pk| table.column(pk).is_some() && model.fields.iter().any(|f| &f.column == pk));
    // Names the derive refused (an empty table name) make no module.
    let (schema, name) = retort_schema::sql::split_schema(&table.name);
    let nameable = |n: &str| {
        let m = retort_schema::naming::dsl_module_name(n);
        m.chars()
            .next()
            .is_some_and(|c| c == '_' || c.is_alphabetic())
            && !matches!(m.as_str(), "_" | "self" | "super" | "crate" | "Self")
    };
    if keyed && nameable(name) && schema.is_none_or(nameable) {
        diesel_table(model)
    } else {
        TokenStream::new()
    }
}

/// diesel's `table!` for the model: the module is named after the table, columns after the fields.
fn diesel_table(model: &Model) -> TokenStream {
    let table = &model.table;
    let module = dsl_ident(&table.name);
    // A table in another schema: diesel's `schema.module` form, the SQL name its own.
    let (schema, sql_name) = retort_schema::sql::split_schema(&table.name);
    let schema = schema.map(|s| {
        let s = syn::parse_str::<syn::Ident>(s).unwrap_or_else(|_| {
            syn::Ident::new_raw(
                &retort_schema::naming::dsl_module_name(s),
                Span::call_site(),
            )
        });
        quote!(#s.)
    });
    let key: Vec<_> = table
        .primary_key
        .iter()
        .filter_map(|pk| model.fields.iter().find(|f| &f.column == pk))
        .map(|f| &f.ident)
        .collect();
    let doc = format!(
        "diesel DSL for table `{}`, generated by `#[derive(Table)]` on `{}`.",
        table.name, model.ident
    );
    let columns = model.fields.iter().filter_map(|field| {
        let column = table.column(&field.column)?;
        let sql_type = match (&field.diesel_type, &column.ty) {
            (Some(path), _) => quote!(#path),
            (None, ColumnType::Enum { .. }) if field.enum_type.is_some() => {
                let alias = enum_alias(&field.ident);
                quote!(#alias)
            }
            (None, ColumnType::Custom { sql }) => {
                // An array of a portable type (`Vec<String>`, `custom_type = "text[]"`).
                let elem = ColumnType::parse_portable(sql.strip_suffix("[]")?)?;
                let base = format_ident!("{}", dsl_type_name(&elem)?);
                if field.nullable_elements {
                    quote!(Array<Nullable<#base>>)
                } else {
                    quote!(Array<#base>)
                }
            }
            (None, ty) => {
                let base = format_ident!("{}", dsl_type_name(ty)?);
                quote!(#base)
            }
        };
        let sql_type = if column.nullable {
            quote!(Nullable<#sql_type>)
        } else {
            sql_type
        };
        let ident = &field.ident;
        let rename = (*ident != column.name).then(|| {
            let n = &column.name;
            quote!(#[sql_name = #n])
        });
        let doc = column.comment.as_ref().map(|c| quote!(#[doc = #c]));
        Some(quote! { #doc #rename #ident -> #sql_type, })
    });
    // The enums' paths as seen from inside the table's module (diesel re-roots `super::`
    // for its column module).
    let enum_imports = model.fields.iter().filter_map(|f| {
        // The SQL type `#[derive(DbEnum)]` put beside the enum (diesel's `table!` needs a
        // plain type path, not `<E as DbEnum>::SqlType`).
        let mut path = f.enum_type.clone()?;
        let last = path.segments.last_mut()?;
        last.ident = format_ident!("__RetortSql{}", last.ident);
        let path = &path;
        let alias = enum_alias(&f.ident);
        let first = path.segments.first()?.ident.to_string();
        let rooted = path.leading_colon.is_some() || first == "crate";
        let path = if rooted {
            quote!(#path)
        } else if first == "self" {
            let rest = path.segments.iter().skip(1);
            quote!(super #(:: #rest)*)
        } else {
            quote!(super::#path)
        };
        Some(quote!(use #path as #alias;))
    });
    quote! {
        ::diesel::table! {
            use ::retort::dsl::sql_types::*;
            #(#enum_imports)*

            #[doc = #doc]
            #[sql_name = #sql_name]
            #schema #module (#(#key),*) {
                #(#columns)*
            }
        }
    }
}

/// The name an enum field's type is imported under in the table's module.
fn enum_alias(field: &syn::Ident) -> syn::Ident {
    format_ident!("__RetortEnum_{}", syn::ext::IdentExt::unraw(field))
}

/// The module name for a table, shared with the build script's relations file.
fn dsl_ident(table: &str) -> syn::Ident {
    let name = retort_schema::naming::dsl_module_name(table);
    syn::parse_str::<syn::Ident>(&name)
        .unwrap_or_else(|_| syn::Ident::new_raw(&name, Span::call_site()))
}

/// The name in `retort::dsl::sql_types` for a column type; `None` for a custom type without `diesel_type`.
fn dsl_type_name(ty: &ColumnType) -> Option<&'static str> {
    Some(match ty {
        ColumnType::SmallInt => "SmallInt",
        ColumnType::Integer => "Integer",
        ColumnType::BigInt => "BigInt",
        ColumnType::Real => "Float",
        ColumnType::Double => "Double",
        ColumnType::Numeric { .. } => "Numeric",
        ColumnType::Boolean => "Bool",
        ColumnType::Text | ColumnType::Varchar { .. } | ColumnType::Char { .. } => "Text",
        ColumnType::Binary => "Binary",
        ColumnType::Date => "Date",
        ColumnType::Time => "Time",
        ColumnType::Timestamp => "Timestamp",
        ColumnType::TimestampTz => "TimestampWithTimeZone",
        ColumnType::Uuid => "Uuid",
        ColumnType::Json => "Json",
        ColumnType::Custom { .. } | ColumnType::Enum { .. } => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_get_diesels_array_type() {
        let model = retort_schema::parse_model(&syn::parse_quote! {
            #[table(name = "post")]
            struct Post {
                #[column(primary_key)]
                id: i32,
                tags: Vec<String>,
                scores: Option<Vec<i64>>,
                #[column(custom_type = "uuid[]")]
                refs: Vec<String>,
            }
        })
        .unwrap();
        let dsl = diesel_table(&model).to_string();
        assert!(dsl.contains("tags -> Array < Text >"), "{dsl}");
        assert!(
            dsl.contains("scores -> Nullable < Array < BigInt > >"),
            "{dsl}"
        );
        assert!(dsl.contains("refs -> Array < Uuid >"), "{dsl}");
    }

    #[test]
    fn a_table_in_another_schema_is_diesels_schema_dot_module() {
        let model = retort_schema::parse_model(&syn::parse_quote! {
            #[table(schema = "audit", name = "events")]
            struct Event {
                #[column(primary_key)]
                id: i32,
            }
        })
        .unwrap();
        let dsl = diesel_table(&model).to_string();
        assert!(
            dsl.contains("# [sql_name = \"events\"] audit . audit_events (id)"),
            "{dsl}"
        );
    }
}
