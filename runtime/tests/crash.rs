//! Crash safety: an upgrade through ~200 migrations (table rebuilds of tables holding rows
//! among them) is killed with SIGKILL at random moments, in both transaction modes. After
//! each kill the version table names revisions whose replayed schema equals the database's,
//! no row is lost, and the next run completes to head.
//!
//! On every backend: on PostgreSQL the same holds (every migration is a transaction); on
//! MySQL a kill between two statements of a migration leaves a `dirty` row, which the next
//! run refuses to go past, never a silent half-migration.
//!
//! The upgrade runs in a child process: this test binary, re-entered through the ignored
//! `crash_child` test with `RETORT_CRASH_URL` set.

mod support;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use retort::schema::sql::Dialect;
use retort::{Graph, Options, Runner, TransactionMode};
use support::{rev, TestDb};

const ROWS: i64 = 300;

/// ~200 migrations: tables with rows, then columns added, re-typed (a rebuild with rows),
/// indexed, and a referencing table changed, in turn.
fn graph() -> Graph {
    let mut revs = vec![
        rev(
            "r0000",
            None,
            r#"create_table("a", column("id", integer, autoincrement), column("n", integer), primary_key(["id"])),
               create_table("b", column("id", integer, autoincrement), column("a_id", integer), primary_key(["id"]),
                   foreign_key("fk_b_a_id_a", ["a_id"], "a", ["id"]))"#,
            r#"drop_table("b"), drop_table("a")"#,
        ),
        rev(
            "r0001",
            Some("r0000"),
            &format!(
                r#"execute("INSERT INTO a (n) WITH RECURSIVE k(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM k WHERE x < {ROWS}) SELECT x FROM k; INSERT INTO b (a_id) SELECT id FROM a WHERE id % 3 = 0")"#
            ),
            r#"execute("DELETE FROM b; DELETE FROM a")"#,
        ),
    ];
    for i in 2..200 {
        let (up, down) = match i % 4 {
            2 => (
                format!(r#"add_column("a", column("c{i}", integer, nullable))"#),
                format!(r#"drop_column("a", "c{i}")"#),
            ),
            3 => (
                format!(r#"alter_column("a", "c{}", type_ = bigint)"#, i - 1),
                format!(r#"alter_column("a", "c{}", type_ = integer)"#, i - 1),
            ),
            0 => (
                format!(r#"create_index("ix_a_c{0}", "a", ["c{0}"])"#, i - 2),
                format!(r#"drop_index("ix_a_c{}", "a")"#, i - 2),
            ),
            _ => (
                format!(
                    r#"add_column("b", column("e{i}", text, nullable, server_default = "'x'")), alter_column("b", "e{i}", type_ = varchar(10))"#
                ),
                format!(r#"alter_column("b", "e{i}", type_ = text), drop_column("b", "e{i}")"#),
            ),
        };
        revs.push(rev(
            &format!("r{i:04}"),
            Some(&format!("r{:04}", i - 1)),
            &up,
            &down,
        ));
    }
    Graph::from_revisions(revs)
}

fn options(mode: &str) -> Options {
    Options {
        transaction: if mode == "per" {
            TransactionMode::PerMigration
        } else {
            TransactionMode::All
        },
        ..Options::default()
    }
}

/// The child: upgrades the database named by `RETORT_CRASH_URL` to head. Ignored in a normal
/// run; the tests below start it with `--ignored`.
#[test]
#[ignore = "the child process of the crash tests"]
fn crash_child() {
    let url = std::env::var("RETORT_CRASH_URL").expect("RETORT_CRASH_URL names the database");
    let mode = std::env::var("RETORT_CRASH_MODE").unwrap_or_default();
    let graph = graph();
    let url = retort::DatabaseUrl::parse(&url).unwrap();
    Runner::connect(&graph, &url, options(&mode))
        .unwrap()
        .upgrade("head")
        .unwrap();
}

fn spawn(db: &TestDb, mode: &str) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "crash_child",
            "--exact",
            "--ignored",
            "--test-threads=1",
            "--quiet",
        ])
        .env("RETORT_CRASH_URL", &db.url_text)
        .env("RETORT_CRASH_MODE", mode)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The rows `r0001` wrote, as (count of a, sum of a.n, count of b), when it is applied.
fn rows(db: &TestDb) -> (String, String, String) {
    (
        db.value("COUNT(*)", "a").unwrap_or_default(),
        db.value("COALESCE(SUM(n), 0)", "a").unwrap_or_default(),
        db.value("COUNT(*)", "b").unwrap_or_default(),
    )
}

/// After a kill: the applied revisions' schema is the database's, and the rows are whole.
/// `None` when a migration was interrupted between statements where DDL cannot roll back
/// (MySQL): the version table says so, and the next run refuses until it is resolved — or,
/// when every statement left can run again, finishes it.
fn check_consistent(
    db: &TestDb,
    graph: &Graph,
    mode: &str,
    what: &str,
) -> Option<BTreeSet<String>> {
    let mut runner = Runner::connect(graph, &db.url, options(mode)).unwrap();
    let versions = runner.applied_rows().unwrap();
    if versions
        .iter()
        .any(|r| r.state.starts_with("dirty") || r.state.starts_with("reverting"))
    {
        match runner.upgrade("head") {
            Err(err) => assert!(
                matches!(err, retort::Error::Interrupted { .. }),
                "{what}: a dirty row, but the next run said: {err}"
            ),
            // Every statement left can run again (a MODIFY COLUMN restates the column's
            // whole definition): the next run finished it, whole.
            Ok(_) => {
                assert_eq!(
                    runner.check().unwrap(),
                    Vec::<String>::new(),
                    "{what}: finished after the kill"
                );
                assert_eq!(
                    rows(db),
                    (
                        ROWS.to_string(),
                        (ROWS * (ROWS + 1) / 2).to_string(),
                        (ROWS / 3).to_string()
                    ),
                    "{what}: rows lost"
                );
            }
        }
        return None;
    }
    let applied: BTreeSet<String> = versions.into_iter().map(|r| r.revision).collect();
    let expected = graph.schema_at(&applied).unwrap();
    let differences = runner.differences(&expected).unwrap();
    let live = runner.introspect().unwrap();
    assert!(
        differences.is_empty() && live.tables.len() == expected.tables.len(),
        "{what}: at {} revisions the database differs: {differences:?}",
        applied.len()
    );
    if applied.contains("r0001") {
        assert_eq!(
            rows(db),
            (
                ROWS.to_string(),
                (ROWS * (ROWS + 1) / 2).to_string(),
                (ROWS / 3).to_string()
            ),
            "{what}: rows lost"
        );
    }
    Some(applied)
}

fn kills(mode: &str) {
    let graph = graph();
    for backend in TestDb::all() {
        let name = backend.dialect.name();
        let transactional = retort::backend::connect(&backend.url)
            .unwrap()
            .capabilities()
            .transactional_ddl;
        // How long a whole upgrade takes here, to spread the kills over it: the shorter of
        // two runs (one can be slowed by the other tests of this binary starting up).
        let mut full = Duration::MAX;
        for _ in 0..2 {
            let db = backend.another();
            let started = Instant::now();
            assert!(spawn(&db, mode).wait().unwrap().success(), "{name}");
            full = full.min(started.elapsed());
            assert_eq!(
                check_consistent(&db, &graph, mode, "uninterrupted").map(|a| a.len()),
                Some(200),
                "{name}"
            );
        }
        // Fewer rounds on a server: each makes and drops a database.
        let rounds = if backend.dialect == Dialect::Sqlite {
            50
        } else {
            12
        };
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15 ^ mode.len() as u64;
        let (mut partial, mut running, mut dirty) = (0, 0, 0);
        let mut mid_transaction = 0;
        for round in 0..rounds {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let delay = full.mul_f64((seed >> 11) as f64 / (1u64 << 53) as f64);
            let db = backend.another();
            let mut child = spawn(&db, mode);
            std::thread::sleep(delay);
            if child.try_wait().unwrap().is_none() {
                running += 1;
            }
            let _ = child.kill(); // SIGKILL; it may have finished already
            let _ = child.wait();
            db.settle();
            // SQLite: a journal left behind means the kill hit a transaction, which the next
            // open rolls back.
            if let retort::DatabaseUrl::SqliteFile(path) = &db.url {
                let journal = path.with_file_name("test.db-journal");
                if journal.exists() && std::fs::metadata(&journal).is_ok_and(|m| m.len() > 0) {
                    mid_transaction += 1;
                }
            }
            let what = format!("{name} {mode} round {round} (killed after {delay:?})");
            let Some(applied) = check_consistent(&db, &graph, mode, &what) else {
                assert!(
                    !transactional,
                    "{what}: a dirty row where DDL is transactional"
                );
                dirty += 1;
                continue;
            };
            if !applied.is_empty() && applied.len() < 200 {
                partial += 1;
            }
            if mode == "all" && transactional {
                assert!(
                    applied.is_empty() || applied.len() == 200,
                    "{what}: one transaction, but {} revisions recorded",
                    applied.len()
                );
            }
            // The next run completes.
            Runner::connect(&graph, &db.url, options(mode))
                .unwrap()
                .upgrade("head")
                .unwrap_or_else(|e| panic!("{what}: the next run failed: {e}"));
            assert_eq!(
                check_consistent(&db, &graph, mode, &what).map(|a| a.len()),
                Some(200)
            );
        }
        // The kills must land while the upgrade runs, or the test proves nothing.
        if backend.dialect == Dialect::Sqlite {
            // Per migration, most of the time goes to commits between the transactions.
            let wanted = if mode == "per" { 3 } else { 10 };
            assert!(
                mid_transaction >= wanted,
                "only {mid_transaction} of 50 kills hit a transaction"
            );
        } else {
            assert!(
                running >= rounds / 3,
                "{name}: only {running} of {rounds} kills hit a running upgrade"
            );
        }
        if mode == "per" && transactional {
            assert!(
                partial >= rounds / 5,
                "{name}: only {partial} of {rounds} kills interrupted the upgrade"
            );
        }
        eprintln!(
            "{name} {mode}: a whole upgrade {full:?}; of {rounds} kills {running} hit a running upgrade ({mid_transaction} an SQLite transaction), {partial} left a partial upgrade, {dirty} a dirty row"
        );
    }
}

#[test]
fn sigkill_during_an_upgrade_in_one_transaction() {
    kills("all");
}

#[test]
fn sigkill_during_an_upgrade_per_migration() {
    kills("per");
}
