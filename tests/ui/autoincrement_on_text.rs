#[derive(retort::Table)]
struct Task {
    #[column(primary_key, autoincrement)]
    uuid: String,
}

fn main() {}
