//! The reference app checks its own migrations with `retort::testing`, as any app would.

#[test]
fn migrations_have_a_single_head() {
    retort::testing::assert_single_head(&records::MIGRATIONS);
}

#[test]
fn every_migration_upgrades_downgrades_and_upgrades_again() {
    retort::testing::assert_stairway(&records::MIGRATIONS);
}

#[test]
fn the_migrated_database_matches_the_models() {
    retort::testing::assert_models_match_database(&records::MIGRATIONS);
}

#[test]
fn a_fresh_database_at_head_takes_the_diesel_dsl() {
    use diesel::prelude::*;
    use records::models::tasks;
    let db = retort::testing::database_at_head(&records::MIGRATIONS);
    let mut conn = db.connect();
    diesel::insert_into(tasks::table)
        .values((
            tasks::uuid.eq("u1"),
            tasks::status.eq("queued"),
            tasks::task_type.eq("transcription"),
            tasks::created_at.eq(retort::dsl::UtcDateTime::now()),
            tasks::updated_at.eq(retort::dsl::UtcDateTime::now()),
        ))
        .execute(&mut conn)
        .unwrap();
    let retries: i32 = tasks::table
        .select(tasks::retry_count)
        .first(&mut conn)
        .unwrap();
    assert_eq!(retries, 0, "the server default from the migration applies");
}
