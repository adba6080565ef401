//! Wiring: middleware and routes of the HTTP service, and running it.

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::api;
use crate::problem::ApiError;
use crate::security;
pub use crate::state::AppState;
use crate::store::Store;

pub const SESSION_COOKIE: &str = "scholia_session";
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole HTTP application.
fn router(state: &AppState) -> Router {
    let sessions = SessionManagerLayer::new(state.store.sessions())
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(time::Duration::days(14)));
    Router::new()
        .nest("/api", api::router(&state.config))
        .route("/healthz", get(api::healthz))
        .fallback(crate::web::serve)
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::csrf_guard,
        ))
        .layer(sessions)
        .layer(middleware::from_fn(security::problem_bodies))
        .layer(middleware::from_fn(security::headers))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), uri = %req.uri(), request_id = %id)
            }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal error; it has been logged",
            )
            .into_response()
        }))
        .with_state(state.clone())
}

/// Serves on `config.addr` until SIGTERM or Ctrl-C, then finishes in-flight requests.
pub async fn serve(state: AppState) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(state.config.addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", state.config.addr))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "serving");
    let url = match &state.config.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("http://{addr}"),
    };
    println!(
        "Scholia is running at {url}/ (Ctrl-C stops it).\n\
         Next: create a librarian with `scholia user add NAME --role librarian`, sign in there \
         and upload EPUBs at {url}/upload, or import them with `scholia import PATH...`."
    );
    serve_on(listener, &state, shutdown_signal()).await;
    state.store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Serves the application on `listener` (with its session sweeper) until `shutdown` completes.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: &AppState,
    shutdown: impl Future<Output = ()>,
) {
    let sweeper = tokio::spawn(
        state
            .store
            .sessions()
            .continuously_delete_expired(Duration::from_secs(3600)),
    );
    let statistics = tokio::spawn(refresh_statistics_hourly(state.store.clone()));
    crate::server::serve(listener, router(state), &state.config, shutdown).await;
    sweeper.abort();
    statistics.abort();
}

/// Keeps the planner's statistics in step with a growing library ([`Store::refresh_statistics`];
/// migrating did it at start-up).
async fn refresh_statistics_hourly(store: Store) {
    let mut hourly = tokio::time::interval(Duration::from_secs(3600));
    hourly.tick().await;
    loop {
        hourly.tick().await;
        if let Err(err) = store.refresh_statistics().await {
            tracing::warn!(error = %err, "statistics not refreshed");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
