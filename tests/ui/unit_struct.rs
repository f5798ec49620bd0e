#[derive(retort::Table)]
struct Task;

fn main() {}
