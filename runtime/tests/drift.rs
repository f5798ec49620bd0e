//! `check` sees every hand change: for each attribute retort models (type, length,
//! nullability, default, autoincrement, unique, index columns and uniqueness, check
//! expression and validity, foreign key target, actions, name and validity, comments,
//! primary key, and
//! an extra table, column, index or constraint), one change made by hand to a database
//! retort made is reported, naming the object — on SQLite, PostgreSQL and MariaDB. Each
//! mutation is its own assertion, so removing any one detection from the comparison fails
//! this suite. Before each mutation the same database checks clean.
//!
//! SQLite cannot alter a column in place: its hand changes rebuild the table from its own
//! `CREATE TABLE` text with one edit, as a person following SQLite's documentation would.

mod support;

use retort::schema::sql::Dialect;
use retort::{Graph, Options, Runner};
use support::{rev, TestDb};

const SCHEMA: &str = r#"
    create_table("other", column("id", integer), column("code", integer, nullable), primary_key(["id"]), comment = "others"),
    create_table("parent",
        column("id", integer, autoincrement),
        column("code", varchar(20), comment = "the code"),
        column("label", text, nullable),
        column("amount", integer, server_default = "0"),
        column("score", numeric(10, 2), nullable),
        column("data", json, nullable),
        primary_key(["id"]),
        unique("uq_parent_code", ["code"]),
        check("ck_parent_amount", "amount >= 0"),
        comment = "parents"),
    create_table("child",
        column("id", integer, autoincrement),
        column("parent_id", integer),
        column("note", varchar(50), nullable),
        primary_key(["id"]),
        foreign_key("fk_child_parent_id_parent", ["parent_id"], "parent", ["id"], on_delete = "cascade")),
    create_index("ix_child_note", "child", ["note"]),
    create_index("ix_parent_score", "parent", ["score"])
"#;

