//! The `migration! { … }` grammar: one migration file's revision, parents, message
//! and operations. Parsed here for both the proc macro (to compile a migration)
//! and the build script (to replay the history), and rendered back by the generator.
//!
//! ```
//! let file = retort_schema::migration::parse_body(quote::quote! {
//!     revision: "20261126_054012_3f9a",
//!     parents: ["20261120_101010_0a1b"],
//!     message: "add tasks retry_count",
//!     up: [add_column("tasks", column("retry_count", integer, server_default = "0"))],
//!     down: [drop_column("tasks", "retry_count")],
//! }).unwrap();
//! assert_eq!(file.up[0].describe(), "add column tasks.retry_count (integer, NOT NULL, default 0)");
//! ```

#[cfg(feature = "parse")]
mod call;
mod checksum;
#[cfg(feature = "parse")]
mod parse;
#[cfg(feature = "parse")]
mod tokens;
mod write;

use crate::ops::Op;

pub use checksum::ChecksumCheck;
#[cfg(feature = "parse")]
pub use parse::{
    conflict_marker_line, parse_body, parse_file, FileError, DEFAULT_BATCH, OPERATIONS,
};
#[cfg(feature = "parse")]
pub use tokens::op_tokens;
#[cfg(feature = "parse")]
#[allow(deprecated)]
pub use tokens::render_op;
#[cfg(feature = "serde")]
pub use write::revision_id;
#[allow(deprecated)]
pub use write::{
    empty_revision_id, render_file, runs_outside_a_transaction, write_file, NewMigration,
    NewMigrationFile, Origin,
};

/// One migration as written in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationFile {
    /// Revision id: sortable timestamp plus a short unique suffix (`20261126_054012_3f9a`).
    pub revision: String,
    /// Parent revisions: none for the first, two for a merge.
    pub parents: Vec<String>,
    /// What the migration does, in a few words.
    pub message: String,
    /// Upgrade operations.
    pub up: Vec<Op>,
    /// Downgrade operations.
    pub down: Vec<Op>,
    /// Whether it runs in a transaction where the database allows (the default). `atomic:
    /// false` in the file runs it statement by statement instead, for what PostgreSQL refuses
    /// inside a transaction (`create_index(…, concurrently = true)`); progress is recorded
    /// per statement, as on MySQL.
    pub atomic: bool,
    /// The lock warnings the author has reviewed and accepts (`reviewed_locks: ["postgres:
    /// create_index tasks.ix_tasks_title", …]`), as the build's review names them; not part
    /// of the checksum, so a review added later changes nothing applied.
    pub reviewed_locks: Vec<String>,
    /// The revisions this checkpoint replaces (`replaces: ["…", …]`), written by `retort
    /// squash`: its operations build what they built, from nothing. Empty for any other
    /// migration. While their files remain, the build proves the checkpoint equal to them
    /// and databases go through them; once they are deleted, the checkpoint takes their place.
    pub replaces: Vec<String>,
    /// Whether a squash may drop this migration's data steps (`run(…)`, `execute(…)`):
    /// `elidable: true` in the file says they matter only to databases that existed when it
    /// ran (Django's `elidable`). Not part of the checksum.
    pub elidable: bool,
}

impl MigrationFile {
    /// The Rust functions `run(…)` names in the upgrade and the downgrade, each once, sorted:
    /// what the file must define beside its `migration!` block.
    pub fn functions(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .up
            .iter()
            .chain(&self.down)
            .filter_map(|op| match op {
                Op::RunRust { function } => Some(function.as_str()),
                _ => None,
            })
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}
