//! `OUT_DIR/retort_migrations.rs`: what `retort::include_migrations!()` pulls into the app —
//! the diesel relations and every migration file as a module, listed in `MIGRATIONS`.

use std::fmt::Write as _;

use crate::discover::FoundModel;
use crate::history::History;

/// The index source for these models and this history. `resolved` is the models' schema as
/// the diff saw it (enum columns resolved, declared objects and enums added): what `check`
/// compares a database with. Without it (models the derive refuses) the tables as parsed.
pub fn source(
    models: &[FoundModel],
    resolved: Option<&retort_schema::Schema>,
    history: &History,
    dir: &std::path::Path,
) -> String {
    let mut out =
        String::from("// Written by retort-build; included by retort::include_migrations!().\n\n");
    out.push_str(&crate::relations::source(models));
    // Checkpoints in their transition are compiled too (the runtime sets them aside while
    // the files they replace are listed).
    let mut ordered = history.ordered();
    ordered.extend(history.set_aside.values());
    for entry in &ordered {
        let path = entry
            .path
            .canonicalize()
            .unwrap_or_else(|_| entry.path.clone());
        let _ = writeln!(
            out,
            "#[path = {:?}]\nmod {};",
            path.display().to_string(),
            module_name(&entry.file.revision)
        );
    }
    let list: Vec<String> = ordered
        .iter()
        .map(|e| format!("&{}::MIGRATION", module_name(&e.file.revision)))
        .collect();
    let schema = match resolved {
        Some(s) => s.without_rename_hints(),
        None => retort_schema::Schema::from_tables(
            models.iter().map(|m| m.model.table.without_rename_hints()),
        ),
    };
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    // The head, as this build checked it: a start-up at head then needs no graph walk.
    let heads: Vec<String> = history
        .heads()
        .iter()
        .map(|e| format!("{:?}", e.file.revision))
        .collect();
    // The models' schema as the code that builds it, called only by `check`.
    let _ = writeln!(
        out,
        "\n/// The models' schema as this build saw it.\n#[allow(dead_code)]\nfn __retort_models() -> ::retort::schema::Schema {{ {} }}",
        retort_schema::construct::Construct::construct(&schema)
    );
    let _ = writeln!(
        out,
        "\n/// Every migration of this crate, parents before children.\n#[allow(dead_code)]\npub static MIGRATIONS: ::retort::Migrations = ::retort::Migrations::new(&[{}])\n    .with_heads(&[{}])\n    .with_models(__retort_models)\n    .with_dir({:?});",
        list.join(", "),
        heads.join(", "),
        dir.display().to_string()
    );
    out
}

/// The Rust module that holds a revision's file.
pub fn module_name(revision: &str) -> String {
    format!("m_{}", revision.to_ascii_lowercase())
}
