//! The relations the build script writes compile, for every shape of foreign keys between
//! models: a self-reference, two tables referencing each other, two foreign keys from one
//! table to another, and a plain one. Each of the first three used to emit conflicting
//! `diesel::joinable!` impls (E0119); as `diesel print-schema` does, they now get none, and
//! the plain one still gets its join.

mod support;

use support::{stderr, Fixture};

const MODELS: &str = r#"use retort::Table;

/// Employees, each with a manager (a self-reference).
#[derive(Table)]
pub struct Employee {
    #[column(primary_key, autoincrement)]
    pub id: i32,
    #[column(references = "employees(id)")]
    pub manager_id: Option<i32>,
    #[column(references = "departments(id)")]
    pub department_id: i32,
}

/// Departments, each headed by an employee (employees and departments reference each other).
#[derive(Table)]
pub struct Department {
    #[column(primary_key, autoincrement)]
    pub id: i32,
    #[column(references = "employees(id)")]
    pub head_id: Option<i32>,
}

/// Transfers between two departments (two foreign keys to one table).
#[derive(Table)]
pub struct Transfer {
    #[column(primary_key, autoincrement)]
    pub id: i32,
    #[column(references = "departments(id)")]
    pub from_id: i32,
    #[column(references = "departments(id)")]
    pub to_id: i32,
}

/// Notes on a transfer (one plain foreign key: diesel can join it).
#[derive(Table)]
pub struct Note {
    #[column(primary_key, autoincrement)]
    pub id: i32,
    #[column(references = "transfers(id)")]
    pub transfer_id: i32,
    pub text: String,
}

/// Uses the one join that is unambiguous, so the test fails if it is not emitted.
pub fn notes_with_transfers() -> impl Sized {
    use diesel::prelude::*;
    notes::table.inner_join(transfers::table).select((notes::text, transfers::from_id))
}
"#;

#[test]
fn relations_compile_for_every_shape_of_foreign_keys() {
    let fixture = Fixture::new("relations");
    fixture.write_models(MODELS);
    let out = fixture.build(&[("RETORT_NOW", "1795600000")], false);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fixture.run("relations").trim(), "1");
}
