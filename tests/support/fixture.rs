//! A fixture crate on disk, built with a real `cargo build`: shared by the root package's
//! tests and `retort-cli`'s.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The shell commands of a Markdown text's ```sh blocks, in order (comments and blank lines
/// left out).
pub fn sh_commands(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in markdown.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            in_sh = !in_sh && t == "```sh";
            continue;
        }
        if in_sh && !t.is_empty() && !t.starts_with('#') {
            out.push(t.to_string());
        }
    }
    out
}

/// A process's standard output then its standard error, as text.
pub fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The workspace root.
pub fn workspace() -> PathBuf {
    // The root package's tests run here; another member's (`cli/`) one level down.
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if here.join("runtime").is_dir() {
        here
    } else {
        here.parent().map(Path::to_path_buf).unwrap_or(here)
    }
}

/// A crate that depends on retort by path, with its own `[workspace]` so it is a local root.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new(name: &str) -> Fixture {
        let dir = tempfile::Builder::new()
            .prefix(&format!("retort-{name}-"))
            .tempdir()
            .unwrap();
        let ws = workspace();
        let manifest = format!(
            r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
retort = {{ path = "{runtime}" }}
diesel = {{ version = "2.3", default-features = false, features = ["sqlite", "chrono", "serde_json", "32-column-tables", "with-deprecated"] }}
chrono = {{ version = "0.4", default-features = false, features = ["clock", "std", "serde"] }}
serde_json = "1"

[build-dependencies]
retort-build = {{ path = "{build}" }}

[workspace]
"#,
            runtime = ws.join("runtime").display(),
            build = ws.join("autogen").display(),
        );
        std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
        // The workspace's lock file pins the same versions, so nothing is resolved anew.
        std::fs::copy(ws.join("Cargo.lock"), dir.path().join("Cargo.lock")).unwrap();
        std::fs::write(
            dir.path().join("build.rs"),
            "fn main() {\n    if let Err(e) = retort_build::generate() {\n        eprintln!(\"{e}\");\n        std::process::exit(1);\n    }\n}\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(
            dir.path().join("src/main.rs"),
            "mod models;\n\nretort::include_migrations!();\n\nfn main() {\n    println!(\"{}\", MIGRATIONS.all().len());\n}\n",
        )
        .unwrap();
        Fixture { dir }
    }

    /// A fixture whose `retort` dependency has these features (besides the default).
    pub fn with_retort_features(name: &str, features: &[&str]) -> Fixture {
        let fixture = Fixture::new(name);
        let manifest = fixture.path().join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        let runtime = workspace().join("runtime");
        let line = format!("retort = {{ path = \"{}\" }}", runtime.display());
        assert!(text.contains(&line), "{text}");
        let with = format!(
            "retort = {{ path = \"{}\", features = [{}] }}",
            runtime.display(),
            features
                .iter()
                .map(|f| format!("\"{f}\""))
                .collect::<Vec<_>>()
                .join(", ")
        );
        std::fs::write(&manifest, text.replace(&line, &with)).unwrap();
        fixture
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write_models(&self, source: &str) {
        std::fs::write(self.path().join("src/models.rs"), source).unwrap();
    }

    pub fn migrations(&self) -> PathBuf {
        self.path().join("migrations")
    }

    /// `cargo build` with a fixed clock, writing unless `env` says otherwise.
    pub fn build(&self, env: &[(&str, &str)], verbose: bool) -> Output {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.arg("build").current_dir(self.path());
        if verbose {
            cmd.arg("-v");
        }
        // One target folder for every fixture: the dependencies compile once.
        cmd.env("CARGO_TARGET_DIR", workspace().join("target/fixtures"));
        // No debug info: linking is most of a fixture build.
        cmd.env("CARGO_PROFILE_DEV_DEBUG", "0");
        for key in retort_build::SETTINGS_ENV {
            cmd.env_remove(key);
        }
        cmd.env("RETORT_MODE", "write");
        for (k, v) in env {
            if v.is_empty() {
                cmd.env_remove(k);
            } else {
                cmd.env(k, v);
            }
        }
        let started = std::time::Instant::now();
        let out = cmd.output().unwrap();
        eprintln!("fixture build: {:.1}s", started.elapsed().as_secs_f64());
        out
    }

    /// Runs the fixture's binary (built by the last build).
    pub fn run(&self, name: &str) -> String {
        let bin = workspace().join("target/fixtures/debug").join(name);
        let out = Command::new(bin).output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    }

    /// The migration files, sorted.
    pub fn migration_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.migrations())
            .map(|r| {
                r.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|e| e == "rs"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }

    /// Every file in migrations/ with its bytes.
    pub fn migrations_state(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut all: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(self.migrations())
            .map(|r| {
                r.filter_map(|e| e.ok().map(|e| e.path()))
                    .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
                    .collect()
            })
            .unwrap_or_default();
        all.sort();
        all
    }
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
