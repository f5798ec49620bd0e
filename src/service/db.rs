//! The connection pool, for whichever backend `DB_URL` names, and the one way handlers reach
//! it: [`with_conn!`](crate::with_conn), which runs a diesel closure on a pooled connection on
//! a blocking thread, compiled once per backend.

use std::time::Duration;

use deadpool_diesel::{Runtime, Timeouts};
use diesel::RunQueryDsl;
use retort::DatabaseUrl;

/// A pool of diesel connections to the service's database.
pub enum Db {
    /// An SQLite file: connections that read, and the one that writes (SQLite takes one
    /// writer at a time; writers queue here, in order, rather than in SQLite's busy
    /// handler, which lets a waiting writer sleep while later ones take the lock).
    Sqlite {
        /// Connections for reads.
        read: deadpool_diesel::sqlite::Pool,
        /// The connection for writes.
        write: deadpool_diesel::sqlite::Pool,
    },
    /// A PostgreSQL database.
    #[cfg(feature = "postgres")]
    Postgres(deadpool_diesel::postgres::Pool),
    /// A MySQL or MariaDB database.
    #[cfg(feature = "mysql")]
    Mysql(deadpool_diesel::mysql::Pool),
}

/// The pool's figures, as `/health` shows them.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct PoolState {
    /// Connections the pool may hold.
    pub max_size: usize,
    /// Connections it holds now.
    pub size: usize,
    /// Of those, idle.
    pub available: usize,
    /// Requests waiting for one.
    pub waiting: usize,
}

/// How long a request waits for a pooled connection before it answers 503.
const WAIT: Duration = Duration::from_secs(10);

/// `with_conn!(read db, |c| …)` / `with_conn!(write db, |c| …)`: runs the body (a
/// `diesel::QueryResult`) with `c` bound to a pooled connection of whichever backend the pool
/// holds, on a blocking thread; evaluates to `Result<T, ApiError>`. `write` matters on
/// SQLite only (its one writer connection). The body is compiled once per backend, so the
/// diesel DSL in it is checked against each.
#[macro_export]
macro_rules! with_conn {
    (read $db:expr, |$conn:ident| $body:expr) => {
        $crate::with_conn!(@pick false, $db, |$conn| $body)
    };
    (write $db:expr, |$conn:ident| $body:expr) => {
        $crate::with_conn!(@pick true, $db, |$conn| $body)
    };
    (@pick $write:expr, $db:expr, |$conn:ident| $body:expr) => {{
        use $crate::service::db::Db;
        let result: Result<_, $crate::service::error::ApiError> = match $db {
            Db::Sqlite { read, write } => {
                $crate::with_conn!(@run if $write { write } else { read }, |$conn| $body)
            }
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => $crate::with_conn!(@run pool, |$conn| $body),
            #[cfg(feature = "mysql")]
            Db::Mysql(pool) => $crate::with_conn!(@run pool, |$conn| $body),
        };
        result
    }};
    (@run $pool:expr, |$conn:ident| $body:expr) => {{
        use $crate::service::error::ApiError;
        match $pool.get().await {
            Ok(obj) => obj
                .interact(move |$conn| $body)
                .await
                .map_err(ApiError::from_interact)
                .and_then(|r| r.map_err(ApiError::from)),
            Err(e) => Err(ApiError::from_pool(e)),
        }
    }};
}

