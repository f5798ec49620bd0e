//! Identifier rules and conventional names for constraints and indexes.
//!
//! Names follow SQLAlchemy's default naming convention so that a schema moved
//! from Alembic keeps its index and constraint names: `ix_<table>_<columns>`,
//! `uq_<table>_<columns>`, `fk_<table>_<column>_<referred table>`.

use sha2::{Digest, Sha256};

/// The longest identifier every supported database accepts (PostgreSQL's limit, in bytes).
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// The name of retort's version table; no model may use it.
pub const VERSION_TABLE: &str = "retort_versions";

/// The name of the table that holds the migration lock where the database's own lock does
/// not reach the whole cluster (MariaDB Galera); no model may use it.
pub const LOCK_TABLE: &str = "retort_lock";

/// Why an identifier is not usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentifierProblem {
    /// The name is empty.
    Empty,
    /// The name is longer than [`MAX_IDENTIFIER_BYTES`]; holds its length.
    TooLong(usize),
    /// The name holds a NUL or a double quote / backtick, which no dialect can quote portably.
    BadCharacter(char),
}

impl std::fmt::Display for IdentifierProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdentifierProblem::Empty => f.write_str("is empty"),
            IdentifierProblem::TooLong(n) => write!(
                f,
                "is {n} bytes long; databases accept at most {MAX_IDENTIFIER_BYTES} (PostgreSQL would silently truncate it)"
            ),
            IdentifierProblem::BadCharacter(c) => write!(f, "contains {c:?}, which cannot be quoted portably"),
        }
    }
}

/// Checks that `name` can be used as a table, column, index or constraint name.
///
/// ```
/// use retort_schema::naming::{check_identifier, IdentifierProblem};
/// assert!(check_identifier("tasks").is_ok());
/// assert_eq!(check_identifier(""), Err(IdentifierProblem::Empty));
/// assert_eq!(check_identifier(&"x".repeat(64)), Err(IdentifierProblem::TooLong(64)));
/// ```
pub fn check_identifier(name: &str) -> Result<(), IdentifierProblem> {
    if name.is_empty() {
        return Err(IdentifierProblem::Empty);
    }
    if name.len() > MAX_IDENTIFIER_BYTES {
        return Err(IdentifierProblem::TooLong(name.len()));
    }
    if let Some(c) = name.chars().find(|c| matches!(c, '\0' | '"' | '`')) {
        return Err(IdentifierProblem::BadCharacter(c));
    }
    Ok(())
}

/// Diesel's default table name for a struct: snake_case plus `s` (`SpeakerEmbedding` → `speaker_embeddings`).
pub fn default_table_name(struct_name: &str) -> String {
    let mut out = snake_case(struct_name);
    out.push('s');
    out
}

/// `PostStatus` → `post_status`: an enum's default type name, a variant's default value.
pub fn snake_case(rust_name: &str) -> String {
    let mut out = String::with_capacity(rust_name.len() + 4);
    for (i, c) in rust_name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The Rust module name of a table's diesel DSL: the table name when it is a plain
/// identifier, otherwise a cleaned form (`Order-Lines` → `order_lines`).
pub fn dsl_module_name(table: &str) -> String {
    let cleaned: String = table
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.starts_with(|c: char| c.is_ascii_digit()) {
        format!("t_{cleaned}")
    } else {
        cleaned
    }
}

/// A file-name slug: lowercase letters, digits and single underscores, at most 60 bytes,
/// `migration` when nothing is left.
///
/// ```
/// assert_eq!(retort_schema::naming::slug("Backfill task statuses!"), "backfill_task_statuses");
/// ```
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.truncate(60);
    let out = out.trim_end_matches('_');
    if out.is_empty() {
        "migration".into()
    } else {
        out.to_string()
    }
}

/// `pk_<table>`: the primary key's name unless the model gives one.
pub fn primary_key_name(table: &str) -> String {
    let table = own(table);
    fit(format!("pk_{table}"))
}

