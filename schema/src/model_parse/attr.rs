//! Reads `#[table(…)]` and `#[column(…)]` attributes into plain values with spans.
//!
//! Nothing here knows what the values mean for the schema: `table.rs` builds the
//! model and checks invariants. Every mistake is recorded in the [`Ctxt`] and
//! parsing goes on, so all of them are reported together.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, Lit, LitStr, Token};

use super::ctxt::Ctxt;
use super::index_attr::{self, Kind};
pub(crate) use super::index_attr::{IndexAttr, KeyAttr};
use super::symbol::{self as key, Symbol, COLUMN_KEYS, TABLE_KEYS};

/// A value that may be given at most once; remembers where it was given.
pub(crate) struct Setting<T> {
    key: Symbol,
    value: Option<(Span, T)>,
}

impl<T> Setting<T> {
    fn new(key: Symbol) -> Self {
        Setting { key, value: None }
    }

    fn set(&mut self, cx: &Ctxt, span: Span, value: T) {
        if self.value.is_some() {
            cx.error_at(
                span,
                format!("duplicate `{}`; give it once and remove this one", self.key),
            );
        } else {
            self.value = Some((span, value));
        }
    }

    pub(crate) fn get(&self) -> Option<&T> {
        self.value.as_ref().map(|(_, v)| v)
    }

    pub(crate) fn span(&self) -> Option<Span> {
        self.value.as_ref().map(|(s, _)| *s)
    }

    pub(crate) fn is_set(&self) -> bool {
        self.value.is_some()
    }

    /// The key and where it was given, if it was.
    fn given(&self) -> Option<(Symbol, Span)> {
        self.span().map(|span| (self.key, span))
    }
}

/// `check(name = "…", expr = "…")` on a table.
pub(crate) struct CheckAttr {
    pub name: LitStr,
    pub expr: LitStr,
    pub not_valid: bool,
}

/// Everything given in `#[table(…)]`.
pub(crate) struct TableAttrs {
    pub name: Setting<LitStr>,
    pub renamed_from: Setting<LitStr>,
    pub comment: Setting<LitStr>,
    pub primary_key: Setting<Vec<Ident>>,
    pub primary_key_name: Setting<LitStr>,
    pub schema: Setting<LitStr>,
    /// `index(…)` and `unique(…)`, in the order written (each knows its kind).
    pub indexes: Vec<IndexAttr>,
    pub checks: Vec<CheckAttr>,
}

/// Everything given in `#[column(…)]`.
pub(crate) struct ColumnAttrs {
    pub name: Setting<LitStr>,
    pub primary_key: Setting<()>,
    /// Whether values are always generated (`autoincrement = "always"`).
    pub autoincrement: Setting<bool>,
    pub unique: Setting<()>,
    pub index: Setting<Option<LitStr>>,
    pub server_default: Setting<LitStr>,
    pub max_length: Setting<u32>,
    pub sql_type: Setting<LitStr>,
    pub custom_type: Setting<LitStr>,
    pub diesel_type: Setting<LitStr>,
    pub references: Setting<LitStr>,
    pub on_delete: Setting<LitStr>,
    pub on_update: Setting<LitStr>,
    pub fk_name: Setting<LitStr>,
    pub deferrable: Setting<LitStr>,
    pub not_valid: Setting<()>,
    pub comment: Setting<LitStr>,
    pub renamed_from: Setting<LitStr>,
    pub skip: Setting<()>,
}

impl ColumnAttrs {
    /// The keys given besides `skip` (which ignores the field, so any other key is a mistake).
    pub(crate) fn given_besides_skip(&self) -> Vec<(Symbol, Span)> {
        let all = [
            self.name.given(),
            self.primary_key.given(),
            self.autoincrement.given(),
            self.unique.given(),
            self.index.given(),
            self.server_default.given(),
            self.max_length.given(),
            self.sql_type.given(),
            self.custom_type.given(),
            self.diesel_type.given(),
            self.references.given(),
            self.on_delete.given(),
            self.on_update.given(),
            self.fk_name.given(),
            self.deferrable.given(),
            self.not_valid.given(),
            self.comment.given(),
            self.renamed_from.given(),
        ];
        all.into_iter().flatten().collect()
    }
}

/// The doc comment of an item, lines joined with `\n`, or `None` when there is none.
pub(crate) fn doc_comment(attrs: &[Attribute]) -> Option<String> {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &attr.meta {
            if let syn::Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) = &nv.value
            {
                let text = s.value();
                lines.push(
                    text.strip_prefix(' ')
                        .unwrap_or(&text)
                        .trim_end()
                        .to_string(),
                );
            }
        }
    }
    let joined = lines.join("\n").trim().to_string();
    (!joined.is_empty()).then_some(joined)
}

