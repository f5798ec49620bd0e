//! Compiled migrations: what `migration! { … }` expands to, and the list the build
//! script collects into `MIGRATIONS`.

use retort_schema::migration::MigrationFile;
use retort_schema::ops::Op;
use retort_schema::Schema;

pub use any::AnyConnection as Connection;

/// The multi-backend connection, in a module of its own: diesel's derive refers to its
/// `Connection` trait by that name.
mod any {
    /// Declares [`AnyConnection`] over the backends this build compiles (diesel's
    /// `MultiConnection` cannot skip a variant by `cfg`).
    macro_rules! connection {
    ($($variant:ident($ty:ty)),+) => {
        /// The connection a data-migration function receives: one type whichever database
        /// runs the migration (diesel's `MultiConnection` over the compiled backends), so one
        /// migration file serves SQLite, PostgreSQL and MySQL/MariaDB.
        ///
        /// diesel's query builder and `sql_query` work on it directly; `match` on it for
        /// something only one database has.
        #[derive(diesel::MultiConnection)]
        pub enum AnyConnection {
            $(
                #[doc = concat!("A ", stringify!($variant), " connection.")]
                $variant($ty),
            )+
        }
    };
}

    #[cfg(all(feature = "sqlite", feature = "postgres", feature = "mysql"))]
    connection!(
        Sqlite(diesel::SqliteConnection),
        Postgres(diesel::PgConnection),
        Mysql(diesel::MysqlConnection)
    );
    #[cfg(all(feature = "sqlite", feature = "postgres", not(feature = "mysql")))]
    connection!(
        Sqlite(diesel::SqliteConnection),
        Postgres(diesel::PgConnection)
    );
    #[cfg(all(feature = "sqlite", not(feature = "postgres"), feature = "mysql"))]
    connection!(
        Sqlite(diesel::SqliteConnection),
        Mysql(diesel::MysqlConnection)
    );
    #[cfg(all(feature = "sqlite", not(feature = "postgres"), not(feature = "mysql")))]
    connection!(Sqlite(diesel::SqliteConnection));
    #[cfg(all(not(feature = "sqlite"), feature = "postgres", feature = "mysql"))]
    connection!(
        Postgres(diesel::PgConnection),
        Mysql(diesel::MysqlConnection)
    );
    #[cfg(all(not(feature = "sqlite"), feature = "postgres", not(feature = "mysql")))]
    connection!(Postgres(diesel::PgConnection));
    #[cfg(all(not(feature = "sqlite"), not(feature = "postgres"), feature = "mysql"))]
    connection!(Mysql(diesel::MysqlConnection));
    #[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
    compile_error!(
        "retort needs at least one backend: enable the feature `sqlite`, `postgres` or `mysql`"
    );
}

/// A Rust function named by `run(…)` in a migration: a data migration.
///
/// ```
/// fn backfill_status(conn: &mut retort::Connection) -> Result<(), retort::DataError> {
///     use diesel::RunQueryDsl;
///     diesel::sql_query("UPDATE tasks SET status = 'queued' WHERE status IS NULL").execute(conn)?;
///     Ok(())
/// }
/// let _: retort::DataMigrationFn = backfill_status;
/// ```
pub type DataMigrationFn = fn(&mut Connection) -> Result<(), DataError>;

/// The error a data-migration function returns; any error converts into it with `?`.
pub type DataError = Box<dyn std::error::Error + Send + Sync>;

/// The operations of one direction of a compiled migration: code that builds them
/// (written by `migration!`; nothing is decoded at run time).
pub type OpsFn = &'static (dyn Fn() -> Vec<Op> + Sync);

