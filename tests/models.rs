//! The reference app's models: what the parser reads from `src/models.rs`, what the
//! compiled derive reports, and that the generated diesel DSL works on a real SQLite file.

use std::path::Path;

use records::models::{SpeakerEmbedding, Task};
use retort::schema::{ColumnType, Schema};
use retort::Table as _;

/// The models as the build script reads them: from the crate root through `mod` declarations.
fn parsed() -> Schema {
    let sources =
        retort_build::discover::scan_crate(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
    assert!(sources.refused.is_empty(), "{:?}", sources.refused);
    Schema::from_tables(sources.models.into_iter().map(|m| m.model.table))
}

#[test]
fn parsed_reference_models_match_the_snapshot() {
    let schema = parsed();
    insta::assert_snapshot!("reference_models", schema.to_json());

    // The facts the service depends on, spelled out besides the snapshot.
    let tasks = schema.table("tasks").unwrap();
    let names: Vec<&str> = tasks.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "id",
            "uuid",
            "status",
            "result",
            "file_name",
            "url",
            "callback_url",
            "audio_duration",
            "language",
            "task_type",
            "task_params",
            "duration",
            "start_time",
            "end_time",
            "error",
            "created_at",
            "updated_at",
            "retry_count"
        ]
    );
    let id = tasks.column("id").unwrap();
    assert!(id.autoincrement && !id.nullable && id.ty == ColumnType::Integer);
    assert_eq!(tasks.primary_key, ["id"]);
    for (name, ty, nullable) in [
        ("uuid", ColumnType::Text, false),
        ("status", ColumnType::Text, false),
        ("result", ColumnType::Json, true),
        ("audio_duration", ColumnType::Double, true),
        ("task_type", ColumnType::Text, false),
        ("task_params", ColumnType::Json, true),
        ("end_time", ColumnType::TimestampTz, true),
        ("updated_at", ColumnType::TimestampTz, false),
    ] {
        let c = tasks.column(name).unwrap();
        assert_eq!((&c.ty, c.nullable), (&ty, nullable), "tasks.{name}");
    }
    assert_eq!(
        tasks.column("uuid").unwrap().comment.as_deref(),
        Some("Universally unique identifier for each task")
    );

    let emb = schema.table("speaker_embeddings").unwrap();
    assert_eq!(emb.uniques.len(), 1);
    assert_eq!(emb.uniques[0].columns, ["uuid"]);
    assert_eq!(emb.indexes.len(), 1);
    assert_eq!(emb.indexes[0].name, "ix_speaker_embeddings_task_uuid");
    assert!(emb.column("task_uuid").unwrap().nullable);
    assert_eq!(emb.column("embedding").unwrap().ty, ColumnType::Json);
    assert!(!emb.column("embedding").unwrap().nullable);
}

#[test]
fn compiled_metadata_equals_what_the_build_script_parses() {
    let schema = parsed();
    assert_eq!(Task::schema(), schema.table("tasks").unwrap());
    assert_eq!(
        SpeakerEmbedding::schema(),
        schema.table("speaker_embeddings").unwrap()
    );
    assert_eq!(
        schema.tables.len(),
        2,
        "every model is compiled and checked here"
    );
}

