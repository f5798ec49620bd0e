//! The lock model against a real PostgreSQL: each example of `docs/online-safety.md`'s lock
//! table that runs in a transaction is run, uncommitted, on a table with a row, and the
//! server is asked what it holds (`pg_locks`) and whether a write and a read from another
//! session wait. The strongest lock held on the table or one of its indexes (renaming an
//! index locks the index alone) must be the model's, and a write (a read) must wait exactly
//! when the model says writes (reads) wait. The forms that run
//! outside a transaction (`CONCURRENTLY`, `online = true`, a backfill) cannot be held open
//! this way; the stall benchmark measures them (`docs/performance.md`).

#[path = "../../schema/tests/support/lock_examples.rs"]
mod lock_examples;
mod support;

use retort_schema::ops::{ConstraintKind, Op};
use retort_schema::sql::locks::{lock_costs, Blocks};
use retort_schema::sql::{render, render_ops, Dialect, Step};
use retort_schema::Schema;
use support::TestDb;

/// PostgreSQL's table lock modes, weakest first, as `pg_locks.mode` names them.
const MODES: [&str; 8] = [
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
];

/// `SHARE ROW EXCLUSIVE` (the model's spelling, up to a comma) as `pg_locks` spells it.
fn mode_name(lock: &str) -> String {
    let words = lock.split(',').next().unwrap_or(lock);
    let mut name: String = words
        .split_whitespace()
        .map(|w| {
            let w = w.to_ascii_lowercase();
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    name.push_str("Lock");
    name
}

/// Whether `sql`, from a session of its own, gives up waiting for a lock within 300 ms.
fn waits(db: &TestDb, sql: &str) -> bool {
    match db.try_exec(&format!("SET lock_timeout = '300ms'; {sql}")) {
        Ok(()) => false,
        Err(e) if e.contains("lock timeout") => true,
        Err(e) => panic!("{sql}: {e}"),
    }
}

/// The statements that make `schema` from nothing.
fn create(schema: &Schema) -> Vec<String> {
    let mut ops: Vec<Op> = vec![Op::CreateEnum {
        name: "task_status".into(),
        values: vec!["open".into(), "done".into()],
    }];
    for t in schema.tables.values() {
        let mut bare = t.clone();
        bare.indexes.clear();
        ops.push(Op::CreateTable { table: bare });
        ops.extend(t.indexes.iter().map(|i| Op::CreateIndex {
            table: t.name.clone(),
            index: i.clone(),
            concurrently: false,
        }));
    }
    render_ops(&ops, &mut Schema::default(), Dialect::Postgres)
        .unwrap()
        .into_iter()
        .flatten()
        .filter_map(|s| match s {
            Step::Sql(sql) => Some(sql),
            _ => None,
        })
        .collect()
}

#[test]
fn each_operation_takes_the_lock_the_model_says_and_holds_up_whom_it_says() {
    let Some(server) = TestDb::on_server("RETORT_PG_URL") else {
        return;
    };
    let mut observed = 0;
    for (what, op) in lock_examples::examples() {
        let mut before = lock_examples::before();
        // What the operation needs first: a check to drop.
        let mut first = Vec::new();
        if let Op::DropConstraint {
            kind: ConstraintKind::Check,
            ..
        } = &op
        {
            let (_, add) = lock_examples::examples()
                .into_iter()
                .find(|(w, _)| *w == "add a check")
                .unwrap();
            first.push(add);
        }
        let costs = lock_costs(&op, Dialect::Postgres, &before);
        let Some(cost) = costs.iter().find(|c| c.table == "tasks") else {
            continue; // nothing held on the table (an enum value added in place)
        };
        if op.outside_transaction() {
            continue;
        }
        let db = server.another();
        for sql in create(&before) {
            db.exec(&sql);
        }
        db.exec("INSERT INTO users (id) VALUES (1); INSERT INTO tasks (id, title, n, note, status) VALUES (1, 'a', 1, 'x', 'open')");
        for op in &first {
            for step in render(op, &before, Dialect::Postgres).unwrap() {
                if let Step::Sql(sql) = step {
                    db.exec(&sql);
                }
            }
            op.apply(&mut before).unwrap();
        }
        // The operation, in a transaction left open.
        let mut ddl = db.backend();
        ddl.execute("BEGIN").unwrap();
        for step in render(&op, &before, Dialect::Postgres).unwrap() {
            match step {
                Step::Sql(sql) => ddl
                    .execute(&sql)
                    .unwrap_or_else(|e| panic!("{what}: {sql}: {e}")),
                Step::Verify { .. } => {}
                other => panic!("{what}: {other:?}"),
            }
        }
        let pid = ddl
            .query_sample("SELECT pg_backend_pid()::text AS v")
            .unwrap()
            .unwrap();
        let held = db.texts(&format!(
            "SELECT l.mode AS v FROM pg_locks l WHERE l.pid = {pid} AND l.granted AND (l.relation = 'tasks'::regclass OR l.relation IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'tasks'::regclass))"
        ));
        let strongest = held
            .iter()
            .flatten()
            .filter_map(|m| MODES.iter().position(|x| x == m))
            .max()
            .map(|i| MODES[i]);
        assert_eq!(
            strongest,
            Some(mode_name(cost.lock).as_str()),
            "{what}: the model says {}, the server holds {held:?}",
            cost.lock
        );
        let write = waits(
            &db,
            "INSERT INTO tasks (id, title, n, note, status) VALUES (2, 'b', 1, 'y', 'open')",
        );
        let read = waits(&db, "SELECT COUNT(*) FROM tasks");
        assert_eq!(
            (write, read),
            match cost.blocks {
                Blocks::Nothing => (false, false),
                Blocks::Writes => (true, false),
                Blocks::ReadsAndWrites => (true, true),
            },
            "{what}: (a write waits, a read waits) against the model's {:?}",
            cost.blocks
        );
        ddl.execute("ROLLBACK").unwrap();
        observed += 1;
    }
    // Every example that runs in a transaction and locks the table was observed: 31 less
    // the 7 online forms and the enum value PostgreSQL adds to the type alone.
    assert_eq!(observed, 23, "examples observed");
}
