//! The transcription service's tables.
//!
//! One binary serves SQLite, PostgreSQL or MariaDB, so date-times and JSON documents are
//! retort's portable values (`UtcDateTime`, `JsonValue`): their diesel SQL type is the same on
//! every backend, where `chrono::DateTime<Utc>`'s and `serde_json::Value`'s differ. The
//! columns they make are the same (`timestamptz`, `jsonb` on PostgreSQL).

use diesel::prelude::*;
use retort::dsl::{JsonValue, UtcDateTime};
use retort::Table;

/// Transcription tasks: one row per submitted audio file or URL.
#[derive(Debug, Clone, PartialEq, Table, Queryable, Selectable, Insertable, serde::Serialize)]
#[table(name = "tasks")]
#[diesel(table_name = tasks)]
pub struct Task {
    /// Unique identifier for each task (Primary Key)
    #[column(primary_key, autoincrement)]
    #[diesel(skip_insertion)]
    pub id: i32,
    /// Universally unique identifier for each task
    pub uuid: String,
    /// Current status of the task
    pub status: String,
    /// JSON data representing the result of the task
    pub result: Option<JsonValue>,
    /// Name of the file associated with the task
    pub file_name: Option<String>,
    /// URL of the file associated with the task
    pub url: Option<String>,
    /// URL to be called when the task is completed
    pub callback_url: Option<String>,
    /// Duration of the audio in seconds
    pub audio_duration: Option<f64>,
    /// Language used for the task
    pub language: Option<String>,
    /// Type of the task
    pub task_type: String,
    /// Parameters of the task
    pub task_params: Option<JsonValue>,
    /// Duration of the task execution in seconds
    pub duration: Option<f64>,
    /// Start time of the task execution
    pub start_time: Option<UtcDateTime>,
    /// End time of the task execution
    pub end_time: Option<UtcDateTime>,
    /// Error message, if any, associated with the task
    pub error: Option<String>,
    /// Date and time of creation
    pub created_at: UtcDateTime,
    /// Date and time of last update
    pub updated_at: UtcDateTime,
    /// Number of retry attempts made after a transient failure
    #[column(server_default = "0")]
    pub retry_count: i32,
}

/// Speaker embeddings extracted from diarized transcriptions.
#[derive(Debug, Clone, PartialEq, Table, Queryable, Selectable, Insertable, serde::Serialize)]
#[table(name = "speaker_embeddings")]
#[diesel(table_name = speaker_embeddings)]
pub struct SpeakerEmbedding {
    /// Unique identifier for each embedding (Primary Key)
    #[column(primary_key, autoincrement)]
    #[diesel(skip_insertion)]
    pub id: i32,
    /// Universally unique identifier for each embedding
    #[column(unique, max_length = 36)]
    pub uuid: String,
    /// UUID of the task the speaker was found in
    #[column(index, max_length = 36)]
    pub task_uuid: Option<String>,
    /// Label of the speaker within its task (e.g. SPEAKER_00)
    pub speaker_label: String,
    /// Free-text description of the speaker
    pub description: Option<String>,
    /// The speaker's embedding vector, as a JSON array of numbers
    pub embedding: JsonValue,
    /// Date and time of creation
    pub created_at: UtcDateTime,
}
