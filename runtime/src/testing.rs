//! Helpers for an application's own tests (feature `testing`).
//!
//! ```no_run
//! # mod hidden { pub static MIGRATIONS: retort::Migrations = retort::Migrations::new(&[]); }
//! # use hidden::MIGRATIONS;
//! #[test]
//! fn migrations_are_sound() {
//!     retort::testing::assert_single_head(&MIGRATIONS);
//!     retort::testing::assert_stairway(&MIGRATIONS);
//!     retort::testing::assert_models_match_database(&MIGRATIONS);
//! }
//! ```

use std::path::PathBuf;

use crate::graph::Graph;
use crate::migration::Migrations;
use crate::runner::{Options, Runner};
use crate::url::DatabaseUrl;

/// A throwaway SQLite file, deleted on drop.
pub struct TestDatabase {
    _dir: tempfile::TempDir,
    /// The file.
    pub path: PathBuf,
    /// Its URL (`sqlite:///…`).
    pub url: String,
}

impl TestDatabase {
    /// An empty database.
    pub fn empty() -> TestDatabase {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("test.db");
        let url = format!("sqlite:///{}", path.display());
        TestDatabase {
            _dir: dir,
            path,
            url,
        }
    }

    /// A runner for it.
    pub fn runner<'g>(&self, graph: &'g Graph) -> Runner<'g> {
        let url = DatabaseUrl::parse(&self.url).expect("a test database URL parses");
        Runner::connect(graph, &url, Options::default()).expect("the test database opens")
    }

    /// A diesel connection to it.
    pub fn connect(&self) -> diesel::SqliteConnection {
        use diesel::Connection as _;
        diesel::SqliteConnection::establish(&self.path.to_string_lossy())
            .expect("the test database opens")
    }
}

/// A fresh database upgraded to head.
pub fn database_at_head(migrations: &Migrations) -> TestDatabase {
    let db = TestDatabase::empty();
    let graph = Graph::from_migrations(migrations);
    let mut runner = db.runner(&graph);
    runner
        .upgrade("head")
        .unwrap_or_else(|e| panic!("upgrade to head failed: {e}"));
    db
}

/// Panics unless the migrations have exactly one head.
pub fn assert_single_head(migrations: &Migrations) {
    let heads = Graph::from_migrations(migrations).heads();
    assert!(
        heads.len() == 1,
        "expected one head, found {}: {}; rebuild to let retort-build write a merge migration",
        heads.len(),
        heads.join(", ")
    );
}

/// The stairway: from an empty database, every migration upgrades, downgrades and upgrades again.
pub fn assert_stairway(migrations: &Migrations) {
    let db = TestDatabase::empty();
    let graph = Graph::from_migrations(migrations);
    let mut runner = db.runner(&graph);
    for rev in graph.all_ordered() {
        let id = rev.id();
        for (step, result) in [
            ("upgrade", runner.upgrade(id)),
            ("downgrade", runner.downgrade("-1")),
            ("upgrade again", runner.upgrade(id)),
        ] {
            if let Err(e) = result {
                panic!("stairway: {step} of {id} failed: {e}");
            }
        }
        assert_eq!(
            runner.current().expect("current"),
            vec![id.to_string()],
            "stairway: {id} is not current after its upgrade"
        );
    }
}

/// Panics with the differences unless a database at head matches the models.
pub fn assert_models_match_database(migrations: &Migrations) {
    let db = database_at_head(migrations);
    let graph = Graph::from_migrations(migrations);
    let mut runner = db.runner(&graph);
    let differences = runner.check().expect("introspection");
    assert!(
        differences.is_empty(),
        "the migrated database differs from the models:\n  - {}",
        differences.join("\n  - ")
    );
}
