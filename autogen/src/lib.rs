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
mod generate;
pub mod history;
mod index;
mod merge;
pub mod models;
pub mod objects;
mod online;
pub mod relations;
mod renames;
mod review;
mod settings;
mod snapshot;
pub mod squash;
mod validate;

pub use error::Error;
pub use generate::{generate, generate_in, Generator, Report, SETTINGS_ENV};
pub use settings::{Mode, Settings};
