//! Request extractors whose failures answer as problem details.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use tower_sessions::Session;

use crate::problem::ApiError;
use crate::signin::{session_epoch, session_user};
use crate::state::AppState;
use crate::store::users::User;

/// `axum::Json` whose rejections are problem+json: 400 for malformed or mistyped JSON,
/// 413 for an oversize body, 415 without a JSON content type.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let status = match &rejection {
        JsonRejection::JsonDataError(_) | JsonRejection::JsonSyntaxError(_) => {
            StatusCode::BAD_REQUEST
        }
        other => other.status(),
    };
    ApiError::new(status, rejection.body_text())
}

/// `axum::extract::Path` with problem+json rejections.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|rejection: PathRejection| {
                ApiError::new(rejection.status(), rejection.body_text())
            })
    }
}

/// `axum::extract::Query` with problem+json rejections.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|rejection: QueryRejection| ApiError::bad_request(rejection.body_text()))
    }
}

/// The signed-in caller, by `Authorization: Bearer` token or by session cookie.
pub struct CurrentUser(pub User);

/// The caller if signed in; anonymous callers may read public things.
pub struct MaybeUser(pub Option<User>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(token) = bearer_token(parts) {
            return match state.store.user_by_token(token).await? {
                Some(user) => Ok(MaybeUser(Some(user))),
                None => Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "the API token is unknown or revoked",
                )),
            };
        }
        let Some(session) = parts.extensions.get::<Session>() else {
            return Ok(MaybeUser(None));
        };
        let Some(id) = session_user(session).await? else {
            return Ok(MaybeUser(None));
        };
        // A session from before a password change names the account but no longer signs in.
        let epoch = session_epoch(session).await?;
        Ok(MaybeUser(state.store.user_by_session(id, epoch).await?))
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match MaybeUser::from_request_parts(parts, state).await? {
            MaybeUser(Some(user)) => Ok(CurrentUser(user)),
            MaybeUser(None) => Err(ApiError::unauthorized()),
        }
    }
}

/// The token of an `Authorization: Bearer …` header, if present.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}
