#[derive(retort::Table)]
struct Task {
    #[column(primary_key)]
    id: Option<i64>,
}

fn main() {}
