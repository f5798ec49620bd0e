//! The live schema of the connection's database, read from `information_schema`.

use std::collections::BTreeMap;

use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::super::{db_err, objects_from, ObjectRow};
use super::view_print;
use crate::error::Result;
use retort_schema::naming::{LOCK_TABLE, VERSION_TABLE};
use retort_schema::sql::mysql::{catalog_type, json_column, read_default, read_type};
use retort_schema::{
    CheckConstraint, Column, ColumnType, ForeignKey, Index, IndexKey, ReferentialAction, Schema,
    Table, UniqueConstraint,
};

#[derive(QueryableByName)]
struct TableRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    comment: Option<String>,
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    column_type: String,
    #[diesel(sql_type = Text)]
    nullable: String,
    #[diesel(sql_type = Nullable<Text>)]
    default_expr: Option<String>,
    #[diesel(sql_type = Text)]
    extra: String,
    #[diesel(sql_type = Text)]
    comment: String,
}

#[derive(QueryableByName)]
struct IndexRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    non_unique: i64,
    #[diesel(sql_type = Nullable<Text>)]
    column: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    collation: Option<String>,
    #[diesel(sql_type = Text)]
    index_type: String,
}

#[derive(QueryableByName)]
struct ForeignKeyRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    column: String,
    #[diesel(sql_type = Text)]
    referred_table: String,
    #[diesel(sql_type = Text)]
    referred_column: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
    #[diesel(sql_type = Text)]
    on_update: String,
}

#[derive(QueryableByName)]
struct CheckRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    level: String,
    #[diesel(sql_type = Text)]
    clause: String,
}

pub(super) fn introspect(conn: &mut MysqlConnection, mariadb: bool) -> Result<Schema> {
    let err = db_err("cannot read the schema from information_schema");
    let mut out = tables_and_columns(conn)?;
    let grouped = indexes(conn)?;
    foreign_keys(conn, &mut out)?;
    for ((table, name), index) in grouped {
        let Some(t) = out.get_mut(&table) else {
            continue;
        };
        let plain = index.plain_columns();
        match plain {
            Some(columns) if name == "PRIMARY" => t.primary_key = columns,
            Some(columns) if index.unique => t.uniques.push(UniqueConstraint::new(name, columns)),
            // The index MySQL made for a foreign key, named after it.
            Some(_) if t.foreign_keys.iter().any(|f| f.name == name) => {}
            _ => t.indexes.push(index),
        }
    }
    checks(conn, mariadb, &mut out)?;
    let rows: Vec<ObjectRow> = diesel::sql_query(format!(
        "SELECT 'view' AS kind, TABLE_NAME AS name, CAST(NULL AS CHAR) AS tbl, {} AS definition FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()
         UNION ALL SELECT 'trigger', TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_STATEMENT FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()
         UNION ALL SELECT 'function', ROUTINE_NAME, NULL, ROUTINE_DEFINITION FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_TYPE = 'FUNCTION'
         UNION ALL SELECT 'sequence', TABLE_NAME, NULL, NULL FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'SEQUENCE'",
        view_print(mariadb)
    ))
    .load(conn)
    .map_err(&err)?;
    let mut schema = Schema {
        tables: out,
        objects: objects_from(rows),
        enums: Default::default(),
    };
    schema.normalize();
    Ok(schema)
}

fn read_err() -> impl Fn(diesel::result::Error) -> crate::error::Error {
    db_err("cannot read the schema from information_schema")
}

/// The base tables (retort's own left out) with their columns, by name.
fn tables_and_columns(conn: &mut MysqlConnection) -> Result<BTreeMap<String, Table>> {
    let tables: Vec<TableRow> = diesel::sql_query(format!(
        "SELECT TABLE_NAME AS name, TABLE_COMMENT AS comment FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME NOT IN ('{VERSION_TABLE}', '{LOCK_TABLE}')"
    ))
    .load(conn)
    .map_err(read_err())?;
    let mut out: BTreeMap<String, Table> = tables
        .into_iter()
        .map(|t| {
            let mut table = Table::new(t.name.clone());
            table.comment = t.comment.filter(|c| !c.is_empty());
            (t.name, table)
        })
        .collect();
    let columns: Vec<ColumnRow> = diesel::sql_query(
        "SELECT TABLE_NAME AS table_name, COLUMN_NAME AS name, COLUMN_TYPE AS column_type, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS default_expr, EXTRA AS extra, COLUMN_COMMENT AS comment FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION",
    )
    .load(conn)
    .map_err(read_err())?;
    for row in columns {
        let Some(t) = out.get_mut(&row.table_name) else {
            continue;
        };
        let ty = read_type(&catalog_type(&row.column_type));
        let nullable = row.nullable == "YES";
        let mut c = Column::new(row.name, ty);
        c.nullable = nullable;
        c.autoincrement = row.extra.to_ascii_lowercase().contains("auto_increment");
        c.server_default = row
            .default_expr
            .as_deref()
            .and_then(|d| read_default(d, nullable));
        c.comment = Some(row.comment).filter(|c| !c.is_empty());
        t.columns.push(c);
    }
    Ok(out)
}

