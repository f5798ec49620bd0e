//! Reads the `migration!` grammar into a [`MigrationFile`].

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, FieldValue, Member, Token};

mod op;
mod parts;

use super::call::{err, list, string, strings, Result};
use super::MigrationFile;
use crate::ops::Op;
use op::op;
pub use op::OPERATIONS;
pub use parts::DEFAULT_BATCH;

/// Why a migration file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The file is not valid Rust, or the `migration!` block breaks the grammar.
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and what was expected.
        message: String,
    },
    /// The file holds no `migration! { … }` block, or more than one.
    #[error("{0}")]
    Shape(String),
}

impl FileError {
    fn from_syn(e: syn::Error) -> FileError {
        let at = e.span().start();
        FileError::Syntax {
            line: at.line,
            column: at.column + 1,
            message: e.to_string(),
        }
    }
}

/// Reads a whole migration file: the one `migration! { … }` item in it.
pub fn parse_file(text: &str) -> std::result::Result<MigrationFile, FileError> {
    if let Some(line) = conflict_marker_line(text) {
        return Err(FileError::Shape(format!(
            "line {line} holds a git conflict marker; resolve the merge conflict in this file first"
        )));
    }
    let file = syn::parse_file(text).map_err(FileError::from_syn)?;
    let mut found = file.items.iter().filter_map(|item| match item {
        syn::Item::Macro(m)
            if m.mac
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "migration") =>
        {
            Some(&m.mac)
        }
        _ => None,
    });
    let Some(mac) = found.next() else {
        return Err(FileError::Shape(
            "no `retort::migration! { … }` block in the file".into(),
        ));
    };
    if found.next().is_some() {
        return Err(FileError::Shape(
            "more than one `migration!` block; a file holds exactly one migration".into(),
        ));
    }
    parse_body(mac.tokens.clone()).map_err(FileError::from_syn)
}

/// The 1-based line of the first git conflict marker, if any.
pub fn conflict_marker_line(text: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            l.starts_with("<<<<<<<")
                || l.starts_with(">>>>>>>")
                || l.starts_with("|||||||")
                || l == "======="
        })
        .map(|i| i + 1)
}

