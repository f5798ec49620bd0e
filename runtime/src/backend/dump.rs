//! Backups of a server database before an upgrade, by the server's own dump tool:
//! `pg_dump --format=custom` for PostgreSQL, `mariadb-dump --single-transaction` (or
//! `mysqldump`) for MySQL/MariaDB. The file is written under a temporary name and renamed
//! when the tool succeeds, so a failed dump leaves no file that looks like a backup; a
//! missing tool or a failed dump stops the upgrade before anything is applied.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};

/// A backup made before an upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Backup {
    /// Where it is.
    pub path: PathBuf,
    /// A shell command that puts the database back as it was when the backup was taken.
    pub restore: String,
}

/// The parts of a `scheme://user:password@host:port/database?k=v` URL, percent-decoded.
#[derive(Debug, Default)]
pub(crate) struct UrlParts {
    pub user: Option<String>,
    pub password: Option<String>,
    pub host: Option<String>,
    pub port: Option<String>,
    pub database: String,
    pub query: Vec<(String, String)>,
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl UrlParts {
    pub(crate) fn parse(url: &str) -> UrlParts {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, database) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            Some(u) => match u.split_once(':') {
                Some((u, p)) => (Some(decode(u)), Some(decode(p))),
                None => (Some(decode(u)), None),
            },
            None => (None, None),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => {
                (Some(decode(h)), Some(p.to_string()))
            }
            _ => (Some(decode(hostport)), None),
        };
        UrlParts {
            user: user.filter(|u| !u.is_empty()),
            password,
            host: host.filter(|h| !h.is_empty()),
            port: port.filter(|p| !p.is_empty()),
            database: decode(database),
            query: query
                .split('&')
                .filter(|kv| !kv.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Single-quotes `s` for a POSIX shell.
fn sh(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Milliseconds since the Unix epoch, as backup file names carry them.
pub(crate) fn stamp() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    millis.to_string()
}

/// The first of `names` found on `PATH`.
fn find_tool(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// Runs a dump `command` that writes `partial`, then renames it to `target`.
fn run(mut command: Command, tool: &Path, partial: &Path, target: &Path, what: &str) -> Result<()> {
    let fail = |message: String| {
        let _ = std::fs::remove_file(partial);
        Error::Database {
            context: format!(
                "cannot back up {what} with {} (nothing was applied; fix the backup or run without RETORT_BACKUP / --backup)",
                tool.display()
            ),
            source: message.into(),
        }
    };
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| fail(format!("cannot make the folder {}: {e}", dir.display())))?;
    }
    let out = command.output().map_err(|e| fail(e.to_string()))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(fail(format!("{}: {}", out.status, tail.join("\n"))));
    }
    match std::fs::metadata(partial) {
        Ok(m) if m.len() > 0 => {}
        _ => return Err(fail("the tool wrote no file".into())),
    }
    std::fs::rename(partial, target).map_err(|e| fail(e.to_string()))
}

fn missing(tool: &str, package: &str) -> Error {
    Error::Database {
        context: "cannot back up the database before the upgrade (nothing was applied)".into(),
        source: format!(
            "{tool} is not on PATH: install the server's client tools (Debian: {package}), or run without RETORT_BACKUP / --backup"
        )
        .into(),
    }
}

/// `pg_dump --format=custom` of the whole database in `url` (libpq's form) into `dir`.
pub(crate) fn postgres(url: &str, dir: &Path) -> Result<Backup> {
    let tool = find_tool(&["pg_dump"]).ok_or_else(|| missing("pg_dump", "postgresql-client"))?;
    let parts = UrlParts::parse(url);
    let name = if parts.database.is_empty() {
        "postgres"
    } else {
        parts.database.as_str()
    };
    let target = dir.join(format!("{name}.{}.dump", stamp()));
    let partial = target.with_extension("dump.partial");
    let mut command = Command::new(&tool);
    // The password goes through the environment, not the command line (`ps` shows that).
    let (without_password, password) = strip_password(url);
    if let Some(p) = &password {
        command.env("PGPASSWORD", p);
    }
    command
        .arg("--format=custom")
        .arg("--no-password")
        .arg(format!("--file={}", partial.display()))
        .arg(format!("--dbname={without_password}"));
    run(
        command,
        &tool,
        &partial,
        &target,
        &format!("PostgreSQL database {name}"),
    )?;
    // Restore: drop the database and make it again from the dump, from the server's
    // maintenance database (no one may be connected to this one meanwhile).
    let maintenance = with_database(&without_password, "postgres");
    let restore = format!(
        "pg_restore --clean --if-exists --create --exit-on-error --dbname={} {}",
        sh(&maintenance),
        sh(&target.display().to_string())
    );
    Ok(Backup {
        path: target,
        restore,
    })
}

/// `mariadb-dump --single-transaction` (or `mysqldump`) of the database in `url` into `dir`.
pub(crate) fn mysql(url: &str, dir: &Path) -> Result<Backup> {
    let tool = find_tool(&["mariadb-dump", "mysqldump"])
        .ok_or_else(|| missing("mariadb-dump (or mysqldump)", "mariadb-client"))?;
    let parts = UrlParts::parse(url);
    let target = dir.join(format!("{}.{}.sql", parts.database, stamp()));
    let partial = target.with_extension("sql.partial");
    let mut args = connection_args(&parts);
    let mut command = Command::new(&tool);
    if let Some(p) = &parts.password {
        command.env("MYSQL_PWD", p);
    }
    args.extend([
        "--single-transaction".to_string(),
        "--routines".to_string(),
        "--triggers".to_string(),
        "--add-drop-database".to_string(),
        format!("--result-file={}", partial.display()),
        "--databases".to_string(),
        parts.database.clone(),
    ]);
    command.args(&args);
    run(
        command,
        &tool,
        &partial,
        &target,
        &format!("MySQL/MariaDB database {}", parts.database),
    )?;
    let client = if tool.file_name().is_some_and(|n| n == "mysqldump") {
        "mysql"
    } else {
        "mariadb"
    };
    let mut restore = vec![client.to_string()];
    restore.extend(connection_args(&parts).iter().map(|a| sh(a)));
    restore.push(format!("< {}", sh(&target.display().to_string())));
    if parts.password.is_some() {
        restore.push("# the password from MYSQL_PWD, or add -p to be asked".into());
    }
    Ok(Backup {
        path: target,
        restore: restore.join(" "),
    })
}

/// `--host`, `--port`, `--socket`, `--user` for the MySQL client tools.
fn connection_args(parts: &UrlParts) -> Vec<String> {
    let mut args = Vec::new();
    if let Some(socket) = parts.get("unix_socket").or(parts.get("socket")) {
        args.push(format!("--socket={socket}"));
    } else {
        if let Some(h) = &parts.host {
            args.push(format!("--host={h}"));
        }
        if let Some(p) = &parts.port {
            args.push(format!("--port={p}"));
        }
    }
    if let Some(u) = &parts.user {
        args.push(format!("--user={u}"));
    }
    args
}

/// `url` without the password in its user part, and the password (percent-decoded).
fn strip_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), None);
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return (url.to_string(), None);
    };
    match userinfo.split_once(':') {
        Some((user, password)) => (
            format!("{scheme}://{user}@{host}{tail}"),
            Some(decode(password)),
        ),
        None => (url.to_string(), None),
    }
}

