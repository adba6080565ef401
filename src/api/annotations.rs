//! Annotations: create, read, edit, delete; listings, counts and search on a book. Every
//! answer comes from the store's visibility rule; the margin preference only narrows it.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::books::readable_book;
use super::extract::{CurrentUser, Json, MaybeUser, Path, Query};
use super::pagination::{self, Page, decode_cursor, page};
use crate::anchor::{self, Anchor, Selectors};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::annotations::{
    AnnotationEdit, AnnotationRow, Audience, ListFilter, NewAnnotation, Order, ReaderMargin, Scope,
    cursor_of,
};
use crate::store::preferences::MarginMode;
use crate::store::rfc3339;
use crate::store::users::User;

const MOTIVATIONS: [&str; 4] = ["highlighting", "commenting", "replying", "bookmarking"];
const MAX_BODY_CHARS: usize = 20_000;
const MAX_TAGS: usize = 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", post(create))
        .route("/{id}", get(get_one).patch(edit).delete(delete))
}

/// Routes under `/api/books/{id}`.
pub fn book_router() -> Router<AppState> {
    Router::new()
        .route("/{id}/annotations", get(list))
        .route("/{id}/annotations/counts", get(counts))
        .route("/{id}/passages/{passage}/reveal", post(reveal))
}

/// An annotation as the API shows it to a viewer (the HTTP contract's field names).
/// Serialized straight from the row: a page of notes is the hottest answer the service gives.
#[derive(Serialize)]
pub struct AnnotationView<'a> {
    id: &'a str,
    book_id: &'a str,
    passage_id: &'a str,
    chapter: i64,
    start: i64,
    end: i64,
    exact: &'a str,
    prefix: &'a str,
    suffix: &'a str,
    cfi: &'a str,
    motivation: &'a str,
    body: Option<&'a str>,
    body_html: Option<&'a str>,
    tags: Vec<String>,
    color: Option<&'a str>,
    audience: AudienceView,
    reply_to: Option<&'a str>,
    author: AuthorView<'a>,
    mine: bool,
    hidden: bool,
    deleted: bool,
    written_blind: bool,
    replies: i64,
    created: String,
    updated: String,
}

/// `"private"`, `"public"` or `{"group": id}`.
#[derive(Serialize)]
#[serde(untagged)]
enum AudienceView {
    Kind(&'static str),
    Group { group: Uuid },
}

#[derive(Serialize)]
struct AuthorView<'a> {
    id: Option<&'a str>,
    /// None on a tombstone, which names nobody.
    display_name: Option<&'a str>,
}

impl<'a> AnnotationView<'a> {
    /// An annotation as the API shows it to `viewer`.
    pub fn of(row: &'a AnnotationRow, viewer: Option<&'a User>) -> Self {
        let audience = match row.audience() {
            Audience::Group(group) => AudienceView::Group { group },
            other => AudienceView::Kind(other.kind()),
        };
        let mine = viewer.is_some_and(|v| row.is_by(v));
        let author = if mine {
            // An author still knows their own anonymized notes.
            AuthorView {
                id: row.author_id.as_deref(),
                display_name: viewer.map(|me| me.display_name.as_str()),
            }
        } else if row.deleted {
            AuthorView {
                id: None,
                display_name: None,
            }
        } else if row.anonymous || row.author_id.is_none() {
            AuthorView {
                id: None,
                display_name: Some("Anonymous"),
            }
        } else {
            AuthorView {
                id: row.author_id.as_deref(),
                display_name: Some(row.author_name.as_deref().unwrap_or_default()),
            }
        };
        // Whether a note was written before its author read others' is the author's to show.
        let written_blind = row.written_blind && (mine || row.shows_written_blind);
        AnnotationView {
            id: &row.id,
            book_id: &row.book_id,
            passage_id: &row.passage_id,
            chapter: row.chapter,
            start: row.start_pos,
            end: row.end_pos,
            exact: &row.exact,
            prefix: &row.prefix,
            suffix: &row.suffix,
            cfi: &row.cfi,
            motivation: &row.motivation,
            body: row.body.as_deref(),
            body_html: row.body_html.as_deref(),
            tags: row.tags(),
            color: row.color.as_deref(),
            audience,
            reply_to: row.reply_to.as_deref(),
            author,
            mine,
            hidden: row.hidden,
            deleted: row.deleted,
            written_blind,
            replies: row.replies,
            created: rfc3339(row.created_at),
            updated: rfc3339(row.updated_at),
        }
    }
}

