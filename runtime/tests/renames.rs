//! Renames stay cheap: when a table or column is renamed, the indexes and constraints whose
//! names derive from it are renamed too (PostgreSQL `RENAME CONSTRAINT` / `ALTER INDEX …
//! RENAME`, MySQL `RENAME INDEX`), not dropped and built or checked again; a check that
//! mentions a renamed column follows it with no operation at all. SQLite, which keeps
//! constraints inside the table, rebuilds.

mod support;

use retort::schema::diff::diff;
use retort::schema::sql::{render_ops, Dialect, Step};
use retort::schema::{
    CheckConstraint, Column, ColumnType, ForeignKey, Index, ReferentialAction, Schema, Table,
    UniqueConstraint,
};
use retort::{Graph, Options, Revision, Runner};
use support::TestDb;

fn models(parent: &str, code: &str) -> Schema {
    let mut p = Table::new(parent);
    p.columns = vec![
        Column::new("id", ColumnType::Integer),
        Column::new(code, ColumnType::Varchar { length: 20 }),
    ];
    p.primary_key = vec!["id".into()];
    p.uniques
        .push(UniqueConstraint::new(format!("uq_{parent}_{code}"), [code]));
    p.indexes.push(Index::on_columns(
        format!("ix_{parent}_{code}"),
        [code, "id"],
        false,
    ));
    p.checks.push(CheckConstraint {
        name: "ck_code_not_empty".into(),
        expression: format!("{code} <> ''"),
        not_valid: false,
    });
    let mut c = Table::new("child");
    c.columns = vec![
        Column::new("id", ColumnType::Integer),
        Column::new("parent_id", ColumnType::Integer),
    ];
    c.primary_key = vec!["id".into()];
    c.foreign_keys.push(ForeignKey {
        name: format!("fk_child_parent_id_{parent}"),
        columns: vec!["parent_id".into()],
        referred_table: parent.into(),
        referred_columns: vec!["id".into()],
        on_delete: ReferentialAction::Cascade,
        on_update: ReferentialAction::NoAction,
        not_valid: false,
        deferral: Default::default(),
    });
    Schema::from_tables([p, c])
}

/// The migration the build writes from A to B (through the file grammar).
fn migration(id: &str, parent: Option<&str>, a: &Schema, b: &Schema) -> Revision {
    let d = diff(a, b).unwrap();
    let file = retort::schema::migration::MigrationFile {
        revision: id.into(),
        parents: parent.map(|p| vec![p.to_string()]).unwrap_or_default(),
        message: id.into(),
        up: d.up,
        down: d.down,
        atomic: true,
        reviewed_locks: Vec::new(),
        replaces: Vec::new(),
        elidable: false,
    };
    Revision::from_file(file)
}

fn renamed() -> Schema {
    let mut b = models("account", "number");
    let p = b.tables.get_mut("account").unwrap();
    p.renamed_from = Some("parent".into());
    p.columns[1].renamed_from = Some("code".into());
    b
}

#[test]
fn the_diff_renames_what_follows_a_rename() {
    let d = diff(&models("parent", "code"), &renamed()).unwrap();
    let names: Vec<&str> = d.up.iter().map(|o| o.name()).collect();
    assert_eq!(
        names,
        [
            "rename_table",
            "rename_column",
            "rename_constraint",
            "rename_index",
            // The primary key's derived name follows the table's.
            "rename_constraint",
            "rename_constraint"
        ],
        "{:#?}",
        d.up
    );
    // On the servers each is one rename; MySQL re-adds its foreign key unchecked.
    for dialect in [Dialect::Postgres, Dialect::Mysql] {
        let steps = render_ops(&d.up, &mut models("parent", "code"), dialect).unwrap();
        let sql: Vec<String> = steps
            .into_iter()
            .flatten()
            .filter_map(|s| match s {
                Step::Sql(s) => Some(s),
                _ => None,
            })
            .collect();
        assert!(
            sql.iter()
                .all(|s| !s.contains("CREATE INDEX") && !s.contains("UNIQUE (")),
            "{dialect:?}: {sql:#?}"
        );
        assert!(
            sql.iter().any(|s| s.contains("RENAME")),
            "{dialect:?}: {sql:#?}"
        );
        if dialect == Dialect::Mysql {
            assert!(
                sql.iter().any(|s| s.contains("foreign_key_checks = 0")),
                "{sql:#?}"
            );
        }
    }
}

#[test]
fn renamed_objects_keep_their_identity_and_rows_on_every_backend() {
    let a = models("parent", "code");
    let b = renamed();
    let graph = Graph::from_revisions([
        migration("r1", None, &Schema::new(), &a),
        migration("r2", Some("r1"), &a, &b),
    ]);
    for db in TestDb::all() {
        let name = db.dialect.name();
        let mut r = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        r.upgrade("r1").unwrap();
        db.exec("INSERT INTO parent (id, code) VALUES (1, 'a'), (2, 'b')");
        db.exec("INSERT INTO child (id, parent_id) VALUES (10, 1), (11, 2)");
        // PostgreSQL: the index and constraints are the same objects after the rename.
        let oids = "SELECT string_agg(c.oid::text, ',' ORDER BY c.oid) AS v FROM pg_class c WHERE c.relkind = 'i' AND c.relnamespace = to_regnamespace(current_schema())";
        let before = (db.dialect == Dialect::Postgres).then(|| db.texts(oids));
        r.upgrade("head").unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            r.differences(&b).unwrap(),
            Vec::<String>::new(),
            "{name}: names, keys and the check follow the renames"
        );
        if let Some(before) = before {
            assert_eq!(db.texts(oids), before, "renamed, not built again");
        }
        assert_eq!(db.count("SELECT COUNT(*) AS n FROM child"), 2, "{name}");
        // The renamed check still guards the renamed column.
        assert!(
            db.try_exec("INSERT INTO account (id, number) VALUES (3, '')")
                .is_err(),
            "{name}: the check follows the column"
        );
        r.downgrade("r1").unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.differences(&a).unwrap(), Vec::<String>::new(), "{name}");
    }
}