/// Reads every `#[table(…)]` attribute of a struct.
pub(crate) fn table_attrs(cx: &Ctxt, attrs: &[Attribute]) -> TableAttrs {
    let mut out = TableAttrs {
        name: Setting::new(key::NAME),
        renamed_from: Setting::new(key::RENAMED_FROM),
        comment: Setting::new(key::COMMENT),
        primary_key: Setting::new(key::PRIMARY_KEY),
        primary_key_name: Setting::new(key::PRIMARY_KEY_NAME),
        schema: Setting::new(key::SCHEMA),
        indexes: Vec::new(),
        checks: Vec::new(),
    };
    for attr in attrs.iter().filter(|a| a.path().is_ident("table")) {
        let result = attr.parse_nested_meta(|meta| {
            let span = meta.path.span();
            let p = &meta.path;
            let o = &mut out;
            if *p == key::INDEX {
                o.indexes.push(index_attr::read(cx, &meta, Kind::Index)?);
            } else if *p == key::UNIQUE {
                o.indexes.push(index_attr::read(cx, &meta, Kind::Unique)?);
            } else if *p == key::CHECK {
                if let Some(c) = check_attr(cx, &meta)? {
                    o.checks.push(c);
                }
            } else if *p == key::PRIMARY_KEY {
                if let Some(list) = column_list(cx, &meta, key::PRIMARY_KEY)? {
                    o.primary_key.set(cx, span, list);
                }
            } else {
                let (setting, example) = if *p == key::NAME {
                    (&mut o.name, "tasks")
                } else if *p == key::RENAMED_FROM {
                    (&mut o.renamed_from, "old_tasks")
                } else if *p == key::COMMENT {
                    (&mut o.comment, "What this table holds")
                } else if *p == key::SCHEMA {
                    (&mut o.schema, "audit")
                } else if *p == key::PRIMARY_KEY_NAME {
                    (&mut o.primary_key_name, "tasks_pkey")
                } else {
                    return unknown_key(cx, &meta, "table", TABLE_KEYS);
                };
                if let Some(v) = string_value(cx, &meta, setting.key, example)? {
                    setting.set(cx, span, v);
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            cx.syn_error(e);
        }
    }
    out
}

/// Reads every `#[column(…)]` attribute of a field.
pub(crate) fn column_attrs(cx: &Ctxt, attrs: &[Attribute]) -> ColumnAttrs {
    let mut out = ColumnAttrs {
        name: Setting::new(key::NAME),
        primary_key: Setting::new(key::PRIMARY_KEY),
        autoincrement: Setting::new(key::AUTOINCREMENT),
        unique: Setting::new(key::UNIQUE),
        index: Setting::new(key::INDEX),
        server_default: Setting::new(key::SERVER_DEFAULT),
        max_length: Setting::new(key::MAX_LENGTH),
        sql_type: Setting::new(key::SQL_TYPE),
        custom_type: Setting::new(key::CUSTOM_TYPE),
        diesel_type: Setting::new(key::DIESEL_TYPE),
        references: Setting::new(key::REFERENCES),
        on_delete: Setting::new(key::ON_DELETE),
        on_update: Setting::new(key::ON_UPDATE),
        fk_name: Setting::new(key::FK_NAME),
        deferrable: Setting::new(key::DEFERRABLE),
        not_valid: Setting::new(key::NOT_VALID),
        comment: Setting::new(key::COMMENT),
        renamed_from: Setting::new(key::RENAMED_FROM),
        skip: Setting::new(key::SKIP),
    };
    for attr in attrs.iter().filter(|a| a.path().is_ident("column")) {
        let result = attr.parse_nested_meta(|meta| {
            let span = meta.path.span();
            let p = &meta.path;
            let o = &mut out;
            if *p == key::PRIMARY_KEY {
                flag(cx, &meta, &mut o.primary_key)?;
            } else if *p == key::UNIQUE {
                flag(cx, &meta, &mut o.unique)?;
            } else if *p == key::SKIP {
                flag(cx, &meta, &mut o.skip)?;
            } else if *p == key::NOT_VALID {
                flag(cx, &meta, &mut o.not_valid)?;
            } else if *p == key::DEFAULT {
                // One name for the database's default everywhere (attribute, migration
                // files, snapshot): the old spelling is refused with the fix, never read
                // silently.
                cx.error_at(span, format!("`{}` is spelled `{}`: the value is an SQL expression the database fills in; write {} = \"0\"", key::DEFAULT, key::SERVER_DEFAULT, key::SERVER_DEFAULT));
                skip_value(&meta)?;
            } else if *p == key::AUTOINCREMENT {
                autoincrement(cx, &meta, &mut o.autoincrement)?;
            } else if *p == key::INDEX {
                index_flag(cx, &meta, &mut o.index)?;
            } else if *p == key::MAX_LENGTH {
                if let Some(n) = integer_value(cx, &meta, key::MAX_LENGTH, "36")? {
                    o.max_length.set(cx, span, n);
                }
            } else {
                let strings: [(&mut Setting<LitStr>, &str); 12] = [
                    (&mut o.name, "task_id"),
                    (&mut o.server_default, "0"),
                    (&mut o.sql_type, "numeric(10,2)"),
                    (&mut o.custom_type, "tsvector"),
                    (&mut o.diesel_type, "diesel::sql_types::Text"),
                    (&mut o.references, "tasks(id)"),
                    (&mut o.on_delete, "cascade"),
                    (&mut o.on_update, "cascade"),
                    (&mut o.deferrable, "deferred"),
                    (&mut o.fk_name, "comment_post_id_fkey"),
                    (&mut o.comment, "What this column holds"),
                    (&mut o.renamed_from, "old_name"),
                ];
                let Some((setting, example)) = strings.into_iter().find(|(s, _)| *p == s.key)
                else {
                    return unknown_key(cx, &meta, "column", COLUMN_KEYS);
                };
                if let Some(v) = string_value(cx, &meta, setting.key, example)? {
                    setting.set(cx, span, v);
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            cx.syn_error(e);
        }
    }
    out
}

/// `autoincrement`, or `autoincrement = "always"` / `"by_default"`.
fn autoincrement(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    setting: &mut Setting<bool>,
) -> syn::Result<()> {
    let span = meta.path.span();
    if meta.input.peek(Token![=]) {
        if let Some(v) = string_value(cx, meta, setting.key, "always")? {
            match v.value().as_str() {
                "always" => setting.set(cx, span, true),
                "by_default" => setting.set(cx, span, false),
                other => cx.error_spanned_by(&v, format!("`autoincrement = \"{other}\"` is not a kind: write `autoincrement` (an explicit value still goes in), or `autoincrement = \"always\"` (PostgreSQL's GENERATED ALWAYS: a given value is refused)")),
            }
        }
    } else if meta.input.is_empty() || meta.input.peek(Token![,]) {
        setting.set(cx, span, false);
    } else {
        cx.error_at(span, "`autoincrement` is a flag or takes a kind: write `autoincrement` or `autoincrement = \"always\"`");
        skip_value(meta)?;
    }
    Ok(())
}

/// `index`, or `index = "ix_name"`.
fn index_flag(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    setting: &mut Setting<Option<LitStr>>,
) -> syn::Result<()> {
    let span = meta.path.span();
    if meta.input.peek(Token![=]) {
        if let Some(v) = string_value(cx, meta, setting.key, "ix_tasks_status")? {
            setting.set(cx, span, Some(v));
        }
    } else if meta.input.is_empty() || meta.input.peek(Token![,]) {
        setting.set(cx, span, None);
    } else {
        cx.error_at(
            span,
            "`index` is a flag or takes a name: write `index` or `index = \"ix_name\"`",
        );
        skip_value(meta)?;
    }
    Ok(())
}

/// A flag such as `primary_key`: no value allowed.
fn flag(cx: &Ctxt, meta: &ParseNestedMeta, setting: &mut Setting<()>) -> syn::Result<()> {
    let key = setting.key;
    let span = meta.path.span();
    if meta.input.is_empty() || meta.input.peek(Token![,]) {
        setting.set(cx, span, ());
    } else {
        cx.error_at(
            span,
            format!("`{key}` is a flag and takes no value: write `{key}` alone"),
        );
        skip_value(meta)?;
    }
    Ok(())
}

/// `key = "text"`; any other value kind is reported with the expected form.
fn string_value(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    key: Symbol,
    example: &str,
) -> syn::Result<Option<LitStr>> {
    if !meta.input.peek(Token![=]) {
        cx.error_at(
            meta.path.span(),
            format!("`{key}` needs a string value: write `{key} = \"{example}\"`"),
        );
        skip_value(meta)?;
        return Ok(None);
    }
    let lit: syn::Expr = meta.value()?.parse()?;
    match lit {
        syn::Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(Some(s)),
        other => {
            cx.error_spanned_by(
                &other,
                format!("`{key}` takes a string literal: write `{key} = \"{example}\"`"),
            );
            Ok(None)
        }
    }
}

/// `key = 36`; a quoted or negative number is reported with the expected form.
fn integer_value(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    key: Symbol,
    example: &str,
) -> syn::Result<Option<u32>> {
    if !meta.input.peek(Token![=]) {
        cx.error_at(
            meta.path.span(),
            format!("`{key}` needs a number: write `{key} = {example}`"),
        );
        skip_value(meta)?;
        return Ok(None);
    }
    let expr: syn::Expr = meta.value()?.parse()?;
    if let syn::Expr::Lit(syn::ExprLit {
        lit: Lit::Int(i), ..
    }) = &expr
    {
        match i.base10_parse::<u32>() {
            Ok(n) if n > 0 => return Ok(Some(n)),
            _ => {
                cx.error_spanned_by(
                    i,
                    format!("`{key}` must be a whole number from 1 to {}", u32::MAX),
                );
                return Ok(None);
            }
        }
    }
    cx.error_spanned_by(
        &expr,
        format!("`{key}` takes an integer literal, not a string or expression: write `{key} = {example}`"),
    );
    Ok(None)
}

/// `key(a, b)`: a parenthesized list of column identifiers.
fn column_list(cx: &Ctxt, meta: &ParseNestedMeta, key: Symbol) -> syn::Result<Option<Vec<Ident>>> {
    if !meta.input.peek(syn::token::Paren) {
        cx.error_at(
            meta.path.span(),
            format!("`{key}` takes a list of columns: write `{key}(first_column, second_column)`"),
        );
        skip_value(meta)?;
        return Ok(None);
    }
    let mut columns = Vec::new();
    meta.parse_nested_meta(|inner| {
        match inner.path.get_ident() {
            Some(ident) if inner.input.is_empty() || inner.input.peek(Token![,]) => {
                columns.push(ident.clone())
            }
            _ => {
                cx.error_at(
                    inner.path.span(),
                    format!("`{key}(…)` lists column names as plain identifiers, like `{key}(user_id, created_at)`"),
                );
                skip_value(&inner)?;
            }
        }
        Ok(())
    })?;
    Ok(Some(columns))
}

/// `check(name = "…", expr = "…")`.
fn check_attr(cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<Option<CheckAttr>> {
    const FORM: &str = "write `check(name = \"positive_amount\", expr = \"amount > 0\")`";
    let span = meta.path.span();
    if !meta.input.peek(syn::token::Paren) {
        cx.error_at(
            span,
            format!("`check` needs a name and an SQL expression: {FORM}"),
        );
        skip_value(meta)?;
        return Ok(None);
    }
    let mut name = None;
    let mut expr = None;
    let mut not_valid = false;
    meta.parse_nested_meta(|inner| {
        let p = &inner.path;
        let flag = inner.input.is_empty() || inner.input.peek(Token![,]);
        match () {
            _ if *p == key::NAME => name = string_value(cx, &inner, key::NAME, "positive_amount")?,
            _ if *p == key::EXPR => expr = string_value(cx, &inner, key::EXPR, "amount > 0")?,
            _ if *p == key::NOT_VALID && flag => not_valid = true,
            _ => {
                cx.error_at(
                    inner.path.span(),
                    format!("unknown key in `check(…)`; it takes `name`, `expr` and the flag `not_valid`: {FORM}"),
                );
                skip_value(&inner)?;
            }
        }
        Ok(())
    })?;
    match (name, expr) {
        (Some(name), Some(expr)) => Ok(Some(CheckAttr {
            name,
            expr,
            not_valid,
        })),
        (None, _) => {
            cx.error_at(span, format!("`check` is missing `name`: {FORM}"));
            Ok(None)
        }
        (_, None) => {
            cx.error_at(span, format!("`check` is missing `expr`: {FORM}"));
            Ok(None)
        }
    }
}

/// Reports an unknown key, suggesting the closest known one, and skips its value.
fn unknown_key(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    attribute: &str,
    known: &[Symbol],
) -> syn::Result<()> {
    let key = meta
        .path
        .get_ident()
        .map(|i| i.to_string())
        .unwrap_or_else(|| {
            quote::ToTokens::to_token_stream(&meta.path)
                .to_string()
                .replace(' ', "")
        });
    let closest = known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(k.as_str(), &key), k.as_str()))
        .min()
        .filter(|(d, k)| *d <= 2.max(k.len() / 3));
    let message = match closest {
        Some((_, k)) => format!("unknown {attribute} attribute `{key}`; did you mean `{k}`?"),
        None => format!(
            "unknown {attribute} attribute `{key}`; expected one of: {}",
            known
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    cx.error_at(meta.path.span(), message);
    skip_value(meta)
}

/// Consumes whatever follows a key (`= value` or `(…)`), so parsing can go on after an error.
fn skip_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        let _: syn::Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _: proc_macro2::Group = meta.input.parse()?;
    }
    Ok(())
}
