//! Register, log in, log out: the session side of accounts.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};
use tower_sessions::Session;
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use super::extract::Json;
use crate::app::AppState;
use crate::auth::{hash_password, random_secret, verify_password};
use crate::store::is_unique_violation;
use crate::store::users::{NewUser, Role, User};

const USER_ID_KEY: &str = "user_id";
const CSRF_KEY: &str = "csrf_token";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/register", post(register))
        .route("/login", post(login))
        .route("/logout", post(logout))
}

#[derive(Deserialize)]
struct RegisterRequest {
    username: String,
    password: String,
    display_name: String,
}

#[derive(Deserialize)]
struct LoginRequest {
    username: String,
    password: String,
}

/// The signed-in user of a session, if any.
pub async fn session_user(session: &Session) -> ApiResult<Option<Uuid>> {
    session
        .get::<Uuid>(USER_ID_KEY)
        .await
        .map_err(|e| anyhow::anyhow!("reading session: {e}").into())
}

/// The session's CSRF token, which cookie-authenticated writes may echo in `X-CSRF-Token`.
pub async fn session_csrf_token(session: &Session) -> Option<String> {
    session.get::<String>(CSRF_KEY).await.ok().flatten()
}

/// Account names are compared case-insensitively, so they are stored lower-cased.
pub fn normalize_username(username: &str) -> ApiResult<String> {
    let name = username.trim().to_lowercase();
    let valid = (2..=40).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if valid {
        Ok(name)
    } else {
        Err(ApiError::bad_request(
            "username must be 2 to 40 letters, digits, '_', '-' or '.'",
        ))
    }
}

pub fn validate_password(password: &str) -> ApiResult<()> {
    match password.chars().count() {
        0..8 => Err(ApiError::bad_request(
            "password must be at least 8 characters",
        )),
        8..=1024 => Ok(()),
        _ => Err(ApiError::bad_request(
            "password must be at most 1024 characters",
        )),
    }
}

pub(super) fn validate_display_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(ApiError::bad_request(
            "display_name must be 1 to 80 characters",
        ));
    }
    Ok(name.to_owned())
}

pub fn user_json(user: &User) -> Value {
    json!({
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "created": crate::store::rfc3339(user.created_at),
    })
}

async fn register(
    State(state): State<AppState>,
    session: Session,
    Json(req): Json<RegisterRequest>,
) -> ApiResult<impl IntoResponse> {
    if !state.config.allow_registration {
        return Err(ApiError::forbidden(
            "registration is turned off on this server",
        ));
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
        .create_user(NewUser {
            username: &username,
            display_name: &display_name,
            password_hash: &password_hash,
            role: Role::Reader,
        })
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                ApiError::conflict("that username is taken")
            } else {
                e.into()
            }
        })?;
    let csrf = start_session(&session, user.id).await?;
    let mut body = user_json(&user);
    body["csrf_token"] = json!(csrf);
    Ok((StatusCode::CREATED, axum::Json(body)))
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    Json(req): Json<LoginRequest>,
) -> ApiResult<axum::Json<Value>> {
    let username = req.username.trim().to_lowercase();
    if let Some(wait) = state.login_limiter.retry_after(&username, peer.ip()) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed logins; try again later",
        )
        .with_header(
            header::RETRY_AFTER,
            HeaderValue::from(wait.as_secs().max(1)),
        ));
    }
    let found = state.store.user_credentials(&username).await?;
    let password = req.password;
    let stored = found.as_ref().map(|(_, hash)| hash.clone());
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, stored.as_deref()))
        .await
        .map_err(anyhow::Error::from)?;
    let user = match found {
        Some((user, _)) if ok => user,
        // One answer for an unknown user and a wrong password, so names cannot be probed.
        _ => {
            state.login_limiter.record_failure(&username, peer.ip());
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "wrong username or password",
            ));
        }
    };
    state.login_limiter.record_success(&username);
    let csrf = start_session(&session, user.id).await?;
    let mut body = user_json(&user);
    body["csrf_token"] = json!(csrf);
    Ok(axum::Json(body))
}

/// Signs `user` into the session under a fresh session id (against fixation) and a new CSRF token.
pub(super) async fn start_session(session: &Session, user: Uuid) -> ApiResult<String> {
    let csrf = random_secret("");
    let result = async {
        session.cycle_id().await?;
        session.insert(USER_ID_KEY, user).await?;
        session.insert(CSRF_KEY, &csrf).await
    };
    result
        .await
        .map_err(|e| anyhow::anyhow!("writing session: {e}"))?;
    Ok(csrf)
}

async fn logout(session: Session) -> ApiResult<StatusCode> {
    session
        .flush()
        .await
        .map_err(|e| anyhow::anyhow!("ending session: {e}"))?;
    Ok(StatusCode::NO_CONTENT)
}