/// How an app's derived constraint and index names are formed (`naming = "…"` under
/// `[package.metadata.retort]` in Cargo.toml).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Convention {
    /// SQLAlchemy's default convention, retort's own: `pk_<table>`, `ix_<table>_<cols>`,
    /// `uq_<table>_<cols>`, `fk_<table>_<cols>_<referred table>`.
    #[default]
    Retort,
    /// The names PostgreSQL gives unnamed constraints and indexes: `<table>_pkey`,
    /// `<table>_<cols>_idx`, `<table>_<cols>_key`, `<table>_<cols>_fkey` (cut to 63 bytes
    /// the way PostgreSQL cuts them), so a database made by hand or by another tool matches.
    Postgres,
}

impl Convention {
    /// Reads `retort` / `sqlalchemy` or `postgres` / `postgresql`.
    ///
    /// ```
    /// use retort_schema::naming::Convention;
    /// assert_eq!(Convention::parse("postgres"), Some(Convention::Postgres));
    /// assert_eq!(Convention::parse("django"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Convention> {
        match text.trim().to_ascii_lowercase().as_str() {
            "retort" | "sqlalchemy" => Some(Convention::Retort),
            "postgres" | "postgresql" => Some(Convention::Postgres),
            _ => None,
        }
    }

    /// The primary key's name.
    pub fn primary_key(self, table: &str) -> String {
        match self {
            Convention::Retort => primary_key_name(table),
            Convention::Postgres => pg_name(table, "", "pkey"),
        }
    }

    /// An index's name.
    pub fn index(self, table: &str, columns: &[String]) -> String {
        match self {
            Convention::Retort => index_name(table, columns),
            Convention::Postgres => pg_name(table, &columns.join("_"), "idx"),
        }
    }

    /// A unique constraint's name.
    pub fn unique(self, table: &str, columns: &[String]) -> String {
        match self {
            Convention::Retort => unique_name(table, columns),
            Convention::Postgres => pg_name(table, &columns.join("_"), "key"),
        }
    }

    /// A foreign key's name.
    pub fn foreign_key(self, table: &str, columns: &[String], referred_table: &str) -> String {
        match self {
            Convention::Retort => foreign_key_name(table, columns, referred_table),
            Convention::Postgres => pg_name(table, &columns.join("_"), "fkey"),
        }
    }
}

/// The app's settings under `[package.metadata.retort]` in its Cargo.toml.
#[cfg(feature = "parse")]
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AppSettings {
    naming: Option<String>,
}

