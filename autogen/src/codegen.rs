//! Writes a migration file that reads as if a person had written it carefully:
//! a header for the reviewer, then the `migration!` block, each operation
//! formatted by prettyplease, destructive ones marked.

use retort_schema::migration::op_tokens;
use retort_schema::ops::Op;

/// The old name of [`NewMigrationFile`] here.
#[allow(deprecated)]
pub use retort_schema::migration::NewMigration;
pub use retort_schema::migration::{NewMigrationFile, Origin};

/// The old name of [`file_text`].
#[deprecated(
    since = "0.1.0",
    note = "renamed to `file_text`: `render` means SQL (see docs/naming.md)"
)]
pub fn render(m: &NewMigrationFile) -> String {
    file_text(m)
}

/// The whole file, each operation formatted by prettyplease.
pub fn file_text(m: &NewMigrationFile) -> String {
    retort_schema::migration::write_file(m, &|op| format_expr(&op_tokens(op)))
}

/// Formats an expression with prettyplease (through a throwaway `const` item).
fn format_expr(tokens: &proc_macro2::TokenStream) -> String {
    let wrapped = quote::quote!(const _: () = #tokens;);
    let Ok(file) = syn::parse2::<syn::File>(wrapped) else {
        return tokens.to_string();
    };
    let text = prettyplease::unparse(&file);
    let body = text.trim_end().trim_start_matches("const _: () = ");
    body.strip_suffix(';').unwrap_or(body).to_string()
}

/// A file-name slug and message for operations: `add_tasks_retry_count`, `create_speaker_embeddings_tasks`.
pub fn message_for(ops: &[Op]) -> String {
    let created: Vec<&str> = ops
        .iter()
        .filter_map(|o| match o {
            Op::CreateTable { table } => Some(table.name.as_str()),
            _ => None,
        })
        .collect();
    let only_new_tables = !created.is_empty()
        && ops.iter().all(|o| {
            matches!(o, Op::CreateTable { .. }) || o.table().is_some_and(|t| created.contains(&t))
        });
    let base = if only_new_tables {
        if created.len() <= 3 {
            format!("create_{}", created.join("_"))
        } else {
            "initial".to_string()
        }
    } else {
        let primary = ops.iter().find(|o| !secondary(o)).unwrap_or(&ops[0]);
        let slug = match primary {
            Op::CreateTable { table } => format!("create_{}", table.name),
            Op::DropTable { table } => format!("drop_{table}"),
            Op::RenameTable { from, to } => format!("rename_{from}_to_{to}"),
            Op::AddColumn { table, column } => format!("add_{table}_{}", column.name),
            Op::DropColumn { table, column } => format!("drop_{table}_{column}"),
            Op::RenameColumn { table, from, to } => format!("rename_{table}_{from}_to_{to}"),
            Op::AlterColumn { table, column, .. } => format!("alter_{table}_{column}"),
            Op::CreateIndex { index, .. } => format!("add_index_{}", index.name),
            Op::DropIndex { name, .. } => format!("drop_index_{name}"),
            Op::AddUnique { unique, .. } => format!("add_{}", unique.name),
            Op::AddForeignKey { foreign_key, .. } => format!("add_{}", foreign_key.name),
            Op::AddCheck { table, check, .. } => format!("add_{table}_check_{}", check.name),
            Op::DropConstraint { name, .. } => format!("drop_{name}"),
            Op::RenameIndex { from, to, .. } | Op::RenameConstraint { from, to, .. } => {
                format!("rename_{from}_to_{to}")
            }
            Op::SetTableComment { table, .. } => format!("comment_{table}"),
            Op::Execute { .. } => "execute_sql".into(),
            Op::Backfill { table, column, .. } => format!("backfill_{table}_{column}"),
            Op::RunRust { function } => format!("run_{function}"),
            Op::CreateObject { object } => format!("create_{}", object.name),
            Op::DropObject { object } => format!("drop_{}", object.name),
            Op::CreateEnum { name, .. } => format!("create_enum_{name}"),
            Op::DropEnum { name, .. } => format!("drop_enum_{name}"),
            Op::AlterEnum { name, .. } => format!("alter_enum_{name}"),
        };
        if ops.len() > 1 && ops.iter().filter(|o| !secondary(o)).count() > 1 {
            format!("{slug}_and_more")
        } else {
            slug
        }
    };
    slugify(&base)
}

/// Lowercase letters, digits and single underscores, at most 60 bytes.
pub fn slugify(text: &str) -> String {
    retort_schema::naming::slug(text)
}

/// Operations that follow from others (drops before a change, renames of names derived from
/// a renamed table or column): they do not name a migration.
fn secondary(op: &Op) -> bool {
    matches!(
        op,
        Op::DropConstraint { .. }
            | Op::DropIndex { .. }
            | Op::RenameIndex { .. }
            | Op::RenameConstraint { .. }
    )
}
