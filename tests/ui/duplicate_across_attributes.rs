#[derive(retort::Table)]
struct Task {
    #[column(primary_key)]
    id: i64,
    #[column(default = "1")]
    #[column(default = "2")]
    count: i32,
}

fn main() {}
