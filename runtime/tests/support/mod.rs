//! What the runtime's database tests share: a migration written in the grammar, and a
//! throwaway SQLite file.
#![allow(dead_code)]

use diesel::prelude::*;
use retort::{DatabaseUrl, Migration};
use retort_schema::migration::parse_file;

/// A revision from its operations as written in a migration file.
pub fn rev(id: &str, parent: Option<&str>, up: &str, down: &str) -> Migration {
    let parents = parent.map(|p| format!("\"{p}\"")).unwrap_or_default();
    let text = format!("retort::migration! {{ revision: \"{id}\", parents: [{parents}], message: \"{id}\", up: [{up}], down: [{down}] }}");
    Migration::from_file(parse_file(&text).unwrap_or_else(|e| panic!("{id}: {e}")))
}

/// An SQLite file in a temporary folder, deleted on drop.
pub struct Db {
    _dir: tempfile::TempDir,
    pub path: std::path::PathBuf,
}

impl Db {
    pub fn new() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.db");
        Db { _dir: dir, path }
    }
    pub fn url(&self) -> DatabaseUrl {
        DatabaseUrl::SqliteFile(self.path.clone())
    }
    pub fn conn(&self) -> SqliteConnection {
        SqliteConnection::establish(self.path.to_str().unwrap()).unwrap()
    }
}
