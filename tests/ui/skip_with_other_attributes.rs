#[derive(retort::Table)]
struct Task {
    #[column(primary_key)]
    id: i64,
    #[column(skip, unique)]
    cache: Vec<String>,
}

fn main() {}
