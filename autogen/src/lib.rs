//! What a crate's `build.rs` calls: compare the models with the migration
//! history and, when they differ, write the next migration.
//!
//! ```text
//! // build.rs
//! fn main() {
//!     retort_build::generate().unwrap();
//! }
//! ```
//!
//! Each build:
//!
//! 1. reads the models (`#[derive(Table)]` structs) from the crate root through every `mod`;
//! 2. reads `migrations/*.rs`, checks the revision graph and replays it into the schema at head,
//!    checked against `migrations/schema.json`;
//! 3. after a git merge that left two heads, writes a merge migration when the branches do not
//!    conflict (or fails naming both);
//! 4. diffs the head against the models and, when they differ, writes the next migration and the
//!    snapshot — or, in check mode, fails listing the pending operations;
//! 5. writes `OUT_DIR/retort_migrations.rs`, which the app includes with
//!    `retort::include_migrations!()`, so a migration written now is compiled now.
//!
//! Settings (environment): `RETORT_MODE=write|check` (default: check when `CI` is true or the
//! crate is not a local checkout, else write), `RETORT_MESSAGE` (the next migration's message),
//! `RETORT_NOW` or `SOURCE_DATE_EPOCH` (seconds since the epoch: fixes the clock; prefer
//! `RETORT_NOW` in scripts, since C build scripts rebuild when `SOURCE_DATE_EPOCH` changes).

pub mod codegen;
pub mod discover;
mod error;
pub mod history;
mod index;
mod merge;
pub mod relations;
mod renames;

use std::path::{Path, PathBuf};

use retort_schema::clock;
use retort_schema::diff::{self, Lint};
use retort_schema::ops::Op;
use retort_schema::Schema;

pub use error::Error;
use history::{Entry, History};

/// Whether a build may write migration files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Write the next migration when the models are ahead.
    Write,
    /// Write nothing; fail when the models are ahead. Holds the reason, for messages.
    Check(String),
}

/// The settings of one build step; [`Settings::from_env`] reads them as cargo passes them.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Write or check.
    pub mode: Mode,
    /// Message for the next migration (else derived from its operations).
    pub message: Option<String>,
    /// Seconds since the epoch, for revision ids and headers.
    pub now: u64,
    /// The migrations folder, relative to the crate (default `migrations`).
    pub migrations_dir: PathBuf,
    /// Files to read models from, relative to the crate; empty means the whole crate
    /// (from `src/lib.rs` or `src/main.rs` through every `mod`).
    pub model_files: Vec<PathBuf>,
}

impl Settings {
    /// Reads `RETORT_MODE`, `CI`, `RETORT_MESSAGE` and `SOURCE_DATE_EPOCH`.
    pub fn from_env(manifest_dir: &Path) -> Result<Settings, Error> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let mode = match var("RETORT_MODE").as_deref() {
            Some("write") => Mode::Write,
            Some("check") => Mode::Check("RETORT_MODE=check".into()),
            Some(other) => {
                return Err(Error::BadMode {
                    value: other.into(),
                })
            }
            None if var("CI").is_some_and(|v| v != "false" && v != "0") => {
                Mode::Check("CI is set".into())
            }
            None if !is_local_checkout(manifest_dir) => Mode::Check(
                "the crate is not a local checkout (registry, git dependency or `cargo package`)"
                    .into(),
            ),
            None => Mode::Write,
        };
        Ok(Settings {
            mode,
            message: var("RETORT_MESSAGE"),
            now: clock::now(
                var("RETORT_NOW")
                    .or_else(|| var("SOURCE_DATE_EPOCH"))
                    .as_deref(),
            ),
            migrations_dir: PathBuf::from("migrations"),
            model_files: Vec::new(),
        })
    }
}

/// The build step with settings, for a `build.rs` that needs them:
///
/// ```text
/// fn main() {
///     retort_build::Generator::new()
///         .models("src/db/models.rs")
///         .migrations_dir("db/migrations")
///         .run()
///         .unwrap_or_else(|e| panic!("{e}"));
/// }
/// ```
#[derive(Debug, Default)]
pub struct Generator {
    model_files: Vec<PathBuf>,
    migrations_dir: Option<PathBuf>,
}

