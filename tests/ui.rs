//! Compile-fail cases for `#[derive(Table)]` (each with the expected `.stderr`), and a
//! compile-pass case that uses every attribute.
//!
//! What the derive says about a backend's limits depends on the backends retort compiles
//! (trybuild builds the cases with this package's features): `tests/ui-backends/sqlite/`
//! holds the cases as a default build reports them, `tests/ui-backends/all/` as a build with
//! `postgres` and `mysql` (the test command's) does.

#[test]
fn derive_errors_are_spanned_and_actionable() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    if cfg!(all(feature = "postgres", feature = "mysql")) {
        t.compile_fail("tests/ui-backends/all/*.rs");
    } else if cfg!(not(any(feature = "postgres", feature = "mysql"))) {
        t.compile_fail("tests/ui-backends/sqlite/*.rs");
    }
    t.pass("tests/ui-pass/*.rs");
}
