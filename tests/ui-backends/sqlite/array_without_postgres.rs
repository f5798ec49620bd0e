// A list is a PostgreSQL array: with SQLite compiled in (the default), the derive refuses it
// with the alternative.

#[derive(retort::Table)]
#[table(name = "tasks")]
struct Task {
    #[column(primary_key)]
    id: i64,
    tags: Vec<String>,
}

fn main() {}
