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
    let mut out = String::with_capacity(struct_name.len() + 4);
    for (i, c) in struct_name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out.push('s');
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

/// `ix_<table>_<col>[_<col>…]`.
pub fn index_name(table: &str, columns: &[String]) -> String {
    fit(format!("ix_{table}_{}", columns.join("_")))
}

/// `uq_<table>_<col>[_<col>…]`.
pub fn unique_name(table: &str, columns: &[String]) -> String {
    fit(format!("uq_{table}_{}", columns.join("_")))
}

/// `fk_<table>_<col>[_<col>…]_<referred table>`.
pub fn foreign_key_name(table: &str, columns: &[String], referred_table: &str) -> String {
    fit(format!("fk_{table}_{}_{referred_table}", columns.join("_")))
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
