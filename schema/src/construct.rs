//! Schema values as the Rust code that builds them: what `migration!` and `#[derive(Table)]`
//! compile operations and table metadata into, so an application decodes nothing at run time
//! and links no serde for retort's sake.
//!
//! [`Construct::construct`] gives an expression that evaluates to a value equal to `self`,
//! with every path absolute under `::retort::schema` (the runtime's re-export of this
//! crate). Each struct and enum is taken apart exhaustively, so a field added to the model
//! without a place here does not compile.
//!
//! ```
//! use retort_schema::construct::Construct;
//! use retort_schema::ops::Op;
//!
//! let op = Op::DropTable { table: "tasks".into() };
//! let code = op.construct().to_string();
//! assert!(code.contains("DropTable"), "{code}");
//! assert!(code.contains("\"tasks\""), "{code}");
//! ```

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{
    CheckConstraint, Column, ColumnType, DbObject, Deferral, EnumType, ForeignKey, Index, IndexKey,
    NullsOrder, ObjectKind, ReferentialAction, Schema, Table, UniqueConstraint,
};
use crate::ops::{ColumnChanges, ConstraintKind, DialectSql, Op};

/// A value that can be written as the Rust expression that builds it.
pub trait Construct {
    /// An expression of the value's type, equal to `self` when evaluated.
    fn construct(&self) -> TokenStream;
}

impl Construct for String {
    fn construct(&self) -> TokenStream {
        if self.is_empty() {
            quote!(::std::string::String::new())
        } else {
            quote!(::std::string::String::from(#self))
        }
    }
}

macro_rules! literal {
    ($($ty:ty),*) => {$(
        impl Construct for $ty {
            fn construct(&self) -> TokenStream {
                quote!(#self)
            }
        }
    )*};
}
literal!(bool, u32);

impl<T: Construct> Construct for Option<T> {
    fn construct(&self) -> TokenStream {
        match self {
            None => quote!(::core::option::Option::None),
            Some(v) => {
                let v = v.construct();
                quote!(::core::option::Option::Some(#v))
            }
        }
    }
}

impl<T: Construct> Construct for Vec<T> {
    fn construct(&self) -> TokenStream {
        if self.is_empty() {
            return quote!(::std::vec::Vec::new());
        }
        let items = self.iter().map(Construct::construct);
        quote!(::std::vec![#(#items),*])
    }
}

impl<A: Construct, B: Construct> Construct for (A, B) {
    fn construct(&self) -> TokenStream {
        let (a, b) = (self.0.construct(), self.1.construct());
        quote!((#a, #b))
    }
}

impl<K: Construct, V: Construct> Construct for BTreeMap<K, V> {
    fn construct(&self) -> TokenStream {
        if self.is_empty() {
            return quote!(::std::collections::BTreeMap::new());
        }
        let pairs = self.iter().map(|(k, v)| {
            let (k, v) = (k.construct(), v.construct());
            quote!((#k, #v))
        });
        quote!(::std::collections::BTreeMap::from([#(#pairs),*]))
    }
}

/// `impl Construct` for a struct: `path::To::Type { field, … }` lists every field.
macro_rules! structs {
    ($($module:ident :: $ty:ident { $($field:ident),* $(,)? })*) => {$(
        impl Construct for $ty {
            fn construct(&self) -> TokenStream {
                let $ty { $($field),* } = self;
                $(let $field = $field.construct();)*
                quote!(::retort::schema::$module::$ty { $($field: #$field),* })
            }
        }
    )*};
}

/// `impl Construct` for an enum: every variant, with its fields when it has some.
macro_rules! enums {
    ($($module:ident :: $ty:ident { $($variant:ident $({ $($field:ident),* $(,)? })?),* $(,)? })*) => {$(
        impl Construct for $ty {
            #[allow(unused_variables)]
            fn construct(&self) -> TokenStream {
                match self {
                    $($ty::$variant $({ $($field),* })? => {
                        $($(let $field = $field.construct();)*)?
                        quote!(::retort::schema::$module::$ty::$variant $({ $($field: #$field),* })?)
                    })*
                }
            }
        }
    )*};
}

structs! {
    model::Schema { tables, objects, enums }
    model::EnumType { values, renamed }
    model::Table {
        name, renamed_from, comment, columns, primary_key, primary_key_name, uniques, indexes,
        foreign_keys, checks,
    }
    model::Column {
        name, ty, nullable, server_default, autoincrement, identity_always, comment,
        renamed_from,
    }
    model::UniqueConstraint { name, columns, nulls_not_distinct, deferral }
    model::ForeignKey {
        name, columns, referred_table, referred_columns, on_delete, on_update, not_valid,
        deferral,
    }
    model::CheckConstraint { name, expression, not_valid }
    model::Index { name, keys, unique, method, predicate, include, with, nulls_not_distinct }
    model::IndexKey { target, expression, descending, nulls, opclass }
    model::DbObject { kind, name, table, sql }
    ops::ColumnChanges { ty, nullable, server_default, comment }
}

enums! {
    model::ColumnType {
        SmallInt, Integer, BigInt, Real, Double,
        Numeric { precision, scale },
        Boolean, Text,
        Varchar { length },
        Char { length },
        Binary, Date, Time, Timestamp, TimestampTz, Uuid, Json,
        Enum { name, values },
        Custom { sql },
    }
    model::Deferral { Immediate, DeferrableImmediate, Deferred }
    model::ReferentialAction { NoAction, Restrict, Cascade, SetNull, SetDefault }
    model::NullsOrder { First, Last }
    model::ObjectKind {
        Extension, Type, Sequence, Function, View, MaterializedView, Index, Trigger,
    }
    ops::ConstraintKind { Unique, ForeignKey, Check, PrimaryKey }
    ops::Op {
        CreateTable { table },
        DropTable { table },
        RenameTable { from, to },
        AddColumn { table, column },
        DropColumn { table, column },
        RenameColumn { table, from, to },
        AlterColumn { table, column, changes, online },
        CreateIndex { table, index, concurrently },
        DropIndex { table, name, concurrently },
        AddUnique { table, unique, online },
        AddForeignKey { table, foreign_key, online },
        AddCheck { table, check, online },
        DropConstraint { table, name, kind },
        RenameIndex { table, from, to },
        RenameConstraint { table, from, to, kind },
        SetTableComment { table, comment },
        Execute { sql },
        Backfill { table, column, value, batch },
        RunRust { function },
        CreateObject { object },
        DropObject { object },
        CreateEnum { name, values },
        DropEnum { name, values },
        AlterEnum { name, from, to, renamed },
    }
}

impl Construct for DialectSql {
    fn construct(&self) -> TokenStream {
        match self {
            DialectSql::All(sql) => {
                let sql = sql.construct();
                quote!(::retort::schema::ops::DialectSql::All(#sql))
            }
            DialectSql::PerDialect {
                sqlite,
                postgres,
                mysql,
            } => {
                let (sqlite, postgres, mysql) =
                    (sqlite.construct(), postgres.construct(), mysql.construct());
                quote!(::retort::schema::ops::DialectSql::PerDialect {
                    sqlite: #sqlite, postgres: #postgres, mysql: #mysql
                })
            }
        }
    }
}
