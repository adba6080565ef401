//! The account's lifecycle: `GET /api/me/export` (all my marginalia) and `DELETE /api/me`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_sessions::Session;

use super::annotations::annotation_json;
use super::auth::check_password;
use super::error::{ApiError, ApiResult};
use super::extract::{CurrentUser, Json};
use super::pagination::MAX_LIMIT;
use crate::app::AppState;
use crate::client_addr::ClientIp;
use crate::store::account::SharedNotes;
use crate::store::annotations::{ListFilter, Order, cursor_of};
use crate::store::{now_micros, rfc3339};

/// Routes under `/api/me`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", delete(delete_account))
        .route("/export", get(export))
}

/// Every note I wrote, read through the visibility rule: also on books I can no longer read.
async fn export(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<axum::Json<Value>> {
    let mut books = Vec::new();
    for (id, title) in state.store.books_with_notes_by(&user).await? {
        let book = id.parse().map_err(anyhow::Error::from)?;
        let mut notes = Vec::new();
        let mut filter = ListFilter {
            order: Order::Reading,
            limit: MAX_LIMIT,
            ..ListFilter::default()
        };
        loop {
            let rows = state.store.own_notes(&user, book, &filter).await?;
            notes.extend(
                rows.iter()
                    .map(|row| json!(annotation_json(row, Some(&user)))),
            );
            match rows.last() {
                Some(last) if rows.len() as i64 == filter.limit => {
                    filter.after = Some(cursor_of(last, Order::Reading));
                }
                _ => break,
            }
        }
        books.push(json!({ "id": id, "title": title, "annotations": notes }));
    }
    Ok(axum::Json(json!({
        "exported": rfc3339(now_micros()),
        "user": { "id": user.id, "username": user.username, "display_name": user.display_name },
        "books": books,
    })))
}

#[derive(Deserialize)]
struct DeleteRequest {
    password: String,
    shared_notes: SharedNotes,
}

/// Deletes the caller's account after they confirm their password. Failed confirmations
/// count against the login limiter, so a stolen session cannot guess the password here.
async fn delete_account(
    State(state): State<AppState>,
    ClientIp(addr): ClientIp,
    CurrentUser(user): CurrentUser,
    session: Session,
    Json(req): Json<DeleteRequest>,
) -> ApiResult<StatusCode> {
    if check_password(&state, &user.username, addr, req.password)
        .await?
        .is_none()
    {
        return Err(ApiError::forbidden(
            "that is not your password; the account was not deleted",
        ));
    }
    state
        .store
        .delete_account(user.id, req.shared_notes)
        .await?;
    session
        .flush()
        .await
        .map_err(|e| anyhow::anyhow!("ending session: {e}"))?;
    Ok(StatusCode::NO_CONTENT)
}
