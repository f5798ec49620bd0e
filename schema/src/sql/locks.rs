//! What each operation costs a live table, per database: the lock it takes, what the table
//! goes through while that lock is held (a catalog change, a scan, a rewrite, an index
//! build), who waits meanwhile, and the form that does not stop the application. Each
//! dialect's module says it for its own statements ([`super::postgres::lock_costs`], …);
//! the build's review reads it, and `docs/online-safety.md` prints it as a table.
//!
//! ```
//! use retort_schema::sql::locks::{lock_costs, Blocks, Work};
//! use retort_schema::sql::Dialect;
//! use retort_schema::{Index, Schema, Table};
//! use retort_schema::ops::Op;
//! let before = Schema::from_tables([Table::new("tasks")]);
//! let op = Op::CreateIndex {
//!     table: "tasks".into(),
//!     index: Index::on_columns("ix_tasks_title", ["title"], false),
//!     concurrently: false,
//! };
//! let pg = &lock_costs(&op, Dialect::Postgres, &before)[0];
//! assert_eq!((pg.lock, pg.blocks, pg.work), ("SHARE", Blocks::Writes, Work::IndexBuild));
//! assert!(pg.holds_up_the_table() && pg.online.is_some());
//! let my = &lock_costs(&op, Dialect::Mysql, &before)[0];
//! assert_eq!(my.blocks, Blocks::Nothing); // InnoDB builds it in place, LOCK=NONE
//! ```

use super::Dialect;
use crate::model::Schema;
use crate::ops::Op;

/// Which other sessions' statements on the table wait while the lock is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Blocks {
    /// Reads and writes go on.
    Nothing,
    /// Reads go on; inserts, updates and deletes wait.
    Writes,
    /// Everything waits, reads too.
    ReadsAndWrites,
}

impl Blocks {
    /// In a few words, for a warning.
    pub fn says(self) -> &'static str {
        match self {
            Blocks::Nothing => "reads and writes go on",
            Blocks::Writes => "writes wait",
            Blocks::ReadsAndWrites => "reads and writes wait",
        }
    }
}

/// What the table goes through while the lock is held: the lock lasts as long as this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Work {
    /// Only the catalog changes: the lock is held for a moment once granted.
    Catalog,
    /// Every row is read, to check a constraint.
    Scan,
    /// The table and its indexes are written again (a copy, on MySQL's `COPY`).
    Rewrite,
    /// An index is built from every row.
    IndexBuild,
    /// Rows are written a batch at a time, each batch committed on its own: a row is
    /// locked only while its batch runs.
    Batches,
}

impl Work {
    /// In a few words, for a warning.
    pub fn says(self) -> &'static str {
        match self {
            Work::Catalog => "changes only the catalog",
            Work::Scan => "reads every row to check it",
            Work::Rewrite => "rewrites the whole table",
            Work::IndexBuild => "builds an index from every row",
            Work::Batches => "writes the rows a batch at a time, each committed on its own",
        }
    }
}

/// What one operation costs one existing table on one database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockCost {
    /// The table locked.
    pub table: String,
    /// The lock as the database names it (`ACCESS EXCLUSIVE`, `SHARE`; on MySQL the
    /// algorithm and lock level, `INPLACE, LOCK=NONE`; on SQLite the database write lock).
    pub lock: &'static str,
    /// Who waits while it is held.
    pub blocks: Blocks,
    /// What the table goes through meanwhile.
    pub work: Work,
    /// The form that keeps the application running, where there is one.
    pub online: Option<&'static str>,
    /// A server version or condition the cost depends on.
    pub note: Option<&'static str>,
}

impl LockCost {
    pub(crate) fn new(table: &str, lock: &'static str, blocks: Blocks, work: Work) -> LockCost {
        LockCost {
            table: table.to_string(),
            lock,
            blocks,
            work,
            online: None,
            note: None,
        }
    }

    pub(crate) fn online(mut self, how: &'static str) -> LockCost {
        self.online = Some(how);
        self
    }

    pub(crate) fn note(mut self, note: &'static str) -> LockCost {
        self.note = Some(note);
        self
    }

    /// Whether other sessions wait for as long as the table is large: the lock blocks
    /// something while the table is scanned, rewritten or indexed. What the build's review
    /// warns about.
    pub fn holds_up_the_table(&self) -> bool {
        self.blocks != Blocks::Nothing && self.work != Work::Catalog
    }
}

/// What `op` costs each existing table it touches on `dialect`, given the schema before it.
/// Empty for what touches no existing table (a new table, a function, raw SQL and Rust
/// functions, which retort cannot see into). Panics for a dialect this build leaves out
/// ([`Dialect::compiled`]).
pub fn lock_costs(op: &Op, dialect: Dialect, before: &Schema) -> Vec<LockCost> {
    match dialect {
        Dialect::Postgres if cfg!(feature = "postgres") => super::postgres::lock_costs(op, before),
        Dialect::Mysql if cfg!(feature = "mysql") => super::mysql::lock_costs(op, before),
        Dialect::Sqlite if cfg!(feature = "sqlite") => super::sqlite::lock_costs(op, before),
        d => d.left_out_of_build(),
    }
}

/// The type of `table.column` before an operation, if the schema has it.
pub(crate) fn column_type<'a>(
    before: &'a Schema,
    table: &str,
    column: &str,
) -> Option<&'a crate::model::ColumnType> {
    before
        .tables
        .get(table)
        .and_then(|t| t.column(column))
        .map(|c| &c.ty)
}

/// Whether a default is computed per row when a column is added (a volatile function:
/// `gen_random_uuid()`, `random()`, a sequence), rather than a constant or a stable value
/// (`now()`, `CURRENT_TIMESTAMP`) that the database can store once in the catalog. Unknown
/// calls count as volatile: the warning is then one too many, never one too few.
///
/// ```
/// use retort_schema::sql::locks::default_per_row;
/// assert!(default_per_row("gen_random_uuid()"));
/// assert!(!default_per_row("now()"));
/// assert!(!default_per_row("'draft'"));
/// ```
pub fn default_per_row(default: &str) -> bool {
    let mut d = default.trim();
    while let Some(inner) = d.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        d = inner.trim();
    }
    // A cast of a constant (`'{}'::jsonb`) is a constant.
    if let Some((value, _)) = d.split_once("::") {
        if !value.contains('(') {
            return false;
        }
    }
    if !d.contains('(') {
        return false;
    }
    let lower = d.to_ascii_lowercase();
    const STABLE: [&str; 6] = [
        "now()",
        "current_timestamp()",
        "transaction_timestamp()",
        "statement_timestamp()",
        "localtimestamp()",
        "current_date()",
    ];
    !STABLE.contains(&lower.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_is_per_row_only_when_it_calls_something_volatile() {
        for constant in [
            "0",
            "'draft'",
            "TRUE",
            "now()",
            "CURRENT_TIMESTAMP",
            "('{}'::jsonb)",
            "'x'::text",
            "(42)",
        ] {
            assert!(!default_per_row(constant), "{constant}");
        }
        for per_row in [
            "gen_random_uuid()",
            "random()",
            "nextval('s')",
            "(uuid_generate_v4())",
            "clock_timestamp()",
        ] {
            assert!(default_per_row(per_row), "{per_row}");
        }
    }
}
