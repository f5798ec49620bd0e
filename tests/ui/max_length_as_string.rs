#[derive(retort::Table)]
struct Task {
    #[column(primary_key)]
    id: i64,
    #[column(max_length = "36")]
    uuid: String,
}

fn main() {}
