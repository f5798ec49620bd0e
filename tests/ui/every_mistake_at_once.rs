#[derive(retort::Table)]
#[table(nme = "tasks", index(missing))]
struct Task {
    #[column(primary_kye)]
    id: i64,
    #[column(max_length = "36", unique = true)]
    uuid: String,
    size: u32,
}

fn main() {}
