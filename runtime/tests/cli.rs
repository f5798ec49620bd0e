//! The CLI against a migration list with two heads: refusals exit non-zero and leave the
//! database file byte-identical.

mod support;

use retort::{cli, CompiledMigration, DatabaseUrl, Graph, Migrations, Options, Runner};
use retort_schema::migration::parse_file;

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// What `migration!` compiles a direction's operations into, for operations made at run time.
fn ops(list: Vec<retort::schema::ops::Op>) -> retort::OpsFn {
    Box::leak(Box::new(move || list.clone()))
}

fn migration(id: &str, parents: &[&str], up: &str) -> &'static CompiledMigration {
    let ps: Vec<String> = parents.iter().map(|p| format!("\"{p}\"")).collect();
    let text = format!("retort::migration! {{ revision: \"{id}\", parents: [{}], message: \"{id}\", up: [{up}], down: [] }}", ps.join(", "));
    let file = parse_file(&text).unwrap();
    let parents: Vec<&'static str> = parents.iter().map(|p| leak(p.to_string())).collect();
    Box::leak(Box::new(CompiledMigration {
        revision: leak(id.to_string()),
        parents: Box::leak(parents.into_boxed_slice()),
        message: leak(id.to_string()),
        checksum: leak(file.checksum()),
        earlier_checksums: &[],
        upgrade: ops(file.up),
        downgrade: ops(file.down),
        functions: &[],
        atomic: true,
        replaces: &[],
    }))
}

fn two_heads() -> &'static Migrations {
    let list = vec![
        migration(
            "r1",
            &[],
            r#"create_table("t", column("id", integer), primary_key(["id"]))"#,
        ),
        migration(
            "r2a",
            &["r1"],
            r#"add_column("t", column("a", text, nullable))"#,
        ),
        migration(
            "r2b",
            &["r1"],
            r#"add_column("t", column("b", text, nullable))"#,
        ),
    ];
    Box::leak(Box::new(Migrations::new(Box::leak(
        list.into_boxed_slice(),
    ))))
}

#[test]
fn several_heads_without_a_target_are_refused() {
    let migrations = two_heads();
    let graph = Graph::from_migrations(migrations);
    for db in support::TestDb::all() {
        let name = db.dialect.name();
        let url = db.url_text.clone();
        assert_eq!(
            cli::run("t", migrations, ["--database-url", &url, "upgrade", "r1"]),
            0,
            "{name}"
        );
        let versions = |db: &support::TestDb| {
            Runner::connect(&graph, &db.url, Options::default())
                .unwrap()
                .applied_rows()
                .unwrap()
        };
        let before = (versions(&db), db.rows("t", &["id"]));
        assert_eq!(
            cli::run("t", migrations, ["--database-url", &url, "upgrade"]),
            1,
            "{name}"
        );
        let err = Runner::connect(&graph, &db.url, Options::default())
            .unwrap()
            .upgrade("head")
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("several heads (r2a, r2b)") && msg.contains("name the target"),
            "{name}: {msg}"
        );
        assert_eq!(
            (versions(&db), db.rows("t", &["id"])),
            before,
            "{name}: nothing changed"
        );
        // Naming a target, or `heads`, works.
        assert_eq!(
            cli::run(
                "t",
                migrations,
                ["--database-url", &url, "upgrade", "heads"]
            ),
            0,
            "{name}"
        );
        let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        assert_eq!(runner.current().unwrap(), ["r2a", "r2b"], "{name}");
    }
}

#[test]
fn bad_urls_and_usage_errors_exit_non_zero() {
    let migrations = two_heads();
    assert_eq!(
        cli::run(
            "t",
            migrations,
            ["--database-url", "oracle://db/x", "current"]
        ),
        1
    );
    assert_eq!(
        cli::run(
            "t",
            migrations,
            ["--database-url", "postgres://u@h/db", "current"]
        ),
        1
    );
    assert_eq!(cli::run("t", migrations, ["frobnicate"]), 2);
    let err = DatabaseUrl::parse("oracle://db/x").unwrap_err().to_string();
    assert!(
        err.contains("unknown scheme `oracle`") && err.contains("Accepted: sqlite:///"),
        "{err}"
    );
    let url = DatabaseUrl::parse("postgres://u@h.invalid/db").unwrap();
    let err = retort::backend::connect(&url).err().unwrap().to_string();
    if cfg!(feature = "postgres") {
        assert!(
            err.contains("cannot connect to PostgreSQL at postgres://u@h.invalid/db"),
            "{err}"
        );
    } else {
        assert!(
            err.contains("support for postgres is not compiled into this build; enable retort's `postgres` feature"),
            "{err}"
        );
    }
}
