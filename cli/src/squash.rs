//! `retort squash`: a checkpoint for the history up to a revision.

use std::path::Path;

pub fn run(crate_dir: &Path, migrations: &Path, to: &str, message: &str) -> Result<(), String> {
    let now = retort_schema::clock::now(std::env::var("RETORT_NOW").ok().as_deref());
    let s = retort_build::squash::squash(crate_dir, migrations, to, message, now)
        .map_err(|e| e.to_string())?;
    println!(
        "wrote checkpoint {} ({}): it replaces {} migrations, up to {}",
        s.revision,
        s.path.display(),
        s.replaced.len(),
        s.stands_for
    );
    if !s.kept.is_empty() {
        println!("kept the data steps of {}", s.kept.join(", "));
    }
    if !s.dropped.is_empty() {
        println!(
            "dropped the data steps of {} (elidable, or backfills: a new database has no rows to fill)",
            s.dropped.join(", ")
        );
    }
    println!(
        "keep the replaced files until every database is at or past {}: until then databases go through them and each build proves the checkpoint equal to them. Then delete them; the checkpoint takes their place (a database still part-way through them is refused, naming the release to upgrade it with)",
        s.stands_for
    );
    Ok(())
}
