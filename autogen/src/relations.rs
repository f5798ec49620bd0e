//! The diesel relations between models: `joinable!` for each pair of tables joined by
//! exactly one foreign key to a primary key (as `diesel print-schema` does), and `allow_tables_to_appear_in_same_query!`.
//! A derive sees one struct, so this part needs the build script's whole view.

use std::fmt::Write as _;

use retort_schema::naming::dsl_module_name;

use crate::discover::FoundModel;

/// The old name of [`source`].
#[deprecated(
    since = "0.1.0",
    note = "renamed to `source`: `render` means SQL (see docs/naming.md)"
)]
pub fn render(models: &[FoundModel]) -> String {
    source(models)
}

/// Rust source declaring the relations between `models`.
pub fn source(models: &[FoundModel]) -> String {
    let mut out = String::new();
    if models.is_empty() {
        return out;
    }
    let mut sorted: Vec<&FoundModel> = models.iter().collect();
    sorted.sort_by(|a, b| a.model.table.name.cmp(&b.model.table.name));
    out.push_str("/// diesel relations between the models, written by retort-build.\n");
    out.push_str("#[doc(hidden)]\n#[allow(unused_imports)]\nmod __retort_relations {\n");
    for m in &sorted {
        let mut path = vec!["crate".to_string()];
        path.extend(m.module.iter().cloned());
        path.push(dsl_module_name(&m.model.table.name));
        let _ = writeln!(out, "    use {};", path.join("::"));
    }
    // As `diesel print-schema` does: no `joinable!` for a self-reference, and none for a
    // pair of tables joined by more than one foreign key in either direction, since diesel
    // allows one join per pair (two would be conflicting impls, E0119).
    let mut pairs: std::collections::BTreeMap<(&str, &str), Vec<Option<String>>> =
        Default::default();
    for child in &sorted {
        for fk in &child.model.table.foreign_keys {
            let (c, p) = (child.model.table.name.as_str(), fk.referred_table.as_str());
            if c == p {
                continue;
            }
            let key = if c < p { (c, p) } else { (p, c) };
            let line = sorted
                .iter()
                .find(|m| m.model.table.name == fk.referred_table)
                // diesel joins on the parent's primary key only.
                .filter(|parent| {
                    fk.columns.len() == 1 && parent.model.table.primary_key == fk.referred_columns
                })
                .and_then(|parent| {
                    let field = child
                        .model
                        .fields
                        .iter()
                        .find(|f| f.column == fk.columns[0])?;
                    Some(format!(
                        "    diesel::joinable!({} -> {} ({}));",
                        dsl_module_name(&child.model.table.name),
                        dsl_module_name(&parent.model.table.name),
                        field.ident
                    ))
                });
            // A foreign key diesel cannot join on still counts: it makes the pair ambiguous.
            pairs.entry(key).or_default().push(line);
        }
    }
    for lines in pairs.values() {
        if let [Some(line)] = lines.as_slice() {
            let _ = writeln!(out, "{line}");
        }
    }
    if sorted.len() > 1 {
        let names: Vec<String> = sorted
            .iter()
            .map(|m| dsl_module_name(&m.model.table.name))
            .collect();
        let _ = writeln!(
            out,
            "    diesel::allow_tables_to_appear_in_same_query!({});",
            names.join(", ")
        );
    }
    out.push_str("}\n");
    out
}
