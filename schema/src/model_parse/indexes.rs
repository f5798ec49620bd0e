//! Indexes and unique constraints from their attributes: columns resolved to SQL names,
//! keys in SQL parsed, options checked, names given or derived.

use syn::{Ident, LitStr};

use super::attr::{IndexAttr, KeyAttr};
use super::ctxt::Ctxt;
use super::index_attr::Kind;
use super::table::checked_name;
use crate::model::{Deferral, Index, IndexKey, NullsOrder};

/// Resolves field or SQL names of columns to SQL names, reporting unknown ones.
pub(super) type Resolve<'a> = dyn Fn(&[Ident], &str) -> Option<Vec<String>> + 'a;

/// An index (or the index shape of a unique constraint) from its attribute: columns
/// resolved to SQL names, keys in SQL parsed, options checked.
pub(super) fn build_index(
    cx: &Ctxt,
    table_name: &str,
    attr: &IndexAttr,
    resolve: &Resolve,
) -> Option<Index> {
    let (what, word) = match attr.kind {
        Kind::Index => ("index", "index"),
        Kind::Unique => ("unique constraint", "unique"),
    };
    if attr.keys.is_empty() {
        cx.error_at(
            attr.span,
            format!("`{word}(…)` lists no columns: write `{word}(first_column, second_column)`"),
        );
        return None;
    }
    let mut keys = Vec::new();
    let mut ok = true;
    for k in &attr.keys {
        match k {
            KeyAttr::Column {
                ident,
                descending,
                nulls,
            } => {
                let Some(mut sql) = resolve(std::slice::from_ref(ident), what) else {
                    ok = false;
                    continue;
                };
                let mut key = IndexKey::column(sql.remove(0));
                key.descending = *descending;
                key.nulls = match (descending, nulls) {
                    (false, Some(NullsOrder::Last)) | (true, Some(NullsOrder::First)) => None,
                    (_, n) => *n,
                };
                keys.push(key);
            }
            KeyAttr::Text(lit) => match IndexKey::parse(&lit.value()) {
                Ok(key) => keys.push(key),
                Err(e) => {
                    cx.error_spanned_by(lit, e);
                    ok = false;
                }
            },
        }
    }
    let include = resolve(&attr.include, "`include`");
    let with = match &attr.with {
        Some(lit) => match Index::parse_with(&lit.value()) {
            Ok(w) => w,
            Err(e) => {
                cx.error_spanned_by(lit, e);
                return None;
            }
        },
        None => Default::default(),
    };
    if attr.nulls_not_distinct && !attr.unique {
        cx.error_at(attr.span, "`nulls_not_distinct` only means something on a unique index: add `unique`, or remove it");
        ok = false;
    }
    let (Some(include), true) = (include, ok) else {
        return None;
    };
    let name = match &attr.name {
        Some(lit) => checked_name(cx, lit, &format!("{what} name")),
        None if keys.iter().any(|k| k.expression) => {
            cx.error_at(attr.span, "an index with an expression key has no column to be named after: give it `name = \"ix_…\"`");
            return None;
        }
        None => {
            let columns: Vec<String> = keys.iter().map(|k| k.target.clone()).collect();
            match attr.kind {
                Kind::Index => cx.naming.index(table_name, &columns),
                Kind::Unique => cx.naming.unique(table_name, &columns),
            }
        }
    };
    let mut index = Index::on_columns(name, Vec::<String>::new(), attr.unique);
    index.keys = keys;
    index.method = attr
        .using
        .as_ref()
        .map(|l| l.value().trim().to_ascii_lowercase())
        .filter(|m| m != "btree");
    if let Some(m) = &index.method {
        if !m.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || m.is_empty() {
            cx.error_spanned_by(attr.using.as_ref()?, format!("`using = \"{m}\"` is not an index method: write one word, like \"gin\", \"gist\", \"brin\" or \"hash\""));
            return None;
        }
    }
    index.predicate = attr.predicate.as_ref().map(LitStr::value);
    index.include = include;
    index.with = with;
    index.nulls_not_distinct = attr.nulls_not_distinct;
    Some(index)
}

/// `deferrable = "immediate" | "deferred"`.
pub(super) fn deferral(cx: &Ctxt, lit: &LitStr) -> Deferral {
    Deferral::parse_deferrable(&lit.value()).unwrap_or_else(|| {
        cx.error_spanned_by(
            lit,
            format!(
                "`deferrable = \"{}\"` is not a state: write `deferrable = \"immediate\"` (DEFERRABLE INITIALLY IMMEDIATE) or `deferrable = \"deferred\"` (DEFERRABLE INITIALLY DEFERRED); leave it out for NOT DEFERRABLE",
                lit.value()
            ),
        );
        Deferral::Immediate
    })
}

#[cfg(test)]
mod tests {
    use syn::DeriveInput;

    use crate::model::{Deferral, NullsOrder};
    use crate::{parse_model, Table};

