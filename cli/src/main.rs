//! `retort`: the commands for a project's history that need both a database and the build's
//! code writer, which an app's own `db` command line does not link.
//!
//! ```text
//! retort models --database-url postgres://…/app    # models, first migration and snapshot from a live database
//! retort squash --to 20261201_120000_add_tags         # one checkpoint migration for the history up to a revision
//! retort prune --database-url postgres://…/app     # then delete the files it replaces
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod models;
mod squash;

/// A project's migration history: start it from a database, squash it.
#[derive(Debug, Parser)]
#[command(name = "retort", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write `#[derive(Table)]` models from a live database, with the first migration and
    /// the snapshot, so that the next `cargo build` writes nothing.
    Models {
        /// Database URL (default: $DB_URL, else $DATABASE_URL).
        #[arg(long)]
        database_url: Option<String>,
        /// The crate folder (with Cargo.toml, whose `[package.metadata.retort] naming`
        /// decides which names the models leave to the convention).
        #[arg(long, default_value = ".")]
        crate_dir: PathBuf,
        /// The models file to write, relative to the crate.
        #[arg(long, default_value = "src/models.rs")]
        models: PathBuf,
        /// The migrations folder, relative to the crate.
        #[arg(long, default_value = "migrations")]
        migrations: PathBuf,
        /// Print the models and write nothing.
        #[arg(long)]
        print: bool,
    },
    /// Replace the history up to a revision with one checkpoint migration that builds its
    /// schema from nothing; the old files stay until every database is past them.
    Squash {
        /// The last revision the checkpoint replaces (a revision or unique prefix, or `head`).
        #[arg(long)]
        to: String,
        /// The crate folder.
        #[arg(long, default_value = ".")]
        crate_dir: PathBuf,
        /// The migrations folder, relative to the crate.
        #[arg(long, default_value = "migrations")]
        migrations: PathBuf,
        /// The checkpoint's message.
        #[arg(short, long, default_value = "squashed")]
        message: String,
    },
    /// Delete the files a checkpoint replaces, once every database is past them; with
    /// --database-url, only after checking that database has them all applied.
    Prune {
        /// A database to check first (default: none; $DB_URL / $DATABASE_URL are not read).
        #[arg(long)]
        database_url: Option<String>,
        /// The crate folder.
        #[arg(long, default_value = ".")]
        crate_dir: PathBuf,
        /// The migrations folder, relative to the crate.
        #[arg(long, default_value = "migrations")]
        migrations: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Models {
            database_url,
            crate_dir,
            models,
            migrations,
            print,
        } => models::run(models::Args {
            database_url,
            crate_dir,
            models,
            migrations,
            print,
        }),
        Command::Squash {
            to,
            crate_dir,
            migrations,
            message,
        } => squash::run(&crate_dir, &migrations, &to, &message),
        Command::Prune {
            database_url,
            crate_dir,
            migrations,
        } => squash::prune(&crate_dir, &migrations, database_url.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
