//! A generated migration file always parses, and means what the operations meant: user
//! text (messages, comments, check expressions, defaults, lint messages) of any content
//! is escaped wherever it lands, in the header comments or in the `migration!` block.

#[path = "../../schema/tests/support/arb.rs"]
mod arb;

use proptest::prelude::*;
use retort_build::codegen::{file_text, NewMigrationFile};
use retort_schema::diff::{Lint, LintKind};
use retort_schema::migration::parse_file;
use retort_schema::ops::Op;

fn file_for(message: &str, up: &[Op], down: &[Op], lint: &str) -> String {
    let up: Vec<(Op, bool)> = up.iter().map(|o| (o.clone(), true)).collect();
    let down: Vec<(Op, bool)> = down.iter().map(|o| (o.clone(), true)).collect();
    file_text(&NewMigrationFile {
        revision: "20261201_000000_abcd",
        parents: &["20261130_000000_0123".to_string()],
        message,
        created: "2026-12-01 00:00:00 UTC",
        up: &up,
        down: &down,
        lints: &[Lint {
            kind: LintKind::Drop,
            message: lint.to_string(),
        }],
        origin: retort_build::codegen::Origin::Models,
        replaces: &[],
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_text_anywhere_gives_a_file_that_parses_to_the_same_operations(
        message in arb::text(),
        up in proptest::collection::vec(arb::op(), 0..4),
        down in proptest::collection::vec(arb::op(), 0..3),
        lint in arb::text(),
    ) {
        let text = file_for(&message, &up, &down, &lint);
        // syn reads it as Rust (the compiler's grammar)...
        let parsed = syn::parse_file(&text);
        prop_assert!(parsed.is_ok(), "not Rust: {:?}\n{text}", parsed.err());
        // ...and the grammar the macro and the build script share gives back every field.
        let file = parse_file(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&file.message, &message);
        prop_assert_eq!(file.up, up);
        prop_assert_eq!(file.down, down);
        // Comments stay comments: every line before the block is one.
        for line in text.lines().take_while(|l| !l.starts_with("retort::migration!")) {
            prop_assert!(line.is_empty() || line.starts_with("//"), "{line:?}");
        }
    }
}

/// The members of the class that were seen: a newline in a check or comment ended up
/// outside its `//` comment.
#[test]
fn a_newline_in_a_check_or_comment_stays_in_its_comment() {
    let op: Op = Op::AddCheck {
        table: "t".into(),
        check: retort_schema::CheckConstraint {
            name: "ck".into(),
            expression: "a > 0\nfn evil() {}".into(),
            not_valid: false,
        },
        online: false,
    };
    let text = file_for("m", std::slice::from_ref(&op), &[], "two\nlines\u{202E}");
    assert!(text.contains("a > 0\\nfn evil() {}"), "{text}");
    assert!(text.contains("two\\nlines\\u{202e}"), "{text}");
    assert_eq!(parse_file(&text).unwrap().up, [op]);
}