impl Db {
    /// A pool of at most `size` connections to `url` (connections are made as needed).
    ///
    /// # Errors
    /// An in-memory SQLite URL (each connection would see a database of its own), or a
    /// backend this binary was built without.
    pub fn connect(url: &DatabaseUrl, size: usize) -> Result<Db, String> {
        let timeouts = Timeouts {
            wait: Some(WAIT),
            create: Some(WAIT),
            recycle: Some(WAIT),
        };
        match url {
            DatabaseUrl::SqliteFile(path) => {
                let read = sqlite_pool(&path.to_string_lossy(), size, timeouts)?;
                let write = sqlite_pool(&path.to_string_lossy(), 1, timeouts)?;
                Ok(Db::Sqlite { read, write })
            }
            DatabaseUrl::SqliteMemory => Err(
                "the service needs a database its connections share: an SQLite file, PostgreSQL or MySQL, not sqlite::memory:".into(),
            ),
            #[cfg(feature = "postgres")]
            DatabaseUrl::Postgres { url, schema } => {
                let manager =
                    deadpool_diesel::postgres::Manager::new(url.as_str(), Runtime::Tokio1);
                let schema = schema.clone();
                let pool = deadpool_diesel::postgres::Pool::builder(manager)
                    .max_size(size)
                    .timeouts(timeouts)
                    .runtime(Runtime::Tokio1)
                    .post_create(deadpool_diesel::postgres::Hook::async_fn(move |obj, _| {
                        let schema = schema.clone();
                        Box::pin(async move {
                            let Some(schema) = schema else { return Ok(()) };
                            let set = format!(
                                "SET search_path TO \"{}\"",
                                schema.replace('"', "\"\"")
                            );
                            obj.interact(move |c| diesel::sql_query(set).execute(c))
                                .await
                                .map_err(|e| {
                                    deadpool_diesel::postgres::HookError::message(e.to_string())
                                })?
                                .map_err(|e| {
                                    deadpool_diesel::postgres::HookError::message(e.to_string())
                                })?;
                            Ok(())
                        })
                    }))
                    .build()
                    .map_err(|e| e.to_string())?;
                Ok(Db::Postgres(pool))
            }
            #[cfg(feature = "mysql")]
            DatabaseUrl::Mysql(url) => {
                let manager = deadpool_diesel::mysql::Manager::new(url.as_str(), Runtime::Tokio1);
                let pool = deadpool_diesel::mysql::Pool::builder(manager)
                    .max_size(size)
                    .timeouts(timeouts)
                    .runtime(Runtime::Tokio1)
                    .build()
                    .map_err(|e| e.to_string())?;
                Ok(Db::Mysql(pool))
            }
            #[allow(unreachable_patterns)]
            other => Err(format!(
                "this build of records has no {} support: rebuild with `--features {}`",
                other.dialect().name(),
                match other.dialect() {
                    retort::schema::sql::Dialect::Mysql => "mysql",
                    _ => "postgres",
                }
            )),
        }
    }

    /// The pool's figures.
    pub fn state(&self) -> PoolState {
        let s = match self {
            Db::Sqlite { read, .. } => read.status(),
            #[cfg(feature = "postgres")]
            Db::Postgres(p) => p.status(),
            #[cfg(feature = "mysql")]
            Db::Mysql(p) => p.status(),
        };
        PoolState {
            max_size: s.max_size,
            size: s.size,
            available: s.available,
            waiting: s.waiting,
        }
    }

    /// Closes the pool: connections are dropped as they come back.
    pub fn close(&self) {
        match self {
            Db::Sqlite { read, write } => {
                read.close();
                write.close();
            }
            #[cfg(feature = "postgres")]
            Db::Postgres(p) => p.close(),
            #[cfg(feature = "mysql")]
            Db::Mysql(p) => p.close(),
        }
    }
}

/// A pool of at most `size` connections to the SQLite file at `path`, each set up for a
/// service: a busy timeout, WAL, foreign keys.
fn sqlite_pool(
    path: &str,
    size: usize,
    timeouts: Timeouts,
) -> Result<deadpool_diesel::sqlite::Pool, String> {
    let manager = deadpool_diesel::sqlite::Manager::new(path, Runtime::Tokio1);
    deadpool_diesel::sqlite::Pool::builder(manager)
        .max_size(size)
        .timeouts(timeouts)
        .runtime(Runtime::Tokio1)
        .post_create(deadpool_diesel::sqlite::Hook::async_fn(|obj, _| {
            Box::pin(async move {
                // Writers from several connections (and replicas) wait for
                // each other instead of failing at once with "database is
                // locked"; WAL lets readers go on while one writes, and commits
                // without an fsync of the main file each time.
                obj.interact(|c| {
                    diesel::sql_query("PRAGMA busy_timeout = 5000").execute(c)?;
                    diesel::sql_query("PRAGMA journal_mode = WAL").execute(c)?;
                    diesel::sql_query("PRAGMA synchronous = NORMAL").execute(c)?;
                    diesel::sql_query("PRAGMA foreign_keys = ON").execute(c)
                })
                .await
                .map_err(|e| deadpool_diesel::sqlite::HookError::message(e.to_string()))?
                .map_err(|e| deadpool_diesel::sqlite::HookError::message(e.to_string()))?;
                Ok(())
            })
        }))
        .build()
        .map_err(|e| e.to_string())
}
