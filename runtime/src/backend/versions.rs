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
use retort_schema::naming::VERSION_TABLE;
use std::fmt::Write as _;

use retort_schema::sql::{literal, push_literal, Dialect};

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

/// Adds rows, in one statement, written into one buffer (a batch of a thousand rows is one
/// allocation, not seven per row); rows with an empty `applied_at` share one "now".
pub(crate) fn insert_many(rows: &[AppliedRow], dialect: Dialect) -> String {
    let mut now: Option<(usize, usize)> = None;
    let per_row: usize = rows
        .iter()
        .map(|r| r.revision.len() + r.parents.len() + r.message.len() + r.checksum.len() + 80)
        .sum();
    let mut sql = String::with_capacity(per_row + 100);
    for part in ["INSERT INTO ", VERSION_TABLE, " (", COLUMNS, ") VALUES "] {
        sql.push_str(part);
    }
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for text in [&row.revision, &row.parents, &row.message, &row.checksum] {
            push_literal(&mut sql, text, dialect);
            sql.push_str(", ");
        }
        match (row.applied_at.as_str(), now) {
            // Rows without a time share one "now", written once and copied.
            ("", Some((from, to))) => sql.extend_from_within(from..to),
            ("", None) => {
                let from = sql.len();
                sql.push('\'');
                retort_schema::clock::push_iso_millis(&mut sql, std::time::SystemTime::now());
                sql.push('\'');
                now = Some((from, sql.len()));
            }
            (at, _) => push_literal(&mut sql, at, dialect),
        }
        let _ = write!(sql, ", {}, ", row.execution_ms);
        push_literal(&mut sql, &row.state, dialect);
        sql.push(')');
    }
    sql
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

/// What a version row records about its migration (the `state` column).
///
/// ```
/// use retort::backend::RowState;
/// assert_eq!(RowState::parse("applied"), RowState::Applied);
/// assert_eq!(RowState::parse("dirty 2/5"), RowState::Dirty { done: 2, total: 5 });
/// assert_eq!(RowState::Reverting { done: 1, total: 3 }.to_string(), "reverting 1/3");
/// assert!(RowState::parse("dirty 2/5").is_interrupted());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RowState {
    /// Its migration ran.
    Applied,
    /// Recorded by `stamp`: nothing ran.
    Stamped,
    /// Recorded by adoption: the database already had what it makes.
    Adopted,
    /// Recorded for a checkpoint in place of the revisions it replaced, which had run.
    Checkpoint,
    /// An upgrade stopped after `done` of its `total` statements (a database without
    /// transactional DDL).
    Dirty {
        /// Statements that completed.
        done: usize,
        /// Statements in all.
        total: usize,
    },
    /// A downgrade stopped after `done` of its `total` statements.
    Reverting {
        /// Statements that completed.
        done: usize,
        /// Statements in all.
        total: usize,
    },
    /// A state this version of retort does not write, as it was read.
    Other(String),
}

impl RowState {
    /// Reads a `state` column.
    pub fn parse(text: &str) -> RowState {
        match text {
            "applied" => return RowState::Applied,
            "stamped" => return RowState::Stamped,
            "adopted" => return RowState::Adopted,
            "checkpoint" => return RowState::Checkpoint,
            _ => {}
        }
        match Interrupted::parse(text) {
            Some(i) => i.into(),
            None => RowState::Other(text.to_string()),
        }
    }

    /// Whether its migration stopped part-way.
    pub fn is_interrupted(&self) -> bool {
        self.interrupted().is_some()
    }

    /// How far a migration that stopped part-way got.
    pub(crate) fn interrupted(&self) -> Option<Interrupted> {
        match *self {
            RowState::Dirty { done, total } => Some(Interrupted {
                upgrade: true,
                done,
                total,
            }),
            RowState::Reverting { done, total } => Some(Interrupted {
                upgrade: false,
                done,
                total,
            }),
            _ => None,
        }
    }
}

impl std::fmt::Display for RowState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RowState::Applied => f.write_str("applied"),
            RowState::Stamped => f.write_str("stamped"),
            RowState::Adopted => f.write_str("adopted"),
            RowState::Checkpoint => f.write_str("checkpoint"),
            RowState::Dirty { done, total } => write!(f, "dirty {done}/{total}"),
            RowState::Reverting { done, total } => write!(f, "reverting {done}/{total}"),
            RowState::Other(text) => f.write_str(text),
        }
    }
}

impl From<Interrupted> for RowState {
    fn from(i: Interrupted) -> RowState {
        let (done, total) = (i.done, i.total);
        match i.upgrade {
            true => RowState::Dirty { done, total },
            false => RowState::Reverting { done, total },
        }
    }
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
    /// Reads a state written for this progress; `None` for a finished row.
    fn parse(state: &str) -> Option<Interrupted> {
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
            assert_eq!(
                RowState::parse(&RowState::from(i).to_string()).interrupted(),
                Some(i)
            );
        }
        for finished in [
            "applied",
            "stamped",
            "adopted",
            "checkpoint",
            "dirty",
            "dirty x/2",
        ] {
            let state = RowState::parse(finished);
            assert_eq!(state.interrupted(), None, "{finished}");
            assert_eq!(state.to_string(), finished);
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
