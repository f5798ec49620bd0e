//! Builds a [`Table`] from a struct and checks what the attributes promise.

use std::collections::{BTreeMap, HashMap};

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields, Ident, LitStr};

use super::attr;
use super::check;
use super::column::{column, foreign_key};
use super::ctxt::Ctxt;
use super::index_attr::Kind;
use super::indexes::{build_index, deferral};
use super::types;
use crate::model::{CheckConstraint, ColumnType, Deferral, Index, Table, UniqueConstraint};
use crate::naming;

/// A model struct read into the schema model, with what the derive needs to emit code.
#[derive(Debug, Clone)]
pub struct Model {
    /// The struct's name.
    pub ident: Ident,
    /// The table it describes.
    pub table: Table,
    /// The fields that are columns (not `skip`ped), in declaration order.
    pub fields: Vec<ModelField>,
}

/// One field that maps to a column.
#[derive(Clone)]
pub struct ModelField {
    /// The Rust field name.
    pub ident: Ident,
    /// The SQL column name.
    pub column: String,
    /// An explicit diesel SQL type path (`diesel_type = "…"`), if given.
    pub diesel_type: Option<syn::Path>,
    /// The Rust type of a field of a `#[derive(DbEnum)]` enum type, as written; its
    /// column's type is [`ColumnType::Enum`] with the name and values still empty until the
    /// build script finds the enum (the derive asks the compiler).
    pub enum_type: Option<syn::Path>,
    /// A list whose elements may be NULL (`Vec<Option<T>>`): diesel's `Array<Nullable<T>>`.
    pub nullable_elements: bool,
}

// By hand: syn's own Debug impls need its `extra-traits` feature, which would make every
// crate that builds syn (diesel's derives too) compile a good deal more.
impl std::fmt::Debug for ModelField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelField")
            .field("ident", &self.ident)
            .field("column", &self.column)
            .field(
                "diesel_type",
                &self
                    .diesel_type
                    .as_ref()
                    .map(|p| quote::ToTokens::to_token_stream(p).to_string()),
            )
            .field(
                "enum_type",
                &self
                    .enum_type
                    .as_ref()
                    .map(|p| quote::ToTokens::to_token_stream(p).to_string()),
            )
            .field("nullable_elements", &self.nullable_elements)
            .finish()
    }
}

/// Reads a `#[derive(Table)]` input into a [`Model`].
///
/// Every problem is reported, each spanned at the offending token; the error
/// combines them all.
///
/// ```
/// let input: syn::DeriveInput = syn::parse_quote! {
///     /// Things to do.
///     struct Task {
///         #[column(primary_key, autoincrement)]
///         id: i64,
///         #[column(max_length = 36, unique)]
///         uuid: String,
///     }
/// };
/// let model = retort_schema::parse_model(&input).unwrap();
/// assert_eq!(model.table.name, "tasks");
/// assert_eq!(model.table.comment.as_deref(), Some("Things to do."));
/// assert_eq!(model.table.uniques[0].name, "uq_tasks_uuid");
/// ```
pub fn parse_model(input: &DeriveInput) -> Result<Model, syn::Error> {
    parse_model_with(input, naming::Convention::default())
}

/// [`parse_model`] under an app's naming convention for derived names.
///
/// ```
/// use retort_schema::naming::Convention;
/// let input: syn::DeriveInput = syn::parse_quote! {
///     #[table(name = "comment")]
///     struct Comment {
///         #[column(primary_key)]
///         id: i32,
///         #[column(references = "post(id)", index)]
///         post_id: i32,
///     }
/// };
/// let t = retort_schema::parse_model_with(&input, Convention::Postgres).unwrap().table;
/// assert_eq!(t.primary_key_constraint(), "comment_pkey");
/// assert_eq!(t.foreign_keys[0].name, "comment_post_id_fkey");
/// assert_eq!(t.indexes[0].name, "comment_post_id_idx");
/// ```
pub fn parse_model_with(
    input: &DeriveInput,
    convention: naming::Convention,
) -> Result<Model, syn::Error> {
    let (model, errors) = parse_model_partial(input, convention);
    errors?;
    model.ok_or_else(|| syn::Error::new(input.ident.span(), "model could not be read"))
}

