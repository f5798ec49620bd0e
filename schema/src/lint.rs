//! Warnings for the reviewer of a migration: the diff finds them, the file header shows them.

/// A warning about a generated operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lint {
    /// What kind of risk.
    pub kind: LintKind,
    /// The warning, naming the objects and the fix.
    pub message: String,
}

/// The kinds of [`Lint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LintKind {
    /// A table or column is dropped with its data.
    Drop,
    /// A type change may not fit existing values.
    Narrowing,
    /// A NOT NULL column or constraint meets existing rows.
    NotNull,
    /// A unique constraint or index meets existing rows.
    Unique,
    /// A check or foreign key meets existing rows.
    Constraint,
    /// A drop plus an add look like an undeclared rename.
    PossibleRename,
    /// A lock that keeps other sessions waiting while the table is scanned, rewritten or
    /// indexed (the build's review, per server backend).
    Lock,
}
