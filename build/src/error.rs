//! Errors of the build step; each says what is wrong, where, and what to do.

use std::path::PathBuf;

/// Why the build step failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An environment variable cargo sets for build scripts is missing.
    #[error("retort: `{key}` is not set; call retort_build::generate() from build.rs, where cargo sets it")]
    NotInBuildScript {
        /// The variable.
        key: &'static str,
    },
    /// Neither `src/lib.rs` nor `src/main.rs` exists.
    #[error("retort: no src/lib.rs or src/main.rs in {dir}; the build step reads the models from the crate root")]
    NoCrateRoot {
        /// The crate folder.
        dir: PathBuf,
    },
    /// A file could not be read or written.
    #[error("retort: {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A source file is not valid Rust.
    #[error("retort: {path}:{line}: not valid Rust ({message}); fix the syntax error the compiler also reports")]
    RustSyntax {
        /// The file.
        path: PathBuf,
        /// The line of the error.
        line: usize,
        /// What the parser said.
        message: String,
    },
}
