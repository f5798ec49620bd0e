/// Not a column type, and not a `#[derive(DbEnum)]` enum.
pub struct Mood;

#[derive(retort::Table)]
struct Task {
    #[column(primary_key)]
    id: i64,
    mood: Mood,
}

fn main() {}
