#[derive(retort::Table)]
#[table(nmae = "tasks")]
struct Task {
    #[column(primary_key)]
    id: i64,
}

fn main() {}
