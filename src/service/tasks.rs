//! `/tasks`: create, read, list, update status and result, delete.

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
use crate::models::{tasks, Task};
use crate::with_conn;

/// The statuses a task may have; a new task is `queued`.
pub const STATUSES: &[&str] = &["queued", "processing", "completed", "failed", "cancelled"];

/// The longest text a short field (`task_type`, `language`, `status`) takes.
const SHORT: usize = 64;
/// The longest URL or file name.
const LONG: usize = 2048;

/// What a client sends to create a task.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    /// Type of the task (e.g. `transcription`).
    pub task_type: String,
    /// Audio URL.
    pub url: Option<String>,
    /// Uploaded file name.
    pub file_name: Option<String>,
    /// URL to call when done.
    pub callback_url: Option<String>,
    /// Language code.
    pub language: Option<String>,
    /// Parameters of the task.
    pub task_params: Option<JsonValue>,
}

/// What a client sends to update a task: any of these, at least one.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskUpdate {
    /// New status (one of [`STATUSES`]).
    pub status: Option<String>,
    /// The task's result.
    pub result: Option<JsonValue>,
    /// Why it failed.
    pub error: Option<String>,
    /// Duration of the audio in seconds.
    pub audio_duration: Option<f64>,
    /// Duration of the work in seconds.
    pub duration: Option<f64>,
}

/// The columns an update writes (`None`: left as it is).
#[derive(AsChangeset)]
#[diesel(table_name = tasks)]
struct TaskChanges {
    status: Option<String>,
    result: Option<JsonValue>,
    error: Option<String>,
    audio_duration: Option<f64>,
    duration: Option<f64>,
    start_time: Option<UtcDateTime>,
    end_time: Option<UtcDateTime>,
    updated_at: UtcDateTime,
}

fn text(field: &str, value: &Option<String>, max: usize) -> Result<(), ApiError> {
    match value {
        Some(v) if v.trim().is_empty() => Err(ApiError::field(
            field,
            format!("`{field}` must not be empty"),
        )),
        Some(v) if v.chars().count() > max => Err(ApiError::field(
            field,
            format!("`{field}` is longer than {max} characters"),
        )),
        _ => Ok(()),
    }
}

fn seconds(field: &str, value: Option<f64>) -> Result<(), ApiError> {
    match value {
        Some(v) if !v.is_finite() || v < 0.0 => Err(ApiError::field(
            field,
            format!("`{field}` must be a number of seconds, 0 or more"),
        )),
        _ => Ok(()),
    }
}

impl NewTask {
    fn check(&self) -> Result<(), ApiError> {
        text("task_type", &Some(self.task_type.clone()), SHORT)?;
        text("url", &self.url, LONG)?;
        text("file_name", &self.file_name, LONG)?;
        text("callback_url", &self.callback_url, LONG)?;
        text("language", &self.language, SHORT)?;
        if self.url.is_none() && self.file_name.is_none() {
            return Err(ApiError::field(
                "url",
                "a task needs its audio: give `url` or `file_name`",
            ));
        }
        Ok(())
    }
}

impl TaskUpdate {
    fn check(&self) -> Result<(), ApiError> {
        if let Some(s) = &self.status {
            if !STATUSES.contains(&s.as_str()) {
                return Err(ApiError::field(
                    "status",
                    format!("`status` must be one of {}, not {s:?}", STATUSES.join(", ")),
                ));
            }
        }
        text("error", &self.error, LONG)?;
        seconds("audio_duration", self.audio_duration)?;
        seconds("duration", self.duration)?;
        let empty = self.status.is_none()
            && self.result.is_none()
            && self.error.is_none()
            && self.audio_duration.is_none()
            && self.duration.is_none();
        if empty {
            return Err(ApiError::BadRequest {
                field: None,
                message: "nothing to update: give one or more of status, result, error, audio_duration, duration".into(),
            });
        }
        Ok(())
    }
}

