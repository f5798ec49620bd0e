//! The HTTP service: health, create a task, read a task — through the diesel DSL the
//! models generate.

use std::sync::OnceLock;

use chrono::Utc;
use diesel::prelude::*;
use retort::{DatabaseUrl, Graph, Options, Runner};
use serde::Deserialize;
use tiny_http::{Header, Method, Response, Server};

use crate::models::{tasks, Task};

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
    pub task_params: Option<serde_json::Value>,
}

/// Serves until the process ends. Prints `listening on http://ADDR` once bound.
pub fn serve(
    addr: &str,
    url: &DatabaseUrl,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let DatabaseUrl::SqliteFile(path) = url else {
        return Err("the service needs an SQLite file".into());
    };
    let server = Server::http(addr)?;
    let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
    diesel::sql_query("PRAGMA busy_timeout = 5000").execute(&mut conn)?;
    println!("listening on http://{}", server.server_addr());
    for mut request in server.incoming_requests() {
        let mut body = String::new();
        let _ = request.as_reader().read_to_string(&mut body);
        let (status, value) = route(&mut conn, url, request.method(), request.url(), &body);
        let header = Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..])
            .expect("a valid header");
        let response = Response::from_string(value.to_string())
            .with_status_code(status)
            .with_header(header);
        let _ = request.respond(response);
    }
    Ok(())
}

/// Routes one request: `GET /health`, `POST /tasks`, `GET /tasks/{uuid}`.
pub fn route(
    conn: &mut SqliteConnection,
    url: &DatabaseUrl,
    method: &Method,
    path: &str,
    body: &str,
) -> (u16, serde_json::Value) {
    let path = path.split('?').next().unwrap_or_default();
    match (method, path) {
        (Method::Get, "/health") => health(url),
        (Method::Post, "/tasks") => create(conn, body),
        (Method::Get, p) if p.starts_with("/tasks/") => {
            read_status(conn, &p["/tasks/".len()..], 200)
        }
        _ => (
            404,
            serde_json::json!({"error": format!("no route for {method} {path}")}),
        ),
    }
}

/// The database revision and whether it is at head.
fn health(url: &DatabaseUrl) -> (u16, serde_json::Value) {
    // The compiled migrations never change while the process runs: decode them once.
    static GRAPH: OnceLock<Graph> = OnceLock::new();
    let graph = GRAPH.get_or_init(|| Graph::from_migrations(&crate::MIGRATIONS));
    let current = Runner::connect(graph, url, Options::default()).and_then(|mut r| r.current());
    match current {
        Ok(current) => {
            let heads = graph.heads();
            let at_head = !current.is_empty() && current == heads;
            (
                200,
                serde_json::json!({"status": "ok", "revision": current.first(), "head": heads.first(), "at_head": at_head}),
            )
        }
        Err(e) => (
            503,
            serde_json::json!({"status": "error", "error": e.to_string()}),
        ),
    }
}

fn create(conn: &mut SqliteConnection, body: &str) -> (u16, serde_json::Value) {
    let new: NewTask = match serde_json::from_str(body) {
        Ok(n) => n,
        Err(e) => {
            return (
                400,
                serde_json::json!({"error": format!("invalid task: {e}")}),
            )
        }
    };
    let now = Utc::now();
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
    match diesel::insert_into(tasks::table)
        .values(&task)
        .execute(conn)
    {
        Ok(_) => read_status(conn, &task.uuid, 201),
        Err(e) => (500, serde_json::json!({"error": e.to_string()})),
    }
}

fn read_status(conn: &mut SqliteConnection, uuid: &str, ok: u16) -> (u16, serde_json::Value) {
    match tasks::table
        .filter(tasks::uuid.eq(uuid))
        .select(Task::as_select())
        .first(conn)
        .optional()
    {
        Ok(Some(task)) => (ok, serde_json::to_value(task).unwrap_or_default()),
        Ok(None) => (404, serde_json::json!({"error": format!("no task {uuid}")})),
        Err(e) => (500, serde_json::json!({"error": e.to_string()})),
    }
}
