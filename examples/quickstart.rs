//! Quick start: upgrade a fresh SQLite file to head with the reference app's migrations,
//! write a task through the diesel DSL the models generate, and print where the database is.
//!
//! ```text
//! cargo run --example quickstart
//! ```

use diesel::prelude::*;
use records::models::{tasks, Task};
use retort::{DatabaseUrl, Graph, Options, Runner};

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let dir = std::env::temp_dir().join(format!("retort-quickstart-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("quickstart.db");
    let graph = Graph::from_migrations(&records::MIGRATIONS);
    let mut runner = Runner::connect(
        &graph,
        &DatabaseUrl::SqliteFile(path.clone()),
        Options::default(),
    )?
    .with_log(|line| println!("{line}"));
    runner.upgrade("head")?;

    let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
    let now = retort::dsl::UtcDateTime::now();
    diesel::insert_into(tasks::table)
        .values((
            tasks::uuid.eq("quickstart-1"),
            tasks::status.eq("queued"),
            tasks::task_type.eq("transcription"),
            tasks::created_at.eq(now),
            tasks::updated_at.eq(now),
        ))
        .execute(&mut conn)?;
    let task: Task = tasks::table.select(Task::as_select()).first(&mut conn)?;
    println!(
        "task {} is {} (retry_count {})",
        task.uuid, task.status, task.retry_count
    );
    println!("database at {}", runner.current()?.join(", "));
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
