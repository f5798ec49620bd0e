//! Fresh upgrades on PostgreSQL and MariaDB beside the raw loops, in paired rounds: each
//! contender upgrades a database of its own, created before and dropped after its run (not
//! timed), on the same server.
//!
//! ```text
//! cargo run --release -p retort-bench --features servers --bin servers -- \
//!     --url "$RETORT_PG_URL" --url "$RETORT_MYSQL_URL" --n 200,1000 --rounds 5
//! ```
//!
//! - **floor, one transaction per migration**: `BEGIN`, the migration's SQL (one round trip),
//!   one version-row `INSERT`, `COMMIT` — what diesel_migrations sends;
//! - **floor, one transaction**: `BEGIN`, each migration's SQL (one round trip each), `COMMIT`;
//! - **retort** in `TransactionMode::PerMigration` and `TransactionMode::All`, through
//!   `Runner::upgrade("head")` from a freshly built graph, as an application does.
//!
//! On MariaDB DDL commits by itself, so "one transaction" is what the server makes of it,
//! for the floor and retort alike.

#[path = "../measure.rs"]
#[allow(dead_code)]
mod measure;
#[path = "../workload.rs"]
#[allow(dead_code)]
mod workload;

use std::time::{Duration, Instant};

use clap::Parser;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use retort::schema::sql::Dialect;
use retort::{DatabaseUrl, Graph, Migrations, Options, Runner, TransactionMode};

use measure::{paired, Run};
use workload::Item;

#[derive(Parser)]
struct Cli {
    /// A server URL (`postgres://…` or `mysql://…`) whose user may create databases.
    #[arg(long, required = true)]
    url: Vec<String>,
    #[arg(long, value_delimiter = ',', default_values_t = [200, 1000])]
    n: Vec<usize>,
    /// Paired rounds per figure (after one warm-up round).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
}

/// A server, and the databases made on it.
struct Server {
    url: String,
    dialect: Dialect,
    next: std::cell::Cell<usize>,
}

impl Server {
    fn new(url: &str) -> Server {
        let dialect = match DatabaseUrl::parse(url).expect("a server URL") {
            DatabaseUrl::Postgres { .. } => Dialect::Postgres,
            DatabaseUrl::Mysql { .. } => Dialect::Mysql,
            other => panic!("not a server URL: {other:?}"),
        };
        Server {
            url: url.to_string(),
            dialect,
            next: std::cell::Cell::new(0),
        }
    }

    fn admin(&self, sql: &str) {
        self.try_admin(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    fn try_admin(&self, sql: &str) -> diesel::QueryResult<()> {
        match self.dialect {
            Dialect::Postgres => PgConnection::establish(&self.url)
                .expect("connects")
                .batch_execute(sql),
            _ => MysqlConnection::establish(&self.url)
                .expect("connects")
                .batch_execute(sql),
        }
    }

    /// A fresh database's URL; `drop` removes it.
    fn fresh(&self) -> String {
        let n = self.next.get();
        self.next.set(n + 1);
        let name = format!("retort_bench_{}_{n}", std::process::id());
        self.admin(&format!("DROP DATABASE IF EXISTS {name}"));
        self.admin(&format!("CREATE DATABASE {name}"));
        let base = self.url.rsplit_once('/').expect("a URL with a database").0;
        format!("{base}/{name}")
    }

    fn drop(&self, url: &str) {
        let name = url.rsplit_once('/').expect("a URL").1;
        // PostgreSQL refuses to drop a database with sessions left; `WITH (FORCE)` ends the
        // bench's own, but not an autovacuum worker's (a superuser's process, which an
        // ordinary user may not signal): that one is waited out.
        let force = if self.dialect == Dialect::Postgres {
            " WITH (FORCE)"
        } else {
            ""
        };
        let sql = format!("DROP DATABASE IF EXISTS {name}{force}");
        for _ in 0..50 {
            if self.try_admin(&sql).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.admin(&sql);
    }

    /// Times `run` on a fresh database, which is dropped after.
    fn timed(&self, run: impl FnOnce(&str)) -> Duration {
        let url = self.fresh();
        let started = Instant::now();
        run(&url);
        let took = started.elapsed();
        self.drop(&url);
        took
    }
}

/// A connection of either server, for the floors.
enum Conn {
    Pg(PgConnection),
    My(MysqlConnection),
}

impl Conn {
    fn open(url: &str, dialect: Dialect) -> Conn {
        match dialect {
            Dialect::Postgres => Conn::Pg(PgConnection::establish(url).expect("connects")),
            _ => Conn::My(MysqlConnection::establish(url).expect("connects")),
        }
    }
    fn run(&mut self, sql: &str) {
        match self {
            Conn::Pg(c) => c.batch_execute(sql),
            Conn::My(c) => c.batch_execute(sql),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// Floor: per migration, `BEGIN`, its SQL, one version row, `COMMIT`.
fn floor_each(items: &[Item], url: &str, dialect: Dialect) {
    let mut c = Conn::open(url, dialect);
    c.run("CREATE TABLE versions (revision VARCHAR(64) NOT NULL PRIMARY KEY, applied_at TIMESTAMP NOT NULL)");
    for i in items {
        c.run("BEGIN");
        c.run(&i.up_sql);
        c.run(&format!(
            "INSERT INTO versions (revision, applied_at) VALUES ('{}', CURRENT_TIMESTAMP)",
            i.file.revision
        ));
        c.run("COMMIT");
    }
}

/// Floor: `BEGIN`, every migration's SQL, `COMMIT`.
fn floor_all(items: &[Item], url: &str, dialect: Dialect) {
    let mut c = Conn::open(url, dialect);
    c.run("BEGIN");
    for i in items {
        c.run(&i.up_sql);
    }
    c.run("COMMIT");
}

fn retort_upgrade(migrations: &Migrations, url: &str, mode: TransactionMode) {
    let graph = Graph::from_migrations(migrations);
    let options = Options {
        transaction: mode,
        ..Options::default()
    };
    let url = DatabaseUrl::parse(url).expect("a URL");
    let mut runner = Runner::connect(&graph, &url, options).expect("connects");
    let done = runner.upgrade("head").expect("retort upgrades");
    assert_eq!(done.len(), graph.len());
}

fn main() {
    let cli = Cli::parse();
    for url in &cli.url {
        let server = Server::new(url);
        let name = match server.dialect {
            Dialect::Postgres => "PostgreSQL",
            _ => "MariaDB",
        };
        for &n in &cli.n {
            let items = workload::history_in(n, workload::Kind::Mixed, server.dialect);
            let compiled = workload::compiled(&items);
            let d = server.dialect;
            let s = &server;
            let each = paired(
                cli.rounds,
                vec![
                    (
                        "floor: txn + version row each",
                        Box::new(|| s.timed(|u| floor_each(&items, u, d))) as Run,
                    ),
                    (
                        "retort (PerMigration)",
                        Box::new(|| {
                            s.timed(|u| retort_upgrade(&compiled, u, TransactionMode::PerMigration))
                        }),
                    ),
                ],
            );
            each.print(&format!(
                "{name}, fresh upgrade, one transaction per migration, N={n}"
            ));
            let all = paired(
                cli.rounds,
                vec![
                    (
                        "floor: all SQL in one transaction",
                        Box::new(|| s.timed(|u| floor_all(&items, u, d))) as Run,
                    ),
                    (
                        "retort (All)",
                        Box::new(|| {
                            s.timed(|u| retort_upgrade(&compiled, u, TransactionMode::All))
                        }),
                    ),
                ],
            );
            all.print(&format!("{name}, fresh upgrade, one transaction, N={n}"));
        }
    }
}
