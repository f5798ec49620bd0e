//! A crate on disk for the build step: `src/main.rs` holding models, a migrations folder,
//! and an `OUT_DIR`, run through `generate_in` with a fixed clock.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use retort_build::{generate_in, Error, Mode, Settings};

pub struct Crate {
    pub dir: tempfile::TempDir,
    pub out: tempfile::TempDir,
}

impl Crate {
    pub fn new(models: &str) -> Crate {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(
            dir.path().join("src/main.rs"),
            format!("use retort::Table;\n{models}"),
        )
        .unwrap();
        Crate {
            dir,
            out: tempfile::tempdir().unwrap(),
        }
    }

    pub fn models(&self, models: &str) {
        std::fs::write(
            self.dir.path().join("src/main.rs"),
            format!("use retort::Table;\n{models}"),
        )
        .unwrap();
    }

    pub fn migrations(&self) -> PathBuf {
        self.dir.path().join("migrations")
    }

    pub fn generate(&self, now: u64) -> Result<retort_build::Report, Error> {
        self.generate_for(now, &[])
    }

    /// The build step of a crate that compiles retort with these backends.
    pub fn generate_for(
        &self,
        now: u64,
        backends: &[retort_schema::sql::Dialect],
    ) -> Result<retort_build::Report, Error> {
        self.generate_with(now, backends, false)
    }

    /// The build step with `RETORT_STRICT_LOCKS` set or not.
    pub fn generate_with(
        &self,
        now: u64,
        backends: &[retort_schema::sql::Dialect],
        strict_locks: bool,
    ) -> Result<retort_build::Report, Error> {
        self.generate_settings(now, backends, strict_locks, true)
    }

    /// The build step with `RETORT_ONLINE_DDL=off`: the plain forms.
    pub fn generate_plain(
        &self,
        now: u64,
        backends: &[retort_schema::sql::Dialect],
    ) -> Result<retort_build::Report, Error> {
        self.generate_settings(now, backends, false, false)
    }

    fn generate_settings(
        &self,
        now: u64,
        backends: &[retort_schema::sql::Dialect],
        strict_locks: bool,
        online_ddl: bool,
    ) -> Result<retort_build::Report, Error> {
        let settings = Settings {
            mode: Mode::Write,
            message: None,
            now,
            migrations_dir: "migrations".into(),
            model_files: Vec::new(),
            backends: backends.to_vec(),
            strict_locks,
            online_ddl,
        };
        generate_in(self.dir.path(), self.out.path(), &settings)
    }

    pub fn state(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let Ok(entries) = std::fs::read_dir(self.migrations()) else {
            return Vec::new();
        };
        let mut all: Vec<_> = entries
            .map(|e| {
                let p = e.unwrap().path();
                let bytes = std::fs::read(&p).unwrap();
                (p, bytes)
            })
            .collect();
        all.sort();
        all
    }

    pub fn file_of(&self, needle: &str) -> PathBuf {
        self.state()
            .into_iter()
            .map(|(p, _)| p)
            .find(|p| p.to_string_lossy().contains(needle))
            .unwrap()
    }
}

pub const TASK: &str =
    "#[derive(Table)] pub struct Task { #[column(primary_key)] pub id: i32, pub title: String }\n";
pub const TASK_NOTE: &str = "#[derive(Table)] pub struct Task { #[column(primary_key)] pub id: i32, pub title: String, pub note: Option<String> }\n";

/// A crate with two migrations: initial, then add note.
pub fn two_migrations() -> Crate {
    let c = Crate::new(TASK);
    c.generate(1_000_000).unwrap();
    c.models(TASK_NOTE);
    c.generate(1_000_060).unwrap();
    assert_eq!(c.state().len(), 3);
    c
}

pub fn assert_fails_unchanged(c: &Crate, expect: &[&str]) {
    let before = c.state();
    let err = c.generate(2_000_000).unwrap_err().to_string();
    for e in expect {
        assert!(err.contains(e), "expected {e:?} in: {err}");
    }
    assert_eq!(c.state(), before, "a failing build step wrote something");
}

pub fn edit(path: &Path, f: impl Fn(String) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, f(text)).unwrap();
}