impl Generator {
    /// The defaults of [`generate`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads models only from this file (and the modules it declares); call again for more.
    pub fn models(mut self, file: impl Into<PathBuf>) -> Self {
        self.model_files.push(file.into());
        self
    }

    /// Keeps migrations in this folder (relative to the crate) instead of `migrations`.
    pub fn migrations_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.migrations_dir = Some(dir.into());
        self
    }

    /// Runs the build step and prints cargo's instructions.
    pub fn run(self) -> Result<(), Error> {
        let manifest_dir = env_path("CARGO_MANIFEST_DIR")?;
        let out_dir = env_path("OUT_DIR")?;
        let mut settings = Settings::from_env(&manifest_dir)?;
        settings.model_files = self.model_files;
        if let Some(dir) = self.migrations_dir {
            settings.migrations_dir = dir;
        }
        run(&manifest_dir, &out_dir, &settings)
    }
}

/// Whether the crate is a checkout a developer works in, not a dependency or a packaged copy.
fn is_local_checkout(manifest_dir: &Path) -> bool {
    let p = manifest_dir.to_string_lossy().replace('\\', "/");
    !(p.contains("/.cargo/registry/")
        || p.contains("/.cargo/git/checkouts/")
        || p.contains("/target/package/"))
}

/// Runs the build step for the crate being built and prints cargo's instructions.
///
/// Errors are printed by the caller; a failing step has written nothing.
pub fn generate() -> Result<(), Error> {
    Generator::new().run()
}

/// The environment variables the build step reads (and reruns on).
pub const SETTINGS_ENV: [&str; 5] = [
    "RETORT_MODE",
    "CI",
    "RETORT_MESSAGE",
    "RETORT_NOW",
    "SOURCE_DATE_EPOCH",
];

