#[derive(retort::Table)]
#[table(unique(uuid, tenant))]
struct Task {
    #[column(primary_key)]
    id: i64,
    uuid: String,
}

fn main() {}
