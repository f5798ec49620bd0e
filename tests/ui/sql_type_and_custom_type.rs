#[derive(retort::Table)]
struct Task {
    #[column(primary_key)]
    id: i64,
    #[column(sql_type = "text", custom_type = "citext")]
    email: String,
}

fn main() {}
