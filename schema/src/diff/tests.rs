use super::*;
use crate::migration::{op_tokens, parse_body};
use crate::model::{
    CheckConstraint, ForeignKey, Index, IndexKey, ReferentialAction, UniqueConstraint,
};
use crate::ops::is_narrowing;

fn col(name: &str, ty: ColumnType) -> Column {
    Column::new(name, ty)
}

fn table(name: &str, cols: Vec<Column>) -> Table {
    let mut t = Table::new(name);
    let mut id = col("id", ColumnType::Integer);
    id.autoincrement = true;
    t.columns.push(id);
    t.columns.extend(cols);
    t.primary_key = vec!["id".into()];
    t
}

/// Without hints, and with columns sorted: databases append added columns, so a
/// downgrade that re-adds a dropped column cannot restore its position.
fn stripped(s: &Schema) -> Schema {
    let mut out = Schema::from_tables(s.tables.values().map(|t| {
        let mut t = t.without_rename_hints();
        t.columns.sort_by(|a, b| a.name.cmp(&b.name));
        t
    }));
    out.objects = s.objects.clone();
    out.enums = s
        .enums
        .iter()
        .map(|(n, e)| (n.clone(), crate::model::EnumType::new(e.values.clone())))
        .collect();
    out.normalize();
    out
}

