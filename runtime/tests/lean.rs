//! What an application links by depending on `retort`: the runtime, its backends and the
//! CLI, without the parser crates the proc macros and the build script use.

use std::process::Command;

/// `cargo tree` of the normal (non-dev, non-build) dependencies of `retort`, proc macros
/// left out, for a feature selection.
fn linked_crates(features: &[&str]) -> Vec<String> {
    tree(features, "{p}")
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

/// The features `retort-schema` is built with in an app on `features`.
fn schema_features(features: &[&str]) -> String {
    let lines = tree(features, "{p} [{f}]");
    let schema = lines
        .lines()
        .find(|l| l.starts_with("retort-schema "))
        .unwrap_or_else(|| panic!("the tree was read: {lines}"));
    let (_, features) = schema.rsplit_once('[').expect("features printed");
    features.trim_end_matches(']').to_string()
}

/// `cargo tree` as above, each package printed with `format`.
fn tree(features: &[&str], format: &str) -> String {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["tree", "--offline", "--manifest-path", manifest])
        .args(["-p", "retort", "-e", "normal,no-proc-macro"])
        .args(["--prefix", "none", "--format", format]);
    if !features.is_empty() {
        cmd.args(["--no-default-features", "--features", &features.join(",")]);
    }
    let out = cmd.output().expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An app links the SQL renderers of the backends it compiles and no other (an SQLite app
/// carries neither PostgreSQL's nor MySQL's); the CLI's `db sql --dialect` renders for all.
#[test]
fn an_app_links_the_renderers_of_its_backends_only() {
    for (features, dialects) in [
        (&["sqlite"][..], "sqlite"),
        (&["postgres"], "postgres"),
        (&["mysql"], "mysql"),
        (&["sqlite", "postgres"], "postgres,sqlite"),
        (&["postgres", "mysql", "chrono", "json"], "mysql,postgres"),
        (&["sqlite", "cli"], "mysql,postgres,sqlite"),
    ] {
        assert_eq!(schema_features(features), dialects, "features {features:?}");
    }
}

#[test]
fn an_app_links_no_parser_crates() {
    for features in [
        &[][..],
        &["sqlite"],
        &["sqlite", "cli", "testing"],
        &["sqlite", "chrono"],
    ] {
        let crates = linked_crates(features);
        assert!(
            crates.iter().any(|c| c == "diesel"),
            "the tree was read: {crates:?}"
        );
        // …nor serde (facade, core, derives) or serde_json: the macros compile operations
        // and table metadata into Rust code, and the JSON literals `check` compares are read
        // by retort-schema itself. (The opt-in `json` feature links serde_json for the app's
        // own `dsl::JsonValue` columns.)
        for parser in [
            "syn",
            "quote",
            "proc-macro2",
            "strsim",
            "serde",
            "serde_core",
            "serde_derive",
            "serde_json",
        ] {
            assert!(
                !crates.iter().any(|c| c == parser),
                "features {features:?}: retort links {parser}: {crates:?}"
            );
        }
    }
}
