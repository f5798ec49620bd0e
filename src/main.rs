//! records: prints the tables its models describe.

use retort::Table as _;

fn main() {
    for table in [
        records::models::Task::schema(),
        records::models::SpeakerEmbedding::schema(),
    ] {
        println!("{} ({} columns)", table.name, table.columns.len());
    }
}
