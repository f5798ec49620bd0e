//! `backfill`: a column filled in batches, each batch one statement committed on its own.
//! On a table with a single integer primary key the batches walk the key in ranges of
//! `batch` keys (each reads and locks only its own rows); otherwise each batch picks rows
//! still `NULL` and the statement runs again until it changes no row. Either way a batch
//! changes only rows still `NULL` whose value is not, so a run that stopped part-way can
//! start again from the beginning without changing a row twice.

use super::{
    mysql_default, postgres_default, quote_ident, quote_table, Dialect, RenderError, Step,
};
use crate::model::{ColumnType, Schema};

/// A backfill's walk along its table's integer primary key: each batch the rows whose keys
/// are the next `batch` after the last batch's, found through the key's index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyWalk {
    /// The table, quoted.
    table: String,
    /// The key column, quoted.
    key: String,
    /// `UPDATE t SET c = v WHERE c IS NULL AND v IS NOT NULL`, to which a batch adds its range.
    update: String,
    /// Keys a batch.
    batch: u32,
}

impl KeyWalk {
    /// A query returning, as `v`, the last key of the batch after key `after` (the first
    /// batch for `None`): `NULL` when no key is left.
    pub fn next_bound(&self, after: Option<i64>) -> String {
        let (t, k, n) = (&self.table, &self.key, self.batch);
        let from = after
            .map(|a| format!(" WHERE {k} > {a}"))
            .unwrap_or_default();
        format!("SELECT MAX({k}) AS v FROM (SELECT {k} FROM {t}{from} ORDER BY {k} LIMIT {n}) batch_keys")
    }

    /// The batch of keys after `after` up to `upto`, both as [`next_bound`](Self::next_bound)
    /// gave them.
    pub fn update(&self, after: Option<i64>, upto: i64) -> String {
        let k = &self.key;
        match after {
            Some(a) => format!("{} AND {k} > {a} AND {k} <= {upto}", self.update),
            None => format!("{} AND {k} <= {upto}", self.update),
        }
    }
}

/// The step that fills `table.column` with `value` where it is `NULL`, `batch` rows a
/// statement.
///
/// ```
/// use retort_schema::sql::{render, Dialect, Step};
/// use retort_schema::{ops::Op, Column, ColumnType, Schema, Table};
///
/// let mut t = Table::new("tasks");
/// t.columns.push(Column::new("id", ColumnType::Integer));
/// let mut token = Column::new("token", ColumnType::Text);
/// token.nullable = true;
/// t.columns.push(token);
/// let before = Schema::from_tables([t]);
/// let op = Op::Backfill { table: "tasks".into(), column: "token".into(), value: "'none'".into(), batch: 500 };
/// assert_eq!(
///     render(&op, &before, Dialect::Mysql).unwrap(),
///     [Step::Batches {
///         batch: "UPDATE `tasks` SET `token` = 'none' WHERE `token` IS NULL AND 'none' IS NOT NULL LIMIT 500".into(),
///         whole: "UPDATE `tasks` SET `token` = 'none' WHERE `token` IS NULL".into(),
///         walk: None, // (no primary key here: with one, the batches walk it)
///     }]
/// );
/// ```
pub(super) fn render(
    table: &str,
    column: &str,
    value: &str,
    n: u32,
    before: &Schema,
    dialect: Dialect,
) -> Result<Vec<Step>, RenderError> {
    let refuse = |message: String| Err(RenderError { message });
    let Some(t) = before.tables.get(table) else {
        return refuse(format!(
            "backfill: there is no table `{table}` at this point of the history; name a table that exists"
        ));
    };
    let Some(c) = t.column(column) else {
        return refuse(format!(
            "backfill: `{table}` has no column `{column}` at this point of the history; add the column before the backfill"
        ));
    };
    if value.trim().is_empty() {
        return refuse(format!(
            "backfill of `{table}.{column}`: the value is empty; give an SQL expression"
        ));
    }
    let ty = &c.ty;
    let key = match t.primary_key.as_slice() {
        [k] if t.column(k).is_some_and(|c| {
            matches!(
                c.ty,
                ColumnType::Integer | ColumnType::BigInt | ColumnType::SmallInt
            )
        }) =>
        {
            Some(quote_ident(k, dialect))
        }
        _ => None,
    };
    let (t, c) = (quote_table(table, dialect), quote_ident(column, dialect));
    let v = match dialect {
        Dialect::Postgres if cfg!(feature = "postgres") => {
            format!("({})", postgres_default(ty, value))
        }
        Dialect::Mysql if cfg!(feature = "mysql") => mysql_default(ty, value),
        Dialect::Sqlite if cfg!(feature = "sqlite") => format!("({})", value.trim()),
        d => return Err(d.left_out()),
    };
    // The rows still to fill, and one batch of them.
    let fill = format!("UPDATE {t} SET {c} = {v} WHERE {c} IS NULL AND {v} IS NOT NULL");
    let batch = match dialect {
        // A TID scan for the rows the subquery picks: each batch reads only its rows.
        Dialect::Postgres => format!("UPDATE {t} SET {c} = {v} WHERE ctid = ANY (ARRAY(SELECT ctid FROM {t} WHERE {c} IS NULL AND {v} IS NOT NULL LIMIT {n}))"),
        Dialect::Mysql => format!("{fill} LIMIT {n}"),
        Dialect::Sqlite => format!("UPDATE {t} SET {c} = {v} WHERE rowid IN (SELECT rowid FROM {t} WHERE {c} IS NULL AND {v} IS NOT NULL LIMIT {n})"),
    };
    let whole = format!("UPDATE {t} SET {c} = {v} WHERE {c} IS NULL");
    let walk = key.map(|key| KeyWalk {
        update: fill,
        table: t,
        key,
        batch: n,
    });
    Ok(vec![Step::Batches { batch, whole, walk }])
}
