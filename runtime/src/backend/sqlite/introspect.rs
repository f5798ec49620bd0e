//! Reads the live schema back from SQLite: `sqlite_master` and the table-valued
//! pragmas, plus constraint names from the stored `CREATE TABLE` text (SQLite keeps
//! them nowhere else).

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::sqlite::SqliteConnection;

use super::VERSION_TABLE;
use crate::error::{Error, Result};
use retort_schema::expr::lex::{lex, Lexicon, Token};
use retort_schema::expr::parenthesized;
use retort_schema::sql::sqlite::{read_default, read_type};
use retort_schema::sql::{quote_literal, read_create_index};
use retort_schema::{
    CheckConstraint, Column, Deferral, ForeignKey, Index, ReferentialAction, Schema, Table,
    UniqueConstraint,
};

#[derive(QueryableByName)]
struct TableRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    sql: Option<String>,
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    #[diesel(column_name = "type")]
    ty: String,
    #[diesel(sql_type = BigInt)]
    notnull: i64,
    #[diesel(sql_type = Nullable<Text>)]
    dflt_value: Option<String>,
    #[diesel(sql_type = BigInt)]
    pk: i64,
}

#[derive(QueryableByName)]
struct IndexRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    unique: i64,
    #[diesel(sql_type = Text)]
    origin: String,
}

#[derive(QueryableByName)]
struct IndexColumn {
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
}

#[derive(QueryableByName)]
struct ForeignKeyRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    table: String,
    #[diesel(sql_type = Text)]
    from: String,
    #[diesel(sql_type = Nullable<Text>)]
    to: Option<String>,
    #[diesel(sql_type = Text)]
    on_update: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
}

#[derive(QueryableByName)]
struct Violation {
    #[diesel(sql_type = Text)]
    table: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    rowid: Option<i64>,
    #[diesel(sql_type = Text)]
    parent: String,
}

fn err(context: &str) -> impl Fn(diesel::result::Error) -> Error + '_ {
    move |e| Error::Database {
        context: format!("cannot read the schema ({context})"),
        source: Box::new(e),
    }
}

fn lit(s: &str) -> String {
    retort_schema::sql::quote_literal(s)
}

/// Every user table (not SQLite's own, not the version table).
pub(super) fn schema(conn: &mut SqliteConnection) -> Result<Schema> {
    let tables: Vec<TableRow> = diesel::sql_query(format!(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '{VERSION_TABLE}' ORDER BY name"
    ))
    .load(conn)
    .map_err(err("sqlite_master"))?;
    let mut schema = Schema::new();
    for t in tables {
        let table = table(conn, &t.name, t.sql.as_deref().unwrap_or_default())?;
        schema.tables.insert(t.name, table);
    }
    let rows: Vec<crate::backend::ObjectRow> = diesel::sql_query(
        "SELECT type AS kind, name, tbl_name AS tbl, sql AS definition FROM sqlite_master WHERE type IN ('view', 'trigger') AND name NOT LIKE 'sqlite_%'",
    )
    .load(conn)
    .map_err(err("sqlite_master"))?;
    schema.objects = crate::backend::objects_from(rows);
    Ok(schema)
}

