//! `cargo build` writes the next migration: a fixture crate driven through fourteen model
//! edits, each build checked for exactly one new migration (golden), its round trip, a quiet
//! rebuild and a build script that then stays asleep.

mod support;

use std::path::Path;

use retort_build::history::History;
use retort_schema::diff::diff;
use retort_schema::migration::parse_file;
use retort_schema::Schema;
use support::{stderr, Fixture};

const HEAD: &str = "use chrono::{DateTime, Utc};\nuse retort::Table;\n";

/// The models after each edit, with the edit's name.
fn steps() -> Vec<(&'static str, String)> {
    let team = |extra: &str| {
        format!(
        "/// Teams that own tasks.\n#[derive(Table)]\n#[table(name = \"teams\"{extra})]\npub struct Team {{\n    #[column(primary_key, autoincrement)]\n    pub id: i32,\n    pub name: String,\n}}\n"
    )
    };
    let project = "/// Projects that own tasks.\n#[derive(Table)]\npub struct Project {\n    #[column(primary_key, autoincrement)]\n    pub id: i32,\n    pub name: String,\n}\n".to_string();
    let task = |attrs: &str, doc: &str, fields: &str| {
        format!(
        "/// {doc}\n#[derive(Table)]\n{attrs}pub struct Task {{\n    #[column(primary_key, autoincrement)]\n    pub id: i32,\n{fields}    pub created_at: DateTime<Utc>,\n}}\n"
    )
    };
    let doc = "Work to do.";
    let title = "    pub title: String,\n";
    let title200 = "    #[column(max_length = 200)]\n    pub title: String,\n";
    let note = "    pub note: Option<String>,\n";
    let retry = "    /// Number of retry attempts made after a transient failure\n    #[column(server_default = \"0\")]\n    pub retry_count: i32,\n";
    let retry_ix = "    /// Number of retry attempts made after a transient failure\n    #[column(server_default = \"0\", index)]\n    pub retry_count: i32,\n";
    let desc_opt = "    #[column(renamed_from = \"note\")]\n    pub description: Option<String>,\n";
    let desc = "    #[column(renamed_from = \"note\")]\n    pub description: String,\n";
    let team_fk = "    #[column(references = \"teams(id)\", on_delete = \"set_null\")]\n    pub team_id: Option<i32>,\n";
    let uq = "#[table(unique(title, description))]\n";
    let uq_ck = "#[table(unique(title, description), check(name = \"ck_tasks_retry_count_positive\", expr = \"retry_count >= 0\"))]\n";
    let uq_ck_nodesc =
        "#[table(check(name = \"ck_tasks_retry_count_positive\", expr = \"retry_count >= 0\"))]\n";
    let renamed = team(", renamed_from = \"projects\"");
    vec![
        (
            "01_create_tables",
            format!("{HEAD}\n{project}\n{}", task("", doc, title)),
        ),
        (
            "02_add_nullable_column",
            format!(
                "{HEAD}\n{project}\n{}",
                task("", doc, &format!("{title}{note}"))
            ),
        ),
        (
            "03_add_not_null_with_default",
            format!(
                "{HEAD}\n{project}\n{}",
                task("", doc, &format!("{title}{note}{retry}"))
            ),
        ),
        (
            "04_rename_column",
            format!(
                "{HEAD}\n{project}\n{}",
                task("", doc, &format!("{title}{desc_opt}{retry}"))
            ),
        ),
        (
            "05_rename_table",
            format!(
                "{HEAD}\n{renamed}\n{}",
                task("", doc, &format!("{title}{desc_opt}{retry}"))
            ),
        ),
        (
            "06_change_type",
            format!(
                "{HEAD}\n{renamed}\n{}",
                task("", doc, &format!("{title200}{desc_opt}{retry}"))
            ),
        ),
        (
            "07_nullable_to_not_null",
            format!(
                "{HEAD}\n{renamed}\n{}",
                task("", doc, &format!("{title200}{desc}{retry}"))
            ),
        ),
        (
            "08_add_index",
            format!(
                "{HEAD}\n{renamed}\n{}",
                task("", doc, &format!("{title200}{desc}{retry_ix}"))
            ),
        ),
        (
            "09_add_composite_unique",
            format!(
                "{HEAD}\n{renamed}\n{}",
                task(uq, doc, &format!("{title200}{desc}{retry_ix}"))
            ),
        ),
        (
            "10_add_foreign_key",
            format!(
                "{HEAD}\n{renamed}\n{}",
                task(uq, doc, &format!("{title200}{desc}{retry_ix}{team_fk}"))
            ),
        ),
        (
            "11_add_check",
            format!(
                "{HEAD}\n{renamed}\n{}",
                task(uq_ck, doc, &format!("{title200}{desc}{retry_ix}{team_fk}"))
            ),
        ),
        (
            "12_change_comment",
            format!(
                "{HEAD}\n{renamed}\n{}",
                task(
                    uq_ck,
                    "Work to do, with retries.",
                    &format!("{title200}{desc}{retry_ix}{team_fk}")
                )
            ),
        ),
        (
            "13_drop_column",
            format!(
                "{HEAD}\n{renamed}\n{}",
                task(
                    uq_ck_nodesc,
                    "Work to do, with retries.",
                    &format!("{title200}{retry_ix}{team_fk}")
                )
            ),
        ),
        (
            "14_drop_table",
            format!(
                "{HEAD}\n{}",
                task(
                    uq_ck_nodesc,
                    "Work to do, with retries.",
                    &format!("{title200}{retry_ix}")
                )
            ),
        ),
    ]
}

