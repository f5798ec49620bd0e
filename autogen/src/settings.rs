//! The settings of one build step: what cargo passes in the environment, and whether this
//! build may write migration files.

use std::path::{Path, PathBuf};

use crate::error::Error;
use retort_schema::clock;
use retort_schema::sql::Dialect;

/// Whether a build may write migration files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Write the next migration when the models are ahead.
    Write,
    /// Write nothing; fail when the models are ahead. Holds the reason, for messages.
    Check(String),
}

/// The settings of one build step; [`Settings::from_env`] reads them as cargo passes them.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Write or check.
    pub mode: Mode,
    /// Message for the next migration (else derived from its operations).
    pub message: Option<String>,
    /// Seconds since the epoch, for revision ids and headers.
    pub now: u64,
    /// The migrations folder, relative to the crate (default `migrations`).
    pub migrations_dir: PathBuf,
    /// Files to read models from, relative to the crate; empty means the whole crate
    /// (from `src/lib.rs` or `src/main.rs` through every `mod`).
    pub model_files: Vec<PathBuf>,
    /// The backends the crate compiles retort with (`DEP_RETORT_BACKENDS`, which retort's
    /// build script passes on): what one of them cannot run is refused before anything is
    /// written. Empty when unknown.
    pub backends: Vec<Dialect>,
    /// Fail the build on a lock warning (of any migration) that its migration's
    /// `reviewed_locks` does not list (`RETORT_STRICT_LOCKS=1`, for CI).
    pub strict_locks: bool,
    /// Write the online form where the generator has one (`RETORT_ONLINE_DDL`, on unless
    /// `0`/`off`/`false`): on PostgreSQL, an index on an existing table is built
    /// concurrently, in a migration of its own that runs outside a transaction.
    pub online_ddl: bool,
}

impl Settings {
    /// Reads `RETORT_MODE`, `CI`, `RETORT_MESSAGE`, `SOURCE_DATE_EPOCH` and
    /// `RETORT_STRICT_LOCKS` and `RETORT_ONLINE_DDL`.
    pub fn from_env(manifest_dir: &Path) -> Result<Settings, Error> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let mode = match var("RETORT_MODE").as_deref() {
            Some("write") => Mode::Write,
            Some("check") => Mode::Check("RETORT_MODE=check".into()),
            Some(other) => {
                return Err(Error::BadMode {
                    value: other.into(),
                })
            }
            None if var("CI").is_some_and(|v| v != "false" && v != "0") => {
                Mode::Check("CI is set".into())
            }
            None if !is_local_checkout(manifest_dir) => Mode::Check(
                "the crate is not a local checkout (registry, git dependency or `cargo package`)"
                    .into(),
            ),
            None => Mode::Write,
        };
        Ok(Settings {
            mode,
            message: var("RETORT_MESSAGE"),
            now: clock::now(
                var("RETORT_NOW")
                    .or_else(|| var("SOURCE_DATE_EPOCH"))
                    .as_deref(),
            ),
            migrations_dir: PathBuf::from("migrations"),
            model_files: Vec::new(),
            backends: backends(var("DEP_RETORT_BACKENDS").as_deref()),
            strict_locks: var("RETORT_STRICT_LOCKS")
                .is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true")),
            online_ddl: !var("RETORT_ONLINE_DDL").is_some_and(|v| {
                v == "0" || v.eq_ignore_ascii_case("off") || v.eq_ignore_ascii_case("false")
            }),
        })
    }
}

/// The backends named in `DEP_RETORT_BACKENDS` (`sqlite,mysql`).
pub(crate) fn backends(list: Option<&str>) -> Vec<Dialect> {
    list.unwrap_or_default()
        .split(',')
        .filter_map(|name| Dialect::parse(name.trim()))
        .collect()
}

/// Whether the crate is a checkout a developer works in, not a dependency or a packaged copy.
pub(crate) fn is_local_checkout(manifest_dir: &Path) -> bool {
    let p = manifest_dir.to_string_lossy().replace('\\', "/");
    !(p.contains("/.cargo/registry/")
        || p.contains("/.cargo/git/checkouts/")
        || p.contains("/target/package/"))
}

pub(crate) fn env_path(key: &'static str) -> Result<PathBuf, Error> {
    std::env::var_os(key)
        .map(PathBuf::from)
        .ok_or(Error::NotInBuildScript { key })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_and_packaged_copies_are_not_local_checkouts() {
        assert!(is_local_checkout(Path::new("/home/dev/app")));
        assert!(!is_local_checkout(Path::new(
            "/home/dev/.cargo/registry/src/index.crates.io-x/app-0.1.0"
        )));
        assert!(!is_local_checkout(Path::new(
            "/home/dev/.cargo/git/checkouts/app-123/abc"
        )));
        assert!(!is_local_checkout(Path::new(
            "/home/dev/app/target/package/app-0.1.0"
        )));
    }
}