fn table(conn: &mut SqliteConnection, name: &str, sql: &str) -> Result<Table> {
    let named = named_constraints(sql);
    let mut t = Table::new(name);
    let columns: Vec<ColumnRow> = diesel::sql_query(format!(
        "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info({})",
        lit(name)
    ))
    .load(conn)
    .map_err(err("table_info"))?;
    let mut pk: Vec<(i64, String)> = Vec::new();
    let autoincrement = sql.to_ascii_uppercase().contains("AUTOINCREMENT");
    for c in &columns {
        let mut column = Column::new(c.name.clone(), read_type(&c.ty));
        column.nullable = c.notnull == 0 && c.pk == 0;
        column.server_default = c.dflt_value.as_deref().map(read_default);
        if c.pk > 0 {
            pk.push((c.pk, c.name.clone()));
        }
        t.columns.push(column);
    }
    pk.sort();
    t.primary_key = pk.into_iter().map(|(_, n)| n).collect();
    if autoincrement && t.primary_key.len() == 1 {
        let key = t.primary_key[0].clone();
        if let Some(c) = t.columns.iter_mut().find(|c| c.name == key) {
            c.autoincrement = true;
            // An INTEGER PRIMARY KEY is never NULL even when not declared so.
            c.nullable = false;
        }
    }
    let indexes: Vec<IndexRow> = diesel::sql_query(format!(
        "SELECT name, \"unique\", origin FROM pragma_index_list({})",
        lit(name)
    ))
    .load(conn)
    .map_err(err("index_list"))?;
    for i in indexes {
        let cols: Vec<IndexColumn> = diesel::sql_query(format!(
            "SELECT name FROM pragma_index_info({}) ORDER BY seqno",
            lit(&i.name)
        ))
        .load(conn)
        .map_err(err("index_info"))?;
        let cols: Vec<String> = cols.into_iter().filter_map(|c| c.name).collect();
        match i.origin.as_str() {
            // The stored CREATE INDEX says everything (expressions, DESC, WHERE); the
            // pragma's column list is what is left when the text is gone.
            "c" => t.indexes.push(match index_sql(conn, &i.name)? {
                Some(sql) => {
                    read_create_index(&sql, Lexicon::STANDARD)
                        .map_err(|e| Error::Database {
                            context: format!("cannot read index `{}`", i.name),
                            source: e.into(),
                        })?
                        .1
                }
                None => Index::on_columns(i.name, cols, i.unique != 0),
            }),
            "u" => {
                let name = named
                    .uniques
                    .iter()
                    .find(|(_, c)| *c == cols)
                    .map(|(n, _)| n.clone())
                    .unwrap_or_default();
                t.uniques.push(UniqueConstraint::new(name, cols));
            }
            _ => {}
        }
    }
    let fks: Vec<ForeignKeyRow> = diesel::sql_query(format!(
        "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list({}) ORDER BY id, seq",
        lit(name)
    ))
    .load(conn)
    .map_err(err("foreign_key_list"))?;
    let mut grouped: BTreeMap<i64, ForeignKey> = BTreeMap::new();
    for f in fks {
        let fk = grouped.entry(f.id).or_insert_with(|| ForeignKey {
            name: String::new(),
            columns: Vec::new(),
            referred_table: f.table.clone(),
            referred_columns: Vec::new(),
            on_delete: ReferentialAction::parse(&f.on_delete).unwrap_or_default(),
            on_update: ReferentialAction::parse(&f.on_update).unwrap_or_default(),
            not_valid: false,
            deferral: Default::default(),
        });
        fk.columns.push(f.from);
        fk.referred_columns.push(f.to.unwrap_or_default());
    }
    for mut fk in grouped.into_values() {
        if let Some((name, _, deferral)) =
            named.foreign_keys.iter().find(|(_, c, _)| *c == fk.columns)
        {
            fk.name = name.clone();
            fk.deferral = *deferral;
        }
        t.foreign_keys.push(fk);
    }
    // Unnamed (a rowid key, or a key another tool made) reads back empty: not compared.
    match &named.primary_key {
        Some(name) => t.set_primary_key_name(name),
        None if !t.primary_key.is_empty() => t.primary_key_name = Some(String::new()),
        None => {}
    }
    t.checks = named
        .checks
        .into_iter()
        .map(|(name, expression)| CheckConstraint {
            name,
            expression,
            not_valid: false,
        })
        .collect();
    t.normalize();
    Ok(t)
}

/// The `CREATE INDEX` text SQLite keeps for an index.
fn index_sql(conn: &mut SqliteConnection, name: &str) -> Result<Option<String>> {
    let rows: Vec<TableRow> = diesel::sql_query(format!(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name = {}",
        quote_literal(name)
    ))
    .load(conn)
    .map_err(err("sqlite_master"))?;
    Ok(rows.into_iter().next().and_then(|r| r.sql))
}

