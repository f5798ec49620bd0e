//! One call at application start: read the URL, take the lock, upgrade to head, log.

use crate::error::Result;
use crate::graph::{revisions_or_base, Graph};
use crate::migration::Migrations;
use crate::runner::{Options, Runner};
use crate::url::DatabaseUrl;

/// Upgrades the database named by `DB_URL` (or `DATABASE_URL`) to head, safely when many
/// processes start at once; adopts a database made before migrations. Set `RETORT_BACKUP=1`
/// to copy an SQLite file aside before anything is applied.
///
/// ```no_run
/// // retort::include_migrations!();  (at the crate root: defines MIGRATIONS)
/// # mod hidden { pub static MIGRATIONS: retort::Migrations = retort::Migrations::new(&[]); }
/// # use hidden::MIGRATIONS;
/// fn main() -> Result<(), retort::Error> {
///     retort::upgrade_on_startup(&MIGRATIONS)?;
///     Ok(())
/// }
/// ```
pub fn upgrade_on_startup(migrations: &Migrations) -> Result<Vec<String>> {
    Startup::new(migrations).run()
}

/// A configurable startup upgrade.
pub struct Startup<'a> {
    migrations: &'a Migrations,
    url: Option<String>,
    options: Options,
    /// An environment setting that could not be read (the run refuses with it).
    unreadable: Option<String>,
    log: Box<dyn FnMut(&str) + 'a>,
}

impl<'a> Startup<'a> {
    /// Defaults: URL from the environment, one transaction, a lock timeout of
    /// `RETORT_LOCK_TIMEOUT` seconds (60 when unset or unreadable), backup when
    /// `RETORT_BACKUP` is `1` or `true` (into `RETORT_BACKUP_DIR` when set), the DDL lock timeout and retries from
    /// `RETORT_DDL_LOCK_TIMEOUT` and `RETORT_DDL_LOCK_RETRIES` (5 s and 3 when unset; an
    /// unreadable one makes [`run`](Startup::run) refuse, naming it), and adoption from
    /// another tool when `RETORT_ADOPT_FROM` names one (see [`Options::adopt_from`]).
    pub fn new(migrations: &'a Migrations) -> Self {
        let backup = std::env::var("RETORT_BACKUP")
            .is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
        let defaults = Options::default();
        let lock_timeout = std::env::var("RETORT_LOCK_TIMEOUT")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(defaults.lock_timeout, std::time::Duration::from_secs);
        let options = Options {
            backup,
            backup_dir: Options::env_backup_dir(),
            lock_timeout,
            ..defaults
        };
        let (mut options, mut unreadable) = match options.clone().with_env_lock_settings() {
            Ok(o) => (o, None),
            Err(e) => (options, Some(e.to_string())),
        };
        if let Some(v) = std::env::var("RETORT_ADOPT_FROM")
            .ok()
            .filter(|v| !v.is_empty())
        {
            match crate::tools::Tool::named(&v) {
                Ok(tool) => options.adopt_from = Some(tool),
                Err(problem) => unreadable = Some(format!("RETORT_ADOPT_FROM={v:?} {problem}")),
            }
        }
        Startup {
            migrations,
            url: None,
            options,
            unreadable,
            log: Box::new(|line| eprintln!("retort: {line}")),
        }
    }

    /// Sends the log lines (each applied migration, the final state) to `log` instead of
    /// standard error, e.g. to `tracing::info!`.
    pub fn log(mut self, log: impl FnMut(&str) + 'a) -> Self {
        self.log = Box::new(log);
        self
    }

    /// Uses this URL instead of the environment's.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Replaces the options.
    pub fn options(mut self, options: Options) -> Self {
        self.options = options;
        self.unreadable = None;
        self
    }

    /// Runs the upgrade; returns the revisions applied.
    pub fn run(mut self) -> Result<Vec<String>> {
        if let Some(problem) = self.unreadable.take() {
            return Err(crate::Error::Usage(problem));
        }
        let url = DatabaseUrl::from_env(self.url.as_deref())?;
        let graph = Graph::from_migrations(self.migrations);
        let log = &mut self.log;
        let mut runner = Runner::connect(&graph, &url, self.options)?.with_log(|l| log(l));
        let applied = runner.upgrade("head")?;
        // The applied set the run ended with, without reading the version table again.
        let current = runner.current_after_run();
        drop(runner);
        let line = if applied.is_empty() {
            format!(
                "database is at {} (head); nothing to apply",
                revisions_or_base(&current)
            )
        } else {
            format!("upgraded to {}", current.join(", "))
        };
        (self.log)(&line);
        Ok(applied)
    }
}
