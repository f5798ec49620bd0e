//! records: the transcription service's database, managed by retort.
//!
//! The models live in [`models`]; the binary upgrades the database at start.

pub mod models;

retort::include_migrations!();
