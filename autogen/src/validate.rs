//! What the models must satisfy together before anything is diffed: one model per table,
//! references to tables that exist, names unique per schema, foreign keys that fit the keys
//! they reference.

use retort_schema::sql::Dialect;
use retort_schema::Schema;

use crate::discover;
use crate::error::Error;

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
        let mut table = m.model.table.clone();
        resolve_enums(sources, m, &mut table)?;
        schema.tables.insert(name, table);
    }
    let mut enum_owner: std::collections::BTreeMap<String, String> = Default::default();
    for e in &sources.enums {
        let ident = format!("{}::{}", e.module.join("::"), e.model.ident);
        if let Some(first) = enum_owner.insert(e.model.name.clone(), ident.clone()) {
            return Err(Error::Model {
                location: e.file.display().to_string(),
                message: format!("enums `{first}` and `{ident}` are both the database type `{}`; give one another name with #[db_enum(name = \"…\")]", e.model.name),
            });
        }
        schema
            .enums
            .insert(e.model.name.clone(), e.model.enum_type());
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

/// Gives each column of a `#[derive(DbEnum)]` type its enum's name and values, finding the
/// enum among the crate's by its name (and module, when the field's path names one).
fn resolve_enums(
    sources: &discover::Sources,
    m: &discover::FoundModel,
    table: &mut retort_schema::Table,
) -> Result<(), Error> {
    for f in &m.model.fields {
        let Some(path) = &f.enum_type else { continue };
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let Some((last, prefix)) = segments.split_last() else {
            continue;
        };
        let modules: Vec<&String> = prefix
            .iter()
            .filter(|s| !matches!(s.as_str(), "crate" | "self" | "super"))
            .collect();
        let found: Vec<&discover::FoundEnum> = sources
            .enums
            .iter()
            .filter(|e| e.model.ident == last.as_str())
            .filter(|e| {
                modules.is_empty()
                    || e.module
                        .ends_with(&modules.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            })
            .collect();
        let spelled = segments.join("::");
        let location = format!("{}", m.file.display());
        let e = match found.as_slice() {
            [one] => *one,
            [] => {
                return Err(Error::Model {
                    location,
                    message: format!("field `{}` of `{}` has type `{spelled}`, which is neither a type retort maps nor an enum with #[derive(retort::DbEnum)] in this crate's sources. Derive DbEnum on it, or give the column a type: #[column(sql_type = \"…\")] or #[column(custom_type = \"…\")]", f.ident, m.model.ident),
                })
            }
            many => {
                let names: Vec<String> = many.iter().map(|e| format!("{}::{}", e.module.join("::"), e.model.ident)).collect();
                return Err(Error::Model {
                    location,
                    message: format!("field `{}` of `{}` has type `{spelled}`, and several enums have that name ({}); write the field's type with its module path", f.ident, m.model.ident, names.join(", ")),
                });
            }
        };
        if let Some(c) = table.columns.iter_mut().find(|c| c.name == f.column) {
            c.ty = retort_schema::ColumnType::Enum {
                name: e.model.name.clone(),
                values: e.model.enum_type().values,
            };
        }
    }
    Ok(())
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
        if let (retort_schema::ObjectKind::Index, Some(t)) = (o.kind, &o.table) {
            let on_a_view = schema
                .objects
                .values()
                .any(|v| v.kind == retort_schema::ObjectKind::MaterializedView && v.name == *t);
            if !on_a_view {
                return Err(Error::Model {
                    location: format!("sql/ (index `{}`)", o.name),
                    message: format!(
                        "index `{}` is on `{t}`, which is not a materialized view declared in sql/; a table's indexes are declared on its model: #[table(index(…, name = \"{}\"))]",
                        o.name, o.name
                    ),
                });
            }
            continue;
        }
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

/// With the MySQL backend compiled in, a warning per table the migrations leave without a
/// primary key: a MariaDB Galera cluster does not replicate deletes from such a table. A
/// model cannot lack one (the derive refuses it); such a table comes from a migration
/// written by hand.
pub(crate) fn keyless_tables(schema: &Schema, backends: &[Dialect]) -> Vec<String> {
    if !backends.contains(&Dialect::Mysql) {
        return Vec::new();
    }
    schema
        .tables
        .values()
        .filter(|t| t.primary_key.is_empty())
        .map(|t| format!("retort: table `{}` has no primary key: on a MariaDB Galera cluster its deletes do not replicate (Galera needs a primary key on every table). Add one in a migration (create the table again with a key, copying its rows)", t.name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use retort_schema::model::read_create;
    use retort_schema::ops::DialectSql;
    use retort_schema::{DbObject, Table};

    fn declared(sql: &str) -> DbObject {
        let d = read_create(sql).unwrap();
        DbObject {
            kind: d.kind,
            name: d.name,
            table: d.table,
            sql: DialectSql::All(sql.into()),
        }
    }

    #[test]
    fn a_table_without_a_primary_key_is_warned_of_where_mysql_is_compiled_in() {
        let mut keyed = Table::new("post");
        keyed.primary_key = vec!["id".into()];
        let schema = Schema::from_tables([keyed, Table::new("audit_log")]);
        let warnings = keyless_tables(&schema, &[Dialect::Sqlite, Dialect::Mysql]);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("table `audit_log` has no primary key")
                && warnings[0].contains("Galera"),
            "{warnings:?}"
        );
        assert!(keyless_tables(&schema, &[Dialect::Sqlite, Dialect::Postgres]).is_empty());
    }

    #[test]
    fn an_index_object_belongs_on_a_materialized_view() {
        let mut schema = Schema::from_tables([Table::new("post")]);
        for sql in [
            "CREATE MATERIALIZED VIEW stats AS SELECT 1 AS n",
            "CREATE UNIQUE INDEX stats_n ON stats (n)",
        ] {
            let o = declared(sql);
            schema.objects.insert(o.key(), o);
        }
        assert!(check_objects(&schema).is_ok());
        let o = declared("CREATE INDEX CONCURRENTLY post_title ON ONLY post (title)");
        assert_eq!(o.table.as_deref(), Some("post"));
        schema.objects.insert(o.key(), o);
        let err = check_objects(&schema).unwrap_err().to_string();
        assert!(
            err.contains("index `post_title` is on `post`, which is not a materialized view")
                && err.contains("#[table(index(…, name = \"post_title\"))]"),
            "{err}"
        );
    }
}