/// What the generator must produce for the current sources: recomputed with the library.
fn expected_diff(fixture: &Fixture) -> retort_schema::diff::Diff {
    let head = History::load(&fixture.migrations())
        .unwrap()
        .head_schema()
        .unwrap();
    let sources = retort_build::discover::scan_crate(fixture.path()).unwrap();
    let models = Schema::from_tables(sources.models.into_iter().map(|m| m.model.table));
    diff(&head, &models).unwrap()
}

fn build_script_ran(out: &std::process::Output, crate_name: &str) -> bool {
    stderr(out).lines().any(|l| {
        l.contains("Running `")
            && l.contains("build-script-build")
            && l.contains(&format!("/{crate_name}-"))
    })
}

#[test]
fn fourteen_model_edits_each_write_one_reviewable_migration() {
    let fixture = Fixture::new("autogen");
    let epoch = 1_795_670_000u64;
    for (i, (name, models)) in steps().into_iter().enumerate() {
        fixture.write_models(&models);
        let expected = expected_diff(&fixture);
        assert!(
            !expected.is_empty(),
            "{name}: the edit must change the schema"
        );
        let before = fixture.migration_files();
        let when = (epoch + 60 * i as u64).to_string();
        let out = fixture.build(&[("RETORT_NOW", &when)], false);
        assert!(
            out.status.success(),
            "{name}: build failed:\n{}",
            stderr(&out)
        );
        let after = fixture.migration_files();
        assert_eq!(
            after.len(),
            before.len() + 1,
            "{name}: exactly one new migration"
        );
        let new_file = after.iter().find(|f| !before.contains(f)).unwrap();
        let text = std::fs::read_to_string(new_file).unwrap();
        let file_name = new_file.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            stderr(&out).contains(&format!("retort: wrote migrations/{file_name} (")),
            "{name}:\n{}",
            stderr(&out)
        );

        // Golden of the generated file.
        insta::assert_snapshot!(format!("autogen_{name}"), format!("{file_name}\n\n{text}"));
        // Round trip: the file parses back into exactly the operations the diff produced.
        let parsed = parse_file(&text).unwrap();
        assert_eq!(parsed.up, expected.up, "{name}: up");
        assert_eq!(parsed.down, expected.down, "{name}: down");
        if expected.up.iter().any(|op| {
            matches!(
                op,
                retort_schema::ops::Op::DropTable { .. }
                    | retort_schema::ops::Op::DropColumn { .. }
            )
        }) {
            assert!(
                text.contains("// DESTRUCTIVE"),
                "{name}: destructive ops are marked"
            );
        }
        // The migration written by this build is compiled into this build.
        assert_eq!(fixture.run("autogen").trim(), (i + 1).to_string(), "{name}");

        // The next build writes nothing and repeats no stale warning …
        let again = fixture.build(&[("RETORT_NOW", &when)], false);
        assert!(
            again.status.success(),
            "{name}: rebuild failed:\n{}",
            stderr(&again)
        );
        assert_eq!(
            fixture.migration_files(),
            after,
            "{name}: rebuild wrote a file"
        );
        assert!(
            !stderr(&again).contains("retort:"),
            "{name}: stale message:\n{}",
            stderr(&again)
        );
        // … and from then on the build script does not run.
        let quiet = fixture.build(&[("RETORT_NOW", &when)], true);
        assert!(quiet.status.success());
        assert!(
            !build_script_ran(&quiet, "autogen"),
            "{name}: build script ran again:\n{}",
            stderr(&quiet)
        );
        assert!(
            !stderr(&quiet).contains("retort:"),
            "{name}: stale message:\n{}",
            stderr(&quiet)
        );
    }
    // The snapshot is the replay of everything written.
    let history = History::load(&fixture.migrations()).unwrap();
    let heads: Vec<String> = history
        .heads()
        .iter()
        .map(|e| e.file.revision.clone())
        .collect();
    assert_eq!(heads.len(), 1);
    let snapshot = std::fs::read_to_string(fixture.migrations().join("schema.json")).unwrap();
    assert_eq!(history.replay(&[&heads[0]]).unwrap().to_json(), snapshot);
    // Editing a model wakes the build script up again.
    let models = std::fs::read_to_string(fixture.path().join("src/models.rs")).unwrap();
    fixture.write_models(&models.replace(
        "pub title: String,",
        "pub title: String,\n    pub owner: Option<String>,",
    ));
    let woke = fixture.build(&[("RETORT_NOW", "1795679000")], true);
    assert!(woke.status.success(), "{}", stderr(&woke));
    assert!(build_script_ran(&woke, "autogen"));
    assert!(
        stderr(&woke).contains("add_tasks_owner"),
        "{}",
        stderr(&woke)
    );
}

