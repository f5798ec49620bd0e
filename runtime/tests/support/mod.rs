//! What the runtime's database tests share: a migration written in the grammar, and a
//! throwaway SQLite file.
#![allow(dead_code)]

use diesel::prelude::*;
use retort::{DatabaseUrl, Migration};
use retort_schema::migration::parse_file;

/// A revision from its operations as written in a migration file.
pub fn rev(id: &str, parent: Option<&str>, up: &str, down: &str) -> Migration {
    let parents = parent.map(|p| format!("\"{p}\"")).unwrap_or_default();
    let text = format!("retort::migration! {{ revision: \"{id}\", parents: [{parents}], message: \"{id}\", up: [{up}], down: [{down}] }}");
    Migration::from_file(parse_file(&text).unwrap_or_else(|e| panic!("{id}: {e}")))
}

/// An SQLite file in a temporary folder, deleted on drop.
pub struct Db {
    _dir: tempfile::TempDir,
    pub path: std::path::PathBuf,
}

impl Db {
    pub fn new() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.db");
        Db { _dir: dir, path }
    }
    pub fn url(&self) -> DatabaseUrl {
        DatabaseUrl::SqliteFile(self.path.clone())
    }
    pub fn conn(&self) -> SqliteConnection {
        SqliteConnection::establish(self.path.to_str().unwrap()).unwrap()
    }
}

/// A database of one backend for one test: an SQLite file, or a fresh database on the
/// PostgreSQL or MariaDB server `scripts/test-dbs.sh` started (`RETORT_PG_URL`,
/// `RETORT_MYSQL_URL`), dropped afterwards.
pub struct TestDb {
    pub dialect: retort::schema::sql::Dialect,
    pub url: DatabaseUrl,
    /// The URL as text (for child processes).
    pub url_text: String,
    _dir: Option<tempfile::TempDir>,
    /// (server URL, database name) to drop on the way out.
    server: Option<(String, String)>,
}

/// The server URL of a backend from the environment. Without it the test says how to start
/// the servers and skips that backend; with `CI=true` it fails instead.
fn server_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => panic!(
            "{var} is not set and CI=true: server tests must run. Start the servers with `bash scripts/test-dbs.sh run cargo test --workspace`"
        ),
        _ => {
            eprintln!("note: {var} is not set; skipping that backend. Run `bash scripts/test-dbs.sh run cargo test --workspace` to test PostgreSQL and MariaDB too");
            None
        }
    }
}

fn unique_name() -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    format!(
        "t_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    )
}

/// `scheme://user:pw@host:port/db?x` with another database name.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let cut = base.rfind('/').expect("a server URL names a database");
    format!("{}/{name}{query}", &base[..cut])
}

impl TestDb {
    /// One fresh database per backend this run can reach.
    pub fn all() -> Vec<TestDb> {
        #[allow(unused_mut)] // without the server features
        let mut out = vec![TestDb::sqlite()];
        #[cfg(feature = "postgres")]
        if let Some(db) = TestDb::postgres() {
            out.push(db);
        }
        #[cfg(feature = "mysql")]
        if let Some(db) = TestDb::mysql() {
            out.push(db);
        }
        out
    }

