//! What real schemas declare of indexes and constraints, on every backend that has it:
//! descending keys, partial and expression indexes, methods, operator classes, `INCLUDE`,
//! storage parameters, `NULLS NOT DISTINCT`, deferrable and `NOT VALID` constraints. Each
//! backend builds its share, reads it back so that `check` is clean, goes down to base and
//! up again; every hand change of one of these attributes is reported naming the object;
//! and what a backend lacks is refused before anything runs, naming the object, the backend
//! and the alternative.

mod support;

use retort::schema::sql::Dialect;
use retort::{Graph, Options, Runner};
use support::{hand_change_is_reported, rev, round_trip, TestDb};

/// Every backend: a descending key, a deferrable foreign key (not MySQL: see `servers`).
const COMMON: &str = r#"
    create_table("author", column("id", integer, autoincrement), column("name", varchar(50)), primary_key(["id"])),
    create_table("post",
        column("id", integer, autoincrement),
        column("author_id", integer),
        column("title", varchar(100)),
        column("slug", varchar(50), nullable),
        column("hot_rank", integer, server_default = "0"),
        column("published", timestamp, nullable),
        column("body", text, nullable),
        primary_key(["id"])),
    create_index("ix_post_published", "post", [text("published DESC"), "id"])
"#;

/// SQLite and PostgreSQL: partial and expression indexes, a deferred foreign key.
const PARTIAL: &str = r#"
    create_index("ix_post_hot", "post", ["hot_rank"], where_ = "hot_rank <> 0"),
    create_index("ix_post_lower_slug", "post", [text("lower(slug)")], unique = true),
    create_foreign_key("fk_post_author", "post", "author", ["author_id"], ["id"], deferrable = "deferred")
"#;

/// PostgreSQL: everything else.
const POSTGRES: &str = r#"
    create_index("ix_post_title_hash", "post", ["title"], using = "hash"),
    create_index("ix_post_rank_incl", "post", ["hot_rank"], include = ["title"], with = "fillfactor = 70"),
    create_index("ix_post_pub_nulls", "post", [text("published NULLS FIRST"), text("title text_pattern_ops")]),
    create_index("ix_post_slug_nnd", "post", ["slug"], unique = true, nulls_not_distinct = true),
    create_index("ix_post_body_fts", "post", [text("to_tsvector('english', body)")], using = "gin"),
    create_index("ix_post_published_brin", "post", ["published"], using = "brin", with = "pages_per_range = 1"),
    create_unique_constraint("uq_post_title", "post", ["title", "slug"], nulls_not_distinct = true, deferrable = "immediate"),
    create_check_constraint("ck_post_rank", "post", "hot_rank >= 0", not_valid = true)
"#;

fn up_for(dialect: Dialect) -> String {
    match dialect {
        Dialect::Sqlite => format!("{COMMON}, {PARTIAL}"),
        Dialect::Postgres => format!("{COMMON}, {PARTIAL}, {POSTGRES}"),
        Dialect::Mysql => COMMON.to_string(),
    }
}

fn graph_for(dialect: Dialect) -> Graph {
    Graph::from_revisions([rev(
        "r1",
        None,
        &up_for(dialect),
        r#"drop_table("post"), drop_table("author")"#,
    )])
}

#[test]
fn each_backend_builds_reads_back_and_round_trips_its_share() {
    for db in TestDb::all() {
        round_trip(&graph_for(db.dialect), &db, "base");
    }
}

/// A partial unique index and a deferred foreign key do what they say on the database.
#[test]
fn partial_unique_and_deferred_keys_behave() {
    for db in TestDb::all() {
        if db.dialect == Dialect::Mysql {
            continue;
        }
        let name = db.dialect.name();
        let graph = graph_for(db.dialect);
        let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        runner.upgrade("head").unwrap();
        // The expression index is unique on lower(slug): a case variant is refused.
        db.exec("INSERT INTO author (id, name) VALUES (1, 'a')");
        db.exec("INSERT INTO post (author_id, title, slug) VALUES (1, 't1', 'Hello')");
        let dup =
            db.try_exec("INSERT INTO post (author_id, title, slug) VALUES (1, 't2', 'hello')");
        assert!(dup.is_err(), "{name}: lower(slug) is unique");
        // Deferred: a child before its parent in one transaction commits.
        let deferred = db.try_exec(
            "BEGIN; INSERT INTO post (author_id, title, slug) VALUES (2, 't3', 'x'); INSERT INTO author (id, name) VALUES (2, 'b'); COMMIT",
        );
        assert!(
            deferred.is_ok(),
            "{name}: the key is checked at commit: {deferred:?}"
        );
    }
}

