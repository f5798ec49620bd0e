//! Hostile input, one table: broken or tampered histories and snapshots, models with names
//! no database can take, a database ahead of the code, a migration changed after it was
//! applied. Each row: the right error (naming the problem and the fix), and the migration
//! files and the database byte-identical before and after.
//!
//! Hostile input that is valid — quotes, spaces, reserved words, unicode, names of exactly
//! 63 bytes, defaults with quotes and semicolons — must simply work: see the second test.

#[path = "../autogen/tests/support/mod.rs"]
mod build_support;
#[path = "../runtime/tests/support/mod.rs"]
mod runtime_support;
mod support;

use build_support::{edit, two_migrations, Crate};
use diesel::prelude::*;
use retort::schema::migration::parse_file;
use retort::{DatabaseUrl, Graph, Options, Revision, Runner};
use runtime_support::rev;

/// What a row did: the error, what it must say, and whether everything stayed as it was.
struct Outcome {
    error: String,
    expect: Vec<String>,
    unchanged: bool,
}

/// A row on the build step: the edit turns a good two-migration crate into a bad one.
fn files(edit_crate: impl Fn(&Crate) -> Vec<String>) -> Outcome {
    let c = two_migrations();
    let expect = edit_crate(&c);
    let before = c.state();
    let error = match c.generate(2_000_000) {
        Ok(_) => "accepted".to_string(),
        Err(e) => e.to_string(),
    };
    Outcome {
        error,
        expect,
        unchanged: c.state() == before,
    }
}

/// A row on a model: the derive refuses it (the error the compiler shows), and the build
/// step writes nothing meanwhile.
fn model(source: &str) -> Outcome {
    let input: syn::DeriveInput = syn::parse_str(source).unwrap();
    let error = match retort::schema::parse_model(&input) {
        Ok(_) => "accepted".to_string(),
        Err(e) => e
            .into_iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    };
    let c = Crate::new(&format!("#[derive(Table)]\n{source}"));
    let report = c.generate(1_000_000).unwrap();
    Outcome {
        error,
        expect: Vec::new(),
        unchanged: report.written.is_empty() && c.state().is_empty(),
    }
}

fn revisions() -> Vec<Revision> {
    vec![
        rev(
            "r1",
            None,
            r#"create_table("t", column("id", integer, autoincrement), column("n", integer, nullable), primary_key(["id"]))"#,
            r#"drop_table("t")"#,
        ),
        rev(
            "r2",
            Some("r1"),
            r#"add_column("t", column("m", text, nullable))"#,
            r#"drop_column("t", "m")"#,
        ),
    ]
}

/// A row on the runtime: a database at the head of `revisions()` (with a row), then
/// `tamper` changes the code or the database, then an upgrade with the code it returns.
fn database(tamper: impl Fn(&std::path::Path) -> (Vec<Revision>, Vec<String>)) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.db");
    let url = DatabaseUrl::SqliteFile(path.clone());
    let graph = Graph::from_revisions(revisions());
    Runner::connect(&graph, &url, Options::default())
        .unwrap()
        .upgrade("head")
        .unwrap();
    let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    diesel::sql_query("INSERT INTO t (n, m) VALUES (1, 'kept')")
        .execute(&mut conn)
        .unwrap();
    drop(conn);
    let (code, expect) = tamper(&path);
    let before = std::fs::read(&path).unwrap();
    let graph = Graph::from_revisions(code);
    let error = match Runner::connect(&graph, &url, Options::default())
        .and_then(|mut r| r.upgrade("head"))
    {
        Ok(_) => "accepted".to_string(),
        Err(e) => e.to_string(),
    };
    Outcome {
        error,
        expect,
        unchanged: std::fs::read(&path).unwrap() == before,
    }
}

fn revision_of(c: &Crate, needle: &str) -> String {
    parse_file(&std::fs::read_to_string(c.file_of(needle)).unwrap())
        .unwrap()
        .revision
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

type Row = (
    &'static str,
    &'static [&'static str],
    Box<dyn Fn() -> Outcome>,
);