    fn table(input: DeriveInput) -> Result<Table, String> {
        parse_model(&input).map(|m| m.table).map_err(|e| {
            e.into_iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    #[test]
    fn reads_every_index_option() {
        let t = table(syn::parse_quote! {
            #[table(name = "post",
                index(hot_rank desc nulls last, published_at, name = "ix_hot", where = "hot_rank <> 0"),
                index("lower(ap_id)", name = "ix_post_lower_ap_id", unique),
                index("title gin_trgm_ops", using = "GIN", name = "ix_title_trgm"),
                index(published_at, using = "brin", with = "pages_per_range = 1"),
                index(hot_rank, include(title), unique, nulls_not_distinct),
                unique(title, ap_id, nulls_not_distinct, deferrable = "deferred"),
                check(name = "ck_rank", expr = "hot_rank >= 0", not_valid))]
            struct Post {
                #[column(primary_key, autoincrement)]
                id: i32,
                hot_rank: i32,
                #[column(name = "published")]
                published_at: Option<String>,
                #[column(max_length = 100)]
                title: String,
                #[column(max_length = 100)]
                ap_id: String,
                #[column(references = "person(id)", deferrable = "immediate", not_valid)]
                creator_id: i32,
            }
        })
        .unwrap();
        let ix = |n: &str| t.indexes.iter().find(|i| i.name == n).unwrap();
        let hot = ix("ix_hot");
        assert_eq!(hot.key_texts(), ["hot_rank DESC NULLS LAST", "published"]);
        assert_eq!(hot.predicate.as_deref(), Some("hot_rank <> 0"));
        assert_eq!(hot.keys[0].nulls, Some(NullsOrder::Last));
        let lower = ix("ix_post_lower_ap_id");
        assert!(lower.unique && lower.keys[0].expression);
        let trgm = ix("ix_title_trgm");
        assert_eq!(trgm.method.as_deref(), Some("gin"));
        assert_eq!(trgm.keys[0].opclass.as_deref(), Some("gin_trgm_ops"));
        let brin = ix("ix_post_published");
        assert_eq!(brin.method.as_deref(), Some("brin"));
        assert_eq!(
            brin.with.get("pages_per_range").map(String::as_str),
            Some("1")
        );
        let incl = ix("ix_post_hot_rank");
        assert_eq!(incl.include, ["title"]);
        assert!(incl.nulls_not_distinct && incl.unique);
        let u = &t.uniques[0];
        assert_eq!(u.name, "uq_post_title_ap_id");
        assert!(u.nulls_not_distinct);
        assert_eq!(u.deferral, Deferral::Deferred);
        assert!(t.checks[0].not_valid);
        let fk = &t.foreign_keys[0];
        assert!(fk.not_valid);
        assert_eq!(fk.deferral, Deferral::DeferrableImmediate);
    }

    #[test]
    fn index_mistakes_are_all_reported_with_the_fix() {
        let err = table(syn::parse_quote! {
            #[table(
                index("lower(email)"),
                index(email sideways),
                index(nope),
                index(email, using = "no such"),
                index(email, nulls_not_distinct),
                index(email, with = "fillfactor"),
                index(email, include(missing)),
                unique(email desc),
                unique(email, deferrable = "later"),
                index("a NULLS maybe", name = "ix_x"))]
            struct Person {
                #[column(primary_key)]
                id: i32,
                #[column(max_length = 50, references = "org(id)", deferrable = "sometimes")]
                email: String,
                #[column(not_valid)]
                other: i32,
            }
        })
        .unwrap_err();
        for expected in [
            "has no column to be named after: give it `name = \"ix_…\"`",
            "unexpected `sideways` after column `email`",
            "names `nope`, which is not a column",
            "is not an index method",
            "`nulls_not_distinct` only means something on a unique index",
            "storage parameter `fillfactor` has no value",
            "names `missing`, which is not a column",
            "unexpected `desc` after column `email`",
            "`deferrable = \"later\"` is not a state",
            "NULLS is followed by FIRST or LAST",
            "`deferrable = \"sometimes\"` is not a state",
            "`not_valid` needs a foreign key",
        ] {
            assert!(err.contains(expected), "missing `{expected}` in:\n{err}");
        }
    }
}

#[cfg(test)]
mod array_tests {
    use crate::{parse_model, ColumnType};

    #[test]
    fn lists_of_portable_types_are_postgres_arrays() {
        let t = parse_model(&syn::parse_quote! {
            #[table(name = "post")]
            struct Post {
                #[column(primary_key)]
                id: i32,
                tags: Vec<String>,
                scores: Option<Vec<i64>>,
                stamps: Vec<chrono::DateTime<chrono::Utc>>,
                raw: Vec<u8>,
            }
        })
        .unwrap()
        .table;
        let ty = |n: &str| t.column(n).unwrap().ty.clone();
        let custom = |s: &str| ColumnType::Custom { sql: s.into() };
        assert_eq!(ty("tags"), custom("text[]"));
        assert_eq!(ty("scores"), custom("bigint[]"));
        assert!(t.column("scores").unwrap().nullable);
        assert_eq!(ty("stamps"), custom("timestamptz[]"));
        assert_eq!(ty("raw"), ColumnType::Binary);
        let nested =
            quote::quote! { struct A { #[column(primary_key)] id: i32, x: Vec<Vec<i32>> } };
        let input: syn::DeriveInput = syn::parse2(nested).unwrap();
        let err = parse_model(&input).unwrap_err().to_string();
        assert!(err.contains("has no portable column type"), "{err}");
    }
}