#[cfg(feature = "parse")]
impl Convention {
    /// The convention the crate in `manifest_dir` chose (`naming = "postgres"` under
    /// `[package.metadata.retort]`), or the default. A value that is not a convention, or a
    /// key retort does not know, is an error naming the file and the fix.
    pub fn of_crate(manifest_dir: &std::path::Path) -> Result<Convention, String> {
        let path = manifest_dir.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(Convention::default());
        };
        Self::from_manifest(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// [`Convention::of_crate`] from the manifest's text.
    ///
    /// ```
    /// use retort_schema::naming::Convention;
    /// let toml = "[package]\nname = \"app\"\n[package.metadata.retort]\nnaming = \"postgres\"\n";
    /// assert_eq!(Convention::from_manifest(toml), Ok(Convention::Postgres));
    /// assert_eq!(Convention::from_manifest("[package]\nname = \"app\"\n"), Ok(Convention::Retort));
    /// assert!(Convention::from_manifest("[package.metadata.retort]\nnaming = \"django\"\n").is_err());
    /// ```
    pub fn from_manifest(text: &str) -> Result<Convention, String> {
        #[derive(serde::Deserialize)]
        struct Manifest {
            package: Option<Package>,
        }
        #[derive(serde::Deserialize)]
        struct Package {
            metadata: Option<Metadata>,
        }
        #[derive(serde::Deserialize)]
        struct Metadata {
            retort: Option<AppSettings>,
        }
        let manifest: Manifest = toml::from_str(text).map_err(|e| e.to_string())?;
        let settings = manifest
            .package
            .and_then(|p| p.metadata)
            .and_then(|m| m.retort)
            .unwrap_or_default();
        match settings.naming.as_deref() {
            None => Ok(Convention::default()),
            Some(n) => Convention::parse(n).ok_or_else(|| {
                format!("`naming = \"{n}\"` under [package.metadata.retort] is not a naming convention; write \"retort\" (pk_/ix_/uq_/fk_ names) or \"postgres\" (<table>_pkey, <table>_<columns>_fkey, …)")
            }),
        }
    }
}

/// PostgreSQL's `makeObjectName`: `<name1>_<name2>_<label>`, the longer of the two names
/// cut a byte at a time until the whole fits in 63 bytes (at a character boundary).
///
/// ```
/// use retort_schema::naming::Convention;
/// assert_eq!(Convention::Postgres.foreign_key("comment", &["post_id".into()], "post"), "comment_post_id_fkey");
/// assert_eq!(Convention::Postgres.primary_key("comment"), "comment_pkey");
/// let long = "a".repeat(40);
/// let name = Convention::Postgres.unique(&long, &["b".repeat(40)]);
/// assert_eq!(name, format!("{}_{}_key", "a".repeat(29), "b".repeat(29)));
/// ```
/// A table's own name, without its schema (`audit.events` → `events`): derived names are
/// per schema, as PostgreSQL keeps indexes and constraints beside their table.
fn own(table: &str) -> &str {
    crate::sql::split_schema(table).1
}

fn pg_name(name1: &str, name2: &str, label: &str) -> String {
    let name1 = own(name1);
    let mut overhead = label.len() + 1;
    if !name2.is_empty() {
        overhead += 1;
    }
    let avail = MAX_IDENTIFIER_BYTES.saturating_sub(overhead);
    let (mut n1, mut n2) = (name1.len(), name2.len());
    while n1 + n2 > avail {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let clip = |s: &str, mut n: usize| {
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        s[..n].to_string()
    };
    if name2.is_empty() {
        format!("{}_{label}", clip(name1, n1))
    } else {
        format!("{}_{}_{label}", clip(name1, n1), clip(name2, n2))
    }
}

/// `ix_<table>_<col>[_<col>…]`.
pub fn index_name(table: &str, columns: &[String]) -> String {
    let table = own(table);
    fit(format!("ix_{table}_{}", columns.join("_")))
}

/// `uq_<table>_<col>[_<col>…]`.
pub fn unique_name(table: &str, columns: &[String]) -> String {
    let table = own(table);
    fit(format!("uq_{table}_{}", columns.join("_")))
}

/// `fk_<table>_<col>[_<col>…]_<referred table>`.
pub fn foreign_key_name(table: &str, columns: &[String], referred_table: &str) -> String {
    let (table, referred_table) = (own(table), own(referred_table));
    fit(format!("fk_{table}_{}_{referred_table}", columns.join("_")))
}

/// `retort_nn_<table>_<col>`: the check that stands in for `NOT NULL` while PostgreSQL
/// validates it without blocking writes (dropped once the column is `NOT NULL`).
pub fn not_null_check_name(table: &str, column: &str) -> String {
    let table = own(table);
    fit(format!("retort_nn_{table}_{column}"))
}

/// Keeps a conventional name within [`MAX_IDENTIFIER_BYTES`]: a too-long name is cut and given
/// a short hash of the full name, so it stays unique and deterministic.
fn fit(name: String) -> String {
    if name.len() <= MAX_IDENTIFIER_BYTES {
        return name;
    }
    let digest = Sha256::digest(name.as_bytes());
    let hash: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    let mut cut = MAX_IDENTIFIER_BYTES - hash.len() - 1;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hash}", &name[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diesel_table_names() {
        assert_eq!(default_table_name("Task"), "tasks");
        assert_eq!(default_table_name("SpeakerEmbedding"), "speaker_embeddings");
    }

    #[test]
    fn conventional_names() {
        let cols = vec!["task_uuid".to_string()];
        assert_eq!(
            index_name("speaker_embeddings", &cols),
            "ix_speaker_embeddings_task_uuid"
        );
        assert_eq!(unique_name("t", &["a".into(), "b".into()]), "uq_t_a_b");
        assert_eq!(
            foreign_key_name("t", &cols, "tasks"),
            "fk_t_task_uuid_tasks"
        );
    }

    #[test]
    fn long_conventional_names_are_cut_with_a_hash() {
        let long = "c".repeat(70);
        let a = index_name("t", std::slice::from_ref(&long));
        let b = index_name("t", &[format!("{long}x")]);
        assert_eq!(a.len(), MAX_IDENTIFIER_BYTES);
        assert_ne!(a, b);
        assert!(check_identifier(&a).is_ok());
    }
}