/// Reads the body of a `migration! { … }` block.
pub fn parse_body(tokens: TokenStream) -> Result<MigrationFile> {
    let fields = Punctuated::<FieldValue, Token![,]>::parse_terminated.parse2(tokens)?;
    let mut revision = None;
    let mut parents = None;
    let mut message = None;
    let mut up = None;
    let mut down = None;
    let mut atomic = None;
    let mut reviewed_locks = None;
    let mut replaces = None;
    let mut elidable = None;
    let mut errors: Option<syn::Error> = None;
    let mut record = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    for field in &fields {
        let Member::Named(key) = &field.member else {
            record(syn::Error::new_spanned(
                &field.member,
                "expected a field name",
            ));
            continue;
        };
        let key_name = key.to_string();
        let slot_taken = match key_name.as_str() {
            "revision" => revision.is_some(),
            "parents" => parents.is_some(),
            "message" => message.is_some(),
            "up" => up.is_some(),
            "down" => down.is_some(),
            "atomic" => atomic.is_some(),
            "reviewed_locks" => reviewed_locks.is_some(),
            "replaces" => replaces.is_some(),
            "elidable" => elidable.is_some(),
            _ => {
                record(syn::Error::new_spanned(key, format!("unknown field `{key}`; a migration has revision, parents, message, up and down (and `atomic: false` to run outside a transaction, `reviewed_locks: [\"…\"]` for lock warnings its author accepts, `elidable: true` for data steps a squash may drop, `replaces: [\"…\"]` on a checkpoint)")));
                continue;
            }
        };
        if slot_taken {
            record(syn::Error::new_spanned(
                key,
                format!("`{key}` is given twice"),
            ));
            continue;
        }
        let result = match key_name.as_str() {
            "revision" => string(&field.expr, "the revision id").map(|v| revision = Some(v)),
            "parents" => strings(&field.expr, "parent revision ids").map(|v| parents = Some(v)),
            "message" => string(&field.expr, "the message").map(|v| message = Some(v)),
            "up" => ops(&field.expr).map(|v| up = Some(v)),
            "reviewed_locks" => strings(&field.expr, "lock warnings as the build names them")
                .map(|v| reviewed_locks = Some(v)),
            "replaces" => strings(&field.expr, "the revision ids this checkpoint replaces")
                .map(|v| replaces = Some(v)),
            "atomic" => flag(&field.expr, "`atomic` is `true` (the default) or `false`")
                .map(|v| atomic = Some(v)),
            "elidable" => flag(&field.expr, "`elidable` is `true` or `false` (the default)")
                .map(|v| elidable = Some(v)),
            _ => ops(&field.expr).map(|v| down = Some(v)),
        };
        if let Err(e) = result {
            record(e);
        }
    }
    if let Some(e) = errors {
        return Err(e);
    }
    let Some(revision) = revision else {
        return err(&fields, "the migration has no `revision: \"…\"`");
    };
    if revision.is_empty()
        || !revision
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return err(
            &fields,
            format!("revision `{revision}` must be non-empty letters, digits and `_`"),
        );
    }
    let atomic = atomic.unwrap_or(true);
    let up = up.unwrap_or_default();
    let down = down.unwrap_or_default();
    if atomic {
        if let Some(op) = up.iter().chain(&down).find(|op| op.outside_transaction()) {
            let what = match op {
                Op::CreateIndex { index, .. } => {
                    format!("`create_index(\"{}\", …, concurrently = true)`", index.name)
                }
                Op::DropIndex { name, .. } => {
                    format!("`drop_index(\"{name}\", …, concurrently = true)`")
                }
                Op::Backfill { table, column, .. } => format!(
                    "`backfill(\"{table}\", \"{column}\", …)`, which commits batch by batch,"
                ),
                _ => format!("`{}(…, online = true)` ({})", op.name(), op.describe()),
            };
            return err(
                &fields,
                format!("{what} cannot run inside a transaction; add `atomic: false,` to this migration (it then runs statement by statement, and a failure half-way is recorded for `db resolve`)"),
            );
        }
    }
    Ok(MigrationFile {
        revision,
        parents: parents.unwrap_or_default(),
        message: message.unwrap_or_default(),
        up,
        down,
        atomic,
        reviewed_locks: reviewed_locks.unwrap_or_default(),
        replaces: replaces.unwrap_or_default(),
        elidable: elidable.unwrap_or(false),
    })
}

fn flag(e: &Expr, what: &str) -> Result<bool> {
    match e {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Bool(b),
            ..
        }) => Ok(b.value),
        other => Err(syn::Error::new_spanned(other, what)),
    }
}

fn ops(e: &Expr) -> Result<Vec<Op>> {
    let mut out = Vec::new();
    let mut errors: Option<syn::Error> = None;
    for item in list(e, "operations")? {
        match op(item) {
            Ok(op) => out.push(op),
            Err(e) => match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            },
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_point_at_the_token_and_name_the_fix() {
        let e = parse_body(
            quote::quote! { revision: "r1", up: [add_colum("t", column("c", integer))] },
        )
        .unwrap_err();
        assert!(e.to_string().contains("did you mean `add_column`"), "{e}");
        let e = parse_body(
            quote::quote! { revision: "r1", up: [add_column("t", column("c", integr))] },
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("unknown column type `integr`"),
            "{e}"
        );
        let e = parse_body(quote::quote! { revision: "r1", parent: [] }).unwrap_err();
        assert!(e.to_string().contains("unknown field `parent`"), "{e}");
    }

    #[test]
    fn conflict_markers_are_refused() {
        let text = "retort::migration! {\n<<<<<<< HEAD\n revision: \"a\",\n=======\n revision: \"b\",\n>>>>>>> other\n}\n";
        let e = parse_file(text).unwrap_err();
        assert!(
            e.to_string().contains("line 2 holds a git conflict marker"),
            "{e}"
        );
    }
}
