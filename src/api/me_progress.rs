//! Reading progress: `GET`/`PUT /api/me/progress/{book_id}` and `GET /api/me/progress`, the
//! "continue reading" list, so a reader's place follows them across devices.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::books::readable_book;
use super::error::{ApiError, ApiResult};
use super::extract::{CurrentUser, Json, Path, Query};
use super::pagination::{self, Page, decode_cursor, page};
use crate::app::AppState;
use crate::store::progress::{Progress, ProgressEntry};
use crate::store::rfc3339;

/// Routes under `/api/me`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/progress", get(list_progress))
        .route("/progress/{book_id}", get(get_progress).put(put_progress))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgressRequest {
    chapter: i64,
    #[serde(default)]
    passage: Option<String>,
}

#[derive(Deserialize)]
struct ListQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

fn progress_json(progress: &Progress) -> Value {
    json!({
        "book_id": progress.book_id,
        "chapter": progress.chapter,
        "passage": progress.passage_id,
        "updated": rfc3339(progress.updated_at),
    })
}

fn entry_json(entry: &ProgressEntry) -> Value {
    let book = &entry.progress.book_id;
    let mut body = progress_json(&entry.progress);
    body["title"] = json!(entry.title);
    body["authors"] = serde_json::from_str(&entry.authors).unwrap_or(json!([]));
    body["cover"] = json!(
        entry
            .cover
            .as_ref()
            .map(|path| format!("/api/books/{book}/resources/{path}"))
    );
    body
}

async fn get_progress(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(book): Path<Uuid>,
) -> ApiResult<axum::Json<Value>> {
    readable_book(&state, book, Some(&user)).await?;
    let progress = state
        .store
        .progress(user.id, book)
        .await?
        .ok_or_else(|| ApiError::not_found("reading progress for this book"))?;
    Ok(axum::Json(progress_json(&progress)))
}

/// Stores the reader's place after checking it exists: the chapter in the book, the passage
/// (if given) in that chapter.
async fn put_progress(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(book): Path<Uuid>,
    Json(req): Json<ProgressRequest>,
) -> ApiResult<axum::Json<Value>> {
    readable_book(&state, book, Some(&user)).await?;
    let chapters = state.store.chapter_count(book).await?;
    if !(0..chapters).contains(&req.chapter) {
        return Err(ApiError::bad_request(format!(
            "chapter {} is not in this book, whose chapters are 0 to {}",
            req.chapter,
            chapters - 1
        )));
    }
    if let Some(passage) = &req.passage {
        let found = state.store.passage(book, passage).await?;
        match found {
            Some(found) if found.chapter == req.chapter => {}
            Some(found) => {
                return Err(ApiError::bad_request(format!(
                    "passage {passage:?} is in chapter {}, not {}",
                    found.chapter, req.chapter
                )));
            }
            None => {
                return Err(ApiError::bad_request(format!(
                    "passage {passage:?} is not in this book"
                )));
            }
        }
    }
    let progress = state
        .store
        .save_progress(user.id, book, req.chapter, req.passage.as_deref())
        .await?;
    Ok(axum::Json(progress_json(&progress)))
}

/// The books I have started and may still read, most recently read first.
async fn list_progress(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<ListQuery>,
) -> ApiResult<axum::Json<Page<Value>>> {
    let limit = pagination::limit(
        query.limit,
        pagination::DEFAULT_LIMIT,
        pagination::MAX_LIMIT,
    )?;
    let after = decode_cursor::<(i64, String)>(query.cursor.as_deref())?;
    let rows = state
        .store
        .recent_progress(&user, after, pagination::rows_for(limit))
        .await?;
    Ok(axum::Json(page(&rows, limit, entry_json, |entry| {
        (entry.progress.updated_at, entry.progress.book_id.clone())
    })))
}