/// [`parse_model_with`] that also gives what it could read when an attribute is wrong:
/// the model as far as the mistakes allow (a wrong attribute is left out), beside the
/// errors. The derive uses it to emit diesel's `table!` module next to its errors, so code
/// that uses the table gets no follow-on errors.
pub fn parse_model_partial(
    input: &DeriveInput,
    convention: naming::Convention,
) -> (Option<Model>, Result<(), syn::Error>) {
    let cx = Ctxt::new(convention);
    *cx.generics.borrow_mut() = input
        .generics
        .type_params()
        .map(|p| p.ident.to_string())
        .collect();
    let model = build(&cx, input);
    (model, cx.check())
}

fn build(cx: &Ctxt, input: &DeriveInput) -> Option<Model> {
    let named = named_fields(cx, input);
    let table_attrs = attr::table_attrs(cx, &input.attrs);
    let mut table = table_head(cx, input, &table_attrs);
    let named = named?;
    let read = read_fields(cx, named, &mut table);
    table_level(cx, input, &table_attrs, &read, &mut table);
    check::model(cx, input, &table_attrs, &table, &read.fields);
    table.normalize();
    Some(Model {
        ident: input.ident.clone(),
        table,
        fields: read.fields,
    })
}

/// The struct's named fields; anything else is refused.
fn named_fields<'a>(cx: &Ctxt, input: &'a DeriveInput) -> Option<&'a syn::FieldsNamed> {
    let named = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => Some(named),
            Fields::Unnamed(f) => {
                cx.error_spanned_by(f, "#[derive(Table)] needs named fields, one per column: write `struct Task { id: i64, … }` instead of a tuple struct");
                None
            }
            Fields::Unit => {
                cx.error_at(input.ident.span(), "#[derive(Table)] needs named fields, one per column: a unit struct has no columns");
                None
            }
        },
        Data::Enum(e) => {
            cx.error_at(e.enum_token.span, "#[derive(Table)] works on structs only: an enum cannot be a table; to store it in a column, derive retort::DbEnum on it and give a struct model a field of its type");
            None
        }
        Data::Union(u) => {
            cx.error_at(
                u.union_token.span,
                "#[derive(Table)] works on structs only, not unions",
            );
            None
        }
    };
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(&input.generics, "a table model cannot be generic: its columns must have concrete types; remove the type parameters");
    }
    named
}

/// The table as `#[table(…)]` names and describes it, before its columns.
fn table_head(cx: &Ctxt, input: &DeriveInput, table_attrs: &attr::TableAttrs) -> Table {
    let table_name = match table_attrs.name.get() {
        Some(lit) => checked_name(cx, lit, "table name"),
        None => naming::default_table_name(&input.ident.to_string()),
    };
    // A table in another PostgreSQL schema is named `schema.table` everywhere.
    let table_name = match table_attrs.schema.get() {
        Some(lit) => {
            let schema = checked_name(cx, lit, "schema name");
            for (what, name, span) in [
                ("schema", &schema, lit.span()),
                (
                    "table name",
                    &table_name,
                    table_attrs.name.span().unwrap_or(lit.span()),
                ),
            ] {
                if name.contains('.') {
                    cx.error_at(span, format!("{what} `{name}` holds a `.`; give the schema with `schema = \"…\"` and the table's own name with `name = \"…\"`"));
                }
            }
            format!("{schema}.{table_name}")
        }
        None => table_name,
    };
    if table_name == naming::VERSION_TABLE
        || table_name == naming::LOCK_TABLE
        || table_name.starts_with("_retort_")
    {
        let span = table_attrs
            .name
            .span()
            .unwrap_or_else(|| input.ident.span());
        cx.error_at(span, format!("table name `{table_name}` is retort's own (its version table, its cluster lock table, or the temporary names of table rebuilds); choose another with #[table(name = \"…\")]"));
    }
    let mut table = Table::new(table_name.clone());
    table.renamed_from = table_attrs
        .renamed_from
        .get()
        .map(|l| checked_name(cx, l, "previous table name"));
    if let Some(lit) = table_attrs.renamed_from.get() {
        if lit.value() == table_name {
            cx.error_spanned_by(
                lit,
                format!("`renamed_from = \"{table_name}\"` names the table itself; remove it"),
            );
        }
    }
    table.comment = match table_attrs.comment.get() {
        Some(lit) => Some(lit.value()).filter(|c| !c.trim().is_empty()),
        None => attr::doc_comment(&input.attrs),
    };
    table
}

