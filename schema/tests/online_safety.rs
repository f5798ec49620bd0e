//! The lock table of `docs/online-safety.md` is the code's: this test renders what
//! `retort_schema::sql::locks::lock_costs` says for one example of each operation on an
//! existing table, per database, and fails when the document says otherwise
//! (`RETORT_BLESS=1` writes it).

use retort_schema::model::{
    CheckConstraint, Column, ColumnType, ForeignKey, Index, UniqueConstraint,
};
use retort_schema::ops::{ColumnChanges, ConstraintKind, Op};
use retort_schema::sql::locks::{lock_costs, LockCost};
use retort_schema::sql::Dialect;
use retort_schema::{Schema, Table};

fn before() -> Schema {
    let mut tasks = Table::new("tasks");
    tasks.columns.push(Column::new("id", ColumnType::Integer));
    tasks
        .columns
        .push(Column::new("title", ColumnType::Varchar { length: 100 }));
    tasks.columns.push(Column::new("n", ColumnType::Integer));
    let mut note = Column::new("note", ColumnType::Text);
    note.nullable = true;
    tasks.columns.push(note);
    tasks.columns.push(Column::new(
        "status",
        ColumnType::Enum {
            name: "task_status".into(),
            values: vec!["open".into(), "done".into()],
        },
    ));
    tasks.primary_key = vec!["id".into()];
    tasks
        .indexes
        .push(Index::on_columns("ix_tasks_n", ["n"], false));
    let mut users = Table::new("users");
    users.columns.push(Column::new("id", ColumnType::Integer));
    users.primary_key = vec!["id".into()];
    Schema::from_tables([tasks, users])
}

fn column(name: &str, ty: ColumnType, f: impl Fn(&mut Column)) -> Column {
    let mut c = Column::new(name, ty);
    c.nullable = true;
    f(&mut c);
    c
}

fn alter(column: &str, f: impl Fn(&mut ColumnChanges)) -> Op {
    let mut changes = ColumnChanges::default();
    f(&mut changes);
    Op::AlterColumn {
        table: "tasks".into(),
        column: column.into(),
        changes,
        online: false,
    }
}

/// The operation in its online form (`online = true`).
fn online(mut op: Op) -> Op {
    match &mut op {
        Op::AlterColumn { online, .. }
        | Op::AddUnique { online, .. }
        | Op::AddForeignKey { online, .. }
        | Op::AddCheck { online, .. } => *online = true,
        _ => unreachable!("only these have an online form"),
    }
    op
}

fn foreign_key(not_valid: bool) -> Op {
    Op::AddForeignKey {
        table: "tasks".into(),
        foreign_key: ForeignKey {
            name: "fk_tasks_owner_users".into(),
            columns: vec!["n".into()],
            referred_table: "users".into(),
            referred_columns: vec!["id".into()],
            on_delete: Default::default(),
            on_update: Default::default(),
            not_valid,
            deferral: Default::default(),
        },
        online: false,
    }
}

fn check(not_valid: bool) -> Op {
    Op::AddCheck {
        table: "tasks".into(),
        check: CheckConstraint {
            name: "ck_tasks_n".into(),
            expression: "n > 0".into(),
            not_valid,
        },
        online: false,
    }
}

/// One example of each operation on `tasks`, as the document lists them.
fn examples() -> Vec<(&'static str, Op)> {
    let t = || "tasks".to_string();
    let index = |concurrently| Op::CreateIndex {
        table: t(),
        index: Index::on_columns("ix_tasks_title", ["title"], false),
        concurrently,
    };
    vec![
        (
            "add a nullable column",
            Op::AddColumn {
                table: t(),
                column: column("c", ColumnType::Integer, |_| {}),
            },
        ),
        (
            "add a column with a constant default",
            Op::AddColumn {
                table: t(),
                column: column("c", ColumnType::Integer, |c| {
                    c.nullable = false;
                    c.server_default = Some("0".into());
                }),
            },
        ),
        (
            "add a column with a volatile default",
            Op::AddColumn {
                table: t(),
                column: column("c", ColumnType::Double, |c| {
                    c.server_default = Some("(random())".into())
                }),
            },
        ),
        (
            "add an auto-increment column",
            Op::AddColumn {
                table: t(),
                column: column("c", ColumnType::BigInt, |c| {
                    c.nullable = false;
                    c.autoincrement = true;
                }),
            },
        ),
        (
            "drop a column",
            Op::DropColumn {
                table: t(),
                column: "note".into(),
            },
        ),
        (
            "rename a column",
            Op::RenameColumn {
                table: t(),
                from: "note".into(),
                to: "body".into(),
            },
        ),
        (
            "make a varchar longer",
            alter("title", |c| {
                c.ty = Some(ColumnType::Varchar { length: 200 })
            }),
        ),
        (
            "change a type (integer to bigint)",
            alter("n", |c| c.ty = Some(ColumnType::BigInt)),
        ),
        (
            "make a column NOT NULL",
            alter("note", |c| c.nullable = Some(false)),
        ),
        (
            "make a column NOT NULL online",
            online(alter("note", |c| c.nullable = Some(false))),
        ),
        (
            "fill a column in batches (backfill)",
            Op::Backfill {
                table: t(),
                column: "note".into(),
                value: "'none'".into(),
                batch: 10_000,
            },
        ),
        (
            "make a column nullable",
            alter("n", |c| c.nullable = Some(true)),
        ),
        (
            "change a default",
            alter("n", |c| c.server_default = Some(Some("1".into()))),
        ),
        ("create an index", index(false)),
        ("create an index concurrently", index(true)),
        (
            "drop an index",
            Op::DropIndex {
                table: t(),
                name: "ix_tasks_n".into(),
            },
        ),
        (
            "rename an index",
            Op::RenameIndex {
                table: t(),
                from: "ix_tasks_n".into(),
                to: "ix_tasks_number".into(),
            },
        ),
        (
            "add a unique constraint",
            Op::AddUnique {
                table: t(),
                unique: UniqueConstraint::new("uq_tasks_title", ["title"]),
                online: false,
            },
        ),
        (
            "add a unique constraint online",
            online(Op::AddUnique {
                table: t(),
                unique: UniqueConstraint::new("uq_tasks_title", ["title"]),
                online: false,
            }),
        ),
        ("add a foreign key", foreign_key(false)),
        ("add a foreign key online", online(foreign_key(false))),
        ("add a foreign key NOT VALID", foreign_key(true)),
        ("add a check", check(false)),
        ("add a check online", online(check(false))),
        ("add a check NOT VALID", check(true)),
        (
            "drop a check",
            Op::DropConstraint {
                table: t(),
                name: "ck_tasks_n".into(),
                kind: ConstraintKind::Check,
            },
        ),
        (
            "add an enum value at the end",
            Op::AlterEnum {
                name: "task_status".into(),
                from: vec!["open".into(), "done".into()],
                to: vec!["open".into(), "done".into(), "archived".into()],
                renamed: vec![],
            },
        ),
        (
            "remove an enum value",
            Op::AlterEnum {
                name: "task_status".into(),
                from: vec!["open".into(), "done".into()],
                to: vec!["open".into()],
                renamed: vec![],
            },
        ),
        (
            "rename the table",
            Op::RenameTable {
                from: t(),
                to: "jobs".into(),
            },
        ),
        ("drop the table", Op::DropTable { table: t() }),
    ]
}

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
