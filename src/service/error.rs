//! What a request that fails answers: a status and a JSON body that names the problem (and
//! the field, when one is at fault), never the SQL or the database's own message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// A request that could not be served.
#[derive(Debug)]
pub enum ApiError {
    /// The request itself is wrong (400): its body, a query parameter, a field's value.
    BadRequest {
        /// The field at fault (`task_type`, `embedding[2]`, `limit`), when there is one.
        field: Option<String>,
        /// What is wrong, and what is expected.
        message: String,
    },
    /// No such resource (404).
    NotFound(String),
    /// The database cannot be reached or the pool is exhausted (503); retrying may work.
    Unavailable,
    /// The database refused a statement (500); the details are in the service's log.
    Internal,
}

impl ApiError {
    /// A 400 about one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// A pool that could not hand out a connection: the database is unreachable or every
    /// connection stayed busy past the wait.
    pub fn from_pool(e: deadpool_diesel::PoolError) -> Self {
        eprintln!("database pool: {e}");
        ApiError::Unavailable
    }

    /// A query that panicked on its blocking thread.
    pub fn from_interact(e: deadpool_diesel::InteractError) -> Self {
        eprintln!("database call did not finish: {e}");
        ApiError::Internal
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::Error as E;
        match e {
            E::NotFound => ApiError::NotFound("no such record".into()),
            // A connection lost mid-request is the database being away, not a bug.
            E::DatabaseError(diesel::result::DatabaseErrorKind::ClosedConnection, _)
            | E::BrokenTransactionManager => {
                eprintln!("database: {e}");
                ApiError::Unavailable
            }
            other => {
                eprintln!("database: {other}");
                ApiError::Internal
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            ApiError::BadRequest { field, message } => (
                StatusCode::BAD_REQUEST,
                serde_json::json!({"error": message, "field": field}),
            ),
            ApiError::NotFound(message) => {
                (StatusCode::NOT_FOUND, serde_json::json!({"error": message}))
            }
            ApiError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({"error": "the database is unavailable; try again"}),
            ),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                serde_json::json!({"error": "the database refused the request; the service's log has the details"}),
            ),
        };
        (status, Json(body)).into_response()
    }
}

/// Parses a JSON body into `T`, naming the field at fault when it does not fit.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest {
            field: None,
            message: "the request needs a JSON object as its body".into(),
        });
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    let value = parsed.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        // serde names a missing or unknown field in its message, at the parent's path.
        let named = ["missing field `", "unknown field `"]
            .iter()
            .find_map(|p| message.strip_prefix(p))
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string);
        // For an unknown field the path already ends with it; for a missing one it is the
        // parent's.
        let field = match (named, path.as_str()) {
            (Some(name), ".") => Some(name),
            (Some(name), p) if p == name || p.ends_with(&format!(".{name}")) => Some(p.to_string()),
            (Some(name), parent) => Some(format!("{parent}.{name}")),
            (None, ".") => None,
            (None, p) => Some(p.to_string()),
        };
        ApiError::BadRequest { field, message }
    })?;
    de.end().map_err(|e| ApiError::BadRequest {
        field: None,
        message: e.to_string(),
    })?;
    Ok(value)
}
