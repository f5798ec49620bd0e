// The database's default has one name everywhere: `server_default`.
#[derive(retort::Table)]
struct Task {
    #[column(primary_key)]
    id: i64,
    #[column(default = "0")]
    retries: i32,
}

fn main() {}
