#[derive(retort::Table)]
struct Task {
    #[column(primary_key = true)]
    id: i64,
}

fn main() {}
