//! Files the build writes: the snapshot (`migrations/schema.json`), read and compared, and
//! every output written whole or not at all.

use std::path::{Path, PathBuf};

use retort_schema::Schema;

use crate::error::Error;

pub(crate) fn read_snapshot(path: &Path) -> Result<Option<Schema>, Error> {
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
pub(crate) fn first_difference(a: &Schema, b: &Schema) -> String {
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
    let keys: std::collections::BTreeSet<&String> =
        a.objects.keys().chain(b.objects.keys()).collect();
    for k in keys {
        match (a.objects.get(k), b.objects.get(k)) {
            (Some(_), None) => return format!("it has {k}, the migrations do not"),
            (None, Some(_)) => return format!("the migrations have {k}, it does not"),
            (Some(x), Some(y)) if x != y => return format!("{k} differs"),
            _ => {}
        }
    }
    "they differ".into()
}

/// Writes every file under a temporary name first, then renames them all, so a failure
/// leaves no half-written file.
pub(crate) fn write_all(files: &[(PathBuf, String)]) -> Result<(), Error> {
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
