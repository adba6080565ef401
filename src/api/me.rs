//! The signed-in user: who am I, my name and password, and API tokens for scripts.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::auth::{UserView, busy, check_password, validate_display_name, validate_password};
use super::extract::{CurrentUser, Json, Path};
use super::pagination::Page;
use crate::client_addr::ClientIp;
use crate::passwords::hash_password;
use crate::problem::{ApiError, ApiResult};
use crate::signin::{session_csrf_token, session_user, start_session};
use crate::state::AppState;
use crate::store::rfc3339;
use crate::store::tokens::TokenInfo;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(me).patch(update_me))
        .route("/password", put(change_password))
        .route("/tokens", post(create_token).get(list_tokens))
        .route("/tokens/{id}", delete(delete_token))
}

async fn me(CurrentUser(user): CurrentUser, session: Session) -> Response {
    let body = match session_csrf_token(&session).await {
        Some(csrf) => UserView::signed_in(&user, csrf),
        None => UserView::of(&user),
    };
    axum::Json(body).into_response()
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
) -> ApiResult<Response> {
    user.display_name = validate_display_name(&req.display_name)?;
    state
        .store
        .set_display_name(user.id, &user.display_name)
        .await?;
    Ok(axum::Json(UserView::of(&user)).into_response())
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
) -> ApiResult<Response> {
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
    let body = if session_user(&session).await? == Some(user.id) {
        UserView::signed_in(&user, start_session(&session, user.id, epoch).await?)
    } else {
        UserView::of(&user)
    };
    Ok(axum::Json(body).into_response())
}

#[derive(Deserialize)]
struct NewToken {
    name: String,
}

/// An API token as listed; its secret only in the answer that creates it.
#[derive(Serialize)]
struct TokenView<'a> {
    id: &'a str,
    name: &'a str,
    created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

impl<'a> TokenView<'a> {
    fn of(info: &'a TokenInfo) -> Self {
        Self {
            id: &info.id,
            name: &info.name,
            created: rfc3339(info.created_at),
            token: None,
        }
    }
}

async fn create_token(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(req): Json<NewToken>,
) -> ApiResult<(StatusCode, Response)> {
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::bad_request("name must be 1 to 100 characters"));
    }
    let (info, secret) = state.store.create_token(user.id, name).await?;
    let body = TokenView {
        token: Some(secret),
        ..TokenView::of(&info)
    };
    Ok((StatusCode::CREATED, axum::Json(body).into_response()))
}

async fn list_tokens(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Response> {
    let tokens = state.store.list_tokens(user.id).await?;
    let items = tokens.iter().map(TokenView::of).collect();
    Ok(axum::Json(Page::whole(items)).into_response())
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
