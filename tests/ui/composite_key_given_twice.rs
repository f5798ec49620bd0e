#[derive(retort::Table)]
#[table(primary_key(tenant, id))]
struct Task {
    #[column(primary_key)]
    id: i64,
    tenant: i64,
}

fn main() {}
