#[derive(retort::Table)]
#[table(index(status, created))]
struct Task {
    #[column(primary_key)]
    id: i64,
    status: String,
    created_at: i64,
}

fn main() {}
