//! The build's lock review, one case per kind of warning: a model edit on an existing
//! table, built for PostgreSQL and MySQL, prints what each server locks and the online form
//! (and puts it in the new file's header); what a server does online is not warned of.
//! Listing a warning's key in the migration's `reviewed_locks` accepts it; with
//! `RETORT_STRICT_LOCKS` the build fails on one that is not, and writes nothing.

mod support;

use retort_build::Error;
use retort_schema::sql::Dialect;
use support::Crate;

const SERVERS: [Dialect; 2] = [Dialect::Postgres, Dialect::Mysql];

/// Users, and tasks with a few columns to change.
fn models(task_extra: &str, amount: &str, note: &str, task_attrs: &str) -> String {
    format!(
        r#"
#[derive(Table)]
pub struct User {{
    #[column(primary_key, autoincrement)]
    pub id: i32,
}}

#[derive(Table)]
{task_attrs}
pub struct Task {{
    #[column(primary_key, autoincrement)]
    pub id: i32,
    {amount}
    {note}
    pub user_id: Option<i32>,
    {task_extra}
}}
"#
    )
}

const AMOUNT: &str = "pub amount: i32,";
const NOTE: &str = "pub note: Option<String>,";

fn base() -> String {
    models("", AMOUNT, NOTE, "")
}

/// A crate at the base models, then the edit built for both servers with the plain forms
/// (`RETORT_ONLINE_DDL=off`): the warnings.
fn warnings_for(edited: &str) -> (Vec<String>, Crate) {
    let c = Crate::new(&base());
    c.generate_for(1_800_000_000, &SERVERS).unwrap();
    c.models(edited);
    let report = c.generate_plain(1_800_000_060, &SERVERS).unwrap();
    let lock_lines = report
        .warnings
        .iter()
        .filter(|w| w.contains("reviewed_locks"))
        .cloned()
        .collect();
    (lock_lines, c)
}

/// The newest migration file.
fn newest(c: &Crate) -> std::path::PathBuf {
    c.state()
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .max()
        .unwrap()
}

/// A model edit: its name, the edited models, what PostgreSQL's warning says, and what
/// MySQL's says (`None` where MySQL does it online).
type Case = (
    &'static str,
    String,
    &'static [&'static str],
    Option<&'static [&'static str]>,
);

