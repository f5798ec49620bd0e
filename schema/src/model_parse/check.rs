//! The checks across fields and attributes, run once the table is built: what each
//! attribute promises is kept together with what the others say (serde's `check.rs` keeps
//! them the same way, apart from reading).

use std::collections::BTreeMap;

use proc_macro2::Span;
use syn::DeriveInput;

use super::attr::TableAttrs;
use super::ctxt::Ctxt;
use super::table::ModelField;
use crate::model::{Column, Table};

/// Every check of a built table.
pub(super) fn model(
    cx: &Ctxt,
    input: &DeriveInput,
    table_attrs: &TableAttrs,
    table: &Table,
    fields: &[ModelField],
) {
    check_expressions(cx, table_attrs, table);
    autoincrement(cx, input, table, fields);
    check_rename_hints(cx, table, fields);
    check_unique_names(cx, table, input.ident.span());
}

/// A check over a column that does not exist (a removed or renamed field) would fail at
/// upgrade; the expression's column names are checked against the columns now.
fn check_expressions(cx: &Ctxt, table_attrs: &TableAttrs, table: &Table) {
    let table_name = &table.name;
    for (check, parsed) in table_attrs.checks.iter().zip(&table.checks) {
        for name in crate::expr::column_names(&parsed.expression) {
            if table.column(&name).is_none() {
                let mut known: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
                known.sort();
                cx.error_spanned_by(&check.expr, format!("check `{}` mentions `{name}`, which is not a column of `{table_name}` (its columns: {}); write the expression over the columns as they are named now", parsed.name, known.join(", ")));
            }
        }
    }
}

/// `autoincrement` needs its column to be the table's only primary key column.
fn autoincrement(cx: &Ctxt, input: &DeriveInput, table: &Table, fields: &[ModelField]) {
    let autoincrement: Vec<&Column> = table.columns.iter().filter(|c| c.autoincrement).collect();
    for column in autoincrement {
        if table.primary_key != [column.name.clone()] {
            let span = fields
                .iter()
                .find(|f| f.column == column.name)
                .map(|f| f.ident.span())
                .unwrap_or(input.ident.span());
            cx.error_at(span, format!("`autoincrement` on `{}` needs it to be the table's only primary key column; add `primary_key` or remove `autoincrement`", column.name));
        }
    }
}

/// `renamed_from` must name a column that goes away: not the field's own name, not a column
/// that stays (unless that one is renamed too: a swap or a chain), not the same old column
/// twice.
fn check_rename_hints(cx: &Ctxt, table: &Table, fields: &[ModelField]) {
    let field_of = |column: &str| fields.iter().find(|f| f.column == column);
    let mut claimed: BTreeMap<&str, &str> = BTreeMap::new();
    for c in &table.columns {
        let Some(from) = c.renamed_from.as_deref() else {
            continue;
        };
        let Some(field) = field_of(&c.name) else {
            continue;
        };
        let span = field.ident.span();
        if from == c.name {
            cx.error_at(
                span,
                format!(
                    "`renamed_from = \"{from}\"` on `{}` names the column itself; remove it",
                    field.ident
                ),
            );
            continue;
        }
        if let Some(other) = table.columns.iter().find(|o| o.name == from) {
            if other.renamed_from.is_none() {
                let other_field = field_of(&other.name)
                    .map(|f| f.ident.to_string())
                    .unwrap_or_else(|| from.to_string());
                cx.error_at(span, format!(
                    "`renamed_from = \"{from}\"` on `{}`: column `{from}` is still a field (`{other_field}`) of `{}`, so nothing is renamed. Remove the hint, or rename `{other_field}` too (give it its own `renamed_from` to swap the names)",
                    field.ident, table.name
                ));
            }
        }
        if let Some(first) = claimed.insert(from, &c.name) {
            cx.error_at(span, format!(
                "`{first}` and `{}` are both `renamed_from = \"{from}\"`; one column can become only one column. Keep the hint on one of them",
                c.name
            ));
        }
    }
}

/// Index and constraint names share one namespace per table.
fn check_unique_names(cx: &Ctxt, table: &Table, span: Span) {
    let mut seen = BTreeMap::new();
    for name in table.constraint_names() {
        if seen.insert(name, ()).is_some() {
            cx.error_at(span, format!("two indexes or constraints of `{}` are named `{name}`; give one of them another `name = \"…\"`", table.name));
        }
    }
}
