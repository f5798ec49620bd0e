//! A database that takes no writes (PostgreSQL with `default_transaction_read_only`, as a
//! hot standby is; MariaDB with `read_only = ON`, as a replica is): every command that
//! writes — upgrade, downgrade, stamp, resolve — is refused before it takes the lock, naming
//! the reason, and the schema and version rows stay exactly as they were; `current`,
//! `history` (the applied rows) and `check` work.
//!
//! MariaDB's flag is server-wide: this binary holds the only test that sets it, and puts it
//! back on the way out, panic or not.

mod support;

use retort::schema::sql::Dialect;
use retort::{Error, Graph, Options, Runner};
use support::{rev, TestDb};

fn graph() -> Graph {
    Graph::from_revisions([
        rev(
            "r1",
            None,
            r#"create_table("tasks", column("id", integer, autoincrement), column("title", varchar(50)), primary_key(["id"]))"#,
            r#"drop_table("tasks")"#,
        ),
        rev(
            "r2",
            Some("r1"),
            r#"add_column("tasks", column("note", text, nullable))"#,
            r#"drop_column("tasks", "note")"#,
        ),
        rev(
            "r3",
            Some("r2"),
            r#"create_index("ix_tasks_title", "tasks", ["title"])"#,
            r#"drop_index("ix_tasks_title", "tasks")"#,
        ),
    ])
}

/// A command run on a fresh runner.
type Command = Box<dyn Fn(&mut Runner) -> retort::Result<()>>;

/// Puts MariaDB's `read_only` back however the test ends.
struct Writable<'a>(&'a TestDb);

impl Drop for Writable<'_> {
    fn drop(&mut self) {
        if self.0.dialect == Dialect::Mysql {
            let _ = self.0.try_exec("SET GLOBAL read_only = 0");
        }
    }
}

#[test]
fn commands_that_write_are_refused_on_a_read_only_server_and_change_nothing() {
    let graph = graph();
    for db in TestDb::servers() {
        let name = db.dialect.name();
        let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        runner.upgrade("r2").unwrap();
        drop(runner);
        db.exec("INSERT INTO tasks (title) VALUES ('a')");
        let _restore = Writable(&db);
        let said = match db.dialect {
            Dialect::Postgres => {
                let database = db.texts("SELECT current_database() AS v")[0]
                    .clone()
                    .unwrap();
                db.exec(&format!(
                    "ALTER DATABASE {database} SET default_transaction_read_only = on"
                ));
                "read-only (default_transaction_read_only is on)"
            }
            _ => {
                db.exec("SET GLOBAL read_only = 1");
                "read-only (read_only = ON): a replica"
            }
        };
        let before = {
            let mut r = Runner::connect(&graph, &db.url, Options::default()).unwrap();
            (r.applied_rows().unwrap(), r.introspect().unwrap())
        };
        let refusals: [(&str, Command); 5] = [
            ("upgrade", Box::new(|r| r.upgrade("head").map(drop))),
            ("upgrade", Box::new(|r| r.upgrade("r2").map(drop))),
            ("downgrade", Box::new(|r| r.downgrade("base").map(drop))),
            ("stamp", Box::new(|r| r.stamp("r3").map(drop))),
            ("resolve", Box::new(|r| r.resolve("r2", true))),
        ];
        for (command, run) in &refusals {
            let mut r = Runner::connect(&graph, &db.url, Options::default()).unwrap();
            match run(&mut r) {
                Err(e @ Error::ReadOnly { .. }) => {
                    let text = e.to_string();
                    for part in [
                        said,
                        &format!("`{command}` writes"),
                        "nothing was changed",
                        "primary",
                    ] {
                        assert!(text.contains(part), "{name} {command}: `{part}` in: {text}");
                    }
                }
                other => panic!("{name} {command}: expected the read-only refusal, got {other:?}"),
            }
        }
        // What reads works there, and nothing moved.
        let mut r = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        assert_eq!(r.current().unwrap(), ["r2"], "{name}");
        let after = (r.applied_rows().unwrap(), r.introspect().unwrap());
        assert_eq!(
            format!("{:?}", after.0),
            format!("{:?}", before.0),
            "{name}: version rows"
        );
        assert_eq!(after.1, before.1, "{name}: schema");
        let expected = graph
            .schema_at(&["r1".to_string(), "r2".to_string()].into())
            .unwrap();
        assert_eq!(
            r.differences(&expected).unwrap(),
            Vec::<String>::new(),
            "{name}: check"
        );
        drop(r);
        // Writable again, the same upgrade goes through.
        match db.dialect {
            Dialect::Postgres => {
                let database = db.texts("SELECT current_database() AS v")[0]
                    .clone()
                    .unwrap();
                // One session made writable, then the database's default put back.
                let mut b = db.backend();
                b.execute("SET default_transaction_read_only = off")
                    .unwrap();
                b.execute(&format!(
                    "ALTER DATABASE {database} RESET default_transaction_read_only"
                ))
                .unwrap();
            }
            _ => db.exec("SET GLOBAL read_only = 0"),
        }
        let mut r = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        assert_eq!(r.upgrade("head").unwrap(), ["r3"], "{name}");
    }
}