#[test]
fn each_kind_of_lock_warning_names_the_lock_and_the_online_form() {
    // (the edit, what PostgreSQL's warning says, what MySQL's says: None where it is online)
    let cases: Vec<Case> = vec![
        (
            "index",
            models("", "#[column(index)] pub amount: i32,", NOTE, ""),
            &[
                "create_index tasks.ix_tasks_amount",
                "takes SHARE on `tasks`",
                "builds an index from every row",
                "writes wait",
                "concurrently = true",
            ],
            None,
        ),
        (
            "unique",
            models("", "#[column(unique)] pub amount: i32,", NOTE, ""),
            &[
                "takes ACCESS EXCLUSIVE on `tasks`",
                "reads and writes wait",
                "USING INDEX",
            ],
            None,
        ),
        (
            "foreign key",
            models("", AMOUNT, NOTE, "").replace(
                "pub user_id: Option<i32>,",
                r#"#[column(references = "users(id)")] pub user_id: Option<i32>,"#,
            ),
            &[
                "create_foreign_key tasks.fk_tasks_user_id_users",
                "takes SHARE ROW EXCLUSIVE on `tasks`",
                "reads every row to check it",
                "NOT VALID",
            ],
            Some(&[
                "ALGORITHM=COPY",
                "rewrites the whole table",
                "foreign_key_checks",
            ]),
        ),
        (
            "check",
            models(
                "",
                AMOUNT,
                NOTE,
                r#"#[table(check(name = "ck_tasks_amount", expr = "amount > 0"))]"#,
            ),
            &[
                "create_check_constraint tasks.ck_tasks_amount",
                "takes ACCESS EXCLUSIVE on `tasks`",
                "reads every row",
                "NOT VALID",
            ],
            Some(&["ALGORITHM=COPY", "There is no online form"]),
        ),
        (
            "not null",
            models("", AMOUNT, "pub note: String,", ""),
            &[
                "alter_column tasks.note",
                "ACCESS EXCLUSIVE",
                "reads every row",
                "IS NOT NULL) NOT VALID",
            ],
            None,
        ),
        (
            "type change",
            models("", "pub amount: i64,", NOTE, ""),
            &[
                "alter_column tasks.amount",
                "rewrites the whole table",
                "reads and writes wait",
                "swap the names",
            ],
            Some(&["ALGORITHM=COPY", "writes wait"]),
        ),
        (
            "volatile default",
            models(
                r#"#[column(server_default = "(random())")] pub score: f64,"#,
                AMOUNT,
                NOTE,
                "",
            ),
            &[
                "add_column tasks.score",
                "rewrites the whole table",
                "in batches",
            ],
            None,
        ),
    ];
    for (what, edited, pg, my) in cases {
        let (warnings, c) = warnings_for(&edited);
        let on = |d: &str| -> Vec<&String> {
            warnings
                .iter()
                .filter(|w| w.contains(&format!(": {d}: ")))
                .collect()
        };
        let pg_lines = on("postgres");
        assert_eq!(pg_lines.len(), 1, "{what}: {warnings:#?}");
        for part in pg {
            assert!(
                pg_lines[0].contains(part),
                "{what}: `{part}` in {}",
                pg_lines[0]
            );
        }
        match my {
            None => assert!(
                on("mysql").is_empty(),
                "{what}: online on MySQL: {warnings:#?}"
            ),
            Some(parts) => {
                let my_lines = on("mysql");
                assert_eq!(my_lines.len(), 1, "{what}: {warnings:#?}");
                for part in parts {
                    assert!(
                        my_lines[0].contains(part),
                        "{what}: `{part}` in {}",
                        my_lines[0]
                    );
                }
            }
        }
        // The file's header shows them too.
        let file = newest(&c);
        let written = std::fs::read_to_string(&file).unwrap();
        assert!(
            written.contains("postgres: `"),
            "{what}: header:\n{written}"
        );
        // Strict mode fails the build with each of them; acknowledged, they are gone.
        let open = unreviewed(&c);
        assert_eq!(
            open.len(),
            pg_lines.len() + on("mysql").len(),
            "{what}: {open:#?}"
        );
        let keys: Vec<String> = warnings.iter().filter_map(|w| review_key(w)).collect();
        assert_eq!(keys.len(), open.len(), "{what}: {warnings:#?}");
        for key in &keys {
            assert!(
                open.iter().any(|w| w.contains(key.as_str())),
                "{what}: {key}: {open:#?}"
            );
        }
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        review(&file, &keys);
        assert_eq!(unreviewed(&c), Vec::<String>::new(), "{what}: acknowledged");
    }
}

/// The key a lock warning asks to add to `reviewed_locks` (`postgres: create_index
/// tasks.ix_…`).
fn review_key(warning: &str) -> Option<String> {
    let at = warning.find("add \"")? + "add \"".len();
    let len = warning[at..].find('"')?;
    Some(warning[at..at + len].to_string())
}

/// The warnings strict mode fails the build with, at the crate's state.
fn unreviewed(c: &Crate) -> Vec<String> {
    match c.generate_with(1_800_000_120, &SERVERS, true) {
        Ok(_) => Vec::new(),
        Err(Error::UnreviewedLocks { warnings, writing }) => {
            assert!(!writing);
            warnings
        }
        Err(other) => panic!("{other}"),
    }
}

/// Writes `keys` as the migration file's `reviewed_locks`.
fn review(file: &std::path::Path, keys: &[&str]) {
    let text = std::fs::read_to_string(file).unwrap();
    let quoted: Vec<String> = keys.iter().map(|k| format!("{k:?}")).collect();
    let reviewed = format!("    reviewed_locks: [{}],\n    up:", quoted.join(", "));
    let text = match text.find("    reviewed_locks:") {
        Some(at) => {
            let end = text[at..].find("    up:").unwrap() + at;
            format!(
                "{}{}{}",
                &text[..at],
                reviewed,
                &text[end + "    up:".len()..]
            )
        }
        None => text.replacen("    up:", &reviewed, 1),
    };
    std::fs::write(file, text).unwrap();
}

