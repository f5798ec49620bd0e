//! With the `mysql` backend compiled in, `#[derive(Table)]` refuses at compile time what
//! MySQL cannot index (unbounded text under a key, a unique constraint or an index) at the
//! field, and the indexes MySQL/MariaDB cannot build (partial, over an expression), each
//! with the fix; without it, the same models compile.

#[cfg(feature = "mysql")]
#[test]
fn unindexable_text_is_refused_when_mysql_is_compiled_in() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui-mysql/*.rs");
}
