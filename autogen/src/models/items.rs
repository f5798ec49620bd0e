//! One model as tokens: a `#[derive(DbEnum)]` enum, a `#[derive(Table)]` struct with its
//! `#[table(…)]` and `#[column(…)]` attributes, saying only what the derive would not derive.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use retort_schema::model::{Index, IndexKey};
use retort_schema::naming::Convention;
use retort_schema::{Column, ColumnType, ForeignKey, ReferentialAction, Schema, Table};

use super::names::{
    camel, field_ident, reference_part, reference_table, singular, unique_ident, EnumNames,
    NameForNaming,
};

pub(super) fn enum_item(ident: &str, sql: &str, values: &[String]) -> TokenStream {
    let ident = format_ident!("{}", ident);
    let type_attr = (retort_schema::naming::snake_case(&ident.to_string()) != sql)
        .then(|| quote!(#[db_enum(name = #sql)]));
    let mut used = BTreeSet::new();
    let variants = values.iter().map(|value| {
        let mut name = camel(value, "V");
        while !used.insert(name.clone()) {
            name.push('_');
        }
        let variant = format_ident!("{}", name);
        let explicit = (retort_schema::naming::snake_case(&name) != *value)
            .then(|| quote!(#[db_enum(name = #value)]));
        quote!(#explicit #variant,)
    });
    quote! {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, retort::DbEnum)]
        #type_attr
        pub enum #ident { #(#variants)* }
    }
}

/// The doc comment that reads back as `comment`, when one does (else `comment = "…"`).
fn comment_tokens(comment: &str) -> (TokenStream, Option<TokenStream>) {
    let as_doc = comment
        .split('\n')
        .map(|l| l.trim_end())
        .collect::<Vec<_>>()
        .join("\n");
    if as_doc.trim() == comment && !comment.contains('\r') {
        let lines = comment.split('\n').map(|l| format!(" {l}"));
        (quote!(#(#[doc = #lines])*), None)
    } else {
        (quote!(), Some(quote!(comment = #comment)))
    }
}

/// A field's Rust type for a column type, and the attribute that says the SQL type where
/// the Rust type does not.
fn rust_type(ty: &ColumnType, enum_name: Option<&str>) -> (TokenStream, Option<TokenStream>) {
    use ColumnType::*;
    let sql = |s: String| Some(quote!(sql_type = #s));
    match ty {
        SmallInt => (quote!(i16), None),
        Integer => (quote!(i32), None),
        BigInt => (quote!(i64), None),
        Real => (quote!(f32), None),
        Double => (quote!(f64), None),
        Boolean => (quote!(bool), None),
        Text => (quote!(String), None),
        Varchar { length } => {
            let length = proc_macro2::Literal::u32_unsuffixed(*length);
            (quote!(String), Some(quote!(max_length = #length)))
        }
        Char { .. } => (quote!(String), sql(ty.to_string())),
        Binary => (quote!(Vec<u8>), None),
        Date => (quote!(chrono::NaiveDate), None),
        Time => (quote!(chrono::NaiveTime), None),
        Timestamp => (quote!(chrono::NaiveDateTime), None),
        TimestampTz => (quote!(chrono::DateTime<chrono::Utc>), None),
        Uuid => (quote!(uuid::Uuid), None),
        Json => (quote!(serde_json::Value), None),
        Numeric {
            precision: None, ..
        } => (quote!(bigdecimal::BigDecimal), None),
        Numeric { .. } => (quote!(bigdecimal::BigDecimal), sql(ty.to_string())),
        Enum { .. } => {
            let ident = format_ident!("{}", enum_name.unwrap_or("Enum"));
            (quote!(#ident), None)
        }
        Custom { sql } => {
            // A list of a portable type reads as a `Vec` (diesel's `Array`); the exact SQL
            // spelling is kept either way.
            let elem = sql
                .strip_suffix("[]")
                .and_then(ColumnType::parse_portable)
                .filter(|e| !matches!(e, Custom { .. } | Binary | Enum { .. }));
            let rust = match elem {
                Some(e) => {
                    let (inner, _) = rust_type(&e, None);
                    quote!(Vec<#inner>)
                }
                None => quote!(String),
            };
            (rust, Some(quote!(custom_type = #sql)))
        }
    }
}

fn action(a: ReferentialAction) -> Option<String> {
    ReferentialAction::ALL
        .iter()
        .find(|(_, x)| *x == a && a != ReferentialAction::NoAction)
        .map(|(n, _)| n.to_string())
}

pub(super) fn struct_item(
    table: &Table,
    schema: &Schema,
    naming: Convention,
    enums: &EnumNames,
    idents: &mut BTreeSet<String>,
) -> Result<TokenStream, Vec<String>> {
    let mut problems = table_problems(table);
    let bare = table
        .name
        .split_once('.')
        .map_or(table.name.as_str(), |(_, t)| t);
    let struct_ident = format_ident!("{}", unique_ident(camel(&singular(bare), "T"), idents));
    let model = Model {
        table,
        schema,
        naming,
        enums,
        fields: field_idents(table),
        fk_of: column_foreign_keys(table, schema, &mut problems),
        unique_field: field_uniques(table, naming).0,
    };
    let table_attrs = model.table_attrs();
    let field_items: Vec<TokenStream> = table.columns.iter().map(|c| model.field(c)).collect();
    if !problems.is_empty() {
        return Err(problems);
    }
    let doc = match &table.comment {
        Some(c) => comment_tokens(c).0,
        None => quote!(),
    };
    Ok(quote! {
        #doc
        #[derive(Debug, Clone, retort::Table)]
        #[table(#(#table_attrs),*)]
        pub struct #struct_ident { #(#field_items)* }
    })
}

/// What a model cannot say about the table: no primary key, a blank comment (a model drops
/// one; refused rather than lost silently).
fn table_problems(table: &Table) -> Vec<String> {
    let mut problems = Vec::new();
    if table.primary_key.is_empty() {
        problems.push(format!(
            "table `{}` has no primary key, and a model needs one; add one to the table (ALTER TABLE … ADD PRIMARY KEY) and run this again",
            table.name
        ));
    }
    if table.comment.as_ref().is_some_and(|c| c.trim().is_empty()) {
        problems.push(format!(
            "table `{}` has a blank comment, which a model cannot keep; remove it (COMMENT ON TABLE … IS NULL) and run this again",
            table.name
        ));
    }
    for c in &table.columns {
        if c.comment.as_ref().is_some_and(|c| c.trim().is_empty()) {
            problems.push(format!(
                "column `{}.{}` has a blank comment, which a model cannot keep; remove it (COMMENT ON COLUMN … IS NULL) and run this again",
                table.name, c.name
            ));
        }
    }
    problems
}

/// Field identifiers by column name (and whether the field is named apart from its
/// column), for the keys that list columns; a column whose name is not an identifier gets
/// one that no other field has.
fn field_idents(table: &Table) -> BTreeMap<&str, (syn::Ident, bool)> {
    let mut taken = BTreeSet::new();
    let mut fields: BTreeMap<&str, (syn::Ident, bool)> = BTreeMap::new();
    for c in &table.columns {
        let (ident, renamed) = field_ident(&c.name);
        if !renamed {
            taken.insert(ident.to_string());
            fields.insert(c.name.as_str(), (ident, false));
        }
    }
    for c in &table.columns {
        if !fields.contains_key(c.name.as_str()) {
            let (ident, _) = field_ident(&c.name);
            let name = unique_ident(ident.to_string(), &mut taken);
            fields.insert(c.name.as_str(), (format_ident!("{}", name), true));
        }
    }
    fields
}

/// Foreign keys by their column: one column each, declared on the field; the others are
/// problems.
fn column_foreign_keys<'t>(
    table: &'t Table,
    schema: &Schema,
    problems: &mut Vec<String>,
) -> BTreeMap<&'t str, &'t ForeignKey> {
    let mut fk_of: BTreeMap<&str, &ForeignKey> = BTreeMap::new();
    for fk in &table.foreign_keys {
        if fk.columns.len() != 1 || fk.referred_columns.len() != 1 {
            problems.push(format!(
                "foreign key `{}` on `{}` ({}) spans several columns, which a model cannot declare yet; drop it or make it a single-column key, or keep that table out of the models",
                fk.name,
                table.name,
                fk.columns.join(", ")
            ));
        } else if fk_of.insert(fk.columns[0].as_str(), fk).is_some() {
            problems.push(format!(
                "column `{}.{}` has two foreign keys, and a model declares one per column; drop one of them",
                table.name, fk.columns[0]
            ));
        } else if let Some(problem) = key_type_mismatch(table, fk, schema) {
            problems.push(problem);
        }
    }
    fk_of
}

/// The columns whose single-column unique constraint (with the derived name) goes on the
/// field, and the constraints the table attribute declares.
fn field_uniques(
    table: &Table,
    naming: Convention,
) -> (BTreeSet<&str>, Vec<&retort_schema::model::UniqueConstraint>) {
    let mut unique_field: BTreeSet<&str> = BTreeSet::new();
    let mut table_uniques = Vec::new();
    for u in &table.uniques {
        let derived = naming.unique(&table.name_for_naming(), &u.columns);
        if u.columns.len() == 1
            && u.name == derived
            && !u.nulls_not_distinct
            && u.deferral.is_immediate()
            && unique_field.insert(u.columns[0].as_str())
        {
            continue;
        }
        table_uniques.push(u);
    }
    (unique_field, table_uniques)
}

/// One table read for its model: what the struct's attributes and fields are made from.
struct Model<'a> {
    table: &'a Table,
    schema: &'a Schema,
    naming: Convention,
    enums: &'a EnumNames,
    fields: BTreeMap<&'a str, (syn::Ident, bool)>,
    fk_of: BTreeMap<&'a str, &'a ForeignKey>,
    unique_field: BTreeSet<&'a str>,
}

impl Model<'_> {
    fn field_of(&self, column: &str) -> Option<syn::Ident> {
        self.fields.get(column).map(|(i, _)| i.clone())
    }

    /// The `#[table(…)]` attribute's parts.
    fn table_attrs(&self) -> Vec<TokenStream> {
        let (table, naming) = (self.table, self.naming);
        let field = |c: &str| self.field_of(c);
        let mut table_attrs: Vec<TokenStream> = Vec::new();
        let (schema_name, name) = match table.name.split_once('.') {
            Some((s, t)) => (Some(s), t),
            None => (None, table.name.as_str()),
        };
        table_attrs.push(quote!(name = #name));
        if let Some(s) = schema_name {
            table_attrs.push(quote!(schema = #s));
        }
        if let Some(c) = &table.comment {
            table_attrs.extend(comment_tokens(c).1);
        }
        if table.primary_key.len() > 1 {
            let cols = table.primary_key.iter().filter_map(|c| field(c));
            table_attrs.push(quote!(primary_key(#(#cols),*)));
        }
        // A key the database keeps no name for (SQLite's rowid key) reads back as "".
        if !table.primary_key.is_empty() && table.primary_key_name.as_deref() != Some("") {
            let derived = naming.primary_key(&table.name_for_naming());
            let actual = table.primary_key_constraint();
            if actual != derived {
                table_attrs.push(quote!(primary_key_name = #actual));
            }
        }
        for u in field_uniques(table, naming).1 {
            let cols = u.columns.iter().filter_map(|c| field(c));
            let mut parts = vec![quote!(#(#cols),*)];
            if u.name != naming.unique(&table.name_for_naming(), &u.columns) {
                let n = &u.name;
                parts.push(quote!(name = #n));
            }
            if u.nulls_not_distinct {
                parts.push(quote!(nulls_not_distinct));
            }
            if let Some(d) = u.deferral.deferrable() {
                parts.push(quote!(deferrable = #d));
            }
            table_attrs.push(quote!(unique(#(#parts),*)));
        }
        for index in &table.indexes {
            table_attrs.push(index_attr(index, table, naming, &field));
        }
        for check in &table.checks {
            let (n, e) = (&check.name, &check.expression);
            let flag = check.not_valid.then(|| quote!(, not_valid));
            table_attrs.push(quote!(check(name = #n, expr = #e #flag)));
        }
        table_attrs
    }

    /// One column's field, with its `#[column(…)]` attribute.
    fn field(&self, c: &Column) -> TokenStream {
        let (table, schema, enums) = (self.table, self.schema, self.enums);
        let (ident, renamed) = &self.fields[c.name.as_str()];
        // PostgreSQL reads an enum column as its type's name: the enum the models declare.
        let column_type = match &c.ty {
            ColumnType::Custom { sql } if schema.enums.contains_key(sql) => ColumnType::Enum {
                name: sql.clone(),
                values: schema.enums[sql].values.clone(),
            },
            other => other.clone(),
        };
        let enum_ident = match &column_type {
            ColumnType::Enum { name, .. } if !name.is_empty() => enums.idents.get(name).cloned(),
            _ => enums
                .of(&table.name, c)
                .and_then(|n| enums.idents.get(&n).cloned()),
        };
        let (ty, type_attr) = rust_type(&column_type, enum_ident.as_deref());
        let mut attrs: Vec<TokenStream> = Vec::new();
        if *renamed {
            let n = &c.name;
            attrs.push(quote!(name = #n));
        }
        if table.primary_key.len() == 1 && table.primary_key[0] == c.name {
            attrs.push(quote!(primary_key));
        }
        if c.autoincrement {
            attrs.push(if c.identity_always {
                quote!(autoincrement = "always")
            } else {
                quote!(autoincrement)
            });
        }
        if self.unique_field.contains(c.name.as_str()) {
            attrs.push(quote!(unique));
        }
        attrs.extend(type_attr);
        if let Some(d) = &c.server_default {
            attrs.push(quote!(server_default = #d));
        }
        if let Some(fk) = self.fk_of.get(c.name.as_str()) {
            attrs.extend(self.reference_attrs(fk));
        }
        let (field_doc, comment_attr) = match &c.comment {
            Some(text) => comment_tokens(text),
            None => (quote!(), None),
        };
        attrs.extend(comment_attr);
        let column_attr = (!attrs.is_empty()).then(|| quote!(#[column(#(#attrs),*)]));
        let ty = if c.nullable { quote!(Option<#ty>) } else { ty };
        quote! { #field_doc #column_attr pub #ident: #ty, }
    }

    /// A single-column foreign key as the field's `references = …` and what goes with it.
    fn reference_attrs(&self, fk: &ForeignKey) -> Vec<TokenStream> {
        let reference = format!(
            "{}({})",
            reference_table(&fk.referred_table),
            reference_part(&fk.referred_columns[0])
        );
        let mut attrs = vec![quote!(references = #reference)];
        if let Some(a) = action(fk.on_delete) {
            attrs.push(quote!(on_delete = #a));
        }
        if let Some(a) = action(fk.on_update) {
            attrs.push(quote!(on_update = #a));
        }
        let derived = self.naming.foreign_key(
            &self.table.name_for_naming(),
            &fk.columns,
            &fk.referred_table,
        );
        if fk.name != derived {
            let n = &fk.name;
            attrs.push(quote!(fk_name = #n));
        }
        if let Some(d) = fk.deferral.deferrable() {
            attrs.push(quote!(deferrable = #d));
        }
        if fk.not_valid {
            attrs.push(quote!(not_valid));
        }
        attrs
    }
}

fn index_attr(
    index: &Index,
    table: &Table,
    naming: Convention,
    field: &dyn Fn(&str) -> Option<syn::Ident>,
) -> TokenStream {
    let mut parts: Vec<TokenStream> = index.keys.iter().map(|k| key_tokens(k, field)).collect();
    let derived = index
        .plain_columns()
        .map(|cols| naming.index(&table.name_for_naming(), &cols));
    if derived.as_deref() != Some(index.name.as_str()) {
        let n = &index.name;
        parts.push(quote!(name = #n));
    }
    if index.unique {
        parts.push(quote!(unique));
    }
    if let Some(m) = &index.method {
        parts.push(quote!(using = #m));
    }
    if let Some(p) = &index.predicate {
        parts.push(quote!(where = #p));
    }
    if !index.include.is_empty() {
        let cols = index.include.iter().map(|c| {
            field(c).unwrap_or_else(|| {
                format_ident!("{}", c.replace(|x: char| !x.is_ascii_alphanumeric(), "_"))
            })
        });
        parts.push(quote!(include(#(#cols),*)));
    }
    if !index.with.is_empty() {
        let w = index.with_sql();
        parts.push(quote!(with = #w));
    }
    if index.nulls_not_distinct {
        parts.push(quote!(nulls_not_distinct));
    }
    quote!(index(#(#parts),*))
}

/// A key as a column identifier (with its order) where it is one, else its SQL text.
fn key_tokens(key: &IndexKey, field: &dyn Fn(&str) -> Option<syn::Ident>) -> TokenStream {
    // A key with an order reads better as its SQL (`"created_at DESC"`) than as words a
    // formatter may break across lines.
    if key.is_plain() {
        if let Some(ident) = field(&key.target) {
            return quote!(#ident);
        }
    }
    let text = key.to_string();
    quote!(#text)
}

/// A foreign key whose column and referenced column differ in type (the database allowed
/// it; a model refuses it, since such a key does not match on every database).
fn key_type_mismatch(table: &Table, fk: &ForeignKey, schema: &Schema) -> Option<String> {
    let column = table.column(&fk.columns[0])?;
    let referred = schema
        .tables
        .get(&fk.referred_table)?
        .column(&fk.referred_columns[0])?;
    (column.ty != referred.ty).then(|| {
        format!(
            "foreign key `{}`: `{}.{}` is {} but `{}.{}`, which it references, is {}; a model keeps a key and its reference in one type. Change one of the columns to the other's type (ALTER TABLE … ALTER COLUMN / MODIFY), then run this again",
            fk.name,
            table.name,
            column.name,
            column.ty,
            fk.referred_table,
            referred.name,
            referred.ty
        )
    })
}
