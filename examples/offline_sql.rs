//! Offline SQL: print the script that upgrades an empty SQLite database to head — what a DBA
//! would review — without touching any database.
//!
//! ```text
//! cargo run --example offline_sql
//! ```

use retort::schema::sql::Dialect;
use retort::Graph;

fn main() -> Result<(), retort::Error> {
    let graph = Graph::from_migrations(&records::MIGRATIONS);
    print!(
        "{}",
        retort::upgrade_sql(&graph, "base", "head", Dialect::Sqlite)?
    );
    Ok(())
}
