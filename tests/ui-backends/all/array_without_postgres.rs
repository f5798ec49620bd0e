// A list is a PostgreSQL array: with SQLite and MySQL compiled in beside PostgreSQL, the
// derive refuses it for each of them, with the alternative.

#[derive(retort::Table)]
#[table(name = "tasks")]
struct Task {
    #[column(primary_key)]
    id: i64,
    tags: Vec<String>,
}

fn main() {}
