#[derive(retort::Table)]
struct Task {
    #[column(primary_key)]
    id: i64,
    #[column(server_default = "1")]
    #[column(server_default = "2")]
    count: i32,
}

fn main() {}
