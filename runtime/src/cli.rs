//! The command line, with the verbs Alembic users know. An app exposes it with one call:
//!
//! ```no_run
//! # mod hidden { pub static MIGRATIONS: retort::Migrations = retort::Migrations::new(&[]); }
//! # use hidden::MIGRATIONS;
//! // `myapp db upgrade head`, `myapp db current`, …
//! let args: Vec<String> = std::env::args().skip(2).collect();
//! std::process::exit(retort::cli::run("myapp db", &MIGRATIONS, args));
//! ```

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::error::{Error, Result};
use crate::graph::{revisions_or_base, Graph};
use crate::migration::Migrations;
use crate::runner::{Options, Runner, TransactionMode};
use crate::url::DatabaseUrl;
use retort_schema::sql::{Dialect, Step};

/// Database migrations.
#[derive(Debug, Parser)]
#[command(disable_version_flag = true)]
struct Cli {
    #[command(flatten)]
    db: DbArgs,
}

/// The `db` command line, to embed in an application's own clap parser:
///
/// ```no_run
/// # mod hidden { pub static MIGRATIONS: retort::Migrations = retort::Migrations::new(&[]); }
/// # use hidden::MIGRATIONS;
/// use clap::{Parser, Subcommand};
///
/// #[derive(Parser)]
/// struct App {
///     #[command(subcommand)]
///     command: AppCommand,
/// }
///
/// #[derive(Subcommand)]
/// enum AppCommand {
///     /// Serve requests.
///     Serve,
///     /// Database migrations.
///     Db(retort::cli::DbArgs),
/// }
///
/// match App::parse().command {
///     AppCommand::Serve => { /* … */ }
///     AppCommand::Db(args) => std::process::exit(retort::cli::run_args(args, &MIGRATIONS)),
/// }
/// ```
#[derive(Debug, clap::Args)]
pub struct DbArgs {
    /// Database URL (default: $DB_URL, else $DATABASE_URL).
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// One transaction for the whole run (all or nothing), or one per migration.
    #[arg(long, global = true, value_enum, default_value = "all")]
    transaction: Transaction,
    /// Seconds to wait for another process holding the migration lock.
    #[arg(long, global = true, default_value_t = 60)]
    lock_timeout: u64,
    /// Seconds one statement of a migration may wait for a lock on what it changes before it
    /// gives up and is tried again (`0` or `off`: as long as the database waits).
    /// Default: $RETORT_DDL_LOCK_TIMEOUT, else 5.
    #[arg(long, global = true, value_name = "SECONDS")]
    ddl_lock_timeout: Option<String>,
    /// How many times a migration whose statement gave up waiting for a lock is tried again.
    /// Default: $RETORT_DDL_LOCK_RETRIES, else 3.
    #[arg(long, global = true, value_name = "N")]
    ddl_lock_retries: Option<u32>,
    /// Print only errors (for scripts and logs that want nothing on success).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Print more: a failing statement whole, not trimmed around the failure.
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

impl DbArgs {
    /// Uses `url` when neither `--database-url` nor the environment names a database.
    pub fn with_default_url(mut self, url: &str) -> Self {
        let configured = ["DB_URL", "DATABASE_URL"]
            .iter()
            .any(|k| std::env::var(k).is_ok_and(|v| !v.is_empty()));
        if self.database_url.is_none() && !configured {
            self.database_url = Some(url.to_string());
        }
        self
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Transaction {
    All,
    PerMigration,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply migrations: `head` (default), a revision or unique prefix, or `+N`.
    Upgrade {
        #[arg(default_value = "head", allow_hyphen_values = true)]
        target: String,
        /// Back the database up first (SQLite's online backup; pg_dump; mariadb-dump), and
        /// stop with nothing applied if that fails.
        #[arg(long)]
        backup: bool,
        /// Where the backup goes (default: beside an SQLite file; the current directory
        /// for a server; `RETORT_BACKUP_DIR`).
        #[arg(long, value_name = "DIR")]
        backup_dir: Option<std::path::PathBuf>,
    },
    /// Revert migrations: `-N` (default -1), a revision or unique prefix, or `base`.
    Downgrade {
        #[arg(default_value = "-1", allow_hyphen_values = true)]
        target: String,
    },
    /// Show the database's revision.
    Current,
    /// List revisions, newest first, with applied marks and times.
    History,
    /// List the head revisions.
    Heads,
    /// Show a revision's operations and their SQL.
    Show { revision: String },
    /// Record a revision as applied without running it (`head`, `base`, a revision).
    Stamp { revision: String },
    /// Take over a database another migration tool kept: read its version table (refusing
    /// a failed or dirty migration, or, with --old-migrations, one never applied), check the
    /// schema equals the head exactly, record the history as applied. Its table stays.
    Adopt {
        /// The tool: diesel, sqlx, refinery, sea-orm, golang-migrate or alembic.
        #[arg(long, value_name = "TOOL")]
        from: String,
        /// The tool's migrations folder, to refuse when some were never applied.
        #[arg(long, value_name = "DIR")]
        old_migrations: Option<PathBuf>,
    },
    /// Settle a migration that stopped part-way on MySQL/MariaDB (DDL cannot roll back):
    /// `--applied` once the statements that had not run were run by hand, `--reverted` once
    /// those that ran were undone by hand.
    Resolve {
        revision: String,
        /// Count it as applied.
        #[arg(
            long,
            conflicts_with = "reverted",
            required_unless_present = "reverted"
        )]
        applied: bool,
        /// Count it as not applied.
        #[arg(long)]
        reverted: bool,
    },
    /// Compare the live database with the models; exit code 1 when they differ.
    Check,
    /// Print the SQL of an upgrade without a database: `<from>:<to>`, e.g. `base:head`.
    Sql {
        range: String,
        /// Dialect of the script: sqlite, postgres or mysql. Default: the database URL's
        /// (`--database-url`, `$DB_URL`, `$DATABASE_URL`), else sqlite.
        #[arg(long)]
        dialect: Option<String>,
    },
    /// Write an empty migration (for a data migration) on top of the current head.
    Revision {
        #[arg(short, long)]
        message: String,
        /// Migrations folder (default: the one the build read).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// Runs the CLI with `args` (without the program name) and returns the exit code:
/// 0 on success, 1 on failure or drift, 2 on a usage error.
pub fn run<I, T>(bin_name: &str, migrations: &Migrations, args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let mut all: Vec<std::ffi::OsString> = vec![bin_name.into()];
    all.extend(args.into_iter().map(Into::into));
    let cli = match Cli::try_parse_from(all) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    run_args(cli.db, migrations)
}

/// Runs parsed `db` arguments (see [`DbArgs`]) and returns the exit code: 0 on success, 1
/// on failure or drift.
pub fn run_args(args: DbArgs, migrations: &Migrations) -> i32 {
    let verbose = args.verbose;
    match execute(args, migrations) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            if let (true, Error::MigrationFailed { statement, .. }) = (verbose, &e) {
                eprintln!("the whole statement:\n{statement}");
            }
            1
        }
    }
}

fn execute(cli: DbArgs, migrations: &Migrations) -> Result<i32> {
    let graph = Graph::from_migrations(migrations);
    let options = options_of(&cli)?;
    let url = || DatabaseUrl::from_env(cli.database_url.as_deref());
    let quiet = cli.quiet;
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let log = progress_log(quiet, terminal);
    // On a terminal, where the run is: one line, rewritten; in a log, nothing (the lines of
    // what was applied are the record).
    let status = move |now: &str| {
        use std::io::Write;
        if terminal && !quiet {
            print!("\r\x1b[2K{now}");
            let _ = std::io::stdout().flush();
        }
    };
    match cli.command {
        Command::Upgrade {
            target,
            backup,
            backup_dir,
        } => {
            let options = Options {
                backup: backup || backup_dir.is_some(),
                backup_dir: backup_dir.or(options.backup_dir),
                ..options
            };
            let mut runner = Runner::connect(&graph, &url()?, options)?
                .with_log(log)
                .with_progress(status);
            let applied = runner.upgrade(&target)?;
            if applied.is_empty() && !quiet {
                println!(
                    "nothing to upgrade: the database is at {}",
                    revisions_or_base(&runner.current()?)
                );
            }
        }
        Command::Downgrade { target } => {
            let mut runner = Runner::connect(&graph, &url()?, options)?
                .with_log(log)
                .with_progress(status);
            let undone = runner.downgrade(&target)?;
            if !quiet {
                if undone.is_empty() {
                    println!("nothing to downgrade");
                }
                println!("now at {}", revisions_or_base(&runner.current()?));
            }
        }
        Command::Current => current(&graph, url()?, options)?,
        Command::History => history(&graph, url().ok(), options)?,
        Command::Heads => {
            for h in graph.heads() {
                let msg = graph.get(&h).map(|r| r.message()).unwrap_or_default();
                println!("{h} {msg} (head)");
            }
        }
        Command::Show { revision } => show(&graph, &revision, url().ok())?,
        Command::Stamp { revision } => {
            let mut runner = Runner::connect(&graph, &url()?, options)?.with_log(log);
            runner.stamp(&revision)?;
        }
        Command::Adopt {
            from,
            old_migrations,
        } => {
            let tool = crate::tools::Tool::named(&from)
                .map_err(|problem| Error::Usage(format!("--from {from} {problem}")))?;
            let mut runner = Runner::connect(&graph, &url()?, options)?.with_log(log);
            runner.adopt_from(tool, old_migrations.as_deref())?;
        }
        Command::Resolve {
            revision, applied, ..
        } => {
            let mut runner = Runner::connect(&graph, &url()?, options)?.with_log(log);
            runner.resolve(&revision, applied)?;
        }
        Command::Check => return check(&graph, url()?, options),
        Command::Sql { range, dialect } => {
            let dialect = match dialect {
                Some(d) => d,
                None => match url() {
                    Ok(u) => u.dialect().name().to_string(),
                    Err(Error::NoUrl) => "sqlite".to_string(),
                    Err(e) => return Err(e),
                },
            };
            sql(&graph, &range, &dialect)?
        }
        Command::Revision { message, dir } => {
            let dir = dir
                .or_else(|| migrations.dir().map(PathBuf::from))
                .unwrap_or_else(|| PathBuf::from("migrations"));
            let path = crate::revision::write_empty(&dir, &graph.heads(), &message)?;
            println!("wrote {}; rebuild to compile it", path.display());
        }
    }
    Ok(0)
}

/// How the CLI prints the runner's lines: nothing with `--quiet`; on a terminal, a
/// backfill's running count rewrites one line; elsewhere (a log) every line is a line of its
/// own, and the running count at most every 15 s.
fn progress_log(quiet: bool, terminal: bool) -> impl FnMut(&str) + Copy {
    let mut last_count: Option<std::time::Instant> = None;
    let mut open_line = false;
    move |line: &str| {
        use std::io::Write;
        if quiet {
            return;
        }
        if line.starts_with("filling in batches:") {
            if terminal {
                print!("\r\x1b[2K{line}");
                let _ = std::io::stdout().flush();
                open_line = true;
                return;
            }
            if last_count.is_some_and(|t| t.elapsed() < Duration::from_secs(15)) {
                return;
            }
            last_count = Some(std::time::Instant::now());
        }
        if open_line || terminal {
            // Over the status line, if one is shown.
            print!("\r\x1b[2K");
            open_line = false;
        }
        println!("{line}");
    }
}

/// The run's settings from the flags and the environment.
fn options_of(cli: &DbArgs) -> Result<Options> {
    let mut options = Options {
        transaction: match cli.transaction {
            Transaction::All => TransactionMode::All,
            Transaction::PerMigration => TransactionMode::PerMigration,
        },
        lock_timeout: Duration::from_secs(cli.lock_timeout),
        backup: false,
        backup_dir: Options::env_backup_dir(),
        ..Options::default()
    }
    .with_env_lock_settings()?;
    if let Some(v) = &cli.ddl_lock_timeout {
        options.ddl_lock_timeout = crate::runner::parse_ddl_lock_timeout(v)
            .map_err(|problem| Error::Usage(format!("--ddl-lock-timeout {v}: {problem}")))?;
    }
    if let Some(n) = cli.ddl_lock_retries {
        options.ddl_lock_retries = n;
    }
    Ok(options)
}

/// `db current`: the applied revisions, the heads marked.
fn current(graph: &Graph, url: DatabaseUrl, options: Options) -> Result<()> {
    let mut runner = Runner::connect(graph, &url, options)?;
    let current = runner.current()?;
    let heads = graph.heads();
    for c in &current {
        let msg = graph
            .get(c)
            .map(|r| r.message())
            .unwrap_or("(unknown to this build)");
        let head = if heads.contains(c) { " (head)" } else { "" };
        println!("{c} {msg}{head}");
    }
    if current.is_empty() {
        println!("base (no migrations applied)");
    }
    Ok(())
}

/// `db check`: the database against the models; 1 when they differ.
fn check(graph: &Graph, url: DatabaseUrl, options: Options) -> Result<i32> {
    let mut runner = Runner::connect(graph, &url, options)?;
    let current = runner.current()?;
    let differences = runner.check()?;
    if differences.is_empty() {
        println!(
            "the database matches the models (at {})",
            revisions_or_base(&current)
        );
    } else {
        println!(
            "the database differs from the models (at {}):",
            revisions_or_base(&current)
        );
        for d in &differences {
            println!("  - {d}");
        }
        println!("Run `upgrade head` if migrations are pending; otherwise the database was changed outside migrations.");
        return Ok(1);
    }
    Ok(0)
}

/// `db sql <from>:<to>`: the upgrade's SQL, for a DBA to run.
fn sql(graph: &Graph, range: &str, dialect: &str) -> Result<()> {
    let dialect = Dialect::parse(dialect).ok_or_else(|| {
        Error::Usage(format!(
            "unknown dialect `{dialect}`; use sqlite, postgres or mysql"
        ))
    })?;
    let (from, to) = range.split_once(':').ok_or_else(|| {
        Error::Usage(format!(
            "`{range}` is not a range; write <from>:<to>, e.g. base:head"
        ))
    })?;
    print!("{}", crate::offline::upgrade_sql(graph, from, to, dialect)?);
    Ok(())
}

fn history(graph: &Graph, url: Option<DatabaseUrl>, options: Options) -> Result<()> {
    let rows = match &url {
        Some(u) => match Runner::connect(graph, u, options).and_then(|mut r| r.applied_rows()) {
            Ok(rows) => rows,
            Err(e) => {
                eprintln!("note: database not read ({e}); showing revisions only");
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    let heads: BTreeSet<String> = graph.heads().into_iter().collect();
    let mut ordered = graph.all_ordered();
    ordered.reverse();
    for rev in ordered {
        let head = if heads.contains(rev.id()) {
            " (head)"
        } else {
            ""
        };
        let parents = revisions_or_base(&rev.parents().collect::<Vec<_>>());
        let mark = match rows.iter().find(|r| r.revision == rev.id()) {
            Some(r) => format!("  [{} {} ({} ms)]", r.state, r.applied_at, r.execution_ms),
            None if url.is_some() => "  [not applied]".into(),
            None => String::new(),
        };
        println!("{parents} -> {} {}{head}{mark}", rev.id(), rev.message());
    }
    Ok(())
}

fn show(graph: &Graph, revision: &str, url: Option<DatabaseUrl>) -> Result<()> {
    let id = graph
        .resolve(revision)?
        .ok_or_else(|| Error::Usage("`show base` shows nothing; name a revision".into()))?;
    let rev = graph
        .get(&id)
        .ok_or_else(|| Error::NoSuchRevision(id.clone()))?;
    let dialect = url.map_or(Dialect::Sqlite, |u| u.dialect());
    println!("Revision: {id}");
    println!(
        "Parents:  {}",
        revisions_or_base(&rev.parents().collect::<Vec<_>>())
    );
    println!("Message:  {}", rev.message());
    println!("Checksum: {}", rev.checksum());
    println!("\nOperations:");
    for op in rev.up().iter() {
        println!("  - {}", op.describe());
    }
    let mut before = graph.ancestors(&id);
    before.remove(&id);
    let mut schema = graph.schema_at(&before)?;
    println!("\nSQL ({}):", dialect.name());
    for step in rev
        .render_ops(&rev.up(), &mut schema, dialect)?
        .into_iter()
        .flatten()
    {
        match step {
            Step::Sql(s) => println!("{};", s.trim_end_matches(';')),
            Step::Rust(name) => println!("-- run({name}): Rust data migration"),
            Step::Batches { batch, .. } => println!(
                "-- run again until it changes no row, each batch committed on its own:\n{};",
                batch.trim_end_matches(';')
            ),
            Step::Verify { query, problem } => {
                println!("-- check (must return no row: {problem})\n-- {query};")
            }
        }
    }
    Ok(())
}
