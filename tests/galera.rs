//! The reference app on a 3-node MariaDB Galera cluster (`scripts/topology.sh`), where
//! `GET_LOCK` is one node's and the migration lock is a replicated row with a heartbeat:
//!
//! - 16 processes started at once, spread round-robin over the nodes, apply each migration
//!   exactly once and all exit 0, five rounds; every node ends at head, `db check` clean,
//!   with identical version rows and the lock free;
//! - a holder killed with SIGKILL is taken over once its heartbeat has stood still for the
//!   stale-lock time, and the process that takes over says so; a live holder is not;
//! - a holder whose heartbeat stalled (a frozen process) finds the lock taken over when it
//!   wakes, and stops instead of carrying on;
//! - a table without a primary key (made by hand) is named at start-up: Galera does not
//!   replicate its deletes.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use retort::DatabaseUrl;

#[path = "../runtime/tests/support/mod.rs"]
mod runtime_support;
mod support;
use runtime_support::TestDb;
use support::{records_with as records, said as text};

/// A fresh database on the cluster and its URL on each of the three nodes, once every node
/// has it; `None` (a failure with `CI=true`) when the cluster is not running.
fn cluster() -> Option<(TestDb, Vec<String>)> {
    let db = TestDb::on_server("RETORT_GALERA_URL")?;
    let mut urls = vec![db.url_text.clone()];
    for var in ["RETORT_GALERA_NODE2_URL", "RETORT_GALERA_NODE3_URL"] {
        urls.push(db.through(var)?);
    }
    for url in &urls {
        let started = Instant::now();
        while retort::backend::connect(&DatabaseUrl::parse(url).unwrap()).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{url}: the node did not get the new database"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Some((db, urls))
}

/// The version rows and schema at `url`, and who holds the lock there.
fn state(url: &str) -> (String, retort::schema::Schema, Vec<Option<String>>) {
    let mut b = retort::backend::connect(&DatabaseUrl::parse(url).unwrap())
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let mut rows = b.applied().unwrap();
    rows.sort_by(|a, b| a.revision.cmp(&b.revision));
    #[derive(diesel::QueryableByName)]
    struct Token {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        token: Option<String>,
    }
    let tokens: Vec<Token> = diesel::RunQueryDsl::load(
        diesel::sql_query("SELECT token FROM retort_lock"),
        b.connection(),
    )
    .unwrap();
    (
        format!("{rows:?}"),
        b.introspect().unwrap(),
        tokens.into_iter().map(|t| t.token).collect(),
    )
}

/// Every node at head with the same version rows, `db check` clean, the lock free.
fn all_at_head(urls: &[String], what: &str) {
    let first = state(&urls[0]);
    assert!(
        first.0.matches("state: \"applied\"").count() == 2,
        "{what}: {}",
        first.0
    );
    assert_eq!(first.2, vec![None], "{what}: the lock is free");
    for url in urls {
        assert_eq!(state(url), first, "{what}: {url} as the first node");
        let out = records(url, &["db", "check"], &[]);
        assert!(out.status.success(), "{what}: {url}: {}", text(&out));
    }
}

#[test]
fn sixteen_processes_over_three_galera_nodes_apply_each_migration_once() {
    for round in 0..5 {
        let Some((_db, urls)) = cluster() else {
            return;
        };
        let nodes: Vec<&str> = urls.iter().map(String::as_str).collect();
        let what = format!("round {round}");
        // Every process exits 0 (asserted inside), each migration applied once.
        let applied = support::records_spread(16, &["migrate"], &nodes);
        assert_eq!(
            applied, 2,
            "{what}: each of the two migrations applied once"
        );
        all_at_head(&urls, &what);
    }
}

/// A process holding the migration lock at `url` until its standard input closes or says
/// `check`, when it reports whether the lock is still its own and releases it.
fn holder(url: &str) -> (Child, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "galera_lock_holder", "--ignored", "--nocapture"])
        .env("RETORT_TEST_HOLD_LOCK", url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.starts_with("holding") {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the holder ended before it took the lock"
        );
    }
    (child, out)
}

