//! `retort squash`: one checkpoint migration in place of the history up to a revision.
//!
//! The checkpoint's operations build that revision's schema from nothing. Data steps
//! (`run(…)`, `execute(…)`) of the replaced migrations are kept where they ran: the
//! checkpoint builds the schema up to the first migration that holds one, then repeats that
//! migration and every later one as written (a data step then meets the schema it was
//! written for, and a rename after it keeps its rows). A migration marked `elidable: true`
//! has its data steps dropped; a backfill is always dropped (it fills rows, and a database
//! the checkpoint builds has none before the data steps). What cannot go in one
//! transaction after a kept data step makes the squash refuse, with the list.
//!
//! The file lists the revisions it replaces. While their files remain, databases go through
//! them and each build proves the checkpoint equal to them (see [`crate::history`]); once
//! they are deleted, the checkpoint takes their place.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use retort_schema::clock;
use retort_schema::diff;
use retort_schema::ops::Op;
use retort_schema::Schema;

use crate::codegen::{self, NewMigrationFile, Origin};
use crate::error::Error;
use crate::history::{Entry, History};

/// What [`squash`] wrote.
#[derive(Debug)]
pub struct Squashed {
    /// The checkpoint's file.
    pub path: PathBuf,
    /// Its revision.
    pub revision: String,
    /// The revision it stands for (the last it replaces).
    pub stands_for: String,
    /// The files it replaces, to delete once every database is at or past `stands_for`.
    pub replaced: Vec<PathBuf>,
    /// Migrations whose data steps it keeps.
    pub kept: Vec<String>,
    /// Migrations whose data steps it dropped (`elidable: true`, or backfills).
    pub dropped: Vec<String>,
}

/// Writes a checkpoint that replaces `to` (a revision, a unique prefix of one, or `head`)
/// and its ancestors, in the migrations folder `migrations_dir` of the crate in
/// `manifest_dir`. Refuses, writing nothing, when an earlier checkpoint's files are still
/// there, when a migration outside the range branches off inside it, when data steps cannot
/// be kept, or when the result does not prove equal to the history it replaces.
pub fn squash(
    manifest_dir: &Path,
    migrations_dir: &Path,
    to: &str,
    message: &str,
    now: u64,
) -> Result<Squashed, Error> {
    let dir = manifest_dir.join(migrations_dir);
    let history = History::load(&dir)?;
    let refuse = |reason: String| Error::SquashRefused { reason };
    if let Some(c) = history.set_aside.values().next() {
        return Err(refuse(format!(
            "checkpoint {} ({}) still has the files it replaces; delete them once every database is at or past {} (the build then puts the checkpoint in their place), and squash after that — a checkpoint of a checkpoint still in its transition would leave databases no path",
            c.file.revision,
            c.path.display(),
            c.file.replaces.last().map(String::as_str).unwrap_or("its last revision")
        )));
    }
    let stands_for = resolve(&history, to)?;
    let range = history.ancestors(&stands_for);
    if range.len() < 2 {
        return Err(refuse(format!(
            "{stands_for} has no ancestors to squash with; name a later revision"
        )));
    }
    // A migration outside the range may only start from its last revision.
    for e in history.entries.values() {
        if range.contains(&e.file.revision) {
            continue;
        }
        if let Some(p) = e
            .file
            .parents
            .iter()
            .find(|p| range.contains(*p) && **p != stands_for)
        {
            return Err(refuse(format!(
                "{} ({}) starts from {p}, inside the range; squash up to a revision after the branches merge",
                e.file.revision,
                e.path.display()
            )));
        }
    }
    let ordered = history.order(&range);
    let target = history.replay(&[stands_for.as_str()])?;
    let Plan { up, kept, dropped } = operations(&history, &ordered, &target)?;

    let down: Vec<(Op, bool)> = diff::diff(&target, &Schema::new())?
        .up
        .into_iter()
        .map(|op| (op, true))
        .collect();
    // The replaced revisions, an earlier checkpoint's own list first (databases may still
    // hold rows of those).
    let mut replaces: Vec<String> = Vec::new();
    for e in &ordered {
        for r in &e.file.replaces {
            if !replaces.contains(r) {
                replaces.push(r.clone());
            }
        }
        replaces.push(e.file.revision.clone());
    }
    let up_ops: Vec<Op> = up.iter().map(|(o, _)| o.clone()).collect();
    let taken = |id: &str| history.entries.contains_key(id);
    let revision = retort_schema::migration::revision_id(now, &[], &up_ops, &taken);
    let slug = codegen::slugify(message);
    let text = codegen::file_text(&NewMigrationFile {
        revision: &revision,
        parents: &[],
        message: &slug,
        created: &clock::human(now),
        up: &up,
        down: &down,
        lints: &[],
        origin: Origin::Squash,
        replaces: &replaces,
    });
    let path = dir.join(format!("{revision}_{slug}.rs"));
    crate::snapshot::write_all(&[(path.clone(), text)])?;
    // The build's proof, now: a checkpoint that does not stand for its history is removed.
    if let Err(e) = History::load(&dir) {
        let _ = std::fs::remove_file(&path);
        return Err(e);
    }
    Ok(Squashed {
        path,
        revision,
        stands_for,
        replaced: ordered.iter().map(|e| e.path.clone()).collect(),
        kept,
        dropped,
    })
}