    /// Another fresh database of the same backend.
    pub fn another(&self) -> TestDb {
        match self.dialect {
            #[cfg(feature = "postgres")]
            retort::schema::sql::Dialect::Postgres => TestDb::postgres().unwrap(),
            #[cfg(feature = "mysql")]
            retort::schema::sql::Dialect::Mysql => TestDb::mysql().unwrap(),
            _ => TestDb::sqlite(),
        }
    }

    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.db");
        TestDb {
            dialect: retort::schema::sql::Dialect::Sqlite,
            url_text: format!("sqlite:///{}", path.display()),
            url: DatabaseUrl::SqliteFile(path),
            _dir: Some(dir),
            server: None,
        }
    }

    #[cfg(feature = "postgres")]
    pub fn postgres() -> Option<TestDb> {
        TestDb::on_server("RETORT_PG_URL")
    }

    #[cfg(feature = "mysql")]
    pub fn mysql() -> Option<TestDb> {
        TestDb::on_server("RETORT_MYSQL_URL")
    }

    /// A fresh database on the server whose URL is in `var`.
    #[allow(dead_code)] // without the server features
    fn on_server(var: &str) -> Option<TestDb> {
        let server = server_url(var)?;
        let name = unique_name();
        let mut admin = retort::backend::connect(&DatabaseUrl::parse(&server).unwrap())
            .unwrap_or_else(|e| panic!("cannot reach the server at {var}: {e}"));
        admin.execute(&format!("CREATE DATABASE {name}")).unwrap();
        let url_text = with_database(&server, &name);
        let url = DatabaseUrl::parse(&url_text).unwrap();
        Some(TestDb {
            dialect: url.dialect(),
            url,
            url_text,
            _dir: None,
            server: Some((server, name)),
        })
    }

    /// A connection of the right backend.
    pub fn conn(&self) -> retort::Connection {
        match &self.url {
            DatabaseUrl::SqliteFile(p) => retort::Connection::Sqlite(
                SqliteConnection::establish(p.to_str().unwrap()).unwrap(),
            ),
            #[cfg(feature = "postgres")]
            DatabaseUrl::Postgres { url, .. } => {
                retort::Connection::Postgres(PgConnection::establish(url).unwrap())
            }
            #[cfg(feature = "mysql")]
            DatabaseUrl::Mysql(url) => {
                retort::Connection::Mysql(MysqlConnection::establish(url).unwrap())
            }
            other => panic!("no test connection for {other}"),
        }
    }

    /// Runs statements.
    pub fn exec(&self, sql: &str) {
        diesel::connection::SimpleConnection::batch_execute(&mut self.conn(), sql)
            .unwrap_or_else(|e| panic!("{}: {sql}: {e}", self.dialect.name()));
    }

    /// Quotes an identifier for this backend.
    pub fn q(&self, name: &str) -> String {
        retort::schema::sql::quote_ident(name, self.dialect)
    }

    /// The values of `columns` of `table`, ordered by `id`, as text (NULL as `None`).
    pub fn rows(&self, table: &str, columns: &[&str]) -> Vec<Vec<Option<String>>> {
        #[derive(QueryableByName)]
        struct V {
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
            v: Option<String>,
        }
        let text = match self.dialect {
            retort::schema::sql::Dialect::Mysql => "CHAR",
            _ => "TEXT",
        };
        let mut conn = self.conn();
        let mut out: Vec<Vec<Option<String>>> = Vec::new();
        for (i, c) in columns.iter().enumerate() {
            let sql = format!(
                "SELECT CAST({} AS {text}) AS v FROM {} ORDER BY {}",
                self.q(c),
                self.q(table),
                self.q("id")
            );
            let vs: Vec<V> = diesel::sql_query(&sql)
                .load(&mut conn)
                .unwrap_or_else(|e| panic!("{}: {sql}: {e}", self.dialect.name()));
            for (r, v) in vs.into_iter().enumerate() {
                if i == 0 {
                    out.push(Vec::new());
                }
                out[r].push(v.v);
            }
        }
        out
    }

    /// `expr` over the first row of `table`, as text.
    pub fn value(&self, expr: &str, table: &str) -> Option<String> {
        #[derive(QueryableByName)]
        struct V {
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
            v: Option<String>,
        }
        let text = match self.dialect {
            retort::schema::sql::Dialect::Mysql => "CHAR",
            _ => "TEXT",
        };
        let sql = format!("SELECT CAST({expr} AS {text}) AS v FROM {}", self.q(table));
        let rows: Vec<V> = diesel::sql_query(&sql)
            .load(&mut self.conn())
            .unwrap_or_else(|e| panic!("{}: {sql}: {e}", self.dialect.name()));
        rows.into_iter().next().and_then(|r| r.v)
    }

    /// A count from a query returning one integer column `n`.
    pub fn count(&self, sql: &str) -> i64 {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let rows: Vec<N> = diesel::sql_query(sql)
            .load(&mut self.conn())
            .unwrap_or_else(|e| panic!("{}: {sql}: {e}", self.dialect.name()));
        rows[0].n
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((server, name)) = &self.server else {
            return;
        };
        let sql = match self.dialect {
            retort::schema::sql::Dialect::Postgres => {
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            }
            _ => format!("DROP DATABASE IF EXISTS {name}"),
        };
        if let Ok(mut admin) = retort::backend::connect(&DatabaseUrl::parse(server).unwrap()) {
            let _ = admin.execute(&sql);
        }
    }
}