#[derive(Default)]
struct Named {
    primary_key: Option<String>,
    uniques: Vec<(String, Vec<String>)>,
    foreign_keys: Vec<(String, Vec<String>, Deferral)>,
    checks: Vec<(String, String)>,
}

/// The constraints SQLite keeps only in the `CREATE TABLE` text: `CONSTRAINT "name" UNIQUE
/// (…)` and `… FOREIGN KEY (…)` (their names), and every `CHECK (…)`, named or not (an
/// unnamed one gets an empty name), read token by token so that text inside literals is
/// never taken for a keyword.
fn named_constraints(sql: &str) -> Named {
    let spans = lex(sql, Lexicon::STANDARD);
    let word = |i: usize| match spans.get(i).map(|s| &s.token) {
        Some(Token::Word(w)) => Some(w.to_ascii_uppercase()),
        _ => None,
    };
    let punct = |i: usize, p: &str| matches!(spans.get(i).map(|s| &s.token), Some(Token::Punct(x)) if x == p);
    // The parenthesis opening at token `i`: its inside, and the index of the token after it.
    let group = |i: usize| -> Option<(String, usize)> {
        let (inner, _) = parenthesized(&sql[spans[i].start..])?;
        let end = spans[i].start + 1 + inner.len() + 1;
        let next = spans
            .iter()
            .position(|s| s.start >= end)
            .unwrap_or(spans.len());
        Some((inner.trim().to_string(), next))
    };
    let mut out = Named::default();
    let mut pending: Option<String> = None;
    let mut i = 0;
    while i < spans.len() {
        match word(i).as_deref() {
            Some("CONSTRAINT") => {
                pending = match spans.get(i + 1).map(|s| &s.token) {
                    Some(Token::Word(w)) => Some(w.clone()),
                    Some(Token::QuotedIdent(q)) => Some(q.clone()),
                    _ => None,
                };
                i += 2;
                continue;
            }
            Some("CHECK") if punct(i + 1, "(") => {
                if let Some((body, next)) = group(i + 1) {
                    out.checks.push((pending.take().unwrap_or_default(), body));
                    i = next;
                    continue;
                }
            }
            Some("UNIQUE") if punct(i + 1, "(") => {
                if let Some((inner, next)) = group(i + 1) {
                    if let Some(name) = pending.take() {
                        out.uniques.push((name, split_idents(&inner)));
                    }
                    i = next;
                    continue;
                }
            }
            Some("FOREIGN") if word(i + 1).as_deref() == Some("KEY") && punct(i + 2, "(") => {
                if let Some((inner, next)) = group(i + 2) {
                    if let Some(name) = pending.take() {
                        // The clause runs to the next comma outside parentheses.
                        let mut depth = 0i32;
                        let mut words = Vec::new();
                        for j in next..spans.len() {
                            if punct(j, "(") {
                                depth += 1;
                            } else if punct(j, ")") {
                                depth -= 1;
                            }
                            if depth < 0 || (depth == 0 && punct(j, ",")) {
                                break;
                            }
                            words.extend(word(j));
                        }
                        let text = words.join(" ");
                        let deferral =
                            if text.contains("NOT DEFERRABLE") || !text.contains("DEFERRABLE") {
                                Deferral::Immediate
                            } else if text.contains("INITIALLY DEFERRED") {
                                Deferral::Deferred
                            } else {
                                Deferral::DeferrableImmediate
                            };
                        out.foreign_keys
                            .push((name, split_idents(&inner), deferral));
                    }
                    i = next;
                    continue;
                }
            }
            Some("PRIMARY") if word(i + 1).as_deref() == Some("KEY") && punct(i + 2, "(") => {
                out.primary_key = pending.take();
            }
            Some("PRIMARY" | "NOT" | "NULL" | "DEFAULT" | "REFERENCES" | "COLLATE") => {
                pending = None;
            }
            _ => {}
        }
        if punct(i, ",") {
            pending = None;
        }
        i += 1;
    }
    out
}

