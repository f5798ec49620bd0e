#[derive(retort::Table)]
struct Task {
    #[column(primary_key)]
    uuid: String,
    #[column(autoincrement)]
    number: i64,
}

fn main() {}
