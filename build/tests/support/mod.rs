//! A crate on disk for the build step: `src/main.rs` holding models, a migrations folder,
//! and an `OUT_DIR`, run through `generate_in` with a fixed clock.
#![allow(dead_code)]

use std::path::PathBuf;

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
        let settings = Settings {
            mode: Mode::Write,
            message: None,
            now,
            migrations_dir: "migrations".into(),
            model_files: Vec::new(),
        };
        generate_in(self.dir.path(), self.out.path(), &settings)
    }

    pub fn state(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut all: Vec<_> = std::fs::read_dir(self.migrations())
            .unwrap()
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
