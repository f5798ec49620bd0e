//! Compile-fail cases for `#[derive(Table)]` (each with the expected `.stderr`), and a
//! compile-pass case that uses every attribute.

#[test]
fn derive_errors_are_spanned_and_actionable() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui-pass/*.rs");
}
