//! Reads `index(…)` and `unique(…)` on a table: keys (a column, optionally followed by
//! `asc`/`desc` and `nulls first`/`nulls last`, or a key in SQL as a string), and options
//! (`name`, `unique`, `using`, `where`, `include(…)`, `with`, `nulls_not_distinct`,
//! `deferrable`).

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::{Ident, LitStr, Token};

use super::ctxt::Ctxt;
use crate::model::NullsOrder;

/// One key as written.
pub(crate) enum KeyAttr {
    /// A column (field or SQL name) with its order.
    Column {
        ident: Ident,
        descending: bool,
        nulls: Option<NullsOrder>,
    },
    /// A key in SQL: `"lower(email)"`, `"title gin_trgm_ops"`.
    Text(LitStr),
}

/// `index(…)` or `unique(…)` on a table.
pub(crate) struct IndexAttr {
    pub kind: Kind,
    pub span: Span,
    pub keys: Vec<KeyAttr>,
    pub name: Option<LitStr>,
    pub unique: bool,
    pub using: Option<LitStr>,
    pub predicate: Option<LitStr>,
    pub include: Vec<Ident>,
    pub with: Option<LitStr>,
    pub nulls_not_distinct: bool,
    pub deferrable: Option<LitStr>,
}

/// Which list is read: an index takes every option, a unique constraint its own few.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Index,
    Unique,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Index => "index",
            Kind::Unique => "unique",
        }
    }

    fn form(self) -> &'static str {
        match self {
            Kind::Index => "`index(user_id, created_at desc, name = \"ix_name\")`; it takes columns (each optionally followed by `desc`/`asc` and `nulls first`/`nulls last`), keys in SQL as strings (\"lower(email)\"), `name = \"…\"`, `unique`, `using = \"gin\"`, `where = \"…\"`, `include(…)`, `with = \"…\"` and `nulls_not_distinct`",
            Kind::Unique => "`unique(customer_id, number, name = \"uq_name\")`; it takes column names, `name = \"…\"`, `nulls_not_distinct` and `deferrable = \"deferred\"`",
        }
    }
}

/// Reads `index(…)` / `unique(…)`; every mistake goes to `cx` and reading goes on.
pub(crate) fn read(cx: &Ctxt, meta: &ParseNestedMeta, kind: Kind) -> syn::Result<IndexAttr> {
    let mut out = IndexAttr {
        kind,
        span: meta.path.span(),
        keys: Vec::new(),
        name: None,
        unique: kind == Kind::Unique,
        using: None,
        predicate: None,
        include: Vec::new(),
        with: None,
        nulls_not_distinct: false,
        deferrable: None,
    };
    if !meta.input.peek(syn::token::Paren) {
        let one = match kind {
            Kind::Index => "#[column(index)]",
            Kind::Unique => "#[column(unique)]",
        };
        cx.error_at(
            out.span,
            format!(
                "`{w}` on a table takes its columns: write `{w}(first_column, second_column)`; for one column put `{one}` on the field",
                w = kind.word()
            ),
        );
        if meta.input.peek(Token![=]) {
            let _: syn::Expr = meta.value()?.parse()?;
        }
        return Ok(out);
    }
    let content;
    syn::parenthesized!(content in meta.input);
    while !content.is_empty() {
        if let Err(e) = item(cx, &content, kind, &mut out) {
            cx.syn_error(e);
            skip_to_comma(&content)?;
        }
        if !content.is_empty() {
            content.parse::<Token![,]>()?;
        }
    }
    Ok(out)
}

