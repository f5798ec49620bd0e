//! The names renamed for one name per concept (docs/naming.md) still resolve, deprecated,
//! for one release.
#![allow(deprecated)]

use retort_schema::ops::Op;

#[test]
fn old_names_resolve_to_the_new_ones() {
    let text = r#"retort::migration! { revision: "r1", parents: [], message: "m", up: [drop_table("t")], down: [] }"#;
    let file = retort_schema::migration::parse_file(text).unwrap();
    let old: retort::Migration = retort::graph::Migration::from_file(file.clone());
    let new: retort::Revision = old;
    assert_eq!(new.id(), "r1");

    let shape: retort_schema::graph::RevisionGraph =
        retort_schema::graph::Shape::new([("a", Vec::<String>::new())]);
    assert_eq!(shape.len(), 1);

    let op = Op::DropTable { table: "t".into() };
    assert_eq!(
        retort_schema::migration::render_op(&op).to_string(),
        retort_schema::migration::op_tokens(&op).to_string()
    );
    let _: Option<retort_build::history::MigrationOnDisk> = None;
    let _: Option<retort_build::codegen::NewMigration> = None;
    let _: fn(&retort_build::codegen::NewMigrationFile) -> String = retort_build::codegen::render;
    let _ = retort_build::relations::render;
    let _ = retort_schema::migration::render_file;
}
