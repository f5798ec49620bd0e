//! Models from a schema: the `#[derive(Table)]` structs (and `#[derive(DbEnum)]` enums) that
//! say what a schema read from a live database says, so an app that has a database but no
//! models starts from there instead of writing every struct by hand.
//!
//! What the derive would derive anyway is left out: a name that the crate's naming convention
//! gives (`pk_<table>`, `ix_<table>_<cols>`, …), a field named as its column, a type that the
//! field's Rust type says. Everything else is written out, so parsing the file gives back the
//! schema it was written from (`tests/models_from_database.rs` proves it for every schema the
//! property suites make and for the fixture app's).
//!
//! ```
//! use retort_schema::{Column, ColumnType, Schema, Table};
//! use retort_schema::naming::Convention;
//!
//! let mut t = Table::new("tasks");
//! t.columns.push(Column::new("id", ColumnType::BigInt));
//! t.primary_key = vec!["id".into()];
//! let source =
//!     retort_build::models::source(&Schema::from_tables([t]), Convention::Retort, None).unwrap();
//! assert!(source.contains("pub struct Task {"));
//! assert!(source.contains("pub id: i64,"));
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use retort_schema::model::{Index, IndexKey};
use retort_schema::naming::Convention;
use retort_schema::sql::{Catalog, Dialect};
use retort_schema::{Column, ColumnType, ForeignKey, ReferentialAction, Schema, Table};

use crate::settings::{Mode, Settings};
use crate::{discover, snapshot, validate, Error};

/// What [`init`] wrote.
#[derive(Debug)]
pub struct Init {
    /// The models file, the first migration and the snapshot.
    pub written: Vec<PathBuf>,
    /// The models' source (also in the first of `written`).
    pub source: String,
    /// Objects in the database (views, functions, triggers, …) that were not written: the
    /// catalog does not keep every definition as given. Each belongs in `sql/` as its
    /// `CREATE` statement.
    pub objects_left: Vec<String>,
    /// Whether the crate root reaches the models file through its `mod` declarations (the
    /// build reads the models from there; else the app must add `mod …;`).
    pub reached_from_root: bool,
}

