//! Models that cannot be migrated are refused at build time, naming the objects, the model's
//! file and line, and the fix — and nothing is written. One case per member of the class
//! that only the whole set of models shows (the derive reports the single-struct ones with
//! spans: see retort-schema's model tests).

mod support;

use retort_build::Error;
use support::Crate;

const GOOD: &str = r#"
#[derive(Table)]
pub struct Team {
    #[column(primary_key, autoincrement)]
    pub id: i32,
    #[column(unique)]
    pub code: String,
    pub name: String,
}
"#;

fn build(models: &str) -> (Result<retort_build::Report, Error>, Crate) {
    let c = Crate::new(&format!("{GOOD}\n{models}"));
    (c.generate(1_800_000_000), c)
}

#[test]
fn models_that_cannot_be_migrated_are_refused_and_nothing_is_written() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "index name used by two tables",
            r#"
#[derive(Table)]
#[table(index(name, name = "ix_team_name"))]
pub struct Player { #[column(primary_key)] pub id: i32, pub name: String }
#[derive(Table)]
#[table(index(name, name = "ix_team_name"))]
pub struct Coach { #[column(primary_key)] pub id: i32, pub name: String }
"#,
            &[
                "`coachs`",
                "`players`",
                "`ix_team_name`",
                "main.rs:",
                "name = \"…\"",
            ],
        ),
        (
            "constraint name equal to another table's index name",
            r#"
#[derive(Table)]
#[table(unique(name, name = "uq_teams_code"))]
pub struct Player { #[column(primary_key)] pub id: i32, pub name: String }
"#,
            &["`teams`", "`players`", "`uq_teams_code`"],
        ),
        (
            "foreign key type differs from the referenced column's",
            r#"
#[derive(Table)]
pub struct Player {
    #[column(primary_key)] pub id: i32,
    #[column(references = "teams(id)")] pub team_id: i64,
}
"#,
            &[
                "`players.team_id` is bigint",
                "`teams.id`, is integer",
                "same type",
            ],
        ),
        (
            "foreign key to a column that is neither key nor unique",
            r#"
#[derive(Table)]
pub struct Player {
    #[column(primary_key)] pub id: i32,
    #[column(references = "teams(name)")] pub team_name: String,
}
"#,
            &["neither its primary key nor unique", "`teams`", "unique"],
        ),
        (
            "foreign key to a column that does not exist",
            r#"
#[derive(Table)]
pub struct Player {
    #[column(primary_key)] pub id: i32,
    #[column(references = "teams(uuid)")] pub team_uuid: String,
}
"#,
            &["`teams.uuid`, which is not a column"],
        ),
    ];
    for (what, models, expected) in cases {
        let (result, dir) = build(models);
        let err = match result {
            Ok(_) => panic!("{what}: accepted"),
            Err(e) => e.to_string(),
        };
        for e in *expected {
            assert!(err.contains(e), "{what}: {err}\n(expected {e})");
        }
        assert!(!dir.migrations().exists(), "{what}: wrote files");
    }
    // The same models, made consistent, are accepted (the checks above do not refuse
    // what they should not).
    let (ok, dir) = build(
        r#"
#[derive(Table)]
pub struct Player {
    #[column(primary_key)] pub id: i32,
    #[column(references = "teams(id)")] pub team_id: i32,
    #[column(references = "teams(code)")] pub team_code: String,
}
"#,
    );
    ok.unwrap();
    assert!(dir.migrations().join("schema.json").exists());
}

/// A swap declared with `renamed_from` on both columns is written once, through a temporary
/// name; the hints left in the models do not swap the columns back at the next build.
#[test]
fn swap_hints_are_applied_once() {
    let before = "#[derive(Table)]\npub struct Pair { #[column(primary_key)] pub id: i32, pub a: i32, pub b: i32 }\n";
    let swapped = "#[derive(Table)]\npub struct Pair { #[column(primary_key)] pub id: i32, #[column(renamed_from = \"b\")] pub a: i32, #[column(renamed_from = \"a\")] pub b: i32 }\n";
    let c = Crate::new(before);
    assert_eq!(c.generate(1_800_000_000).unwrap().written.len(), 2);
    c.models(swapped);
    let report = c.generate(1_800_000_100).unwrap();
    let file = report
        .written
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "rs"))
        .unwrap();
    let m = retort_schema::migration::parse_file(&std::fs::read_to_string(file).unwrap()).unwrap();
    let described: Vec<String> = m.up.iter().map(|o| o.describe()).collect();
    assert_eq!(
        described,
        [
            "rename column pairs.a to _retort_tmp_a",
            "rename column pairs.b to a",
            "rename column pairs._retort_tmp_a to b"
        ]
    );
    // Built again with the hints still there: nothing new, and a warning to remove them.
    let again = c.generate(1_800_000_200).unwrap();
    assert!(again.written.is_empty(), "{:?}", again.written);
    assert!(
        again
            .warnings
            .iter()
            .any(|w| w.contains("remove their `renamed_from` hints")),
        "{:?}",
        again.warnings
    );
}

/// What the derive refuses when a backend is compiled in (MySQL cannot index unbounded
/// text), the build step refuses first, at the field, and writes nothing — neither the first
/// migration nor a later one, nor the snapshot. Without that backend the same models build.
#[test]
fn a_backend_refusal_of_the_derive_is_made_before_anything_is_written() {
    use retort_schema::sql::Dialect;
    let key_over_text = r#"
#[derive(Table)]
pub struct Tag {
    #[column(primary_key)]
    pub id: i32,
    #[column(unique)]
    pub label: String,
}
"#;
    for (what, models) in [
        ("unique constraint", key_over_text.to_string()),
        (
            "index",
            key_over_text.replace("#[column(unique)]", "#[column(index)]"),
        ),
        (
            "foreign key",
            r#"
#[derive(Table)]
pub struct Tag { #[column(primary_key)] pub id: i32, #[column(unique)] pub label: String }
#[derive(Table)]
pub struct Post { #[column(primary_key)] pub id: i32, #[column(references = "tags(label)")] pub tag: String }
"#
            .to_string(),
        ),
    ] {
        // A first build: nothing at all is written.
        let c = Crate::new(&models);
        let err = c
            .generate_for(1_800_000_000, &[Dialect::Sqlite, Dialect::Mysql])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("MySQL cannot index")
                && err.contains(&format!("and {what}"))
                && err.contains("max_length")
                && err.contains("main.rs:"),
            "{what}: {err}"
        );
        assert!(c.state().is_empty(), "{what}: {:?}", c.state());
        // Without MySQL the models are fine.
        c.generate_for(1_800_000_000, &[Dialect::Sqlite, Dialect::Postgres])
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        // A later change that brings the same refusal leaves every file as it was.
        let base = GOOD.replace("#[column(unique)]", "#[column(unique, max_length = 8)]");
        let c = Crate::new(&base);
        c.generate_for(1_800_000_000, &[Dialect::Mysql])
            .unwrap_or_else(|e| panic!("{e}"));
        let before = c.state();
        assert!(!before.is_empty());
        c.models(&format!("{base}\n{models}"));
        let err = c
            .generate_for(1_800_000_100, &[Dialect::Mysql])
            .unwrap_err()
            .to_string();
        assert!(err.contains("MySQL cannot index"), "{what}: {err}");
        assert_eq!(c.state(), before, "{what}: a refused build changed migrations/");
    }
}
