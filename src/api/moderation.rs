//! Moderation: reporting notes, the report queue, hiding notes.
//!
//! A note the caller may not read is "not found" (its existence must not leak); a note they
//! may read but do not moderate is 403. Moderators act only on what the visibility rule
//! already shows them, so no private note ever reaches them.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::annotations::AnnotationView;
use super::extract::{CurrentUser, Json, Path, Query};
use super::pagination::{self, decode_cursor, page};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::rfc3339;

const MAX_REASON_CHARS: usize = 1000;

/// Routes under `/api/annotations`.
pub fn annotation_router() -> Router<AppState> {
    Router::new()
        .route("/{id}/reports", post(report))
        .route("/{id}/hide", post(hide))
}

/// Routes under `/api/reports`.
pub fn router() -> Router<AppState> {
    Router::new().route("/", get(open_reports))
}

#[derive(Deserialize)]
struct ReportRequest {
    reason: String,
}

/// A report as filed.
#[derive(Serialize)]
struct ReportView<'a> {
    id: Uuid,
    annotation_id: Uuid,
    reason: &'a str,
    created: String,
}

/// A report in the queue, with the note as its moderator may read it (null once deleted).
#[derive(Serialize)]
struct QueuedReport<'a> {
    id: &'a str,
    annotation: Option<AnnotationView<'a>>,
    reason: &'a str,
    reporter: Reporter<'a>,
    created: String,
}

#[derive(Serialize)]
struct Reporter<'a> {
    /// None once the reporter's account is gone.
    display_name: Option<&'a str>,
}

async fn report(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<Uuid>,
    Json(req): Json<ReportRequest>,
) -> ApiResult<(StatusCode, Response)> {
    let reason = req.reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(ApiError::bad_request(format!(
            "reason must be 1 to {MAX_REASON_CHARS} characters"
        )));
    }
    let note = state
        .store
        .annotation(Some(&user), id)
        .await?
        .ok_or_else(|| ApiError::not_found("annotation"))?;
    if note.is_by(&user) {
        return Err(ApiError::bad_request(
            "you cannot report your own note; edit or delete it instead",
        ));
    }
    if note.deleted {
        return Err(ApiError::new(StatusCode::GONE, "this note was deleted"));
    }
    if state.store.has_open_report(id, user.id).await? {
        return Err(ApiError::conflict(
            "you have already reported this note; its moderators will look at it",
        ));
    }
    let (report, created) = state.store.insert_report(id, user.id, reason).await?;
    let body = ReportView {
        id: report,
        annotation_id: id,
        reason,
        created: rfc3339(created),
    };
    Ok((StatusCode::CREATED, axum::Json(body).into_response()))
}

#[derive(Deserialize)]
struct ReportsQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

/// `GET /api/reports`: the open reports the caller can act on.
async fn open_reports(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<ReportsQuery>,
) -> ApiResult<Response> {
    let limit = pagination::limit(
        query.limit,
        pagination::DEFAULT_LIMIT,
        pagination::MAX_LIMIT,
    )?;
    let after = decode_cursor::<(i64, String)>(query.cursor.as_deref())?;
    let reports = state
        .store
        .open_reports(&user, after, pagination::rows_for(limit))
        .await?;
    let mut listed = Vec::with_capacity(reports.len());
    for report in reports {
        let id: Uuid = report.annotation_id.parse().map_err(anyhow::Error::from)?;
        // Read through the rule again, as every answer with a note in it is. A note deleted
        // since the query above shows as null rather than shortening the page.
        let note = state.store.annotation(Some(&user), id).await?;
        listed.push((report, note));
    }
    Ok(axum::Json(page(
        &listed,
        limit,
        |(report, note)| QueuedReport {
            id: &report.id,
            annotation: note.as_ref().map(|n| AnnotationView::of(n, Some(&user))),
            reason: &report.reason,
            reporter: Reporter {
                display_name: report.reporter_name.as_deref(),
            },
            created: rfc3339(report.created_at),
        },
        |(report, _)| (report.created_at, report.id.clone()),
    ))
    .into_response())
}

#[derive(Deserialize)]
struct HideRequest {
    hidden: bool,
}

async fn hide(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<Uuid>,
    Json(req): Json<HideRequest>,
) -> ApiResult<Response> {
    let note = state
        .store
        .annotation(Some(&user), id)
        .await?
        .ok_or_else(|| ApiError::not_found("annotation"))?;
    if note.is_by(&user) {
        return Err(ApiError::forbidden(
            "moderators do not act on their own notes: edit, make private or delete it instead",
        ));
    }
    if !state.store.set_hidden(id, &user, req.hidden).await? {
        return Err(ApiError::forbidden(
            "only the group's owner and facilitators hide group notes, and admins public ones",
        ));
    }
    let note = state
        .store
        .annotation(Some(&user), id)
        .await?
        .ok_or_else(|| ApiError::not_found("annotation"))?;
    Ok(axum::Json(AnnotationView::of(&note, Some(&user))).into_response())
}