/// One migration, as compiled from its file by `retort::migration!`.
#[derive(Clone, Copy)]
pub struct CompiledMigration {
    /// Revision id.
    pub revision: &'static str,
    /// Parent revisions.
    pub parents: &'static [&'static str],
    /// Message.
    pub message: &'static str,
    /// SHA-256 of the canonical operations (see `MigrationFile::checksum`).
    pub checksum: &'static str,
    /// The checksums earlier versions of retort recorded for this file (version 0), accepted
    /// in version rows they wrote.
    pub earlier_checksums: &'static [&'static str],
    /// Builds the upgrade operations.
    pub upgrade: OpsFn,
    /// Builds the downgrade operations.
    pub downgrade: OpsFn,
    /// The functions `run(…)` names, by name.
    pub functions: &'static [(&'static str, DataMigrationFn)],
    /// Whether it runs in one transaction where the database allows (`atomic: false` in the
    /// file: statement by statement, with progress recorded).
    pub atomic: bool,
    /// The revisions this checkpoint replaces (`replaces: […]`, written by `retort squash`);
    /// empty for any other migration.
    pub replaces: &'static [&'static str],
}

impl std::fmt::Debug for CompiledMigration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledMigration")
            .field("revision", &self.revision)
            .field("parents", &self.parents)
            .field("message", &self.message)
            .field("checksum", &self.checksum)
            .field("atomic", &self.atomic)
            .field("replaces", &self.replaces)
            .finish_non_exhaustive()
    }
}

impl CompiledMigration {
    /// The upgrade operations.
    pub fn up(&self) -> Vec<Op> {
        (self.upgrade)()
    }

    /// The downgrade operations.
    pub fn down(&self) -> Vec<Op> {
        (self.downgrade)()
    }

    /// The migration as the schema crate models it.
    pub fn file(&self) -> MigrationFile {
        MigrationFile {
            revision: self.revision.into(),
            parents: self.parents.iter().map(|p| p.to_string()).collect(),
            message: self.message.into(),
            up: self.up(),
            down: self.down(),
            atomic: self.atomic,
            reviewed_locks: Vec::new(),
            replaces: self.replaces.iter().map(|r| r.to_string()).collect(),
            elidable: false,
        }
    }

    /// The function `run(name)` refers to.
    pub fn function(&self, name: &str) -> Option<DataMigrationFn> {
        self.functions
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
    }
}

/// Every migration of an application, parents before children.
#[derive(Clone, Copy)]
pub struct Migrations {
    list: &'static [&'static CompiledMigration],
    heads: Option<&'static [&'static str]>,
    models: Option<fn() -> Schema>,
    dir: Option<&'static str>,
}

impl std::fmt::Debug for Migrations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrations")
            .field("list", &self.list)
            .field("heads", &self.heads)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Migrations {
    /// Wraps the list the build script writes.
    pub const fn new(list: &'static [&'static CompiledMigration]) -> Self {
        Migrations {
            list,
            heads: None,
            models: None,
            dir: None,
        }
    }

    /// Adds the head revision(s) the build found (it refuses to build with more than one),
    /// so a start-up does not work them out again.
    pub const fn with_heads(self, heads: &'static [&'static str]) -> Self {
        Migrations {
            heads: Some(heads),
            ..self
        }
    }

    /// The head revision(s), when the build recorded them.
    pub fn heads(&self) -> Option<&'static [&'static str]> {
        self.heads
    }

    /// Adds the models' schema the build script read (as code that builds it), for `check`.
    pub const fn with_models(self, schema: fn() -> Schema) -> Self {
        Migrations {
            models: Some(schema),
            ..self
        }
    }

    /// Adds the migrations folder, for `revision`.
    pub const fn with_dir(self, dir: &'static str) -> Self {
        Migrations {
            dir: Some(dir),
            ..self
        }
    }

    /// The models' schema as the build recorded it.
    pub fn models(&self) -> Option<Schema> {
        self.models.map(|schema| schema())
    }

    /// The migrations folder the build read.
    pub fn dir(&self) -> Option<&'static str> {
        self.dir
    }

    /// All migrations.
    pub fn all(&self) -> &'static [&'static CompiledMigration] {
        self.list
    }

    /// The migration with this revision.
    pub fn get(&self, revision: &str) -> Option<&'static CompiledMigration> {
        self.list.iter().copied().find(|m| m.revision == revision)
    }
}
