//! Reading models: every attribute, every mistake reported at once, the refusals.

use super::super::column::parse_reference;
use super::*;
use crate::model::ReferentialAction;

fn parse(input: DeriveInput) -> Result<Model, String> {
    parse_model(&input).map_err(|e| {
        e.into_iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

#[test]
fn reads_every_attribute() {
    let model = parse(syn::parse_quote! {
        #[table(name = "orders", renamed_from = "old_orders", comment = "Orders placed",
                index(customer_id, placed_at, name = "ix_orders_by_customer"),
                unique(customer_id, number), check(name = "positive_total", expr = "total >= 0"))]
        struct Order {
            #[column(primary_key, autoincrement)]
            id: i64,
            #[column(references = "customers(id)", on_delete = "cascade", index)]
            customer_id: i64,
            number: i32,
            #[column(sql_type = "numeric(12,2)", server_default = "0")]
            total: rust_decimal::Decimal,
            /// When the order was placed
            placed_at: chrono::DateTime<chrono::Utc>,
            #[column(name = "note_text", max_length = 200, renamed_from = "note")]
            note: Option<String>,
            #[column(skip)]
            cached: Vec<String>,
        }
    })
    .unwrap();
    let t = &model.table;
    assert_eq!(t.name, "orders");
    assert_eq!(t.renamed_from.as_deref(), Some("old_orders"));
    assert_eq!(t.columns.len(), 6);
    assert_eq!(t.primary_key, vec!["id"]);
    assert!(t.columns[0].autoincrement);
    assert_eq!(
        t.columns[3].ty,
        ColumnType::Numeric {
            precision: Some(12),
            scale: Some(2)
        }
    );
    assert_eq!(t.columns[3].server_default.as_deref(), Some("0"));
    assert_eq!(
        t.columns[4].comment.as_deref(),
        Some("When the order was placed")
    );
    assert_eq!(t.columns[5].name, "note_text");
    assert_eq!(t.columns[5].ty, ColumnType::Varchar { length: 200 });
    assert!(t.columns[5].nullable);
    assert_eq!(t.foreign_keys[0].name, "fk_orders_customer_id_customers");
    assert_eq!(t.foreign_keys[0].on_delete, ReferentialAction::Cascade);
    let names: Vec<&str> = t.indexes.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["ix_orders_by_customer", "ix_orders_customer_id"]);
    assert_eq!(t.uniques[0].name, "uq_orders_customer_id_number");
    assert_eq!(t.checks[0].name, "positive_total");
    assert_eq!(model.fields.len(), 6);
}

#[test]
fn reports_all_mistakes_at_once() {
    let err = parse(syn::parse_quote! {
        struct Broken {
            #[column(primry_key)]
            id: i64,
            #[column(max_length = "36")]
            uuid: String,
            count: u64,
        }
    })
    .unwrap_err();
    assert!(err.contains("did you mean `primary_key`?"), "{err}");
    assert!(
        err.contains("`max_length` takes an integer literal"),
        "{err}"
    );
    assert!(err.contains("`u64` has no portable column type"), "{err}");
    assert!(err.contains("has no primary key"), "{err}");
}

/// Models that cannot be migrated are refused by the derive itself, spanned.
#[test]
fn unmigratable_models_are_refused() {
    let err = parse(syn::parse_quote! {
        #[table(name = "retort_versions")]
        struct Sneaky { #[column(primary_key)] id: i64 }
    })
    .unwrap_err();
    assert!(err.contains("is retort's own"), "{err}");
    let err = parse(syn::parse_quote! {
        #[table(name = "retort_lock")]
        struct Lock { #[column(primary_key)] id: i64 }
    })
    .unwrap_err();
    assert!(err.contains("`retort_lock` is retort's own"), "{err}");
    let err = parse(syn::parse_quote! {
        #[table(check(name = "ck_amount", expr = "amount > 0 AND length(note) < 5"))]
        struct Order { #[column(primary_key)] id: i64, total: i64, note: String }
    })
    .unwrap_err();
    assert!(
        err.contains("check `ck_amount` mentions `amount`, which is not a column of `orders`"),
        "{err}"
    );
    assert!(!err.contains("`note`, which"), "{err}");
    let err = parse(syn::parse_quote! {
        struct Order { #[column(primary_key)] id: i64, #[column(renamed_from = "total")] amount: i64, total: i64 }
    })
    .unwrap_err();
    assert!(
        err.contains(
            "`renamed_from = \"total\"` on `amount`: column `total` is still a field (`total`)"
        ),
        "{err}"
    );
    let err = parse(syn::parse_quote! {
        struct Order { #[column(primary_key)] id: i64, #[column(renamed_from = "x")] a: i64, #[column(renamed_from = "x")] b: i64 }
    })
    .unwrap_err();
    assert!(
        err.contains("`a` and `b` are both `renamed_from = \"x\"`"),
        "{err}"
    );
    let err = parse(syn::parse_quote! {
        #[table(name = "orders", renamed_from = "orders")]
        struct Order { #[column(primary_key)] id: i64 }
    })
    .unwrap_err();
    assert!(
        err.contains("`renamed_from = \"orders\"` names the table itself"),
        "{err}"
    );
    // A swap names fields that stay, each renamed itself: accepted.
    parse(syn::parse_quote! {
        struct Order { #[column(primary_key)] id: i64, #[column(renamed_from = "b")] a: i64, #[column(renamed_from = "a")] b: i64 }
    })
    .unwrap();
}

#[test]
fn references_are_parsed_strictly() {
    assert_eq!(
        parse_reference("tasks(id)"),
        Some(("tasks".into(), "id".into()))
    );
    assert_eq!(
        parse_reference(" tasks ( id ) "),
        Some(("tasks".into(), "id".into()))
    );
    assert_eq!(parse_reference("tasks.id"), None);
    assert_eq!(parse_reference("tasks()"), None);
    assert_eq!(parse_reference("(id)"), None);
}
