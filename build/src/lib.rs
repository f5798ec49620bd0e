//! What a crate's `build.rs` calls.
//!
//! ```text
//! // build.rs
//! fn main() {
//!     retort_build::generate().unwrap();
//! }
//! ```
//!
//! It reads the crate's models (from `src/lib.rs` or `src/main.rs`, through every
//! `mod`), and writes `OUT_DIR/retort_migrations.rs`, which the app includes with
//! `retort::include_migrations!()`.

pub mod discover;
mod error;
pub mod relations;

use std::path::{Path, PathBuf};

pub use error::Error;

/// Runs the build step for the crate being built (reads `CARGO_MANIFEST_DIR` and `OUT_DIR`).
pub fn generate() -> Result<(), Error> {
    let manifest_dir = env_path("CARGO_MANIFEST_DIR")?;
    let out_dir = env_path("OUT_DIR")?;
    let report = generate_in(&manifest_dir, &out_dir)?;
    for file in &report.watched {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    Ok(())
}

/// What one build step did.
#[derive(Debug, Default)]
pub struct Report {
    /// Files the step read; a change to any of them must rerun it.
    pub watched: Vec<PathBuf>,
}

/// The build step for the crate in `manifest_dir`, writing into `out_dir`.
pub fn generate_in(manifest_dir: &Path, out_dir: &Path) -> Result<Report, Error> {
    let sources = discover::scan_crate(manifest_dir)?;
    let index = relations::render(&sources.models);
    let target = out_dir.join("retort_migrations.rs");
    write_if_changed(&target, &index)?;
    // The files read, not the folder: a new module needs a `mod` line in a file already watched.
    Ok(Report {
        watched: sources.files,
    })
}

/// Writes through a temporary file and a rename, so a reader never sees half a file,
/// and leaves an unchanged file untouched so cargo does not rebuild for nothing.
pub(crate) fn write_if_changed(path: &Path, contents: &str) -> Result<(), Error> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

fn env_path(key: &'static str) -> Result<PathBuf, Error> {
    std::env::var_os(key)
        .map(PathBuf::from)
        .ok_or(Error::NotInBuildScript { key })
}
