//! How long a migration keeps writers waiting, on a live table: a table of `--rows` rows,
//! a writer doing single-row inserts and updates without pause on a connection of its own,
//! and in turn each migration retort writes, in its plain form and (where the generator
//! has one) its online form, in the same run. Reported per migration: the writer's longest
//! stall (its slowest single write while the migration ran), its p99 write latency then,
//! and how long the migration took. A benchmark, not a test: `docs/performance.md` has the
//! command and the figures.
//!
//! ```text
//! cargo run --release -p retort-bench --features servers --bin stall -- --url postgres://…
//! cargo run --release -p retort-bench --features servers --bin stall -- --url mysql://…
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use retort::backend::Backend;
use retort::schema::sql::Dialect;
use retort::{DatabaseUrl, Graph, Options, Revision, Runner};

#[derive(Parser)]
#[command(about = "a writer's longest stall during each migration, plain and online forms")]
struct Cli {
    /// The server (a database the bench may fill and empty).
    #[arg(long)]
    url: String,
    /// Rows in the table.
    #[arg(long, default_value_t = 1_000_000)]
    rows: i64,
    /// Runs of each migration (the table filled again each time): the longest stall is the
    /// longest of all, the p99 over every write of every run.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Only the migrations whose name contains this.
    #[arg(long)]
    only: Option<String>,
}

fn migration(id: &str, parent: Option<&str>, atomic: bool, up: &str, down: &str) -> Revision {
    let parents = parent.map(|p| format!("\"{p}\"")).unwrap_or_default();
    let atomic = if atomic { "" } else { "atomic: false," };
    let text = format!("retort::migration! {{ revision: \"{id}\", parents: [{parents}], message: \"{id}\", {atomic} up: [{up}], down: [{down}] }}");
    Revision::from_file(retort_schema::migration::parse_file(&text).expect(id))
}

const TABLE: &str = r#"create_table("stall_t", column("id", bigint, autoincrement), column("a", integer), column("b", integer), column("c", integer, nullable), column("note", text, nullable), column("owner_id", integer), primary_key(["id"])), create_table("stall_owner", column("id", integer), primary_key(["id"]))"#;
const TABLE_DOWN: &str = r#"drop_table("stall_t"), drop_table("stall_owner")"#;

/// The online form of a constraint or NOT NULL (`online = true`). MySQL/MariaDB have none
/// for a foreign key or check (the same statements as the plain form): those are measured
/// on PostgreSQL only.
const ONLINE: &str = "online (`online = true`)";

/// A migration measured: (name, form, atomic, up, down).
type Case = (&'static str, &'static str, bool, String, String);