/// The fields read into columns, with what the table-level lists need to resolve names.
struct ReadFields {
    fields: Vec<ModelField>,
    /// Rust field name and SQL name → SQL name.
    lookup: HashMap<String, String>,
    /// Columns marked `primary_key`, with where.
    pk_columns: Vec<(String, Span)>,
}

/// Every field read into a column (with its single-column index, unique and foreign key).
fn read_fields(cx: &Ctxt, named: &syn::FieldsNamed, table: &mut Table) -> ReadFields {
    let table_name = table.name.clone();
    let mut fields = Vec::new();
    // Rust field name and SQL name → SQL name, to resolve table-level column lists.
    let mut lookup: HashMap<String, String> = HashMap::new();
    let mut seen: BTreeMap<String, Span> = BTreeMap::new();
    let mut pk_columns: Vec<(String, Span)> = Vec::new();
    for field in &named.named {
        let Some(ident) = field.ident.clone() else {
            continue;
        };
        let attrs = attr::column_attrs(cx, &field.attrs);
        if attrs.skip.is_set() {
            for (key, span) in attrs.given_besides_skip() {
                cx.error_at(
                    span,
                    format!(
                        "`{key}` has no effect on a `skip`ped field; remove it or remove `skip`"
                    ),
                );
            }
            continue;
        }
        let field_name = ident.unraw().to_string();
        let column_name = match attrs.name.get() {
            Some(lit) => checked_name(cx, lit, "column name"),
            None => {
                if let Err(problem) = naming::check_identifier(&field_name) {
                    cx.error_at(ident.span(), format!("column name `{field_name}` {problem}; set a shorter one with #[column(name = \"…\")]"));
                }
                field_name.clone()
            }
        };
        let name_span = attrs.name.span().unwrap_or(ident.span());
        if let Some(_first) = seen.get(&column_name) {
            cx.error_at(name_span, format!("two fields map to column `{column_name}` of table `{table_name}`; give one of them another name with #[column(name = \"…\")]"));
        } else {
            seen.insert(column_name.clone(), name_span);
        }
        lookup.insert(field_name, column_name.clone());
        lookup.insert(column_name.clone(), column_name.clone());

        let column = column(
            cx,
            &table_name,
            &ident,
            &field.ty,
            &column_name,
            &attrs,
            &field.attrs,
        );
        if attrs.primary_key.is_set() {
            pk_columns.push((
                column_name.clone(),
                attrs.primary_key.span().unwrap_or(ident.span()),
            ));
            if column.nullable {
                cx.error_spanned_by(&field.ty, format!("primary key column `{column_name}` cannot be nullable; use the plain type instead of Option<…>"));
            }
        }
        let single = vec![column_name.clone()];
        if attrs.unique.is_set() {
            table.uniques.push(UniqueConstraint::new(
                cx.naming.unique(&table_name, &single),
                single.clone(),
            ));
        }
        if let Some(index) = attrs.index.get() {
            let name = match index {
                Some(lit) => checked_name(cx, lit, "index name"),
                None => cx.naming.index(&table_name, &single),
            };
            table
                .indexes
                .push(Index::on_columns(name, single.clone(), false));
        }
        if let Some(fk) = foreign_key(cx, &table_name, &column_name, &attrs) {
            table.foreign_keys.push(fk);
        }
        let diesel_type = attrs
            .diesel_type
            .get()
            .and_then(|lit| match lit.parse::<syn::Path>() {
                Ok(path) => Some(path),
                Err(_) => {
                    cx.error_spanned_by(
                        lit,
                        "`diesel_type` must be a type path, like \"diesel::sql_types::Text\"",
                    );
                    None
                }
            })
            .or_else(|| types::portable_diesel_type(&field.ty));
        let enum_type = match &column.ty {
            ColumnType::Enum { name, .. } if name.is_empty() => {
                types::enum_candidate(&field.ty).cloned()
            }
            _ => None,
        };
        table.columns.push(column);
        fields.push(ModelField {
            ident,
            column: column_name,
            diesel_type,
            enum_type,
            nullable_elements: types::has_nullable_elements(&field.ty),
        });
    }

    ReadFields {
        fields,
        lookup,
        pk_columns,
    }
}

