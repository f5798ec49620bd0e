//! The diff: two schemas → the ordered operations that turn one into the other,
//! their inverses (the downgrade), and the warnings a reviewer must see.
//!
//! Renames come only from declared hints (`renamed_from`); a drop plus an add
//! that look like a rename produce a warning naming the hint to add.

use std::collections::BTreeSet;

use crate::model::{Column, ColumnType, Schema, Table};
use crate::ops::{ApplyError, ColumnChanges, ConstraintKind, Op};

/// What a diff produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    /// Operations for the upgrade, in order.
    pub up: Vec<Op>,
    /// Operations for the downgrade, in order (the inverses, last first).
    pub down: Vec<Op>,
    /// Warnings for the reviewer.
    pub lints: Vec<Lint>,
}

impl Diff {
    /// Whether the schemas were equal.
    pub fn is_empty(&self) -> bool {
        self.up.is_empty()
    }
}

pub use crate::lint::{Lint, LintKind};

/// Computes the operations that turn `old` into `new`.
///
/// `new` may carry rename hints (`renamed_from`); `old` is a replayed or snapshot schema.
///
/// ```
/// use retort_schema::{diff::diff, Column, ColumnType, Schema, Table};
///
/// let mut t = Table::new("tasks");
/// t.columns.push(Column::new("id", ColumnType::Integer));
/// t.primary_key = vec!["id".into()];
/// let old = Schema::from_tables([t.clone()]);
/// let mut retry = Column::new("retry_count", ColumnType::Integer);
/// retry.server_default = Some("0".into());
/// t.columns.push(retry);
/// let d = diff(&old, &Schema::from_tables([t])).unwrap();
/// assert_eq!(d.up.len(), 1);
/// assert_eq!(d.up[0].describe(), "add column tasks.retry_count (integer, NOT NULL, default 0)");
/// assert_eq!(d.down[0].describe(), "drop column tasks.retry_count");
/// ```
pub fn diff(old: &Schema, new: &Schema) -> Result<Diff, ApplyError> {
    // Enum types are made or changed before the tables (whose columns then compare equal),
    // and dropped after them.
    let (enum_first, enum_last) = enum_ops(old, new)?;
    let old_tables = old;
    // A copy only when an enum changes (a diff costs its changes, not the schema's size).
    let with_enums;
    let old = if enum_first.is_empty() {
        old
    } else {
        let mut s = old.clone();
        for op in &enum_first {
            op.apply(&mut s)?;
        }
        with_enums = s;
        &with_enums
    };
    let renamed = Renamed::plan(old, new)?;
    let tables = Tables::pair(&renamed.schema, new);
    tables.refuse_key_changes()?;
    tables.refuse_unconvertible_types()?;
    let mut up = Vec::new();
    let mut lints = Vec::new();
    // Objects that go or change are dropped first (a view over a column that changes, a
    // trigger on a table that goes) and made again last, over the tables as they end up.
    let (drop_objects, create_objects) = object_ops(old, new);
    // What reads the tables goes before them; what they use (types, sequences, the
    // functions of defaults and checks) after them — unless it names a table itself.
    let early = |op: &Op| match op {
        Op::CreateObject { object } | Op::DropObject { object } => {
            object.kind.before_tables() && !names_a_table(object, old, new)
        }
        _ => false,
    };
    // An early object that goes for good goes after the tables that used it; one that is
    // replaced goes first, so its new version can be made before them.
    let replaced = |op: &Op| match op {
        Op::DropObject { object } => new.objects.contains_key(&object.key()),
        _ => false,
    };
    let (drop_after_tables, drop_first): (Vec<Op>, Vec<Op>) = drop_objects
        .into_iter()
        .partition(|o| early(o) && !replaced(o));
    let (create_first, create_last): (Vec<Op>, Vec<Op>) =
        create_objects.into_iter().partition(|o| early(o));
    up.extend(enum_first);
    up.extend(drop_first);
    up.extend(create_first);
    // Drops of what goes or changes name tables as they were: before the renames, so that a
    // constraint over a renamed column is dropped before the rename and re-created after
    // it, and the downgrade, which runs the inverses last first, can run too.
    tables.drop_changed_constraints(&renamed, &mut up);
    up.extend(renamed.ops);
    // Names derived from a renamed table or column change with it: renamed, not dropped
    // and made again (which would build or check them again).
    up.extend(members::rename_ops_of(
        &tables.kept,
        &tables.renamed_members,
    ));
    let deferred_fks = tables.create_tables(&mut up);
    tables.change_columns(&mut up, &mut lints);
    tables.add_constraints(&mut up);
    up.extend(deferred_fks);
    tables.drop_tables(&mut up, &mut lints);
    tables.change_comments(&mut up);
    up.extend(drop_after_tables);
    up.extend(create_last);
    up.extend(enum_last);

    let old = old_tables;
    let down = inverse_of(&up, old)?;
    let mut after = old.clone();
    let mut all = lint_walk(&up, &mut after, "")?;
    all.extend(lint_walk(&down, &mut after, "downgrade: ")?);
    all.extend(lints);
    Ok(Diff {
        up,
        down,
        lints: all,
    })
}

