#[derive(retort::Table)]
struct Task {
    #[column(primary_key, unique, unique)]
    id: i64,
}

fn main() {}