/// `"private"`, `"public"` or `{"group": id}` as the contract spells an audience.
#[derive(Deserialize)]
#[serde(untagged)]
enum AudienceInput {
    Kind(String),
    Group { group: Uuid },
}

impl AudienceInput {
    fn parse(self) -> ApiResult<Audience> {
        match self {
            AudienceInput::Group { group } => Ok(Audience::Group(group)),
            AudienceInput::Kind(kind) => match kind.as_str() {
                "private" => Ok(Audience::Private),
                "public" => Ok(Audience::Public),
                _ => Err(ApiError::bad_request(
                    "audience must be \"private\", \"public\" or {\"group\": id}",
                )),
            },
        }
    }
}

#[derive(Deserialize)]
struct CreateRequest {
    book_id: Uuid,
    passage_id: Option<String>,
    start: Option<i64>,
    end: Option<i64>,
    exact: Option<String>,
    prefix: Option<String>,
    suffix: Option<String>,
    body: Option<String>,
    audience: Option<AudienceInput>,
    reply_to: Option<Uuid>,
    #[serde(default)]
    tags: Vec<String>,
    color: Option<String>,
    motivation: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(mut req): Json<CreateRequest>,
) -> ApiResult<Response> {
    readable_book(&state, req.book_id, Some(&user)).await?;
    let audience = req
        .audience
        .take()
        .map(AudienceInput::parse)
        .transpose()?
        .unwrap_or(Audience::Private);
    check_audience(&state, &user, &audience).await?;
    let body = clean_body(req.body.clone())?;
    let tags = clean_tags(req.tags.clone())?;
    let color = clean_color(req.color.clone())?;

    let (anchor, motivation) = match req.reply_to {
        Some(parent_id) => {
            let parent = state
                .store
                .annotation(Some(&user), parent_id)
                .await?
                .filter(|p| p.book_id == req.book_id.to_string())
                .ok_or_else(|| ApiError::not_found("the note replied to"))?;
            if parent.deleted {
                return Err(ApiError::new(
                    StatusCode::GONE,
                    "the note replied to was deleted",
                ));
            }
            if !audience.within(&parent.audience()) {
                return Err(ApiError::bad_request(
                    "a reply cannot reach a wider audience than the note it answers",
                ));
            }
            let anchor = Anchor {
                passage_id: parent.passage_id,
                chapter: parent.chapter,
                ordinal: parent.ordinal,
                start: parent.start_pos,
                end: parent.end_pos,
                exact: parent.exact,
                prefix: parent.prefix,
                suffix: parent.suffix,
                cfi: parent.cfi,
            };
            (anchor, "replying".to_owned())
        }
        None => {
            let anchor = validate_anchor(&state, req.book_id, &req).await?;
            let motivation = match req.motivation.clone() {
                Some(m) if m == "replying" => {
                    return Err(ApiError::bad_request("a reply needs reply_to"));
                }
                Some(m) => m,
                None if body.is_some() => "commenting".to_owned(),
                None => "highlighting".to_owned(),
            };
            (anchor, motivation)
        }
    };
    if !MOTIVATIONS.contains(&motivation.as_str()) {
        return Err(ApiError::bad_request(format!(
            "motivation must be one of {}",
            MOTIVATIONS.join(", ")
        )));
    }
    let margin = state.store.effective_margin(user.id, req.book_id).await?;
    let written_blind = margin.my_reading_first
        && !state
            .store
            .has_seen_passage(user.id, req.book_id, &anchor.passage_id)
            .await?;
    let new = NewAnnotation {
        book_id: req.book_id,
        passage_id: anchor.passage_id,
        chapter: anchor.chapter,
        ordinal: anchor.ordinal,
        start: anchor.start,
        end: anchor.end,
        exact: anchor.exact,
        prefix: anchor.prefix,
        suffix: anchor.suffix,
        cfi: anchor.cfi,
        motivation,
        body,
        tags,
        color,
        audience,
        reply_to: req.reply_to,
        written_blind,
    };
    let id = state.store.insert_annotation(user.id, new).await?;
    // Read back through the rule like every answer with a note in it (one query: the book
    // is known).
    let row = state
        .store
        .annotation_on(Some(&user), req.book_id, id, Scope::Rule)
        .await?
        .ok_or_else(|| anyhow::anyhow!("annotation {id} vanished after insert"))?;
    Ok((
        StatusCode::CREATED,
        axum::Json(AnnotationView::of(&row, Some(&user))),
    )
        .into_response())
}