#[test]
fn check_mode_lists_pending_operations_and_writes_nothing() {
    let fixture = Fixture::new("checkmode");
    fixture.write_models(&format!(
        "{HEAD}\n#[derive(Table)]\npub struct Task {{\n    #[column(primary_key)]\n    pub id: i32,\n    pub created_at: DateTime<Utc>,\n}}\n"
    ));
    let out = fixture.build(&[], false);
    assert!(out.status.success(), "{}", stderr(&out));
    let state = fixture.migrations_state();
    fixture.write_models(&format!(
        "{HEAD}\n#[derive(Table)]\npub struct Task {{\n    #[column(primary_key)]\n    pub id: i32,\n    pub created_at: DateTime<Utc>,\n    #[column(server_default = \"0\")]\n    pub retry_count: i32,\n}}\n"
    ));
    for env in [
        [("RETORT_MODE", "check"), ("CI", "")],
        [("RETORT_MODE", ""), ("CI", "true")],
    ] {
        let out = fixture.build(&env, false);
        let err = stderr(&out);
        assert!(!out.status.success(), "check mode must fail: {err}");
        assert!(
            err.contains("the models are ahead of the migrations"),
            "{err}"
        );
        assert!(
            err.contains("  - add column tasks.retry_count (integer, NOT NULL, default 0)"),
            "{err}"
        );
        assert!(err.contains("Fix: run `cargo build` locally"), "{err}");
        assert_eq!(
            fixture.migrations_state(),
            state,
            "check mode wrote something"
        );
    }
    // An explicit setting overrides CI both ways.
    let out = fixture.build(&[("CI", "true"), ("RETORT_MODE", "write")], false);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fixture.migration_files().len(), 2);
}

#[test]
fn a_broken_history_fails_the_real_build_with_its_message() {
    let fixture = Fixture::new("broken");
    fixture.write_models(&format!(
        "{HEAD}\n#[derive(Table)]\npub struct Task {{\n    #[column(primary_key)]\n    pub id: i32,\n    pub created_at: DateTime<Utc>,\n}}\n"
    ));
    assert!(fixture.build(&[], false).status.success());
    let snapshot = fixture.migrations().join("schema.json");
    std::fs::write(&snapshot, "{ not json").unwrap();
    let state = fixture.migrations_state();
    let out = fixture.build(&[], false);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("schema.json: is not a valid schema snapshot"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fixture.migrations_state(), state);
    let _ = Path::new("");
}

