#[derive(retort::Table)]
struct Task {
    #[column(primary_key)]
    id: i64,
    size: u64,
    tags: Vec<Vec<String>>,
}

fn main() {}
