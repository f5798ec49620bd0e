//! `records serve` (or plain `records`): upgrade the database at start, then serve on
//! 127.0.0.1:8000 (`$RECORDS_ADDR`) with a pool of 16 connections (`$RECORDS_POOL_SIZE`), until
//! SIGTERM or Ctrl-C.
//! `records migrate`: only the startup upgrade, then exit (for an init container or a deploy
//! step).
//! `records db <verb>`: the migration commands (upgrade, downgrade, current, history, …).
//!
//! The database is `$DB_URL`, else `$DATABASE_URL`, else `sqlite:///records.db`.

use clap::{Parser, Subcommand};
use retort::DatabaseUrl;

const DEFAULT_URL: &str = "sqlite:///records.db";

/// The transcription service's records.
#[derive(Parser)]
#[command(name = "records", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Upgrade the database to head, then serve (the default).
    Serve,
    /// Upgrade the database to head and exit.
    Migrate,
    /// Database migrations: upgrade, downgrade, current, history, heads, show, stamp, check,
    /// sql, revision.
    Db(retort::cli::DbArgs),
}

fn main() {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Db(args) = command {
        let args = args.with_default_url(DEFAULT_URL);
        std::process::exit(retort::cli::run_args(args, &records::MIGRATIONS));
    }
    let configured = ["DB_URL", "DATABASE_URL"]
        .iter()
        .any(|k| std::env::var(k).is_ok_and(|v| !v.is_empty()));
    let url = if configured { None } else { Some(DEFAULT_URL) };
    let mut startup = retort::Startup::new(&records::MIGRATIONS);
    if let Some(u) = url {
        startup = startup.url(u);
    }
    if let Err(e) = startup.run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    if matches!(command, Command::Migrate) {
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
    let pool_size = match std::env::var("RECORDS_POOL_SIZE") {
        Ok(v) => match v.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!("error: RECORDS_POOL_SIZE must be a whole number above 0, not {v:?}");
                std::process::exit(2);
            }
        },
        Err(_) => 16,
    };
    if let Err(e) = records::service::serve(&addr, &db, pool_size) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
