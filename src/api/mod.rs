//! The JSON API under `/api`: one module per resource.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use tower_http::limit::RequestBodyLimitLayer;

use crate::config::Config;
use crate::state::AppState;

pub mod account;
pub mod annotations;
pub mod auth;
pub mod books;
pub mod extract;
pub mod groups;
pub mod me;
pub mod me_progress;
pub mod moderation;
pub mod pagination;
pub mod preferences;
pub mod search;
pub mod setup;
pub mod upload;
pub mod users;

/// The API routes. JSON bodies are capped at `max_body_bytes`, refused from their declared
/// length before any of it is read.
pub fn router(config: &Config) -> Router<AppState> {
    Router::new()
        .nest("/auth", auth::router())
        .nest(
            "/me",
            me::router()
                .merge(preferences::router())
                .merge(account::router())
                .merge(me_progress::router()),
        )
        .nest(
            "/books",
            books::router()
                .merge(annotations::book_router())
                .merge(search::book_router()),
        )
        .nest(
            "/annotations",
            annotations::router().merge(moderation::annotation_router()),
        )
        .nest("/reports", moderation::router())
        .nest("/groups", groups::router())
        .nest("/setup", setup::router())
        .nest("/users", users::router())
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes))
        // Added after the JSON limit so that uploads get their own.
        .nest(
            "/books",
            books::upload_router(config.epub_limits.max_file_bytes),
        )
}

/// The body of `GET /healthz`.
#[derive(Serialize)]
pub struct Health {
    pub status: &'static str,
}

/// `GET /healthz`: 200 when the database answers, 503 otherwise.
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, axum::Json<Health>) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, axum::Json(Health { status: "ok" })),
        Err(err) => {
            tracing::warn!(error = %err, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(Health {
                    status: "database unavailable",
                }),
            )
        }
    }
}