/// A crate that compiles retort's `mysql` backend: a model MySQL cannot index is refused by
/// the build step itself — the one `cargo build` runs first — with the derive's message at
/// the field, and nothing is written; given a length, it builds and writes its migration.
/// (retort's build script passes the compiled backends on as `DEP_RETORT_BACKENDS`.)
#[test]
fn a_backend_refusal_stops_the_real_build_before_anything_is_written() {
    let fixture = Fixture::with_retort_features("mysqlrefusal", &["mysql"]);
    let model = |attrs: &str| {
        format!(
            "{HEAD}\n#[derive(Table)]\npub struct Tag {{\n    #[column(primary_key)]\n    pub id: i32,\n    #[column({attrs})]\n    pub label: String,\n}}\n"
        )
    };
    fixture.write_models(&model("unique"));
    let out = fixture.build(&[], false);
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("MySQL cannot index `tags.label`")
            && err.contains("max_length")
            && err.contains("models.rs:"),
        "{err}"
    );
    assert!(
        fixture.migrations_state().is_empty(),
        "{:?}",
        fixture.migrations_state()
    );
    fixture.write_models(&model("unique, max_length = 40"));
    let out = fixture.build(&[], false);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fixture.migration_files().len(), 1);
}

/// Objects declared in `sql/` are written into migrations by the real build: made after
/// the tables, replaced (with what depends on them) when a file changes, and a file that
/// is not one CREATE statement stops the build naming it, writing nothing.
#[test]
fn objects_declared_in_sql_files_are_written_and_replaced() {
    let fixture = Fixture::new("objects");
    fixture.write_models(&format!(
        "{HEAD}\n#[derive(Table)]\npub struct Task {{\n    #[column(primary_key)]\n    pub id: i32,\n    pub created_at: DateTime<Utc>,\n    #[column(server_default = \"0\")]\n    pub hits: i32,\n}}\n"
    ));
    let sql = fixture.path().join("sql");
    std::fs::create_dir_all(sql.join("sqlite")).unwrap();
    std::fs::write(
        sql.join("busy_tasks.sql"),
        "CREATE VIEW busy_tasks AS SELECT id FROM tasks WHERE hits > 10;\n",
    )
    .unwrap();
    std::fs::write(
        sql.join("busy_ids.sql"),
        "CREATE VIEW busy_ids AS SELECT id FROM busy_tasks\n",
    )
    .unwrap();
    std::fs::write(
        sql.join("sqlite/touch.sql"),
        "CREATE TRIGGER task_touch AFTER UPDATE OF created_at ON tasks BEGIN UPDATE tasks SET hits = hits + 1 WHERE id = NEW.id; END;\n",
    )
    .unwrap();
    let out = fixture.build(&[], false);
    assert!(out.status.success(), "{}", stderr(&out));
    let files = fixture.migration_files();
    assert_eq!(files.len(), 1);
    let first = std::fs::read_to_string(&files[0]).unwrap();
    // Compared without whitespace: prettyplease decides the line breaks.
    let compact: String = first.split_whitespace().collect();
    let at = |what: &str| {
        compact
            .find(what)
            .unwrap_or_else(|| panic!("{what} not in {first}"))
    };
    let (table, view, over, trigger) = (
        at("create_table("),
        at("create_object(view,\"busy_tasks\""),
        at("create_object(view,\"busy_ids\""),
        at("create_object(trigger,\"task_touch\""),
    );
    assert!(table < view && view < over && over < trigger, "{first}");
    assert!(compact.contains("table=\"tasks\""), "{first}");
    // Nothing more to write.
    let out = fixture.build(&[], false);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fixture.migration_files().len(), 1);

    // The view under another changes: both are replaced, and the downgrade restores them.
    std::fs::write(
        sql.join("busy_tasks.sql"),
        "CREATE VIEW busy_tasks AS SELECT id FROM tasks WHERE hits > 20;\n",
    )
    .unwrap();
    let out = fixture.build(&[], false);
    assert!(out.status.success(), "{}", stderr(&out));
    let files = fixture.migration_files();
    assert_eq!(files.len(), 2);
    let second = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .find(|text| text != &first)
        .unwrap();
    for expected in [
        "drop view busy_ids",
        "drop view busy_tasks",
        "create view busy_tasks",
        "create view busy_ids",
    ] {
        assert!(second.contains(expected), "{expected}: {second}");
    }
    assert!(
        second.contains("hits > 10") && second.contains("hits > 20"),
        "{second}"
    );

    // A file that is not one CREATE statement: refused, naming it; nothing written.
    std::fs::write(sql.join("oops.sql"), "DROP VIEW busy_ids").unwrap();
    let state = fixture.migrations_state();
    let out = fixture.build(&[], false);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("oops.sql") && err.contains("one CREATE statement"),
        "{err}"
    );
    assert_eq!(fixture.migrations_state(), state);
}

