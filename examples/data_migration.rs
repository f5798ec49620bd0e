//! A data migration that runs on every backend: `run(backfill_priority)` receives
//! `&mut retort::Connection`, one type whichever database it is (diesel's `MultiConnection`
//! over the compiled backends). Portable SQL goes straight through; something only one
//! database has is a `match` on the connection.
//!
//! ```text
//! cargo run --example data_migration                                   # SQLite, a temp file
//! DB_URL=postgres://… cargo run --example data_migration --features postgres
//! DB_URL=mysql://…    cargo run --example data_migration --features mysql
//! ```

use diesel::RunQueryDsl;

mod history {
    retort::migration! {
        revision: "e1",
        parents: [],
        message: "jobs",
        up: [create_table("jobs", column("id", integer, autoincrement), column("name", varchar(50)), primary_key(["id"])),
             execute("INSERT INTO jobs (name) VALUES ('transcribe'), ('urgent: diarize'), ('embed')")],
        down: [drop_table("jobs")],
    }
}

mod add_priority {
    retort::migration! {
        revision: "e2",
        parents: ["e1"],
        message: "jobs get a priority, backfilled from their names",
        up: [add_column("jobs", column("priority", integer, server_default = "0")), run(backfill_priority)],
        down: [drop_column("jobs", "priority")],
    }

    /// Urgent jobs first. The same statement on every database; the note after it shows
    /// how to reach one database's own features.
    pub fn backfill_priority(conn: &mut retort::Connection) -> Result<(), retort::DataError> {
        use diesel::RunQueryDsl;
        diesel::sql_query("UPDATE jobs SET priority = 10 WHERE name LIKE 'urgent:%'")
            .execute(conn)?;
        let note = match conn {
            retort::Connection::Sqlite(_) => "SQLite: the whole migration is one transaction",
            #[cfg(feature = "postgres")]
            retort::Connection::Postgres(_) => "PostgreSQL: the whole migration is one transaction",
            #[cfg(feature = "mysql")]
            retort::Connection::Mysql(_) => {
                "MySQL: DDL commits on its own; progress is recorded per step"
            }
            // A backend compiled into retort by another crate of the build.
            #[allow(unreachable_patterns)]
            _ => "another database",
        };
        eprintln!("backfill_priority: {note}");
        Ok(())
    }
}

static LIST: [&retort::CompiledMigration; 2] = [&history::MIGRATION, &add_priority::MIGRATION];
static MIGRATIONS: retort::Migrations = retort::Migrations::new(&LIST);

/// Upgrades the database at `url` to head and returns each job's name and priority.
pub fn run(url: &str) -> Result<Vec<(String, i32)>, Box<dyn std::error::Error + Send + Sync>> {
    let graph = retort::Graph::from_migrations(&MIGRATIONS);
    let url = retort::DatabaseUrl::parse(url)?;
    let mut runner = retort::Runner::connect(&graph, &url, retort::Options::default())?;
    runner.upgrade("head")?;
    #[derive(diesel::QueryableByName)]
    struct Job {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        priority: i32,
    }
    let mut backend = retort::backend::connect(&url)?;
    let jobs: Vec<Job> = diesel::sql_query("SELECT name, priority FROM jobs ORDER BY id")
        .load(backend.connection())?;
    Ok(jobs.into_iter().map(|j| (j.name, j.priority)).collect())
}

#[allow(dead_code)] // a module of the server tests too
fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let url = match std::env::var("DB_URL") {
        Ok(url) => url,
        Err(_) => {
            let dir = std::env::temp_dir().join(format!("retort-data-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            format!("sqlite:///{}", dir.join("jobs.db").display())
        }
    };
    for (name, priority) in run(&url)? {
        println!("{priority:>3}  {name}");
    }
    Ok(())
}
