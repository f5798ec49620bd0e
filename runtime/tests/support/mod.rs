//! What the runtime's database tests share: a migration written in the grammar, and a
//! throwaway SQLite file.
#![allow(dead_code)]

use diesel::prelude::*;
use retort::{DatabaseUrl, Revision};
use retort_schema::migration::parse_file;

/// A revision from its operations as written in a migration file.
pub fn rev(id: &str, parent: Option<&str>, up: &str, down: &str) -> Revision {
    revision(id, parent, id, "", up, down)
}

/// A revision whose message is `message` (any text: it is written as a Rust string).
pub fn rev_saying(id: &str, parent: Option<&str>, message: &str, up: &str, down: &str) -> Revision {
    revision(id, parent, message, "", up, down)
}

/// A revision that creates `table` (an integer key `id`) and drops it on the way down.
pub fn creates(id: &str, parent: Option<&str>, table: &str) -> Revision {
    let (up, down) = table_ops(table);
    rev(id, parent, &up, &down)
}

/// The operations that create `table` (an integer key `id`), and drop it.
pub fn table_ops(table: &str) -> (String, String) {
    (
        format!(r#"create_table("{table}", column("id", integer), primary_key(["id"]))"#),
        format!(r#"drop_table("{table}")"#),
    )
}

/// The migration file's text (`fields` between the message and `up`), parsed.
fn revision(
    id: &str,
    parent: Option<&str>,
    message: &str,
    fields: &str,
    up: &str,
    down: &str,
) -> Revision {
    let parents = parent.map(|p| format!("\"{p}\"")).unwrap_or_default();
    let text = format!("retort::migration! {{ revision: \"{id}\", parents: [{parents}], message: {message:?}, {fields}up: [{up}], down: [{down}] }}");
    Revision::from_file(parse_file(&text).unwrap_or_else(|e| panic!("{id}: {e}")))
}

/// The `*.rs` migration files of a folder as a graph, as an app would compile them.
pub fn graph_of_folder(dir: &std::path::Path) -> retort::Graph {
    let mut revisions = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            let file = parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            revisions.push(Revision::from_file(file));
        }
    }
    retort::Graph::from_revisions(revisions)
}

