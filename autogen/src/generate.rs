//! The build step: read the models and the history, write what changed, write the index.

use std::path::{Path, PathBuf};

use retort_schema::clock;
use retort_schema::diff::{self, Lint};
use retort_schema::ops::Op;
use retort_schema::sql::Dialect;
use retort_schema::Schema;

use crate::error::Error;
use crate::history::{Entry, History};
use crate::online::{make_online, with_backfills, Online};
use crate::online::{online_part, Part};
use crate::settings::{env_path, Mode, Settings};
use crate::snapshot::{first_difference, read_snapshot, write_all};
use crate::validate::models_schema;
use crate::{codegen, discover, index, merge, objects, renames, review, snapshot, validate};

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

/// Runs the build step for the crate being built and prints cargo's instructions.
///
/// Errors are printed by the caller; a failing step has written nothing.
pub fn generate() -> Result<(), Error> {
    Generator::new().run()
}

/// The environment variables the build step reads (and reruns on).
pub const SETTINGS_ENV: [&str; 8] = [
    "RETORT_MODE",
    "RETORT_STRICT_LOCKS",
    "RETORT_ONLINE_DDL",
    "CI",
    "RETORT_MESSAGE",
    "RETORT_NOW",
    "SOURCE_DATE_EPOCH",
    "DEP_RETORT_BACKENDS",
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
    let (objects, _) = objects::scan(manifest_dir)?;
    // Only a folder that exists: cargo reruns a build script on every build while a
    // watched path is missing.
    let objects_dir = manifest_dir.join(objects::OBJECTS_DIR);
    if objects_dir.is_dir() {
        report.watched.push(objects_dir);
    }
    let mut pending: Vec<Pending> = Vec::new();
    let heads = merge_heads(&dir, &mut history, settings, &mut pending)?;
    let head_refs: Vec<&str> = heads.iter().map(String::as_str).collect();
    let head_schema = history.replay(&head_refs)?;
    if pending.is_empty() {
        check_snapshot(snapshot.as_ref(), &head_schema, &snapshot_path)?;
    }

    let mut target = head_schema.clone();
    let mut resolved: Option<Schema> = None;
    // Models with attribute errors: the derive reports them with spans; generate nothing meanwhile.
    if sources.refused.is_empty() {
        let mut models = models_schema(&sources, &settings.backends)?;
        models.objects = objects.clone();
        validate::check_objects(&models)?;
        report.warnings.extend(renames::drop_applied_cycles(
            &history,
            &head_refs,
            &head_schema,
            &mut models,
        ));
        let d = diff::diff(&head_schema, &models)?;
        resolved = Some(models.clone());
        if !d.is_empty() {
            if let Mode::Check(reason) = &settings.mode {
                return Err(Error::Pending {
                    reason: reason.clone(),
                    operations: d.up.iter().map(Op::describe).collect(),
                });
            }
            let (parts, filled) = split_into_parts(&d.up, &head_schema, &models, settings)?;
            let mut parents = heads.clone();
            let several = parts.len() > 1;
            for (from, to, part) in parts {
                let new = PartFile {
                    from: &from,
                    to: &to,
                    part,
                    several,
                    filled: &filled,
                };
                let next = new.entry(&dir, &history, parents, &mut target, settings)?;
                parents = vec![next.entry.file.revision.clone()];
                history
                    .entries
                    .insert(next.entry.file.revision.clone(), next.entry.clone());
                pending.push(next);
            }
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
    check_backends(&pending, &head_schema, &settings.backends)?;
    if settings.strict_locks {
        let open = review::unreviewed(&history, manifest_dir, &settings.backends)?;
        if !open.is_empty() {
            return Err(Error::UnreviewedLocks {
                writing: !pending.is_empty(),
                warnings: open,
            });
        }
    }
    let snapshot_written = write_pending(
        &pending,
        &history,
        &dir,
        snapshot.as_ref(),
        &snapshot_path,
        &target,
    )?;
    for p in pending {
        report.wrote(manifest_dir, &p);
        history
            .entries
            .insert(p.entry.file.revision.clone(), p.entry);
    }
    if snapshot_written {
        report.written.push(snapshot_path);
    }
    report
        .warnings
        .extend(validate::keyless_tables(&target, &settings.backends));
    snapshot::write_if_changed(
        &out_dir.join("retort_migrations.rs"),
        &index::source(&sources.models, resolved.as_ref(), &history, &dir),
    )?;
    Ok(report)
}

impl Report {
    /// What a written migration tells the build's output: its path, size and lints.
    fn wrote(&mut self, manifest_dir: &Path, p: &Pending) {
        let rel = p
            .entry
            .path
            .strip_prefix(manifest_dir)
            .unwrap_or(&p.entry.path)
            .display()
            .to_string();
        let n = p.entry.file.up.len();
        self.warnings.push(format!(
            "retort: wrote {rel} ({n} operation{})",
            if n == 1 { "" } else { "s" }
        ));
        for lint in &p.lints {
            self.warnings
                .push(format!("retort: {rel}: {}", lint.message));
        }
        self.written.push(p.entry.path.clone());
    }
}

/// The history's heads; several are joined by a merge migration (added to `history` and
/// `pending`), which is then the one head. A check build refuses several heads.
fn merge_heads(
    dir: &Path,
    history: &mut History,
    settings: &Settings,
    pending: &mut Vec<Pending>,
) -> Result<Vec<String>, Error> {
    let heads: Vec<String> = history
        .heads()
        .iter()
        .map(|e| e.file.revision.clone())
        .collect();
    if heads.len() <= 1 {
        return Ok(heads);
    }
    if let Mode::Check(reason) = &settings.mode {
        return Err(Error::MultipleHeads {
            heads,
            reason: reason.clone(),
        });
    }
    merge::check_branches(history, &heads)?;
    let message = format!("merge_{}", heads.join("_and_"));
    let merge = new_entry(
        dir,
        history,
        heads,
        &message,
        Vec::new(),
        Vec::new(),
        &[],
        settings,
    );
    history
        .entries
        .insert(merge.entry.file.revision.clone(), merge.entry.clone());
    let head = vec![merge.entry.file.revision.clone()];
    pending.push(merge);
    Ok(head)
}

/// The committed snapshot must be what the migrations build.
fn check_snapshot(snapshot: Option<&Schema>, head: &Schema, path: &Path) -> Result<(), Error> {
    match snapshot {
        Some(snap) if snap != head => Err(Error::Snapshot {
            path: path.to_path_buf(),
            message: format!(
                "does not match what the migrations build ({}). If you edited a migration or resolved a merge in this file, delete it and build again to rewrite it from the migrations",
                first_difference(snap, head)
            ),
        }),
        _ => Ok(()),
    }
}

/// The migrations one change is written as, each a (from, to, part): values added to an
/// enum in place (PostgreSQL's ADD VALUE) cannot be used in the transaction that adds
/// them, so they go first, in a migration of their own that runs outside one; on
/// PostgreSQL, indexes, constraints and NOT NULL on tables that already hold rows are made
/// in their online form, which cannot run in a transaction either: last, in a migration
/// of their own. With the columns the online part backfills.
#[allow(clippy::type_complexity)]
fn split_into_parts(
    up: &[Op],
    head: &Schema,
    models: &Schema,
    settings: &Settings,
) -> Result<(Vec<(Schema, Schema, Part)>, Vec<(String, String)>), Error> {
    let mut parts: Vec<(Schema, Schema, Part)> = Vec::new();
    let changes_from = match enum_additions(up, head)? {
        Some(mid) => {
            parts.push((head.clone(), mid.clone(), Part::EnumValues));
            mid
        }
        None => head.clone(),
    };
    let mut filled = Vec::new();
    match online_part(&changes_from, models, settings)? {
        Some(Online { mid, filled: f }) => {
            if !diff::diff(&changes_from, &mid)?.is_empty() {
                parts.push((changes_from, mid.clone(), Part::Changes));
            }
            parts.push((mid, models.clone(), Part::Online));
            filled = f;
        }
        None => {
            if parts.is_empty() || !diff::diff(&changes_from, models)?.is_empty() {
                parts.push((changes_from, models.clone(), Part::Changes));
            }
        }
    }
    Ok((parts, filled))
}

/// One part of a change, to be written as a migration.
struct PartFile<'a> {
    from: &'a Schema,
    to: &'a Schema,
    part: Part,
    /// The change is written as more than one migration (their names say which part).
    several: bool,
    /// The columns the online part backfills before making them NOT NULL.
    filled: &'a [(String, String)],
}

impl PartFile<'_> {
    /// The migration of this part, its operations applied to `target` as well.
    fn entry(
        &self,
        dir: &Path,
        history: &History,
        parents: Vec<String>,
        target: &mut Schema,
        settings: &Settings,
    ) -> Result<Pending, Error> {
        let (from, part) = (self.from, self.part);
        let mut d = diff::diff(from, self.to)?;
        if part == Part::Online {
            // The downgrade runs outside a transaction too: its indexes and keys in their
            // online forms as well.
            for op in d.up.iter_mut().chain(d.down.iter_mut()) {
                make_online(op, &settings.backends);
            }
            d.up = with_backfills(std::mem::take(&mut d.up), self.filled);
        }
        let mut after = from.clone();
        for op in &d.up {
            op.apply(&mut after)?;
            op.apply(target)?;
        }
        let up = mark_destructive(&d.up, from, false)?;
        let down = mark_destructive(&d.down, &after, true)?;
        let mut lints = match part {
            // What the online form changed (a backfill before NOT NULL) is reviewed as
            // written; the downgrade's warnings are the diff's.
            Part::Online => {
                let mut l = diff::lint_ops(&d.up, from, "")?;
                l.extend(
                    d.lints
                        .iter()
                        .filter(|l| l.message.starts_with("downgrade: "))
                        .cloned(),
                );
                l
            }
            _ => d.lints.clone(),
        };
        lints.extend(
            review::lock_warnings(&d.up, from, &settings.backends)?
                .iter()
                .map(review::LockWarning::lint),
        );
        let message = match settings.message.as_deref().map(codegen::slugify) {
            Some(m) if self.several && part == Part::EnumValues => format!("{m}_enum_values"),
            Some(m) if self.several && part == Part::Online => format!("{m}_online"),
            Some(m) => m,
            None if history.entries.is_empty() => "initial".to_string(),
            None => codegen::message_for(&d.up),
        };
        let next = new_entry(dir, history, parents, &message, up, down, &lints, settings);
        debug_assert_eq!(next.entry.file.atomic, part == Part::Changes);
        Ok(next)
    }
}

