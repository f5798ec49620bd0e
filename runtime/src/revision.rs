//! `revision -m "…"`: an empty migration on top of the current head(s), for data migrations.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes `<dir>/<revision>_<slug>.rs` and returns its path.
pub(crate) fn write_empty(dir: &Path, parents: &[String], message: &str) -> Result<PathBuf> {
    let now = chrono::Utc::now();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (
        parents,
        message,
        now.timestamp_nanos_opt(),
        std::process::id(),
    )
        .hash(&mut h);
    let revision = format!(
        "{}_{:04x}",
        now.format("%Y%m%d_%H%M%S"),
        h.finish() & 0xffff
    );
    let slug = crate::schema::naming::slug(message);
    let path = dir.join(format!("{revision}_{slug}.rs"));
    let parents_list: Vec<String> = parents.iter().map(|p| format!("{p:?}")).collect();
    let text = format!(
        "// {message}\n//\n// Revision: {revision}\n// Parent:   {parent}\n// Created:  {created}\n//\n// Written by `revision -m`: add operations, `execute(\"…\")` or `run(function)` steps.\n// A data-migration function takes the connection inside the migration's transaction:\n//\n// fn backfill(conn: &mut retort::Connection) -> Result<(), retort::DataError> {{ … }}\n\nretort::migration! {{\n    revision: {revision:?},\n    parents: [{parents}],\n    message: {slug:?},\n    up: [],\n    down: [],\n}}\n",
        parent = if parents.is_empty() { "(none)".to_string() } else { parents.join(", ") },
        created = now.format("%Y-%m-%d %H:%M:%S UTC"),
        parents = parents_list.join(", "),
    );
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    std::fs::write(&path, text).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}
