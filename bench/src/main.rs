//! retort's benchmark suite: every figure is a ratio against a floor measured in the same
//! process, in paired rounds (see `measure`). `docs/performance.md` lists the command of
//! each row and the results on the reference machine.
//!
//! ```text
//! cargo run --release -p retort-bench -- all          # every row below
//! cargo run --release -p retort-bench -- upgrade      # fresh upgrade, both transaction modes
//! cargo run --release -p retort-bench -- startup      # start-up at head
//! cargo run --release -p retort-bench -- adopt        # adopting a database made without migrations
//! cargo run --release -p retort-bench -- replay       # the build script's history replay
//! cargo run --release -p retort-bench -- squash       # the same replay before and after `retort squash`
//! cargo run --release -p retort-bench -- rebuild      # SQLite rebuild of a 1 000 000-row table
//! cargo run --release -p retort-bench -- memory       # peak memory of a 1 000-migration upgrade
//! cargo run --release -p retort-bench -- scaling      # per-migration cost at N = 200, 1 000, 5 000
//! ```

mod measure;
mod workload;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::MigrationHarness;
use retort::{DatabaseUrl, Graph, Migrations, Options, Runner, Startup, TransactionMode};

use measure::{human, paired, Run};
use workload::Item;

#[derive(Parser)]
#[command(about = "retort's benchmarks (ratios against a floor run in the same process)")]
struct Cli {
    #[command(subcommand)]
    row: Row,
    /// Paired rounds per figure (after one warm-up round).
    #[arg(long, global = true, default_value_t = 5)]
    rounds: usize,
    /// Where the SQLite files go (default: the system's temporary folder, on disk).
    #[arg(long, global = true)]
    dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Row {
    /// Every row, with the default sizes.
    All,
    /// Fresh upgrade: one transaction, and one per migration.
    Upgrade {
        #[arg(long, value_delimiter = ',', default_values_t = [200, 1000])]
        n: Vec<usize>,
    },
    /// Start-up at head: nothing to do.
    Startup {
        #[arg(long, value_delimiter = ',', default_values_t = [200, 1000])]
        n: Vec<usize>,
    },
    /// Adopting a database made without migrations.
    Adopt {
        #[arg(long, value_delimiter = ',', default_values_t = [200, 1000])]
        n: Vec<usize>,
    },
    /// The build script's history replay (parse every file, order, replay).
    Replay {
        #[arg(long, value_delimiter = ',', default_values_t = [200, 1000])]
        n: Vec<usize>,
    },
    /// The build script's replay of a history before and after `retort squash` (during the
    /// transition, and once the replaced files are deleted).
    Squash {
        #[arg(long, value_delimiter = ',', default_values_t = [1000])]
        n: Vec<usize>,
    },
    /// A SQLite table rebuild against the hand-written rebuild.
    Rebuild {
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
    },
    /// Peak memory (VmHWM) of an upgrade, each contender in its own process.
    Memory {
        #[arg(long, default_value_t = 1000)]
        n: usize,
    },
    /// Per-migration cost at several history sizes.
    Scaling {
        #[arg(long, value_delimiter = ',', default_values_t = [200, 1000, 5000])]
        n: Vec<usize>,
        /// The migrations: `create` (tables and indexes, which SQLite itself handles in
        /// constant time per migration) or `mixed` (also ALTER TABLE ADD COLUMN, after
        /// which SQLite re-reads its whole schema).
        #[arg(long, value_enum, default_value_t = workload::Kind::Create)]
        kind: workload::Kind,
    },
    /// (internal) One contender of `memory`, in a process of its own.
    #[command(hide = true)]
    MemoryChild { who: String, n: usize },
    /// One contender once, for a profiler (`perf record`, `valgrind --tool=callgrind`):
    /// floor-all, retort-all, floor-each, retort-each, diesel, floor-startup, retort-startup.
    Profile {
        who: String,
        n: usize,
        #[arg(long, value_enum, default_value_t = workload::Kind::Mixed)]
        kind: workload::Kind,
    },
    /// The phases of a start-up at head, each timed alone.
    Phases {
        #[arg(long, default_value_t = 1000)]
        n: usize,
    },
}

/// Fresh database files in one temporary folder.
struct Files {
    dir: tempfile::TempDir,
    next: std::cell::Cell<usize>,
}

impl Files {
    fn new(base: Option<&Path>) -> Files {
        let dir = match base {
            Some(b) => tempfile::tempdir_in(b),
            None => tempfile::tempdir(),
        }
        .expect("a temporary folder");
        Files {
            dir,
            next: Default::default(),
        }
    }