/// The old (renamed) and new tables, paired: kept on both sides, created, dropped.
struct Tables<'a> {
    old: &'a Schema,
    kept: Vec<(&'a Table, &'a Table)>,
    created: Vec<&'a Table>,
    dropped: Vec<&'a Table>,
    /// Indexes and constraints of kept tables that only change name.
    renamed_members: Vec<MemberRename>,
}

impl<'a> Tables<'a> {
    fn pair(old: &'a Schema, new: &'a Schema) -> Tables<'a> {
        let kept: Vec<(&Table, &Table)> = new
            .tables
            .values()
            .filter_map(|n| old.tables.get(&n.name).map(|o| (o, n)))
            .collect();
        Tables {
            old,
            renamed_members: kept
                .iter()
                .flat_map(|(o, n)| member_renames(o, n))
                .collect(),
            kept,
            created: new
                .tables
                .values()
                .filter(|n| !old.tables.contains_key(&n.name))
                .collect(),
            dropped: old
                .tables
                .values()
                .filter(|o| !new.tables.contains_key(&o.name))
                .collect(),
        }
    }

    /// Key changes need a table rebuild on every database and a plan for the data;
    /// autogenerate refuses them rather than guess.
    fn refuse_key_changes(&self) -> Result<(), ApplyError> {
        let kept = &self.kept;
        for (o, n) in kept {
            if o.primary_key != n.primary_key {
                return Err(ApplyError {
                    message: format!(
                        "the primary key of `{}` changes from ({}) to ({}); autogenerate does not write key changes. Write this migration by hand (retort revision -m \"…\", then create_table/execute), or keep the key",
                        n.name, o.primary_key.join(", "), n.primary_key.join(", ")
                    ),
                });
            }
            for c in &n.columns {
                if o.column(&c.name).is_some_and(|b| {
                    b.autoincrement != c.autoincrement || b.identity_always != c.identity_always
                }) {
                    return Err(ApplyError {
                        message: format!(
                            "`autoincrement` of `{}.{}` changes (or whether it is `always`); autogenerate does not write that change. Write this migration by hand (on PostgreSQL: execute(\"ALTER TABLE … ALTER COLUMN … SET GENERATED ALWAYS\")), or keep the setting",
                            n.name, c.name
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// A type change whose values have no conversion that keeps their meaning (both ways:
    /// the downgrade converts back) is refused, with what to do instead.
    fn refuse_unconvertible_types(&self) -> Result<(), ApplyError> {
        for (o, n) in &self.kept {
            for c in &n.columns {
                let Some(before) = o.column(&c.name) else {
                    continue;
                };
                if let Some(message) = crate::convert::refusal(&n.name, &c.name, &before.ty, &c.ty)
                {
                    return Err(ApplyError { message });
                }
            }
        }
        Ok(())
    }

    /// Steps 3–4: foreign keys, then indexes, uniques and checks, that go or change.
    fn drop_changed_constraints(&self, renamed: &Renamed, up: &mut Vec<Op>) {
        let drop = |table: &str, name: &str, kind| Op::DropConstraint {
            table: renamed.before(table),
            name: name.to_string(),
            kind,
        };
        let renamed_away = |t: &str, name: &str, kind| {
            self.renamed_members
                .iter()
                .any(|r| r.covers(t, name, kind, true))
        };
        // 3. Foreign keys that go or change, before anything they point at moves.
        for (o, n) in &self.kept {
            up.extend(
                only_in(&o.foreign_keys, &n.foreign_keys)
                    .filter(|fk| !renamed_away(&n.name, &fk.name, Some(ConstraintKind::ForeignKey)))
                    .map(|fk| drop(&n.name, &fk.name, ConstraintKind::ForeignKey)),
            );
        }
        // 4. Indexes, uniques and checks that go or change.
        for (o, n) in &self.kept {
            up.extend(
                only_in(&o.indexes, &n.indexes)
                    .filter(|i| !renamed_away(&n.name, &i.name, None))
                    .map(|i| Op::DropIndex {
                        table: renamed.before(&n.name),
                        name: i.name.clone(),
                        concurrently: false,
                    }),
            );
            up.extend(
                only_in(&o.uniques, &n.uniques)
                    .filter(|u| !renamed_away(&n.name, &u.name, Some(ConstraintKind::Unique)))
                    .map(|u| drop(&n.name, &u.name, ConstraintKind::Unique)),
            );
            up.extend(
                o.checks
                    .iter()
                    .filter(|c| !has_check(&n.checks, c))
                    .filter(|c| !renamed_away(&n.name, &c.name, Some(ConstraintKind::Check)))
                    .map(|c| drop(&n.name, &c.name, ConstraintKind::Check)),
            );
        }
    }

    /// Step 5: new tables, referenced tables first; the foreign keys that close a cycle are
    /// returned, to be added once every table exists.
    fn create_tables(&self, up: &mut Vec<Op>) -> Vec<Op> {
        let old = self.old;
        let created = &self.created;
        let mut deferred_fks = Vec::new();
        let mut available: BTreeSet<&str> = old.tables.keys().map(String::as_str).collect();
        for t in creation_order(created) {
            let mut bare = t.without_rename_hints();
            bare.indexes.clear();
            let (now, later): (Vec<_>, Vec<_>) = bare.foreign_keys.drain(..).partition(|fk| {
                fk.referred_table == t.name || available.contains(fk.referred_table.as_str())
            });
            bare.foreign_keys = now;
            deferred_fks.extend(later.into_iter().map(|fk| Op::AddForeignKey {
                table: t.name.clone(),
                foreign_key: fk,
                online: false,
            }));
            available.insert(&t.name);
            up.push(Op::CreateTable { table: bare });
        }
        deferred_fks
    }

    /// Steps 6–8: columns of kept tables: add, alter, drop (a drop beside a compatible add
    /// is flagged as a possible rename).
    fn change_columns(&self, up: &mut Vec<Op>, lints: &mut Vec<Lint>) {
        let kept = &self.kept;
        for (o, n) in kept {
            for c in &n.columns {
                if o.column(&c.name).is_none() {
                    let mut column = c.clone();
                    column.renamed_from = None;
                    up.push(Op::AddColumn {
                        table: n.name.clone(),
                        column,
                    });
                }
            }
            for c in &n.columns {
                let Some(before) = o.column(&c.name) else {
                    continue;
                };
                let changes = ColumnChanges::between(before, c);
                if changes.is_empty() {
                    continue;
                }
                up.push(Op::AlterColumn {
                    table: n.name.clone(),
                    column: c.name.clone(),
                    changes,
                    online: false,
                });
            }
            let dropped_columns: Vec<&Column> = o
                .columns
                .iter()
                .filter(|c| n.column(&c.name).is_none())
                .collect();
            for c in &dropped_columns {
                for added in n.columns.iter().filter(|a| o.column(&a.name).is_none()) {
                    if compatible(&c.ty, &added.ty) {
                        lints.push(Lint {
                            kind: LintKind::PossibleRename,
                            message: format!(
                                "`{t}.{old}` is dropped and `{t}.{new}` added with a compatible type: if this is a rename, add #[column(renamed_from = \"{old}\")] to `{new}` to keep the data",
                                t = n.name, old = c.name, new = added.name
                            ),
                        });
                    }
                }
                up.push(Op::DropColumn {
                    table: n.name.clone(),
                    column: c.name.clone(),
                });
            }
        }
    }

    /// Steps 9–10: indexes of new tables; uniques, indexes, checks and foreign keys that are
    /// new or changed on kept tables.
    fn add_constraints(&self, up: &mut Vec<Op>) {
        let (kept, created) = (&self.kept, &self.created);
        for t in created {
            for i in &t.indexes {
                up.push(Op::CreateIndex {
                    table: t.name.clone(),
                    index: i.clone(),
                    concurrently: false,
                });
            }
        }
        let renamed_to = |t: &str, name: &str, kind| {
            self.renamed_members
                .iter()
                .any(|r| r.covers(t, name, kind, false))
        };
        for (o, n) in kept {
            let table = || n.name.clone();
            up.extend(
                only_in(&n.uniques, &o.uniques)
                    .filter(|u| !renamed_to(&n.name, &u.name, Some(ConstraintKind::Unique)))
                    .map(|u| Op::AddUnique {
                        table: table(),
                        unique: u.clone(),
                        online: false,
                    }),
            );
            up.extend(
                only_in(&n.indexes, &o.indexes)
                    .filter(|i| !renamed_to(&n.name, &i.name, None))
                    .map(|i| Op::CreateIndex {
                        table: table(),
                        index: i.clone(),
                        concurrently: false,
                    }),
            );
            up.extend(
                n.checks
                    .iter()
                    .filter(|c| !has_check(&o.checks, c))
                    .filter(|c| !renamed_to(&n.name, &c.name, Some(ConstraintKind::Check)))
                    .map(|c| Op::AddCheck {
                        table: table(),
                        check: c.clone(),
                        online: false,
                    }),
            );
        }
        // 10. Foreign keys: new ones of kept tables, and those deferred by cycles.
        for (o, n) in kept {
            up.extend(
                only_in(&n.foreign_keys, &o.foreign_keys)
                    .filter(|fk| !renamed_to(&n.name, &fk.name, Some(ConstraintKind::ForeignKey)))
                    .map(|fk| Op::AddForeignKey {
                        table: n.name.clone(),
                        foreign_key: fk.clone(),
                        online: false,
                    }),
            );
        }
    }

    /// Step 11: dropped tables, referencing tables first, cycles broken by dropping their
    /// keys; a dropped table beside a created one with the same columns is flagged.
    fn drop_tables(&self, up: &mut Vec<Op>, lints: &mut Vec<Lint>) {
        let (dropped, created) = (&self.dropped, &self.created);
        let (order, cyclic) = drop_order(dropped);
        for t in &cyclic {
            for fk in &t.foreign_keys {
                up.push(Op::DropConstraint {
                    table: t.name.clone(),
                    name: fk.name.clone(),
                    kind: ConstraintKind::ForeignKey,
                });
            }
        }
        for t in order.iter().chain(cyclic.iter()) {
            up.push(Op::DropTable {
                table: t.name.clone(),
            });
        }
        for c in created {
            for d in dropped {
                let same_columns = c.columns.len() == d.columns.len()
                    && c.columns
                        .iter()
                        .all(|cc| d.column(&cc.name).is_some_and(|dc| dc.ty == cc.ty));
                if same_columns {
                    lints.push(Lint {
                        kind: LintKind::PossibleRename,
                        message: format!(
                            "table `{old}` is dropped and `{new}` created with the same columns: if this is a rename, add #[table(renamed_from = \"{old}\")] to `{new}` to keep the data",
                            old = d.name, new = c.name
                        ),
                    });
                }
            }
        }
    }

    /// Step 12: table comments.
    fn change_comments(&self, up: &mut Vec<Op>) {
        let kept = &self.kept;
        for (o, n) in kept {
            if o.comment != n.comment {
                up.push(Op::SetTableComment {
                    table: n.name.clone(),
                    comment: n.comment.clone(),
                });
            }
        }
    }
}

/// The items of `these` that `others` does not have, in order.
fn only_in<'a, T: PartialEq>(these: &'a [T], others: &'a [T]) -> impl Iterator<Item = &'a T> {
    these.iter().filter(move |x| !others.contains(x))
}

/// The downgrade of `up` starting from `before`: each operation's inverse, last first.
pub fn inverse_of(up: &[Op], before: &Schema) -> Result<Vec<Op>, ApplyError> {
    let mut schema = before.clone();
    let mut down: Vec<Vec<Op>> = Vec::with_capacity(up.len());
    for op in up {
        match op.inverse(&schema)? {
            Some(inverse) => down.push(inverse),
            None => {
                return Err(ApplyError {
                    message: format!(
                        "`{}` has no automatic inverse; write its downgrade by hand",
                        op.name()
                    ),
                })
            }
        }
        op.apply(&mut schema)?;
    }
    Ok(down.into_iter().rev().flatten().collect())
}

/// Whether `list` holds a check of this name whose expression means the same: a
/// whitespace-only edit is no change.
/// Whether `list` has check `c`: same name, same condition (spelling aside), and checked the
/// same way (a check declared `not_valid` that becomes validated is made again, as a
/// foreign key is).
fn has_check(list: &[crate::CheckConstraint], c: &crate::CheckConstraint) -> bool {
    list.iter().any(|x| {
        x.name == c.name
            && x.not_valid == c.not_valid
            && crate::expr::same(&x.expression, &c.expression)
    })
}

/// Whether a drop of `a` plus an add of `b` could be a rename (same kind of values).
fn compatible(a: &ColumnType, b: &ColumnType) -> bool {
    a == b || (a.is_text() && b.is_text()) || (a.is_integer() && b.is_integer())
}

mod lint;
mod members;
mod objects;
mod order;
mod renames;

use self::objects::{enum_ops, names_a_table, object_ops};
pub use self::renames::rename_origins;
use self::renames::{rename_ops, Renamed};
#[cfg(test)]
mod tests;

pub use lint::lint_ops;
use lint::lint_walk;
use members::{member_renames, MemberRename};
use order::{creation_order, drop_order};
