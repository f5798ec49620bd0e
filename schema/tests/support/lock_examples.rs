//! One example of each operation on an existing table, and the schema they run on: the
//! lock table of `docs/online-safety.md` is rendered from them (`schema/tests/
//! online_safety.rs`), and `runtime/tests/lock_model.rs` runs them on a real server to
//! observe the locks they take.
#![allow(dead_code)]

use retort_schema::model::{
    CheckConstraint, Column, ColumnType, ForeignKey, Index, UniqueConstraint,
};
use retort_schema::ops::{ColumnChanges, ConstraintKind, Op};
use retort_schema::{Schema, Table};

/// The tables the examples change: `tasks` (with rows in the runtime test) and `users`.
pub fn before() -> Schema {
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
pub fn examples() -> Vec<(&'static str, Op)> {
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
                concurrently: false,
            },
        ),
        (
            "drop an index concurrently",
            Op::DropIndex {
                table: t(),
                name: "ix_tasks_n".into(),
                concurrently: true,
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