#[test]
fn nothing_is_warned_of_for_sqlite_alone_or_for_a_new_table() {
    let c = Crate::new(&base());
    let first = c.generate_for(1_800_000_000, &SERVERS).unwrap();
    assert!(
        !first.warnings.iter().any(|w| w.contains("reviewed_locks")),
        "a new table is empty: {:?}",
        first.warnings
    );
    c.models(&models("", "#[column(index)] pub amount: i32,", NOTE, ""));
    let report = c.generate_for(1_800_000_060, &[Dialect::Sqlite]).unwrap();
    assert!(
        !report.warnings.iter().any(|w| w.contains("reviewed_locks")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn a_reviewed_warning_passes_strict_mode_and_an_unreviewed_one_fails_it() {
    let c = Crate::new(&base());
    c.generate_for(1_800_000_000, &SERVERS).unwrap();
    c.models(&models(
        "",
        "#[column(index)] pub amount: i32,",
        NOTE,
        r#"#[table(check(name = "ck_tasks_amount", expr = "amount > 0"))]"#,
    ));
    // Strict, with a migration to write: refused, nothing written.
    let before = c.state();
    match c.generate_with(1_800_000_060, &SERVERS, true) {
        Err(e @ Error::UnreviewedLocks { .. }) => {
            let said = e.to_string();
            assert!(said.contains("nothing was written"), "{said}");
            assert!(
                said.contains("create_check_constraint tasks.ck_tasks_amount"),
                "{said}"
            );
        }
        other => panic!("expected a strict refusal, got {other:?}"),
    }
    assert_eq!(c.state(), before, "nothing written");
    // Written without strict (the index and the check in their online forms, in a
    // migration of their own: no PostgreSQL warning); then strict fails on MySQL's one
    // (a check copies the table there) — and, with the plain forms, on PostgreSQL's too.
    c.generate_plain(1_800_000_060, &SERVERS).unwrap();
    let file = newest(&c);
    let open = unreviewed;
    assert_eq!(open(&c).len(), 3, "{:#?}", open(&c));
    // Reviewing one leaves two; reviewing all passes.
    let keys = [
        "postgres: create_check_constraint tasks.ck_tasks_amount",
        "postgres: create_index tasks.ix_tasks_amount",
        "mysql: create_check_constraint tasks.ck_tasks_amount",
    ];
    let review = |keys: &[&str]| review(&file, keys);
    review(&keys[..1]);
    let left = open(&c);
    assert_eq!(left.len(), 2, "{left:#?}");
    assert!(left.iter().all(|w| !w.contains(keys[0])), "{left:#?}");
    review(&keys);
    let left = open(&c);
    assert!(
        left.is_empty(),
        "{left:#?}\n{}",
        std::fs::read_to_string(&file).unwrap()
    );
    // Without strict, nothing changes either way.
    c.generate_for(1_800_000_180, &SERVERS).unwrap();
}

#[test]
fn an_index_on_an_existing_table_is_built_concurrently_in_a_migration_of_its_own() {
    let c = Crate::new(&base());
    c.generate_for(1_800_000_000, &SERVERS).unwrap();
    // A new column and an index over it: the column in a transaction, then the index.
    c.models(&models(
        "#[column(index)] pub score: Option<i32>,",
        "#[column(index)] pub amount: i32,",
        NOTE,
        "",
    ));
    let report = c.generate_for(1_800_000_060, &SERVERS).unwrap();
    assert!(
        !report.warnings.iter().any(|w| w.contains("reviewed_locks")),
        "built online: no lock warning: {:?}",
        report.warnings
    );
    let files: Vec<String> = c
        .state()
        .into_iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "rs"))
        .map(|(_, b)| String::from_utf8(b).unwrap())
        .collect();
    assert_eq!(files.len(), 3, "initial, the column, the indexes");
    let (column, indexes) = (&files[1], &files[2]);
    assert!(
        column.contains("add_column") && !column.contains("create_index"),
        "{column}"
    );
    assert!(!column.contains("atomic: false"), "{column}");
    assert!(indexes.contains("atomic: false"), "{indexes}");
    // Both built concurrently, and dropped so by the downgrade.
    let (up, down) = indexes.split_once("down:").unwrap();
    assert_eq!(up.matches("concurrently = true").count(), 2, "{indexes}");
    assert_eq!(down.matches("concurrently = true").count(), 2, "{indexes}");
    assert!(
        indexes.contains(&format!(
            "parents: [\"{}",
            column
                .split("revision: \"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
        )),
        "the indexes come after the column:\n{indexes}"
    );
    // Plain forms when asked, or for SQLite alone: one migration, in a transaction.
    for (online_off, backends) in [(true, &SERVERS[..]), (false, &[Dialect::Sqlite][..])] {
        let c = Crate::new(&base());
        c.generate_for(1_800_000_000, backends).unwrap();
        c.models(&models("", "#[column(index)] pub amount: i32,", NOTE, ""));
        match online_off {
            true => c.generate_plain(1_800_000_060, backends).unwrap(),
            false => c.generate_for(1_800_000_060, backends).unwrap(),
        };
        let text = String::from_utf8(
            c.state()
                .into_iter()
                .rev()
                .find(|(p, _)| p.extension().is_some_and(|e| e == "rs"))
                .unwrap()
                .1,
        )
        .unwrap();
        let block = text.split("retort::migration!").nth(1).unwrap();
        assert!(
            !block.contains("concurrently") && !block.contains("atomic: false"),
            "{text}"
        );
    }
}

#[test]
fn constraints_and_not_null_on_an_existing_table_are_written_in_their_online_form() {
    let c = Crate::new(&base());
    c.generate_for(1_800_000_000, &SERVERS).unwrap();
    // A unique key, a foreign key, a check and NOT NULL on the existing table, and a new
    // table whose foreign key points at the new unique key: that key stays in the
    // transaction (the new table needs it), the rest goes online.
    let mut edited = models(
        "#[column(unique)] pub code: Option<i32>,",
        "#[column(unique)] pub amount: i32,",
        "pub note: String,",
        r#"#[table(check(name = "ck_tasks_amount", expr = "amount > 0"))]"#,
    )
    .replace(
        "pub user_id: Option<i32>,",
        r#"#[column(references = "users(id)")] pub user_id: Option<i32>,"#,
    );
    edited.push_str(
        r#"
#[derive(Table)]
pub struct Label {
    #[column(primary_key, autoincrement)]
    pub id: i32,
    #[column(references = "tasks(code)")]
    pub task_code: Option<i32>,
}
"#,
    );
    c.models(&edited);
    let report = c.generate_for(1_800_000_060, &SERVERS).unwrap();
    let pg_warnings: Vec<&String> = report
        .warnings
        .iter()
        .filter(|w| w.contains(": postgres: "))
        .collect();
    // Only the unique key the new table needs stays plain (and is warned of).
    assert_eq!(pg_warnings.len(), 1, "{pg_warnings:#?}");
    assert!(pg_warnings[0].contains("uq_tasks_code"), "{pg_warnings:#?}");
    let files: Vec<String> = c
        .state()
        .into_iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "rs"))
        .map(|(_, b)| String::from_utf8(b).unwrap())
        .collect();
    assert_eq!(files.len(), 3, "initial, the changes, the online part");
    let (changes, online) = (&files[1], &files[2]);
    let body = |file: &str| file.split("retort::migration!").nth(1).unwrap().to_string();
    let (changes, online) = (body(changes), body(online));
    assert!(!changes.contains("atomic: false"), "{changes}");
    assert!(
        changes.contains("uq_tasks_code") && changes.contains("create_table"),
        "{changes}"
    );
    assert!(!changes.contains("online = true"), "{changes}");
    assert!(online.contains("atomic: false"), "{online}");
    for key in [
        "uq_tasks_amount",
        "fk_tasks_user_id_users",
        "ck_tasks_amount",
        "nullable = false",
    ] {
        let line = online
            .lines()
            .skip_while(|l| !l.contains(key))
            .take(8)
            .collect::<Vec<_>>()
            .join(" ");
        assert!(line.contains("online = true"), "{key}: {online}");
    }
    // The plain forms when asked: one migration, in a transaction.
    let c = Crate::new(&base());
    c.generate_for(1_800_000_000, &SERVERS).unwrap();
    c.models(&edited);
    c.generate_plain(1_800_000_060, &SERVERS).unwrap();
    let text = std::fs::read_to_string(newest(&c)).unwrap();
    let block = text.split("retort::migration!").nth(1).unwrap();
    assert!(
        !block.contains("online = true") && !block.contains("atomic: false"),
        "{text}"
    );
}

