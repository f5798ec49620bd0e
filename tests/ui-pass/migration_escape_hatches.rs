//! A hand-edited migration with raw SQL (per dialect) and a Rust data migration compiles,
//! and its function is reachable by name.

mod m_20261126_101010_abcd {
    use diesel::RunQueryDsl;

    fn backfill_status(conn: &mut retort::Connection) -> Result<(), retort::DataError> {
        diesel::sql_query("UPDATE tasks SET status = 'queued' WHERE status = ''").execute(conn)?;
        Ok(())
    }

    retort::migration! {
        revision: "20261126_101010_abcd",
        parents: ["20261126_090000_0001"],
        message: "backfill_status",
        up: [
            add_column("tasks", column("status", text, server_default = "''")),
            execute(sqlite = "UPDATE tasks SET status = ''", postgres = "UPDATE tasks SET status = ''"),
            run(backfill_status),
        ],
        down: [
            execute("SELECT 1"),
            drop_column("tasks", "status"),
        ],
    }
}

fn main() {
    let m = m_20261126_101010_abcd::MIGRATION;
    assert_eq!(m.revision, "20261126_101010_abcd");
    assert_eq!(m.parents, ["20261126_090000_0001"]);
    assert!(m.function("backfill_status").is_some());
    assert_eq!(m.up().len(), 3);
    assert!(m.checksum.starts_with("v1:") && m.checksum.len() == 67);
}
