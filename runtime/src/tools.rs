//! Other migration tools a database may come from: the version table each keeps, how it
//! marks a migration that failed, and how its migration files name their versions. What
//! `db adopt --from <tool>` reads before it takes a database over, and what `check` leaves
//! alone afterwards (the old table stays, out of the models).

use std::collections::BTreeSet;
use std::path::Path;

use crate::error::{Error, Result};

/// A migration tool whose version table retort can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Tool {
    /// diesel_migrations (and diesel_cli): `__diesel_schema_migrations`.
    Diesel,
    /// sqlx's migrator: `_sqlx_migrations`.
    Sqlx,
    /// refinery: `refinery_schema_history`.
    Refinery,
    /// SeaORM's migrator: `seaql_migrations`.
    SeaOrm,
    /// golang-migrate: `schema_migrations` with a `dirty` flag.
    GolangMigrate,
    /// Alembic: `alembic_version`.
    Alembic,
}

impl Tool {
    /// Every tool, in the order `--help` lists them.
    pub const ALL: [Tool; 6] = [
        Tool::Diesel,
        Tool::Sqlx,
        Tool::Refinery,
        Tool::SeaOrm,
        Tool::GolangMigrate,
        Tool::Alembic,
    ];

    /// The name `--from` takes.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Diesel => "diesel",
            Tool::Sqlx => "sqlx",
            Tool::Refinery => "refinery",
            Tool::SeaOrm => "sea-orm",
            Tool::GolangMigrate => "golang-migrate",
            Tool::Alembic => "alembic",
        }
    }

    /// Reads a name `--from` takes (`sea-orm` / `seaorm` / `sea_orm`, `golang-migrate` /
    /// `migrate`, `diesel` / `diesel_migrations`).
    ///
    /// ```
    /// use retort::tools::Tool;
    /// assert_eq!(Tool::parse("sea_orm"), Some(Tool::SeaOrm));
    /// assert_eq!(Tool::parse("flyway"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Tool> {
        let key = text.trim().to_ascii_lowercase().replace(['-', '_'], "");
        Some(match key.as_str() {
            "diesel" | "dieselmigrations" | "dieselcli" => Tool::Diesel,
            "sqlx" => Tool::Sqlx,
            "refinery" => Tool::Refinery,
            "seaorm" | "seaormmigration" => Tool::SeaOrm,
            "golangmigrate" | "migrate" => Tool::GolangMigrate,
            "alembic" => Tool::Alembic,
            _ => return None,
        })
    }

    /// [`Tool::parse`], or what to say of a name it does not read (to follow the name, as
    /// in `--from flyway names no tool …`).
    ///
    /// ```
    /// use retort::tools::Tool;
    /// assert_eq!(Tool::named("sqlx"), Ok(Tool::Sqlx));
    /// assert!(Tool::named("flyway").unwrap_err().contains("use one of diesel, sqlx"));
    /// ```
    pub fn named(text: &str) -> Result<Tool, String> {
        Tool::parse(text).ok_or_else(|| {
            let names: Vec<&str> = Tool::ALL.iter().map(|t| t.name()).collect();
            format!(
                "names no tool retort can adopt from; use one of {}",
                names.join(", ")
            )
        })
    }

    /// The table the tool records its migrations in.
    pub fn table(self) -> &'static str {
        match self {
            Tool::Diesel => "__diesel_schema_migrations",
            Tool::Sqlx => "_sqlx_migrations",
            Tool::Refinery => "refinery_schema_history",
            Tool::SeaOrm => "seaql_migrations",
            Tool::GolangMigrate => "schema_migrations",
            Tool::Alembic => "alembic_version",
        }
    }

    /// The tools whose version table has this name.
    pub fn of_table(table: &str) -> Option<Tool> {
        Tool::ALL.into_iter().find(|t| t.table() == table)
    }

    /// The query that reads the tool's rows as `(version, failed)` text, in the dialect's
    /// spelling of a cast to text. `failed` is `NULL` where the tool records no failure.
    pub(crate) fn rows_query(self, text: &str) -> String {
        let (version, failed) = match self {
            Tool::Diesel | Tool::SeaOrm => ("version", None),
            Tool::Sqlx => ("version", Some("NOT success")),
            Tool::Refinery => ("version", None),
            Tool::GolangMigrate => ("version", Some("dirty")),
            Tool::Alembic => ("version_num", None),
        };
        let failed = match failed {
            Some(expr) => format!("CAST(CASE WHEN {expr} THEN 1 ELSE 0 END AS {text})"),
            None => "NULL".into(),
        };
        format!(
            "SELECT CAST({version} AS {text}) AS v, {failed} AS w FROM {}",
            self.table()
        )
    }

    /// The versions the tool's migration files in `dir` hold, as its table records them:
    /// diesel's `2024-01-02-030405_name/` → `20240102030405`; sqlx's and golang-migrate's
    /// `<version>_<name>.sql` (or `.up.sql`) → the number; refinery's `V<n>__<name>.sql` →
    /// `n`; SeaORM's `m20240102_000001_name.rs` → the file's stem; Alembic's
    /// `versions/*.py` → its head revision(s) (`alembic_version` keeps only heads).
    pub fn versions_in(self, dir: &Path) -> Result<BTreeSet<String>> {
        let io = |e: std::io::Error| Error::Io {
            path: dir.to_path_buf(),
            source: e,
        };
        let dir = match self {
            Tool::Alembic if dir.join("versions").is_dir() => dir.join("versions"),
            _ => dir.to_path_buf(),
        };
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            names.push((
                entry.file_name().to_string_lossy().into_owned(),
                entry.path(),
            ));
        }
        let mut out = BTreeSet::new();
        match self {
            Tool::Diesel => {
                for (name, path) in &names {
                    if !path.is_dir() {
                        continue;
                    }
                    let stamp = name.split('_').next().unwrap_or_default().replace('-', "");
                    if !stamp.is_empty() && stamp.chars().all(|c| c.is_ascii_digit()) {
                        out.insert(stamp);
                    }
                }
            }
            Tool::Sqlx | Tool::GolangMigrate => {
                for (name, _) in &names {
                    if name.ends_with(".down.sql") || !name.ends_with(".sql") {
                        continue;
                    }
                    if let Some(n) = leading_number(name) {
                        out.insert(n);
                    }
                }
            }
            Tool::Refinery => {
                for (name, _) in &names {
                    let Some(rest) = name.strip_prefix('V').or_else(|| name.strip_prefix('U'))
                    else {
                        continue;
                    };
                    if name.contains("__") && (name.ends_with(".sql") || name.ends_with(".rs")) {
                        if let Some(n) = leading_number(rest) {
                            out.insert(n);
                        }
                    }
                }
            }
            Tool::SeaOrm => {
                for (name, _) in &names {
                    if let Some(stem) = name.strip_suffix(".rs") {
                        if stem.starts_with('m')
                            && stem[1..].starts_with(|c: char| c.is_ascii_digit())
                        {
                            out.insert(stem.to_string());
                        }
                    }
                }
            }
            Tool::Alembic => {
                let mut revisions = BTreeSet::new();
                let mut parents = BTreeSet::new();
                for (name, path) in &names {
                    if !name.ends_with(".py") {
                        continue;
                    }
                    let text = std::fs::read_to_string(path).map_err(io)?;
                    if let Some(r) = python_value(&text, "revision") {
                        revisions.extend(r);
                    }
                    if let Some(d) = python_value(&text, "down_revision") {
                        parents.extend(d);
                    }
                }
                out = revisions.difference(&parents).cloned().collect();
            }
        }
        Ok(out)
    }
}