/// The anchor a new note asks for, checked against the passage it names.
async fn validate_anchor(state: &AppState, book: Uuid, req: &CreateRequest) -> ApiResult<Anchor> {
    let passage_id = req
        .passage_id
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("passage_id is required"))?;
    let passage = state
        .store
        .passage(book, passage_id)
        .await?
        .ok_or_else(|| {
            ApiError::bad_request(format!("passage {passage_id:?} is not in this book"))
        })?;
    let selectors = Selectors {
        start: req.start,
        end: req.end,
        exact: req.exact.as_deref(),
        prefix: req.prefix.as_deref(),
        suffix: req.suffix.as_deref(),
    };
    anchor::validate(passage, &selectors).map_err(|err| ApiError::bad_request(err.to_string()))
}

/// A group audience needs the author to be a member now.
async fn check_audience(state: &AppState, user: &User, audience: &Audience) -> ApiResult<()> {
    if let Audience::Group(group) = audience {
        if state
            .store
            .membership_role(*group, user.id)
            .await?
            .is_none()
        {
            return Err(ApiError::forbidden(
                "you can only share with a group you belong to",
            ));
        }
    }
    Ok(())
}

fn clean_body(body: Option<String>) -> ApiResult<Option<String>> {
    match body {
        Some(body) if body.chars().count() > MAX_BODY_CHARS => Err(ApiError::bad_request(format!(
            "body must be at most {MAX_BODY_CHARS} characters"
        ))),
        Some(body) if body.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

fn clean_tags(tags: Vec<String>) -> ApiResult<Vec<String>> {
    let mut clean: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim().to_owned();
        if tag.is_empty() || tag.chars().count() > 50 {
            return Err(ApiError::bad_request("each tag must be 1 to 50 characters"));
        }
        if !clean.contains(&tag) {
            clean.push(tag);
        }
    }
    if clean.len() > MAX_TAGS {
        return Err(ApiError::bad_request(format!("at most {MAX_TAGS} tags")));
    }
    Ok(clean)
}

fn clean_color(color: Option<String>) -> ApiResult<Option<String>> {
    const NAMED: [&str; 6] = ["yellow", "green", "blue", "pink", "purple", "orange"];
    match color {
        None => Ok(None),
        Some(c) if NAMED.contains(&c.as_str()) => Ok(Some(c)),
        Some(c)
            if c.len() == 7
                && c.starts_with('#')
                && c[1..].chars().all(|h| h.is_ascii_hexdigit()) =>
        {
            Ok(Some(c))
        }
        Some(_) => Err(ApiError::bad_request(format!(
            "color must be one of {} or #rrggbb",
            NAMED.join(", ")
        ))),
    }
}

async fn get_one(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let row = state
        .store
        .annotation_in(viewer.as_ref(), id, Scope::Read)
        .await?
        .ok_or_else(|| ApiError::not_found("annotation"))?;
    Ok(axum::Json(AnnotationView::of(&row, viewer.as_ref())).into_response())
}

/// The note if the caller wrote it: 404 when they cannot see it (existence must not leak),
/// 403 when they can but it is someone else's.
async fn own_annotation(state: &AppState, user: &User, id: Uuid) -> ApiResult<AnnotationRow> {
    let row = state
        .store
        .annotation(Some(user), id)
        .await?
        .ok_or_else(|| ApiError::not_found("annotation"))?;
    if row.deleted {
        return Err(ApiError::new(StatusCode::GONE, "this note was deleted"));
    }
    if !row.is_by(user) {
        return Err(ApiError::forbidden("only a note's author may change it"));
    }
    Ok(row)
}

/// An author who lost the book, or the group their note is shared with, may still make the
/// note private or delete it, but changes nothing the group or the book's readers read.
async fn check_in_reach(state: &AppState, user: &User, row: &AnnotationRow) -> ApiResult<()> {
    let book = row.book_id.parse().map_err(anyhow::Error::from)?;
    let book_lost = state.store.book(book, Some(user)).await?.is_none();
    let group_lost = match row.audience().group() {
        Some(group) => state.store.membership_role(group, user.id).await?.is_none(),
        None => false,
    };
    if book_lost || group_lost {
        return Err(ApiError::forbidden(
            "you no longer read where this note is shared: you can make it private or delete it",
        ));
    }
    Ok(())
}

/// `Some(null)` clears a field, absence leaves it alone.
fn double_option<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Deserialize)]
struct EditRequest {
    #[serde(default, deserialize_with = "double_option")]
    body: Option<Option<String>>,
    tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    color: Option<Option<String>>,
    audience: Option<AudienceInput>,
    motivation: Option<String>,
}

