//! The database objects a crate declares as code: every `.sql` file under its `sql/`
//! folder holds one `CREATE` statement (an extension, sequence, function, view,
//! materialized view or trigger). A file below a folder named after a backend (`postgres`,
//! `sqlite`, `mysql`) is that backend's statement; one elsewhere is every backend's. The
//! object's kind and name come from the statement, so a file can be moved or renamed freely.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use retort_schema::model::{normalize_definition, read_create};
use retort_schema::ops::DialectSql;
use retort_schema::sql::Dialect;
use retort_schema::DbObject;

use crate::error::Error;

/// The folder objects are declared in, relative to the crate.
pub const OBJECTS_DIR: &str = "sql";

/// The declared objects by key, and the files read.
pub fn scan(manifest_dir: &Path) -> Result<(BTreeMap<String, DbObject>, Vec<PathBuf>), Error> {
    let root = manifest_dir.join(OBJECTS_DIR);
    let mut files = Vec::new();
    collect(&root, &mut files)?;
    files.sort();
    let mut objects: BTreeMap<String, DbObject> = BTreeMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file).map_err(|source| Error::Io {
            path: file.clone(),
            source,
        })?;
        let refuse = |message: String| Error::Model {
            location: file.display().to_string(),
            message,
        };
        let declared = read_create(&text).map_err(refuse)?;
        let dialect = dialect_of(file.strip_prefix(&root).unwrap_or(file));
        let sql = normalize_definition(&text);
        let object = DbObject {
            kind: declared.kind,
            name: declared.name,
            table: declared.table,
            sql: match dialect {
                None => DialectSql::All(sql),
                Some(d) => one_dialect(d, sql),
            },
        };
        match objects.get_mut(&object.key()) {
            None => {
                objects.insert(object.key(), object);
            }
            Some(first) => merge(first, object).map_err(refuse)?,
        }
    }
    Ok((objects, files))
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry
            .map_err(|source| Error::Io {
                path: dir.to_path_buf(),
                source,
            })?
            .path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "sql") {
            out.push(path);
        }
    }
    Ok(())
}

/// The backend a folder on the way to the file names, if any.
fn dialect_of(relative: &Path) -> Option<Dialect> {
    relative
        .parent()?
        .components()
        .find_map(|c| Dialect::parse(&c.as_os_str().to_string_lossy()))
}

fn one_dialect(d: Dialect, sql: String) -> DialectSql {
    let mut per = [None, None, None];
    per[d as usize] = Some(sql);
    let [sqlite, postgres, mysql] = per;
    DialectSql::PerDialect {
        sqlite,
        postgres,
        mysql,
    }
}

/// Joins a second backend's statement of the same object into the first.
fn merge(first: &mut DbObject, other: DbObject) -> Result<(), String> {
    let what = format!("{} `{}`", first.kind.word(), first.name);
    if first.table != other.table {
        return Err(format!(
            "{what} is declared on two tables ({} and {}); one object is on one table",
            first.table.as_deref().unwrap_or("none"),
            other.table.as_deref().unwrap_or("none")
        ));
    }
    match (&mut first.sql, other.sql) {
        (
            DialectSql::PerDialect {
                sqlite,
                postgres,
                mysql,
            },
            DialectSql::PerDialect {
                sqlite: s2,
                postgres: p2,
                mysql: m2,
            },
        ) => {
            for (slot, new) in [(sqlite, s2), (postgres, p2), (mysql, m2)] {
                if new.is_some() {
                    if slot.is_some() {
                        return Err(format!("{what} is declared twice for one backend; keep one file"));
                    }
                    *slot = new;
                }
            }
            Ok(())
        }
        _ => Err(format!(
            "{what} is declared twice; keep one file (below `sql/<backend>/` for a backend's own statement)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_objects_per_backend_and_refuses_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let sql = dir.path().join(OBJECTS_DIR);
        std::fs::create_dir_all(sql.join("postgres/functions")).unwrap();
        std::fs::create_dir_all(sql.join("sqlite")).unwrap();
        std::fs::write(sql.join("views.sql"), "CREATE VIEW active AS SELECT 1;\n").unwrap();
        std::fs::write(
            sql.join("postgres/functions/touch.sql"),
            "CREATE FUNCTION touch() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ LANGUAGE plpgsql",
        )
        .unwrap();
        std::fs::write(
            sql.join("postgres/trigger.sql"),
            "CREATE TRIGGER t BEFORE UPDATE ON post FOR EACH ROW EXECUTE FUNCTION touch()",
        )
        .unwrap();
        std::fs::write(
            sql.join("sqlite/trigger.sql"),
            "CREATE TRIGGER t AFTER UPDATE ON post BEGIN SELECT 1; END;",
        )
        .unwrap();
        let (objects, files) = scan(dir.path()).unwrap();
        assert_eq!(files.len(), 4);
        assert_eq!(
            objects.keys().collect::<Vec<_>>(),
            ["function touch", "trigger t", "view active"]
        );
        let t = &objects["trigger t"];
        assert!(t.sql_for(Dialect::Postgres).is_some() && t.sql_for(Dialect::Sqlite).is_some());
        assert!(t.sql_for(Dialect::Mysql).is_none());
        assert_eq!(
            objects["view active"].sql_for(Dialect::Mysql),
            Some("CREATE VIEW active AS SELECT 1")
        );

        std::fs::write(sql.join("again.sql"), "CREATE VIEW active AS SELECT 2").unwrap();
        let err = scan(dir.path()).unwrap_err().to_string();
        assert!(err.contains("view `active` is declared twice"), "{err}");
        std::fs::remove_file(sql.join("again.sql")).unwrap();
        std::fs::write(sql.join("bad.sql"), "DROP VIEW active").unwrap();
        let err = scan(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("bad.sql") && err.contains("one CREATE statement"),
            "{err}"
        );
    }
}
