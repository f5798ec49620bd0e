#[derive(retort::Table)]
struct Task {
    #[column(primary_key)]
    id: i64,
    #[column(max_length = 10)]
    retry_count: i32,
}

fn main() {}
