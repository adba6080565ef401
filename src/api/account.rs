//! The account's lifecycle: `GET /api/me/export` (all my marginalia) and `DELETE /api/me`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::annotations::AnnotationView;
use super::auth::check_password;
use super::extract::{CurrentUser, Json};
use super::pagination::MAX_LIMIT;
use crate::client_addr::ClientIp;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::annotations::{AnnotationRow, ListFilter, Order, cursor_of};
use crate::store::lifecycle::SharedNotes;
use crate::store::users::User;
use crate::store::{now_micros, rfc3339};

/// Routes under `/api/me`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", delete(delete_account))
        .route("/export", get(export))
}

/// `GET /api/me/export`: the account and its notes, book by book.
#[derive(Serialize)]
struct Export<'a> {
    exported: String,
    user: ExportUser<'a>,
    books: Vec<ExportBook<'a>>,
}

#[derive(Serialize)]
struct ExportUser<'a> {
    id: uuid::Uuid,
    username: &'a str,
    display_name: &'a str,
}

#[derive(Serialize)]
struct ExportBook<'a> {
    id: &'a str,
    title: &'a str,
    annotations: Vec<AnnotationView<'a>>,
}

/// Every note I wrote, read through the visibility rule: also on books I can no longer read.
async fn export(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Response> {
    let mut books: Vec<(String, String, Vec<AnnotationRow>)> = Vec::new();
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
            let full = rows.len() as i64 == filter.limit;
            filter.after = rows.last().map(|last| cursor_of(last, Order::Reading));
            notes.extend(rows);
            if !full {
                break;
            }
        }
        books.push((id, title, notes));
    }
    Ok(axum::Json(export_of(&user, &books)).into_response())
}

fn export_of<'a>(user: &'a User, books: &'a [(String, String, Vec<AnnotationRow>)]) -> Export<'a> {
    Export {
        exported: rfc3339(now_micros()),
        user: ExportUser {
            id: user.id,
            username: &user.username,
            display_name: &user.display_name,
        },
        books: books
            .iter()
            .map(|(id, title, notes)| ExportBook {
                id,
                title,
                annotations: notes
                    .iter()
                    .map(|row| AnnotationView::of(row, Some(user)))
                    .collect(),
            })
            .collect(),
    }
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
