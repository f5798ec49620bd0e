// With retort's `mysql` backend compiled in, a unique or indexed column MySQL cannot index
// whole is refused at the field, with the fix.

/// Speaker embeddings.
#[derive(retort::Table)]
#[table(name = "speakers")]
pub struct Speaker {
    #[column(primary_key, autoincrement)]
    pub id: i32,
    #[column(unique)]
    pub uuid: String,
    #[column(index)]
    pub task_uuid: Option<String>,
    #[column(unique, max_length = 36)]
    pub ok: String,
}

fn main() {}
