//! `revision -m "…"`: an empty migration on top of the current head(s), for data migrations.
//! Written by the same writer, with the same revision ids, as the build's migrations.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use retort_schema::migration::{empty_revision_id, write_file, NewMigrationFile, Origin};

/// Writes `<dir>/<revision>_<slug>.rs` and returns its path.
pub(crate) fn write_empty(dir: &Path, parents: &[String], message: &str) -> Result<PathBuf> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let slug = retort_schema::naming::slug(message);
    // Ids of files already in the folder are taken (another revision written this second).
    let taken = |id: &str| {
        std::fs::read_dir(dir).is_ok_and(|entries| {
            entries
                .filter_map(|e| e.ok())
                .any(|e| e.file_name().to_string_lossy().starts_with(id))
        })
    };
    let revision = empty_revision_id(now, parents, &|id| taken(id));
    let text = write_file(
        &NewMigrationFile {
            revision: &revision,
            parents,
            message: &slug,
            created: &retort_schema::clock::human(now),
            up: &[],
            down: &[],
            lints: &[],
            origin: Origin::Revision,
            replaces: &[],
        },
        &|op| op.describe(),
    );
    let path = dir.join(format!("{revision}_{slug}.rs"));
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
