//! The signed-in user: who am I, my name and password, and API tokens for scripts.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_sessions::Session;

use super::auth::{
    busy, check_password, session_csrf_token, session_user, start_session, user_json,
    validate_display_name, validate_password,
};
use super::error::{ApiError, ApiResult};
use super::extract::{CurrentUser, Json, Path};
use crate::app::AppState;
use crate::auth::hash_password;
use crate::client_addr::ClientIp;
use crate::store::rfc3339;
use crate::store::tokens::TokenInfo;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(me).patch(update_me))
        .route("/password", put(change_password))
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
#[serde(deny_unknown_fields)]
struct MeUpdate {
    display_name: String,
}

/// `PATCH /api/me` `{display_name}`: the name others see.
async fn update_me(
    State(state): State<AppState>,
    CurrentUser(mut user): CurrentUser,
    Json(req): Json<MeUpdate>,
) -> ApiResult<axum::Json<Value>> {
    user.display_name = validate_display_name(&req.display_name)?;
    state
        .store
        .set_display_name(user.id, &user.display_name)
        .await?;
    Ok(axum::Json(user_json(&user)))
}

#[derive(Deserialize)]
struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// `PUT /api/me/password`: after the current password checks out (within the login budget),
/// sets the new one and ends every other session of the account; this one stays signed in.
async fn change_password(
    State(state): State<AppState>,
    ClientIp(addr): ClientIp,
    CurrentUser(user): CurrentUser,
    session: Session,
    Json(req): Json<PasswordChange>,
) -> ApiResult<axum::Json<Value>> {
    validate_password(&req.new_password)?;
    if check_password(&state, &user.username, addr, req.current_password)
        .await?
        .is_none()
    {
        return Err(ApiError::forbidden(
            "current_password is not your password; nothing was changed",
        ));
    }
    let new_password = req.new_password;
    let hash = state
        .passwords
        .run(move || hash_password(&new_password))
        .await
        .map_err(busy)???;
    let epoch = state.store.set_password(user.id, &hash).await?;
    let mut body = user_json(&user);
    if session_user(&session).await? == Some(user.id) {
        body["csrf_token"] = json!(start_session(&session, user.id, epoch).await?);
    }
    Ok(axum::Json(body))
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
