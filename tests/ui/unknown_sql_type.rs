#[derive(retort::Table)]
struct Document {
    #[column(primary_key)]
    id: i64,
    #[column(sql_type = "tsvector")]
    search: String,
}

fn main() {}