#[test]
fn hostile_input_is_refused_and_changes_nothing() {
    let rows: Vec<Row> = vec![
        (
            "corrupted snapshot",
            &[
                "schema.json",
                "not a valid schema snapshot",
                "delete it and build again",
            ],
            Box::new(|| {
                files(|c| {
                    edit(&c.migrations().join("schema.json"), |t| {
                        t.replace("\"tables\"", "\"tabels\"")
                    });
                    Vec::new()
                })
            }),
        ),
        (
            "snapshot that disagrees with the migrations",
            &[
                "does not match what the migrations build",
                "table `tasks` differs",
            ],
            Box::new(|| {
                files(|c| {
                    edit(&c.migrations().join("schema.json"), |t| {
                        t.replace("\"note\"", "\"remark\"")
                    });
                    Vec::new()
                })
            }),
        ),
        (
            "conflict markers in a migration",
            &[
                "add_tasks_note",
                "git conflict marker",
                "resolve the merge conflict",
            ],
            Box::new(|| {
                files(|c| {
                    edit(&c.file_of("add_tasks_note"), |t| {
                        t.replace("    up: [", "<<<<<<< HEAD\n    up: [")
                            .replace("    down: [", "=======\n>>>>>>> branch\n    down: [")
                    });
                    Vec::new()
                })
            }),
        ),
        (
            "conflict markers in the snapshot",
            &["schema.json", "line 1 holds a git conflict marker"],
            Box::new(|| {
                files(|c| {
                    edit(&c.migrations().join("schema.json"), |t| {
                        format!("<<<<<<< HEAD\n{t}=======\n{t}>>>>>>> branch\n")
                    });
                    Vec::new()
                })
            }),
        ),
        (
            "a parent that does not exist",
            &["restore the missing file"],
            Box::new(|| {
                files(|c| {
                    let revision = revision_of(c, "initial");
                    std::fs::remove_file(c.file_of("initial")).unwrap();
                    vec![format!("names parent {revision}")]
                })
            }),
        ),
        (
            "parents that form a cycle",
            &["form a cycle"],
            Box::new(|| {
                files(|c| {
                    let second = revision_of(c, "add_tasks_note");
                    edit(&c.file_of("initial"), |t| {
                        t.replace("parents: []", &format!("parents: [\"{second}\"]"))
                    });
                    vec![second]
                })
            }),
        ),
        (
            "one revision declared twice",
            &[
                "is declared by both",
                "copy_of_initial.rs",
                "give one of them a new revision id",
            ],
            Box::new(|| {
                files(|c| {
                    std::fs::copy(
                        c.file_of("initial"),
                        c.migrations().join("copy_of_initial.rs"),
                    )
                    .unwrap();
                    Vec::new()
                })
            }),
        ),
        (
            "a migration file that does not parse",
            &["19700101_000000_zzzz_broken.rs", "line 3", "add_column"],
            Box::new(|| {
                files(|c| {
                    let head = revision_of(c, "add_tasks_note");
                    std::fs::write(
                        c.migrations().join("19700101_000000_zzzz_broken.rs"),
                        format!("retort::migration! {{\n    revision: \"19700101_000000_zzzz\", parents: [\"{head}\"],\n    up: [add_column(\"tasks\")],\n}}\n"),
                    )
                    .unwrap();
                    Vec::new()
                })
            }),
        ),
        (
            "a table name with a double quote",
            &["contains '\"', which cannot be quoted portably"],
            Box::new(|| {
                model("#[table(name = \"ta\\\"ble\")] struct T { #[column(primary_key)] id: i64 }")
            }),
        ),
        (
            "a column name with a backtick",
            &["contains '`', which cannot be quoted portably"],
            Box::new(|| {
                model(
                    "struct T { #[column(primary_key)] id: i64, #[column(name = \"a`b\")] x: i32 }",
                )
            }),
        ),
        (
            "a column name of 64 bytes",
            &["is 64 bytes long; databases accept at most 63"],
            Box::new(|| {
                model(&format!(
                    "struct T {{ #[column(primary_key)] id: i64, #[column(name = \"{}\")] x: i32 }}",
                    "c".repeat(64)
                ))
            }),
        ),
        (
            "a table named like retort's version table",
            &["`retort_versions` is retort's own"],
            Box::new(|| {
                model("#[table(name = \"retort_versions\")] struct T { #[column(primary_key)] id: i64 }")
            }),
        ),
        (
            "an empty default",
            &["`server_default` is empty"],
            Box::new(|| {
                model("struct T { #[column(primary_key)] id: i64, #[column(server_default = \" \")] x: i32 }")
            }),
        ),
        (
            "a database ahead of the code",
            &[
                "the database is at revision r2 which this build does not know",
                "Nothing was changed",
            ],
            Box::new(|| {
                database(|_| {
                    let mut code = revisions();
                    code.pop();
                    (code, Vec::new())
                })
            }),
        ),
        (
            "a migration changed after it was applied",
            &[
                "migration r2 was changed after it was applied",
                "Nothing was changed",
                "db stamp r2",
            ],
            Box::new(|| {
                database(|_| {
                    let mut code = revisions();
                    code[1] = rev(
                        "r2",
                        Some("r1"),
                        r#"add_column("t", column("m", integer, nullable))"#,
                        r#"drop_column("t", "m")"#,
                    );
                    (code, Vec::new())
                })
            }),
        ),
        (
            "a version row whose checksum was edited",
            &[
                "migration r1 was changed after it was applied",
                "recorded checksum v1:0000",
            ],
            Box::new(|| {
                database(|path| {
                    let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
                    diesel::sql_query(
                        "UPDATE retort_versions SET checksum = 'v1:0000' WHERE revision = 'r1'",
                    )
                    .execute(&mut conn)
                    .unwrap();
                    (revisions(), Vec::new())
                })
            }),
        ),
    ];
    let mut failures = Vec::new();
    for (what, expect, run) in &rows {
        let outcome = run();
        let wanted: Vec<String> = strings(expect).into_iter().chain(outcome.expect).collect();
        for w in &wanted {
            if !outcome.error.contains(w.as_str()) {
                failures.push(format!("{what}: expected {w:?} in: {}", outcome.error));
            }
        }
        if !outcome.unchanged {
            failures.push(format!("{what}: files or database changed"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Names with quotes, spaces, reserved words, unicode and exactly 63 bytes, and defaults
/// with quotes and semicolons, are not errors: they are quoted everywhere and work, up and
/// down, with the row's values intact.
#[test]
fn hostile_but_valid_names_and_defaults_work_end_to_end() {
    let long = "l".repeat(63);
    let source = format!(
        r#"#[table(name = "order", index(my_column, name = "ix order by"), check(name = "ck it's", expr = "\"select\" >= 0"))]
        struct Order {{
            #[column(primary_key, autoincrement)] id: i64,
            #[column(name = "select", server_default = "0")] select_: i32,
            #[column(name = "my column", server_default = "'a;b'")] my_column: String,
            #[column(name = "naïve 日本", server_default = "'; DROP TABLE x; --'")] naive: String,
            #[column(name = "{long}")] long: Option<String>,
            #[column(name = "it's", server_default = "'it''s'")] its: String,
        }}"#
    );
    let input: syn::DeriveInput = syn::parse_str(&source).unwrap();
    let table = retort::schema::parse_model(&input).unwrap().table;
    let models = retort::schema::Schema::from_tables([table]);
    let graph = Graph::from_revisions([support::generated_revision(
        "r1",
        None,
        &retort::schema::Schema::new(),
        &models,
    )]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("names.db");
    let mut runner = Runner::connect(
        &graph,
        &DatabaseUrl::SqliteFile(path.clone()),
        Options::default(),
    )
    .unwrap();
    runner.upgrade("head").unwrap();
    let differences = runner.differences(&models).unwrap();
    assert!(differences.is_empty(), "{differences:?}");
    let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    diesel::sql_query(format!("INSERT INTO \"order\" (\"{long}\") VALUES ('v')"))
        .execute(&mut conn)
        .unwrap();
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    let row: Vec<Row> = diesel::sql_query(format!(
        "SELECT \"select\" || '|' || \"my column\" || '|' || \"naïve 日本\" || '|' || \"it's\" || '|' || \"{long}\" AS v FROM \"order\""
    ))
    .load(&mut conn)
    .unwrap();
    assert_eq!(row[0].v, "0|a;b|; DROP TABLE x; --|it's|v");
    // The check holds under its quoted name.
    let err = diesel::sql_query("INSERT INTO \"order\" (\"select\") VALUES (-1)")
        .execute(&mut conn)
        .unwrap_err();
    assert!(err.to_string().contains("ck it's"), "{err}");
    runner.downgrade("base").unwrap();
    assert!(runner.introspect().unwrap().tables.is_empty());
    runner.upgrade("head").unwrap();
}