async fn edit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<Uuid>,
    Json(req): Json<EditRequest>,
) -> ApiResult<Response> {
    let row = own_annotation(&state, &user, id).await?;
    let audience = req.audience.map(AudienceInput::parse).transpose()?;
    let narrowing = audience == Some(Audience::Private)
        && req.body.is_none()
        && req.tags.is_none()
        && req.color.is_none()
        && req.motivation.is_none();
    if !narrowing {
        check_in_reach(&state, &user, &row).await?;
    }
    if let Some(audience) = audience.as_ref().filter(|a| **a != Audience::Private) {
        check_audience(&state, &user, audience).await?;
        if let Some(parent) = &row.reply_to {
            let parent = parent.parse().map_err(anyhow::Error::from)?;
            let parent = state.store.annotation(Some(&user), parent).await?;
            if !parent.is_some_and(|p| audience.within(&p.audience())) {
                return Err(ApiError::bad_request(
                    "a reply cannot reach a wider audience than the note it answers",
                ));
            }
        }
    }
    if let Some(motivation) = &req.motivation {
        let is_reply = row.reply_to.is_some();
        if !MOTIVATIONS.contains(&motivation.as_str()) || (motivation == "replying") != is_reply {
            return Err(ApiError::bad_request(
                "that motivation does not fit this note",
            ));
        }
    }
    let body = match req.body {
        Some(body) => Some(clean_body(body)?),
        None => None,
    };
    let edit = AnnotationEdit {
        body,
        tags: req.tags.map(clean_tags).transpose()?,
        color: req.color.map(clean_color).transpose()?,
        audience,
        motivation: req.motivation,
    };
    state.store.update_annotation(id, &edit).await?;
    let row = state
        .store
        .annotation(Some(&user), id)
        .await?
        .ok_or_else(|| ApiError::not_found("annotation"))?;
    Ok(axum::Json(AnnotationView::of(&row, Some(&user))).into_response())
}

