#[derive(retort::Table)]
struct Task {
    #[column(primary_key)]
    id: i64,
    note: Option<Option<String>>,
}

fn main() {}