/// The migrations measured on `dialect`.
fn cases(dialect: Dialect) -> Vec<Case> {
    let per_row = match dialect {
        Dialect::Postgres => "(gen_random_uuid())::text",
        _ => "uuid()",
    };
    let mut all: Vec<(&'static str, &'static str, bool, &str, &str)> = vec![
        (
            "add an index",
            "plain",
            true,
            r#"create_index("ix_stall_a", "stall_t", ["a"])"#,
            r#"drop_index("ix_stall_a", "stall_t")"#,
        ),
        (
            "add an index",
            "online (concurrently)",
            false,
            r#"create_index("ix_stall_a", "stall_t", ["a"], concurrently = true)"#,
            r#"drop_index("ix_stall_a", "stall_t")"#,
        ),
        (
            "add a foreign key",
            "plain",
            true,
            r#"create_foreign_key("fk_stall_owner", "stall_t", "stall_owner", ["owner_id"], ["id"])"#,
            r#"drop_constraint("fk_stall_owner", "stall_t", type_ = "foreignkey")"#,
        ),
        (
            "add a foreign key",
            ONLINE,
            false,
            r#"create_foreign_key("fk_stall_owner", "stall_t", "stall_owner", ["owner_id"], ["id"], online = true)"#,
            r#"drop_constraint("fk_stall_owner", "stall_t", type_ = "foreignkey")"#,
        ),
        (
            "add a check",
            "plain",
            true,
            r#"create_check_constraint("ck_stall_a", "stall_t", "a > 0")"#,
            r#"drop_constraint("ck_stall_a", "stall_t", type_ = "check")"#,
        ),
        (
            "add a check",
            ONLINE,
            false,
            r#"create_check_constraint("ck_stall_a", "stall_t", "a > 0", online = true)"#,
            r#"drop_constraint("ck_stall_a", "stall_t", type_ = "check")"#,
        ),
        (
            "make a column NOT NULL",
            "plain",
            true,
            r#"alter_column("stall_t", "c", nullable = false)"#,
            r#"alter_column("stall_t", "c", nullable = true)"#,
        ),
        (
            "make a column NOT NULL",
            ONLINE,
            false,
            r#"alter_column("stall_t", "c", nullable = false, online = true)"#,
            r#"alter_column("stall_t", "c", nullable = true)"#,
        ),
        (
            "add a unique constraint",
            "plain",
            true,
            r#"create_unique_constraint("uq_stall_id_a", "stall_t", ["id", "a"])"#,
            r#"drop_constraint("uq_stall_id_a", "stall_t", type_ = "unique")"#,
        ),
        (
            "add a unique constraint",
            ONLINE,
            false,
            r#"create_unique_constraint("uq_stall_id_a", "stall_t", ["id", "a"], online = true)"#,
            r#"drop_constraint("uq_stall_id_a", "stall_t", type_ = "unique")"#,
        ),
        (
            "add a column with a default",
            "plain",
            true,
            r#"add_column("stall_t", column("flag", integer, server_default = "0"))"#,
            r#"drop_column("stall_t", "flag")"#,
        ),
    ];
    if dialect != Dialect::Postgres {
        all.retain(|(_, form, _, up, _)| {
            *form != ONLINE || !(up.contains("foreign_key") || up.contains("check_constraint"))
        });
    }
    let mut out: Vec<Case> = all
        .into_iter()
        .map(|(what, form, atomic, up, down)| (what, form, atomic, up.into(), down.into()))
        .collect();
    // A NOT NULL column whose default is computed per row: in one statement, or as the build
    // writes it online (added nullable, the default set, filled in batches, NOT NULL online).
    out.push((
        "add a NOT NULL column with a per-row default",
        "plain",
        true,
        format!(r#"add_column("stall_t", column("token", text, server_default = "{per_row}"))"#),
        r#"drop_column("stall_t", "token")"#.into(),
    ));
    out.push((
        "add a NOT NULL column with a per-row default",
        "online (backfill)",
        false,
        format!(
            r#"add_column("stall_t", column("token", text, nullable)), alter_column("stall_t", "token", server_default = "{per_row}"), backfill("stall_t", "token", "{per_row}", batch = 10000), alter_column("stall_t", "token", nullable = false, online = true)"#
        ),
        r#"drop_column("stall_t", "token")"#.into(),
    ));
    out
}

fn exec(b: &mut dyn Backend, sql: &str) {
    b.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Fills the table (the parent holds the one owner every row names).
fn fill(url: &DatabaseUrl, rows: i64) {
    let mut b = retort::backend::connect(url).unwrap();
    exec(&mut *b, "INSERT INTO stall_owner (id) VALUES (1)");
    match b.dialect() {
        Dialect::Postgres => exec(&mut *b, &format!("INSERT INTO stall_t (a, b, c, owner_id) SELECT g, g, g, 1 FROM generate_series(1, {rows}) g")),
        _ => {
            exec(&mut *b, "INSERT INTO stall_t (a, b, c, owner_id) VALUES (1, 1, 1, 1)");
            let mut n = 1;
            while n < rows {
                let take = n.min(rows - n);
                exec(&mut *b, &format!("INSERT INTO stall_t (a, b, c, owner_id) SELECT a + {n}, b + {n}, c + {n}, 1 FROM stall_t ORDER BY id LIMIT {take}"));
                n += take;
            }
        }
    }
    if b.dialect() == Dialect::Postgres {
        exec(&mut *b, "VACUUM ANALYZE stall_t");
    }
}

struct Window {
    latencies: Vec<Duration>,
    took: Duration,
}

/// Runs `migrate` while a writer writes; the writer's latencies while it ran.
fn measure(url: &DatabaseUrl, rows: i64, migrate: impl FnOnce() -> Duration) -> Window {
    let stop = AtomicBool::new(false);
    let during = AtomicBool::new(false);
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            let mut b = retort::backend::connect(url).unwrap();
            let mut lat = Vec::new();
            let mut i: i64 = 0;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let sql = match i % 2 {
                    0 => {
                        format!("INSERT INTO stall_t (a, b, c, owner_id) VALUES ({i}, {i}, {i}, 1)")
                    }
                    _ => format!(
                        "UPDATE stall_t SET note = 'w{i}' WHERE id = {}",
                        (i * 7919) % rows + 1
                    ),
                };
                // A write that overlaps the migration counts: one it blocked ends after it.
                let began_during = during.load(Ordering::Relaxed);
                let started = Instant::now();
                exec(&mut *b, &sql);
                if began_during || during.load(Ordering::Relaxed) {
                    lat.push(started.elapsed());
                }
            }
            lat
        });
        std::thread::sleep(Duration::from_millis(300));
        during.store(true, Ordering::Relaxed);
        let took = migrate();
        during.store(false, Ordering::Relaxed);
        // Let the write the migration held up finish and be counted.
        std::thread::sleep(Duration::from_millis(100));
        stop.store(true, Ordering::Relaxed);
        Window {
            latencies: writer.join().unwrap(),
            took,
        }
    })
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let cli = Cli::parse();
    let url = DatabaseUrl::parse(&cli.url).expect("a server URL");
    println!("| migration | form | writer's longest stall | p99 write | writes during (all runs) | migration took (median) |");
    println!("|---|---|---|---|---|---|");
    for (what, form, atomic, up, down) in cases(url.dialect()) {
        if cli.only.as_deref().is_some_and(|o| !what.contains(o)) {
            continue;
        }
        let graph = Graph::from_revisions([
            migration("s1", None, true, TABLE, TABLE_DOWN),
            migration("s2", Some("s1"), atomic, &up, &down),
        ]);
        let options = Options {
            ddl_lock_timeout: None,
            ..Options::default()
        };
        let mut latencies = Vec::new();
        let mut took = Vec::new();
        for _ in 0..cli.rounds.max(1) {
            let mut runner = Runner::connect(&graph, &url, options.clone()).unwrap();
            let _ = runner.downgrade("base");
            runner.upgrade("s1").unwrap();
            fill(&url, cli.rows);
            let w = measure(&url, cli.rows, || {
                let started = Instant::now();
                Runner::connect(&graph, &url, options.clone())
                    .unwrap()
                    .upgrade("s2")
                    .unwrap_or_else(|e| panic!("{what} ({form}): {e}"));
                started.elapsed()
            });
            latencies.extend(w.latencies);
            took.push(w.took);
            runner.downgrade("base").unwrap();
        }
        latencies.sort();
        took.sort();
        let p99 = latencies
            .get(latencies.len() * 99 / 100)
            .copied()
            .unwrap_or_default();
        println!(
            "| {what} | {form} | {} | {} | {} | {} |",
            ms(latencies.last().copied().unwrap_or_default()),
            ms(p99),
            latencies.len(),
            ms(took[took.len() / 2])
        );
    }
}
