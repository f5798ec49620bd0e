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
        "keep the replaced files until every database is at or past {}: until then databases go through them and each build proves the checkpoint equal to them. Then delete them (`retort prune`); the checkpoint takes their place (a database still part-way through them is refused, naming the release to upgrade it with)",
        s.stands_for
    );
    Ok(())
}

/// `retort prune`: deletes the files of checkpoints in their transition, after checking the
/// database (if given) has every one of them applied.
pub fn prune(
    crate_dir: &Path,
    migrations: &Path,
    database_url: Option<&str>,
) -> Result<(), String> {
    let list =
        retort_build::squash::transitions(crate_dir, migrations).map_err(|e| e.to_string())?;
    if list.is_empty() {
        println!("no checkpoint has files to delete");
        return Ok(());
    }
    if let Some(url) = database_url {
        let url = retort::DatabaseUrl::parse(url).map_err(|e| e.to_string())?;
        let mut backend = retort::backend::connect(&url).map_err(|e| e.to_string())?;
        let applied: std::collections::BTreeSet<String> = backend
            .applied()
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|r| r.revision)
            .collect();
        for t in &list {
            let checkpoint = &t.checkpoint;
            let missing: Vec<&String> = t
                .replaces
                .iter()
                .filter(|r| !applied.contains(*r))
                .collect();
            if !missing.is_empty() && !applied.contains(checkpoint) {
                return Err(format!(
                    "the database at {url} has not applied {} of the revisions checkpoint {checkpoint} replaces (first: {}); upgrade it before deleting their files. Nothing was deleted",
                    missing.len(),
                    missing[0]
                ));
            }
        }
    }
    let mut count = 0;
    for t in &list {
        for f in &t.files {
            std::fs::remove_file(f).map_err(|e| format!("{}: {e}", f.display()))?;
            count += 1;
        }
        println!(
            "deleted the {} files checkpoint {} replaces",
            t.files.len(),
            t.checkpoint
        );
    }
    println!("{count} files deleted; the next build puts the checkpoint in their place");
    Ok(())
}
