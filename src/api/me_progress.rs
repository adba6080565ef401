//! Reading progress: `GET`/`PUT /api/me/progress/{book_id}` and `GET /api/me/progress`, the
//! "continue reading" list, so a reader's place follows them across devices.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::books::readable_book;
use super::extract::{CurrentUser, Json, Path, Query};
use super::pagination::{self, decode_cursor, page};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
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

/// Where the reader is in a book.
#[derive(Serialize)]
struct ProgressView<'a> {
    book_id: &'a str,
    chapter: i64,
    passage: Option<&'a str>,
    updated: String,
}

impl<'a> ProgressView<'a> {
    fn of(progress: &'a Progress) -> Self {
        Self {
            book_id: &progress.book_id,
            chapter: progress.chapter,
            passage: progress.passage_id.as_deref(),
            updated: rfc3339(progress.updated_at),
        }
    }
}

/// A "continue reading" entry: the place, and what the list shows of its book.
#[derive(Serialize)]
struct EntryView<'a> {
    #[serde(flatten)]
    progress: ProgressView<'a>,
    title: &'a str,
    authors: Vec<String>,
    cover: Option<String>,
}

impl<'a> EntryView<'a> {
    fn of(entry: &'a ProgressEntry) -> Self {
        let book = &entry.progress.book_id;
        Self {
            progress: ProgressView::of(&entry.progress),
            title: &entry.title,
            authors: serde_json::from_str(&entry.authors).unwrap_or_default(),
            cover: entry
                .cover
                .as_ref()
                .map(|path| format!("/api/books/{book}/resources/{path}")),
        }
    }
}

async fn get_progress(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(book): Path<Uuid>,
) -> ApiResult<Response> {
    readable_book(&state, book, Some(&user)).await?;
    let progress = state
        .store
        .progress(user.id, book)
        .await?
        .ok_or_else(|| ApiError::not_found("reading progress for this book"))?;
    Ok(axum::Json(ProgressView::of(&progress)).into_response())
}

/// Stores the reader's place after checking it exists: the chapter in the book, the passage
/// (if given) in that chapter.
async fn put_progress(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(book): Path<Uuid>,
    Json(req): Json<ProgressRequest>,
) -> ApiResult<Response> {
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
    Ok(axum::Json(ProgressView::of(&progress)).into_response())
}

/// The books I have started and may still read, most recently read first.
async fn list_progress(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<ListQuery>,
) -> ApiResult<Response> {
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
    Ok(axum::Json(page(&rows, limit, EntryView::of, |entry| {
        (entry.progress.updated_at, entry.progress.book_id.clone())
    }))
    .into_response())
}
