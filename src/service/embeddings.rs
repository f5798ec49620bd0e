//! `/speaker_embeddings`: store, read, list (by task), delete.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use diesel::prelude::*;
use retort::dsl::{JsonValue, UtcDateTime};
use serde::Deserialize;

use super::error::parse_body;
use super::paging::ListQuery;
use super::{ApiError, Shared};
use crate::models::{speaker_embeddings, tasks, SpeakerEmbedding};
use crate::with_conn;

/// The most numbers an embedding vector holds.
pub const MAX_DIMENSIONS: usize = 4096;

/// What a client sends to store an embedding.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEmbedding {
    /// The task the speaker was found in (must exist), if any.
    pub task_uuid: Option<String>,
    /// The speaker's label within the task (e.g. `SPEAKER_00`).
    pub speaker_label: String,
    /// Free-text description.
    pub description: Option<String>,
    /// The vector.
    pub embedding: Vec<f64>,
}

impl NewEmbedding {
    fn check(&self) -> Result<(), ApiError> {
        let label = self.speaker_label.trim();
        if label.is_empty() || label.chars().count() > 64 {
            return Err(ApiError::field(
                "speaker_label",
                "`speaker_label` must be 1 to 64 characters",
            ));
        }
        if self.embedding.is_empty() || self.embedding.len() > MAX_DIMENSIONS {
            return Err(ApiError::field(
                "embedding",
                format!("`embedding` must hold 1 to {MAX_DIMENSIONS} numbers"),
            ));
        }
        if let Some(i) = self.embedding.iter().position(|x| !x.is_finite()) {
            return Err(ApiError::field(
                format!("embedding[{i}]"),
                "an embedding's numbers must be finite",
            ));
        }
        if let Some(d) = &self.description {
            if d.chars().count() > 2048 {
                return Err(ApiError::field(
                    "description",
                    "`description` is longer than 2048 characters",
                ));
            }
        }
        Ok(())
    }
}

/// `POST /speaker_embeddings`.
pub async fn create(
    State(state): State<Shared>,
    body: Bytes,
) -> Result<(StatusCode, Json<SpeakerEmbedding>), ApiError> {
    let new: NewEmbedding = parse_body(&body)?;
    new.check()?;
    let row = SpeakerEmbedding {
        id: 0,
        uuid: uuid::Uuid::new_v4().to_string(),
        task_uuid: new.task_uuid,
        speaker_label: new.speaker_label,
        description: new.description,
        embedding: JsonValue::from(serde_json::json!(new.embedding)),
        created_at: UtcDateTime::now(),
    };
    let created = with_conn!(write & state.db, |c| {
        c.transaction(|c| {
            if let Some(task) = &row.task_uuid {
                let known: i64 = tasks::table
                    .filter(tasks::uuid.eq(task))
                    .count()
                    .get_result(c)?;
                if known == 0 {
                    return Ok(None);
                }
            }
            diesel::insert_into(speaker_embeddings::table)
                .values(&row)
                .execute(c)?;
            speaker_embeddings::table
                .filter(speaker_embeddings::uuid.eq(&row.uuid))
                .select(SpeakerEmbedding::as_select())
                .first(c)
                .map(Some)
        })
    })?;
    let created =
        created.ok_or_else(|| ApiError::field("task_uuid", "`task_uuid` names no task"))?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /speaker_embeddings/{uuid}`.
pub async fn read(
    State(state): State<Shared>,
    Path(uuid): Path<String>,
) -> Result<Json<SpeakerEmbedding>, ApiError> {
    let found = with_conn!(read & state.db, |c| {
        speaker_embeddings::table
            .filter(speaker_embeddings::uuid.eq(&uuid))
            .select(SpeakerEmbedding::as_select())
            .first(c)
            .optional()
    })?;
    found
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("no such speaker embedding".into()))
}

/// `GET /speaker_embeddings?limit=&offset=&task_uuid=`: oldest first.
pub async fn list(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let q = ListQuery::parse(query, &["task_uuid"])?;
    let task = q.filter("task_uuid");
    let (limit, offset) = (q.limit, q.offset);
    let items = with_conn!(read & state.db, |c| {
        let mut query = speaker_embeddings::table
            .select(SpeakerEmbedding::as_select())
            .order(speaker_embeddings::id)
            .limit(limit)
            .offset(offset)
            .into_boxed();
        if let Some(t) = &task {
            query = query.filter(speaker_embeddings::task_uuid.eq(t));
        }
        query.load(c)
    })?;
    Ok(Json(q.page(items)))
}

/// `DELETE /speaker_embeddings/{uuid}`.
pub async fn delete(
    State(state): State<Shared>,
    Path(uuid): Path<String>,
) -> Result<StatusCode, ApiError> {
    let n = with_conn!(write & state.db, |c| {
        diesel::delete(speaker_embeddings::table.filter(speaker_embeddings::uuid.eq(&uuid)))
            .execute(c)
    })?;
    if n == 0 {
        return Err(ApiError::NotFound("no such speaker embedding".into()));
    }
    Ok(StatusCode::NO_CONTENT)
}