/// Starts a crate's models and history from a live schema: writes `models_file` (relative
/// to `manifest_dir`), then the first migration and the snapshot as the build would, so the
/// next `cargo build` writes nothing. `out_dir` takes the build's index (any scratch folder).
///
/// Refuses, writing nothing, when the crate already has the models file or migrations, when
/// the schema holds what a model cannot declare, or when the models would not read back as
/// exactly the live schema under `catalog` (the database's own spelling of types and
/// defaults).
pub fn init(
    manifest_dir: &Path,
    live: &Schema,
    catalog: &Catalog,
    models_file: &Path,
    migrations_dir: &Path,
    out_dir: &Path,
    now: u64,
) -> Result<Init, Error> {
    let target = manifest_dir.join(models_file);
    if target.exists() {
        return Err(Error::Unexpressible {
            problems: vec![format!(
                "{} already exists; choose another file with --models, or move it aside",
                target.display()
            )],
        });
    }
    let dir = manifest_dir.join(migrations_dir);
    let history = crate::history::History::load(&dir)?;
    if !history.entries.is_empty() || dir.join("schema.json").exists() {
        return Err(Error::Unexpressible {
            problems: vec![format!(
                "{} already holds a history; models are written from a database only for a crate that starts without one (to take over a database another tool made, see `db adopt --from`)",
                dir.display()
            )],
        });
    }
    let naming = discover::naming_of(manifest_dir)?;
    let mut tables = live.clone();
    let objects_left: Vec<String> = tables
        .objects
        .values()
        .map(|o| format!("{} {}", o.kind.word(), o.name))
        .collect();
    tables.objects.clear();
    let source = source(&tables, naming, Some(catalog))?;

    // Read the source back as the build will before writing anything.
    let sources = discover::scan_text(&source, &target, naming)?;
    let read = checked(&sources, &[catalog.dialect])?;
    let differences = retort_schema::compare::differences(&read, &tables, catalog);
    if !differences.is_empty() {
        return Err(Error::Unexpressible {
            problems: differences
                .into_iter()
                .map(|d| {
                    format!(
                        "the models would not say what the database holds: {d}; please report it"
                    )
                })
                .collect(),
        });
    }

    snapshot::write_all(&[(target.clone(), source.clone())])?;
    let settings = Settings {
        mode: Mode::Write,
        message: Some("initial".into()),
        now,
        migrations_dir: migrations_dir.to_path_buf(),
        model_files: vec![models_file.to_path_buf()],
        backends: vec![catalog.dialect],
        strict_locks: false,
        online_ddl: true,
    };
    let report = match crate::generate_in(manifest_dir, out_dir, &settings) {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&target);
            return Err(e);
        }
    };
    let reached_from_root = discover::scan_crate(manifest_dir)
        .map(|s| s.files.iter().any(|f| same_file(f, &target)))
        .unwrap_or(false);
    let mut written = vec![target];
    written.extend(report.written);
    Ok(Init {
        written,
        source,
        objects_left,
        reached_from_root,
    })
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The schema the models in `file` (relative to `manifest_dir`, with the modules it
/// declares) say, read as the build reads them, checked against `backends`.
pub fn schema_of(manifest_dir: &Path, file: &Path, backends: &[Dialect]) -> Result<Schema, Error> {
    let sources = discover::scan_files(manifest_dir, &[file.to_path_buf()])?;
    checked(&sources, backends)
}

/// [`schema_of`] for the models `source` holds, under `naming`.
pub fn schema_of_source(
    source: &str,
    naming: Convention,
    backends: &[Dialect],
) -> Result<Schema, Error> {
    checked(
        &discover::scan_text(source, Path::new("models.rs"), naming)?,
        backends,
    )
}

fn checked(sources: &discover::Sources, backends: &[Dialect]) -> Result<Schema, Error> {
    if let Some(refused) = sources.refused.first() {
        return Err(Error::Model {
            location: refused.file.display().to_string(),
            message: format!("{}: {}", refused.ident, refused.message),
        });
    }
    validate::models_schema(sources, backends)
}

/// The source of a models file for `schema`, formatted: enums first, then one struct per
/// table in name order. `catalog` is the database's the schema was read from, if any (its
/// expressions are respelled as a model writes them). Refuses (naming the object and what
/// to do) what a model cannot say.
pub fn source(
    schema: &Schema,
    naming: Convention,
    catalog: Option<&Catalog>,
) -> Result<String, Error> {
    let respelled;
    let schema = match catalog {
        Some(c) => {
            respelled = model_spelled(schema, c);
            &respelled
        }
        None => schema,
    };
    let mut problems = Vec::new();
    let enums = EnumNames::new(schema);
    let mut items = Vec::new();
    let mut idents = BTreeSet::new();
    let mut enum_idents = BTreeMap::new();
    for (name, values) in &enums.declared {
        let ident = unique_ident(camel(name, "Enum"), &mut idents);
        items.push(enum_item(&ident, name, values));
        enum_idents.insert(name.clone(), ident);
    }
    let enums = EnumNames {
        idents: enum_idents,
        ..enums
    };
    for table in schema.tables.values() {
        match struct_item(table, schema, naming, &enums, &mut idents) {
            Ok(item) => items.push(item),
            Err(mut p) => problems.append(&mut p),
        }
    }
    if !problems.is_empty() {
        return Err(Error::Unexpressible { problems });
    }
    let mut out = String::from(HEADER);
    for (n, item) in items.into_iter().enumerate() {
        let file: syn::File = syn::parse2(item).map_err(|e| Error::Unexpressible {
            problems: vec![format!(
                "the models did not form valid Rust ({e}); please report it"
            )],
        })?;
        if n > 0 {
            out.push('\n');
        }
        out.push_str(&prettyplease::unparse(&file));
    }
    Ok(out)
}

/// `schema` with every expression in the spelling a model reads (see
/// [`Catalog::model_spelling`]).
fn model_spelled(schema: &Schema, catalog: &Catalog) -> Schema {
    // Catalogs wrap a whole condition in parentheses (PostgreSQL twice): not needed in a model.
    let bare = |text: &str| {
        let mut t = text.trim();
        while let Some(inner) = retort_schema::expr::unwrap_parens(t) {
            t = inner;
        }
        catalog.model_spelling(t)
    };
    let mut s = schema.clone();
    for t in s.tables.values_mut() {
        for c in &mut t.checks {
            c.expression = bare(&c.expression);
        }
        for i in &mut t.indexes {
            i.predicate = i.predicate.as_deref().map(bare);
            for k in i.keys.iter_mut().filter(|k| k.expression) {
                k.target = catalog.model_spelling(&k.target);
            }
        }
    }
    s
}

const HEADER: &str = "//! The database's tables as retort models, written from the live schema.
//!
//! Columns of a database's own type (`custom_type`) are `String` fields and are left out of
//! the diesel `table!` the derive writes: give each its Rust type and `diesel_type` to use it.

#![allow(clippy::duplicated_attributes)]

";

/// The enum types the models declare: a PostgreSQL type under its name, an enum that lives
/// in a column (MySQL, where a name is not kept) under `<table>_<column>`.
struct EnumNames {
    /// SQL name → values.
    declared: BTreeMap<String, Vec<String>>,
    /// (table, column) → SQL name, for the columns of an unnamed enum.
    inline: BTreeMap<(String, String), String>,
    /// SQL name → the Rust enum's identifier.
    idents: BTreeMap<String, String>,
}

impl EnumNames {
    fn new(schema: &Schema) -> Self {
        let mut declared: BTreeMap<String, Vec<String>> = schema
            .enums
            .iter()
            .map(|(n, e)| (n.clone(), e.values.clone()))
            .collect();
        let mut inline = BTreeMap::new();
        for t in schema.tables.values() {
            for c in &t.columns {
                if let ColumnType::Enum { name, values } = &c.ty {
                    if name.is_empty() {
                        // Columns of the same values share one enum (a key and its
                        // reference must have the same type).
                        if let Some((same, _)) = declared.iter().find(|(_, v)| *v == values) {
                            inline.insert((t.name.clone(), c.name.clone()), same.clone());
                            continue;
                        }
                        let mut sql = retort_schema::naming::snake_case(&format!(
                            "{}_{}",
                            t.name.replace('.', "_"),
                            c.name
                        ));
                        while declared.get(&sql).is_some_and(|v| v != values) {
                            sql.push('_');
                        }
                        declared.insert(sql.clone(), values.clone());
                        inline.insert((t.name.clone(), c.name.clone()), sql);
                    } else {
                        declared
                            .entry(name.clone())
                            .or_insert_with(|| values.clone());
                    }
                }
            }
        }
        EnumNames {
            declared,
            inline,
            idents: BTreeMap::new(),
        }
    }

    fn of(&self, table: &str, column: &Column) -> Option<String> {
        match &column.ty {
            ColumnType::Enum { name, .. } if name.is_empty() => self
                .inline
                .get(&(table.to_string(), column.name.clone()))
                .cloned(),
            ColumnType::Enum { name, .. } => Some(name.clone()),
            _ => None,
        }
    }
}

/// `post_status` → `PostStatus`; a name that does not start with a letter gets a prefix.
fn camel(name: &str, prefix: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for ch in name.chars() {
        if ch.is_ascii_alphanumeric() {
            if upper {
                out.extend(ch.to_uppercase());
            } else {
                out.push(ch);
            }
            upper = ch.is_ascii_digit();
        } else {
            upper = true;
        }
    }
    if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert_str(0, prefix);
    }
    // `Self` and other keywords.
    if syn::parse_str::<syn::Ident>(&out).is_err() {
        out.push('_');
    }
    out
}

