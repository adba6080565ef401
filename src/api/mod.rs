//! The JSON API under `/api`: one module per resource.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use tower_http::limit::RequestBodyLimitLayer;

use crate::app::AppState;

pub mod auth;
pub mod error;
pub mod extract;
pub mod groups;
pub mod me;

/// The API routes. JSON bodies are capped at `max_body_bytes`, refused from their declared
/// length before any of it is read.
pub fn router(max_body_bytes: usize) -> Router<AppState> {
    Router::new()
        .nest("/auth", auth::router())
        .nest("/me", me::router())
        .nest("/groups", groups::router())
        .layer(RequestBodyLimitLayer::new(max_body_bytes))
}

/// `GET /healthz`: 200 when the database answers, 503 otherwise.
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, axum::Json<Value>) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, axum::Json(json!({ "status": "ok" }))),
        Err(err) => {
            tracing::warn!(error = %err, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({ "status": "database unavailable" })),
            )
        }
    }
}