/// A revision that runs outside a transaction (`atomic: false`).
pub fn rev_outside(id: &str, parent: Option<&str>, up: &str, down: &str) -> Revision {
    revision(id, parent, id, "atomic: false, ", up, down)
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
/// `RETORT_MYSQL_URL`), dropped afterwards. It reaches the database only through retort's
/// `Backend`, so it serves any test crate, whichever backends it names as features.
pub struct TestDb {
    pub dialect: retort::schema::sql::Dialect,
    pub url: DatabaseUrl,
    /// The URL as text (for child processes).
    pub url_text: String,
    _dir: Option<tempfile::TempDir>,
    /// The variable naming the server, and the database's name there, to drop it after.
    server: Option<(&'static str, String, String)>,
}

/// How to run the server tests.
const HOW: &str =
    "run `bash scripts/test-dbs.sh run cargo test --workspace --features records/postgres,records/mysql`";

/// The server URL in `var` and a connection to it, when this run can test that backend.
/// Without the variable, or without the backend compiled into retort, the test says how to
/// run it and skips the backend; with `CI=true` it fails instead.
fn server(var: &str) -> Option<(String, Box<dyn retort::backend::Backend>)> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let Some(url) = std::env::var(var).ok().filter(|v| !v.is_empty()) else {
        assert!(
            !ci,
            "{var} is not set and CI=true: server tests must run; {HOW}"
        );
        eprintln!("note: {var} is not set; skipping that backend. To test it, {HOW}");
        return None;
    };
    match retort::backend::connect(&DatabaseUrl::parse(&url).unwrap()) {
        Ok(admin) => Some((url, admin)),
        Err(e) if e.to_string().contains("not compiled") && !ci => {
            eprintln!("note: {e}; skipping that backend. To test it, {HOW}");
            None
        }
        Err(e) => panic!("{var}: {e}"),
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

/// `run` on a fresh database of every backend this run can reach, in both transaction
/// modes, with the options for that mode and a name for messages (`sqlite, All`).
pub fn on_each_fresh_database(run: impl Fn(&TestDb, retort::Options, &str)) {
    for mode in [
        retort::TransactionMode::All,
        retort::TransactionMode::PerMigration,
    ] {
        for db in TestDb::all() {
            run(
                &db,
                in_mode(mode),
                &format!("{}, {mode:?}", db.dialect.name()),
            );
        }
    }
}

/// The default options with transactions in `mode`.
pub fn in_mode(mode: retort::TransactionMode) -> retort::Options {
    retort::Options {
        transaction: mode,
        ..retort::Options::default()
    }
}

impl TestDb {
    /// This database's URL through another server address in `var` (a pooler in front of
    /// the same server): the same database name there. `None` (or a failure with `CI=true`)
    /// when the variable is not set.
    pub fn through(&self, var: &str) -> Option<String> {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        let Some(url) = std::env::var(var).ok().filter(|v| !v.is_empty()) else {
            assert!(
                !ci,
                "{var} is not set and CI=true: topology tests must run; {HOW}"
            );
            eprintln!("note: {var} is not set; skipping. To test it, {HOW}");
            return None;
        };
        let (_, _, name) = self.server.as_ref()?;
        Some(with_database(&url, name))
    }

    /// One fresh database per backend this run can reach: SQLite, then the servers.
    pub fn all() -> Vec<TestDb> {
        let mut out = vec![TestDb::sqlite()];
        out.extend(TestDb::servers());
        out
    }

    /// A fresh database on each server this run can reach.
    pub fn servers() -> Vec<TestDb> {
        ["RETORT_PG_URL", "RETORT_MYSQL_URL"]
            .into_iter()
            .filter_map(TestDb::on_server)
            .collect()
    }

    /// Another fresh database of the same backend.
    pub fn another(&self) -> TestDb {
        match &self.server {
            Some((var, _, _)) => TestDb::on_server(var).expect("the server answered before"),
            None => TestDb::sqlite(),
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

    /// A fresh database on the server whose URL is in `var`, if this run can reach it.
    pub fn on_server(var: &'static str) -> Option<TestDb> {
        let (server, mut admin) = server(var)?;
        let name = unique_name();
        admin.execute(&format!("CREATE DATABASE {name}")).unwrap();
        let url_text = with_database(&server, &name);
        let url = DatabaseUrl::parse(&url_text).unwrap();
        Some(TestDb {
            dialect: url.dialect(),
            url,
            url_text,
            _dir: None,
            server: Some((var, server, name)),
        })
    }

    /// The database through retort's backend (its `connection()` serves diesel queries).
    pub fn backend(&self) -> Box<dyn retort::backend::Backend> {
        retort::backend::connect(&self.url)
            .unwrap_or_else(|e| panic!("{}: {e}", self.dialect.name()))
    }

    /// Runs statements, which the database may refuse.
    pub fn try_exec(&self, sql: &str) -> Result<(), String> {
        self.backend().execute(sql).map_err(|e| e.to_string())
    }

    /// Runs statements.
    pub fn exec(&self, sql: &str) {
        self.try_exec(sql)
            .unwrap_or_else(|e| panic!("{}: {sql}: {e}", self.dialect.name()));
    }

    /// Quotes an identifier for this backend.
    pub fn q(&self, name: &str) -> String {
        retort::schema::sql::quote_ident(name, self.dialect)
    }

    /// `expr` as text, in this database's spelling of the cast.
    fn as_text(&self, expr: &str) -> String {
        let text = match self.dialect {
            retort::schema::sql::Dialect::Mysql => "CHAR",
            _ => "TEXT",
        };
        format!("CAST({expr} AS {text})")
    }

    /// The text column `v` of every row of a query.
    pub fn texts(&self, sql: &str) -> Vec<Option<String>> {
        #[derive(QueryableByName)]
        struct V {
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
            v: Option<String>,
        }
        let rows: Vec<V> = diesel::sql_query(sql)
            .load(self.backend().connection())
            .unwrap_or_else(|e| panic!("{}: {sql}: {e}", self.dialect.name()));
        rows.into_iter().map(|r| r.v).collect()
    }

    /// The values of `columns` of `table`, ordered by `id`, as text (NULL as `None`).
    pub fn rows(&self, table: &str, columns: &[&str]) -> Vec<Vec<Option<String>>> {
        let mut out: Vec<Vec<Option<String>>> = Vec::new();
        for (i, c) in columns.iter().enumerate() {
            let sql = format!(
                "SELECT {} AS v FROM {} ORDER BY {}",
                self.as_text(&self.q(c)),
                self.q(table),
                self.q("id")
            );
            for (r, v) in self.texts(&sql).into_iter().enumerate() {
                if i == 0 {
                    out.push(Vec::new());
                }
                out[r].push(v);
            }
        }
        out
    }

    /// `expr` over the first row of `table`, as text.
    pub fn value(&self, expr: &str, table: &str) -> Option<String> {
        let sql = format!("SELECT {} AS v FROM {}", self.as_text(expr), self.q(table));
        self.texts(&sql).into_iter().next().flatten()
    }

    /// Ends the other client sessions on this PostgreSQL database whose statement text
    /// matches `query_like` (a LIKE pattern; `%` for all), as the server does when the
    /// machine a killed client ran on goes away. Only client sessions of the test's own
    /// user: an autovacuum worker on the database belongs to the superuser, and ending it
    /// is refused to an ordinary user.
    pub fn end_other_sessions(&self, query_like: &str) {
        assert_eq!(self.dialect, retort::schema::sql::Dialect::Postgres);
        self.exec(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() \
             AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND usename = current_user \
             AND query LIKE '{query_like}'"
        ));
    }

    /// Waits until no other session works on this database: a client killed mid-statement
    /// leaves the server to finish (or roll back) what it sent, and a test that reads the
    /// database right after the kill must see the end of it.
    pub fn settle(&self) {
        use retort::schema::sql::Dialect;
        let sql = match self.dialect {
            Dialect::Sqlite => return,
            Dialect::Postgres => "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
            Dialect::Mysql => "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()",
        };
        let started = std::time::Instant::now();
        while self.count(sql) > 0 {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "{}: another session stays on the database",
                self.dialect.name()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// A count from a query returning one integer column `n`.
    pub fn count(&self, sql: &str) -> i64 {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let rows: Vec<N> = diesel::sql_query(sql)
            .load(self.backend().connection())
            .unwrap_or_else(|e| panic!("{}: {sql}: {e}", self.dialect.name()));
        rows[0].n
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((_, server, name)) = &self.server else {
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

/// Upgrades to head and checks clean, goes down to `down_to` and up again, checks clean
/// again: what a history must survive on every backend. Returns the runner, at head.
pub fn round_trip<'g>(graph: &'g retort::Graph, db: &TestDb, down_to: &str) -> retort::Runner<'g> {
    let name = db.dialect.name();
    let mut runner = retort::Runner::connect(graph, &db.url, retort::Options::default()).unwrap();
    for pass in ["first", "after going down and up again"] {
        runner
            .upgrade("head")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            runner.check().unwrap(),
            Vec::<String>::new(),
            "{name}: checks clean at head, {pass}"
        );
        if pass == "first" {
            runner
                .downgrade(down_to)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
    runner
}

/// On a fresh database of `template`'s backend at head (checked clean first), makes the hand
/// change `what` by running `sql`, and asserts that `check` reports a difference containing
/// `expected`.
pub fn hand_change_is_reported(
    graph: &retort::Graph,
    template: &TestDb,
    what: &str,
    sql: &str,
    expected: &str,
) {
    let name = template.dialect.name();
    let db = template.another();
    let mut runner = retort::Runner::connect(graph, &db.url, retort::Options::default()).unwrap();
    runner.upgrade("head").unwrap();
    assert_eq!(
        runner.check().unwrap(),
        Vec::<String>::new(),
        "{name}: clean before the hand change"
    );
    db.exec(sql);
    let found = runner.check().unwrap();
    assert!(
        found.iter().any(|d| d.contains(expected)),
        "{name}: {what} (`{sql}`) was not reported as `{expected}`: {found:?}"
    );
}

/// Asserts that upgrading a fresh database to head is refused with a message holding each of
/// `said`, and that nothing ran (the database has no revision).
pub fn refused_before_anything_runs(graph: &retort::Graph, db: &TestDb, said: &[&str]) {
    let name = db.dialect.name();
    let mut runner = retort::Runner::connect(graph, &db.url, retort::Options::default()).unwrap();
    let err = runner.upgrade("head").unwrap_err().to_string();
    for s in said {
        assert!(err.contains(s), "{name}: `{s}` not in the refusal: {err}");
    }
    assert!(runner.current().unwrap().is_empty(), "{name}: nothing ran");
}

/// Runs this test binary's ignored test `name` as a child process, with `var` set to `db`'s
/// URL: the upgrade a crash test kills.
pub fn spawn_child(name: &str, var: &str, db: &TestDb) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--ignored", "--test-threads=1", "--quiet"])
        .env(var, &db.url_text)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits (up to a minute) until the count `query` returns on `db` is above zero while `child`
/// runs: the moment a kill test waits for (`what`, for the failure).
pub fn wait_until(db: &TestDb, child: &mut std::process::Child, query: &str, what: &str) {
    let started = std::time::Instant::now();
    while db.count(query) == 0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "{what} never happened"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the upgrade ended before {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Every state an interrupted run of `revision` (which runs outside a transaction, `total`
/// statements) can leave, each on a fresh database of `server` upgraded to `parent`: stopped
/// before statement k, or after it ran but before it was recorded. `replay(db, k, ran)` does
/// what had run; the version row then says `dirty k/total`; the next start must finish it,
/// saying so, and `finished(db, &snapshot, &applied, &what)` checks the result against
/// `snapshot(db)` taken at `parent`.
pub fn each_interruption<S>(
    server: &TestDb,
    graph: &retort::Graph,
    (parent, revision, total): (&str, &str, usize),
    snapshot: impl Fn(&TestDb) -> S,
    replay: impl Fn(&TestDb, usize, bool),
    finished: impl Fn(&TestDb, &S, &[String], &str),
) {
    let checksum = graph.get(revision).unwrap().checksum().to_string();
    for stopped_in in 0..total {
        for ran in [false, true] {
            let what = format!(
                "{}: stopped in statement {stopped_in} of {revision} (ran: {ran})",
                server.dialect.name()
            );
            let db = server.another();
            retort::Runner::connect(graph, &db.url, retort::Options::default())
                .unwrap()
                .upgrade(parent)
                .unwrap();
            let before = snapshot(&db);
            replay(&db, stopped_in, ran);
            db.exec(&format!(
                "INSERT INTO retort_versions (revision, parents, message, checksum, applied_at, execution_ms, state) VALUES ('{revision}', '{parent}', '{revision}', '{checksum}', '', 0, 'dirty {stopped_in}/{total}')"
            ));
            let mut lines = Vec::new();
            let applied = retort::Runner::connect(graph, &db.url, retort::Options::default())
                .unwrap()
                .with_log(|l| lines.push(l.to_string()))
                .upgrade("head")
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(
                lines
                    .iter()
                    .any(|l| l.contains(&format!("{revision}: finishing it"))),
                "{what}: says so: {lines:?}"
            );
            finished(&db, &before, &applied, &what);
        }
    }
}

/// The steps of `revision`'s upgrade on `dialect`, rendered on the schema before it.
pub fn upgrade_steps(
    graph: &retort::Graph,
    revision: &str,
    dialect: retort_schema::sql::Dialect,
) -> Vec<retort_schema::sql::Step> {
    let rev = graph.get(revision).unwrap();
    let mut before = graph.ancestors(revision);
    before.remove(revision);
    let mut schema = graph.schema_at(&before).unwrap();
    rev.render_ops(&rev.up(), &mut schema, dialect)
        .unwrap()
        .into_iter()
        .flatten()
        .collect()
}