#[test]
fn the_reference_migrations_are_what_the_build_wrote() {
    use retort::schema::ops::Op;
    use retort_build::history::History;

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let history = History::load(&dir).unwrap();
    let ordered = history.ordered();
    assert_eq!(ordered.len(), 2);

    let initial = &ordered[0].file;
    assert!(initial.parents.is_empty());
    let created: Vec<&str> = initial
        .up
        .iter()
        .filter_map(|op| match op {
            Op::CreateTable { table } => Some(table.name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(created, ["speaker_embeddings", "tasks"]);
    let emb = initial.up.iter().find_map(|op| match op {
        Op::CreateTable { table } if table.name == "speaker_embeddings" => Some(table),
        _ => None,
    });
    assert_eq!(emb.unwrap().uniques[0].name, "uq_speaker_embeddings_uuid");
    assert!(initial.up.iter().any(|op| matches!(op, Op::CreateIndex { index, .. } if index.name == "ix_speaker_embeddings_task_uuid")));

    let second = &ordered[1].file;
    assert_eq!(second.parents, std::slice::from_ref(&initial.revision));
    let [Op::AddColumn { table, column }] = second.up.as_slice() else {
        panic!("expected exactly one add_column, got {:?}", second.up);
    };
    assert_eq!(table, "tasks");
    assert_eq!(column.name, "retry_count");
    assert_eq!(column.ty, ColumnType::Integer);
    assert!(!column.nullable);
    assert_eq!(column.server_default.as_deref(), Some("0"));
    assert_eq!(
        column.comment.as_deref(),
        Some("Number of retry attempts made after a transient failure")
    );

    // The head of the history, the committed snapshot, the parsed models and the compiled
    // metadata all describe the same schema.
    let head = history.replay(&[second.revision.as_str()]).unwrap();
    let snapshot =
        Schema::from_json(&std::fs::read_to_string(dir.join("schema.json")).unwrap()).unwrap();
    assert_eq!(head, snapshot);
    assert!(retort::schema::diff::diff(&snapshot, &parsed())
        .unwrap()
        .is_empty());
    let compiled =
        Schema::from_tables([Task::schema().clone(), SpeakerEmbedding::schema().clone()]);
    assert!(retort::schema::diff::diff(&snapshot, &compiled)
        .unwrap()
        .is_empty());
    assert_eq!(records::MIGRATIONS.all().len(), 2);
    assert_eq!(records::MIGRATIONS.all()[1].checksum, second.checksum());
}

#[test]
fn schema_json_round_trip_is_lossless_and_byte_stable() {
    let schema = parsed();
    let json = schema.to_json();
    let back = Schema::from_json(&json).unwrap();
    assert_eq!(back, schema);
    assert_eq!(back.to_json(), json);
}

#[test]
fn diesel_dsl_inserts_and_selects_on_a_real_sqlite_file() {
    use chrono::{TimeZone, Utc};
    use diesel::prelude::*;
    use records::models::{speaker_embeddings, tasks};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.db");
    let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    // Written by hand here: this test is about the DSL, not about rendering DDL.
    diesel::sql_query(
        "CREATE TABLE tasks (id INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT NOT NULL, status TEXT NOT NULL,
         result TEXT, file_name TEXT, url TEXT, callback_url TEXT, audio_duration REAL, language TEXT,
         task_type TEXT NOT NULL, task_params TEXT, duration REAL, start_time TEXT, end_time TEXT,
         error TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, retry_count INTEGER NOT NULL DEFAULT 0)",
    )
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query(
        "CREATE TABLE speaker_embeddings (id INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT NOT NULL UNIQUE,
         task_uuid TEXT, speaker_label TEXT NOT NULL, description TEXT, embedding TEXT NOT NULL,
         created_at TEXT NOT NULL)",
    )
    .execute(&mut conn)
    .unwrap();

    let at: retort::dsl::UtcDateTime = Utc
        .with_ymd_and_hms(2026, 11, 26, 5, 40, 12)
        .unwrap()
        .into();
    let task = Task {
        id: 0,
        uuid: "0b6e5a3c-4a8e-4d5e-9a43-3c1f6c2a7f10".into(),
        status: "completed".into(),
        result: Some(serde_json::json!({"text": "hello", "segments": [1, 2]}).into()),
        file_name: Some("call.wav".into()),
        url: None,
        callback_url: None,
        audio_duration: Some(12.5),
        language: Some("en".into()),
        task_type: "transcription".into(),
        task_params: None,
        duration: Some(3.25),
        start_time: Some(at),
        end_time: None,
        error: None,
        created_at: at,
        updated_at: at,
        retry_count: 2,
    };
    diesel::insert_into(tasks::table)
        .values(&task)
        .execute(&mut conn)
        .unwrap();
    let embedding = SpeakerEmbedding {
        id: 0,
        uuid: "e1".into(),
        task_uuid: Some(task.uuid.clone()),
        speaker_label: "SPEAKER_00".into(),
        description: None,
        embedding: serde_json::json!([0.1, 0.2]).into(),
        created_at: at,
    };
    diesel::insert_into(speaker_embeddings::table)
        .values(&embedding)
        .execute(&mut conn)
        .unwrap();

    let loaded: Task = tasks::table
        .filter(tasks::uuid.eq(&task.uuid))
        .select(Task::as_select())
        .first(&mut conn)
        .unwrap();
    assert_eq!(
        loaded,
        Task {
            id: 1,
            ..task.clone()
        }
    );

    // The relations file lets both tables appear in one query.
    let joined: Vec<(String, String)> = tasks::table
        .inner_join(
            speaker_embeddings::table.on(speaker_embeddings::task_uuid.eq(tasks::uuid.nullable())),
        )
        .select((tasks::status, speaker_embeddings::speaker_label))
        .load(&mut conn)
        .unwrap();
    assert_eq!(
        joined,
        [("completed".to_string(), "SPEAKER_00".to_string())]
    );
}

/// The checksums of the reference app's first two migrations, as they were written (kept in
/// `tests/fixtures/pinned/`: the live files have since changed), are pinned: the canonical
/// form is a compatibility promise, and a change to it must be a new algorithm version, not a
/// silent change that refuses every database.
#[test]
fn reference_checksums_are_pinned() {
    let files: Vec<retort_schema::migration::MigrationFile> = [
        include_str!("fixtures/pinned/20261126_073931_816d_initial.rs"),
        include_str!("fixtures/pinned/20261126_073933_3177_add_tasks_retry_count.rs"),
    ]
    .iter()
    .map(|text| retort_schema::migration::parse_file(text).unwrap())
    .collect();
    let got: Vec<(String, String)> = files
        .iter()
        .map(|f| (f.revision.clone(), f.checksum()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "20261126_073931_816d".to_string(),
                "v1:51dde3d8731d280a1a097dda17310ac5122f7585ea368306d4e5feebfdf5f686".to_string()
            ),
            (
                "20261126_073933_3177".to_string(),
                "v1:34a20267c272f579228a5639953b5d7384860b1b097ee7c90832e3363a445510".to_string()
            ),
        ]
    );
    // Rows written by retort 0.1 (version 0, bare hex over serde JSON) are still accepted.
    for (file, v0) in files.iter().zip([
        "a8ae216fc877e5d75584a04107ae699fb404b3fe4c6e7ed97d04e5e692480dc0",
        "a0647d84270b08c194d9eba9cf73181cffb6b831da83ebe75b6ad3a0758a8eaa",
    ]) {
        let v1 = file.checksum();
        assert_eq!(file.checksum_v0(), v0, "{}", file.revision);
        assert_eq!(
            file.check_recorded(v0, &v1),
            retort::schema::migration::ChecksumCheck::MatchesOlderVersion
        );
        assert_eq!(
            file.check_recorded("v1:00", &v1),
            retort::schema::migration::ChecksumCheck::Differs
        );
    }
}
