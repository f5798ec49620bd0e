//! Code emitted by `#[derive(DbEnum)]`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use retort_schema::EnumModel;

/// `impl retort::DbEnum`, the diesel SQL type of the enum's columns, and the diesel impls
/// that read and write the enum as its value (text on the wire on every backend).
pub(crate) fn expand(model: &EnumModel, vis: &syn::Visibility) -> TokenStream {
    let ident = &model.ident;
    let name = &model.name;
    let sql_type = format_ident!("__RetortSql{}", ident);
    let values: Vec<&String> = model.variants.iter().map(|(_, v)| v).collect();
    let variants: Vec<&syn::Ident> = model.variants.iter().map(|(i, _)| i).collect();
    let doc = format!("diesel's SQL type of a column of enum `{name}` (`{ident}`).");
    quote! {
        #[doc = #doc]
        #[doc(hidden)]
        #[derive(::diesel::SqlType, ::diesel::QueryId, Debug, Clone, Copy, Default)]
        #[diesel(postgres_type(name = #name))]
        #[diesel(mysql_type(name = "String"))]
        #[diesel(sqlite_type(name = "Text"))]
        #vis struct #sql_type;

        impl ::retort::DbEnum for #ident {
            const NAME: &'static str = #name;
            const VALUES: &'static [&'static str] = &[#(#values),*];
            type SqlType = #sql_type;

            fn as_str(&self) -> &'static str {
                match self {
                    #(Self::#variants => #values,)*
                }
            }

            fn from_str(value: &str) -> ::core::option::Option<Self> {
                match value {
                    #(#values => ::core::option::Option::Some(Self::#variants),)*
                    _ => ::core::option::Option::None,
                }
            }
        }

        const _: () = {
            use ::diesel::backend::Backend;
            use ::diesel::deserialize::{self, FromSql};
            use ::diesel::serialize::{self, Output, ToSql};
            use ::diesel::sql_types::Text;

            impl<DB> ToSql<#sql_type, DB> for #ident
            where
                DB: Backend,
                str: ToSql<Text, DB>,
            {
                fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                    <str as ToSql<Text, DB>>::to_sql(::retort::DbEnum::as_str(self), out)
                }
            }

            impl<DB> FromSql<#sql_type, DB> for #ident
            where
                DB: Backend,
                String: FromSql<Text, DB>,
            {
                fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                    let text = <String as FromSql<Text, DB>>::from_sql(bytes)?;
                    <Self as ::retort::DbEnum>::from_str(&text).ok_or_else(|| {
                        ::std::format!("`{text}` is not a value of enum `{}` ({})", #name, ::std::stringify!(#ident)).into()
                    })
                }
            }
        };

        const _: () = {
            #[derive(::diesel::AsExpression, ::diesel::FromSqlRow)]
            #[diesel(foreign_derive)]
            #[diesel(sql_type = #sql_type)]
            #[allow(dead_code)]
            struct __RetortProxy(#ident);
        };
    }
}