#[test]
fn enums_are_written_changed_and_their_added_values_go_first() {
    let fixture = Fixture::new("enums");
    let models = |variants: &str, fields: &str| {
        format!(
            "{HEAD}\n#[derive(Debug, Clone, Copy, PartialEq, retort::DbEnum)]\n#[db_enum(name = \"task_status\")]\npub enum Status {{\n{variants}}}\n\n#[derive(Table)]\npub struct Task {{\n    #[column(primary_key)]\n    pub id: i32,\n    pub created_at: DateTime<Utc>,\n{fields}}}\n"
        )
    };
    let status = "    #[column(server_default = \"'draft'\")]\n    pub status: Status,\n";
    let build = |expected: usize| -> Vec<String> {
        let out = fixture.build(&[], false);
        assert!(out.status.success(), "{}", stderr(&out));
        let files = fixture.migration_files();
        assert_eq!(files.len(), expected, "{}", stderr(&out));
        files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect()
    };
    let compact = |text: &str| text.split_whitespace().collect::<String>();
    let newest = |all: &[String], seen: &[String]| -> Vec<String> {
        all.iter().filter(|t| !seen.contains(t)).cloned().collect()
    };

    fixture.write_models(&models("    Draft,\n    Published,\n", status));
    let first = build(1);
    let c = compact(&first[0]);
    let (create, table) = (
        c.find("create_enum(\"task_status\",[\"draft\",\"published\"])")
            .unwrap_or_else(|| panic!("{}", first[0])),
        c.find("create_table(").unwrap(),
    );
    assert!(create < table, "{}", first[0]);
    assert!(
        c.contains("db_enum(\"task_status\",[\"draft\",\"published\"])"),
        "{}",
        first[0]
    );
    assert!(c.contains("drop_enum(\"task_status\""), "{}", first[0]);

    // A value renamed (declared), one added, and a new column in the same build: the added
    // value is written first, alone and outside a transaction; the column after it.
    fixture.write_models(&models(
        "    Draft,\n    #[db_enum(renamed_from = \"published\")]\n    Live,\n    Archived,\n",
        &format!("{status}    pub previous: Option<Status>,\n"),
    ));
    let all = build(3);
    let new = newest(&all, &first);
    assert_eq!(new.len(), 2);
    let (values, column) = if new[0].contains("alter_enum") {
        (&new[0], &new[1])
    } else {
        (&new[1], &new[0])
    };
    let v = compact(values);
    assert!(v.contains("atomic:false"), "{values}");
    assert!(
        v.contains("alter_enum(\"task_status\",[\"draft\",\"published\"],[\"draft\",\"live\",\"archived\"],renamed=[(\"published\",\"live\")]"),
        "{values}"
    );
    let col = compact(column);
    assert!(
        !col.contains("atomic:false") && col.contains("add_column("),
        "{column}"
    );
    let values_rev = retort_schema::migration::parse_file(values)
        .unwrap()
        .revision;
    assert!(
        col.contains(&format!("parents:[\"{values_rev}\"]")),
        "the column comes after the values: {column}"
    );

    // A value removed and the order changed: one migration, in a transaction (the type is
    // rebuilt, checking no row holds the value that goes).
    let seen = all.clone();
    fixture.write_models(&models(
        "    Archived,\n    Live,\n",
        "    #[column(server_default = \"'live'\")]\n    pub status: Status,\n",
    ));
    let all = build(4);
    let new = newest(&all, &seen);
    let c = compact(&new[0]);
    assert!(!c.contains("atomic:false"), "{}", new[0]);
    assert!(
        c.contains("[\"draft\",\"live\",\"archived\"],[\"archived\",\"live\"]"),
        "{}",
        new[0]
    );

    // A field of a type that is neither mapped nor a DbEnum of the crate: refused, naming
    // it; nothing written.
    let state = fixture.migrations_state();
    fixture.write_models(&format!(
        "{HEAD}\npub struct Mood;\n\n#[derive(Table)]\npub struct Task {{\n    #[column(primary_key)]\n    pub id: i32,\n    pub mood: Mood,\n}}\n"
    ));
    let out = fixture.build(&[], false);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("`mood`") && err.contains("`Mood`") && err.contains("DbEnum"),
        "{err}"
    );
    assert_eq!(fixture.migrations_state(), state);
}
