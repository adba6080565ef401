//! The signed-in user: who am I, and API tokens for scripts.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_sessions::Session;

use super::auth::{session_csrf_token, user_json};
use super::error::{ApiError, ApiResult};
use super::extract::{CurrentUser, Json, Path};
use crate::app::AppState;
use crate::store::rfc3339;
use crate::store::tokens::TokenInfo;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(me))
        .route("/tokens", post(create_token).get(list_tokens))
        .route("/tokens/{id}", delete(delete_token))
}

async fn me(CurrentUser(user): CurrentUser, session: Session) -> axum::Json<Value> {
    let mut body = user_json(&user);
    if let Some(csrf) = session_csrf_token(&session).await {
        body["csrf_token"] = json!(csrf);
    }
    axum::Json(body)
}

#[derive(Deserialize)]
struct NewToken {
    name: String,
}

fn token_json(info: &TokenInfo) -> Value {
    json!({ "id": info.id, "name": info.name, "created": rfc3339(info.created_at) })
}

async fn create_token(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(req): Json<NewToken>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::bad_request("name must be 1 to 100 characters"));
    }
    let (info, secret) = state.store.create_token(user.id, name).await?;
    let mut body = token_json(&info);
    body["token"] = json!(secret);
    Ok((StatusCode::CREATED, axum::Json(body)))
}

async fn list_tokens(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<axum::Json<Value>> {
    let tokens = state.store.list_tokens(user.id).await?;
    let items: Vec<Value> = tokens.iter().map(token_json).collect();
    Ok(axum::Json(json!({ "items": items, "next_cursor": null })))
}

async fn delete_token(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if state.store.delete_token(user.id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("token"))
    }
}
