//! The names models give: Rust identifiers for types, fields and variants (unique, never a
//! keyword), the enums a schema's columns use, and names in `references = "…"`.

use std::collections::{BTreeMap, BTreeSet};

use quote::format_ident;
use retort_schema::{Column, ColumnType, Schema, Table};

/// The enum types the models declare: a PostgreSQL type under its name, an enum that lives
/// in a column (MySQL, where a name is not kept) under `<table>_<column>`.
pub(super) struct EnumNames {
    /// SQL name → values.
    pub(super) declared: BTreeMap<String, Vec<String>>,
    /// (table, column) → SQL name, for the columns of an unnamed enum.
    pub(super) inline: BTreeMap<(String, String), String>,
    /// SQL name → the Rust enum's identifier.
    pub(super) idents: BTreeMap<String, String>,
}

impl EnumNames {
    pub(super) fn new(schema: &Schema) -> Self {
        let mut declared: BTreeMap<String, Vec<String>> = schema
            .enums
            .iter()
            .map(|(n, e)| (n.clone(), e.values.clone()))
            .collect();
        let mut inline = BTreeMap::new();
        for t in schema.tables.values() {
            for c in &t.columns {
                if let ColumnType::Enum { name, values } = &c.ty {
                    if name.is_empty() {
                        // Columns of the same values share one enum (a key and its
                        // reference must have the same type).
                        if let Some((same, _)) = declared.iter().find(|(_, v)| *v == values) {
                            inline.insert((t.name.clone(), c.name.clone()), same.clone());
                            continue;
                        }
                        let mut sql = retort_schema::naming::snake_case(&format!(
                            "{}_{}",
                            t.name.replace('.', "_"),
                            c.name
                        ));
                        while declared.get(&sql).is_some_and(|v| v != values) {
                            sql.push('_');
                        }
                        declared.insert(sql.clone(), values.clone());
                        inline.insert((t.name.clone(), c.name.clone()), sql);
                    } else {
                        declared
                            .entry(name.clone())
                            .or_insert_with(|| values.clone());
                    }
                }
            }
        }
        EnumNames {
            declared,
            inline,
            idents: BTreeMap::new(),
        }
    }

    pub(super) fn of(&self, table: &str, column: &Column) -> Option<String> {
        match &column.ty {
            ColumnType::Enum { name, .. } if name.is_empty() => self
                .inline
                .get(&(table.to_string(), column.name.clone()))
                .cloned(),
            ColumnType::Enum { name, .. } => Some(name.clone()),
            _ => None,
        }
    }
}

/// `post_status` → `PostStatus`; a name that does not start with a letter gets a prefix.
pub(super) fn camel(name: &str, prefix: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for ch in name.chars() {
        if ch.is_ascii_alphanumeric() {
            if upper {
                out.extend(ch.to_uppercase());
            } else {
                out.push(ch);
            }
            upper = ch.is_ascii_digit();
        } else {
            upper = true;
        }
    }
    if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert_str(0, prefix);
    }
    // `Self` and other keywords.
    if syn::parse_str::<syn::Ident>(&out).is_err() {
        out.push('_');
    }
    out
}

/// `wanted`, or with `_` added until no other item has it.
pub(super) fn unique_ident(mut wanted: String, taken: &mut BTreeSet<String>) -> String {
    while !taken.insert(wanted.clone()) {
        wanted.push('_');
    }
    wanted
}

/// A field's identifier for a column: its name when that is one (a keyword gets a `_`).
pub(super) fn field_ident(column: &str) -> (syn::Ident, bool) {
    let plain = column
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && column.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && column != "_";
    if plain && syn::parse_str::<syn::Ident>(column).is_ok() {
        return (format_ident!("{}", column), false);
    }
    let mut name = retort_schema::naming::snake_case(
        &column
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect::<String>(),
    );
    if !name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') {
        name.insert_str(0, "c_");
    }
    if syn::parse_str::<syn::Ident>(&name).is_err() {
        name.push('_');
    }
    (format_ident!("{}", name), true)
}

/// A name in `references = "…"`: as it is when plain, else in double quotes.
pub(super) fn reference_part(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        name.to_string()
    } else {
        format!("\"{name}\"")
    }
}

/// A referred table, its schema (PostgreSQL) before a dot.
pub(super) fn reference_table(name: &str) -> String {
    match name.split_once('.') {
        Some((schema, table)) => format!("{}.{}", reference_part(schema), reference_part(table)),
        None => reference_part(name),
    }
}

/// `tasks` → `task`, `categories` → `category`, `boxes` → `box`; other names kept.
pub(super) fn singular(table: &str) -> String {
    if let Some(stem) = table.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = table
        .strip_suffix("es")
        .filter(|s| s.ends_with("ss") || s.ends_with('x') || s.ends_with("ch") || s.ends_with("sh"))
    {
        stem.to_string()
    } else if let Some(stem) = table.strip_suffix('s').filter(|s| !s.ends_with('s')) {
        stem.to_string()
    } else {
        table.to_string()
    }
}

pub(super) trait NameForNaming {
    fn name_for_naming(&self) -> String;
}

impl NameForNaming for Table {
    /// The name derived names use: the table's own, without its schema.
    fn name_for_naming(&self) -> String {
        self.name
            .rsplit_once('.')
            .map_or(self.name.clone(), |(_, t)| t.to_string())
    }
}
