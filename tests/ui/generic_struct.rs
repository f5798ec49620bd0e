#[derive(retort::Table)]
struct Task<T> {
    #[column(primary_key)]
    id: i64,
    payload: T,
}

fn main() {}
