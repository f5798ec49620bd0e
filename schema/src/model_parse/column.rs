//! One field read into a column: its type, default, identity, comment and foreign key.

use syn::{Ident, LitStr};

use super::attr::{self, ColumnAttrs};
use super::ctxt::Ctxt;
use super::indexes::deferral;
use super::table::checked_name;
use super::types::{self, Unmapped};
use crate::model::{Column, ColumnType, Deferral, ForeignKey, ReferentialAction};
use crate::naming;

/// Builds one column from its field.
pub(super) fn column(
    cx: &Ctxt,
    table: &str,
    ident: &Ident,
    ty: &syn::Type,
    name: &str,
    attrs: &ColumnAttrs,
    field_attrs: &[syn::Attribute],
) -> Column {
    let nullable_by_type = types::is_option(ty);
    let mut column_type = ColumnType::Text;
    let mut nullable = nullable_by_type;
    let mut from_string = false;
    match (attrs.sql_type.get(), attrs.custom_type.get()) {
        (Some(_), Some(_)) => cx.error_at(
            attrs.custom_type.span().unwrap_or(ident.span()),
            "`sql_type` and `custom_type` both set the column type; keep one",
        ),
        (Some(lit), None) => match ColumnType::parse_portable(&lit.value()) {
            Some(t) => column_type = t,
            None => cx.error_spanned_by(lit, format!(
                "`{}` is not a portable SQL type; use one of smallint, integer, bigint, real, double, numeric(p,s), boolean, text, varchar(n), char(n), binary, date, time, timestamp, timestamptz, uuid, json — or `custom_type = \"{}\"` for a database-specific type",
                lit.value(), lit.value()
            )),
        },
        (None, Some(lit)) => {
            if lit.value().trim().is_empty() {
                cx.error_spanned_by(lit, "`custom_type` is empty: write the SQL type, like custom_type = \"tsvector\"");
            }
            column_type = ColumnType::Custom { sql: lit.value().trim().to_string() };
        }
        (None, None) => match types::map_type(ty) {
            Ok(mapped) => {
                from_string = mapped.ty == ColumnType::Text;
                column_type = mapped.ty;
                nullable = mapped.nullable;
            }
            Err(Unmapped::NestedOption) => cx.error_spanned_by(ty, "Option<Option<…>> has no column type: a column is either NULL or a value; use one Option"),
            // Perhaps a `#[derive(DbEnum)]` enum: the name and values come from it.
            Err(Unmapped::Unsupported(_))
                if types::enum_candidate(ty).is_some_and(|p| {
                    !(p.segments.len() == 1
                        && cx.generics.borrow().contains(&p.segments[0].ident.to_string()))
                }) =>
            {
                column_type = ColumnType::Enum { name: String::new(), values: Vec::new() };
            }
            Err(Unmapped::Unsupported(spelled)) => cx.error_spanned_by(ty, format!(
                "`{spelled}` has no portable column type; give one with #[column(sql_type = \"…\")] (e.g. \"bigint\", \"text\", \"json\") or #[column(custom_type = \"…\")] for a database-specific type"
            )),
        },
    }
    if let Some(n) = attrs.max_length.get() {
        if from_string {
            column_type = ColumnType::Varchar { length: *n };
        } else if attrs.sql_type.is_set() || attrs.custom_type.is_set() {
            cx.error_at(attrs.max_length.span().unwrap_or(ident.span()), "`max_length` conflicts with an explicit type; write the length in it, like sql_type = \"varchar(36)\"");
        } else {
            cx.error_at(attrs.max_length.span().unwrap_or(ident.span()), format!("`max_length` applies to String fields only, and `{name}` is {column_type}; remove it"));
        }
    }
    if attrs.autoincrement.is_set() && !column_type.is_integer() {
        cx.error_at(attrs.autoincrement.span().unwrap_or(ident.span()), format!("`autoincrement` needs an integer column (i16, i32 or i64), and `{table}.{name}` is {column_type}"));
    }
    let server_default = attrs.server_default.get().and_then(|lit| {
        let v = lit.value();
        if v.trim().is_empty() {
            cx.error_spanned_by(lit, "`server_default` is empty: write an SQL expression, like server_default = \"0\" or server_default = \"'pending'\"");
            None
        } else {
            Some(v)
        }
    });
    let comment = match attrs.comment.get() {
        Some(lit) => Some(lit.value()).filter(|c| !c.trim().is_empty()),
        None => attr::doc_comment(field_attrs),
    };
    Column {
        name: name.to_string(),
        ty: column_type,
        nullable,
        server_default,
        autoincrement: attrs.autoincrement.is_set(),
        identity_always: attrs.autoincrement.get() == Some(&true),
        comment,
        renamed_from: attrs
            .renamed_from
            .get()
            .map(|l| checked_name(cx, l, "previous column name")),
    }
}