/// Writes the pending migrations (temporary names), then the snapshot when it changed,
/// then renames them all; whether the snapshot was written.
fn write_pending(
    pending: &[Pending],
    history: &History,
    dir: &Path,
    snapshot: Option<&Schema>,
    snapshot_path: &Path,
    target: &Schema,
) -> Result<bool, Error> {
    let snapshot_text = target.without_rename_hints().to_json();
    let mut writes: Vec<(PathBuf, String)> = pending
        .iter()
        .map(|p| (p.entry.path.clone(), p.text.clone()))
        .collect();
    let snapshot_changed = snapshot.map(Schema::to_json) != Some(snapshot_text.clone())
        && !(history.entries.is_empty() && pending.is_empty());
    if snapshot_changed {
        writes.push((snapshot_path.to_path_buf(), snapshot_text));
    }
    if !writes.is_empty() {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        write_all(&writes)?;
    }
    Ok(snapshot_changed)
}

/// When `up` adds values to an enum in place (PostgreSQL's `ADD VALUE`), the schema with
/// only those changes made: what the first of two migrations reaches.
fn enum_additions(up: &[Op], head: &Schema) -> Result<Option<Schema>, Error> {
    let mut mid = head.clone();
    let mut any = false;
    for op in up {
        if op.enum_change_in_place() == Some((true, true)) {
            op.apply(&mut mid)?;
            if let Op::AlterEnum { name, renamed, .. } = op {
                if let Some(e) = mid.enums.get_mut(name) {
                    e.renamed = renamed.clone();
                }
            }
            any = true;
        }
    }
    Ok(any.then_some(mid))
}

