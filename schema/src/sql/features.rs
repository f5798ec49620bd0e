//! Which index and constraint features each dialect has, the SQL of an index, and the
//! refusal — naming the object, the backend and the alternative — where a model asks for
//! something a backend cannot build. The build script asks [`unsupported`] for every backend
//! compiled in, so the refusal comes at `cargo build`, not at deploy; rendering asks again
//! so a hand-written migration is refused before anything runs.

use super::{quote_ident, Dialect};
use crate::model::{
    CheckConstraint, Column, Deferral, ForeignKey, Index, IndexKey, NullsOrder, Table,
    UniqueConstraint,
};

/// Everything in `t` that `dialect` cannot build, one message per object (table, object and
/// the fix in each).
///
/// ```
/// use retort_schema::sql::{unsupported, Dialect};
/// use retort_schema::{Index, Table};
/// let mut t = Table::new("posts");
/// let mut ix = Index::on_columns("ix_posts_hot", ["hot_rank"], false);
/// ix.predicate = Some("hot_rank <> 0".into());
/// t.indexes.push(ix);
/// assert!(unsupported(Dialect::Postgres, &t).is_empty());
/// assert!(unsupported(Dialect::Sqlite, &t).is_empty());
/// assert!(unsupported(Dialect::Mysql, &t)[0].contains("partial"));
/// ```
pub fn unsupported(dialect: Dialect, t: &Table) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(schema), name) = super::split_schema(&t.name) {
        if dialect != Dialect::Postgres {
            out.push(format!(
                "table `{}`: {} keeps no tables in another schema (`{schema}`); remove `schema = \"{schema}\"` (on MySQL a schema is a database: give this table a database of its own through another connection), or name it `{schema}_{name}`",
                t.name,
                backend(dialect)
            ));
        }
    }
    out.extend(
        t.columns
            .iter()
            .filter_map(|c| custom_type_refusal(dialect, &t.name, c)),
    );
    if dialect != Dialect::Postgres {
        out.extend(t.columns.iter().filter(|c| c.identity_always).map(|c| {
            format!(
                "column `{}.{}`: {} always takes a value given for an autoincrement key; remove `= \"always\"` from `autoincrement` (PostgreSQL's GENERATED ALWAYS has no equal here)",
                t.name,
                c.name,
                backend(dialect)
            )
        }));
    }
    out.extend(
        t.indexes
            .iter()
            .filter_map(|i| index_refusal(dialect, &t.name, i)),
    );
    out.extend(
        t.uniques
            .iter()
            .filter_map(|u| unique_refusal(dialect, &t.name, u)),
    );
    out.extend(
        t.foreign_keys
            .iter()
            .filter_map(|f| foreign_key_refusal(dialect, &t.name, f)),
    );
    out.extend(
        t.checks
            .iter()
            .filter_map(|c| check_refusal(dialect, &t.name, c)),
    );
    out
}

/// Why `dialect` cannot build check `c` of `table`; `None` when it can.
pub fn check_refusal(dialect: Dialect, table: &str, c: &CheckConstraint) -> Option<String> {
    (c.not_valid && dialect != Dialect::Postgres).then(|| {
        format!(
            "check constraint `{}` on `{table}`: {} has no NOT VALID checks (every row is checked when it is added); remove `not_valid`",
            c.name,
            backend(dialect)
        )
    })
}

fn backend(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "SQLite",
        Dialect::Postgres => "PostgreSQL",
        Dialect::Mysql => "MySQL/MariaDB",
    }
}

/// Why `dialect` cannot hold a column of a database-specific type it lacks (an array off
/// PostgreSQL, a `varchar` without a length on MySQL).
fn custom_type_refusal(dialect: Dialect, table: &str, c: &Column) -> Option<String> {
    let crate::ColumnType::Custom { sql } = &c.ty else {
        return None;
    };
    let lower = sql.trim().to_ascii_lowercase();
    let what = format!("column `{table}.{}`", c.name);
    if lower.ends_with("[]") && dialect != Dialect::Postgres {
        return Some(format!("{what}: {} has no array types (`{sql}`); store the list as json (`sql_type = \"json\"`) or in a table of its own", backend(dialect)));
    }
    if dialect == Dialect::Mysql && matches!(lower.as_str(), "varchar" | "character varying") {
        return Some(format!("{what}: MySQL/MariaDB need a length for varchar; write `max_length = N` (or `sql_type = \"text\"` for unbounded text)"));
    }
    None
}

