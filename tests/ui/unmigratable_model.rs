// Models that could not be migrated: each error points at the attribute at fault.

#[derive(retort::Table)]
#[table(name = "retort_versions")]
struct Sneaky {
    #[column(primary_key)]
    id: i64,
}

#[derive(retort::Table)]
#[table(check(name = "ck_amount", expr = "amount > 0"))]
struct Order {
    #[column(primary_key)]
    id: i64,
    total: i64,
}

#[derive(retort::Table)]
#[table(renamed_from = "pairs")]
struct Pair {
    #[column(primary_key)]
    id: i64,
    #[column(renamed_from = "b")]
    a: i64,
    b: i64,
}

fn main() {}