fn run(manifest_dir: &Path, out_dir: &Path, settings: &Settings) -> Result<(), Error> {
    for key in SETTINGS_ENV {
        println!("cargo:rerun-if-env-changed={key}");
    }
    // Watch the migrations folder even when the step fails, so fixing it reruns the step.
    println!(
        "cargo:rerun-if-changed={}",
        manifest_dir.join(&settings.migrations_dir).display()
    );
    let report = generate_in(manifest_dir, out_dir, settings)?;
    for file in &report.watched {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    for warning in &report.warnings {
        for line in warning.lines() {
            println!("cargo:warning={line}");
        }
    }
    Ok(())
}

/// What one build step did.
#[derive(Debug, Default)]
pub struct Report {
    /// Files the step read; a change to any of them must rerun it.
    pub watched: Vec<PathBuf>,
    /// Files written into the migrations folder.
    pub written: Vec<PathBuf>,
    /// Messages for `cargo:warning`.
    pub warnings: Vec<String>,
}

/// The build step for the crate in `manifest_dir`, writing into `out_dir`.
pub fn generate_in(
    manifest_dir: &Path,
    out_dir: &Path,
    settings: &Settings,
) -> Result<Report, Error> {
    let sources = if settings.model_files.is_empty() {
        discover::scan_crate(manifest_dir)?
    } else {
        discover::scan_files(manifest_dir, &settings.model_files)?
    };
    let dir = manifest_dir.join(&settings.migrations_dir);
    let snapshot_path = dir.join("schema.json");
    let mut history = History::load(&dir)?;
    let snapshot = read_snapshot(&snapshot_path)?;
    let mut report = Report {
        watched: sources.files.clone(),
        ..Report::default()
    };
    report.watched.push(dir.clone());
    let mut pending: Vec<Pending> = Vec::new();

    let mut heads: Vec<String> = history
        .heads()
        .iter()
        .map(|e| e.file.revision.clone())
        .collect();
    if heads.len() > 1 {
        if let Mode::Check(reason) = &settings.mode {
            return Err(Error::MultipleHeads {
                heads,
                reason: reason.clone(),
            });
        }
        merge::check_branches(&history, &heads)?;
        let message = format!("merge_{}", heads.join("_and_"));
        let merge = new_entry(
            &dir,
            &history,
            heads.clone(),
            &message,
            Vec::new(),
            Vec::new(),
            &[],
            settings,
        );
        history
            .entries
            .insert(merge.entry.file.revision.clone(), merge.entry.clone());
        heads = vec![merge.entry.file.revision.clone()];
        pending.push(merge);
    }
    let head_refs: Vec<&str> = heads.iter().map(String::as_str).collect();
    let head_schema = history.replay(&head_refs)?;
    if pending.is_empty() {
        if let Some(snap) = &snapshot {
            if *snap != head_schema {
                return Err(Error::Snapshot {
                    path: snapshot_path,
                    message: format!(
                        "does not match what the migrations build ({}). If you edited a migration or resolved a merge in this file, delete it and build again to rewrite it from the migrations",
                        first_difference(snap, &head_schema)
                    ),
                });
            }
        }
    }

    let mut target = head_schema.clone();
    // Models with attribute errors: the derive reports them with spans; generate nothing meanwhile.
    if sources.refused.is_empty() {
        let mut models = models_schema(&sources)?;
        report.warnings.extend(renames::drop_applied_cycles(
            &history,
            &head_refs,
            &head_schema,
            &mut models,
        ));
        let d = diff::diff(&head_schema, &models)?;
        if !d.is_empty() {
            if let Mode::Check(reason) = &settings.mode {
                return Err(Error::Pending {
                    reason: reason.clone(),
                    operations: d.up.iter().map(Op::describe).collect(),
                });
            }
            for op in &d.up {
                op.apply(&mut target)?;
            }
            let up = mark_destructive(&d.up, &head_schema, false)?;
            let down = mark_destructive(&d.down, &target, true)?;
            let message = settings
                .message
                .as_deref()
                .map(codegen::slugify)
                .unwrap_or_else(|| {
                    if history.entries.is_empty() {
                        "initial".to_string()
                    } else {
                        codegen::message_for(&d.up)
                    }
                });
            let next = new_entry(
                &dir,
                &history,
                heads.clone(),
                &message,
                up,
                down,
                &d.lints,
                settings,
            );
            pending.push(next);
        }
    }

    if pending.is_empty() && snapshot.is_none() && !history.entries.is_empty() {
        if let Mode::Check(reason) = &settings.mode {
            return Err(Error::Snapshot {
                path: snapshot_path,
                message: format!("is missing and this build writes nothing ({reason}); run `cargo build` locally and commit it"),
            });
        }
    }
    // Write: migrations first (temporary names), then the snapshot, then rename all.
    let snapshot_text =
        Schema::from_tables(target.tables.values().map(|t| t.without_rename_hints())).to_json();
    let mut writes: Vec<(PathBuf, String)> = pending
        .iter()
        .map(|p| (p.entry.path.clone(), p.text.clone()))
        .collect();
    if snapshot.as_ref().map(Schema::to_json) != Some(snapshot_text.clone())
        && !(history.entries.is_empty() && pending.is_empty())
    {
        writes.push((snapshot_path.clone(), snapshot_text));
    }
    if !writes.is_empty() {
        std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        write_all(&writes)?;
    }
    for p in pending {
        let rel = p
            .entry
            .path
            .strip_prefix(manifest_dir)
            .unwrap_or(&p.entry.path)
            .display()
            .to_string();
        let n = p.entry.file.up.len();
        report.warnings.push(format!(
            "retort: wrote {rel} ({n} operation{})",
            if n == 1 { "" } else { "s" }
        ));
        for lint in &p.lints {
            report
                .warnings
                .push(format!("retort: {rel}: {}", lint.message));
        }
        report.written.push(p.entry.path.clone());
        history
            .entries
            .insert(p.entry.file.revision.clone(), p.entry);
    }
    if writes.iter().any(|(p, _)| *p == snapshot_path) {
        report.written.push(snapshot_path);
    }
    write_if_changed(
        &out_dir.join("retort_migrations.rs"),
        &index::render(&sources.models, &history, &dir),
    )?;
    Ok(report)
}

/// A migration about to be written.
struct Pending {
    entry: Entry,
    text: String,
    lints: Vec<Lint>,
}

#[allow(clippy::too_many_arguments)]
fn new_entry(
    dir: &Path,
    history: &History,
    parents: Vec<String>,
    message: &str,
    up: Vec<(Op, bool)>,
    down: Vec<(Op, bool)>,
    lints: &[Lint],
    settings: &Settings,
) -> Pending {
    let up_ops: Vec<Op> = up.iter().map(|(o, _)| o.clone()).collect();
    let revision = retort_schema::migration::revision_id(settings.now, &parents, &up_ops, &|id| {
        history.entries.contains_key(id)
    });
    let text = codegen::render(&codegen::NewMigration {
        revision: &revision,
        parents: &parents,
        message,
        created: &clock::human(settings.now),
        up: &up,
        down: &down,
        lints,
        origin: codegen::Origin::Models,
    });
    let file = retort_schema::migration::MigrationFile {
        revision: revision.clone(),
        parents,
        message: message.to_string(),
        up: up.into_iter().map(|(o, _)| o).collect(),
        down: down.into_iter().map(|(o, _)| o).collect(),
    };
    Pending {
        entry: Entry {
            path: dir.join(format!("{revision}_{message}.rs")),
            file,
        },
        text,
        lints: lints.to_vec(),
    }
}

/// Each operation with whether the reviewer must see a mark: it loses data (a drop, a
/// narrowing), or — in a downgrade — it recreates something the upgrade dropped, whose
/// data does not come back. One rule for both directions.
fn mark_destructive(ops: &[Op], before: &Schema, down: bool) -> Result<Vec<(Op, bool)>, Error> {
    let mut schema = before.clone();
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        let recreated = down && matches!(op, Op::CreateTable { .. } | Op::AddColumn { .. });
        let marked = op.is_destructive(&schema) || recreated;
        op.apply(&mut schema)?;
        out.push((op.clone(), marked));
    }
    Ok(out)
}