/// `url` naming database `name` instead.
fn with_database(url: &str, name: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let query = tail
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{scheme}://{authority}/{name}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_come_apart_with_their_escapes() {
        let p =
            UrlParts::parse("mysql://app%40x:p%3Ass@db.local:3307/shop?unix_socket=/run/m.sock");
        assert_eq!(p.user.as_deref(), Some("app@x"));
        assert_eq!(p.password.as_deref(), Some("p:ss"));
        assert_eq!(p.host.as_deref(), Some("db.local"));
        assert_eq!(p.port.as_deref(), Some("3307"));
        assert_eq!(p.database, "shop");
        assert_eq!(p.get("unix_socket"), Some("/run/m.sock"));
        assert_eq!(
            strip_password("postgres://u:s%2Fecret@h:5/db?sslmode=disable"),
            (
                "postgres://u@h:5/db?sslmode=disable".to_string(),
                Some("s/ecret".to_string())
            )
        );
        assert_eq!(
            with_database("postgres://u@h:5/db?sslmode=disable", "postgres"),
            "postgres://u@h:5/postgres?sslmode=disable"
        );
        assert_eq!(sh("a b'c"), "'a b'\\''c'");
        assert_eq!(sh("/tmp/x.dump"), "/tmp/x.dump");
    }
}
