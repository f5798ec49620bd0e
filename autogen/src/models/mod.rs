//! Models from a schema: the `#[derive(Table)]` structs (and `#[derive(DbEnum)]` enums) that
//! say what a schema read from a live database says, so an app that has a database but no
//! models starts from there instead of writing every struct by hand.
//!
//! What the derive would derive anyway is left out: a name that the crate's naming convention
//! gives (`pk_<table>`, `ix_<table>_<cols>`, …), a field named as its column, a type that the
//! field's Rust type says. Everything else is written out, so parsing the file gives back the
//! schema it was written from: `autogen/tests/models.rs` proves it for random schemas and the
//! fixture app's, `tests/check_clean.rs` and `cli/tests/models_from_database.rs` for databases
//! on every backend.
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

mod items;
mod names;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use retort_schema::naming::Convention;
use retort_schema::sql::{Catalog, Dialect};
use retort_schema::Schema;

use crate::error::Error;
use crate::settings::{Mode, Settings};
use crate::{discover, snapshot, validate};
use items::{enum_item, struct_item};
use names::{camel, unique_ident, EnumNames};

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
    let report = match crate::generate::generate_in(manifest_dir, out_dir, &settings) {
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