async fn delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    own_annotation(&state, &user, id).await?;
    state.store.delete_annotation(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct ListQuery {
    chapter: Option<i64>,
    passage: Option<String>,
    tag: Option<String>,
    author: Option<Uuid>,
    audience: Option<String>,
    motivation: Option<String>,
    order: Option<Order>,
    margin: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// The margin a request names with `margin=` (empty is none named), else the reader's
/// preference; a visitor, who has no preference and no groups, sees `everyone`.
pub fn asked_margin(asked: Option<&str>, viewer: Option<&User>) -> ApiResult<ReaderMargin> {
    let asked = asked
        .filter(|asked| !asked.is_empty())
        .map(|asked| {
            MarginMode::parse(asked)
                .ok_or_else(|| ApiError::bad_request("margin must be none, groups or everyone"))
        })
        .transpose()?
        .or(viewer.is_none().then_some(MarginMode::Everyone));
    Ok(ReaderMargin { asked })
}

/// `audience=`: `private`, `public`, `group` (any group) or one group's id.
fn audience_filter(asked: Option<String>) -> ApiResult<Option<String>> {
    match asked.as_deref() {
        None | Some("") => Ok(None),
        Some("private" | "public" | "group") => Ok(asked),
        Some(id) if Uuid::parse_str(id).is_ok() => Ok(asked),
        Some(_) => Err(ApiError::bad_request(
            "audience must be private, public, group or a group id",
        )),
    }
}

async fn list(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    Path(book): Path<Uuid>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Response> {
    let margin = asked_margin(query.margin.as_deref(), viewer.as_ref())?;
    let order = query.order.unwrap_or_default();
    let limit = pagination::limit(
        query.limit,
        pagination::DEFAULT_LIMIT,
        pagination::MAX_LIMIT,
    )?;
    let filter = ListFilter {
        chapter: query.chapter,
        passage: query.passage,
        tag: query.tag,
        author: query.author,
        audience: audience_filter(query.audience)?,
        motivation: query.motivation,
        order,
        after: decode_cursor(query.cursor.as_deref())?,
        limit: pagination::rows_for(limit),
        ..ListFilter::default()
    };
    let rows = state
        .store
        .margin(viewer.as_ref(), book, &filter, margin)
        .await?;
    Ok(axum::Json(page(
        &rows,
        limit,
        |row| AnnotationView::of(row, viewer.as_ref()),
        |row| cursor_of(row, order),
    ))
    .into_response())
}

#[derive(Deserialize)]
struct CountQuery {
    chapter: Option<i64>,
    margin: Option<String>,
}

/// The passages with notes shown, each with how many; `waiting` says, by passage id, how
/// many others' notes wait behind "my reading first": not shown, but the reader may reveal
/// them.
#[derive(Serialize)]
struct Counts<'a> {
    #[serde(flatten)]
    shown: Page<PassageCount<'a>>,
    waiting: BTreeMap<&'a str, i64>,
}

#[derive(Serialize)]
struct PassageCount<'a> {
    passage_id: &'a str,
    count: i64,
}

/// `GET /api/books/{id}/annotations/counts`: notes per passage in the caller's margin.
async fn counts(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    Path(book): Path<Uuid>,
    Query(query): Query<CountQuery>,
) -> ApiResult<Response> {
    let margin = asked_margin(query.margin.as_deref(), viewer.as_ref())?;
    let counts = state
        .store
        .annotation_counts(viewer.as_ref(), book, query.chapter, margin)
        .await?;
    let items = counts
        .iter()
        .filter(|(_, n, _)| *n > 0)
        .map(|(passage, n, _)| PassageCount {
            passage_id: passage,
            count: *n,
        })
        .collect();
    let waiting = counts
        .iter()
        .filter(|(_, _, waiting)| *waiting > 0)
        .map(|(passage, _, waiting)| (passage.as_str(), *waiting))
        .collect();
    Ok(axum::Json(Counts {
        shown: Page::whole(items),
        waiting,
    })
    .into_response())
}

/// "Show me the others' notes here": lifts my-reading-first for one passage.
async fn reveal(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((book, passage)): Path<(Uuid, String)>,
) -> ApiResult<StatusCode> {
    readable_book(&state, book, Some(&user)).await?;
    if state.store.passage(book, &passage).await?.is_none() {
        return Err(ApiError::not_found("passage"));
    }
    state.store.reveal_passage(user.id, book, &passage).await?;
    Ok(StatusCode::NO_CONTENT)
}