/// `head`, a revision, or a unique prefix of one.
fn resolve(history: &History, to: &str) -> Result<String, Error> {
    let refuse = |reason: String| Error::SquashRefused { reason };
    if to == "head" {
        let heads = history.heads();
        return match heads.as_slice() {
            [one] => Ok(one.file.revision.clone()),
            [] => Err(refuse("there are no migrations to squash".into())),
            many => Err(refuse(format!(
                "there are {} heads ({}); merge them (build once) or name the revision to squash up to",
                many.len(),
                many.iter().map(|e| e.file.revision.as_str()).collect::<Vec<_>>().join(", ")
            ))),
        };
    }
    if history.entries.contains_key(to) {
        return Ok(to.to_string());
    }
    let matches: Vec<&String> = history
        .entries
        .keys()
        .filter(|k| k.starts_with(to))
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(refuse(format!("no revision {to} in the migrations"))),
        many => Err(refuse(format!(
            "{to} names several revisions ({}); give more of the id",
            many.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// A data step: what the schema replay does not see.
fn is_data(op: &Op) -> bool {
    matches!(op, Op::RunRust { .. } | Op::Execute { .. })
}

/// The checkpoint's upgrade, and which migrations' data steps it keeps and drops.
struct Plan {
    up: Vec<(Op, bool)>,
    kept: Vec<String>,
    dropped: Vec<String>,
}

/// `target` is the schema at the last of `ordered` (replayed once, by the caller).
fn operations(history: &History, ordered: &[&Entry], target: &Schema) -> Result<Plan, Error> {
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    let first_kept = ordered
        .iter()
        .position(|e| !e.file.elidable && e.file.up.iter().any(is_data));
    for e in ordered {
        let has_data = e.file.up.iter().any(is_data);
        let has_backfill = e.file.up.iter().any(|o| matches!(o, Op::Backfill { .. }));
        if (has_data && e.file.elidable) || has_backfill {
            dropped.push(e.file.revision.clone());
        }
    }
    let Some(first) = first_kept else {
        let up = diff::diff(&Schema::new(), target)?.up;
        return Ok(Plan {
            up: up.into_iter().map(|o| (o, false)).collect(),
            kept,
            dropped,
        });
    };
    // Up to the first kept data step, the schema as one diff; from there, as written.
    let before: BTreeSet<String> = ordered[..first]
        .iter()
        .map(|e| e.file.revision.clone())
        .collect();
    let mut schema = Schema::new();
    for e in history.order(&before) {
        for op in &e.file.up {
            op.apply(&mut schema)?;
        }
    }
    let mut up: Vec<(Op, bool)> = diff::diff(&Schema::new(), &schema)?
        .up
        .into_iter()
        .map(|o| (o, false))
        .collect();
    let mut refused = Vec::new();
    for e in &ordered[first..] {
        if !e.file.atomic {
            refused.push(format!(
                "{} ({}) runs outside a transaction, after the data steps of {}",
                e.file.revision,
                e.path.display(),
                ordered[first].file.revision
            ));
            continue;
        }
        let data = e.file.up.iter().any(is_data);
        if data && !e.file.elidable {
            kept.push(e.file.revision.clone());
        }
        for op in &e.file.up {
            if matches!(op, Op::Backfill { .. }) || (e.file.elidable && is_data(op)) {
                continue;
            }
            up.push((op.clone(), false));
        }
    }
    if !refused.is_empty() {
        return Err(Error::SquashRefused {
            reason: format!(
                "the checkpoint runs in one transaction and keeps data steps, but:\n{}\nMark the data migrations `elidable: true` if a new database does not need their rows, or squash up to a revision before the first of these",
                refused.iter().map(|r| format!("  - {r}")).collect::<Vec<_>>().join("\n")
            ),
        });
    }
    Ok(Plan { up, kept, dropped })
}

/// A checkpoint in its transition: what it replaces, and those revisions' files.
#[derive(Debug)]
pub struct Transition {
    /// The checkpoint's revision.
    pub checkpoint: String,
    /// The revisions it replaces.
    pub replaces: Vec<String>,
    /// Their files, still in the folder.
    pub files: Vec<PathBuf>,
}

/// The checkpoints in their transition (the time to delete their files is when every
/// database is at or past the last revision each replaces).
pub fn transitions(manifest_dir: &Path, migrations_dir: &Path) -> Result<Vec<Transition>, Error> {
    let history = History::load(&manifest_dir.join(migrations_dir))?;
    Ok(history
        .set_aside
        .values()
        .map(|c| Transition {
            checkpoint: c.file.revision.clone(),
            replaces: c.file.replaces.clone(),
            files: c
                .file
                .replaces
                .iter()
                .filter_map(|r| history.entries.get(r).map(|e| e.path.clone()))
                .collect(),
        })
        .collect())
}