/// The models as one schema, checked for duplicates and dangling references.
fn models_schema(sources: &discover::Sources) -> Result<Schema, Error> {
    let mut schema = Schema::new();
    let mut owner: std::collections::BTreeMap<String, String> = Default::default();
    for m in &sources.models {
        let name = m.model.table.name.clone();
        let ident = format!("{}::{}", m.module.join("::"), m.model.ident);
        if let Some(first) = owner.insert(name.clone(), ident.clone()) {
            return Err(Error::DuplicateTable {
                table: name,
                first,
                second: ident,
            });
        }
        schema.tables.insert(name, m.model.table.clone());
    }
    for t in schema.tables.values() {
        for fk in &t.foreign_keys {
            if !schema.tables.contains_key(&fk.referred_table) {
                return Err(Error::DanglingReference {
                    name: fk.name.clone(),
                    table: t.name.clone(),
                    referred: fk.referred_table.clone(),
                });
            }
        }
    }
    check_models(sources, &schema)?;
    Ok(schema)
}

/// What one model alone cannot show: index and constraint names are per schema (SQLite,
/// PostgreSQL), and a foreign key must fit the key it references. The first problem wins.
fn check_models(sources: &discover::Sources, schema: &Schema) -> Result<(), Error> {
    let location = |table: &str| -> String {
        sources
            .models
            .iter()
            .find(|m| m.model.table.name == table)
            .map(|m| {
                let line = m.model.ident.span().start().line;
                format!("{}:{line} (`{}`)", m.file.display(), m.model.ident)
            })
            .unwrap_or_else(|| table.to_string())
    };
    let mut owners: std::collections::BTreeMap<&str, &str> = Default::default();
    for t in schema.tables.values() {
        for name in t.constraint_names() {
            if let Some(first) = owners.insert(name, &t.name) {
                if first != t.name {
                    return Err(Error::Model {
                        location: location(&t.name),
                        message: format!(
                            "tables `{first}` and `{}` both have an index or constraint named `{name}`; these names are shared by the whole schema on SQLite and PostgreSQL. Give one of them another `name = \"…\"`",
                            t.name
                        ),
                    });
                }
            }
        }
    }
    for t in schema.tables.values() {
        for fk in &t.foreign_keys {
            let Some(parent) = schema.tables.get(&fk.referred_table) else {
                continue;
            };
            let keyed = parent.primary_key == fk.referred_columns
                || parent
                    .uniques
                    .iter()
                    .any(|u| u.columns == fk.referred_columns)
                || parent
                    .indexes
                    .iter()
                    .any(|i| i.unique && i.columns == fk.referred_columns);
            for (col, referred) in fk.columns.iter().zip(&fk.referred_columns) {
                let Some(rc) = parent.column(referred) else {
                    return Err(Error::Model {
                        location: location(&t.name),
                        message: format!(
                            "foreign key `{}` of `{}` references `{}.{referred}`, which is not a column; fix `references`",
                            fk.name, t.name, parent.name
                        ),
                    });
                };
                if let Some(c) = t.column(col) {
                    if c.ty != rc.ty {
                        return Err(Error::Model {
                            location: location(&t.name),
                            message: format!(
                                "foreign key column `{}.{col}` is {} but the column it references, `{}.{referred}`, is {}; give both the same type (a key compared across types does not match on every database)",
                                t.name, c.ty, parent.name, rc.ty
                            ),
                        });
                    }
                }
            }
            if !keyed {
                return Err(Error::Model {
                    location: location(&t.name),
                    message: format!(
                        "foreign key `{}` of `{}` references ({}) of `{}`, which is neither its primary key nor unique; databases refuse such a key (SQLite: \"foreign key mismatch\"). Reference the primary key, or mark the referenced column `unique`",
                        fk.name,
                        t.name,
                        fk.referred_columns.join(", "),
                        parent.name
                    ),
                });
            }
        }
    }
    Ok(())
}

