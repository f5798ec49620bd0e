//! Benchmarks for the build step (run with `cargo bench -p retort-build`).
//!
//! Targets: the build step with 200 models and 200 migrations ≤ 100 ms; the diff of
//! 2 000 tables ≤ 20 ms. Each is also reported as a ratio to a baseline measured in the
//! same process (parsing the same files with syn; cloning the same schema), since absolute
//! times vary between machines and runs.

use std::path::Path;
use std::time::{Duration, Instant};

use retort_build::codegen::{file_text, NewMigrationFile};
use retort_build::{generate_in, Mode, Settings};
use retort_schema::diff::diff;
use retort_schema::ops::Op;
use retort_schema::{Column, ColumnType, Index, Schema, Table};

const MODELS: usize = 200;
const PER_FILE: usize = 20;

fn median(mut f: impl FnMut(), runs: usize) -> Duration {
    f(); // warm-up
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn model_source(i: usize) -> String {
    format!(
        "/// Table number {i}.\n#[derive(Table)]\npub struct Thing{i} {{\n    #[column(primary_key, autoincrement)]\n    pub id: i64,\n    /// Name of the thing\n    #[column(max_length = 80, index)]\n    pub name: String,\n    pub payload: Option<serde_json::Value>,\n    #[column(server_default = \"0\")]\n    pub count: i32,\n    pub created_at: chrono::DateTime<chrono::Utc>,\n    pub note: Option<String>,\n}}\n\n"
    )
}

fn table(i: usize) -> Table {
    let mut t = Table::new(format!("thing{i}s"));
    t.comment = Some(format!("Table number {i}."));
    let mut id = Column::new("id", ColumnType::BigInt);
    id.autoincrement = true;
    let mut name = Column::new("name", ColumnType::Varchar { length: 80 });
    name.comment = Some("Name of the thing".into());
    let mut payload = Column::new("payload", ColumnType::Json);
    payload.nullable = true;
    let mut count = Column::new("count", ColumnType::Integer);
    count.server_default = Some("0".into());
    let mut note = Column::new("note", ColumnType::Text);
    note.nullable = true;
    t.columns = vec![
        id,
        name,
        payload,
        count,
        Column::new("created_at", ColumnType::TimestampTz),
        note,
    ];
    t.primary_key = vec!["id".into()];
    t
}

/// A crate with 200 models in 10 module files and 200 migrations (one table each).
fn write_crate(dir: &Path) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join("migrations")).unwrap();
    let mut main = String::new();
    for f in 0..MODELS / PER_FILE {
        main.push_str(&format!("mod models{f};\n"));
        let mut src = String::from("use retort::Table;\n\n");
        for i in f * PER_FILE..(f + 1) * PER_FILE {
            src.push_str(&model_source(i));
        }
        std::fs::write(dir.join(format!("src/models{f}.rs")), src).unwrap();
    }
    main.push_str("fn main() {}\n");
    std::fs::write(dir.join("src/main.rs"), main).unwrap();
    let mut parent: Vec<String> = Vec::new();
    for i in 0..MODELS {
        let revision = format!("20260101_{:06}_{:04x}", i, i);
        let t = table(i);
        let index = Index::on_columns(format!("ix_thing{i}s_name"), ["name"], false);
        let up = vec![
            (Op::CreateTable { table: t.clone() }, false),
            (
                Op::CreateIndex {
                    table: t.name.clone(),
                    index,
                    concurrently: false,
                },
                false,
            ),
        ];
        let down = vec![
            (
                Op::DropIndex {
                    table: t.name.clone(),
                    name: format!("ix_thing{i}s_name"),
                    concurrently: false,
                },
                false,
            ),
            (
                Op::DropTable {
                    table: t.name.clone(),
                },
                false,
            ),
        ];
        let text = file_text(&NewMigrationFile {
            revision: &revision,
            parents: &parent,
            message: &format!("create_thing{i}s"),
            created: "2026-01-01 00:00:00 UTC",
            up: &up,
            down: &down,
            lints: &[],
            origin: retort_build::codegen::Origin::Models,
            replaces: &[],
        });
        std::fs::write(
            dir.join(format!("migrations/{revision}_create_thing{i}s.rs")),
            text,
        )
        .unwrap();
        parent = vec![revision];
    }
}

fn bench_build_step() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    write_crate(dir.path());
    let settings = Settings {
        mode: Mode::Write,
        message: None,
        now: 1_800_000_000,
        migrations_dir: "migrations".into(),
        model_files: Vec::new(),
        backends: Vec::new(),
        strict_locks: false,
        online_ddl: true,
    };
    // First run writes the snapshot; the measured runs find nothing to do, as most builds do.
    let first = generate_in(dir.path(), out.path(), &settings).unwrap();
    assert_eq!(
        first.written.len(),
        1,
        "only the snapshot: the models equal the migrations"
    );
    let step = median(
        || {
            let report = generate_in(dir.path(), out.path(), &settings).unwrap();
            assert!(report.written.is_empty());
        },
        21,
    );
    // Baseline: only reading and syn-parsing the same files.
    let files: Vec<_> = std::fs::read_dir(dir.path().join("src"))
        .unwrap()
        .chain(std::fs::read_dir(dir.path().join("migrations")).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    let baseline = median(
        || {
            for f in &files {
                let text = std::fs::read_to_string(f).unwrap();
                std::hint::black_box(syn::parse_file(&text).unwrap());
            }
        },
        21,
    );
    report(
        "build step, 200 models + 200 migrations",
        step,
        baseline,
        "read+syn::parse_file of the same files",
        100.0,
    );
}

fn bench_diff() {
    let old = Schema::from_tables((0..2000).map(table));
    let mut new = old.clone();
    for (i, t) in new.tables.values_mut().enumerate() {
        match i % 10 {
            0 => t.columns.push(Column::new("extra", ColumnType::Boolean)),
            1 => t.columns[1].ty = ColumnType::Text,
            2 => t.indexes.push(Index::on_columns(
                format!("ix_{}_count", t.name),
                ["count"],
                false,
            )),
            3 => t.comment = Some("changed".into()),
            _ => {}
        }
    }
    let d = diff(&old, &new).unwrap();
    assert_eq!(d.up.len(), 800);
    let took = median(|| drop(std::hint::black_box(diff(&old, &new).unwrap())), 21);
    let baseline = median(|| drop(std::hint::black_box(new.clone())), 21);
    report(
        "diff of 2 000 tables (800 changes)",
        took,
        baseline,
        "cloning the new schema",
        20.0,
    );
}

fn report(what: &str, took: Duration, baseline: Duration, baseline_what: &str, target_ms: f64) {
    let ms = took.as_secs_f64() * 1e3;
    let ratio = took.as_secs_f64() / baseline.as_secs_f64();
    let verdict = if ms <= target_ms { "meets" } else { "MISSES" };
    println!(
        "{what}: median {ms:.2} ms ({verdict} target <= {target_ms} ms); {ratio:.2}x baseline ({baseline_what}: {:.2} ms)",
        baseline.as_secs_f64() * 1e3
    );
}

fn main() {
    bench_build_step();
    bench_diff();
}
