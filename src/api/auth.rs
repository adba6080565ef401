//! Register, log in, log out: the session side of accounts.

use std::net::IpAddr;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use uuid::Uuid;

use super::extract::Json;
use crate::client_addr::ClientIp;
use crate::passwords::{
    self, Busy, LOGIN_WINDOW, MAX_PASSWORD_BYTES, REGISTRATION_WINDOW, hash_password,
    verify_password,
};
use crate::problem::{ApiError, ApiResult};
use crate::signin::start_session;
use crate::state::AppState;
use crate::store::users::{NewUser, Role, User};
use crate::store::{is_unique_violation, now_micros};

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
    if password.chars().count() < 8 {
        return Err(ApiError::bad_request(
            "password must be at least 8 characters",
        ));
    }
    check_password_size(password)
}

/// Longer passwords only cost hashing time; they are refused before any hashing.
fn check_password_size(password: &str) -> ApiResult<()> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::bad_request(format!(
            "password must be at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok(())
}

/// The name others see: NFC, 1 to 64 characters once trimmed, and none of the invisible
/// characters that let one name pass for another (bidi controls, zero-width spaces and
/// joiners other than ZWJ and ZWNJ, which scripts and emoji need, control characters).
pub fn validate_display_name(name: &str) -> ApiResult<String> {
    use unicode_normalization::UnicodeNormalization;
    let name: String = name.trim().nfc().collect();
    if let Some(c) = name.chars().find(|&c| is_deceptive(c)) {
        return Err(ApiError::bad_request(format!(
            "display_name may not contain the invisible character U+{:04X}",
            c as u32
        )));
    }
    if !(1..=64).contains(&name.chars().count()) {
        return Err(ApiError::bad_request(
            "display_name must be 1 to 64 characters",
        ));
    }
    Ok(name)
}

fn is_deceptive(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
            | '\u{200B}' | '\u{2060}' | '\u{FEFF}')
}

/// Too many password checks are waiting already.
pub fn busy(_: Busy) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "the server is busy checking passwords; try again in a moment",
    )
    .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
}

fn too_many(detail: &str, wait: std::time::Duration) -> ApiError {
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, detail).with_header(
        header::RETRY_AFTER,
        HeaderValue::from(wait.as_secs().max(1)),
    )
}

/// Checks `username`'s password as asked from `addr`, within the pair's login budget (shared
/// by every check of that account's password from that address): the attempt is counted
/// before the check, a refused one is not kept, and a right password clears the count.
pub async fn check_password(
    state: &AppState,
    username: &str,
    addr: IpAddr,
    password: String,
) -> ApiResult<Option<User>> {
    check_password_size(&password)?;
    let scope = format!("login:{username}|{addr}");
    let now = now_micros();
    let since = now - LOGIN_WINDOW.as_micros() as i64;
    let attempt = state.store.record_attempt(&scope, now, since).await?;
    if let Some(wait) = passwords::login_backoff(&attempt.earlier, now) {
        state.store.forget_attempt(&attempt.id).await?;
        return Err(too_many("too many failed logins; try again later", wait));
    }
    let found = state.store.user_credentials(username).await?;
    let stored = found.as_ref().map(|(_, hash)| hash.clone());
    let verified = state
        .passwords
        .run(move || verify_password(&password, stored.as_deref()))
        .await;
    let ok = match verified {
        Ok(done) => done?,
        Err(busy_now) => {
            state.store.forget_attempt(&attempt.id).await?;
            return Err(busy(busy_now));
        }
    };
    match found {
        Some((user, _)) if ok => {
            state.store.clear_attempts(&scope).await?;
            Ok(Some(user))
        }
        _ => Ok(None),
    }
}

/// An account as the API shows it; `csrf_token` only to its own session, when signing in.
#[derive(Serialize)]
pub struct UserView<'a> {
    pub id: Uuid,
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
}

impl<'a> UserView<'a> {
    pub fn of(user: &'a User) -> Self {
        Self {
            id: user.id,
            username: &user.username,
            display_name: &user.display_name,
            role: user.role,
            created: crate::store::rfc3339(user.created_at),
            csrf_token: None,
        }
    }

    /// The account as its session sees it, with the session's CSRF token.
    pub fn signed_in(user: &'a User, csrf_token: String) -> Self {
        Self {
            csrf_token: Some(csrf_token),
            ..Self::of(user)
        }
    }
}

async fn register(
    State(state): State<AppState>,
    ClientIp(addr): ClientIp,
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
    let scope = format!("register:{addr}");
    let now = now_micros();
    let since = now - REGISTRATION_WINDOW.as_micros() as i64;
    let attempt = state.store.record_attempt(&scope, now, since).await?;
    let per_hour = state.config.registrations_per_hour;
    if let Some(wait) = passwords::registration_wait(&attempt.earlier, now, per_hour) {
        state.store.forget_attempt(&attempt.id).await?;
        return Err(too_many(
            "too many accounts registered from this address; try again later",
            wait,
        ));
    }
    let password = req.password;
    let password_hash = match state.passwords.run(move || hash_password(&password)).await {
        Ok(done) => done??,
        Err(busy_now) => {
            state.store.forget_attempt(&attempt.id).await?;
            return Err(busy(busy_now));
        }
    };
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
    let csrf = start_session(&session, user.id, 0).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(UserView::signed_in(&user, csrf)).into_response(),
    ))
}

async fn login(
    State(state): State<AppState>,
    ClientIp(addr): ClientIp,
    session: Session,
    Json(req): Json<LoginRequest>,
) -> ApiResult<Response> {
    let username = req.username.trim().to_lowercase();
    // One answer for an unknown user and a wrong password, so names cannot be probed.
    let user = check_password(&state, &username, addr, req.password)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "wrong username or password"))?;
    let epoch = state.store.session_epoch(user.id).await?;
    let csrf = start_session(&session, user.id, epoch).await?;
    Ok(axum::Json(UserView::signed_in(&user, csrf)).into_response())
}

async fn logout(session: Session) -> ApiResult<StatusCode> {
    session
        .flush()
        .await
        .map_err(|e| anyhow::anyhow!("ending session: {e}"))?;
    Ok(StatusCode::NO_CONTENT)
}