/// One hand change: statements per backend (`None`: the backend has no such attribute).
enum Hand {
    /// The same statements everywhere.
    Sql(&'static str),
    /// Per backend: SQLite, PostgreSQL, MySQL.
    Each(
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
    ),
    /// On SQLite, a rebuild of `table` with `from` replaced by `to` in its `CREATE TABLE`;
    /// on the servers, the statements given.
    Rebuild {
        table: &'static str,
        from: &'static str,
        to: &'static str,
        postgres: &'static str,
        mysql: &'static str,
    },
}

struct Mutation {
    /// What changes.
    what: &'static str,
    /// What a difference must mention.
    names: &'static str,
    hand: Hand,
}

fn mutations() -> Vec<Mutation> {
    use Hand::*;
    let m = |what, names, hand| Mutation { what, names, hand };
    vec![
        m("type", "`parent.amount`", Rebuild {
            table: "parent",
            from: "\"amount\" INTEGER",
            to: "\"amount\" BIGINT",
            postgres: "ALTER TABLE parent ALTER COLUMN amount TYPE bigint",
            mysql: "ALTER TABLE parent MODIFY amount BIGINT NOT NULL DEFAULT 0",
        }),
        m("length", "`parent.code`", Rebuild {
            table: "parent",
            from: "VARCHAR(20)",
            to: "VARCHAR(30)",
            postgres: "ALTER TABLE parent ALTER COLUMN code TYPE varchar(30)",
            mysql: "ALTER TABLE parent MODIFY code VARCHAR(30) NOT NULL COMMENT 'the code'",
        }),
        m("precision", "`parent.score`", Rebuild {
            table: "parent",
            from: "NUMERIC(10,2)",
            to: "NUMERIC(12,2)",
            postgres: "ALTER TABLE parent ALTER COLUMN score TYPE numeric(12,2)",
            mysql: "ALTER TABLE parent MODIFY score DECIMAL(12,2) NULL",
        }),
        m("json made text", "`parent.data`", Rebuild {
            table: "parent",
            from: "\"data\" JSON",
            to: "\"data\" TEXT",
            postgres: "ALTER TABLE parent ALTER COLUMN data TYPE text",
            mysql: "ALTER TABLE parent MODIFY data LONGTEXT NULL",
        }),
        m("NOT NULL dropped", "`parent.amount`", Rebuild {
            table: "parent",
            from: "\"amount\" INTEGER NOT NULL",
            to: "\"amount\" INTEGER",
            postgres: "ALTER TABLE parent ALTER COLUMN amount DROP NOT NULL",
            mysql: "ALTER TABLE parent MODIFY amount INT NULL DEFAULT 0",
        }),
        m("NOT NULL added", "`child.note`", Rebuild {
            table: "child",
            from: "\"note\" VARCHAR(50)",
            to: "\"note\" VARCHAR(50) NOT NULL",
            postgres: "ALTER TABLE child ALTER COLUMN note SET NOT NULL",
            mysql: "ALTER TABLE child MODIFY note VARCHAR(50) NOT NULL",
        }),
        m("default changed", "`parent.amount`", Rebuild {
            table: "parent",
            from: "DEFAULT 0",
            to: "DEFAULT 1",
            postgres: "ALTER TABLE parent ALTER COLUMN amount SET DEFAULT 1",
            mysql: "ALTER TABLE parent ALTER COLUMN amount SET DEFAULT 1",
        }),
        m("default dropped", "`parent.amount`", Rebuild {
            table: "parent",
            from: " DEFAULT 0",
            to: "",
            postgres: "ALTER TABLE parent ALTER COLUMN amount DROP DEFAULT",
            mysql: "ALTER TABLE parent ALTER COLUMN amount DROP DEFAULT",
        }),
        m("default added", "`child.note`", Rebuild {
            table: "child",
            from: "\"note\" VARCHAR(50)",
            to: "\"note\" VARCHAR(50) DEFAULT 'x'",
            postgres: "ALTER TABLE child ALTER COLUMN note SET DEFAULT 'x'",
            mysql: "ALTER TABLE child ALTER COLUMN note SET DEFAULT 'x'",
        }),
        m("autoincrement dropped", "`parent.id`", Rebuild {
            table: "parent",
            from: " AUTOINCREMENT",
            to: "",
            postgres: "ALTER TABLE parent ALTER COLUMN id DROP IDENTITY",
            mysql: "ALTER TABLE parent MODIFY id INT NOT NULL",
        }),
        m("primary key dropped", "primary key of `other`", Rebuild {
            table: "other",
            from: ",\n    CONSTRAINT \"pk_other\" PRIMARY KEY (\"id\")",
            to: "",
            postgres: "ALTER TABLE other DROP CONSTRAINT pk_other",
            mysql: "ALTER TABLE other DROP PRIMARY KEY",
        }),
        m("unique dropped", "`uq_parent_code`", Rebuild {
            table: "parent",
            from: ",\n    CONSTRAINT \"uq_parent_code\" UNIQUE (\"code\")",
            to: "",
            postgres: "ALTER TABLE parent DROP CONSTRAINT uq_parent_code",
            mysql: "ALTER TABLE parent DROP INDEX uq_parent_code",
        }),
        m("unique columns changed", "`uq_parent_code`", Rebuild {
            table: "parent",
            from: "UNIQUE (\"code\")",
            to: "UNIQUE (\"code\", \"amount\")",
            postgres: "ALTER TABLE parent DROP CONSTRAINT uq_parent_code, ADD CONSTRAINT uq_parent_code UNIQUE (code, amount)",
            mysql: "ALTER TABLE parent DROP INDEX uq_parent_code, ADD CONSTRAINT uq_parent_code UNIQUE (code, amount)",
        }),
        m("unique added", "`uq_extra`", Rebuild {
            table: "child",
            from: "    CONSTRAINT \"fk_child",
            to: "    CONSTRAINT \"uq_extra\" UNIQUE (\"note\"),\n    CONSTRAINT \"fk_child",
            postgres: "ALTER TABLE child ADD CONSTRAINT uq_extra UNIQUE (note)",
            mysql: "ALTER TABLE child ADD CONSTRAINT uq_extra UNIQUE (note)",
        }),
        m("index columns changed", "`ix_child_note`", Each(
            Some("DROP INDEX ix_child_note; CREATE INDEX ix_child_note ON child (note, parent_id)"),
            Some("DROP INDEX ix_child_note; CREATE INDEX ix_child_note ON child (note, parent_id)"),
            Some("DROP INDEX ix_child_note ON child; CREATE INDEX ix_child_note ON child (note, parent_id)"),
        )),
        m("index made unique", "`ix_parent_score`", Each(
            Some("DROP INDEX ix_parent_score; CREATE UNIQUE INDEX ix_parent_score ON parent (score)"),
            Some("DROP INDEX ix_parent_score; CREATE UNIQUE INDEX ix_parent_score ON parent (score)"),
            Some("DROP INDEX ix_parent_score ON parent; CREATE UNIQUE INDEX ix_parent_score ON parent (score)"),
        )),
        m("index dropped", "`ix_parent_score`", Each(
            Some("DROP INDEX ix_parent_score"),
            Some("DROP INDEX ix_parent_score"),
            Some("DROP INDEX ix_parent_score ON parent"),
        )),
        m("index renamed", "`ix_parent_score`", Each(
            Some("DROP INDEX ix_parent_score; CREATE INDEX ix_renamed ON parent (score)"),
            Some("ALTER INDEX ix_parent_score RENAME TO ix_renamed"),
            Some("ALTER TABLE parent RENAME INDEX ix_parent_score TO ix_renamed"),
        )),
        m("index added", "`ix_extra`", Sql("CREATE INDEX ix_extra ON parent (amount)")),
        m("check changed", "`ck_parent_amount`", Rebuild {
            table: "parent",
            from: "amount >= 0",
            to: "amount >= 1",
            postgres: "ALTER TABLE parent DROP CONSTRAINT ck_parent_amount, ADD CONSTRAINT ck_parent_amount CHECK (amount >= 1)",
            mysql: "ALTER TABLE parent DROP CONSTRAINT ck_parent_amount, ADD CONSTRAINT ck_parent_amount CHECK (amount >= 1)",
        }),
        m("check dropped", "`ck_parent_amount`", Rebuild {
            table: "parent",
            from: ",\n    CONSTRAINT \"ck_parent_amount\" CHECK (amount >= 0)",
            to: "",
            postgres: "ALTER TABLE parent DROP CONSTRAINT ck_parent_amount",
            mysql: "ALTER TABLE parent DROP CONSTRAINT ck_parent_amount",
        }),
        m("check added", "`ck_extra`", Rebuild {
            table: "parent",
            from: "CHECK (amount >= 0)",
            to: "CHECK (amount >= 0),\n    CONSTRAINT \"ck_extra\" CHECK (amount < 1000)",
            postgres: "ALTER TABLE parent ADD CONSTRAINT ck_extra CHECK (amount < 1000)",
            mysql: "ALTER TABLE parent ADD CONSTRAINT ck_extra CHECK (amount < 1000)",
        }),
        m("check added without a name", "< 1000)", Rebuild {
            table: "parent",
            from: "CHECK (amount >= 0)",
            to: "CHECK (amount >= 0),\n    CHECK (amount < 1000)",
            postgres: "ALTER TABLE parent ADD CHECK (amount < 1000)",
            mysql: "ALTER TABLE parent ADD CHECK (amount < 1000)",
        }),
        m("check made NOT VALID", "`ck_parent_amount`", Each(
            None,
            Some("ALTER TABLE parent DROP CONSTRAINT ck_parent_amount, ADD CONSTRAINT ck_parent_amount CHECK (amount >= 0) NOT VALID"),
            None,
        )),
        m("foreign key target changed", "`fk_child_parent_id_parent`", Rebuild {
            table: "child",
            from: "REFERENCES \"parent\" (\"id\")",
            to: "REFERENCES \"other\" (\"id\")",
            postgres: "ALTER TABLE child DROP CONSTRAINT fk_child_parent_id_parent, ADD CONSTRAINT fk_child_parent_id_parent FOREIGN KEY (parent_id) REFERENCES other (id) ON DELETE CASCADE",
            mysql: "ALTER TABLE child DROP FOREIGN KEY fk_child_parent_id_parent; ALTER TABLE child ADD CONSTRAINT fk_child_parent_id_parent FOREIGN KEY (parent_id) REFERENCES other (id) ON DELETE CASCADE",
        }),
        m("foreign key on delete changed", "`fk_child_parent_id_parent`", Rebuild {
            table: "child",
            from: "ON DELETE CASCADE",
            to: "ON DELETE RESTRICT",
            postgres: "ALTER TABLE child DROP CONSTRAINT fk_child_parent_id_parent, ADD CONSTRAINT fk_child_parent_id_parent FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE RESTRICT",
            mysql: "ALTER TABLE child DROP FOREIGN KEY fk_child_parent_id_parent; ALTER TABLE child ADD CONSTRAINT fk_child_parent_id_parent FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE RESTRICT",
        }),
        m("foreign key on update changed", "`fk_child_parent_id_parent`", Rebuild {
            table: "child",
            from: "ON DELETE CASCADE",
            to: "ON DELETE CASCADE ON UPDATE CASCADE",
            postgres: "ALTER TABLE child DROP CONSTRAINT fk_child_parent_id_parent, ADD CONSTRAINT fk_child_parent_id_parent FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE ON UPDATE CASCADE",
            mysql: "ALTER TABLE child DROP FOREIGN KEY fk_child_parent_id_parent; ALTER TABLE child ADD CONSTRAINT fk_child_parent_id_parent FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE ON UPDATE CASCADE",
        }),
        m("foreign key made NOT VALID", "`fk_child_parent_id_parent`", Each(
            None,
            Some("ALTER TABLE child DROP CONSTRAINT fk_child_parent_id_parent, ADD CONSTRAINT fk_child_parent_id_parent FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE NOT VALID"),
            None,
        )),
        m("foreign key renamed", "`fk_child_parent_id_parent`", Rebuild {
            table: "child",
            from: "\"fk_child_parent_id_parent\"",
            to: "\"fk_renamed\"",
            postgres: "ALTER TABLE child RENAME CONSTRAINT fk_child_parent_id_parent TO fk_renamed",
            mysql: "ALTER TABLE child DROP FOREIGN KEY fk_child_parent_id_parent; ALTER TABLE child ADD CONSTRAINT fk_renamed FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE",
        }),
        m("foreign key dropped", "`fk_child_parent_id_parent`", Rebuild {
            table: "child",
            from: ",\n    CONSTRAINT \"fk_child_parent_id_parent\" FOREIGN KEY (\"parent_id\") REFERENCES \"parent\" (\"id\") ON DELETE CASCADE",
            to: "",
            postgres: "ALTER TABLE child DROP CONSTRAINT fk_child_parent_id_parent",
            mysql: "ALTER TABLE child DROP FOREIGN KEY fk_child_parent_id_parent",
        }),
        m("foreign key added", "`fk_extra`", Rebuild {
            table: "other",
            from: "PRIMARY KEY (\"id\")",
            to: "PRIMARY KEY (\"id\"),\n    CONSTRAINT \"fk_extra\" FOREIGN KEY (\"code\") REFERENCES \"parent\" (\"id\")",
            postgres: "ALTER TABLE other ADD CONSTRAINT fk_extra FOREIGN KEY (code) REFERENCES parent (id)",
            mysql: "ALTER TABLE other ADD CONSTRAINT fk_extra FOREIGN KEY (code) REFERENCES parent (id)",
        }),
        m("column comment changed", "`parent.code`", Each(
            None,
            Some("COMMENT ON COLUMN parent.code IS 'another'"),
            Some("ALTER TABLE parent MODIFY code VARCHAR(20) NOT NULL COMMENT 'another'"),
        )),
        m("column comment added", "`parent.label`", Each(
            None,
            Some("COMMENT ON COLUMN parent.label IS 'a label'"),
            Some("ALTER TABLE parent MODIFY label LONGTEXT NULL COMMENT 'a label'"),
        )),
        m("table comment changed", "`parent`", Each(
            None,
            Some("COMMENT ON TABLE parent IS 'another'"),
            Some("ALTER TABLE parent COMMENT = 'another'"),
        )),
        m("column added", "`parent.extra_c`", Sql("ALTER TABLE parent ADD COLUMN extra_c INTEGER")),
        m("column dropped", "`parent.label`", Sql("ALTER TABLE parent DROP COLUMN label")),
        m("table added", "`extra_t`", Sql("CREATE TABLE extra_t (id INTEGER PRIMARY KEY)")),
        m("table dropped", "`other`", Sql("DROP TABLE other")),
    ]
}

/// SQLite's rebuild, by hand: the table's own `CREATE TABLE` text with one edit, the rows
/// copied, its indexes made again.
fn rebuild_by_hand(db: &TestDb, table: &str, from: &str, to: &str) {
    let texts = db.texts(&format!(
        "SELECT sql AS v FROM sqlite_master WHERE tbl_name = '{table}' AND sql IS NOT NULL ORDER BY type DESC"
    ));
    let create = texts[0].clone().expect("a CREATE TABLE");
    assert!(
        create.contains(from),
        "the edit `{from}` is not in {create}"
    );
    let edited = create.replacen(from, to, 1).replacen(
        &format!("CREATE TABLE \"{table}\""),
        "CREATE TABLE \"_hand\"",
        1,
    );
    let indexes: Vec<String> = texts[1..].iter().flatten().cloned().collect();
    db.exec(&format!(
        "PRAGMA foreign_keys = OFF; BEGIN; {edited}; INSERT INTO _hand SELECT * FROM \"{table}\"; DROP TABLE \"{table}\"; PRAGMA legacy_alter_table = ON; ALTER TABLE _hand RENAME TO \"{table}\"; PRAGMA legacy_alter_table = OFF; {}; COMMIT",
        indexes.join("; ")
    ));
}

#[test]
fn every_hand_change_is_reported_naming_the_object() {
    let graph = Graph::from_revisions([rev("r1", None, SCHEMA, "")]);
    let first = TestDb::all();
    for template in &first {
        let name = template.dialect.name();
        let mut seen = 0;
        for m in mutations() {
            let sql = match (&m.hand, template.dialect) {
                (Hand::Sql(s), _) => Some(s.to_string()),
                (Hand::Each(s, _, _), Dialect::Sqlite) => s.map(str::to_string),
                (Hand::Each(_, p, _), Dialect::Postgres) => p.map(str::to_string),
                (Hand::Each(_, _, my), Dialect::Mysql) => my.map(str::to_string),
                (Hand::Rebuild { postgres, .. }, Dialect::Postgres) => Some(postgres.to_string()),
                (Hand::Rebuild { mysql, .. }, Dialect::Mysql) => Some(mysql.to_string()),
                (Hand::Rebuild { .. }, Dialect::Sqlite) => Some(String::new()),
            };
            let Some(sql) = sql else {
                continue;
            };
            let db = template.another();
            let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
            runner.upgrade("head").unwrap();
            assert_eq!(
                runner.check().unwrap(),
                Vec::<String>::new(),
                "{name}: a database retort just made checks clean"
            );
            match (&m.hand, template.dialect) {
                (
                    Hand::Rebuild {
                        table, from, to, ..
                    },
                    Dialect::Sqlite,
                ) => rebuild_by_hand(&db, table, from, to),
                _ => db.exec(&sql),
            }
            let found = runner.check().unwrap();
            assert!(
                found.iter().any(|d| d.contains(m.names)),
                "{name}: {} by hand was not reported naming {}: {found:?}",
                m.what,
                m.names
            );
            seen += 1;
        }
        let expected = match template.dialect {
            Dialect::Sqlite => mutations().len() - 5,
            Dialect::Postgres => mutations().len(),
            Dialect::Mysql => mutations().len() - 2,
        };
        assert_eq!(seen, expected, "{name}: every mutation ran");
    }
}

/// The spellings that made `check` cry wolf on databases retort had just made (two real
/// applications and a model of our own): each checks clean now, on the backends where it is
/// valid SQL; and a check PostgreSQL marks `NOT VALID` is reported as such, not as a
/// different expression.
#[test]
fn what_retort_just_made_checks_clean() {
    let pg = r#"
        create_object(extension, "ltree", postgres = "CREATE EXTENSION IF NOT EXISTS ltree"),
        create_object(type_, "community_visibility", postgres = "CREATE TYPE community_visibility AS ENUM ('Public', 'LocalOnly')"),
        create_table("t",
            column("id", integer, autoincrement),
            column("created", timestamptz, server_default = "now()"),
            column("name", text, server_default = "'anon'::text"),
            column("kind", text, server_default = "'index'::text"),
            column("label", custom("varchar"), server_default = "''::character varying"),
            column("visibility", custom("community_visibility"), server_default = "'Public'::community_visibility"),
            column("path", custom("ltree"), server_default = "'0'::ltree"),
            column("extra", json, server_default = "'{}'::jsonb"),
            column("amount", integer, server_default = "-1"),
            primary_key(["id"]),
            check("ck_amount", "amount > -1"),
            check("ck_kind", "kind IN ('index', 'page')"))
    "#;
    let portable = r#"
        create_table("t",
            column("id", integer, autoincrement),
            column("created", timestamptz, server_default = "CURRENT_TIMESTAMP"),
            column("name", varchar(20), server_default = "'anon'"),
            column("amount", integer, server_default = "-1"),
            column("ratio", numeric(10, 2), server_default = "1.5"),
            column("flag", boolean, server_default = "0"),
            primary_key(["id"]),
            check("ck_amount", "amount > -1"),
            check("ck_name", "name IN ('anon', 'x') AND length(name) BETWEEN 1 AND 20"))
    "#;
    for db in TestDb::all() {
        let name = db.dialect.name();
        let ops = if db.dialect == Dialect::Postgres {
            pg
        } else {
            portable
        };
        let graph = Graph::from_revisions([rev("r1", None, ops, "")]);
        let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        runner
            .upgrade("head")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(runner.check().unwrap(), Vec::<String>::new(), "{name}");
        if db.dialect == Dialect::Postgres {
            db.exec("ALTER TABLE t DROP CONSTRAINT ck_amount, ADD CONSTRAINT ck_amount CHECK (amount > -1) NOT VALID");
            let found = runner.check().unwrap();
            assert_eq!(found.len(), 1, "{found:?}");
            assert!(
                found[0].contains("`ck_amount`")
                    && found[0].contains("NOT VALID")
                    && found[0].contains("VALIDATE CONSTRAINT"),
                "{found:?}"
            );
        }
    }
}
