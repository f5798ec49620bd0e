//! What the models must satisfy together before anything is diffed: one model per table,
//! references to tables that exist, names unique per schema, foreign keys that fit the keys
//! they reference.

use retort_schema::sql::Dialect;
use retort_schema::Schema;

use crate::{discover, Error};

/// The models as one schema, checked for duplicates and dangling references, and against
/// what each compiled backend refuses (as the derive does at compile time).
pub(crate) fn models_schema(
    sources: &discover::Sources,
    backends: &[Dialect],
) -> Result<Schema, Error> {
    let mut schema = Schema::new();
    let mut owner: std::collections::BTreeMap<String, String> = Default::default();
    for m in &sources.models {
        let name = m.model.table.name.clone();
        let ident = format!("{}::{}", m.module.join("::"), m.model.ident);
        if let Some(first) = owner.insert(name.clone(), ident.clone()) {
            return Err(Error::DuplicateTable {
                table: name,
                first,
                second: ident,
            });
        }
        schema.tables.insert(name, m.model.table.clone());
    }
    for t in schema.tables.values() {
        for fk in &t.foreign_keys {
            if !schema.tables.contains_key(&fk.referred_table) {
                return Err(Error::DanglingReference {
                    name: fk.name.clone(),
                    table: t.name.clone(),
                    referred: fk.referred_table.clone(),
                });
            }
        }
    }
    check_models(sources, &schema)?;
    check_backends(sources, &schema, backends)?;
    Ok(schema)
}

/// What one model alone cannot show: index and constraint names are per schema (SQLite,
/// PostgreSQL), and a foreign key must fit the key it references. The first problem wins.
fn check_models(sources: &discover::Sources, schema: &Schema) -> Result<(), Error> {
    let location = |table: &str| -> String {
        sources
            .models
            .iter()
            .find(|m| m.model.table.name == table)
            .map(|m| {
                let line = m.model.ident.span().start().line;
                format!("{}:{line} (`{}`)", m.file.display(), m.model.ident)
            })
            .unwrap_or_else(|| table.to_string())
    };
    let mut owners: std::collections::BTreeMap<&str, &str> = Default::default();
    for t in schema.tables.values() {
        for name in t.constraint_names() {
            if let Some(first) = owners.insert(name, &t.name) {
                if first != t.name {
                    return Err(Error::Model {
                        location: location(&t.name),
                        message: format!(
                            "tables `{first}` and `{}` both have an index or constraint named `{name}`; these names are shared by the whole schema on SQLite and PostgreSQL. Give one of them another `name = \"…\"`",
                            t.name
                        ),
                    });
                }
            }
        }
    }
    for t in schema.tables.values() {
        for fk in &t.foreign_keys {
            let Some(parent) = schema.tables.get(&fk.referred_table) else {
                continue;
            };
            let keyed = parent.primary_key == fk.referred_columns
                || parent
                    .uniques
                    .iter()
                    .any(|u| u.columns == fk.referred_columns)
                || parent.indexes.iter().any(|i| {
                    i.unique
                        && i.predicate.is_none()
                        && i.plain_columns().as_ref() == Some(&fk.referred_columns)
                });
            for (col, referred) in fk.columns.iter().zip(&fk.referred_columns) {
                let Some(rc) = parent.column(referred) else {
                    return Err(Error::Model {
                        location: location(&t.name),
                        message: format!(
                            "foreign key `{}` of `{}` references `{}.{referred}`, which is not a column; fix `references`",
                            fk.name, t.name, parent.name
                        ),
                    });
                };
                if let Some(c) = t.column(col) {
                    if c.ty != rc.ty {
                        return Err(Error::Model {
                            location: location(&t.name),
                            message: format!(
                                "foreign key column `{}.{col}` is {} but the column it references, `{}.{referred}`, is {}; give both the same type (a key compared across types does not match on every database)",
                                t.name, c.ty, parent.name, rc.ty
                            ),
                        });
                    }
                }
            }
            if !keyed {
                return Err(Error::Model {
                    location: location(&t.name),
                    message: format!(
                        "foreign key `{}` of `{}` references ({}) of `{}`, which is neither its primary key nor unique; databases refuse such a key (SQLite: \"foreign key mismatch\"). Reference the primary key, or mark the referenced column `unique`",
                        fk.name,
                        t.name,
                        fk.referred_columns.join(", "),
                        parent.name
                    ),
                });
            }
        }
    }
    Ok(())
}

/// What a compiled backend refuses in a model, exactly where the derive refuses it at
/// compile time (MySQL cannot index unbounded text): refused here first, so the build step
/// stops before it writes a migration the crate could not compile with.
fn check_backends(
    sources: &discover::Sources,
    schema: &Schema,
    backends: &[Dialect],
) -> Result<(), Error> {
    let location = |t: &str, column: Option<&str>| {
        sources
            .models
            .iter()
            .find(|m| m.model.table.name == t)
            .map(|m| {
                let field = m
                    .model
                    .fields
                    .iter()
                    .find(|f| Some(f.column.as_str()) == column);
                let line = field.map_or(m.model.ident.span().start().line, |f| {
                    f.ident.span().start().line
                });
                format!("{}:{line} (`{}`)", m.file.display(), m.model.ident)
            })
            .unwrap_or_else(|| t.to_string())
    };
    for t in schema.tables.values() {
        if backends.contains(&Dialect::Mysql) {
            if let Some((column, message)) =
                retort_schema::sql::mysql_unindexable(t).into_iter().next()
            {
                return Err(Error::Model {
                    location: location(&t.name, Some(&column)),
                    message: format!("{message} (retort's `mysql` backend is compiled in)"),
                });
            }
        }
        for dialect in backends {
            if let Some(message) = retort_schema::sql::unsupported(*dialect, t)
                .into_iter()
                .next()
            {
                return Err(Error::Model {
                    location: location(&t.name, None),
                    message: format!(
                        "{message} (retort's `{}` backend is compiled in)",
                        dialect.name()
                    ),
                });
            }
        }
    }
    Ok(())
}

/// A declared trigger is on a table of the models.
pub(crate) fn check_objects(schema: &Schema) -> Result<(), Error> {
    for o in schema.objects.values() {
        if let Some(t) = &o.table {
            if !schema.tables.contains_key(t) {
                return Err(Error::Model {
                    location: format!("sql/ ({} `{}`)", o.kind.word(), o.name),
                    message: format!(
                        "{} `{}` is on table `{t}`, which no model declares; add the model or correct `ON {t}`",
                        o.kind.word(),
                        o.name
                    ),
                });
            }
        }
    }
    Ok(())
}
