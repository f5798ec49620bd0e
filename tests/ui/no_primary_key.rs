#[derive(retort::Table)]
struct Task {
    id: i64,
    uuid: String,
}

fn main() {}