impl std::fmt::Display for Tool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The digits a file name starts with, without leading zeros (as an integer column keeps them).
fn leading_number(name: &str) -> Option<String> {
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return None;
    }
    let trimmed = digits.trim_start_matches('0');
    Some(if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed.into()
    })
}

/// The string (or tuple of strings) assigned to `name` at the start of a line of an Alembic
/// script: `revision = 'ae1027a6acf'`, `down_revision = ('a', 'b')`, `down_revision = None`.
fn python_value(text: &str, name: &str) -> Option<Vec<String>> {
    for line in text.lines() {
        let Some(rest) = line.trim_start().strip_prefix(name) else {
            continue;
        };
        // `revision: str = '…'` (typed) or `revision = '…'`.
        let rest = rest.trim_start();
        let rest = match rest.strip_prefix(':') {
            Some(typed) => typed.split_once('=').map(|(_, v)| v)?,
            None => rest.strip_prefix('=')?,
        };
        let values: Vec<String> = rest
            .split(['\'', '"'])
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect();
        return Some(values);
    }
    None
}

/// What the other tool's table says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolState {
    /// The tool.
    pub tool: Tool,
    /// Versions it records as applied.
    pub applied: BTreeSet<String>,
    /// Versions it records as failed or dirty.
    pub failed: Vec<String>,
}

impl ToolState {
    /// The rows read by [`Tool::rows_query`].
    pub(crate) fn from_rows(tool: Tool, rows: Vec<crate::backend::TextPair>) -> Self {
        let mut applied = BTreeSet::new();
        let mut failed = Vec::new();
        for (version, bad) in rows {
            let version = version.unwrap_or_default();
            if bad.as_deref().is_some_and(|b| b.trim() == "1") {
                failed.push(version);
            } else {
                applied.insert(version);
            }
        }
        ToolState {
            tool,
            applied,
            failed,
        }
    }

    /// The newest version, for messages (numbers by value, names by text).
    pub fn latest(&self) -> Option<&str> {
        self.applied
            .iter()
            .max_by(|a, b| match (a.parse::<u128>(), b.parse::<u128>()) {
                (Ok(x), Ok(y)) => x.cmp(&y),
                _ => a.cmp(b),
            })
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_tools_file_names_as_its_table_records_them() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("2024-01-02-030405_create_users")).unwrap();
        std::fs::create_dir_all(d.join("00000000000000_diesel_initial_setup")).unwrap();
        std::fs::write(d.join("20240102030405_create.sql"), "").unwrap();
        std::fs::write(d.join("000002_add.up.sql"), "").unwrap();
        std::fs::write(d.join("000002_add.down.sql"), "").unwrap();
        std::fs::write(d.join("V3__more.sql"), "").unwrap();
        std::fs::write(d.join("m20240102_000001_create_table.rs"), "").unwrap();
        std::fs::write(d.join("mod.rs"), "").unwrap();
        std::fs::write(d.join("a1.py"), "revision = 'a1'\ndown_revision = None\n").unwrap();
        std::fs::write(
            d.join("b2.py"),
            "revision: str = \"b2\"\ndown_revision: Union[str, None] = 'a1'\n",
        )
        .unwrap();
        let set = |t: Tool| t.versions_in(d).unwrap().into_iter().collect::<Vec<_>>();
        assert_eq!(set(Tool::Diesel), ["00000000000000", "20240102030405"]);
        assert_eq!(set(Tool::Sqlx), ["2", "20240102030405"]);
        assert_eq!(set(Tool::GolangMigrate), ["2", "20240102030405"]);
        assert_eq!(set(Tool::Refinery), ["3"]);
        assert_eq!(set(Tool::SeaOrm), ["m20240102_000001_create_table"]);
        assert_eq!(set(Tool::Alembic), ["b2"]);
    }
}
