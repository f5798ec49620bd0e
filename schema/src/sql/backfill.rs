//! `backfill`: a column filled in batches, each batch one statement committed on its own,
//! run again until it changes no row. Each batch picks rows still `NULL` (and whose value is
//! not), so a run that stopped part-way goes on where it was, and the loop ends.

use super::{
    mysql_default, postgres_default, quote_ident, quote_table, Dialect, RenderError, Step,
};
use crate::model::Schema;

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
///     }]
/// );
/// ```
pub(super) fn render(
    table: &str,
    column: &str,
    value: &str,
    batch: u32,
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
    let (t, c) = (quote_table(table, dialect), quote_ident(column, dialect));
    let (batch, whole) = match dialect {
        // A TID scan for the rows the subquery picks: each batch reads only its rows.
        Dialect::Postgres => {
            let v = format!("({})", postgres_default(ty, value));
            (
                format!("UPDATE {t} SET {c} = {v} WHERE ctid = ANY (ARRAY(SELECT ctid FROM {t} WHERE {c} IS NULL AND {v} IS NOT NULL LIMIT {batch}))"),
                format!("UPDATE {t} SET {c} = {v} WHERE {c} IS NULL"),
            )
        }
        Dialect::Mysql => {
            let v = mysql_default(ty, value);
            (
                format!(
                    "UPDATE {t} SET {c} = {v} WHERE {c} IS NULL AND {v} IS NOT NULL LIMIT {batch}"
                ),
                format!("UPDATE {t} SET {c} = {v} WHERE {c} IS NULL"),
            )
        }
        Dialect::Sqlite => {
            let v = format!("({})", value.trim());
            (
                format!("UPDATE {t} SET {c} = {v} WHERE rowid IN (SELECT rowid FROM {t} WHERE {c} IS NULL AND {v} IS NOT NULL LIMIT {batch})"),
                format!("UPDATE {t} SET {c} = {v} WHERE {c} IS NULL"),
            )
        }
    };
    Ok(vec![Step::Batches { batch, whole }])
}
