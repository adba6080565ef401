//! Accounts for admins: `GET /api/users` (login and display names, roles) and
//! `PATCH /api/users/{id}` `{role}`, which grants and withdraws the librarian and admin roles.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use serde::Deserialize;
use uuid::Uuid;

use super::auth::UserView;
use super::extract::{CurrentUser, Json, Path, Query};
use super::pagination::{self, decode_cursor, page};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::user_admin::RoleChange;
use crate::store::users::{Role, User};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(list_users))
        .route("/{id}", patch(set_role))
}

fn require_admin(user: &User) -> ApiResult<()> {
    if user.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::forbidden("only an admin manages accounts"))
    }
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleRequest {
    role: Role,
}

async fn list_users(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<ListQuery>,
) -> ApiResult<Response> {
    require_admin(&user)?;
    let limit = pagination::limit(
        query.limit,
        pagination::DEFAULT_LIMIT,
        pagination::MAX_LIMIT,
    )?;
    let after = decode_cursor::<String>(query.cursor.as_deref())?;
    let search = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let users = state
        .store
        .list_users(search, after.as_deref(), pagination::rows_for(limit))
        .await?;
    Ok(axum::Json(page(&users, limit, UserView::of, |u| u.username.clone())).into_response())
}

async fn set_role(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<Uuid>,
    Json(req): Json<RoleRequest>,
) -> ApiResult<Response> {
    require_admin(&user)?;
    match state.store.set_role(id, req.role).await? {
        RoleChange::Changed(changed) => {
            tracing::info!(by = %user.username, user = %changed.username, role = changed.role.as_str(), "role changed");
            Ok(axum::Json(UserView::of(&changed)).into_response())
        }
        RoleChange::NoSuchUser => Err(ApiError::not_found("user")),
        RoleChange::LastAdmin => Err(ApiError::conflict(
            "this is the last admin: make another account admin first",
        )),
    }
}
