#[derive(retort::Table)]
#[table(name = "tasks", name = "jobs")]
struct Task {
    #[column(primary_key)]
    id: i64,
}

fn main() {}
