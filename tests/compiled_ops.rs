//! `migration!` compiles a file's operations into Rust code that builds them (nothing is
//! decoded at run time). Over every operation and every field, with hostile strings: random
//! migrations are written in the grammar, compiled by rustc in a real crate, and what the
//! binary builds is compared with what the build script's parser reads from the same text —
//! operations, checksum, and the version-0 checksum earlier rows were written with.

#[path = "../schema/tests/support/arb.rs"]
mod arb;
mod support;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use quote::quote;
use retort_schema::migration::{op_tokens, parse_file, MigrationFile};
use support::{said, Fixture};

/// Migrations with one to three random operations each way, from a fixed seed.
fn random_files(count: usize) -> Vec<(String, MigrationFile)> {
    let seed = [7u8; 32];
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    );
    let ops = proptest::collection::vec(arb::op(), 1..4);
    (0..count)
        .map(|i| {
            let up = ops.new_tree(&mut runner).unwrap().current();
            let down = ops.new_tree(&mut runner).unwrap().current();
            let (up, down) = (up.iter().map(op_tokens), down.iter().map(op_tokens));
            let revision = format!("r{i:04}");
            // Outside a transaction, so every operation's online form is accepted.
            let text = quote! {
                retort::migration! {
                    revision: #revision,
                    parents: [],
                    message: "random",
                    atomic: false,
                    up: [#(#up),*],
                    down: [#(#down),*],
                }
            }
            .to_string();
            let file = parse_file(&text).unwrap_or_else(|e| panic!("{revision}: {e}\n{text}"));
            (text, file)
        })
        .collect()
}

/// One line per migration: what the compiled constant holds, in `Debug` form.
fn line(revision: &str, checksum: &str, earlier: &[String], up: &str, down: &str) -> String {
    format!("{revision}\t{checksum}\t{earlier:?}\t{up}\t{down}")
}

#[test]
fn compiled_operations_equal_the_parsed_file() {
    let count = if std::env::var_os("CI").is_some() {
        150
    } else {
        300
    };
    let files = random_files(count);
    let fixture = Fixture::new("compiled-ops");
    // No models and no history: the files are compiled directly, as modules.
    std::fs::write(fixture.path().join("build.rs"), "fn main() {}\n").unwrap();
    let src = fixture.path().join("src");
    let mut main = String::from("#![allow(dead_code)]\n");
    for (i, (text, file)) in files.iter().enumerate() {
        // The functions `run(…)` names, as an app defines them beside its migration.
        let functions = file.functions();
        let mut module = text.clone();
        for f in functions {
            module.push_str(&format!(
                "\nfn {f}(_: &mut retort::Connection) -> Result<(), retort::DataError> {{ Ok(()) }}"
            ));
        }
        std::fs::write(src.join(format!("m{i}.rs")), module).unwrap();
        main.push_str(&format!("mod m{i};\n"));
    }
    main.push_str("fn main() {\n    for m in [");
    for i in 0..files.len() {
        main.push_str(&format!("&m{i}::MIGRATION, "));
    }
    main.push_str(
        "] as [&retort::CompiledMigration; _] {\n        let earlier: Vec<String> = m.earlier_checksums.iter().map(|c| c.to_string()).collect();\n        println!(\"{}\\t{}\\t{:?}\\t{:?}\\t{:?}\", m.revision, m.checksum, earlier, m.up(), m.down());\n    }\n}\n",
    );
    std::fs::write(src.join("main.rs"), main).unwrap();
    let out = fixture.build(&[], false);
    assert!(out.status.success(), "{}", said(&out));
    let printed = fixture.run("compiled-ops");
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), files.len());
    for ((_, file), got) in files.iter().zip(lines) {
        let want = line(
            &file.revision,
            &file.checksum(),
            &[file.checksum_v0()],
            &format!("{:?}", file.up),
            &format!("{:?}", file.down),
        );
        assert_eq!(got, want, "{}", file.revision);
    }
}
