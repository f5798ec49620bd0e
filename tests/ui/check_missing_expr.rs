#[derive(retort::Table)]
#[table(check(name = "positive_amount"))]
struct Payment {
    #[column(primary_key)]
    id: i64,
    amount: i64,
}

fn main() {}
