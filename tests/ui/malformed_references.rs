#[derive(retort::Table)]
struct SpeakerEmbedding {
    #[column(primary_key)]
    id: i64,
    #[column(references = "tasks.id")]
    task_id: i64,
}

fn main() {}
