//! The live schema of the connection's current schema, read from `pg_catalog`.

use std::collections::BTreeMap;

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};

use super::super::{db_err, objects_from};
use crate::error::{Error, Result};
use retort_schema::expr::lex::Lexicon;
use retort_schema::naming::VERSION_TABLE;
use retort_schema::sql::postgres::{catalog_type, check_body, read_default, read_type};
use retort_schema::sql::read_create_index;
use retort_schema::{
    CheckConstraint, Column, Deferral, ForeignKey, ReferentialAction, Schema, Table,
    UniqueConstraint,
};

/// The enum types of the current schema (not an extension's), each value in its order.
pub(super) const ENUMS: &str = "SELECT t.typname::text AS name, e.enumlabel::text AS value FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid WHERE n.nspname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e') ORDER BY t.typname, e.enumsortorder";

#[derive(QueryableByName)]
pub(super) struct EnumLabel {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

#[derive(QueryableByName)]
pub(super) struct TableRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    comment: Option<String>,
}

#[derive(QueryableByName)]
pub(super) struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sql_type: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
    #[diesel(sql_type = Nullable<Text>)]
    default_expr: Option<String>,
    #[diesel(sql_type = Bool)]
    identity: bool,
    #[diesel(sql_type = Nullable<Bool>)]
    serial: Option<bool>,
    #[diesel(sql_type = Bool)]
    always: bool,
    #[diesel(sql_type = Nullable<Text>)]
    comment: Option<String>,
}

#[derive(QueryableByName)]
pub(super) struct ConstraintRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    columns: String,
    #[diesel(sql_type = Nullable<Text>)]
    referred_table: Option<String>,
    #[diesel(sql_type = Text)]
    referred_columns: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
    #[diesel(sql_type = Text)]
    on_update: String,
    #[diesel(sql_type = Text)]
    definition: String,
    #[diesel(sql_type = Bool)]
    validated: bool,
    #[diesel(sql_type = Bool)]
    deferrable: bool,
    #[diesel(sql_type = Bool)]
    deferred: bool,
}

#[derive(QueryableByName)]
pub(super) struct IndexRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    definition: String,
}

/// Column names of a key, in key order, joined by the unit separator (names may hold commas).
pub(super) fn names_of(keys: &str, rel: &str) -> String {
    format!("array_to_string(ARRAY(SELECT a.attname FROM unnest({keys}) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = {rel} AND a.attnum = k.n ORDER BY k.o), chr(31))")
}

pub(super) fn split(names: &str) -> Vec<String> {
    if names.is_empty() {
        Vec::new()
    } else {
        names.split('\u{1f}').map(str::to_string).collect()
    }
}

/// A table's name as the models write it: its own in the connection's schema,
/// `schema.table` in another.
pub(super) fn qualified(class: &str, namespace: &str) -> String {
    format!("CASE WHEN {namespace}.nspname = current_schema() THEN {class}.relname::text ELSE {namespace}.nspname::text || '.' || {class}.relname::text END")
}

/// The tables introspection reads: the connection's schema, and the others apps keep
/// tables in, without retort's version table.
pub(super) fn tables_filter() -> String {
    format!(
        "(n.nspname = current_schema() OR (n.nspname !~ '^pg_' AND n.nspname <> 'information_schema')) AND c.relkind IN ('r', 'p') AND NOT (n.nspname = current_schema() AND c.relname = '{VERSION_TABLE}')"
    )
}