fn item(cx: &Ctxt, input: ParseStream, kind: Kind, out: &mut IndexAttr) -> syn::Result<()> {
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        if kind == Kind::Unique {
            cx.error_spanned_by(
                &lit,
                "a unique constraint's keys are plain columns; for an expression write `index(\"…\", unique, name = \"…\")`",
            );
        }
        out.keys.push(KeyAttr::Text(lit));
        return Ok(());
    }
    let ident = Ident::parse_any(input)?;
    let key = ident.unraw().to_string();
    let at_end = |i: ParseStream| i.is_empty() || i.peek(Token![,]);
    if input.peek(Token![=]) {
        return key_value(cx, input, kind, &ident, out);
    }
    if input.peek(syn::token::Paren) {
        let inner;
        syn::parenthesized!(inner in input);
        let list = inner.parse_terminated(Ident::parse_any, Token![,])?;
        match (kind, key.as_str()) {
            (_, "columns") => out
                .keys
                .extend(list.into_iter().map(|ident| KeyAttr::Column {
                    ident,
                    descending: false,
                    nulls: None,
                })),
            (Kind::Index, "include") => out.include.extend(list),
            _ => cx.error_at(
                ident.span(),
                format!(
                    "`{}(…)` does not take `{key}(…)`: {}",
                    kind.word(),
                    kind.form()
                ),
            ),
        }
        return Ok(());
    }
    match (kind, key.as_str()) {
        (Kind::Index, "unique") if at_end(input) => {
            out.unique = true;
            return Ok(());
        }
        (_, "nulls_not_distinct") if at_end(input) => {
            out.nulls_not_distinct = true;
            return Ok(());
        }
        _ => {}
    }
    column_key(cx, input, kind, ident, out)
}

/// `key = "…"`: the index's name, method, predicate, storage parameters or deferral.
fn key_value(
    cx: &Ctxt,
    input: ParseStream,
    kind: Kind,
    ident: &Ident,
    out: &mut IndexAttr,
) -> syn::Result<()> {
    let key = ident.unraw().to_string();
    input.parse::<Token![=]>()?;
    let value: syn::Expr = input.parse()?;
    let syn::Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Str(lit),
        ..
    }) = value
    else {
        cx.error_spanned_by(&value, format!("`{key}` takes a string: {}", kind.form()));
        return Ok(());
    };
    let slot = match (kind, key.as_str()) {
        (_, "name") => &mut out.name,
        (Kind::Index, "using") => &mut out.using,
        (Kind::Index, "where") => &mut out.predicate,
        (Kind::Index, "with") => &mut out.with,
        (Kind::Unique, "deferrable") => &mut out.deferrable,
        _ => {
            cx.error_at(
                ident.span(),
                format!(
                    "`{}(…)` does not take `{key}`: {}",
                    kind.word(),
                    kind.form()
                ),
            );
            return Ok(());
        }
    };
    if slot.is_some() {
        cx.error_at(
            ident.span(),
            format!("duplicate `{key}`; give it once and remove this one"),
        );
    }
    *slot = Some(lit);
    Ok(())
}

/// A column key, then its order (`desc`, `nulls first|last`).
fn column_key(
    cx: &Ctxt,
    input: ParseStream,
    kind: Kind,
    ident: Ident,
    out: &mut IndexAttr,
) -> syn::Result<()> {
    let key = ident.unraw().to_string();
    let at_end = |i: ParseStream| i.is_empty() || i.peek(Token![,]);
    let mut descending = false;
    let mut nulls = None;
    while !at_end(input) {
        let word = Ident::parse_any(input)?;
        match word.to_string().to_ascii_lowercase().as_str() {
            "asc" if kind == Kind::Index => descending = false,
            "desc" if kind == Kind::Index => descending = true,
            "nulls" if kind == Kind::Index => {
                let which = Ident::parse_any(input)?;
                nulls = match which.to_string().to_ascii_lowercase().as_str() {
                    "first" => Some(NullsOrder::First),
                    "last" => Some(NullsOrder::Last),
                    _ => {
                        cx.error_at(which.span(), "`nulls` is followed by `first` or `last`");
                        None
                    }
                };
            }
            _ => {
                cx.error_at(
                    word.span(),
                    format!("unexpected `{word}` after column `{key}`: {}", kind.form()),
                );
                return skip_to_comma(input);
            }
        }
    }
    out.keys.push(KeyAttr::Column {
        ident,
        descending,
        nulls,
    });
    Ok(())
}

fn skip_to_comma(input: ParseStream) -> syn::Result<()> {
    while !input.is_empty() && !input.peek(Token![,]) {
        let _: proc_macro2::TokenTree = input.parse()?;
    }
    Ok(())
}