/// `POST /tasks`.
pub async fn create(
    State(state): State<Shared>,
    body: Bytes,
) -> Result<(StatusCode, Json<Task>), ApiError> {
    let new: NewTask = parse_body(&body)?;
    new.check()?;
    let now = UtcDateTime::now();
    let task = Task {
        id: 0,
        uuid: uuid::Uuid::new_v4().to_string(),
        status: "queued".into(),
        result: None,
        file_name: new.file_name,
        url: new.url,
        callback_url: new.callback_url,
        audio_duration: None,
        language: new.language,
        task_type: new.task_type,
        task_params: new.task_params,
        duration: None,
        start_time: None,
        end_time: None,
        error: None,
        created_at: now,
        updated_at: now,
        retry_count: 0,
    };
    // MySQL has no RETURNING: insert, then read the row back (with its id and defaults).
    let created = with_conn!(write & state.db, |c| {
        c.transaction(|c| {
            diesel::insert_into(tasks::table).values(&task).execute(c)?;
            tasks::table
                .filter(tasks::uuid.eq(&task.uuid))
                .select(Task::as_select())
                .first(c)
        })
    })?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /tasks/{uuid}`.
pub async fn read(
    State(state): State<Shared>,
    Path(uuid): Path<String>,
) -> Result<Json<Task>, ApiError> {
    let found = with_conn!(read & state.db, |c| {
        tasks::table
            .filter(tasks::uuid.eq(&uuid))
            .select(Task::as_select())
            .first(c)
            .optional()
    })?;
    found
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("no such task".into()))
}

/// `GET /tasks?limit=&offset=&status=`: oldest first.
pub async fn list(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let q = ListQuery::parse(query, &["status"])?;
    let status = q.filter("status");
    if let Some(s) = &status {
        if !STATUSES.contains(&s.as_str()) {
            return Err(ApiError::field(
                "status",
                format!("`status` must be one of {}, not {s:?}", STATUSES.join(", ")),
            ));
        }
    }
    let (limit, offset) = (q.limit, q.offset);
    let items = with_conn!(read & state.db, |c| {
        let mut query = tasks::table
            .select(Task::as_select())
            .order(tasks::id)
            .limit(limit)
            .offset(offset)
            .into_boxed();
        if let Some(s) = &status {
            query = query.filter(tasks::status.eq(s));
        }
        query.load(c)
    })?;
    Ok(Json(q.page(items)))
}

/// `PATCH /tasks/{uuid}`: moving to `processing` stamps `start_time`, to `completed`,
/// `failed` or `cancelled` stamps `end_time`.
pub async fn update(
    State(state): State<Shared>,
    Path(uuid): Path<String>,
    body: Bytes,
) -> Result<Json<Task>, ApiError> {
    let update: TaskUpdate = parse_body(&body)?;
    update.check()?;
    let now = UtcDateTime::now();
    let status = update.status.as_deref();
    let changes = TaskChanges {
        start_time: (status == Some("processing")).then_some(now),
        end_time: matches!(status, Some("completed" | "failed" | "cancelled")).then_some(now),
        status: update.status,
        result: update.result,
        error: update.error,
        audio_duration: update.audio_duration,
        duration: update.duration,
        updated_at: now,
    };
    let updated = with_conn!(write & state.db, |c| {
        c.transaction(|c| {
            let n = diesel::update(tasks::table.filter(tasks::uuid.eq(&uuid)))
                .set(&changes)
                .execute(c)?;
            if n == 0 {
                return Ok(None);
            }
            tasks::table
                .filter(tasks::uuid.eq(&uuid))
                .select(Task::as_select())
                .first(c)
                .map(Some)
        })
    })?;
    updated
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("no such task".into()))
}

/// `DELETE /tasks/{uuid}`.
pub async fn delete(
    State(state): State<Shared>,
    Path(uuid): Path<String>,
) -> Result<StatusCode, ApiError> {
    let n = with_conn!(write & state.db, |c| {
        diesel::delete(tasks::table.filter(tasks::uuid.eq(&uuid))).execute(c)
    })?;
    if n == 0 {
        return Err(ApiError::NotFound("no such task".into()));
    }
    Ok(StatusCode::NO_CONTENT)
}
