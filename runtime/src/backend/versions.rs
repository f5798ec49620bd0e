//! The version table, defined once for every dialect: one row per applied revision.
//!
//! | column | meaning |
//! |---|---|
//! | `revision` | the revision id (the key) |
//! | `parents` | its parents, comma-separated |
//! | `message` | its message |
//! | `checksum` | the checksum of its operations when applied |
//! | `applied_at` | when, UTC, ISO 8601 with milliseconds |
//! | `execution_ms` | how long it took |
//! | `state` | `applied`, `stamped`, `adopted`; on a database without transactional DDL, `dirty K/N` while an upgrade is between statements (K of N done) and `reverting K/N` during a downgrade |

use diesel::RunQueryDsl;

use super::{db_err, AppliedRow};
use crate::error::Result;
use crate::migration::Connection;
use crate::schema::naming::VERSION_TABLE;
use crate::schema::sql::{literal, Dialect};

/// `CREATE TABLE IF NOT EXISTS` for the version table. The key is a bounded string where
/// the database cannot index unbounded text (MySQL).
pub(crate) fn create_table(dialect: Dialect) -> String {
    let (key, suffix) = match dialect {
        Dialect::Mysql => (
            "VARCHAR(191)",
            " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
        ),
        _ => ("TEXT", ""),
    };
    format!(
        "CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (\n    revision {key} NOT NULL PRIMARY KEY,\n    parents TEXT NOT NULL,\n    message TEXT NOT NULL,\n    checksum TEXT NOT NULL,\n    applied_at TEXT NOT NULL,\n    execution_ms BIGINT NOT NULL,\n    state TEXT NOT NULL\n){suffix}"
    )
}

const COLUMNS: &str = "revision, parents, message, checksum, applied_at, execution_ms, state";

/// Every row.
pub(crate) fn select_all() -> String {
    format!("SELECT {COLUMNS} FROM {VERSION_TABLE}")
}

/// The row of one revision.
pub(crate) fn select_one(revision: &str, dialect: Dialect) -> String {
    format!(
        "SELECT {COLUMNS} FROM {VERSION_TABLE} WHERE revision = {}",
        literal(revision, dialect)
    )
}

/// Adds a row; an empty `applied_at` means now.
pub(crate) fn insert(row: &AppliedRow, dialect: Dialect) -> String {
    insert_many(std::slice::from_ref(row), dialect)
}

/// Adds rows, in one statement.
pub(crate) fn insert_many(rows: &[AppliedRow], dialect: Dialect) -> String {
    let values: Vec<String> = rows.iter().map(|row| values(row, dialect)).collect();
    format!(
        "INSERT INTO {VERSION_TABLE} ({COLUMNS}) VALUES {}",
        values.join(", ")
    )
}

/// Removes rows, in one statement.
pub(crate) fn delete_many(revisions: &[&str], dialect: Dialect) -> String {
    let list: Vec<String> = revisions.iter().map(|r| literal(r, dialect)).collect();
    format!(
        "DELETE FROM {VERSION_TABLE} WHERE revision IN ({})",
        list.join(", ")
    )
}

/// A condition on the version table: `present` are there and `absent` are not. What a run
/// that let the lock go checks when it takes it again.
pub(crate) fn rows_are(present: &[&str], absent: &[&str], dialect: Dialect) -> String {
    let count = |ids: &[&str]| {
        let list: Vec<String> = ids.iter().map(|r| literal(r, dialect)).collect();
        format!(
            "(SELECT COUNT(*) FROM {VERSION_TABLE} WHERE revision IN ({}))",
            list.join(", ")
        )
    };
    let mut parts = Vec::new();
    if !present.is_empty() {
        parts.push(format!("{} = {}", count(present), present.len()));
    }
    if !absent.is_empty() {
        parts.push(format!("{} = 0", count(absent)));
    }
    if parts.is_empty() {
        "1 = 1".into()
    } else {
        parts.join(" AND ")
    }
}

/// One row's `(…)` of values.
fn values(row: &AppliedRow, dialect: Dialect) -> String {
    let applied_at = if row.applied_at.is_empty() {
        crate::schema::clock::iso_millis(std::time::SystemTime::now())
    } else {
        row.applied_at.clone()
    };
    let l = |s: &str| literal(s, dialect);
    format!(
        "({}, {}, {}, {}, {}, {}, {})",
        l(&row.revision),
        l(&row.parents),
        l(&row.message),
        l(&row.checksum),
        l(&applied_at),
        row.execution_ms,
        l(&row.state)
    )
}

/// Changes a row's state (and time taken).
pub(crate) fn update_state(revision: &str, state: &str, ms: i64, dialect: Dialect) -> String {
    format!(
        "UPDATE {VERSION_TABLE} SET state = {}, execution_ms = {ms} WHERE revision = {}",
        literal(state, dialect),
        literal(revision, dialect)
    )
}

/// Removes one row.
pub(crate) fn delete_one(revision: &str, dialect: Dialect) -> String {
    format!(
        "DELETE FROM {VERSION_TABLE} WHERE revision = {}",
        literal(revision, dialect)
    )
}

/// Removes every row.
pub(crate) fn delete_all() -> String {
    format!("DELETE FROM {VERSION_TABLE}")
}

/// Runs a query returning version rows.
pub(crate) fn load(conn: &mut Connection, sql: &str) -> Result<Vec<AppliedRow>> {
    diesel::sql_query(sql)
        .load(conn)
        .map_err(db_err("cannot read the version table"))
}

/// A migration stopped between statements on a database without transactional DDL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Interrupted {
    /// Whether it was an upgrade (`dirty`) or a downgrade (`reverting`).
    pub upgrade: bool,
    /// Statements that completed.
    pub done: usize,
    /// Statements in all.
    pub total: usize,
}

impl Interrupted {
    /// The state text recorded for this progress.
    pub(crate) fn state(&self) -> String {
        let word = if self.upgrade { "dirty" } else { "reverting" };
        format!("{word} {}/{}", self.done, self.total)
    }

    /// Reads a state written by [`Interrupted::state`]; `None` for a finished row.
    pub(crate) fn parse(state: &str) -> Option<Interrupted> {
        let (word, rest) = state.split_once(' ')?;
        let upgrade = match word {
            "dirty" => true,
            "reverting" => false,
            _ => return None,
        };
        let (done, total) = rest.split_once('/')?;
        Some(Interrupted {
            upgrade,
            done: done.parse().ok()?,
            total: total.parse().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_states_read_back() {
        for (upgrade, done, total) in [(true, 0, 3), (true, 2, 5), (false, 1, 1)] {
            let i = Interrupted {
                upgrade,
                done,
                total,
            };
            assert_eq!(Interrupted::parse(&i.state()), Some(i));
        }
        for finished in ["applied", "stamped", "adopted", "dirty", "dirty x/2"] {
            assert_eq!(Interrupted::parse(finished), None, "{finished}");
        }
    }

    #[test]
    fn mysql_literals_escape_backslashes() {
        let row = AppliedRow {
            revision: "r1".into(),
            parents: String::new(),
            message: r"a\'b".into(),
            checksum: "c".into(),
            applied_at: "t".into(),
            execution_ms: 0,
            state: "applied".into(),
        };
        assert!(insert(&row, Dialect::Mysql).contains(r"'a\\''b'"));
        assert!(insert(&row, Dialect::Postgres).contains(r"'a\''b'"));
    }
}
