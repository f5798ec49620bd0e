#[derive(retort::Table)]
enum Status {
    Queued,
    Done,
}

fn main() {}