/// Every compiled backend renders the migrations about to be written, both ways: what one of
/// them refuses (a type change MySQL cannot join, a key over text it cannot index) stops the
/// build before anything is written.
fn check_backends(pending: &[Pending], head: &Schema, backends: &[Dialect]) -> Result<(), Error> {
    // Each migration starts where the one before it (in this build) ends.
    let mut start = head.clone();
    for p in pending.iter().filter(|p| !p.entry.file.up.is_empty()) {
        let head = &start;
        let mut after = head.clone();
        for op in &p.entry.file.up {
            op.apply(&mut after)?;
        }
        for &dialect in backends {
            let refused = |e: retort_schema::sql::RenderError| Error::Backend {
                backend: dialect.name(),
                message: e.message,
            };
            retort_schema::sql::render_ops(&p.entry.file.up, &mut head.clone(), dialect)
                .map_err(refused)?;
            retort_schema::sql::render_ops(&p.entry.file.down, &mut after.clone(), dialect)
                .map_err(refused)?;
        }
        start = after;
    }
    Ok(())
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
    let text = codegen::file_text(&codegen::NewMigrationFile {
        revision: &revision,
        parents: &parents,
        message,
        created: &clock::human(settings.now),
        up: &up,
        down: &down,
        lints,
        origin: codegen::Origin::Models,
        replaces: &[],
    });
    let file = retort_schema::migration::MigrationFile {
        revision: revision.clone(),
        parents,
        message: message.to_string(),
        up: up.into_iter().map(|(o, _)| o).collect(),
        down: down.into_iter().map(|(o, _)| o).collect(),
        atomic: true,
        reviewed_locks: Vec::new(),
        replaces: Vec::new(),
        elidable: false,
    };
    let file = retort_schema::migration::MigrationFile {
        atomic: !retort_schema::migration::runs_outside_a_transaction(&file.up, &file.down),
        ..file
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
