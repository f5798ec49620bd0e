#[derive(retort::Table)]
struct Task(i64, String);

fn main() {}
