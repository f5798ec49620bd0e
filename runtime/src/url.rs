//! Database URLs: `--database-url`, else `DB_URL`, else `DATABASE_URL`.

use crate::error::{Error, Result};

/// Where the database is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file.
    SqliteFile(std::path::PathBuf),
    /// An SQLite in-memory database.
    SqliteMemory,
}

impl DatabaseUrl {
    /// Parses a URL.
    ///
    /// ```
    /// use retort::DatabaseUrl;
    /// assert_eq!(DatabaseUrl::parse("sqlite:///records.db").unwrap(), DatabaseUrl::SqliteFile("records.db".into()));
    /// assert_eq!(DatabaseUrl::parse("sqlite:////var/lib/r.db").unwrap(), DatabaseUrl::SqliteFile("/var/lib/r.db".into()));
    /// assert_eq!(DatabaseUrl::parse("sqlite::memory:").unwrap(), DatabaseUrl::SqliteMemory);
    /// assert!(DatabaseUrl::parse("oracle://x").unwrap_err().to_string().contains("Accepted:"));
    /// ```
    pub fn parse(url: &str) -> Result<DatabaseUrl> {
        let bad = |problem: &str| Error::BadUrl {
            url: url.to_string(),
            problem: problem.to_string(),
        };
        let trimmed = url.trim();
        if trimmed.is_empty() {
            return Err(bad("it is empty"));
        }
        if matches!(
            trimmed,
            "sqlite::memory:" | "sqlite://:memory:" | ":memory:"
        ) {
            return Ok(DatabaseUrl::SqliteMemory);
        }
        // SQLAlchemy style: three slashes and a relative path, four for an absolute one.
        if let Some(rest) = trimmed.strip_prefix("sqlite:///") {
            return file(rest).ok_or_else(|| bad("the file path is empty"));
        }
        if let Some(rest) = trimmed.strip_prefix("sqlite://") {
            return file(rest).ok_or_else(|| bad("the file path is empty"));
        }
        if let Some(rest) = trimmed.strip_prefix("sqlite:") {
            return file(rest).ok_or_else(|| bad("the file path is empty"));
        }
        if let Some((scheme, _)) = trimmed.split_once("://") {
            let problem = match scheme {
                "postgres" | "postgresql" => {
                    "PostgreSQL support is not compiled into this build".to_string()
                }
                "mysql" | "mariadb" => {
                    "MySQL/MariaDB support is not compiled into this build".to_string()
                }
                other => format!("unknown scheme `{other}`"),
            };
            return Err(bad(&problem));
        }
        Ok(DatabaseUrl::SqliteFile(trimmed.into()))
    }

    /// The URL from `explicit`, else `DB_URL`, else `DATABASE_URL`.
    pub fn from_env(explicit: Option<&str>) -> Result<DatabaseUrl> {
        let value = explicit
            .map(str::to_string)
            .or_else(|| std::env::var("DB_URL").ok().filter(|v| !v.is_empty()))
            .or_else(|| std::env::var("DATABASE_URL").ok().filter(|v| !v.is_empty()))
            .ok_or(Error::NoUrl)?;
        DatabaseUrl::parse(&value)
    }
}

fn file(rest: &str) -> Option<DatabaseUrl> {
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() {
        return None;
    }
    if path == ":memory:" {
        return Some(DatabaseUrl::SqliteMemory);
    }
    Some(DatabaseUrl::SqliteFile(path.into()))
}
