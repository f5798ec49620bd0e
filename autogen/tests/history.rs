//! The build step against branched histories: non-conflicting branches get a merge
//! migration, conflicting ones fail naming both files and write nothing. (Broken histories
//! are rows of the hostile-input table, `tests/hostile.rs` at the workspace root.)

mod support;

use retort_build::{generate_in, Mode, Settings};
use retort_schema::migration::parse_file;
use support::{assert_fails_unchanged, Crate, TASK, TASK_NOTE};

/// Two branches from a common base, as git leaves them after a merge.
fn branches(a_op: &str, b_op: &str) -> Crate {
    let c = Crate::new(TASK);
    c.generate(1_000_000).unwrap();
    let base = parse_file(&std::fs::read_to_string(c.file_of("initial")).unwrap())
        .unwrap()
        .revision;
    for (name, op) in [("aaaa", a_op), ("bbbb", b_op)] {
        std::fs::write(
            c.migrations().join(format!("19700112_000000_{name}_branch.rs")),
            format!("retort::migration! {{\n    revision: \"19700112_000000_{name}\",\n    parents: [\"{base}\"],\n    message: \"branch {name}\",\n    up: [{op}],\n    down: [],\n}}\n"),
        )
        .unwrap();
    }
    c
}

#[test]
fn non_conflicting_branches_get_a_merge_migration() {
    let c = branches(
        "add_column(\"tasks\", column(\"note\", text, nullable))",
        "add_column(\"tasks\", column(\"owner\", text, nullable))",
    );
    c.models("#[derive(Table)] pub struct Task { #[column(primary_key)] pub id: i32, pub title: String, pub note: Option<String>, pub owner: Option<String> }\n");
    let report = c.generate(3_000_000).unwrap();
    let merge = report
        .written
        .iter()
        .find(|p| p.to_string_lossy().contains("merge"))
        .unwrap();
    let file = parse_file(&std::fs::read_to_string(merge).unwrap()).unwrap();
    assert_eq!(
        file.parents,
        ["19700112_000000_aaaa", "19700112_000000_bbbb"]
    );
    assert!(file.up.is_empty() && file.down.is_empty());
    // Only the merge (and the snapshot): the models equal the merged state.
    assert_eq!(
        report
            .written
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
            .count(),
        1
    );
    // And the next build is quiet.
    assert!(c.generate(3_000_060).unwrap().written.is_empty());
}

#[test]
fn conflicting_branches_fail_naming_both_files() {
    let c = branches(
        "add_column(\"tasks\", column(\"note\", text, nullable))",
        "add_column(\"tasks\", column(\"note\", integer, nullable))",
    );
    assert_fails_unchanged(
        &c,
        &[
            "19700112_000000_aaaa_branch.rs",
            "19700112_000000_bbbb_branch.rs",
            "`tasks.note`",
        ],
    );
}

#[test]
fn models_and_migrations_can_live_elsewhere() {
    let c = Crate::new("mod db;\n");
    std::fs::create_dir_all(c.dir.path().join("src/db")).unwrap();
    std::fs::write(c.dir.path().join("src/db/mod.rs"), "pub mod models;\n").unwrap();
    std::fs::write(
        c.dir.path().join("src/db/models.rs"),
        format!("use retort::Table;\n{TASK}"),
    )
    .unwrap();
    std::fs::write(
        c.dir.path().join("src/other.rs"),
        format!("use retort::Table;\n{TASK_NOTE}"),
    )
    .unwrap();
    let settings = Settings {
        mode: Mode::Write,
        message: Some("first tables".into()),
        now: 1_000_000,
        migrations_dir: "db/migrations".into(),
        model_files: vec!["src/db/models.rs".into()],
        backends: Vec::new(),
        strict_locks: false,
        online_ddl: true,
    };
    let report = generate_in(c.dir.path(), c.out.path(), &settings).unwrap();
    let written: Vec<String> = report
        .written
        .iter()
        .map(|p| p.strip_prefix(c.dir.path()).unwrap().display().to_string())
        .collect();
    assert_eq!(written.len(), 2, "{written:?}");
    assert!(
        written[0].starts_with("db/migrations/19700112_134640_")
            && written[0].ends_with("_first_tables.rs"),
        "{written:?}"
    );
    assert_eq!(written[1], "db/migrations/schema.json");
    let index = std::fs::read_to_string(c.out.path().join("retort_migrations.rs")).unwrap();
    assert!(index.contains("use crate::db::models::tasks;"), "{index}");
    // Only the named file's models: `note` from src/other.rs is not in the migration.
    assert!(!std::fs::read_to_string(c.dir.path().join(&written[0]))
        .unwrap()
        .contains("note"));
}
