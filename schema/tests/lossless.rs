//! Every path an operation takes is lossless: the `migration!` grammar (file → macro and
//! build script), the JSON of the snapshot, and the checksum's canonical form. Over every
//! operation and every field, with hostile strings. (What `migration!` compiles operations
//! into is checked by rustc itself, in `tests/compiled_ops.rs`.)

#[path = "support/arb.rs"]
mod arb;

use proptest::prelude::*;
use quote::quote;
use retort_schema::migration::{op_tokens, parse_body, MigrationFile};
use retort_schema::ops::{ColumnChanges, Op};

fn through_grammar(ops: &[Op]) -> Result<Vec<Op>, String> {
    let rendered = ops.iter().map(op_tokens);
    // Outside a transaction, so `create_index(…, concurrently = true)` is accepted.
    let body = quote! {
        revision: "r1",
        parents: [],
        message: "m",
        atomic: false,
        up: [#(#rendered),*],
        down: [],
    };
    parse_body(body).map(|f| f.up).map_err(|e| e.to_string())
}

fn through_json(ops: &[Op]) -> Vec<Op> {
    let json = serde_json::to_string(ops).unwrap();
    serde_json::from_str(&json).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn grammar_round_trip_is_lossless(ops in proptest::collection::vec(arb::op(), 1..4)) {
        prop_assert_eq!(through_grammar(&ops).unwrap(), ops);
    }

    #[test]
    fn every_operation_is_one_the_grammar_lists(op in arb::op()) {
        // The list an unknown operation's message offers names every one there is.
        prop_assert!(retort_schema::migration::OPERATIONS.contains(&op.name()), "{}", op.name());
    }

    #[test]
    fn embedded_json_round_trip_is_lossless(ops in proptest::collection::vec(arb::op(), 1..4)) {
        prop_assert_eq!(through_json(&ops), ops);
    }

    #[test]
    fn canonical_form_tells_every_two_operations_apart(a in arb::op(), b in arb::op()) {
        let file = |op: &Op| MigrationFile {
            revision: "r".into(),
            parents: vec![],
            message: "m".into(),
            up: vec![op.clone()],
            down: vec![],
            atomic: true,
            reviewed_locks: vec![],
            replaces: Vec::new(),
            elidable: false,
        };
        if a != b {
            prop_assert_ne!(file(&a).checksum(), file(&b).checksum());
        } else {
            prop_assert_eq!(file(&a).checksum(), file(&b).checksum());
        }
    }
}

/// The member of the class that was seen: dropping a default or a comment is not "no change".
#[test]
fn dropping_a_default_or_comment_survives_every_path() {
    for changes in [
        ColumnChanges {
            server_default: Some(None),
            ..Default::default()
        },
        ColumnChanges {
            comment: Some(None),
            ..Default::default()
        },
    ] {
        let op = Op::AlterColumn {
            table: "tasks".into(),
            column: "retry_count".into(),
            changes,
            online: false,
        };
        let ops = vec![op];
        assert_eq!(through_json(&ops), ops);
        assert_eq!(through_grammar(&ops).unwrap(), ops);
    }
}

/// The message and formatting do not enter the checksum; the operations do.
#[test]
fn checksum_ignores_the_message_only() {
    let a = MigrationFile {
        revision: "r".into(),
        parents: vec!["p".into()],
        message: "one".into(),
        up: vec![Op::DropTable { table: "t".into() }],
        down: vec![],
        atomic: true,
        reviewed_locks: vec![],
        replaces: Vec::new(),
        elidable: false,
    };
    let mut b = a.clone();
    b.message = "two".into();
    assert_eq!(a.checksum(), b.checksum());
    // A lock review added after the migration was applied changes nothing applied.
    b.reviewed_locks = vec!["postgres: drop_table t".into()];
    assert_eq!(a.checksum(), b.checksum());
    b.parents = vec!["q".into()];
    assert_ne!(a.checksum(), b.checksum());
    assert!(a.checksum().starts_with("v1:"));
}
