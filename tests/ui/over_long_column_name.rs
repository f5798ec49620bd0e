#[derive(retort::Table)]
struct Task {
    #[column(primary_key)]
    id: i64,
    #[column(name = "this_column_name_is_much_too_long_for_postgresql_which_stops_at_63_bytes")]
    note: String,
}

fn main() {}