/// `wanted`, or with `_` added until no other item has it.
fn unique_ident(mut wanted: String, taken: &mut BTreeSet<String>) -> String {
    while !taken.insert(wanted.clone()) {
        wanted.push('_');
    }
    wanted
}

fn enum_item(ident: &str, sql: &str, values: &[String]) -> TokenStream {
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

/// A field's identifier for a column: its name when that is one (a keyword gets a `_`).
fn field_ident(column: &str) -> (syn::Ident, bool) {
    let plain = column
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && column.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && column != "_";
    if plain && syn::parse_str::<syn::Ident>(column).is_ok() {
        return (format_ident!("{}", column), false);
    }
    let mut name = retort_schema::naming::snake_case(
        &column
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect::<String>(),
    );
    if !name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') {
        name.insert_str(0, "c_");
    }
    if syn::parse_str::<syn::Ident>(&name).is_err() {
        name.push('_');
    }
    (format_ident!("{}", name), true)
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

fn struct_item(
    table: &Table,
    schema: &Schema,
    naming: Convention,
    enums: &EnumNames,
    idents: &mut BTreeSet<String>,
) -> Result<TokenStream, Vec<String>> {
    let mut problems = Vec::new();
    let (schema_name, bare) = match table.name.split_once('.') {
        Some((s, t)) => (Some(s.to_string()), t.to_string()),
        None => (None, table.name.clone()),
    };
    if table.primary_key.is_empty() {
        problems.push(format!(
            "table `{}` has no primary key, and a model needs one; add one to the table (ALTER TABLE … ADD PRIMARY KEY) and run this again",
            table.name
        ));
    }
    // A model drops a blank comment; refuse it rather than lose it silently.
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
    let struct_ident = format_ident!("{}", unique_ident(camel(&singular(&bare), "T"), idents));
    // Field identifiers by column name, for the keys that list columns; a column whose
    // name is not one gets one that no other field has.
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
    let field = |c: &str| fields.get(c).map(|(i, _)| i.clone());

    // Foreign keys: one column each, on the field.
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
        }
    }
    // A single-column unique constraint with the derived name goes on its field.
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

    let mut table_attrs: Vec<TokenStream> = Vec::new();
    let name = &bare;
    table_attrs.push(quote!(name = #name));
    if let Some(s) = &schema_name {
        table_attrs.push(quote!(schema = #s));
    }
    let (doc, comment_attr) = match &table.comment {
        Some(c) => comment_tokens(c),
        None => (quote!(), None),
    };
    table_attrs.extend(comment_attr);
    let single_pk = table.primary_key.len() == 1;
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
    for u in &table_uniques {
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

    let mut field_items = Vec::new();
    for c in &table.columns {
        let (ident, renamed) = &fields[c.name.as_str()];
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
        if single_pk && table.primary_key[0] == c.name {
            attrs.push(quote!(primary_key));
        }
        if c.autoincrement {
            attrs.push(if c.identity_always {
                quote!(autoincrement = "always")
            } else {
                quote!(autoincrement)
            });
        }
        if unique_field.contains(c.name.as_str()) {
            attrs.push(quote!(unique));
        }
        attrs.extend(type_attr);
        if let Some(d) = &c.server_default {
            attrs.push(quote!(server_default = #d));
        }
        if let Some(fk) = fk_of.get(c.name.as_str()) {
            let reference = format!(
                "{}({})",
                reference_table(&fk.referred_table),
                reference_part(&fk.referred_columns[0])
            );
            attrs.push(quote!(references = #reference));
            if let Some(a) = action(fk.on_delete) {
                attrs.push(quote!(on_delete = #a));
            }
            if let Some(a) = action(fk.on_update) {
                attrs.push(quote!(on_update = #a));
            }
            if fk.name
                != naming.foreign_key(&table.name_for_naming(), &fk.columns, &fk.referred_table)
            {
                let n = &fk.name;
                attrs.push(quote!(fk_name = #n));
            }
            if let Some(d) = fk.deferral.deferrable() {
                attrs.push(quote!(deferrable = #d));
            }
            if fk.not_valid {
                attrs.push(quote!(not_valid));
            }
        }
        let (field_doc, comment_attr) = match &c.comment {
            Some(text) => comment_tokens(text),
            None => (quote!(), None),
        };
        attrs.extend(comment_attr);
        let column_attr = (!attrs.is_empty()).then(|| quote!(#[column(#(#attrs),*)]));
        let ty = if c.nullable { quote!(Option<#ty>) } else { ty };
        field_items.push(quote! { #field_doc #column_attr pub #ident: #ty, });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(quote! {
        #doc
        #[derive(Debug, Clone, retort::Table)]
        #[table(#(#table_attrs),*)]
        pub struct #struct_ident { #(#field_items)* }
    })
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

/// A name in `references = "…"`: as it is when plain, else in double quotes.
fn reference_part(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        name.to_string()
    } else {
        format!("\"{name}\"")
    }
}

/// A referred table, its schema (PostgreSQL) before a dot.
fn reference_table(name: &str) -> String {
    match name.split_once('.') {
        Some((schema, table)) => format!("{}.{}", reference_part(schema), reference_part(table)),
        None => reference_part(name),
    }
}

/// `tasks` → `task`, `categories` → `category`, `boxes` → `box`; other names kept.
fn singular(table: &str) -> String {
    if let Some(stem) = table.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = table
        .strip_suffix("es")
        .filter(|s| s.ends_with("ss") || s.ends_with('x') || s.ends_with("ch") || s.ends_with("sh"))
    {
        stem.to_string()
    } else if let Some(stem) = table.strip_suffix('s').filter(|s| !s.ends_with('s')) {
        stem.to_string()
    } else {
        table.to_string()
    }
}

trait NameForNaming {
    fn name_for_naming(&self) -> String;
}

impl NameForNaming for Table {
    /// The name derived names use: the table's own, without its schema.
    fn name_for_naming(&self) -> String {
        self.name
            .rsplit_once('.')
            .map_or(self.name.clone(), |(_, t)| t.to_string())
    }
}
