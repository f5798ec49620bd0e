//! The settings of a run: transaction grouping, lock timeouts and retries, adoption.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::tools::Tool;

/// How migrations are grouped into transactions.
///
/// The default is [`TransactionMode::All`], as in Alembic: the database is either where it
/// was or at the target, so a replica starting during an upgrade never sees half of it, and a
/// failure needs no cleanup. [`TransactionMode::PerMigration`] keeps what succeeded, for long
/// upgrades that should make progress step by step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TransactionMode {
    /// The whole upgrade or downgrade in one transaction: all or nothing.
    #[default]
    All,
    /// Each migration and its version row in its own transaction.
    PerMigration,
}

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Transaction grouping.
    pub transaction: TransactionMode,
    /// How long to wait for another process holding the migration lock.
    pub lock_timeout: Duration,
    /// Back the database up before applying anything (upgrades only): SQLite's online
    /// backup of the file; `pg_dump --format=custom` on PostgreSQL; `mariadb-dump
    /// --single-transaction` on MySQL/MariaDB. A missing tool or a failed dump stops the run
    /// with nothing applied; the log names the file and the command that restores it.
    pub backup: bool,
    /// Where backups go: for SQLite beside the file when `None`, for the servers the
    /// current directory.
    pub backup_dir: Option<std::path::PathBuf>,
    /// How long one statement of a migration may wait for a lock on what it changes
    /// (PostgreSQL's `lock_timeout`; MySQL's `lock_wait_timeout` and
    /// `innodb_lock_wait_timeout`, in whole seconds there) before it gives up, so that a
    /// statement queued behind a long transaction does not hold up every other read and write
    /// of the table while it waits. `None` waits as long as the database does. SQLite waits
    /// for its write lock at the start instead (its busy timeout).
    pub ddl_lock_timeout: Option<Duration>,
    /// How many times a migration whose statement gave up waiting is tried again, pausing
    /// in between (the timeout, doubled each time, at most 30 s), before the run stops with
    /// an error that names the sessions in the way.
    pub ddl_lock_retries: u32,
    /// Take over a database that another migration tool keeps, at start-up, when it has no
    /// retort version table yet (opt-in; `RETORT_ADOPT_FROM` for [`Startup`](crate::Startup)):
    /// as [`Runner::adopt_from`](crate::Runner::adopt_from) does, without the tool's migrations folder. Without it
    /// such a database is refused, naming the tool.
    pub adopt_from: Option<Tool>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            transaction: TransactionMode::All,
            lock_timeout: crate::backend::DEFAULT_LOCK_TIMEOUT,
            backup: false,
            backup_dir: None,
            ddl_lock_timeout: Some(Duration::from_secs(5)),
            ddl_lock_retries: 3,
            adopt_from: None,
        }
    }
}

impl Options {
    /// The backup folder `RETORT_BACKUP_DIR` names, if set and not empty (the start-up
    /// upgrade and the CLI read it alike).
    pub(crate) fn env_backup_dir() -> Option<std::path::PathBuf> {
        std::env::var_os("RETORT_BACKUP_DIR")
            .filter(|v| !v.is_empty())
            .map(Into::into)
    }

    /// The DDL lock settings from the environment over these: `RETORT_DDL_LOCK_TIMEOUT`
    /// (seconds, fractions allowed; `0` or `off` waits as long as the database does) and
    /// `RETORT_DDL_LOCK_RETRIES`. An unreadable value is an error that names it.
    ///
    /// ```
    /// let o = retort::Options::default().with_env_lock_settings().unwrap();
    /// assert!(o.ddl_lock_retries <= 100);
    /// ```
    pub fn with_env_lock_settings(mut self) -> Result<Self> {
        if let Ok(v) = std::env::var("RETORT_DDL_LOCK_TIMEOUT") {
            self.ddl_lock_timeout = parse_ddl_lock_timeout(&v).map_err(|problem| {
                Error::Usage(format!("RETORT_DDL_LOCK_TIMEOUT={v}: {problem}"))
            })?;
        }
        if let Ok(v) = std::env::var("RETORT_DDL_LOCK_RETRIES") {
            self.ddl_lock_retries = v.trim().parse().map_err(|_| {
                Error::Usage(format!(
                    "RETORT_DDL_LOCK_RETRIES={v}: not a number of retries (e.g. 3)"
                ))
            })?;
        }
        Ok(self)
    }

    /// The pause before try `n` (1 for the first retry) of a statement that gave up waiting.
    pub(super) fn lock_retry_pause(&self, n: u32) -> Duration {
        let base = self.ddl_lock_timeout.unwrap_or_default();
        base.saturating_mul(1 << n.saturating_sub(1).min(16))
            .min(Duration::from_secs(30))
    }
}

/// Reads a DDL lock timeout as the CLI and the environment give it: seconds (`5`, `0.5`),
/// or `0` / `off` for none.
///
/// ```
/// use std::time::Duration;
/// use retort::runner::parse_ddl_lock_timeout;
/// assert_eq!(parse_ddl_lock_timeout("2.5"), Ok(Some(Duration::from_millis(2500))));
/// assert_eq!(parse_ddl_lock_timeout("off"), Ok(None));
/// assert!(parse_ddl_lock_timeout("soon").is_err());
/// ```
pub fn parse_ddl_lock_timeout(v: &str) -> std::result::Result<Option<Duration>, String> {
    let v = v.trim();
    if v.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    match crate::seconds::parse(v) {
        Some(Duration::ZERO) => Ok(None),
        Some(d) if d <= Duration::from_secs(86_400) => Ok(Some(d)),
        _ => Err("not a number of seconds (e.g. 5 or 0.5; 0 or off to wait as long as the database does)".into()),
    }
}