    /// A path no database uses yet (the previous ones are removed to keep the disk tidy).
    fn fresh(&self) -> PathBuf {
        let n = self.next.get();
        self.next.set(n + 1);
        if n > 0 {
            let _ = std::fs::remove_file(self.dir.path().join(format!("{}.db", n - 1)));
        }
        self.dir.path().join(format!("{n}.db"))
    }

    /// A path that stays for the whole run (templates), unique even when a name repeats.
    fn kept(&self, name: &str) -> PathBuf {
        let n = self.next.get();
        self.next.set(n + 1);
        self.dir.path().join(format!("kept-{n}-{name}"))
    }

    /// A copy of `template` at a fresh path.
    fn copy_of(&self, template: &Path) -> PathBuf {
        let p = self.fresh();
        std::fs::copy(template, &p).expect("copies the template database");
        p
    }
}

fn open(path: &Path) -> SqliteConnection {
    SqliteConnection::establish(&path.to_string_lossy()).expect("opens SQLite")
}

fn timed(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

// ---- contenders -------------------------------------------------------------------------

/// Floor: every migration's SQL in one transaction.
fn floor_all(items: &[Item], path: &Path) -> Duration {
    timed(|| {
        let mut c = open(path);
        let mut sql = String::from("BEGIN;\n");
        for i in items {
            sql.push_str(&i.up_sql);
        }
        sql.push_str("COMMIT;");
        c.batch_execute(&sql).expect("floor runs");
    })
}

/// Floor: per migration, one transaction with its SQL and one version row.
fn floor_each(items: &[Item], path: &Path) -> Duration {
    timed(|| {
        let mut c = open(path);
        c.batch_execute("CREATE TABLE IF NOT EXISTS versions (revision TEXT NOT NULL PRIMARY KEY, applied_at TEXT NOT NULL)")
            .expect("version table");
        for i in items {
            let sql = format!(
                "BEGIN;\n{}INSERT INTO versions (revision, applied_at) VALUES ('{}', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));\nCOMMIT;",
                i.up_sql, i.file.revision
            );
            c.batch_execute(&sql).expect("floor runs");
        }
    })
}

/// retort: what an application does: build the graph of its compiled migrations, connect,
/// upgrade to head.
fn retort_upgrade(migrations: &Migrations, path: &Path, mode: TransactionMode) -> Duration {
    timed(|| {
        let graph = Graph::from_migrations(migrations);
        let options = Options {
            transaction: mode,
            ..Options::default()
        };
        let mut runner = Runner::connect(&graph, &DatabaseUrl::SqliteFile(path.into()), options)
            .expect("connects");
        runner.upgrade("head").expect("retort upgrades");
    })
}

/// diesel_migrations: `run_pending_migrations` (one transaction per migration).
fn diesel_upgrade(source: Embedded, path: &Path) -> Duration {
    timed(|| {
        let mut c = open(path);
        c.run_pending_migrations(diesel_migrations::EmbeddedMigrations::new(source))
            .expect("diesel_migrations upgrades");
    })
}

/// What `embed_migrations!` would have put in the binary.
type Embedded = &'static [diesel_migrations::EmbeddedMigration];

/// Floor of a start-up at head: open the database and read the version rows.
fn floor_read_rows(path: &Path) -> Duration {
    timed(|| {
        let mut c = open(path);
        // The same rows, in the same struct, as retort reads them.
        let rows: Vec<retort::AppliedRow> = diesel::sql_query(
            "SELECT revision, parents, message, checksum, applied_at, execution_ms, state FROM retort_versions",
        )
        .load(&mut c)
        .expect("reads the version rows");
        assert!(!rows.is_empty());
    })
}

/// retort's one-call start-up upgrade, at head.
fn retort_startup(migrations: &Migrations, path: &Path) -> Duration {
    timed(|| {
        let applied = Startup::new(migrations)
            .url(format!("sqlite:///{}", path.display()))
            .log(|_| {})
            .run()
            .expect("start-up upgrade");
        assert!(applied.is_empty());
    })
}

/// Floor of adoption: open the database and introspect it (adoption cannot do less).
fn floor_introspect(path: &Path) -> Duration {
    timed(|| {
        let graph = Graph::default();
        let mut runner = Runner::connect(
            &graph,
            &DatabaseUrl::SqliteFile(path.into()),
            Options::default(),
        )
        .expect("connects");
        let schema = runner.introspect().expect("introspects");
        assert!(!schema.tables.is_empty());
    })
}

// ---- rows -------------------------------------------------------------------------------

struct Prepared {
    items: Vec<Item>,
    compiled: Migrations,
    embedded: Embedded,
}

fn prepare(n: usize) -> Prepared {
    prepare_of(n, workload::Kind::Mixed)
}

fn prepare_of(n: usize, kind: workload::Kind) -> Prepared {
    let items = workload::history_of(n, kind);
    let compiled = workload::compiled(&items);
    let embedded = workload::diesel_embedded(&items);
    Prepared {
        items,
        compiled,
        embedded,
    }
}

fn upgrade(files: &Files, rounds: usize, n: usize) -> (measure::Row, measure::Row) {
    upgrade_of(files, rounds, &prepare(n))
}

fn upgrade_of(files: &Files, rounds: usize, p: &Prepared) -> (measure::Row, measure::Row) {
    let all = paired(
        rounds,
        vec![
            (
                "floor: all SQL in one transaction",
                Box::new(|| floor_all(&p.items, &files.fresh())) as Run,
            ),
            (
                "retort (TransactionMode::All)",
                Box::new(|| retort_upgrade(&p.compiled, &files.fresh(), TransactionMode::All)),
            ),
        ],
    );
    let each = paired(
        rounds,
        vec![
            (
                "floor: txn + version row each",
                Box::new(|| floor_each(&p.items, &files.fresh())) as Run,
            ),
            (
                "retort (PerMigration)",
                Box::new(|| {
                    retort_upgrade(&p.compiled, &files.fresh(), TransactionMode::PerMigration)
                }),
            ),
            (
                "diesel_migrations",
                Box::new(|| diesel_upgrade(p.embedded, &files.fresh())),
            ),
        ],
    );
    (all, each)
}

fn startup(files: &Files, rounds: usize, n: usize) -> measure::Row {
    startup_of(files, rounds, &prepare(n))
}

fn startup_of(files: &Files, rounds: usize, p: &Prepared) -> measure::Row {
    let n = p.items.len();
    let at_head = files.kept(&format!("head-{n}.db"));
    retort_upgrade(&p.compiled, &at_head, TransactionMode::All);
    let diesel_head = files.kept(&format!("diesel-head-{n}.db"));
    diesel_upgrade(p.embedded, &diesel_head);
    paired(
        rounds.max(9),
        vec![
            (
                "floor: open + read version rows",
                Box::new(|| floor_read_rows(&at_head)) as Run,
            ),
            (
                "retort start-up (Startup::run)",
                Box::new(|| retort_startup(&p.compiled, &at_head)),
            ),
            (
                "diesel_migrations (nothing pending)",
                Box::new(|| diesel_upgrade(p.embedded, &diesel_head)),
            ),
        ],
    )
}

fn adopt(files: &Files, rounds: usize, n: usize) -> measure::Row {
    adopt_of(files, rounds, &prepare(n))
}

fn adopt_of(files: &Files, rounds: usize, p: &Prepared) -> measure::Row {
    let n = p.items.len();
    let template = files.kept(&format!("unversioned-{n}.db"));
    floor_all(&p.items, &template);
    paired(
        rounds,
        vec![
            (
                "floor: open + introspect",
                Box::new(|| floor_introspect(&files.copy_of(&template))) as Run,
            ),
            (
                "retort adopts, then at head",
                Box::new(|| {
                    retort_upgrade(&p.compiled, &files.copy_of(&template), TransactionMode::All)
                }),
            ),
        ],
    )
}

fn replay(files: &Files, rounds: usize, n: usize) -> measure::Row {
    replay_of(files, rounds, &workload::history(n))
}

fn replay_of(files: &Files, rounds: usize, items: &[Item]) -> measure::Row {
    let n = items.len();
    let dir = files.kept(&format!("migrations-{n}"));
    std::fs::create_dir_all(&dir).expect("a migrations folder");
    for i in items {
        std::fs::write(dir.join(format!("{}.rs", i.file.revision)), &i.text).expect("writes");
    }
    paired(
        rounds,
        vec![
            (
                "floor: read the files",
                Box::new(|| {
                    timed(|| {
                        let mut total = 0;
                        for e in std::fs::read_dir(&dir).expect("lists") {
                            total += std::fs::read_to_string(e.expect("entry").path())
                                .expect("reads")
                                .len();
                        }
                        assert!(total > 0);
                    })
                }) as Run,
            ),
            (
                "retort-build: load + replay",
                Box::new(|| {
                    timed(|| {
                        let history = retort_build::history::History::load(&dir).expect("loads");
                        let schema = history.head_schema().expect("replays");
                        assert!(!schema.tables.is_empty());
                    })
                }),
            ),
        ],
    )
}

/// The build's load and replay of N migrations: as written, squashed with the old files
/// still there (the build proves the checkpoint), and squashed with them deleted.
fn squashed(files: &Files, rounds: usize, n: usize) -> measure::Row {
    let items = workload::history(n);
    let write = |name: &str| {
        let dir = files.kept(&format!("squash-{n}/{name}/migrations"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a migrations folder");
        for i in &items {
            std::fs::write(dir.join(format!("{}.rs", i.file.revision)), &i.text).expect("writes");
        }
        dir
    };
    let before = write("before");
    let transition = write("transition");
    let after = write("after");
    let squash = |dir: &std::path::Path| {
        retort_build::squash::squash(
            dir.parent().expect("a crate folder"),
            std::path::Path::new("migrations"),
            "head",
            "squashed",
            1_800_000_000,
        )
        .expect("squashes")
    };
    squash(&transition);
    let done = squash(&after);
    for f in &done.replaced {
        std::fs::remove_file(f).expect("deletes a replaced file");
    }
    let load = |dir: std::path::PathBuf| {
        move || {
            timed(|| {
                let history = retort_build::history::History::load(&dir).expect("loads");
                let schema = history.head_schema().expect("replays");
                assert!(!schema.tables.is_empty());
            })
        }
    };
    paired(
        rounds,
        vec![
            (
                "floor: load + replay as written",
                Box::new(load(before)) as Run,
            ),
            (
                "squashed, old files kept (proof)",
                Box::new(load(transition)),
            ),
            ("squashed, old files deleted", Box::new(load(after))),
        ],
    )
}

fn rebuild(files: &Files, rounds: usize, rows: u64) -> measure::Row {
    use retort_schema::migration::parse_file;
    let r1 = parse_file(r#"retort::migration! { revision: "r1", parents: [], message: "big", up: [create_table("big", column("id", integer, autoincrement), column("name", text), column("score", integer), primary_key(["id"]))], down: [drop_table("big")] }"#).expect("parses");
    let r2 = parse_file(r#"retort::migration! { revision: "r2", parents: ["r1"], message: "score nullable", up: [alter_column("big", "score", nullable = true)], down: [alter_column("big", "score", nullable = false)] }"#).expect("parses");
    let graph = Graph::from_revisions([
        retort::Revision::from_file(r1),
        retort::Revision::from_file(r2),
    ]);
    let template = files.kept("big.db");
    {
        let url = DatabaseUrl::SqliteFile(template.clone());
        Runner::connect(&graph, &url, Options::default())
            .expect("connects")
            .upgrade("r1")
            .expect("creates");
        open(&template)
            .batch_execute(&format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
                 INSERT INTO big (name, score) SELECT 'name ' || i, i % 1000 FROM n"
            ))
            .expect("fills");
    }
    // The rebuild as SQLite's documentation describes it, written by hand for this table.
    let by_hand = r#"PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE "_new_big" ("id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "name" TEXT NOT NULL, "score" INTEGER);
INSERT INTO "_new_big" ("id", "name", "score") SELECT "id", "name", "score" FROM "big";
DROP TABLE "big";
ALTER TABLE "_new_big" RENAME TO "big";
PRAGMA foreign_key_check;
COMMIT;
PRAGMA foreign_keys = ON;"#;
    paired(
        rounds,
        vec![
            (
                "floor: hand-written rebuild SQL",
                Box::new(|| {
                    let path = files.copy_of(&template);
                    timed(|| open(&path).batch_execute(by_hand).expect("rebuilds"))
                }) as Run,
            ),
            (
                "retort: alter_column → rebuild",
                Box::new(|| {
                    let path = files.copy_of(&template);
                    timed(|| {
                        Runner::connect(&graph, &DatabaseUrl::SqliteFile(path), Options::default())
                            .expect("connects")
                            .upgrade("r2")
                            .expect("rebuilds");
                    })
                }),
            ),
        ],
    )
}

/// Peak resident memory of one contender's upgrade, in its own process: the workload is
/// built first (the same for both), the peak counter reset, then the upgrade runs.
fn memory_child(who: &str, n: usize) {
    let p = prepare(n);
    let files = Files::new(None);
    let path = files.fresh();
    std::fs::write("/proc/self/clear_refs", "5").expect("resets the peak (Linux ≥ 4.0)");
    let base = status_kib("VmRSS");
    match who {
        "floor" => {
            floor_each(&p.items, &path);
        }
        "retort" => {
            retort_upgrade(&p.compiled, &path, TransactionMode::PerMigration);
        }
        "diesel_migrations" => {
            diesel_upgrade(p.embedded, &path);
        }
        other => panic!("unknown contender {other}"),
    }
    println!("{base} {}", status_kib("VmHWM"));
}

fn status_kib(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("reads /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{key} in /proc/self/status"))
}

fn memory(rounds: usize, n: usize) {
    let exe = std::env::current_exe().expect("own path");
    let who = ["floor", "retort", "diesel_migrations"];
    let mut peaks: Vec<Vec<(u64, u64)>> = vec![Vec::new(); who.len()];
    for round in 0..rounds {
        for j in 0..who.len() {
            let c = (round + j) % who.len();
            let out = std::process::Command::new(&exe)
                .args(["memory-child", who[c], &n.to_string()])
                .output()
                .expect("runs the child");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8_lossy(&out.stdout);
            let v: Vec<u64> = text
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            peaks[c].push((v[0], v[1]));
        }
    }
    println!("peak memory of a {n}-migration upgrade (one transaction per migration), median of {rounds}");
    let floor_peak = measure::median_f64(peaks[0].iter().map(|p| p.1 as f64).collect());
    for (c, name) in who.iter().enumerate() {
        let peak = measure::median_f64(peaks[c].iter().map(|p| p.1 as f64).collect());
        let extra = measure::median_f64(peaks[c].iter().map(|p| (p.1 - p.0) as f64).collect());
        println!(
            "  {name:<20} peak {:>8.1} MiB   above the loaded workload {:>7.1} MiB   {:.2}× the floor's peak",
            peak / 1024.0,
            extra / 1024.0,
            peak / floor_peak
        );
    }
}

fn scaling(files: &Files, rounds: usize, sizes: &[usize], kind: workload::Kind) {
    let columns = ["up, 1 txn", "up, each", "start-up", "adopt", "replay"];
    let mut table: Vec<(usize, [f64; 5], [f64; 5])> = Vec::new();
    for &n in sizes {
        let p = prepare_of(n, kind);
        let (all, each) = upgrade_of(files, rounds, &p);
        let rows = [
            all,
            each,
            startup_of(files, rounds, &p),
            adopt_of(files, rounds, &p),
            replay_of(files, rounds, &p.items),
        ];
        let per = |d: Duration| d.as_secs_f64() / n as f64;
        // retort's time per migration, and what it adds to the floor's per migration.
        let cost = std::array::from_fn(|c| per(rows[c].median[1]));
        let over = std::array::from_fn(|c| per(rows[c].median[1]) - per(rows[c].median[0]));
        table.push((n, cost, over));
        eprintln!("scaling: N = {n} done");
    }
    println!("per-migration cost of retort, {kind:?} history (median time / N); flat = linear");
    println!(
        "  {:>6}  {}",
        "N",
        columns.map(|c| format!("{c:>14}")).join("")
    );
    let us = |x: f64| format!("{:>11.1} µs", x * 1e6);
    for (n, cost, _) in &table {
        println!("  {n:>6}  {}", cost.map(us).join(""));
    }
    println!("the same, minus the floor's time per migration (what retort adds)");
    for (n, _, over) in &table {
        println!("  {n:>6}  {}", over.map(us).join(""));
    }
    if let (Some(first), Some(last)) = (table.first(), table.last()) {
        let growth: Vec<String> = (0..5)
            .map(|c| format!("{:>13.2}×", last.1[c] / first.1[c]))
            .collect();
        println!(
            "  cost per migration at N = {} ÷ at N = {}: {}",
            last.0,
            first.0,
            growth.join("")
        );
    }
}

fn main() {
    let cli = Cli::parse();
    let files = Files::new(cli.dir.as_deref());
    let rounds = cli.rounds;
    let upgrade_rows = |sizes: &[usize]| {
        for &n in sizes {
            let (all, each) = upgrade(&files, rounds, n);
            all.print(&format!("fresh upgrade, N = {n}, one transaction"));
            each.print(&format!(
                "fresh upgrade, N = {n}, one transaction per migration"
            ));
        }
    };
    let startup_rows = |sizes: &[usize]| {
        for &n in sizes {
            startup(&files, rounds, n).print(&format!("start-up at head, N = {n}"));
        }
    };
    let adopt_rows = |sizes: &[usize]| {
        for &n in sizes {
            adopt(&files, rounds, n).print(&format!("adopting an unversioned database, N = {n}"));
        }
    };
    let replay_rows = |sizes: &[usize]| {
        for &n in sizes {
            replay(&files, rounds, n).print(&format!("build script history replay, N = {n}"));
        }
    };
    match cli.row {
        Row::All => {
            upgrade_rows(&[200, 1000]);
            startup_rows(&[200, 1000]);
            adopt_rows(&[200, 1000]);
            replay_rows(&[200, 1000]);
            rebuild(&files, rounds, 1_000_000).print("SQLite rebuild of a 1 000 000-row table");
            memory(rounds, 1000);
            scaling(
                &files,
                rounds.min(3),
                &[200, 1000, 5000],
                workload::Kind::Create,
            );
        }
        Row::Upgrade { n } => upgrade_rows(&n),
        Row::Startup { n } => startup_rows(&n),
        Row::Adopt { n } => adopt_rows(&n),
        Row::Replay { n } => replay_rows(&n),
        Row::Squash { n } => {
            for n in n {
                squashed(&files, rounds, n).print(&format!(
                    "build script history replay, N = {n}, before and after squashing"
                ));
            }
        }
        Row::Rebuild { rows } => {
            rebuild(&files, rounds, rows).print(&format!("SQLite rebuild of a {rows}-row table"))
        }
        Row::Memory { n } => memory(rounds, n),
        Row::Scaling { n, kind } => scaling(&files, rounds, &n, kind),
        Row::MemoryChild { who, n } => memory_child(&who, n),
        Row::Phases { n } => phases(n),
        Row::Profile { who, n, kind } => {
            let p = prepare_of(n, kind);
            let path = files.fresh();
            if who.ends_with("startup") {
                retort_upgrade(&p.compiled, &path, TransactionMode::All);
            }
            let t = match who.as_str() {
                "floor-all" => floor_all(&p.items, &path),
                "retort-all" => retort_upgrade(&p.compiled, &path, TransactionMode::All),
                "floor-each" => floor_each(&p.items, &path),
                "retort-each" => retort_upgrade(&p.compiled, &path, TransactionMode::PerMigration),
                "diesel" => diesel_upgrade(p.embedded, &path),
                "floor-startup" => floor_read_rows(&path),
                "retort-startup" => retort_startup(&p.compiled, &path),
                other => panic!("unknown contender {other}"),
            };
            println!("{who}: {}", human(t));
        }
    }
}

/// The phases of a start-up at head, each timed alone (100 runs): where its time goes.
fn phases(n: usize) {
    let p = prepare(n);
    let t = Instant::now();
    for _ in 0..100 {
        let g = Graph::from_migrations(&p.compiled);
        std::hint::black_box(g.heads());
    }
    println!("graph + heads: {:?} per run", t.elapsed() / 100);
    let t = Instant::now();
    for _ in 0..100 {
        let g = Graph::from_migrations(&p.compiled);
        std::hint::black_box(&g);
    }
    println!("graph: {:?} per run", t.elapsed() / 100);
    let files = Files::new(None);
    let path = files.fresh();
    retort_upgrade(&p.compiled, &path, TransactionMode::All);
    let g = Graph::from_migrations(&p.compiled);
    let url = DatabaseUrl::SqliteFile(path.clone());
    let t = Instant::now();
    for _ in 0..100 {
        std::hint::black_box(Runner::connect(&g, &url, Options::default()).unwrap());
    }
    println!("connect+drop: {:?} per run", t.elapsed() / 100);
    let t = Instant::now();
    for _ in 0..100 {
        std::hint::black_box(open(&path));
    }
    println!("open+drop: {:?} per run", t.elapsed() / 100);
    let mut r = Runner::connect(&g, &url, Options::default()).unwrap();
    let t = Instant::now();
    for _ in 0..100 {
        std::hint::black_box(r.applied_rows().unwrap());
    }
    println!("applied rows: {:?} per run", t.elapsed() / 100);
    let t = Instant::now();
    for _ in 0..100 {
        std::hint::black_box(r.upgrade("head").unwrap());
    }
    println!("upgrade head: {:?} per run", t.elapsed() / 100);
    let t = Instant::now();
    for _ in 0..100 {
        floor_read_rows(&path);
    }
    println!("floor: {:?} per run", t.elapsed() / 100);
}