fn read_snapshot(path: &Path) -> Result<Option<Schema>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    if let Some(line) = retort_schema::migration::conflict_marker_line(&text) {
        return Err(Error::Snapshot {
            path: path.to_path_buf(),
            message: format!(
                "line {line} holds a git conflict marker. Resolve the conflicts in the migrations, then delete this file and build: it is rewritten from the migrations"
            ),
        });
    }
    Schema::from_json(&text).map(Some).map_err(|e| Error::Snapshot {
        path: path.to_path_buf(),
        message: format!("is not a valid schema snapshot ({e}); delete it and build again to rewrite it from the migrations"),
    })
}

/// The first table that differs between two schemas, for messages.
fn first_difference(a: &Schema, b: &Schema) -> String {
    let names: std::collections::BTreeSet<&String> =
        a.tables.keys().chain(b.tables.keys()).collect();
    for n in names {
        match (a.tables.get(n), b.tables.get(n)) {
            (Some(_), None) => return format!("it has table `{n}`, the migrations do not"),
            (None, Some(_)) => return format!("the migrations have table `{n}`, it does not"),
            (Some(x), Some(y)) if x != y => return format!("table `{n}` differs"),
            _ => {}
        }
    }
    "they differ".into()
}

/// Writes every file under a temporary name first, then renames them all, so a failure
/// leaves no half-written file.
fn write_all(files: &[(PathBuf, String)]) -> Result<(), Error> {
    let mut temps = Vec::new();
    for (path, text) in files {
        let tmp = path.with_extension("retort-tmp");
        if let Err(source) = std::fs::write(&tmp, text) {
            for t in &temps {
                let _ = std::fs::remove_file(t);
            }
            return Err(Error::Io { path: tmp, source });
        }
        temps.push(tmp);
    }
    for ((path, _), tmp) in files.iter().zip(&temps) {
        std::fs::rename(tmp, path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
    }
    Ok(())
}

/// Writes through a temporary file and a rename, and leaves an unchanged file untouched so
/// cargo does not rebuild for nothing.
pub(crate) fn write_if_changed(path: &Path, contents: &str) -> Result<(), Error> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    write_all(&[(path.to_path_buf(), contents.to_string())])
}

fn env_path(key: &'static str) -> Result<PathBuf, Error> {
    std::env::var_os(key)
        .map(PathBuf::from)
        .ok_or(Error::NotInBuildScript { key })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_and_packaged_copies_are_not_local_checkouts() {
        assert!(is_local_checkout(Path::new("/home/dev/app")));
        assert!(!is_local_checkout(Path::new(
            "/home/dev/.cargo/registry/src/index.crates.io-x/app-0.1.0"
        )));
        assert!(!is_local_checkout(Path::new(
            "/home/dev/.cargo/git/checkouts/app-123/abc"
        )));
        assert!(!is_local_checkout(Path::new(
            "/home/dev/app/target/package/app-0.1.0"
        )));
    }
}
