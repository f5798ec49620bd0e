#[derive(retort::Table)]
#[table(index(status, name = "ix_tasks_status"))]
struct Task {
    #[column(primary_key)]
    id: i64,
    #[column(index)]
    status: String,
}

fn main() {}
