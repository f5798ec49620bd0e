//! Errors of the build step; each says what is wrong, where, and what to do.
//! A failing build step writes nothing.

use std::path::PathBuf;

/// Why the build step failed.
///
/// Non-exhaustive: match the variants you handle and keep a wildcard arm. Underlying errors
/// (the parser's, the file system's) are kept as the variant's
/// [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An environment variable cargo sets for build scripts is missing.
    #[error("retort: `{key}` is not set; call retort_build::generate() from build.rs, where cargo sets it")]
    NotInBuildScript {
        /// The variable.
        key: &'static str,
    },
    /// `RETORT_MODE` holds something other than `write` or `check`.
    #[error("retort: RETORT_MODE={value:?} is not understood; use RETORT_MODE=write (generate migrations) or RETORT_MODE=check (fail if the models are ahead)")]
    BadMode {
        /// The value.
        value: String,
    },
    /// Neither `src/lib.rs` nor `src/main.rs` exists.
    #[error("retort: no src/lib.rs or src/main.rs in {dir}; the build step reads the models from the crate root")]
    NoCrateRoot {
        /// The crate folder.
        dir: PathBuf,
    },
    /// A file could not be read or written.
    #[error("retort: {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A source file is not valid Rust.
    #[error("retort: {path}:{line}: not valid Rust ({message}); fix the syntax error the compiler also reports")]
    RustSyntax {
        /// The file.
        path: PathBuf,
        /// The line of the error.
        line: usize,
        /// What the parser said.
        message: String,
    },
    /// A migration file cannot be read.
    #[error("retort: migration {path}: {source}")]
    Migration {
        /// The file.
        path: PathBuf,
        /// What is wrong, with its line and the fix.
        source: retort_schema::migration::FileError,
    },
    /// Two files declare the same revision.
    #[error("retort: revision {revision} is declared by both {first} and {second}; give one of them a new revision id (and fix the parents that name it)")]
    DuplicateRevision {
        /// The revision.
        revision: String,
        /// One file.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// A migration names a parent no file declares.
    #[error("retort: migration {path} (revision {revision}) names parent {parent}, which no file in migrations/ declares; restore the missing file or fix `parents`")]
    MissingParent {
        /// The revision.
        revision: String,
        /// The missing parent.
        parent: String,
        /// The file.
        path: PathBuf,
    },
    /// The parents form a cycle.
    #[error("retort: the migrations' parents form a cycle: {}; a migration must only name older revisions as parents", revisions.join(", "))]
    Cycle {
        /// The revisions on or behind the cycle.
        revisions: Vec<String>,
    },
    /// Replaying the history failed.
    #[error("retort: replaying migration {path} (revision {revision}) failed at `{operation}`: {message}. The migration does not fit the ones before it; fix it by hand")]
    Replay {
        /// The revision.
        revision: String,
        /// The file.
        path: PathBuf,
        /// The operation.
        operation: String,
        /// Why.
        message: String,
    },
    /// The snapshot cannot be read.
    #[error("retort: {path}: {message}")]
    Snapshot {
        /// The snapshot file.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
    /// Two models describe the same table.
    #[error("retort: table `{table}` is described by two models ({first} and {second}); rename one with #[table(name = \"…\")]")]
    DuplicateTable {
        /// The table.
        table: String,
        /// One model.
        first: String,
        /// The other.
        second: String,
    },
    /// A foreign key points at a table no model describes.
    #[error("retort: foreign key `{name}` of `{table}` references table `{referred}`, which no model describes; add the model or fix `references`")]
    DanglingReference {
        /// The constraint.
        name: String,
        /// Its table.
        table: String,
        /// The missing table.
        referred: String,
    },
    /// The models together cannot be migrated (names clash across tables, a foreign key
    /// does not fit what it references).
    #[error("retort: {location}: {message}")]
    Model {
        /// `file:line` of the model (struct) at fault.
        location: String,
        /// What is wrong, naming the objects, and the fix.
        message: String,
    },
    /// A backend the crate compiles cannot run the next migration; nothing was written.
    #[error("retort: the next migration cannot run on {backend} (retort's `{backend}` feature is compiled into this crate), so nothing was written: {message}")]
    Backend {
        /// The backend.
        backend: &'static str,
        /// What it refuses, naming the objects, and the fix.
        message: String,
    },
    /// The diff cannot express the change, or an operation does not fit the schema.
    #[error("retort: {0}")]
    Diff(#[from] retort_schema::ops::ApplyError),
    /// `RETORT_STRICT_LOCKS` is set and lock warnings are not reviewed.
    #[error("retort: RETORT_STRICT_LOCKS is set and {} lock warning{} {} not reviewed{}:\n{}\nFix: write the online form the warning names, or, where the lock is acceptable, list its key in the migration's `reviewed_locks: [\"…\"]`", warnings.len(), if warnings.len() == 1 { "" } else { "s" }, if warnings.len() == 1 { "is" } else { "are" }, if *writing { " (nothing was written: build once without RETORT_STRICT_LOCKS to write the new migration, then review it)" } else { "" }, warnings.iter().map(|w| format!("  - {w}")).collect::<Vec<_>>().join("\n"))]
    UnreviewedLocks {
        /// Whether this build had a migration to write.
        writing: bool,
        /// Each warning, with its migration's file.
        warnings: Vec<String>,
    },
    /// Check mode found model changes without a migration.
    #[error("retort: the models are ahead of the migrations ({reason}); {count} pending operation{s}:\n{list}\nFix: run `cargo build` locally (without CI=true or RETORT_MODE=check) to write the migration, review it, and commit it with migrations/schema.json", count = operations.len(), s = if operations.len() == 1 { "" } else { "s" }, list = operations.iter().map(|o| format!("  - {o}")).collect::<Vec<_>>().join("\n"))]
    Pending {
        /// Why the build is in check mode.
        reason: String,
        /// The operations a migration would hold.
        operations: Vec<String>,
    },
    /// Several heads and the build may not write a merge.
    #[error("retort: the migrations have {} heads ({}) and this build writes nothing ({reason}); run `cargo build` locally to write the merge migration, and commit it", heads.len(), heads.join(", "))]
    MultipleHeads {
        /// Head revisions.
        heads: Vec<String>,
        /// Why the build is in check mode.
        reason: String,
    },
    /// Two branches changed the same objects.
    #[error("retort: the branches ending in {} conflict: both change {}. Remove one branch's migration, rebuild to regenerate it on top of the other, and commit", files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(" and "), objects.join(", "))]
    BranchConflict {
        /// The head migrations.
        files: Vec<PathBuf>,
        /// The objects both branches touch.
        objects: Vec<String>,
    },
    /// A schema read from a database holds what a model cannot declare.
    #[error("retort: the models cannot say everything this database holds; nothing was written:\n{}", problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Unexpressible {
        /// Each object, what is wrong, and what to do.
        problems: Vec<String>,
    },
    /// A checkpoint with some of the files it replaces deleted and some not.
    #[error("retort: checkpoint {checkpoint} ({path}) replaces revisions some of whose files were deleted while these remain: {}. Delete all of them (once every database is past the last) or restore the deleted ones", remaining.join(", "))]
    CheckpointPartial {
        /// The checkpoint.
        checkpoint: String,
        /// Its file.
        path: PathBuf,
        /// The replaced files that remain.
        remaining: Vec<String>,
    },
    /// A checkpoint does not build what the revisions it replaces build.
    #[error("retort: checkpoint {checkpoint} ({path}) cannot stand for the history it replaces: {message}. Write it again with `retort squash` (delete this file first), or undo the edit that changed it")]
    CheckpointMismatch {
        /// The checkpoint.
        checkpoint: String,
        /// Its file.
        path: PathBuf,
        /// What differs.
        message: String,
    },
    /// `retort squash` cannot write a checkpoint here.
    #[error("retort: cannot squash: {reason}. Nothing was written")]
    SquashRefused {
        /// Why, and what to do.
        reason: String,
    },
}
