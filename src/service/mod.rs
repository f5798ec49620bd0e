//! The HTTP service: tasks and speaker embeddings over JSON, and `/health` — axum on tokio,
//! diesel through a deadpool pool, on whichever backend `DB_URL` names.
//!
//! | route | does |
//! |---|---|
//! | `GET /health` | database revision, at head or not, pool state (503 when the database is away) |
//! | `POST /tasks` | create a task (201) |
//! | `GET /tasks?limit=&offset=&status=` | list tasks, oldest first, a page at a time |
//! | `GET /tasks/{uuid}` | one task |
//! | `PATCH /tasks/{uuid}` | update its status, result, error, durations |
//! | `DELETE /tasks/{uuid}` | delete it (204) |
//! | `POST /speaker_embeddings` | store an embedding (201) |
//! | `GET /speaker_embeddings?limit=&offset=&task_uuid=` | list them |
//! | `GET /speaker_embeddings/{uuid}`, `DELETE …` | one embedding |
//!
//! Bad input answers 400 with `{"error": …, "field": …}`; a database failure answers 500 (or
//! 503 when the database cannot be reached) without the SQL or the database's message, which
//! go to the service's log.

pub mod db;
mod embeddings;
pub mod error;
mod paging;
mod tasks;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use retort::{DatabaseUrl, Graph, Options, Runner};

pub use db::Db;
pub use error::ApiError;

/// What every handler shares.
pub struct AppState {
    /// The pool.
    pub db: Db,
    /// The database, for `/health`'s revision check.
    pub url: DatabaseUrl,
}

/// The shared state, as handlers receive it.
pub type Shared = Arc<AppState>;

/// The service's routes over `state`.
pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/tasks", get(tasks::list).post(tasks::create))
        .route(
            "/tasks/{uuid}",
            get(tasks::read).patch(tasks::update).delete(tasks::delete),
        )
        .route(
            "/speaker_embeddings",
            get(embeddings::list).post(embeddings::create),
        )
        .route(
            "/speaker_embeddings/{uuid}",
            get(embeddings::read).delete(embeddings::delete),
        )
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .with_state(state)
}

/// Serves on `addr` until SIGTERM or Ctrl-C, then finishes the requests in flight and
/// returns. Prints `listening on http://ADDR` once bound.
///
/// # Errors
/// The pool cannot be made for `url`, or `addr` cannot be bound.
pub fn serve(
    addr: &str,
    url: &DatabaseUrl,
    pool_size: usize,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let db = Db::connect(url, pool_size)?;
        let state = Arc::new(AppState {
            db,
            url: url.clone(),
        });
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let bound: SocketAddr = listener.local_addr()?;
        println!("listening on http://{bound}");
        axum::serve(listener, router(state.clone()))
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        state.db.close();
        println!("stopped");
        Ok(())
    })
}

/// Resolves at SIGTERM (what a container runtime sends) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// The compiled migrations' graph, built once.
fn graph() -> &'static Graph {
    static GRAPH: OnceLock<Graph> = OnceLock::new();
    GRAPH.get_or_init(|| Graph::from_migrations(&crate::MIGRATIONS))
}

/// `GET /health`: the database revision, whether it is at head, and the pool's state.
async fn health(State(state): State<Shared>) -> impl IntoResponse {
    let url = state.url.clone();
    // retort reads the version table on a connection of its own (no lock taken).
    let current = tokio::task::spawn_blocking(move || {
        Runner::connect(graph(), &url, Options::default()).and_then(|mut r| r.current())
    })
    .await;
    let pool = state.db.state();
    match current {
        Ok(Ok(current)) => {
            let heads = graph().heads();
            let at_head = !current.is_empty() && current == heads;
            (
                StatusCode::OK,
                Json(serde_json::json!({
                    "status": "ok",
                    "revision": current.first(),
                    "head": heads.first(),
                    "at_head": at_head,
                    "pool": pool,
                })),
            )
        }
        Ok(Err(e)) => {
            eprintln!("health: {e}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({
                    "status": "error",
                    "error": "the database cannot be read; the service's log has the details",
                    "pool": pool,
                })),
            )
        }
        Err(e) => {
            eprintln!("health: {e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(serde_json::json!({"status": "error", "pool": pool})),
            )
        }
    }
}