/// `references = "table(column)"` with its actions.
pub(super) fn foreign_key(
    cx: &Ctxt,
    table: &str,
    column: &str,
    attrs: &ColumnAttrs,
) -> Option<ForeignKey> {
    let action = |setting: &attr::Setting<LitStr>| -> ReferentialAction {
        let Some(lit) = setting.get() else {
            return ReferentialAction::NoAction;
        };
        ReferentialAction::parse(&lit.value()).unwrap_or_else(|| {
            let names: Vec<&str> = ReferentialAction::ALL.iter().map(|(n, _)| *n).collect();
            cx.error_spanned_by(
                lit,
                format!(
                    "unknown referential action `{}`; use one of {}",
                    lit.value(),
                    names.join(", ")
                ),
            );
            ReferentialAction::NoAction
        })
    };
    let Some(lit) = attrs.references.get() else {
        for (key, span) in [
            ("on_delete", attrs.on_delete.span()),
            ("on_update", attrs.on_update.span()),
            ("fk_name", attrs.fk_name.span()),
            ("deferrable", attrs.deferrable.span()),
            ("not_valid", attrs.not_valid.span()),
        ] {
            if let Some(span) = span {
                cx.error_at(
                    span,
                    format!("`{key}` needs a foreign key: add `references = \"table(column)\"`"),
                );
            }
        }
        return None;
    };
    let text = lit.value();
    let Some((referred_table, referred_column)) = parse_reference(&text) else {
        cx.error_spanned_by(lit, format!("malformed `references = \"{text}\"`: write the referred table and column, like references = \"tasks(id)\""));
        return None;
    };
    for (what, name) in [
        ("referred table", &referred_table),
        ("referred column", &referred_column),
    ] {
        if let Err(problem) = naming::check_identifier(name) {
            cx.error_spanned_by(lit, format!("{what} `{name}` {problem}"));
        }
    }
    let columns = vec![column.to_string()];
    Some(ForeignKey {
        name: match attrs.fk_name.get() {
            Some(lit) => checked_name(cx, lit, "foreign key name"),
            None => cx.naming.foreign_key(table, &columns, &referred_table),
        },
        columns,
        referred_table,
        referred_columns: vec![referred_column],
        on_delete: action(&attrs.on_delete),
        on_update: action(&attrs.on_update),
        not_valid: attrs.not_valid.is_set(),
        deferral: attrs
            .deferrable
            .get()
            .map_or(Deferral::Immediate, |lit| deferral(cx, lit)),
    })
}

/// `"table(column)"` → (table, column).
pub(super) fn parse_reference(text: &str) -> Option<(String, String)> {
    let (table, rest) = text.trim().split_once('(')?;
    let column = rest.trim().strip_suffix(')')?;
    // A name of letters, digits and `_`, or any name in double quotes (`"user data"`).
    let part = |s: &str| -> Option<String> {
        let s = s.trim();
        match s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            Some(quoted) if !quoted.is_empty() && !quoted.contains('"') => Some(quoted.to_string()),
            Some(_) => None,
            None => (!s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_'))
                .then(|| s.to_string()),
        }
    };
    let table = match split_unquoted_dot(table.trim()) {
        Some((schema, name)) => format!("{}.{}", part(schema)?, part(name)?),
        None => part(table)?,
    };
    Some((table, part(column)?))
}

/// `schema.table` split at a dot outside double quotes.
fn split_unquoted_dot(text: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => return Some((&text[..i], &text[i + 1..])),
            _ => {}
        }
    }
    None
}
