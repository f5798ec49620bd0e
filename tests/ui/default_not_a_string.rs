#[derive(retort::Table)]
struct Task {
    #[column(primary_key)]
    id: i64,
    #[column(server_default = 0)]
    retry_count: i32,
}

fn main() {}
