//! Reading `#[derive(Table)]` structs into the schema model.
//!
//! One parser serves both the derive (at compile time) and the build script
//! (reading `src/`), so what the compiler accepts and what the build diffs can
//! never disagree. Errors carry spans; all of a struct's mistakes are reported
//! together.

mod attr;
mod check;
mod column;
mod ctxt;
mod db_enum;
mod index_attr;
mod indexes;
mod symbol;
mod table;
mod types;

pub use db_enum::{parse_enum, EnumModel};
pub use table::{parse_model, parse_model_partial, parse_model_with, Model, ModelField};