/// The other end of [`holder`]: run by the stale-lock tests in a process of its own.
#[test]
#[ignore = "a child process of the stale-lock tests, which start it themselves"]
fn galera_lock_holder() {
    let url = std::env::var("RETORT_TEST_HOLD_LOCK").expect("RETORT_TEST_HOLD_LOCK names the URL");
    let mut b = retort::backend::connect(&DatabaseUrl::parse(&url).unwrap()).unwrap();
    b.lock(Duration::from_secs(30)).unwrap();
    println!("holding");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    match b.still_locked() {
        Ok(()) => println!("still held"),
        Err(e) => println!("lost: {e}"),
    }
    match b.unlock() {
        Ok(()) => println!("released"),
        Err(e) => println!("release refused: {e}"),
    }
}

#[test]
fn a_killed_holder_is_taken_over_after_the_stale_time_and_a_live_one_is_not() {
    let Some((_db, urls)) = cluster() else {
        return;
    };
    let (mut child, _out) = holder(&urls[1]);
    let pid = child.id();
    let who = format!("process {pid} on ");

    // Alive, its heartbeat moving: not taken over, however long the wait.
    let started = Instant::now();
    let out = records(
        &urls[2],
        &["migrate"],
        &[
            ("RETORT_LOCK_STALE_AFTER", "2"),
            ("RETORT_LOCK_TIMEOUT", "6"),
        ],
    );
    let said = text(&out);
    assert!(
        !out.status.success(),
        "a live holder keeps the lock: {said}"
    );
    assert!(started.elapsed() >= Duration::from_secs(6), "{said}");
    for part in ["has held the migration lock", &who, "heartbeat last moved"] {
        assert!(said.contains(part), "`{part}` in: {said}");
    }

    // Killed: its heartbeat stops, and after the stale time the next start proceeds.
    child.kill().unwrap();
    child.wait().unwrap();
    let started = Instant::now();
    let out = records(&urls[0], &["migrate"], &[("RETORT_LOCK_STALE_AFTER", "3")]);
    let took = started.elapsed();
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!("took over the migration lock from {who}")),
        "says so: {said}"
    );
    assert!(
        took >= Duration::from_millis(2900) && took < Duration::from_secs(20),
        "proceeds after the stale time (3 s), took {took:?}: {said}"
    );
    assert_eq!(
        said.lines().filter(|l| l.contains("applied ")).count(),
        2,
        "{said}"
    );
    all_at_head(&urls, "after the takeover");
}

#[test]
fn a_holder_whose_heartbeat_stalled_finds_the_lock_taken_over_and_stops() {
    let Some((_db, urls)) = cluster() else {
        return;
    };
    let (mut child, mut out) = holder(&urls[0]);
    let pid = child.id().to_string();
    let signal = |sig: &str| {
        let s = Command::new("kill").args([sig, &pid]).status().unwrap();
        assert!(s.success(), "kill {sig} {pid}");
    };
    // Frozen: alive, but its heartbeat stands still.
    signal("-STOP");
    let taken = records(&urls[1], &["migrate"], &[("RETORT_LOCK_STALE_AFTER", "2")]);
    signal("-CONT");
    assert!(taken.status.success(), "{}", text(&taken));
    assert!(
        text(&taken).contains("took over the migration lock from process"),
        "{}",
        text(&taken)
    );
    // Awake again: its next heartbeat finds the row another's.
    std::thread::sleep(Duration::from_millis(2500));
    child.stdin.take().unwrap().write_all(b"check\n").unwrap();
    let mut said = String::new();
    for _ in 0..2 {
        out.read_line(&mut said).unwrap();
    }
    child.wait().unwrap();
    assert!(
        said.contains("lost: another process took over the migration lock while this one held it"),
        "{said}"
    );
    assert!(said.contains("release refused"), "{said}");
    // The lock stays with nobody; the cluster is at head.
    all_at_head(&urls, "after the stalled holder stopped");
}

#[test]
fn a_table_without_a_primary_key_is_named_at_start_up() {
    let Some((db, urls)) = cluster() else {
        return;
    };
    // At the first migration; the start-up below takes the lock to apply the second.
    let first = records(&urls[0], &["db", "upgrade", "+1"], &[]);
    assert!(first.status.success(), "{}", text(&first));
    assert!(
        !text(&first).contains("without a primary key"),
        "{}",
        text(&first)
    );
    db.exec("CREATE TABLE audit_trail (happened_at INT)");
    let out = records(&urls[1], &["migrate"], &[]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("tables without a primary key: audit_trail. A Galera cluster does not replicate deletes"),
        "{said}"
    );
    assert!(said.contains("applied "), "{said}");
}
