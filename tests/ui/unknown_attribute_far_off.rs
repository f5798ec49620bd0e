#[derive(retort::Table)]
struct Task {
    #[column(primary_key, frobnicate = "yes")]
    id: i64,
}

fn main() {}
