//! The reference app where production runs (the deployments of `scripts/topology.sh`, which
//! `scripts/test-dbs.sh` starts beside its servers):
//!
//! - through PgBouncer in transaction pooling mode, 16 processes starting at once apply each
//!   migration exactly once and all exit 0, in both transaction modes, five rounds each; no
//!   advisory lock is left behind, and a 17th start is not delayed;
//! - against a PostgreSQL hot standby and a MariaDB replica (`read_only = ON`), every command
//!   that writes is refused before any change, naming the reason, with a non-zero exit; the
//!   schema and version rows stay byte-identical; `current`, `history` and `check` work.

use std::process::Output;
use std::time::{Duration, Instant};

#[path = "../runtime/tests/support/mod.rs"]
mod runtime_support;
mod support;
use runtime_support::TestDb;
use support::said as text;

fn records(url: &str, args: &[&str]) -> Output {
    support::records_with(url, args, &[])
}

/// Advisory locks held in the database, as the server (not the pooler) sees them.
fn advisory_locks(db: &TestDb) -> i64 {
    db.count("SELECT COUNT(*) AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = current_database()")
}

#[test]
fn sixteen_processes_through_pgbouncer_in_transaction_mode_apply_each_migration_once() {
    let modes: [&[&str]; 2] = [
        &["migrate"],
        &["db", "upgrade", "head", "--transaction", "per-migration"],
    ];
    for round in 0..5 {
        for args in modes {
            let Some(db) = TestDb::on_server("RETORT_PG_URL") else {
                return;
            };
            let Some(url) = db.through("RETORT_BOUNCER_URL") else {
                return;
            };
            let what = format!("round {round}, records {args:?}");
            // Every process exits 0 (asserted inside), each migration applied once.
            let applied = support::records_at_once(16, args, &url);
            assert_eq!(
                applied, 2,
                "{what}: each of the two migrations applied once"
            );
            let rows = db.backend().applied().unwrap();
            assert_eq!(rows.len(), 2, "{what}");
            assert!(
                rows.iter().all(|r| r.state == "applied"),
                "{what}: {rows:?}"
            );
            assert_eq!(
                advisory_locks(&db),
                0,
                "{what}: no advisory lock left behind"
            );
            // A 17th start is not held up by a stranded lock: it finds the database at head.
            let started = Instant::now();
            let out = records(&url, &["migrate"]);
            let took = started.elapsed();
            assert!(out.status.success(), "{what}: {}", text(&out));
            assert!(
                text(&out).contains("nothing to apply"),
                "{what}: {}",
                text(&out)
            );
            assert!(
                took < Duration::from_secs(10),
                "{what}: the 17th start took {took:?}"
            );
        }
    }
}

/// The schema and version rows of the database at `url`, read through retort's backend.
fn state(url: &str) -> (String, retort::schema::Schema) {
    let mut b = retort::backend::connect(&retort::DatabaseUrl::parse(url).unwrap())
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let mut rows = b.applied().unwrap();
    rows.sort_by(|a, b| a.revision.cmp(&b.revision));
    (format!("{rows:?}"), b.introspect().unwrap())
}

/// Waits until the replica at `url` has replayed the primary's two version rows, both
/// finished: on MySQL a row is written `dirty 0/N` before its statements and set `applied`
/// after them, so a replica can show the row while the DDL is still being replayed.
fn replayed(url: &str) {
    let started = Instant::now();
    loop {
        let finished = retort::backend::connect(&retort::DatabaseUrl::parse(url).unwrap())
            .and_then(|mut b| b.applied())
            .map(|rows| {
                rows.iter()
                    .filter(|r| !r.row_state().is_interrupted())
                    .count()
            })
            .unwrap_or(0);
        if finished == 2 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{url}: the replica did not replay the upgrade"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_standby_and_a_replica_refuse_every_command_that_writes_and_serve_the_reads() {
    let targets = [
        (
            "RETORT_PG_URL",
            "RETORT_PG_STANDBY_URL",
            "a hot standby (in recovery)",
        ),
        (
            "RETORT_MYSQL_PRIMARY_URL",
            "RETORT_MYSQL_REPLICA_URL",
            "read-only (read_only = ON): a replica",
        ),
    ];
    for (primary, replica, reason) in targets {
        let Some(db) = TestDb::on_server(primary) else {
            continue;
        };
        let Some(url) = db.through(replica) else {
            continue;
        };
        let out = records(&db.url_text, &["migrate"]);
        assert!(out.status.success(), "{primary}: {}", text(&out));
        replayed(&url);
        let before = state(&url);
        let writes: [&[&str]; 6] = [
            &["migrate"],
            &["db", "upgrade", "head"],
            &["db", "downgrade", "base"],
            &["db", "downgrade", "-1"],
            &["db", "stamp", "base"],
            &["db", "resolve", "head", "--applied"],
        ];
        for args in writes {
            let out = records(&url, args);
            let said = text(&out);
            assert!(!out.status.success(), "{replica} {args:?}: refused: {said}");
            for part in [
                reason,
                "nothing was changed",
                "Point the URL at the primary",
            ] {
                assert!(
                    said.contains(part),
                    "{replica} {args:?}: `{part}` in: {said}"
                );
            }
        }
        assert_eq!(state(&url), before, "{replica}: nothing changed");
        for args in [&["db", "current"][..], &["db", "history"], &["db", "check"]] {
            let out = records(&url, args);
            assert!(
                out.status.success(),
                "{replica} {args:?} works there: {}",
                text(&out)
            );
        }
    }
}
