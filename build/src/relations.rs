//! The diesel relations between models: `joinable!` for each foreign key that
//! points at a table's primary key, and `allow_tables_to_appear_in_same_query!`.
//! A derive sees one struct, so this part needs the build script's whole view.

use std::fmt::Write as _;

use retort_schema::naming::dsl_module_name;

use crate::discover::FoundModel;

/// Rust source declaring the relations between `models`.
pub fn render(models: &[FoundModel]) -> String {
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
    for child in &sorted {
        for fk in &child.model.table.foreign_keys {
            let Some(parent) = sorted
                .iter()
                .find(|p| p.model.table.name == fk.referred_table)
            else {
                continue;
            };
            // diesel joins on the parent's primary key only.
            if fk.columns.len() != 1 || parent.model.table.primary_key != fk.referred_columns {
                continue;
            }
            let Some(field) = child
                .model
                .fields
                .iter()
                .find(|f| f.column == fk.columns[0])
            else {
                continue;
            };
            let _ = writeln!(
                out,
                "    diesel::joinable!({} -> {} ({}));",
                dsl_module_name(&child.model.table.name),
                dsl_module_name(&parent.model.table.name),
                field.ident
            );
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
