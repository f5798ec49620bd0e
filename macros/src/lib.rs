//! Procedural macros of retort. Thin by design: the parsing lives in
//! `retort-schema` so the build script reads models exactly as the compiler does.
//!
//! Use them through the `retort` crate (`#[derive(retort::Table)]`).

mod db_enum;
mod migration;
mod table;

use proc_macro::TokenStream;

/// Describes a table: implements `retort::Table` (the table's schema at run time)
/// and generates diesel's `table!` DSL module named after the table.
///
/// See the `retort` crate for the attributes.
#[proc_macro_derive(Table, attributes(table, column))]
pub fn derive_table(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    // The app's naming convention, as the build script reads it: from the Cargo.toml of
    // the crate being compiled.
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default();
    let naming = match retort_schema::naming::Convention::of_crate(std::path::Path::new(&dir)) {
        Ok(n) => n,
        Err(message) => {
            let mut out = syn::Error::new(input.ident.span(), message).to_compile_error();
            out.extend(table::fallback(&input));
            return out.into();
        }
    };
    match retort_schema::parse_model_partial(&input, naming) {
        (Some(model), Ok(())) => {
            // What a backend lacks is mostly declared in `#[table(…)]`: errors point there.
            let at = input
                .attrs
                .iter()
                .find(|a| a.path().is_ident("table"))
                .and_then(|a| a.path().get_ident())
                .map_or(model.ident.span(), |i| i.span());
            table::expand(&model, at).into()
        }
        // The errors, an impl that satisfies the rest of the crate, and diesel's module as
        // far as the model could be read, so the user sees only the attribute errors, not
        // "Table is not implemented" or "cannot find `tasks`" wherever the model is used.
        (model, errors) => {
            let errors = errors.err().unwrap_or_else(|| {
                syn::Error::new(input.ident.span(), "the model could not be read")
            });
            let mut out = errors.to_compile_error();
            out.extend(table::fallback(&input));
            if let Some(model) = model {
                out.extend(table::diesel_fallback(&model));
            }
            out.into()
        }
    }
}

/// A Rust enum stored as a database enum: implements `retort::DbEnum` and diesel's
/// `ToSql`/`FromSql`/`AsExpression`/`Queryable` for a column of it.
///
/// See the `retort` crate for the attributes.
#[proc_macro_derive(DbEnum, attributes(db_enum))]
pub fn derive_db_enum(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    match retort_schema::parse_enum(&input) {
        Ok(model) => db_enum::expand(&model, &input.vis).into(),
        Err(errors) => errors.to_compile_error().into(),
    }
}

/// One migration: revision, parents, message, `up` and `down` operations.
///
/// Written by the build script (and editable by hand); see `retort_schema::migration`
/// for the grammar. Expands to `pub const MIGRATION: retort::CompiledMigration`.
#[proc_macro]
pub fn migration(input: TokenStream) -> TokenStream {
    let input: proc_macro2::TokenStream = input.into();
    match retort_schema::migration::parse_body(input.clone()) {
        Ok(file) => migration::expand(&file, &input).into(),
        Err(errors) => errors.to_compile_error().into(),
    }
}