pub(super) fn introspect(conn: &mut PgConnection) -> Result<Schema> {
    let err = db_err("cannot read the schema from pg_catalog");
    // The connection's schema, and the others apps keep tables in (`schema.table`; `check`
    // looks only at those the models use).
    let in_schema = tables_filter();
    let tq = qualified("c", "n");
    let tables: Vec<TableRow> = diesel::sql_query(format!(
        "SELECT {tq} AS name, obj_description(c.oid, 'pg_class') AS comment FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {in_schema}"
    ))
    .load(conn)
    .map_err(&err)?;
    let mut out: BTreeMap<String, Table> = tables
        .into_iter()
        .map(|t| {
            let mut table = Table::new(t.name.clone());
            table.comment = t.comment;
            (t.name, table)
        })
        .collect();
    let columns: Vec<ColumnRow> = diesel::sql_query(format!(
        "SELECT {tq} AS table_name, a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS sql_type, NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS default_expr, (a.attidentity <> '' OR (pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) IS NOT NULL AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%')) AS identity, a.attidentity = '' AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%' AS serial, a.attidentity = 'a' AS always, col_description(c.oid, a.attnum) AS comment FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum WHERE {in_schema} ORDER BY c.relname, a.attnum"
    ))
    .load(conn)
    .map_err(&err)?;
    for row in columns {
        let Some(t) = out.get_mut(&row.table_name) else {
            continue;
        };
        let ty = read_type(&catalog_type(&row.sql_type));
        let mut c = Column::new(row.name, ty);
        c.nullable = row.nullable;
        c.autoincrement = row.identity;
        c.identity_always = row.always;
        // A `serial` column (another tool's autoincrement: a sequence it owns as default)
        // generates values as an identity does; its default is that, not a default.
        c.server_default = if row.identity && row.serial == Some(true) {
            None
        } else {
            row.default_expr.as_deref().map(read_default)
        };
        c.comment = row.comment;
        t.columns.push(c);
    }
    let constraints: Vec<ConstraintRow> = diesel::sql_query(format!(
        "SELECT {tq} AS table_name, con.conname::text AS name, con.contype::text AS kind, {cols} AS columns, {rq} AS referred_table, {rcols} AS referred_columns, con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update, pg_get_constraintdef(con.oid) AS definition, con.convalidated AS validated, con.condeferrable AS deferrable, con.condeferred AS deferred FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_class rc ON rc.oid = con.confrelid LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace WHERE {in_schema} AND con.contype IN ('p', 'u', 'f', 'c') ORDER BY c.relname, con.conname",
        cols = names_of("con.conkey", "con.conrelid"),
        rcols = names_of("COALESCE(con.confkey, '{}'::int2[])", "con.confrelid"),
        rq = qualified("rc", "rn"),
    ))
    .load(conn)
    .map_err(&err)?;
    for row in constraints {
        let Some(t) = out.get_mut(&row.table_name) else {
            continue;
        };
        match row.kind.as_str() {
            "p" => {
                t.primary_key = split(&row.columns);
                t.set_primary_key_name(&row.name);
            }
            "u" => {
                let mut u = UniqueConstraint::new(row.name, split(&row.columns));
                u.nulls_not_distinct = row.definition.contains("NULLS NOT DISTINCT");
                u.deferral = deferral(row.deferrable, row.deferred);
                t.uniques.push(u);
            }
            "f" => t.foreign_keys.push(ForeignKey {
                name: row.name,
                columns: split(&row.columns),
                referred_table: row.referred_table.unwrap_or_default(),
                referred_columns: split(&row.referred_columns),
                on_delete: action(&row.on_delete),
                on_update: action(&row.on_update),
                not_valid: !row.validated,
                deferral: deferral(row.deferrable, row.deferred),
            }),
            _ => {
                let body = check_body(&row.definition);
                t.checks.push(CheckConstraint {
                    name: row.name,
                    expression: body,
                    not_valid: !row.validated,
                })
            }
        }
    }
    // The whole definition, read back by the same reader as SQLite's: method, keys (order,
    // nulls, operator class, expressions), INCLUDE, NULLS NOT DISTINCT, WITH, WHERE.
    let indexes: Vec<IndexRow> = diesel::sql_query(format!(
        "SELECT {tq} AS table_name, pg_get_indexdef(ix.indexrelid) AS definition FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class c ON c.oid = ix.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {in_schema} AND NOT ix.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid AND con.contype IN ('p', 'u', 'x'))",
    ))
    .load(conn)
    .map_err(&err)?;
    for row in indexes {
        let Some(t) = out.get_mut(&row.table_name) else {
            continue;
        };
        let (_, index) =
            read_create_index(&row.definition, Lexicon::STANDARD).map_err(|message| {
                Error::Database {
                    context: "cannot read an index from pg_catalog".into(),
                    source: message.into(),
                }
            })?;
        t.indexes.push(index);
    }
    let rows = diesel::sql_query(OBJECTS).load(conn).map_err(&err)?;
    let labels: Vec<EnumLabel> = diesel::sql_query(ENUMS).load(conn).map_err(&err)?;
    let mut enums: std::collections::BTreeMap<String, retort_schema::EnumType> = Default::default();
    for l in labels {
        enums.entry(l.name).or_default().values.push(l.value);
    }
    let mut schema = Schema {
        tables: out,
        objects: objects_from(rows),
        enums,
    };
    schema.normalize();
    Ok(schema)
}

/// The declared kinds of object in the current schema, leaving out what an extension or a
/// column (a serial or identity sequence) owns.
pub(super) const OBJECTS: &str = "
    SELECT 'extension' AS kind, e.extname::text AS name, NULL::text AS tbl, NULL::text AS definition FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE n.nspname = current_schema() AND e.extname <> 'plpgsql'
    UNION ALL
    SELECT CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' ELSE 'materialized_view' END, c.relname::text, NULL, CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind IN ('S', 'v', 'm') AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i', 'e'))
    UNION ALL
    SELECT 'function', p.proname::text, NULL, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
    UNION ALL
    SELECT 'type', t.typname::text, NULL, NULL FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = current_schema() AND (t.typtype = 'e' OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c'))) AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
    UNION ALL
    SELECT 'index', ci.relname::text, c.relname::text, NULL FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'm'
    UNION ALL
    SELECT 'trigger', t.tgname::text, c.relname::text, NULL FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND NOT t.tgisinternal";

pub(super) fn deferral(deferrable: bool, deferred: bool) -> Deferral {
    match (deferrable, deferred) {
        (false, _) => Deferral::Immediate,
        (true, false) => Deferral::DeferrableImmediate,
        (true, true) => Deferral::Deferred,
    }
}

pub(super) fn action(code: &str) -> ReferentialAction {
    match code {
        "r" => ReferentialAction::Restrict,
        "c" => ReferentialAction::Cascade,
        "n" => ReferentialAction::SetNull,
        "d" => ReferentialAction::SetDefault,
        _ => ReferentialAction::NoAction,
    }
}