/// Every index (the primary key and unique constraints among them), by (table, name).
fn indexes(conn: &mut MysqlConnection) -> Result<BTreeMap<(String, String), Index>> {
    let indexes: Vec<IndexRow> = diesel::sql_query(
        "SELECT TABLE_NAME AS table_name, INDEX_NAME AS name, CAST(NON_UNIQUE AS SIGNED) AS non_unique, COLUMN_NAME AS `column`, COLLATION AS collation, INDEX_TYPE AS index_type FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
    )
    .load(conn)
    .map_err(read_err())?;
    let mut grouped: BTreeMap<(String, String), Index> = BTreeMap::new();
    for row in indexes {
        let index = grouped
            .entry((row.table_name, row.name.clone()))
            .or_insert_with(|| {
                let mut i = Index::on_columns(row.name, Vec::<String>::new(), row.non_unique == 0);
                i.method = Some(row.index_type.to_ascii_lowercase()).filter(|m| m != "btree");
                i
            });
        // MySQL 8's functional key parts have no column name; MariaDB has none.
        let mut key = match row.column {
            Some(c) => IndexKey::column(c),
            None => IndexKey {
                expression: true,
                ..IndexKey::column("(expression)")
            },
        };
        key.descending = row.collation.as_deref() == Some("D");
        index.keys.push(key);
    }
    Ok(grouped)
}

/// The foreign keys, onto their tables.
fn foreign_keys(conn: &mut MysqlConnection, out: &mut BTreeMap<String, Table>) -> Result<()> {
    let fks: Vec<ForeignKeyRow> = diesel::sql_query(
        "SELECT k.TABLE_NAME AS table_name, k.CONSTRAINT_NAME AS name, k.COLUMN_NAME AS `column`, k.REFERENCED_TABLE_NAME AS referred_table, k.REFERENCED_COLUMN_NAME AS referred_column, r.DELETE_RULE AS on_delete, r.UPDATE_RULE AS on_update FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
    )
    .load(conn)
    .map_err(read_err())?;
    for row in fks {
        let Some(t) = out.get_mut(&row.table_name) else {
            continue;
        };
        match t.foreign_keys.iter_mut().find(|f| f.name == row.name) {
            Some(f) => {
                f.columns.push(row.column);
                f.referred_columns.push(row.referred_column);
            }
            None => t.foreign_keys.push(ForeignKey {
                name: row.name,
                columns: vec![row.column],
                referred_table: row.referred_table,
                referred_columns: vec![row.referred_column],
                on_delete: action(&row.on_delete),
                on_update: action(&row.on_update),
                not_valid: false,
                deferral: Default::default(),
            }),
        }
    }
    Ok(())
}

/// The checks, onto their tables; MariaDB's column-level `json_valid` check makes its
/// LONGTEXT column a JSON one instead.
fn checks(
    conn: &mut MysqlConnection,
    mariadb: bool,
    out: &mut BTreeMap<String, Table>,
) -> Result<()> {
    // MariaDB names checks per table (CHECK_CONSTRAINTS has TABLE_NAME); MySQL per schema.
    let checks_sql = if mariadb {
        "SELECT TABLE_NAME AS table_name, CONSTRAINT_NAME AS name, LEVEL AS level, CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()"
    } else {
        "SELECT tc.TABLE_NAME AS table_name, tc.CONSTRAINT_NAME AS name, 'Table' AS level, cc.CHECK_CLAUSE AS clause FROM information_schema.TABLE_CONSTRAINTS tc JOIN information_schema.CHECK_CONSTRAINTS cc ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME WHERE tc.TABLE_SCHEMA = DATABASE() AND tc.CONSTRAINT_TYPE = 'CHECK'"
    };
    let checks: Vec<CheckRow> = diesel::sql_query(checks_sql)
        .load(conn)
        .map_err(read_err())?;
    for row in checks {
        let Some(t) = out.get_mut(&row.table_name) else {
            continue;
        };
        if let Some(column) = json_column(&row.level, &row.clause) {
            if let Some(c) = t
                .columns
                .iter_mut()
                .find(|c| c.name.eq_ignore_ascii_case(&column) && c.ty == ColumnType::Text)
            {
                c.ty = ColumnType::Json;
                continue;
            }
        }
        t.checks.push(CheckConstraint {
            name: row.name,
            expression: row.clause,
            not_valid: false,
        });
    }
    Ok(())
}

fn action(rule: &str) -> ReferentialAction {
    match rule.to_ascii_uppercase().as_str() {
        "RESTRICT" => ReferentialAction::Restrict,
        "CASCADE" => ReferentialAction::Cascade,
        "SET NULL" => ReferentialAction::SetNull,
        "SET DEFAULT" => ReferentialAction::SetDefault,
        _ => ReferentialAction::NoAction,
    }
}
