//! `records`: upgrade the database at start, then serve on 127.0.0.1:8000.
//! `records migrate`: only the startup upgrade, then exit (for an init container or a deploy step).
//! `records db <verb>`: the migration commands (upgrade, downgrade, current, history, …).
//!
//! The database is `$DB_URL`, else `$DATABASE_URL`, else `sqlite:///records.db`.

use retort::DatabaseUrl;

const DEFAULT_URL: &str = "sqlite:///records.db";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let configured = ["DB_URL", "DATABASE_URL"]
        .iter()
        .any(|k| std::env::var(k).is_ok_and(|v| !v.is_empty()));
    if args.first().map(String::as_str) == Some("db") {
        let mut rest: Vec<String> = args[1..].to_vec();
        if !configured && !rest.iter().any(|a| a.starts_with("--database-url")) {
            rest.extend(["--database-url".to_string(), DEFAULT_URL.to_string()]);
        }
        std::process::exit(retort::cli::run("records db", &records::MIGRATIONS, rest));
    }
    let url = if configured { None } else { Some(DEFAULT_URL) };
    let mut startup = retort::Startup::new(&records::MIGRATIONS);
    if let Some(u) = url {
        startup = startup.url(u);
    }
    if let Err(e) = startup.run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    if args.first().map(String::as_str) == Some("migrate") {
        return;
    }
    let db = match DatabaseUrl::from_env(url) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let addr = std::env::var("RECORDS_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".into());
    if let Err(e) = records::service::serve(&addr, &db) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
