#[derive(retort::Table)]
struct Task {
    #[column(primry_key)]
    id: i64,
}

fn main() {}
