//! records: the transcription service's database, managed by retort.
//!
//! The models live in [`models`]; [`service`] serves them over HTTP; the binary
//! upgrades the database at start and exposes `records db <verb>`.

pub mod models;
pub mod service;

retort::include_migrations!();
