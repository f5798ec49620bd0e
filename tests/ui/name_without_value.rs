#[derive(retort::Table)]
struct Task {
    #[column(primary_key)]
    id: i64,
    #[column(name)]
    uuid: String,
}

fn main() {}