#[test]
fn a_constraint_made_again_under_its_name_stays_in_the_transaction_that_drops_it() {
    let check = |expr: &str| {
        models(
            "",
            AMOUNT,
            NOTE,
            &format!(r#"#[table(check(name = "ck_tasks_amount", expr = "{expr}"))]"#),
        )
    };
    let c = Crate::new(&check("amount > 0"));
    c.generate_for(1_800_000_000, &SERVERS).unwrap();
    c.models(&check("amount >= 0"));
    c.generate_for(1_800_000_060, &SERVERS).unwrap();
    let files: Vec<String> = c
        .state()
        .into_iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "rs"))
        .map(|(_, b)| String::from_utf8(b).unwrap())
        .collect();
    // One migration: no moment between the drop and the new check without either.
    assert_eq!(files.len(), 2, "{files:#?}");
    let block = files[1].split("retort::migration!").nth(1).unwrap();
    assert!(
        block.contains("drop_constraint") && block.contains("create_check_constraint"),
        "{block}"
    );
    assert!(
        !block.contains("online = true") && !block.contains("atomic: false"),
        "{block}"
    );
}

#[test]
fn for_mysql_alone_the_online_forms_are_those_innodb_has() {
    let c = Crate::new(&base());
    let mysql = [Dialect::Mysql, Dialect::Sqlite];
    c.generate_for(1_800_000_000, &mysql).unwrap();
    c.models(
        &models(
            "",
            "#[column(unique)] pub amount: i32,",
            "pub note: String,",
            r#"#[table(check(name = "ck_tasks_amount", expr = "amount > 0"))]"#,
        )
        .replace(
            "pub user_id: Option<i32>,",
            r#"#[column(references = "users(id)", index)] pub user_id: Option<i32>,"#,
        ),
    );
    c.generate_for(1_800_000_060, &mysql).unwrap();
    let files: Vec<String> = c
        .state()
        .into_iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "rs"))
        .map(|(_, b)| String::from_utf8(b).unwrap())
        .collect();
    assert_eq!(files.len(), 3, "{files:#?}");
    let body = |file: &str| file.split("retort::migration!").nth(1).unwrap().to_string();
    // Files sort by name, and the names carry the messages: tell the two apart by content.
    let (online, changes): (Vec<String>, Vec<String>) = files[1..]
        .iter()
        .map(|f| body(f))
        .partition(|b| b.contains("atomic: false"));
    assert_eq!((online.len(), changes.len()), (1, 1), "{files:#?}");
    let (changes, online) = (&changes[0], &online[0]);
    // The foreign key and the check have no online form on MySQL: in the transaction,
    // plain; the index, the unique key and NOT NULL in place.
    assert!(
        changes.contains("create_foreign_key") && changes.contains("create_check_constraint"),
        "{changes}"
    );
    assert!(!changes.contains("online = true"), "{changes}");
    assert!(online.contains("atomic: false"), "{online}");
    assert!(online.contains("concurrently = true"), "{online}");
    assert_eq!(online.matches("online = true").count(), 2, "{online}");
}

