//! Database URLs: `--database-url`, else `DB_URL`, else `DATABASE_URL`.

use crate::error::{Error, Result};

/// Where the database is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file.
    SqliteFile(std::path::PathBuf),
    /// An SQLite in-memory database.
    SqliteMemory,
    /// A PostgreSQL database: the libpq URL, and the schema to use when the URL names one
    /// with `schema=…` (removed from the URL libpq sees) or
    /// `options=-csearch_path%3D…` (left for libpq).
    Postgres {
        /// The URL handed to libpq.
        url: String,
        /// The schema named by `schema=…`, if any.
        schema: Option<String>,
    },
    /// A MySQL or MariaDB database (`mysql://` or `mariadb://`), as `mysql://…`.
    Mysql(String),
}

impl DatabaseUrl {
    /// The SQL dialect of the database.
    pub fn dialect(&self) -> retort_schema::sql::Dialect {
        use retort_schema::sql::Dialect;
        match self {
            DatabaseUrl::SqliteFile(_) | DatabaseUrl::SqliteMemory => Dialect::Sqlite,
            DatabaseUrl::Postgres { .. } => Dialect::Postgres,
            DatabaseUrl::Mysql(_) => Dialect::Mysql,
        }
    }
}

/// The URL without its password, for messages.
impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::SqliteFile(p) => write!(f, "sqlite:///{}", p.display()),
            DatabaseUrl::SqliteMemory => write!(f, "sqlite::memory:"),
            DatabaseUrl::Postgres { url, .. } | DatabaseUrl::Mysql(url) => {
                f.write_str(&without_password(url))
            }
        }
    }
}

/// `scheme://user:secret@host/db` → `scheme://user:***@host/db`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some(pair) => pair,
        None => return url.to_string(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// Splits `schema=…` off a PostgreSQL URL's query.
fn postgres(url: &str) -> DatabaseUrl {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut schema = None;
    let mut kept = Vec::new();
    for pair in query.into_iter().flat_map(|q| q.split('&')) {
        match pair.split_once('=') {
            Some(("schema", value)) if !value.is_empty() => schema = Some(value.to_string()),
            _ if pair.is_empty() => {}
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    DatabaseUrl::Postgres { url, schema }
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
    /// assert_eq!(
    ///     DatabaseUrl::parse("postgres://u:p@db/app?schema=billing").unwrap(),
    ///     DatabaseUrl::Postgres { url: "postgres://u:p@db/app".into(), schema: Some("billing".into()) }
    /// );
    /// assert_eq!(DatabaseUrl::parse("mariadb://u:p@db/app").unwrap(), DatabaseUrl::Mysql("mysql://u:p@db/app".into()));
    /// assert_eq!(DatabaseUrl::parse("mysql://u:secret@db/app").unwrap().to_string(), "mysql://u:***@db/app");
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
        if let Some((scheme, rest)) = trimmed.split_once("://") {
            return match scheme {
                "postgres" | "postgresql" => Ok(postgres(trimmed)),
                "mysql" | "mariadb" => Ok(DatabaseUrl::Mysql(format!("mysql://{rest}"))),
                other => Err(bad(&format!("unknown scheme `{other}`"))),
            };
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
