//! Writes operations back in the `migration!` grammar (as tokens; the build script
//! formats them). `parse(op_tokens(op)) == op` for every operation.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::model::{Column, ColumnType, Deferral, ReferentialAction, Table, UniqueConstraint};
use crate::ops::{DialectSql, Family, Op};

/// The old name of [`op_tokens`].
#[deprecated(
    since = "0.1.0",
    note = "renamed to `op_tokens`: `render` means SQL (see docs/naming.md)"
)]
pub fn render_op(op: &Op) -> TokenStream {
    op_tokens(op)
}

/// One operation as a call expression, e.g. `add_column("tasks", column("n", integer))`.
pub fn op_tokens(op: &Op) -> TokenStream {
    match op.family() {
        Family::Tables => tokens_tables(op),
        Family::Columns => tokens_columns(op),
        Family::Indexes => tokens_indexes(op),
        Family::Rest => tokens_rest(op),
    }
}

/// Tables as a whole.
fn tokens_tables(op: &Op) -> TokenStream {
    match op {
        Op::CreateTable { table } => create_table(table),
        Op::DropTable { table } => quote!(drop_table(#table)),
        Op::RenameTable { from, to } => quote!(rename_table(#from, #to)),
        Op::SetTableComment {
            table,
            comment: Some(c),
        } => quote!(create_table_comment(#table, #c)),
        Op::SetTableComment {
            table,
            comment: None,
        } => quote!(drop_table_comment(#table)),
        _ => unreachable!("op_tokens sends only these operations here"),
    }
}

/// Columns, and backfills.
fn tokens_columns(op: &Op) -> TokenStream {
    match op {
        Op::AddColumn { table, column } => {
            let c = render_column(column);
            quote!(add_column(#table, #c))
        }
        Op::DropColumn { table, column } => quote!(drop_column(#table, #column)),
        Op::RenameColumn { table, from, to } => quote!(rename_column(#table, #from, #to)),
        Op::AlterColumn {
            table,
            column,
            changes,
            online,
        } => {
            let mut args = Vec::new();
            if let Some(t) = &changes.ty {
                let t = column_type_tokens(t);
                args.push(quote!(type_ = #t));
            }
            if let Some(n) = changes.nullable {
                args.push(quote!(nullable = #n));
            }
            if let Some(d) = &changes.server_default {
                let d = optional(d);
                args.push(quote!(server_default = #d));
            }
            if let Some(c) = &changes.comment {
                let c = optional(c);
                args.push(quote!(comment = #c));
            }
            if *online {
                args.push(quote!(online = true));
            }
            quote!(alter_column(#table, #column, #(#args),*))
        }
        Op::Backfill {
            table,
            column,
            value,
            batch,
        } => {
            let batch = proc_macro2::Literal::u32_unsuffixed(*batch);
            quote!(backfill(#table, #column, #value, batch = #batch))
        }
        _ => unreachable!("op_tokens sends only these operations here"),
    }
}

/// Indexes and constraints.
fn tokens_indexes(op: &Op) -> TokenStream {
    match op {
        Op::CreateIndex {
            table,
            index,
            concurrently,
        } => {
            let name = &index.name;
            let cols = index.keys.iter().map(|k| {
                if k.is_plain() {
                    let c = &k.target;
                    quote!(#c)
                } else {
                    let text = k.to_string();
                    quote!(text(#text))
                }
            });
            let mut args = Vec::new();
            if index.unique {
                args.push(quote!(unique = true));
            }
            if let Some(m) = &index.method {
                args.push(quote!(using = #m));
            }
            if let Some(p) = &index.predicate {
                args.push(quote!(where_ = #p));
            }
            if !index.include.is_empty() {
                let inc = &index.include;
                args.push(quote!(include = [#(#inc),*]));
            }
            if !index.with.is_empty() {
                let w = index.with_sql();
                args.push(quote!(with = #w));
            }
            if index.nulls_not_distinct {
                args.push(quote!(nulls_not_distinct = true));
            }
            if *concurrently {
                args.push(quote!(concurrently = true));
            }
            quote!(create_index(#name, #table, [#(#cols),*] #(, #args)*))
        }
        Op::DropIndex {
            table,
            name,
            concurrently: false,
        } => quote!(drop_index(#name, #table)),
        Op::DropIndex {
            table,
            name,
            concurrently: true,
        } => quote!(drop_index(#name, #table, concurrently = true)),
        Op::AddUnique {
            table,
            unique,
            online,
        } => {
            let name = &unique.name;
            let cols = &unique.columns;
            let options = unique_options(unique);
            let online = online.then(|| quote!(, online = true));
            quote!(create_unique_constraint(#name, #table, [#(#cols),*] #options #online))
        }
        Op::AddForeignKey {
            table,
            foreign_key: fk,
            online,
        } => {
            let name = &fk.name;
            let referred = &fk.referred_table;
            let cols = &fk.columns;
            let rcols = &fk.referred_columns;
            let mut actions = actions(fk.on_delete, fk.on_update);
            actions.extend(deferrable(fk.deferral));
            if fk.not_valid {
                actions.extend(quote!(, not_valid = true));
            }
            if *online {
                actions.extend(quote!(, online = true));
            }
            quote!(create_foreign_key(#name, #table, #referred, [#(#cols),*], [#(#rcols),*] #actions))
        }
        Op::AddCheck {
            table,
            check,
            online,
        } => {
            let name = &check.name;
            let expr = &check.expression;
            let not_valid = check.not_valid.then(|| quote!(, not_valid = true));
            let online = online.then(|| quote!(, online = true));
            quote!(create_check_constraint(#name, #table, #expr #not_valid #online))
        }
        Op::DropConstraint { table, name, kind } => {
            let kind = kind.word();
            quote!(drop_constraint(#name, #table, type_ = #kind))
        }
        Op::RenameIndex { table, from, to } => quote!(rename_index(#table, #from, #to)),
        Op::RenameConstraint {
            table,
            from,
            to,
            kind,
        } => {
            let kind = kind.word();
            quote!(rename_constraint(#table, #from, #to, type_ = #kind))
        }
        _ => unreachable!("op_tokens sends only these operations here"),
    }
}

/// Raw SQL, Rust functions, database objects and enum types.
fn tokens_rest(op: &Op) -> TokenStream {
    match op {
        Op::Execute {
            sql: DialectSql::All(sql),
        } => quote!(execute(#sql)),
        Op::Execute {
            sql:
                DialectSql::PerDialect {
                    sqlite,
                    postgres,
                    mysql,
                },
        } => {
            let mut args = Vec::new();
            for (key, value) in [("sqlite", sqlite), ("postgres", postgres), ("mysql", mysql)] {
                if let Some(v) = value {
                    let k = format_ident!("{key}");
                    args.push(quote!(#k = #v));
                }
            }
            quote!(execute(#(#args),*))
        }
        Op::CreateObject { object } | Op::DropObject { object } => {
            let f = format_ident!("{}", op.name());
            let kind = format_ident!("{}", object.kind.grammar_word());
            let name = &object.name;
            let mut args = vec![quote!(#kind), quote!(#name)];
            match &object.sql {
                DialectSql::All(sql) => args.push(quote!(#sql)),
                DialectSql::PerDialect {
                    sqlite,
                    postgres,
                    mysql,
                } => {
                    for (key, value) in
                        [("sqlite", sqlite), ("postgres", postgres), ("mysql", mysql)]
                    {
                        if let Some(v) = value {
                            let k = format_ident!("{key}");
                            args.push(quote!(#k = #v));
                        }
                    }
                }
            }
            if let Some(t) = &object.table {
                args.push(quote!(table = #t));
            }
            quote!(#f(#(#args),*))
        }
        Op::RunRust { function } => {
            let f = format_ident!("{function}");
            quote!(run(#f))
        }
        Op::CreateEnum { name, values } => quote!(create_enum(#name, [#(#values),*])),
        Op::DropEnum { name, values } => quote!(drop_enum(#name, [#(#values),*])),
        Op::AlterEnum {
            name,
            from,
            to,
            renamed,
        } => {
            let renamed = (!renamed.is_empty()).then(|| {
                let pairs = renamed.iter().map(|(o, n)| quote!((#o, #n)));
                quote!(, renamed = [#(#pairs),*])
            });
            quote!(alter_enum(#name, [#(#from),*], [#(#to),*] #renamed))
        }
        _ => unreachable!("op_tokens sends only these operations here"),
    }
}

fn create_table(t: &Table) -> TokenStream {
    let name = &t.name;
    let mut parts: Vec<TokenStream> = t.columns.iter().map(render_column).collect();
    if !t.primary_key.is_empty() || t.primary_key_name.is_some() {
        let pk = &t.primary_key;
        let name = t.primary_key_name.as_ref().map(|n| quote!(, name = #n));
        parts.push(quote!(primary_key([#(#pk),*] #name)));
    }
    for u in &t.uniques {
        let (n, cols) = (&u.name, &u.columns);
        let options = unique_options(u);
        parts.push(quote!(unique(#n, [#(#cols),*] #options)));
    }
    for fk in &t.foreign_keys {
        let (n, cols, rt, rcols) = (
            &fk.name,
            &fk.columns,
            &fk.referred_table,
            &fk.referred_columns,
        );
        let mut actions = actions(fk.on_delete, fk.on_update);
        actions.extend(deferrable(fk.deferral));
        if fk.not_valid {
            actions.extend(quote!(, not_valid = true));
        }
        parts.push(quote!(foreign_key(#n, [#(#cols),*], #rt, [#(#rcols),*] #actions)));
    }
    for c in &t.checks {
        let (n, e) = (&c.name, &c.expression);
        let not_valid = c.not_valid.then(|| quote!(, not_valid = true));
        parts.push(quote!(check(#n, #e #not_valid)));
    }
    if let Some(c) = &t.comment {
        parts.push(quote!(comment = #c));
    }
    quote!(create_table(#name, #(#parts),*))
}

fn render_column(c: &Column) -> TokenStream {
    let name = &c.name;
    let ty = column_type_tokens(&c.ty);
    let mut parts = vec![quote!(#name), ty];
    if c.nullable {
        parts.push(quote!(nullable));
    }
    if c.autoincrement {
        parts.push(quote!(autoincrement));
    }
    if c.identity_always {
        parts.push(quote!(identity_always));
    }
    if let Some(d) = &c.server_default {
        parts.push(quote!(server_default = #d));
    }
    if let Some(d) = &c.comment {
        parts.push(quote!(comment = #d));
    }
    quote!(column(#(#parts),*))
}

/// A column type in the grammar: `integer`, `varchar(36)`, `custom("citext")`.
pub fn column_type_tokens(t: &ColumnType) -> TokenStream {
    let number = |n: &u32| proc_macro2::Literal::u32_unsuffixed(*n);
    match t {
        ColumnType::Numeric {
            precision: Some(p),
            scale: Some(s),
        } => {
            let (p, s) = (number(p), number(s));
            quote!(numeric(#p, #s))
        }
        ColumnType::Numeric {
            precision: Some(p),
            scale: None,
        } => {
            let p = number(p);
            quote!(numeric(#p))
        }
        ColumnType::Varchar { length } => {
            let n = number(length);
            quote!(varchar(#n))
        }
        ColumnType::Char { length } => {
            let n = number(length);
            quote!(char(#n))
        }
        ColumnType::Custom { sql } => quote!(custom(#sql)),
        ColumnType::Enum { name, values } => quote!(db_enum(#name, [#(#values),*])),
        other => {
            let ident = format_ident!("{}", other.to_string());
            quote!(#ident)
        }
    }
}

fn optional(v: &Option<String>) -> TokenStream {
    match v {
        Some(s) => quote!(#s),
        None => quote!(None),
    }
}

fn unique_options(u: &UniqueConstraint) -> TokenStream {
    let mut out = TokenStream::new();
    if u.nulls_not_distinct {
        out.extend(quote!(, nulls_not_distinct = true));
    }
    out.extend(deferrable(u.deferral));
    out
}

fn deferrable(d: Deferral) -> TokenStream {
    match d.deferrable() {
        Some(when) => quote!(, deferrable = #when),
        None => TokenStream::new(),
    }
}

fn actions(on_delete: ReferentialAction, on_update: ReferentialAction) -> TokenStream {
    let name = |a: ReferentialAction| {
        ReferentialAction::ALL
            .iter()
            .find(|(_, x)| *x == a)
            .map(|(n, _)| *n)
            .unwrap_or("no_action")
    };
    let mut out = TokenStream::new();
    if on_delete != ReferentialAction::NoAction {
        let d = name(on_delete);
        out.extend(quote!(, on_delete = #d));
    }
    if on_update != ReferentialAction::NoAction {
        let u = name(on_update);
        out.extend(quote!(, on_update = #u));
    }
    out
}
