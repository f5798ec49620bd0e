//! The attribute keys, each spelled once (as serde's derive keeps its own): the readers
//! compare paths with these, the settings carry them for their messages, and the lists of
//! known keys (for "did you mean …?") are made of them.

use std::fmt;

/// One attribute key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Symbol(&'static str);

impl Symbol {
    /// The key as written.
    pub(crate) fn as_str(self) -> &'static str {
        self.0
    }
}

impl PartialEq<Symbol> for syn::Path {
    fn eq(&self, key: &Symbol) -> bool {
        self.is_ident(key.0)
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

// `#[table(…)]` and `#[column(…)]`.
pub(crate) const NAME: Symbol = Symbol("name");
pub(crate) const RENAMED_FROM: Symbol = Symbol("renamed_from");
pub(crate) const COMMENT: Symbol = Symbol("comment");
pub(crate) const PRIMARY_KEY: Symbol = Symbol("primary_key");
pub(crate) const INDEX: Symbol = Symbol("index");
pub(crate) const UNIQUE: Symbol = Symbol("unique");
// `#[table(…)]` only.
pub(crate) const CHECK: Symbol = Symbol("check");
pub(crate) const PRIMARY_KEY_NAME: Symbol = Symbol("primary_key_name");
pub(crate) const SCHEMA: Symbol = Symbol("schema");
// `#[column(…)]` only.
pub(crate) const AUTOINCREMENT: Symbol = Symbol("autoincrement");
pub(crate) const SERVER_DEFAULT: Symbol = Symbol("server_default");
/// The old spelling of [`SERVER_DEFAULT`], refused with the fix.
pub(crate) const DEFAULT: Symbol = Symbol("default");
pub(crate) const MAX_LENGTH: Symbol = Symbol("max_length");
pub(crate) const SQL_TYPE: Symbol = Symbol("sql_type");
pub(crate) const CUSTOM_TYPE: Symbol = Symbol("custom_type");
pub(crate) const DIESEL_TYPE: Symbol = Symbol("diesel_type");
pub(crate) const REFERENCES: Symbol = Symbol("references");
pub(crate) const ON_DELETE: Symbol = Symbol("on_delete");
pub(crate) const ON_UPDATE: Symbol = Symbol("on_update");
pub(crate) const FK_NAME: Symbol = Symbol("fk_name");
pub(crate) const DEFERRABLE: Symbol = Symbol("deferrable");
pub(crate) const NOT_VALID: Symbol = Symbol("not_valid");
pub(crate) const SKIP: Symbol = Symbol("skip");
// Inside `check(…)`.
pub(crate) const EXPR: Symbol = Symbol("expr");

/// Keys accepted in `#[table(…)]`.
pub(crate) const TABLE_KEYS: &[Symbol] = &[
    NAME,
    RENAMED_FROM,
    COMMENT,
    INDEX,
    UNIQUE,
    CHECK,
    PRIMARY_KEY,
    PRIMARY_KEY_NAME,
    SCHEMA,
];

/// Keys accepted in `#[column(…)]`.
pub(crate) const COLUMN_KEYS: &[Symbol] = &[
    NAME,
    PRIMARY_KEY,
    AUTOINCREMENT,
    UNIQUE,
    INDEX,
    SERVER_DEFAULT,
    MAX_LENGTH,
    SQL_TYPE,
    CUSTOM_TYPE,
    DIESEL_TYPE,
    REFERENCES,
    ON_DELETE,
    ON_UPDATE,
    FK_NAME,
    DEFERRABLE,
    NOT_VALID,
    COMMENT,
    RENAMED_FROM,
    SKIP,
];
