//! The fixture app `fixtures/agora` (a community forum: 32 tables on every backend, 35 on
//! PostgreSQL; enums, a second
//! PostgreSQL schema, arrays, GIN/GiST/BRIN/hash, partial, expression and INCLUDE indexes,
//! identity `ALWAYS`, deferred and `NOT VALID` constraints, named constraints under
//! PostgreSQL's naming convention, views, a materialized view, functions, triggers,
//! extensions, a sequence and a composite type; 29 or 30 migrations per backend) on each
//! backend: its committed history builds with nothing to write (`RETORT_MODE=check`), upgrades
//! a fresh database, checks clean, keeps rows written through the derive's diesel DSL across
//! a downgrade over renamed enum values, dropped objects and backend tables and back,
//! downgrades to base leaving only the version table, and upgrades and checks clean again.

use std::path::PathBuf;
use std::process::{Command, Output};

use retort::schema::sql::Dialect;

#[path = "../runtime/tests/support/mod.rs"]
mod runtime_support;
mod support;
use runtime_support::TestDb;

fn fixture() -> PathBuf {
    support::workspace().join("fixtures/agora")
}

/// `cargo build` of the fixture for one backend, refusing to write a migration.
fn build(dialect: Dialect) -> PathBuf {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.arg("build").current_dir(fixture());
    if dialect != Dialect::Sqlite {
        cmd.args(["--no-default-features", "--features", dialect.name()]);
    }
    let target = support::workspace().join("target/fixtures");
    cmd.env("CARGO_TARGET_DIR", &target)
        .env("CARGO_PROFILE_DEV_DEBUG", "0");
    for key in retort_build::SETTINGS_ENV {
        cmd.env_remove(key);
    }
    // The committed history must already say everything the models say.
    cmd.env("RETORT_MODE", "check");
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{}: agora build failed:\n{text}",
        dialect.name()
    );
    let own_warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("warning") && !l.contains("retort-build"))
        .collect();
    assert!(own_warnings.is_empty(), "{}: {text}", dialect.name());
    target.join("debug/agora")
}

fn run(bin: &PathBuf, db: &TestDb, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .env("DB_URL", &db.url_text)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

fn ok(bin: &PathBuf, db: &TestDb, args: &[&str]) -> String {
    let out = run(bin, db, args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{}: agora {args:?} failed:\n{text}",
        db.dialect.name()
    );
    text
}

fn clean(bin: &PathBuf, db: &TestDb) {
    let said = ok(bin, db, &["check"]);
    assert!(said.contains("the database matches the models"), "{said}");
}

/// The migration files of one backend's history.
fn history(dialect: Dialect) -> Vec<String> {
    let mut files: Vec<String> =
        std::fs::read_dir(fixture().join("migrations").join(dialect.name()))
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".rs"))
            .collect();
    files.sort();
    files
}

/// The names of the tables (any schema) besides the version table.
fn tables(db: &TestDb) -> Vec<String> {
    let sql = match db.dialect {
        Dialect::Sqlite => "SELECT name AS v FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        Dialect::Postgres => "SELECT schemaname || '.' || tablename AS v FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') UNION ALL SELECT schemaname || '.' || matviewname FROM pg_matviews",
        Dialect::Mysql => "SELECT TABLE_NAME AS v FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
    };
    let mut names: Vec<String> = db
        .texts(sql)
        .into_iter()
        .flatten()
        .filter(|n| !n.ends_with("retort_versions"))
        .collect();
    names.sort();
    names
}

#[test]
fn the_fixture_app_builds_upgrades_checks_clean_downgrades_to_base_and_upgrades_again() {
    for db in TestDb::all() {
        let dialect = db.dialect;
        let name = dialect.name();
        let files = history(dialect);
        assert!(files.len() >= 28, "{name}: {} migrations", files.len());
        let bin = build(dialect);

        let said = ok(&bin, &db, &["upgrade", "head"]);
        assert_eq!(
            said.matches("applied ").count(),
            files.len(),
            "{name}: {said}"
        );
        clean(&bin, &db);
        let at_head = tables(&db);
        // Tables (with PostgreSQL's materialized view, and MariaDB's view and sequence, which its catalog
        // lists among them).
        let expected = match dialect {
            Dialect::Sqlite => 32,
            Dialect::Postgres => 36,
            Dialect::Mysql => 34,
        };
        assert_eq!(at_head.len(), expected, "{name}: {at_head:?}");
        if dialect == Dialect::Postgres {
            assert!(
                at_head.contains(&"archive.logins".to_string()),
                "{at_head:?}"
            );
            assert!(at_head.contains(&"audit.events".to_string()), "{at_head:?}");
        }

        // Rows written and read through the derive's DSL (enum values both ways).
        let seeded = ok(&bin, &db, &["seed"]);
        assert!(
            seeded.contains(r#"[(1, "Hello", Published), (2, "Spam", Removed)]"#),
            "{name}: {seeded}"
        );
        if dialect == Dialect::Postgres {
            // Lists with NULL elements (`Vec<Option<T>>`) through `Array<Nullable<T>>`.
            assert!(
                seeded.contains(r#"([Some("first post"), None], Some([None, Some(7)]))"#),
                "{name}: {seeded}"
            );
        }
        // Down over the backend tables, objects, a dropped enum value, a narrowed column and
        // a renamed enum value (the user's `moderator` is `mod` there), and up again.
        ok(&bin, &db, &["downgrade", "20260117_000000_8972"]);
        let role = match dialect {
            Dialect::Mysql => "SELECT CAST(role AS CHAR) AS v FROM users",
            _ => "SELECT CAST(role AS TEXT) AS v FROM users",
        };
        assert_eq!(
            db.texts(role),
            [Some("mod".to_string())],
            "{name}: the renamed value is renamed back"
        );
        ok(&bin, &db, &["upgrade", "head"]);
        clean(&bin, &db);
        assert_eq!(db.texts(role), [Some("moderator".to_string())], "{name}");
        assert_eq!(
            db.count("SELECT COUNT(*) AS n FROM posts WHERE status = 'removed'"),
            1,
            "{name}"
        );
        let seeded_again = run(&bin, &db, &["seed"]);
        assert!(
            !seeded_again.status.success(),
            "{name}: the rows are still there"
        );

        // Down to base would take `removed` out of `post_status` while a post holds it:
        // refused, naming the column and the value, with that migration rolled back.
        let out = run(&bin, &db, &["downgrade", "base"]);
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success()
                && said.contains("column `posts.status` still holds one")
                && said.contains("`removed`"),
            "{name}: {said}"
        );
        assert_eq!(
            db.count("SELECT COUNT(*) AS n FROM posts WHERE status = 'removed'"),
            1,
            "{name}"
        );
        for table in ["posts", "community_members", "communities", "users"] {
            db.exec(&format!("DELETE FROM {table}"));
        }

        // Base: nothing of the app is left; then everything again.
        let said = ok(&bin, &db, &["downgrade", "base"]);
        assert!(said.contains("now at base"), "{name}: {said}");
        assert_eq!(tables(&db), Vec::<String>::new(), "{name}");
        let out = run(&bin, &db, &["check"]);
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            !out.status.success() && said.contains("table `posts` is missing"),
            "{name}: check at base: {said}"
        );
        ok(&bin, &db, &["upgrade", "head"]);
        clean(&bin, &db);
        assert_eq!(tables(&db), at_head, "{name}");
    }
}