#[test]
fn a_not_null_column_with_a_per_row_default_is_added_then_filled_in_batches() {
    let c = Crate::new(&base());
    c.generate_for(1_800_000_000, &SERVERS).unwrap();
    let edited = models(
        r#"#[column(server_default = "gen_random_uuid()")] pub token: String,"#,
        AMOUNT,
        NOTE,
        "",
    );
    c.models(&edited);
    let report = c.generate_for(1_800_000_060, &SERVERS).unwrap();
    // Nothing is left that holds the table up, and NOT NULL follows a backfill.
    assert!(
        !report
            .warnings
            .iter()
            .any(|w| w.contains("reviewed_locks") || w.contains("NOT NULL")),
        "{:#?}",
        report.warnings
    );
    let files: Vec<String> = c
        .state()
        .into_iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "rs"))
        .map(|(_, b)| String::from_utf8(b).unwrap())
        .collect();
    assert_eq!(files.len(), 3, "{files:#?}");
    let body = |file: &str| file.split("retort::migration!").nth(1).unwrap().to_string();
    let (online, changes): (Vec<String>, Vec<String>) = files[1..]
        .iter()
        .map(|f| body(f))
        .partition(|b| b.contains("atomic: false"));
    let (changes, online) = (&changes[0], &online[0]);
    // In the transaction: the column, nullable, without its default (a catalog change).
    let add = changes
        .lines()
        .skip_while(|l| !l.contains("add_column"))
        .take(6)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        add.contains("\"token\"") && add.contains("nullable"),
        "{changes}"
    );
    assert!(!changes.contains("gen_random_uuid"), "{changes}");
    // Online: the default, the backfill in batches, then NOT NULL in its online form.
    let at = |what: &str| {
        online
            .find(what)
            .unwrap_or_else(|| panic!("`{what}` in {online}"))
    };
    assert!(
        at("server_default = \"gen_random_uuid()\"") < at("backfill(")
            && at("backfill(") < at("nullable = false"),
        "{online}"
    );
    assert!(
        online.contains(r#"backfill("tasks", "token", "gen_random_uuid()", batch = 10000)"#),
        "{online}"
    );
    // The plain form when asked: one add_column, warned of.
    let c = Crate::new(&base());
    c.generate_for(1_800_000_000, &SERVERS).unwrap();
    c.models(&edited);
    let report = c.generate_plain(1_800_000_060, &SERVERS).unwrap();
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("add_column tasks.token") && w.contains("backfill")),
        "{:#?}",
        report.warnings
    );
    let text = body(&std::fs::read_to_string(newest(&c)).unwrap());
    assert!(
        !text.contains("backfill(") && !text.contains("atomic: false"),
        "{text}"
    );
}