/// Table-level lists (indexes, unique constraints, checks, the primary key), whose
/// columns are named by field or SQL name.
fn table_level(
    cx: &Ctxt,
    input: &DeriveInput,
    table_attrs: &attr::TableAttrs,
    read: &ReadFields,
    table: &mut Table,
) {
    let table_name = table.name.clone();
    let lookup = &read.lookup;
    let pk_columns = &read.pk_columns;
    let known_columns: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
    let resolve = |cols: &[Ident], what: &str| -> Option<Vec<String>> {
        let mut out = Vec::new();
        for c in cols {
            let key = c.unraw().to_string();
            match lookup.get(&key) {
                Some(sql) => out.push(sql.clone()),
                None => {
                    let mut known: Vec<&String> = known_columns.iter().collect();
                    known.sort();
                    let known: Vec<String> = known.into_iter().map(|k| format!("`{k}`")).collect();
                    cx.error_at(c.span(), format!("{what} names `{key}`, which is not a column of `{table_name}`; its columns are {}", known.join(", ")));
                    return None;
                }
            }
        }
        Some(out)
    };
    // `index(…)` and `unique(…)` in the order written: one reader, one builder.
    for list in &table_attrs.indexes {
        let Some(i) = build_index(cx, &table_name, list, &resolve) else {
            continue;
        };
        match list.kind {
            Kind::Index => table.indexes.push(i),
            Kind::Unique => {
                let columns: Vec<String> = i.column_names().into_iter().map(String::from).collect();
                let mut u = UniqueConstraint::new(i.name, columns);
                u.nulls_not_distinct = i.nulls_not_distinct;
                u.deferral = list
                    .deferrable
                    .as_ref()
                    .map_or(Deferral::Immediate, |lit| deferral(cx, lit));
                table.uniques.push(u);
            }
        }
    }
    for check in &table_attrs.checks {
        let name = checked_name(cx, &check.name, "check constraint name");
        let expression = check.expr.value();
        if expression.trim().is_empty() {
            cx.error_spanned_by(
                &check.expr,
                "check expression is empty: write the SQL condition, like \"amount > 0\"",
            );
        }
        table.checks.push(CheckConstraint {
            name,
            expression,
            not_valid: check.not_valid,
        });
    }
    match (table_attrs.primary_key.get(), pk_columns.is_empty()) {
        (Some(_), false) => {
            cx.error_at(
                table_attrs.primary_key.span().unwrap_or(input.ident.span()),
                "primary key given twice: on the table and with #[column(primary_key)]; keep one",
            );
        }
        (Some(cols), true) => {
            if cols.is_empty() {
                cx.error_at(
                    table_attrs.primary_key.span().unwrap_or(input.ident.span()),
                    "`primary_key(…)` lists no columns",
                );
            } else if let Some(columns) = resolve(cols, "primary key") {
                for c in &columns {
                    if table.column(c).is_some_and(|c| c.nullable) {
                        cx.error_at(table_attrs.primary_key.span().unwrap_or(input.ident.span()), format!("primary key column `{c}` cannot be nullable; use the plain type instead of Option<…>"));
                    }
                }
                table.primary_key = columns;
            }
        }
        (None, false) => table.primary_key = pk_columns.iter().map(|(c, _)| c.clone()).collect(),
        (None, true) => {
            if !cx.has_errors() || !table.columns.is_empty() {
                cx.error_at(input.ident.span(), format!("table `{table_name}` has no primary key; mark its key with #[column(primary_key)] or list a composite key with #[table(primary_key(a, b))]"));
            }
        }
    }
    let pk_name = match table_attrs.primary_key_name.get() {
        Some(lit) => checked_name(cx, lit, "primary key name"),
        None => cx.naming.primary_key(&table_name),
    };
    table.set_primary_key_name(&pk_name);
}

/// A name from a string literal, checked for length and characters.
pub(super) fn checked_name(cx: &Ctxt, lit: &LitStr, what: &str) -> String {
    let value = lit.value();
    if let Err(problem) = naming::check_identifier(&value) {
        cx.error_spanned_by(
            lit,
            format!(
                "{what} `{value}` {problem}; choose a name of 1 to {} bytes",
                naming::MAX_IDENTIFIER_BYTES
            ),
        );
    }
    value
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
