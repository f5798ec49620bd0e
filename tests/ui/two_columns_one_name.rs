#[derive(retort::Table)]
struct Task {
    #[column(primary_key)]
    id: i64,
    status: String,
    #[column(name = "status")]
    state: String,
}

fn main() {}
