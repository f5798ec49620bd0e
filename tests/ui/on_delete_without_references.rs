#[derive(retort::Table)]
struct SpeakerEmbedding {
    #[column(primary_key)]
    id: i64,
    #[column(on_delete = "cascade")]
    task_id: i64,
}

fn main() {}
