//! `retort squash` on a 200-migration history with data migrations in it (one kept: it seeds
//! rows, and a rename after it keeps them; one `elidable`), on SQLite, PostgreSQL and
//! MariaDB. Databases stopped at base, mid-range, at the checkpoint's last replaced revision
//! and past it all reach head with `check` clean — during the transition (old files still
//! there) and after the old files are deleted (the part-way one is then refused, changing
//! nothing). The build proves the checkpoint equal to what it replaces and refuses an
//! edited one; a second squash during the transition, a partial deletion and data steps
//! that cannot be kept are refused.

#[path = "../../tests/support/fixture.rs"]
mod fixture;
#[path = "../../runtime/tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use retort::{Error, Graph, Options, Runner};
use retort_build::history::History;
use support::TestDb;

const N: usize = 200;
/// The last revision the checkpoint replaces.
const X: usize = 180;
const MID: usize = 100;
const PAST: usize = 190;

fn id(i: usize) -> String {
    format!("20260101_{i:06}_aaaa")
}

/// Migration `i` (1-based): tables, columns, indexes, a rename, two data migrations.
fn migration(i: usize) -> String {
    let table = |i: usize| format!("t{}", i / 20);
    let (up, down, extra) = match i {
        1 => (
            r#"create_table("t0", column("id", integer, autoincrement), column("name", varchar(40), nullable), primary_key(["id"]))"#.to_string(),
            r#"drop_table("t0")"#.to_string(),
            "",
        ),
        50 => (
            r#"execute("INSERT INTO t0 (name) VALUES ('seed-a'), ('seed-b')")"#.to_string(),
            r#"execute("DELETE FROM t0 WHERE name IN ('seed-a', 'seed-b')")"#.to_string(),
            "",
        ),
        70 => (
            r#"rename_column("t0", "name", "title")"#.to_string(),
            r#"rename_column("t0", "title", "name")"#.to_string(),
            "",
        ),
        125 => (
            r#"execute("UPDATE t0 SET title = 'untitled' WHERE title IS NULL")"#.to_string(),
            String::new(),
            "    elidable: true,\n",
        ),
        i if i % 20 == 0 => (
            format!(r#"create_table("{t}", column("id", integer, autoincrement), primary_key(["id"]))"#, t = table(i)),
            format!(r#"drop_table("{}")"#, table(i)),
            "",
        ),
        // An index on the first column the table got (added before it).
        i if i % 7 == 0 && i % 20 >= 3 => {
            let base = i - i % 20;
            let col = if base == 0 { "name".to_string() } else { format!("c{}", base + 1) };
            let t = table(i);
            (
                format!(r#"create_index("ix_{t}_{i}", "{t}", ["{col}"])"#),
                format!(r#"drop_index("ix_{t}_{i}", "{t}")"#),
                "",
            )
        }
        i => add_column(&table(i), i),
    };
    let parents = if i == 1 {
        String::new()
    } else {
        format!("\"{}\"", id(i - 1))
    };
    format!(
        "retort::migration! {{\n    revision: \"{}\",\n    parents: [{parents}],\n    message: \"step {i}\",\n{extra}    up: [{up}],\n    down: [{down}],\n}}\n",
        id(i)
    )
}

fn add_column(table: &str, i: usize) -> (String, String, &'static str) {
    (
        format!(r#"add_column("{table}", column("c{i}", integer, nullable))"#),
        format!(r#"drop_column("{table}", "c{i}")"#),
        "",
    )
}

fn write_history(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for i in 1..=n {
        std::fs::write(dir.join(format!("{}_step_{i}.rs", id(i))), migration(i)).unwrap();
    }
}

fn squash(crate_dir: &Path, to: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_retort"))
        .args([
            "squash",
            "--to",
            to,
            "--crate-dir",
            crate_dir.to_str().unwrap(),
        ])
        .env("RETORT_NOW", "1798761600")
        .output()
        .unwrap()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// Databases at base, mid-range, the checkpoint's last revision and past it, made with the
/// history before the squash.
fn stopped(template: &TestDb, before: &Graph) -> Vec<(&'static str, TestDb)> {
    let mut out = Vec::new();
    for (name, at) in [
        ("base", 0),
        ("mid-range", MID),
        ("at the checkpoint", X),
        ("past it", PAST),
    ] {
        let db = template.another();
        if at > 0 {
            let mut r = Runner::connect(before, &db.url, Options::default()).unwrap();
            r.upgrade(&id(at))
                .unwrap_or_else(|e| panic!("{}: {e}", template.dialect.name()));
        }
        out.push((name, db));
    }
    out
}

/// Upgrades `db` to head with `graph`; then it is at the last revision, `check` is clean,
/// and the kept data step's rows are there.
fn reaches_head<'g>(graph: &'g Graph, db: &TestDb, what: &str) -> Runner<'g> {
    let mut r = Runner::connect(graph, &db.url, Options::default()).unwrap();
    r.upgrade("head").unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(r.current().unwrap(), [id(N)], "{what}");
    assert!(r.check().unwrap().is_empty(), "{what}: {:?}", r.check());
    assert_eq!(seeded(db), 2, "{what}: the kept data step ran");
    r
}

fn seeded(db: &TestDb) -> i64 {
    db.count("SELECT COUNT(*) AS n FROM t0 WHERE title IN ('seed-a', 'seed-b')")
}

#[test]
fn squash_a_200_migration_history_on_every_backend() {
    let krate = tempfile::tempdir().unwrap();
    let dir = krate.path().join("migrations");
    write_history(&dir, N);
    let before = support::graph_of_folder(&dir);
    let templates = TestDb::all();
    let mut transition: Vec<(String, &'static str, TestDb)> = Vec::new();
    let mut after: Vec<(String, &'static str, TestDb)> = Vec::new();
    for t in &templates {
        for (name, db) in stopped(t, &before) {
            transition.push((t.dialect.name().to_string(), name, db));
        }
        for (name, db) in stopped(t, &before) {
            after.push((t.dialect.name().to_string(), name, db));
        }
    }

    let out = squash(krate.path(), &id(X)[..15]);
    assert!(out.status.success(), "{}", fixture::said(&out));
    let text = fixture::said(&out);
    assert!(
        text.contains(&format!("replaces {X} migrations, up to {}", id(X))),
        "{text}"
    );
    assert!(
        text.contains(&format!("kept the data steps of {}", id(50))),
        "{text}"
    );
    assert!(
        text.contains(&format!("dropped the data steps of {}", id(125))),
        "{text}"
    );
    let checkpoint = files(&dir)
        .into_iter()
        .find(|p| p.to_string_lossy().contains("squashed"))
        .unwrap();
    let file =
        retort::schema::migration::parse_file(&std::fs::read_to_string(&checkpoint).unwrap())
            .unwrap();
    assert_eq!(file.replaces, (1..=X).map(id).collect::<Vec<_>>());
    assert!(file.parents.is_empty());
    // The build accepts it: it proves it equal to the 180 files.
    let history = History::load(&dir).unwrap();
    assert_eq!(history.set_aside.len(), 1);

    // A second squash during the transition is refused, writing nothing.
    let listing = files(&dir);
    let again = squash(krate.path(), "head");
    assert!(!again.status.success());
    assert!(
        fixture::said(&again).contains("still has the files it replaces"),
        "{}",
        fixture::said(&again)
    );
    assert_eq!(files(&dir), listing);

    // The transition: every database reaches head through the old files, check clean.
    let graph = support::graph_of_folder(&dir);
    for (backend, name, db) in &transition {
        reaches_head(&graph, db, &format!("{backend} {name}"));
    }

    // An edited checkpoint is refused by the build.
    let original = std::fs::read_to_string(&checkpoint).unwrap();
    std::fs::write(
        &checkpoint,
        original.replacen(
            "column(\"c2\", integer, nullable)",
            "column(\"c2\", bigint, nullable)",
            1,
        ),
    )
    .unwrap();
    let err = History::load(&dir).unwrap_err().to_string();
    assert!(
        err.contains("cannot stand for the history it replaces"),
        "{err}"
    );
    std::fs::write(&checkpoint, &original).unwrap();

    // Some of the old files deleted and some not: refused, naming them.
    let replaced: Vec<PathBuf> = (1..=X)
        .map(|i| dir.join(format!("{}_step_{i}.rs", id(i))))
        .collect();
    std::fs::remove_file(&replaced[0]).unwrap();
    let err = History::load(&dir).unwrap_err().to_string();
    assert!(
        err.contains("some of whose files were deleted") && err.contains("step_2.rs"),
        "{err}"
    );

    // After the old files are deleted the checkpoint takes their place.
    for p in &replaced[1..] {
        std::fs::remove_file(p).unwrap();
    }
    let history = History::load(&dir).unwrap();
    assert_eq!(history.entries.len(), N - X + 1);
    assert_eq!(
        history.entries[&id(X + 1)].file.parents,
        std::slice::from_ref(&file.revision)
    );
    let graph = support::graph_of_folder(&dir);
    for (backend, name, db) in &after {
        let mut r = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        if *name == "mid-range" {
            let before_rows = db.count("SELECT COUNT(*) AS n FROM retort_versions");
            let err = r.upgrade("head").unwrap_err();
            assert!(
                matches!(err, Error::PartWayThroughCheckpoint { .. }),
                "{backend}: {err}"
            );
            assert!(
                err.to_string()
                    .contains(&format!("{MID} of the {X} revisions")),
                "{err}"
            );
            assert_eq!(
                db.count("SELECT COUNT(*) AS n FROM retort_versions"),
                before_rows
            );
            continue;
        }
        drop(r);
        let mut r = reaches_head(&graph, db, &format!("{backend} {name}"));
        // The replaced rows gave way to the checkpoint's.
        let rows = db.count("SELECT COUNT(*) AS n FROM retort_versions");
        assert_eq!(rows as usize, N - X + 1, "{backend} {name}");
        // Down to base and up again through the checkpoint.
        r.downgrade("base")
            .unwrap_or_else(|e| panic!("{backend} {name}: {e}"));
        r.upgrade("head").unwrap();
        assert!(r.check().unwrap().is_empty(), "{backend} {name}");
    }

    // Squashing again is possible now, and covers the first checkpoint's revisions too.
    let out = squash(krate.path(), &id(PAST));
    assert!(out.status.success(), "{}", fixture::said(&out));
    let second = files(&dir)
        .into_iter()
        .find(|p| p.to_string_lossy().contains("squashed") && *p != checkpoint)
        .unwrap();
    let file2 =
        retort::schema::migration::parse_file(&std::fs::read_to_string(&second).unwrap()).unwrap();
    assert!(file2.replaces.contains(&id(1)) && file2.replaces.contains(&file.revision));
    History::load(&dir).unwrap();
}

/// A kept data step followed by a migration that runs outside a transaction: refused with
/// the list, nothing written; marked elidable, the squash goes through.
#[test]
fn data_steps_that_cannot_be_kept_are_refused_with_the_list() {
    let krate = tempfile::tempdir().unwrap();
    let dir = krate.path().join("migrations");
    write_history(&dir, 30);
    let outside = dir.join(format!("{}_step_31.rs", id(31)));
    std::fs::write(
        &outside,
        format!("retort::migration! {{\n    revision: \"{}\",\n    parents: [\"{}\"],\n    message: \"index\",\n    atomic: false,\n    up: [create_index(\"ix_t1_c21\", \"t1\", [\"c21\"], concurrently = true)],\n    down: [drop_index(\"ix_t1_c21\", \"t1\", concurrently = true)],\n}}\n", id(31), id(30)),
    )
    .unwrap();
    // A data migration before it (step 50 is beyond this history: seed at 25).
    let seed = dir.join(format!("{}_step_25.rs", id(25)));
    std::fs::write(
        &seed,
        format!("retort::migration! {{\n    revision: \"{}\",\n    parents: [\"{}\"],\n    message: \"seed\",\n    up: [execute(\"INSERT INTO t0 (name) VALUES ('x')\")],\n    down: [],\n}}\n", id(25), id(24)),
    )
    .unwrap();
    let listing = files(&dir);
    let out = squash(krate.path(), "head");
    assert!(!out.status.success());
    let text = fixture::said(&out);
    assert!(
        text.contains(&format!("{} (", id(31)))
            && text.contains("runs outside a transaction")
            && text.contains("elidable: true"),
        "{text}"
    );
    assert_eq!(files(&dir), listing);
    let marked = std::fs::read_to_string(&seed)
        .unwrap()
        .replace("    up:", "    elidable: true,\n    up:");
    std::fs::write(&seed, marked).unwrap();
    let out = squash(krate.path(), "head");
    assert!(out.status.success(), "{}", fixture::said(&out));
    History::load(&dir).unwrap();
}