/// A quoted or bare identifier at the start of `s`, and the rest.
fn identifier(s: &str) -> Option<(String, &str)> {
    let mut chars = s.char_indices();
    let (_, first) = chars.next()?;
    if matches!(first, '"' | '`' | '[') {
        let close = if first == '[' { ']' } else { first };
        let mut name = String::new();
        let mut it = s[1..].char_indices().peekable();
        while let Some((i, c)) = it.next() {
            if c == close {
                if it.peek().map(|(_, n)| *n) == Some(close) && close != ']' {
                    name.push(c);
                    it.next();
                    continue;
                }
                return Some((name, &s[i + 2..]));
            }
            name.push(c);
        }
        None
    } else {
        let end = s
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        (end > 0).then(|| (s[..end].to_string(), &s[end..]))
    }
}

fn split_idents(list: &str) -> Vec<String> {
    list.split(',')
        .filter_map(|part| identifier(part.trim()).map(|(n, _)| n))
        .collect()
}

/// `PRAGMA foreign_key_check`, as an error listing the first violations.
pub(super) fn foreign_key_violations(
    conn: &mut SqliteConnection,
    tables: Option<&[String]>,
) -> std::result::Result<(), String> {
    let query = |source: &str| format!("SELECT \"table\", rowid, parent FROM {source}");
    let rows: Vec<Violation> = match tables {
        None => diesel::sql_query(query("pragma_foreign_key_check"))
            .load(conn)
            .map_err(|e| e.to_string())?,
        Some(tables) => {
            let mut rows = Vec::new();
            for t in tables {
                let source = format!("pragma_foreign_key_check({})", quote_literal(t));
                rows.extend(
                    diesel::sql_query(query(&source))
                        .load::<Violation>(conn)
                        .map_err(|e| e.to_string())?,
                );
            }
            rows
        }
    };
    if rows.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = rows
        .iter()
        .take(5)
        .map(|v| {
            format!(
                "{} row {} references a missing row of {}",
                v.table,
                v.rowid.map(|r| r.to_string()).unwrap_or("?".into()),
                v.parent
            )
        })
        .collect();
    Err(format!(
        "PRAGMA foreign_key_check found {} violation(s): {}",
        rows.len(),
        listed.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_constraint_names_from_create_table() {
        let n = named_constraints(
            r#"CREATE TABLE "t" ("id" INTEGER, "a" TEXT, CONSTRAINT "uq_t_a" UNIQUE ("a", "id"), CONSTRAINT "fk_t_a_o" FOREIGN KEY ("a") REFERENCES "o" ("id"), CONSTRAINT "fk_t_id_o" FOREIGN KEY ("id") REFERENCES "o" ("x") ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED, CONSTRAINT "ck" CHECK (length(a) > (1)))"#,
        );
        assert_eq!(
            n.uniques,
            [(
                "uq_t_a".to_string(),
                vec!["a".to_string(), "id".to_string()]
            )]
        );
        assert_eq!(
            n.foreign_keys,
            [
                (
                    "fk_t_a_o".to_string(),
                    vec!["a".to_string()],
                    Deferral::Immediate
                ),
                (
                    "fk_t_id_o".to_string(),
                    vec!["id".to_string()],
                    Deferral::Deferred
                )
            ]
        );
        assert_eq!(
            n.checks,
            [("ck".to_string(), "length(a) > (1)".to_string())]
        );
        let n = named_constraints(
            r#"CREATE TABLE t (a TEXT DEFAULT 'CONSTRAINT x CHECK (0)' CHECK (a <> 'CHECK'), b INT CONSTRAINT "c b" CHECK (b > 0))"#,
        );
        assert_eq!(
            n.checks,
            [
                (String::new(), "a <> 'CHECK'".to_string()),
                ("c b".to_string(), "b > 0".to_string())
            ]
        );
    }
}