#[test]
fn an_index_dropped_from_an_existing_table_is_dropped_concurrently_unless_its_name_is_reused() {
    let indexed = models("", "#[column(index)] pub amount: i32,", NOTE, "");
    let c = Crate::new(&indexed);
    c.generate_for(1_800_000_000, &SERVERS).unwrap();
    c.models(&base());
    let report = c.generate_for(1_800_000_060, &SERVERS).unwrap();
    assert!(
        !report.warnings.iter().any(|w| w.contains("reviewed_locks")),
        "{:#?}",
        report.warnings
    );
    let text = std::fs::read_to_string(newest(&c)).unwrap();
    let block = text.split("retort::migration!").nth(1).unwrap();
    assert!(block.contains("atomic: false"), "{block}");
    assert!(
        block.contains(r#"drop_index("ix_tasks_amount", "tasks", concurrently = true)"#),
        "{block}"
    );
    // Its downgrade, outside a transaction too, builds it again concurrently.
    let down = block.split("down:").nth(1).unwrap();
    assert!(
        down.contains(
            r#"create_index("ix_tasks_amount", "tasks", ["amount"], concurrently = true)"#
        ),
        "{block}"
    );
    // The same name made again (an index turned unique): the drop stays with it, plain.
    let c = Crate::new(&indexed);
    c.generate_for(1_800_000_000, &SERVERS).unwrap();
    c.models(&models(
        "",
        "#[column(index, unique)] pub amount: i32,",
        NOTE,
        "",
    ));
    c.generate_for(1_800_000_060, &SERVERS).unwrap();
    let files: Vec<String> = c
        .state()
        .into_iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "rs"))
        .map(|(_, b)| String::from_utf8(b).unwrap())
        .collect();
    for f in &files {
        assert!(
            !f.contains("drop_index(\"ix_tasks_amount\", \"tasks\", concurrently"),
            "{f}"
        );
    }
}
