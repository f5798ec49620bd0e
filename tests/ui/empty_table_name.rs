#[derive(retort::Table)]
#[table(name = "")]
struct Task {
    #[column(primary_key)]
    id: i64,
}

fn main() {}
