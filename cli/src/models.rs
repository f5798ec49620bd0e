//! `retort models`: read a live database, write its models, first migration and snapshot.

use std::path::PathBuf;

use retort::tools::Tool;
use retort::DatabaseUrl;

/// What `retort models` was given.
pub struct Args {
    pub database_url: Option<String>,
    pub crate_dir: PathBuf,
    pub models: PathBuf,
    pub migrations: PathBuf,
    pub print: bool,
}

pub fn run(args: Args) -> Result<(), String> {
    let url = DatabaseUrl::from_env(args.database_url.as_deref()).map_err(|e| e.to_string())?;
    let mut backend = retort::backend::connect(&url).map_err(|e| e.to_string())?;
    let mut live = backend.introspect().map_err(|e| e.to_string())?;
    let catalog = backend.catalog();
    // Another tool's version table is that tool's, not the app's: it stays out of the models
    // (`db adopt --from` leaves it in place and `check` leaves it alone).
    let others: Vec<&'static str> = Tool::ALL
        .iter()
        .map(|t| t.table())
        .filter(|t| live.tables.remove(*t).is_some())
        .collect();
    if live.tables.is_empty() {
        return Err(format!(
            "the database at {} has no tables to write models for",
            url
        ));
    }
    let naming = retort_schema::naming::Convention::of_crate(&args.crate_dir)?;
    if args.print {
        let source = retort_build::models::source(&live, naming, Some(&catalog))
            .map_err(|e| e.to_string())?;
        print!("{source}");
        return Ok(());
    }
    let out = tempfile::tempdir().map_err(|e| format!("cannot make a scratch folder: {e}"))?;
    let now = retort_schema::clock::now(std::env::var("RETORT_NOW").ok().as_deref());
    let init = retort_build::models::init(
        &args.crate_dir,
        &live,
        &catalog,
        &args.models,
        &args.migrations,
        out.path(),
        now,
    )
    .map_err(|e| e.to_string())?;
    let tables = live.tables.len();
    println!(
        "wrote {tables} model{} from {}:",
        if tables == 1 { "" } else { "s" },
        url
    );
    for file in &init.written {
        println!("  {}", file.display());
    }
    for table in &others {
        println!("left out `{table}`: another migration tool's version table (take the database over with `db adopt --from …`)");
    }
    if !init.objects_left.is_empty() {
        println!(
            "not written, since the catalog does not keep every definition as given: {}. Put each CREATE statement in a file under sql/ (pg_dump --schema-only or SHOW CREATE prints them) and build again to add them to the history",
            init.objects_left.join(", ")
        );
    }
    if !init.reached_from_root {
        let module = args
            .models
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "models".into());
        println!(
            "add `mod {module};` to src/main.rs or src/lib.rs: the build reads the models from the crate root"
        );
    }
    match others.first() {
        Some(table) => {
            let tool = Tool::of_table(table).map_or("…", |t| t.name());
            println!("the database is at the first migration already: take it over with `db adopt --from {tool}`, which checks that tool's state first");
        }
        None => println!("the database is at the first migration already: `db upgrade` adopts it there (or mark it with `db stamp head`)"),
    }
    Ok(())
}
