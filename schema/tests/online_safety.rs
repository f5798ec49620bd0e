//! The lock table of `docs/online-safety.md` is the code's: this test renders what
//! `retort_schema::sql::locks::lock_costs` says for one example of each operation on an
//! existing table, per database, and fails when the document says otherwise
//! (`RETORT_BLESS=1` writes it).

#[path = "support/lock_examples.rs"]
mod lock_examples;

use lock_examples::{before, examples};
use retort_schema::ops::Op;
use retort_schema::sql::locks::{lock_costs, LockCost};
use retort_schema::sql::Dialect;

fn cell(costs: &[LockCost], dialect: Dialect) -> String {
    let Some(c) = costs.iter().find(|c| c.table == "tasks").or(costs.first()) else {
        return "— (the type only)".into();
    };
    // The build's review warns on the servers only.
    let mark = match c.holds_up_the_table() && dialect != Dialect::Sqlite {
        true => " **(warned)**",
        false => "",
    };
    format!("{} · {} · {}{mark}", c.lock, c.blocks.says(), c.work.says())
}

fn table() -> String {
    let before = before();
    let mut out =
        String::from("| operation | PostgreSQL | MySQL / MariaDB | SQLite |\n|---|---|---|---|\n");
    for (what, op) in examples() {
        let cells: Vec<String> = [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite]
            .into_iter()
            .map(|d| cell(&lock_costs(&op, d, &before), d))
            .collect();
        out.push_str(&format!("| {what} | {} |\n", cells.join(" | ")));
    }
    out
}

const START: &str = "<!-- lock table: written by schema/tests/online_safety.rs -->\n";
const END: &str = "<!-- end of lock table -->";

#[test]
fn the_documented_lock_table_is_the_codes() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/online-safety.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (head, rest) = doc
        .split_once(START)
        .expect("the document marks the lock table");
    let (_, tail) = rest
        .split_once(END)
        .expect("the document marks the table's end");
    let want = table();
    let written = format!("{head}{START}{want}{END}{tail}");
    if std::env::var("RETORT_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &written).unwrap();
        return;
    }
    assert!(
        written == doc,
        "docs/online-safety.md's lock table is not what the code says; run with RETORT_BLESS=1 to write it:\n{want}"
    );
}

/// Every operation touching an existing table has an answer on each server (the dialects'
/// `match`es are exhaustive: a new operation must be given one), and every warned one
/// says its online form or why there is none.
#[test]
fn every_example_has_a_cost_and_every_warned_cost_says_what_to_do() {
    let before = before();
    for (what, op) in examples() {
        for d in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
            let costs = lock_costs(&op, d, &before);
            // PostgreSQL adds an enum value to the type alone; SQLite has no enum types and
            // renames a table in the catalog.
            let in_place = op.enum_change_in_place() == Some((true, true));
            let none_expected = match op {
                Op::AlterEnum { .. } => {
                    d == Dialect::Sqlite || (d == Dialect::Postgres && in_place)
                }
                Op::RenameTable { .. } => d == Dialect::Sqlite,
                _ => false,
            };
            assert_eq!(
                costs.is_empty(),
                none_expected,
                "{what} on {}: {costs:?}",
                d.name()
            );
            for c in costs
                .iter()
                .filter(|c| c.holds_up_the_table() && d != Dialect::Sqlite)
            {
                assert!(
                    c.online.is_some() || c.note.is_some(),
                    "{what} on {}: {c:?}",
                    d.name()
                );
            }
        }
    }
}
