//! A fixture crate on disk, built with a real `cargo build`.

#![allow(dead_code)]

use std::process::{Command, Output};

mod fixture;
#[allow(unused_imports)]
pub use fixture::*;

/// `n` processes of the reference app started at once with `args` against the database at
/// `url`; each must succeed. Returns how many migrations they applied together (their
/// "applied …" lines).
pub fn records_at_once(n: usize, args: &[&str], url: &str) -> usize {
    records_spread(n, args, &[url])
}

/// As [`records_at_once`], the processes spread round-robin over `urls` (the nodes of a
/// cluster).
pub fn records_spread(n: usize, args: &[&str], urls: &[&str]) -> usize {
    let children: Vec<_> = (0..n)
        .map(|i| {
            Command::new(env!("CARGO_BIN_EXE_records"))
                .args(args)
                .env("DB_URL", urls[i % urls.len()])
                .env_remove("DATABASE_URL")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut applied_lines = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{urls:?} {args:?}: {text}");
        applied_lines += text
            .lines()
            .filter(|l| l.trim_start_matches("retort: ").starts_with("applied "))
            .count();
    }
    applied_lines
}

/// The reference app (`records`) run with `args` against `url`, with `env` set.
pub fn records_with(url: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_records"))
        .args(args)
        .env("DB_URL", url)
        .env_remove("DATABASE_URL")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// The revision the build would write for `from` → `to`: the diff rendered as the migration
/// file text, read back through the grammar the macro and the build share (which must give
/// the same operations).
pub fn generated_revision(
    id: &str,
    parent: Option<&str>,
    from: &retort::schema::Schema,
    to: &retort::schema::Schema,
) -> retort::Revision {
    use retort::schema::ops::Op;
    let d = retort::schema::diff::diff(from, to).unwrap();
    let unmarked =
        |ops: &[Op]| -> Vec<(Op, bool)> { ops.iter().map(|o| (o.clone(), false)).collect() };
    let parents: Vec<String> = parent.map(|p| vec![p.to_string()]).unwrap_or_default();
    let text = retort_build::codegen::file_text(&retort_build::codegen::NewMigrationFile {
        revision: id,
        parents: &parents,
        message: id,
        created: "2026-12-01 00:00:00 UTC",
        up: &unmarked(&d.up),
        down: &unmarked(&d.down),
        lints: &d.lints,
        origin: retort_build::codegen::Origin::Models,
        replaces: &[],
    });
    let parsed =
        retort::schema::migration::parse_file(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(parsed.up, d.up);
    assert_eq!(parsed.down, d.down);
    retort::Revision::from_file(parsed)
}