/// Why `dialect` cannot build index `i` of `table`, with the alternative; `None` when it can.
pub fn index_refusal(dialect: Dialect, table: &str, i: &Index) -> Option<String> {
    let b = backend(dialect);
    let what = format!("index `{}` on `{table}`", i.name);
    let refuse = |m: String| Some(format!("{what}: {m}"));
    if dialect == Dialect::Postgres {
        return None;
    }
    if let Some(m) = &i.method {
        return refuse(match dialect {
            Dialect::Mysql => format!("{b} (InnoDB) builds only B-tree indexes, and turns a request for `{m}` into a B-tree silently; remove `using = \"{m}\"`"),
            _ => format!("{b} has only B-tree indexes; remove `using = \"{m}\"` (or leave this index to a PostgreSQL-only `execute`)"),
        });
    }
    if !i.include.is_empty() {
        return refuse(format!(
            "{b} has no INCLUDE columns; add them as trailing keys instead: index({}, {})",
            i.key_texts().join(", "),
            i.include.join(", ")
        ));
    }
    if !i.with.is_empty() {
        return refuse(format!(
            "{b} has no index storage parameters; remove `with = \"{}\"`",
            i.with_sql()
        ));
    }
    if i.nulls_not_distinct {
        return refuse(format!("{b} always lets unique keys repeat NULL; remove `nulls_not_distinct` and make the columns NOT NULL (or give them a default) to forbid repeats"));
    }
    if let Some(k) = i.keys.iter().find(|k| k.opclass.is_some()) {
        return refuse(format!(
            "{b} has no operator classes (key `{k}`); remove `{}`",
            k.opclass.as_deref().unwrap_or_default()
        ));
    }
    if let Some(k) = i.keys.iter().find(|k| k.nulls.is_some()) {
        let default = if dialect == Dialect::Sqlite || dialect == Dialect::Mysql {
            "NULLs sort first ascending and last descending"
        } else {
            ""
        };
        return refuse(format!(
            "{b} cannot place NULLs in an index key (key `{k}`): {default}; remove NULLS FIRST/LAST"
        ));
    }
    if dialect == Dialect::Mysql {
        if let Some(p) = &i.predicate {
            return refuse(format!("{b} has no partial indexes (`where = \"{p}\"`); index all rows (remove `where`), or index a generated column that is NULL where the condition is false"));
        }
        if let Some(k) = i.keys.iter().find(|k| k.expression) {
            return refuse(format!("MariaDB has no expression keys (`{k}`); add a generated column holding `{}` and index that column", k.target));
        }
    }
    None
}

/// Why `dialect` cannot build unique constraint `u` of `table`; `None` when it can.
pub fn unique_refusal(dialect: Dialect, table: &str, u: &UniqueConstraint) -> Option<String> {
    let b = backend(dialect);
    let what = format!("unique constraint `{}` on `{table}`", u.name);
    if dialect == Dialect::Postgres {
        return None;
    }
    if u.nulls_not_distinct {
        return Some(format!("{what}: {b} always lets unique keys repeat NULL; remove `nulls_not_distinct` and make the columns NOT NULL (or give them a default) to forbid repeats"));
    }
    if !u.deferral.is_immediate() {
        return Some(format!("{what}: {b} checks unique constraints at once and cannot defer them; remove `deferrable`"));
    }
    None
}

/// Why `dialect` cannot build foreign key `f` of `table`; `None` when it can.
pub fn foreign_key_refusal(dialect: Dialect, table: &str, f: &ForeignKey) -> Option<String> {
    let what = format!("foreign key `{}` on `{table}`", f.name);
    match dialect {
        Dialect::Mysql if !f.deferral.is_immediate() => Some(format!("{what}: MySQL/MariaDB check foreign keys at once and cannot defer them; remove `deferrable` (and order the writes so parents come first)")),
        Dialect::Mysql | Dialect::Sqlite if f.not_valid => Some(format!("{what}: {} has no NOT VALID foreign keys (every row is checked when the key is added); remove `not_valid`", backend(dialect))),
        _ => None,
    }
}

/// One key as `dialect` writes it in `CREATE INDEX`.
fn key_sql(dialect: Dialect, k: &IndexKey) -> String {
    let mut s = if k.expression {
        format!("({})", k.target)
    } else {
        quote_ident(&k.target, dialect)
    };
    if let Some(o) = &k.opclass {
        s.push(' ');
        s.push_str(o);
    }
    if k.descending {
        s.push_str(" DESC");
    }
    match k.nulls {
        Some(NullsOrder::First) => s.push_str(" NULLS FIRST"),
        Some(NullsOrder::Last) => s.push_str(" NULLS LAST"),
        None => {}
    }
    s
}

/// `CREATE [UNIQUE] INDEX name ON table [USING m] (keys) [INCLUDE (…)] [NULLS NOT DISTINCT]
/// [WITH (…)] [WHERE …]`, in the order PostgreSQL reads them (the others take the subset
/// [`index_refusal`] lets through).
pub fn create_index_sql(dialect: Dialect, table: &str, i: &Index) -> String {
    let q = |n: &str| quote_ident(n, dialect);
    let keys: Vec<String> = i.keys.iter().map(|k| key_sql(dialect, k)).collect();
    let mut s = format!(
        "CREATE {}INDEX {} ON {}",
        if i.unique { "UNIQUE " } else { "" },
        q(&i.name),
        super::quote_table(table, dialect)
    );
    if let Some(m) = &i.method {
        s.push_str(&format!(" USING {m}"));
    }
    s.push_str(&format!(" ({})", keys.join(", ")));
    s.push_str(&i.trailing_clauses(&q));
    s
}

/// ` NULLS NOT DISTINCT` and the deferral clause of a unique constraint, after `UNIQUE`
/// and after the column list respectively.
pub(super) fn unique_clauses(u: &UniqueConstraint) -> (&'static str, &'static str) {
    (
        if u.nulls_not_distinct {
            " NULLS NOT DISTINCT"
        } else {
            ""
        },
        u.deferral.sql(),
    )
}

/// The deferral clause of a foreign key (empty when checked at once).
pub(super) fn deferral_sql(d: Deferral) -> &'static str {
    d.sql()
}
