//! The first run: `GET`/`POST /api/setup/{token}` turn the one-time link `scholia serve`
//! prints while there is no admin (a new, empty database) into the admin account, signed
//! in at once.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::auth::{UserView, normalize_username, validate_display_name, validate_password};
use super::extract::{Json, Path};
use crate::passwords::hash_password;
use crate::problem::{ApiError, ApiResult};
use crate::signin::start_session;
use crate::state::AppState;
use crate::store::setup::FirstAccount;

pub fn router() -> Router<AppState> {
    Router::new().route("/{token}", get(check).post(complete))
}

#[derive(Deserialize)]
struct SetupRequest {
    username: String,
    password: String,
    display_name: String,
}

/// The answer to a setup link that can still be used.
#[derive(Serialize)]
struct LinkCheck {
    valid: bool,
}

fn unknown_link() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "this setup link is unknown, expired or used: an admin exists already, or a newer link was printed",
    )
}

async fn check(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<axum::Json<LinkCheck>> {
    if state.store.setup_token_valid(&token).await? {
        Ok(axum::Json(LinkCheck { valid: true }))
    } else {
        Err(unknown_link())
    }
}

/// Creates the admin account, whatever `allow_registration` says: the link is the permission.
async fn complete(
    State(state): State<AppState>,
    session: Session,
    Path(token): Path<String>,
    Json(req): Json<SetupRequest>,
) -> ApiResult<(StatusCode, Response)> {
    if !state.store.setup_token_valid(&token).await? {
        return Err(unknown_link());
    }
    let username = normalize_username(&req.username)?;
    validate_password(&req.password)?;
    let display_name = validate_display_name(&req.display_name)?;
    let password = req.password;
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(anyhow::Error::from)??;
    let user = state
        .store
        .complete_setup(
            &token,
            FirstAccount {
                username: &username,
                display_name: &display_name,
                password_hash: &password_hash,
            },
        )
        .await?
        .ok_or_else(unknown_link)?;
    tracing::info!(username = %user.username, "admin account created through the setup link");
    let epoch = state.store.session_epoch(user.id).await?;
    let csrf = start_session(&session, user.id, epoch).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(UserView::signed_in(&user, csrf)).into_response(),
    ))
}
