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

/// Attribute keys accepted in `#[table(…)]`.
pub(crate) const TABLE_KEYS: &[&str] = &[
    "name",
    "renamed_from",
    "comment",
    "index",
    "unique",
    "check",
    "primary_key",
    "primary_key_name",
    "schema",
];

/// Attribute keys accepted in `#[column(…)]`.
pub(crate) const COLUMN_KEYS: &[&str] = &[
    "name",
    "primary_key",
    "autoincrement",
    "unique",
    "index",
    "server_default",
    "max_length",
    "sql_type",
    "custom_type",
    "diesel_type",
    "references",
    "on_delete",
    "on_update",
    "fk_name",
    "deferrable",
    "not_valid",
    "comment",
    "renamed_from",
    "skip",
];

/// A value that may be given at most once; remembers where it was given.
pub(crate) struct Setting<T> {
    key: &'static str,
    value: Option<(Span, T)>,
}

impl<T> Setting<T> {
    fn new(key: &'static str) -> Self {
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
    pub indexes: Vec<IndexAttr>,
    pub uniques: Vec<IndexAttr>,
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
    pub(crate) fn given_besides_skip(&self) -> Vec<(&'static str, Span)> {
        let all: [(&'static str, Option<Span>); 18] = [
            ("name", self.name.span()),
            ("primary_key", self.primary_key.span()),
            ("autoincrement", self.autoincrement.span()),
            ("unique", self.unique.span()),
            ("index", self.index.span()),
            ("server_default", self.server_default.span()),
            ("max_length", self.max_length.span()),
            ("sql_type", self.sql_type.span()),
            ("custom_type", self.custom_type.span()),
            ("diesel_type", self.diesel_type.span()),
            ("references", self.references.span()),
            ("on_delete", self.on_delete.span()),
            ("on_update", self.on_update.span()),
            ("fk_name", self.fk_name.span()),
            ("deferrable", self.deferrable.span()),
            ("not_valid", self.not_valid.span()),
            ("comment", self.comment.span()),
            ("renamed_from", self.renamed_from.span()),
        ];
        all.into_iter()
            .filter_map(|(k, s)| s.map(|s| (k, s)))
            .collect()
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
        name: Setting::new("name"),
        renamed_from: Setting::new("renamed_from"),
        comment: Setting::new("comment"),
        primary_key: Setting::new("primary_key"),
        primary_key_name: Setting::new("primary_key_name"),
        schema: Setting::new("schema"),
        indexes: Vec::new(),
        uniques: Vec::new(),
        checks: Vec::new(),
    };
    for attr in attrs.iter().filter(|a| a.path().is_ident("table")) {
        let result = attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(|i| i.to_string())
                .unwrap_or_default();
            let span = meta.path.span();
            match key.as_str() {
                "name" => {
                    if let Some(v) = string_value(cx, &meta, "name", "tasks")? {
                        out.name.set(cx, span, v);
                    }
                }
                "renamed_from" => {
                    if let Some(v) = string_value(cx, &meta, "renamed_from", "old_tasks")? {
                        out.renamed_from.set(cx, span, v);
                    }
                }
                "comment" => {
                    if let Some(v) = string_value(cx, &meta, "comment", "What this table holds")? {
                        out.comment.set(cx, span, v);
                    }
                }
                "schema" => {
                    if let Some(v) = string_value(cx, &meta, "schema", "audit")? {
                        out.schema.set(cx, span, v);
                    }
                }
                "primary_key_name" => {
                    if let Some(v) = string_value(cx, &meta, "primary_key_name", "tasks_pkey")? {
                        out.primary_key_name.set(cx, span, v);
                    }
                }
                "primary_key" => {
                    if let Some(list) = column_list(cx, &meta, "primary_key")? {
                        out.primary_key.set(cx, span, list);
                    }
                }
                "index" => out.indexes.push(index_attr::read(cx, &meta, Kind::Index)?),
                "unique" => out.uniques.push(index_attr::read(cx, &meta, Kind::Unique)?),
                "check" => {
                    if let Some(c) = check_attr(cx, &meta)? {
                        out.checks.push(c);
                    }
                }
                _ => unknown_key(cx, &meta, "table", TABLE_KEYS)?,
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
        name: Setting::new("name"),
        primary_key: Setting::new("primary_key"),
        autoincrement: Setting::new("autoincrement"),
        unique: Setting::new("unique"),
        index: Setting::new("index"),
        server_default: Setting::new("server_default"),
        max_length: Setting::new("max_length"),
        sql_type: Setting::new("sql_type"),
        custom_type: Setting::new("custom_type"),
        diesel_type: Setting::new("diesel_type"),
        references: Setting::new("references"),
        on_delete: Setting::new("on_delete"),
        on_update: Setting::new("on_update"),
        fk_name: Setting::new("fk_name"),
        deferrable: Setting::new("deferrable"),
        not_valid: Setting::new("not_valid"),
        comment: Setting::new("comment"),
        renamed_from: Setting::new("renamed_from"),
        skip: Setting::new("skip"),
    };
    for attr in attrs.iter().filter(|a| a.path().is_ident("column")) {
        let result = attr.parse_nested_meta(|meta| {
            let key = meta.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
            let span = meta.path.span();
            let o = &mut out;
            match key.as_str() {
                "primary_key" => flag(cx, &meta, "primary_key", &mut o.primary_key)?,
                // One name for the database's default everywhere (attribute, migration files,
                // snapshot): the old spelling is refused with the fix, never read silently.
                "default" => {
                    cx.error_at(span, "`default` is spelled `server_default`: the value is an SQL expression the database fills in; write server_default = \"0\"");
                    skip_value(&meta)?;
                }
                "autoincrement" => {
                    if meta.input.peek(Token![=]) {
                        if let Some(v) = string_value(cx, &meta, "autoincrement", "always")? {
                            match v.value().as_str() {
                                "always" => o.autoincrement.set(cx, span, true),
                                "by_default" => o.autoincrement.set(cx, span, false),
                                other => cx.error_spanned_by(&v, format!("`autoincrement = \"{other}\"` is not a kind: write `autoincrement` (an explicit value still goes in), or `autoincrement = \"always\"` (PostgreSQL's GENERATED ALWAYS: a given value is refused)")),
                            }
                        }
                    } else if meta.input.is_empty() || meta.input.peek(Token![,]) {
                        o.autoincrement.set(cx, span, false);
                    } else {
                        cx.error_at(span, "`autoincrement` is a flag or takes a kind: write `autoincrement` or `autoincrement = \"always\"`");
                        skip_value(&meta)?;
                    }
                }
                "unique" => flag(cx, &meta, "unique", &mut o.unique)?,
                "skip" => flag(cx, &meta, "skip", &mut o.skip)?,
                "not_valid" => flag(cx, &meta, "not_valid", &mut o.not_valid)?,
                "index" => {
                    if meta.input.peek(Token![=]) {
                        if let Some(v) = string_value(cx, &meta, "index", "ix_tasks_status")? {
                            o.index.set(cx, span, Some(v));
                        }
                    } else if meta.input.is_empty() || meta.input.peek(Token![,]) {
                        o.index.set(cx, span, None);
                    } else {
                        cx.error_at(span, "`index` is a flag or takes a name: write `index` or `index = \"ix_name\"`");
                        skip_value(&meta)?;
                    }
                }
                "max_length" => {
                    if let Some(n) = integer_value(cx, &meta, "max_length", "36")? {
                        o.max_length.set(cx, span, n);
                    }
                }
                other => {
                    let (setting, example) = match other {
                        "name" => (&mut o.name, "task_id"),
                        "server_default" => (&mut o.server_default, "0"),
                        "sql_type" => (&mut o.sql_type, "numeric(10,2)"),
                        "custom_type" => (&mut o.custom_type, "tsvector"),
                        "diesel_type" => (&mut o.diesel_type, "diesel::sql_types::Text"),
                        "references" => (&mut o.references, "tasks(id)"),
                        "on_delete" => (&mut o.on_delete, "cascade"),
                        "on_update" => (&mut o.on_update, "cascade"),
                        "deferrable" => (&mut o.deferrable, "deferred"),
                        "fk_name" => (&mut o.fk_name, "comment_post_id_fkey"),
                        "comment" => (&mut o.comment, "What this column holds"),
                        "renamed_from" => (&mut o.renamed_from, "old_name"),
                        _ => return unknown_key(cx, &meta, "column", COLUMN_KEYS),
                    };
                    let key = setting.key;
                    if let Some(v) = string_value(cx, &meta, key, example)? {
                        setting.set(cx, span, v);
                    }
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

/// A flag such as `primary_key`: no value allowed.
fn flag(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    key: &'static str,
    setting: &mut Setting<()>,
) -> syn::Result<()> {
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
    key: &str,
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
    key: &str,
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
fn column_list(cx: &Ctxt, meta: &ParseNestedMeta, key: &str) -> syn::Result<Option<Vec<Ident>>> {
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
        let key = inner
            .path
            .get_ident()
            .map(|i| i.to_string())
            .unwrap_or_default();
        match key.as_str() {
            "name" => name = string_value(cx, &inner, "name", "positive_amount")?,
            "expr" => expr = string_value(cx, &inner, "expr", "amount > 0")?,
            "not_valid" if inner.input.is_empty() || inner.input.peek(Token![,]) => {
                not_valid = true
            }
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
    known: &[&str],
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
        .map(|k| (strsim::damerau_levenshtein(k, &key), *k))
        .min()
        .filter(|(d, k)| *d <= 2.max(k.len() / 3));
    let message = match closest {
        Some((_, k)) => format!("unknown {attribute} attribute `{key}`; did you mean `{k}`?"),
        None => format!(
            "unknown {attribute} attribute `{key}`; expected one of: {}",
            known.join(", ")
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
