//! Code emitted by `migration! { … }`: a `MIGRATION` constant.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use retort_schema::construct::Construct;
use retort_schema::migration::MigrationFile;

/// `pub const MIGRATION: ::retort::CompiledMigration = …;` for one parsed file.
pub(crate) fn expand(file: &MigrationFile, input: &TokenStream) -> TokenStream {
    let revision = &file.revision;
    let parents = &file.parents;
    let message = &file.message;
    let checksum = file.checksum();
    let atomic = file.atomic;
    let replaces = &file.replaces;
    let checksum_v0 = file.checksum_v0();
    let up = file.up.construct();
    let down = file.down.construct();
    let names = file.functions();
    let functions = names.iter().map(|n| {
        // The span of the name as written, so "cannot find function" points at it.
        let ident = find_ident(input, n).unwrap_or_else(|| format_ident!("{n}"));
        quote!((#n, #ident as ::retort::DataMigrationFn))
    });
    quote! {
        /// This file's migration, as compiled by `retort::migration!`.
        pub const MIGRATION: ::retort::CompiledMigration = ::retort::CompiledMigration {
            revision: #revision,
            parents: &[#(#parents),*],
            message: #message,
            checksum: #checksum,
            earlier_checksums: &[#checksum_v0],
            upgrade: &|| #up,
            downgrade: &|| #down,
            functions: &[#(#functions),*],
            atomic: #atomic,
            replaces: &[#(#replaces),*],
        };
    }
}

/// The first identifier `name` in the tokens, searching groups too.
fn find_ident(tokens: &TokenStream, name: &str) -> Option<proc_macro2::Ident> {
    for tt in tokens.clone() {
        match tt {
            proc_macro2::TokenTree::Ident(i) if i == name => return Some(i),
            proc_macro2::TokenTree::Group(g) => {
                if let Some(i) = find_ident(&g.stream(), name) {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}