/// Applies `up` to `old` (must give `new`), then `down` (must give `old` back).
fn assert_round_trip(old: &Schema, new: &Schema) -> Diff {
    let d = diff(old, new).unwrap();
    let mut s = old.clone();
    for op in &d.up {
        op.apply(&mut s)
            .unwrap_or_else(|e| panic!("up {op:?}: {e}"));
    }
    assert_eq!(
        stripped(&s),
        stripped(new),
        "up does not reach the new schema: {:#?}",
        d.up
    );
    for op in &d.down {
        op.apply(&mut s)
            .unwrap_or_else(|e| panic!("down {op:?}: {e}"));
    }
    assert_eq!(
        stripped(&s),
        stripped(old),
        "down does not return to the old schema: {:#?}",
        d.down
    );
    // Every generated operation survives the file grammar unchanged.
    for op in d.up.iter().chain(&d.down) {
        let tokens = op_tokens(op);
        let file = parse_body(quote::quote!(revision: "r", up: [#tokens])).unwrap();
        assert_eq!(&file.up[0], op);
    }
    d
}

#[test]
fn equal_schemas_give_no_operations() {
    let s = Schema::from_tables([table("tasks", vec![col("uuid", ColumnType::Text)])]);
    assert!(diff(&s, &s).unwrap().is_empty());
}

#[test]
fn declared_renames_keep_data() {
    let old = Schema::from_tables([table("jobs", vec![col("state", ColumnType::Text)])]);
    let mut t = table("tasks", vec![col("status", ColumnType::Text)]);
    t.renamed_from = Some("jobs".into());
    t.columns[1].renamed_from = Some("state".into());
    let d = assert_round_trip(&old, &Schema::from_tables([t]));
    let names: Vec<String> = d.up.iter().map(Op::describe).collect();
    assert_eq!(
        names,
        [
            "rename table jobs to tasks",
            "rename column tasks.state to status",
            // The databases keep a constraint's name through a table rename.
            "rename primary key pk_jobs on tasks to pk_tasks"
        ]
    );
    assert!(d.lints.is_empty());
}

#[test]
fn undeclared_rename_is_never_silent() {
    let old = Schema::from_tables([table(
        "tasks",
        vec![col("state", ColumnType::Varchar { length: 20 })],
    )]);
    let new = Schema::from_tables([table("tasks", vec![col("status", ColumnType::Text)])]);
    let d = assert_round_trip(&old, &new);
    let rename = d
        .lints
        .iter()
        .find(|l| l.kind == LintKind::PossibleRename)
        .unwrap();
    assert!(
        rename
            .message
            .contains("#[column(renamed_from = \"state\")]"),
        "{}",
        rename.message
    );
    assert!(d.up.iter().any(|o| o.is_destructive(&old)));
}

#[test]
fn not_null_without_default_is_flagged() {
    let old = Schema::from_tables([table("tasks", vec![])]);
    let new = Schema::from_tables([table(
        "tasks",
        vec![col("retry_count", ColumnType::Integer)],
    )]);
    let d = assert_round_trip(&old, &new);
    assert!(d.lints.iter().any(
        |l| l.kind == LintKind::NotNull && l.message.contains("fails on a table that has rows")
    ));
}

#[test]
fn foreign_key_cycles_are_closed_after_the_tables() {
    let mut a = table("a", vec![col("b_id", ColumnType::Integer)]);
    let mut b = table("b", vec![col("a_id", ColumnType::Integer)]);
    let fk = |name: &str, c: &str, t: &str| ForeignKey {
        name: name.into(),
        columns: vec![c.into()],
        referred_table: t.into(),
        referred_columns: vec!["id".into()],
        on_delete: ReferentialAction::Cascade,
        on_update: ReferentialAction::NoAction,
        not_valid: false,
        deferral: Default::default(),
    };
    a.foreign_keys.push(fk("fk_a_b", "b_id", "b"));
    b.foreign_keys.push(fk("fk_b_a", "a_id", "a"));
    let new = Schema::from_tables([a, b]);
    let d = assert_round_trip(&Schema::new(), &new);
    assert_eq!(d.up.len(), 3);
    assert!(matches!(d.up[2], Op::AddForeignKey { .. }));
    // And dropping both works too.
    let d = assert_round_trip(&new, &Schema::new());
    assert!(matches!(
        d.up[0],
        Op::DropConstraint {
            kind: ConstraintKind::ForeignKey,
            ..
        }
    ));
}

#[test]
fn creates_follow_references_and_drops_reverse_them() {
    let parent = table("parent", vec![]);
    let mut child = table("child", vec![col("parent_id", ColumnType::Integer)]);
    child.foreign_keys.push(ForeignKey {
        name: "fk_child_parent_id_parent".into(),
        columns: vec!["parent_id".into()],
        referred_table: "parent".into(),
        referred_columns: vec!["id".into()],
        on_delete: ReferentialAction::NoAction,
        on_update: ReferentialAction::NoAction,
        not_valid: false,
        deferral: Default::default(),
    });
    let both = Schema::from_tables([parent, child]);
    let d = assert_round_trip(&Schema::new(), &both);
    assert_eq!(d.up[0].describe(), "create table parent");
    assert_eq!(d.up[1].describe(), "create table child");
    let d = assert_round_trip(&both, &Schema::new());
    assert_eq!(d.up[0].describe(), "drop table child");
    assert_eq!(d.up[1].describe(), "drop table parent");
}

#[test]
fn narrowing_is_recognised() {
    use ColumnType::*;
    assert!(is_narrowing(&Text, &Varchar { length: 10 }));
    assert!(is_narrowing(&BigInt, &Integer));
    assert!(is_narrowing(
        &Varchar { length: 20 },
        &Varchar { length: 10 }
    ));
    assert!(!is_narrowing(&Integer, &BigInt));
    assert!(!is_narrowing(&Varchar { length: 20 }, &Text));
    assert!(is_narrowing(&Text, &Integer));
}

mod properties;

/// No-op stability: edits that do not change meaning (whitespace, keyword case, comments in
/// a check or default) produce no operation at all.
#[test]
fn meaning_preserving_edits_of_expressions_are_no_change() {
    let mut c = col("amount", ColumnType::Integer);
    c.server_default = Some("0".into());
    let mut old = table("t", vec![c]);
    old.checks.push(CheckConstraint {
        name: "ck_amount".into(),
        expression: "amount >= 0 AND amount < 100".into(),
        not_valid: false,
    });
    for (check, default) in [
        ("amount>=0 and amount<100", " 0"),
        ("amount >= 0\n  AND amount < 100 -- bounds", "0 "),
        ("( amount ) >= 0 AND amount < 100", "0"),
    ] {
        let mut new = old.clone();
        new.checks[0].expression = check.into();
        new.columns[1].server_default = Some(default.into());
        let d = diff(
            &Schema::from_tables([old.clone()]),
            &Schema::from_tables([new]),
        )
        .unwrap();
        assert!(d.up.is_empty(), "{check:?} / {default:?}: {:?}", d.up);
    }
    // Parentheses that change what groups with what are an edit.
    let mut new = old.clone();
    new.checks[0].expression = "amount >= (0 AND amount) < 100".into();
    let d = diff(
        &Schema::from_tables([old.clone()]),
        &Schema::from_tables([new]),
    )
    .unwrap();
    assert_eq!(d.up.len(), 2, "{:?}", d.up);
    // A change inside a string literal is a change.
    let mut new = old.clone();
    new.columns[1].server_default = Some("1".into());
    let d = diff(&Schema::from_tables([old]), &Schema::from_tables([new])).unwrap();
    assert_eq!(d.up.len(), 1);
}

/// Renames that form cycles (a swap, a 3-cycle) and chains go through temporary names, in
/// both directions; stale hints are ignored; a hint that names nothing is refused.
#[test]
fn rename_cycles_and_chains_round_trip() {
    let old = table(
        "t",
        vec![
            col("a", ColumnType::Integer),
            col("b", ColumnType::Text),
            col("c", ColumnType::BigInt),
        ],
    );
    let hinted = |pairs: &[(&str, &str)]| {
        let mut t = old.clone();
        for c in &mut t.columns {
            if let Some((_, from)) = pairs.iter().find(|(to, _)| *to == c.name) {
                c.renamed_from = Some(from.to_string());
            }
        }
        // The new side: each column carries the type of the one it came from.
        let before = old.clone();
        for c in &mut t.columns {
            if let Some(from) = &c.renamed_from {
                c.ty = before.column(from).unwrap().ty.clone();
            }
        }
        Schema::from_tables([t])
    };
    let old_schema = Schema::from_tables([old.clone()]);
    // Swap a <-> b, the 3-cycle a -> b -> c -> a, and the chain b -> a with a dropped.
    for pairs in [
        vec![("a", "b"), ("b", "a")],
        vec![("b", "a"), ("c", "b"), ("a", "c")],
    ] {
        let new = hinted(&pairs);
        let d = assert_round_trip(&old_schema, &new);
        assert!(
            d.up.iter().all(|o| matches!(o, Op::RenameColumn { .. })),
            "{:?}",
            d.up
        );
        assert_eq!(
            d.up.len(),
            pairs.len() + 1,
            "one temporary name: {:?}",
            d.up
        );
    }
    // A swap of two tables.
    let mut x = table("x", vec![col("n", ColumnType::Integer)]);
    let mut y = table("y", vec![col("m", ColumnType::Text)]);
    let old2 = Schema::from_tables([x.clone(), y.clone()]);
    std::mem::swap(&mut x.name, &mut y.name);
    x.renamed_from = Some("x".into());
    y.renamed_from = Some("y".into());
    let d = assert_round_trip(&old2, &Schema::from_tables([x, y]));
    // Three table renames, and the primary keys' names swap through a temporary one (the
    // names are one namespace per schema).
    assert_eq!(d.up.len(), 6, "{:?}", d.up);
    // A hint that names nothing on either side is refused, naming both.
    let mut t = old.clone();
    t.columns.push(col("d", ColumnType::Integer));
    t.columns.last_mut().unwrap().renamed_from = Some("nothing".into());
    let err = diff(&old_schema, &Schema::from_tables([t])).unwrap_err();
    assert!(
        err.message
            .contains("`renamed_from = \"nothing\"` on `t.d` names no column"),
        "{err}"
    );
}

/// A check over a renamed column follows the rename, as it does in the database: nothing to
/// drop or check again. A check that also changes is dropped before the rename and re-added
/// after it, so the downgrade re-adds the old check only once the column has its old name.
#[test]
fn checks_over_renamed_columns_follow_the_rename() {
    let mut old = table("t", vec![col("a", ColumnType::Integer)]);
    old.checks.push(CheckConstraint {
        name: "ck_t".into(),
        expression: "a > 0".into(),
        not_valid: false,
    });
    let mut new = old.clone();
    new.columns[1].name = "b".into();
    new.columns[1].renamed_from = Some("a".into());
    new.checks[0].expression = "b > 0".into();
    let d = assert_round_trip(
        &Schema::from_tables([old.clone()]),
        &Schema::from_tables([new.clone()]),
    );
    let names: Vec<&str> = d.up.iter().map(|o| o.name()).collect();
    assert_eq!(names, ["rename_column"]);
    let names: Vec<&str> = d.down.iter().map(|o| o.name()).collect();
    assert_eq!(names, ["rename_column"]);
    new.checks[0].expression = "b > 1".into();
    let d = assert_round_trip(&Schema::from_tables([old]), &Schema::from_tables([new]));
    let names: Vec<&str> = d.up.iter().map(|o| o.name()).collect();
    assert_eq!(
        names,
        [
            "drop_constraint",
            "rename_column",
            "create_check_constraint"
        ]
    );
    let names: Vec<&str> = d.down.iter().map(|o| o.name()).collect();
    assert_eq!(
        names,
        [
            "drop_constraint",
            "rename_column",
            "create_check_constraint"
        ]
    );
}

/// Both directions are reviewed with the same rules: a downgrade that drops what the
/// upgrade added, or re-adds a NOT NULL column without a default, is warned about.
#[test]
fn both_directions_are_linted() {
    let mut with_default = col("n", ColumnType::Integer);
    with_default.server_default = Some("0".into());
    let old = Schema::from_tables([table("t", vec![col("gone", ColumnType::Text)])]);
    let new = Schema::from_tables([table("t", vec![with_default])]);
    let d = diff(&old, &new).unwrap();
    let messages: Vec<&str> = d.lints.iter().map(|l| l.message.as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("drops column `t.gone`")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("downgrade: drops column `t.n`")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m
                .starts_with("downgrade: adds NOT NULL column `t.gone` without a server default")),
        "{messages:?}"
    );
    // A new check and a new foreign key over a table with rows are warned about too.
    let mut checked = table("t", vec![col("gone", ColumnType::Text)]);
    checked.checks.push(CheckConstraint {
        name: "ck".into(),
        expression: "gone <> ''".into(),
        not_valid: false,
    });
    let d = diff(&old, &Schema::from_tables([checked])).unwrap();
    assert!(
        d.lints.iter().any(|l| l.kind == LintKind::Constraint),
        "{:?}",
        d.lints
    );
}

/// Names derived from a renamed table or column change with it: the indexes and constraints
/// are renamed (no drop, no build or check again), both ways; two that swap names go
/// through a temporary name.
#[test]
fn derived_names_follow_renames_without_drops() {
    let mut parent = table("parent", vec![col("code", ColumnType::Integer)]);
    parent
        .uniques
        .push(UniqueConstraint::new("uq_parent_code", ["code"]));
    parent
        .indexes
        .push(Index::on_columns("ix_parent_code", ["code"], false));
    let mut child = table("child", vec![col("parent_id", ColumnType::Integer)]);
    child.foreign_keys.push(ForeignKey {
        name: "fk_child_parent_id_parent".into(),
        columns: vec!["parent_id".into()],
        referred_table: "parent".into(),
        referred_columns: vec!["id".into()],
        on_delete: ReferentialAction::Cascade,
        on_update: ReferentialAction::NoAction,
        not_valid: false,
        deferral: Default::default(),
    });
    let old = Schema::from_tables([parent.clone(), child.clone()]);
    // The table renamed, and its column: every derived name follows.
    let mut p2 = parent.clone();
    p2.name = "account".into();
    p2.renamed_from = Some("parent".into());
    p2.columns[1].name = "number".into();
    p2.columns[1].renamed_from = Some("code".into());
    p2.uniques[0] = UniqueConstraint::new("uq_account_number", ["number"]);
    p2.indexes[0].name = "ix_account_number".into();
    p2.indexes[0].keys = vec![IndexKey::column("number")];
    let mut c2 = child.clone();
    c2.foreign_keys[0].name = "fk_child_parent_id_account".into();
    c2.foreign_keys[0].referred_table = "account".into();
    let d = assert_round_trip(&old, &Schema::from_tables([p2, c2]));
    let names: Vec<String> = d.up.iter().map(|o| o.describe()).collect();
    assert_eq!(
        names,
        [
            "rename table parent to account",
            "rename column account.code to number",
            "rename foreign key fk_child_parent_id_parent on child to fk_child_parent_id_account",
            "rename index ix_parent_code on account to ix_account_number",
            "rename primary key pk_parent on account to pk_account",
            "rename unique constraint uq_parent_code on account to uq_account_number",
        ],
        "{:#?}",
        d.up
    );
    assert!(
        d.down.iter().all(|o| o.name().starts_with("rename_")),
        "{:#?}",
        d.down
    );
    // Two indexes that swap names.
    let mut two = parent.clone();
    two.columns.push(col("other", ColumnType::Integer));
    two.indexes
        .push(Index::on_columns("ix_b", ["other"], false));
    let mut swapped = two.clone();
    swapped.indexes[0].name = "ix_b".into();
    swapped.indexes[1].name = "ix_parent_code".into();
    let d = assert_round_trip(&Schema::from_tables([two]), &Schema::from_tables([swapped]));
    assert_eq!(d.up.len(), 3, "{:#?}", d.up);
    assert!(
        d.up.iter().all(|o| o.name() == "rename_index"),
        "{:#?}",
        d.up
    );
}

/// A constraint declared `not_valid` that becomes validated (or the reverse) is made again,
/// checks as foreign keys: without an operation, `check` would report the database's
/// constraint as checked another way than the models say, on a database retort made.
#[test]
fn a_change_of_validity_makes_the_constraint_again() {
    let parent = table("p", vec![]);
    let mut old = table("t", vec![col("p_id", ColumnType::Integer)]);
    old.checks.push(CheckConstraint {
        name: "ck_t".into(),
        expression: "p_id > 0".into(),
        not_valid: true,
    });
    old.foreign_keys.push(ForeignKey {
        name: "fk_t_p".into(),
        columns: vec!["p_id".into()],
        referred_table: "p".into(),
        referred_columns: vec!["id".into()],
        on_delete: ReferentialAction::NoAction,
        on_update: ReferentialAction::NoAction,
        not_valid: true,
        deferral: Default::default(),
    });
    for (check, key) in [(true, false), (false, true), (false, false)] {
        let mut new = old.clone();
        new.checks[0].not_valid = check;
        new.foreign_keys[0].not_valid = key;
        for (from, to) in [(&old, &new), (&new, &old)] {
            let d = diff(
                &Schema::from_tables([parent.clone(), from.clone()]),
                &Schema::from_tables([parent.clone(), to.clone()]),
            )
            .unwrap();
            let changed = usize::from(from.checks[0].not_valid != to.checks[0].not_valid)
                + usize::from(from.foreign_keys[0].not_valid != to.foreign_keys[0].not_valid);
            assert_eq!(d.up.len(), 2 * changed, "{:?}", d.up);
            let mut after = Schema::from_tables([parent.clone(), from.clone()]);
            for op in &d.up {
                op.apply(&mut after).unwrap();
            }
            assert_eq!(after.tables["t"], *to, "{:?}", d.up);
        }
    }
}