struct Mutation {
    what: &'static str,
    names: &'static str,
    /// SQLite, PostgreSQL, MySQL.
    sql: [Option<&'static str>; 3],
}

fn mutations() -> Vec<Mutation> {
    let m = |what, names, sql| Mutation { what, names, sql };
    vec![
        m("DESC dropped", "`ix_post_published`", [
            Some("DROP INDEX ix_post_published; CREATE INDEX ix_post_published ON post (published, id)"),
            Some("DROP INDEX ix_post_published; CREATE INDEX ix_post_published ON post (published, id)"),
            Some("DROP INDEX ix_post_published ON post; CREATE INDEX ix_post_published ON post (published, id)"),
        ]),
        m("key order swapped", "`ix_post_published`", [
            Some("DROP INDEX ix_post_published; CREATE INDEX ix_post_published ON post (id, published DESC)"),
            Some("DROP INDEX ix_post_published; CREATE INDEX ix_post_published ON post (id, published DESC)"),
            Some("DROP INDEX ix_post_published ON post; CREATE INDEX ix_post_published ON post (id, published DESC)"),
        ]),
        m("predicate changed", "`ix_post_hot`", [
            Some("DROP INDEX ix_post_hot; CREATE INDEX ix_post_hot ON post (hot_rank) WHERE hot_rank > 0"),
            Some("DROP INDEX ix_post_hot; CREATE INDEX ix_post_hot ON post (hot_rank) WHERE hot_rank > 0"),
            None,
        ]),
        m("predicate dropped", "`ix_post_hot`", [
            Some("DROP INDEX ix_post_hot; CREATE INDEX ix_post_hot ON post (hot_rank)"),
            Some("DROP INDEX ix_post_hot; CREATE INDEX ix_post_hot ON post (hot_rank)"),
            None,
        ]),
        m("expression changed", "`ix_post_lower_slug`", [
            Some("DROP INDEX ix_post_lower_slug; CREATE UNIQUE INDEX ix_post_lower_slug ON post (upper(slug))"),
            Some("DROP INDEX ix_post_lower_slug; CREATE UNIQUE INDEX ix_post_lower_slug ON post (upper(slug))"),
            None,
        ]),
        m("method changed", "`ix_post_title_hash`", [
            None,
            Some("DROP INDEX ix_post_title_hash; CREATE INDEX ix_post_title_hash ON post (title)"),
            None,
        ]),
        m("hash index with a WHERE", "`ix_post_title_hash`", [
            None,
            Some("DROP INDEX ix_post_title_hash; CREATE INDEX ix_post_title_hash ON post USING hash (title) WHERE hot_rank > 0"),
            None,
        ]),
        m("INCLUDE changed", "`ix_post_rank_incl`", [
            None,
            Some("DROP INDEX ix_post_rank_incl; CREATE INDEX ix_post_rank_incl ON post (hot_rank) INCLUDE (slug) WITH (fillfactor = 70)"),
            None,
        ]),
        m("storage parameter changed", "`ix_post_rank_incl`", [
            None,
            Some("ALTER INDEX ix_post_rank_incl SET (fillfactor = 80)"),
            None,
        ]),
        m("NULLS FIRST dropped", "`ix_post_pub_nulls`", [
            None,
            Some("DROP INDEX ix_post_pub_nulls; CREATE INDEX ix_post_pub_nulls ON post (published, title text_pattern_ops)"),
            None,
        ]),
        m("operator class dropped", "`ix_post_pub_nulls`", [
            None,
            Some("DROP INDEX ix_post_pub_nulls; CREATE INDEX ix_post_pub_nulls ON post (published NULLS FIRST, title)"),
            None,
        ]),
        m("NULLS NOT DISTINCT dropped from an index", "`ix_post_slug_nnd`", [
            None,
            Some("DROP INDEX ix_post_slug_nnd; CREATE UNIQUE INDEX ix_post_slug_nnd ON post (slug)"),
            None,
        ]),
        m("gin made gist", "`ix_post_body_fts`", [
            None,
            Some("DROP INDEX ix_post_body_fts; CREATE INDEX ix_post_body_fts ON post USING gist (to_tsvector('english', body))"),
            None,
        ]),
        m("brin pages changed", "`ix_post_published_brin`", [
            None,
            Some("ALTER INDEX ix_post_published_brin SET (pages_per_range = 2)"),
            None,
        ]),
        m("NULLS NOT DISTINCT dropped from a constraint", "`uq_post_title`", [
            None,
            Some("ALTER TABLE post DROP CONSTRAINT uq_post_title, ADD CONSTRAINT uq_post_title UNIQUE (title, slug) DEFERRABLE"),
            None,
        ]),
        m("unique made not deferrable", "`uq_post_title`", [
            None,
            Some("ALTER TABLE post DROP CONSTRAINT uq_post_title, ADD CONSTRAINT uq_post_title UNIQUE NULLS NOT DISTINCT (title, slug)"),
            None,
        ]),
        m("foreign key made immediate", "`fk_post_author`", [
            None,
            Some("ALTER TABLE post ALTER CONSTRAINT fk_post_author NOT DEFERRABLE"),
            None,
        ]),
        m("foreign key made initially immediate", "`fk_post_author`", [
            None,
            Some("ALTER TABLE post ALTER CONSTRAINT fk_post_author DEFERRABLE INITIALLY IMMEDIATE"),
            None,
        ]),
        m("check validated", "`ck_post_rank`", [
            None,
            Some("ALTER TABLE post VALIDATE CONSTRAINT ck_post_rank"),
            None,
        ]),
        m("index added", "`ix_extra`", [
            Some("CREATE INDEX ix_extra ON post (title DESC)"),
            Some("CREATE INDEX ix_extra ON post USING hash (title)"),
            Some("CREATE INDEX ix_extra ON post (title DESC)"),
        ]),
    ]
}

#[test]
fn every_hand_change_of_these_attributes_is_reported() {
    for template in TestDb::all() {
        let name = template.dialect.name();
        let graph = graph_for(template.dialect);
        let column = match template.dialect {
            Dialect::Sqlite => 0,
            Dialect::Postgres => 1,
            Dialect::Mysql => 2,
        };
        let mut seen = 0;
        for m in mutations() {
            let Some(sql) = m.sql[column] else {
                continue;
            };
            hand_change_is_reported(&graph, &template, m.what, sql, m.names);
            seen += 1;
        }
        let expected = match template.dialect {
            Dialect::Sqlite => 6,
            Dialect::Postgres => mutations().len(),
            Dialect::Mysql => 3,
        };
        assert_eq!(seen, expected, "{name}: every mutation ran");
    }
}

/// What a backend lacks is refused before anything runs: the message names the object,
/// the backend and what to do, and the database keeps its revision and tables.
#[test]
fn what_a_backend_lacks_is_refused_and_nothing_changes() {
    let cases: [(&str, &[Dialect], &str, &str); 8] = [
        (
            r#"add_column("t", column("tags", custom("text[]"), nullable))"#,
            &[Dialect::Sqlite, Dialect::Mysql],
            "`t.tags`",
            "json",
        ),
        (
            r#"add_column("t", column("note", custom("varchar"), nullable))"#,
            &[Dialect::Mysql],
            "`t.note`",
            "max_length",
        ),
        (
            r#"create_index("ix_t_a", "t", ["a"], using = "gin")"#,
            &[Dialect::Sqlite, Dialect::Mysql],
            "`ix_t_a`",
            "using",
        ),
        (
            r#"create_index("ix_t_a", "t", ["a"], where_ = "a > 0")"#,
            &[Dialect::Mysql],
            "`ix_t_a`",
            "partial",
        ),
        (
            r#"create_index("ix_t_a", "t", [text("lower(b)")])"#,
            &[Dialect::Mysql],
            "`ix_t_a`",
            "generated column",
        ),
        (
            r#"create_index("ix_t_a", "t", ["a"], include = ["b"])"#,
            &[Dialect::Sqlite, Dialect::Mysql],
            "`ix_t_a`",
            "trailing keys",
        ),
        (
            r#"create_unique_constraint("uq_t_a", "t", ["a"], nulls_not_distinct = true)"#,
            &[Dialect::Sqlite, Dialect::Mysql],
            "`uq_t_a`",
            "NOT NULL",
        ),
        (
            r#"create_check_constraint("ck_t_a", "t", "a > 0", not_valid = true)"#,
            &[Dialect::Sqlite, Dialect::Mysql],
            "`ck_t_a`",
            "NOT VALID",
        ),
    ];
    let base = r#"create_table("t", column("id", integer), column("a", integer), column("b", varchar(10)), primary_key(["id"]))"#;
    for template in TestDb::all() {
        let name = template.dialect.name();
        for (op, lacking, object, fix) in cases {
            if !lacking.contains(&template.dialect) {
                continue;
            }
            let db = template.another();
            let graph = Graph::from_revisions([
                rev("r1", None, base, ""),
                rev(
                    "r2",
                    Some("r1"),
                    &format!(
                        "create_table(\"u\", column(\"id\", integer), primary_key([\"id\"])), {op}"
                    ),
                    "",
                ),
            ]);
            let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
            runner.upgrade("r1").unwrap();
            let err = runner.upgrade("head").unwrap_err().to_string();
            assert!(
                err.contains(object) && err.contains(fix),
                "{name}: `{op}` was not refused naming {object} and the fix ({fix}): {err}"
            );
            assert_eq!(
                runner.current().unwrap(),
                vec!["r1".to_string()],
                "{name}: the database stays at r1"
            );
            assert_eq!(
                db.count("SELECT COUNT(*) AS n FROM retort_versions WHERE revision = 'r2'"),
                0,
                "{name}"
            );
            let tables = db.backend().introspect().unwrap();
            assert!(
                !tables.tables.contains_key("u"),
                "{name}: nothing of r2 ran"
            );
        }
    }
}

/// Each index dropped and made again as another tool (or a person) spells it: lower case,
/// no quotes, other spacing, explicit defaults (`ASC`, `NULLS LAST`, `USING btree`), extra
/// parentheses and casts. Without its version table, the database is adopted as it is and
/// checks clean: the comparison is by meaning, not by text.
#[test]
fn indexes_spelled_another_way_are_adopted() {
    let respelled: [(Dialect, &[&str]); 3] = [
        (
            Dialect::Sqlite,
            &[
                "DROP INDEX ix_post_published; create index ix_post_published on post(published desc,id asc)",
                "DROP INDEX ix_post_hot; create index ix_post_hot on post (hot_rank) where (hot_rank<>0)",
                "DROP INDEX ix_post_lower_slug; CREATE UNIQUE INDEX ix_post_lower_slug ON post (LOWER(slug))",
            ],
        ),
        (
            Dialect::Postgres,
            &[
                "DROP INDEX ix_post_published; CREATE INDEX ix_post_published ON post USING btree (published DESC NULLS FIRST, id ASC NULLS LAST)",
                "DROP INDEX ix_post_hot; CREATE INDEX ix_post_hot ON public.post (hot_rank) WHERE ((hot_rank <> 0))",
                "DROP INDEX ix_post_lower_slug; CREATE UNIQUE INDEX ix_post_lower_slug ON post (lower(slug::text))",
                "DROP INDEX ix_post_title_hash; CREATE INDEX ix_post_title_hash ON post USING HASH (title)",
                "DROP INDEX ix_post_rank_incl; CREATE INDEX ix_post_rank_incl ON post (hot_rank) INCLUDE (title) WITH (FILLFACTOR=70)",
                "DROP INDEX ix_post_pub_nulls; CREATE INDEX ix_post_pub_nulls ON post (published ASC NULLS FIRST, title text_pattern_ops ASC)",
                "DROP INDEX ix_post_body_fts; CREATE INDEX ix_post_body_fts ON post USING gin (to_tsvector('english'::regconfig, body))",
                "DROP INDEX ix_post_published_brin; CREATE INDEX ix_post_published_brin ON post USING brin (published) WITH (pages_per_range='1')",
                "DROP INDEX ix_post_slug_nnd; CREATE UNIQUE INDEX ix_post_slug_nnd ON post (slug) NULLS NOT DISTINCT",
            ],
        ),
        (
            Dialect::Mysql,
            &["DROP INDEX ix_post_published ON post; create index ix_post_published on post (published desc, id asc)"],
        ),
    ];
    for template in TestDb::all() {
        let name = template.dialect.name();
        let graph = graph_for(template.dialect);
        let db = template.another();
        let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        runner.upgrade("head").unwrap();
        let (_, statements) = respelled
            .iter()
            .find(|(d, _)| *d == template.dialect)
            .unwrap();
        for sql in *statements {
            db.exec(sql);
        }
        assert_eq!(
            runner.check().unwrap(),
            Vec::<String>::new(),
            "{name}: respelled indexes check clean"
        );
        db.exec("DROP TABLE retort_versions");
        let mut again = Runner::connect(&graph, &db.url, Options::default()).unwrap();
        again
            .upgrade("head")
            .unwrap_or_else(|e| panic!("{name}: adoption refused: {e}"));
        assert_eq!(again.current().unwrap(), vec!["r1".to_string()], "{name}");
    }
}
