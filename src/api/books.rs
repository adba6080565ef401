//! The catalogue: upload, list, read and delete books; chapters, passages and resources.

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tower_http::limit::RequestBodyLimitLayer;
use uuid::Uuid;

use super::extract::{CurrentUser, Json, MaybeUser, Path, Query};
use super::pagination::{self, decode_cursor, page};
use super::upload::{self, Spooled};
use crate::epub::{EpubError, Rendition};
use crate::import::{ImportOptions, Outcome, import_epub, unknown_groups_reason};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::books::{Access, BookRow, ChapterInfo, PassageRow};
use crate::store::rfc3339;
use crate::store::users::User;

/// Chapters are inert documents: no script may run in them even if one slipped through.
const CHAPTER_POLICY: &str = "default-src 'none'; img-src 'self' data:; style-src 'self' \
    'unsafe-inline'; font-src 'self' data:; media-src 'self'; sandbox";

/// Routes that take JSON-sized bodies.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(list_books))
        .route(
            "/{id}",
            get(get_book).delete(delete_book).patch(update_book),
        )
        .route("/{id}/chapters/{index}", get(chapter))
        .route("/{id}/passages", get(passages))
        .route("/{id}/resources/{*path}", get(resource))
}

/// The upload route, whose body limit is the EPUB file limit rather than the JSON one.
pub fn upload_router(max_file_bytes: u64) -> Router<AppState> {
    // Room for the multipart framing and form fields around the file.
    let limit = usize::try_from(max_file_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(64 * 1024);
    Router::new()
        .route("/", post(upload))
        .layer(DefaultBodyLimit::max(limit))
        .layer(RequestBodyLimitLayer::new(limit))
}

/// A book of the catalogue, as every answer about books shows it.
#[derive(Serialize)]
struct BookView<'a> {
    id: &'a str,
    title: &'a str,
    authors: Vec<String>,
    language: Option<&'a str>,
    identifiers: Vec<String>,
    publisher: Option<&'a str>,
    description: Option<&'a str>,
    date: Option<&'a str>,
    /// The cover image's URL.
    cover: Option<String>,
    access: &'a str,
    edition_of: Option<&'a str>,
    created: String,
    rendition: Rendition,
}

impl<'a> BookView<'a> {
    fn of(book: &'a BookRow) -> Self {
        Self {
            id: &book.id,
            title: &book.title,
            authors: serde_json::from_str(&book.authors).unwrap_or_default(),
            language: book.language.as_deref(),
            identifiers: serde_json::from_str(&book.identifiers).unwrap_or_default(),
            publisher: book.publisher.as_deref(),
            description: book.description.as_deref(),
            date: book.published.as_deref(),
            cover: book
                .cover
                .as_ref()
                .map(|path| format!("/api/books/{}/resources/{path}", book.id)),
            access: &book.access,
            edition_of: book.edition_of.as_deref(),
            created: rfc3339(book.created_at),
            // Books stored before the rendition was kept read as reflowable.
            rendition: serde_json::from_str(&book.rendition).unwrap_or_default(),
        }
    }
}

/// `GET /api/books/{id}`: the book with its table of contents and chapters; to librarians,
/// also the groups that may read it.
#[derive(Serialize)]
struct BookDetail<'a> {
    #[serde(flatten)]
    book: BookView<'a>,
    /// The table of contents as the import stored it.
    toc: Value,
    chapters: Vec<ChapterView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    groups: Option<Vec<String>>,
}

#[derive(Serialize)]
struct ChapterView<'a> {
    index: i64,
    idref: &'a str,
    href: &'a str,
    title: Option<&'a str>,
    passages: i64,
    /// The page size of a fixed-layout chapter.
    viewport: Option<Viewport>,
}

impl<'a> ChapterView<'a> {
    fn of(chapter: &'a ChapterInfo) -> Self {
        Self {
            index: chapter.idx,
            idref: &chapter.idref,
            href: &chapter.href,
            title: chapter.title.as_deref(),
            passages: chapter.passages,
            viewport: chapter
                .viewport
                .as_deref()
                .and_then(|v| v.split_once('x'))
                .map(|(width, height)| Viewport {
                    width: width.parse().ok(),
                    height: height.parse().ok(),
                }),
        }
    }
}

#[derive(Serialize)]
struct Viewport {
    width: Option<u32>,
    height: Option<u32>,
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn list_books(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    Query(query): Query<ListQuery>,
) -> ApiResult<Response> {
    let limit = pagination::limit(
        query.limit,
        pagination::DEFAULT_LIMIT,
        pagination::MAX_LIMIT,
    )?;
    let after = decode_cursor::<(i64, String)>(query.cursor.as_deref())?;
    let search = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let rows = state
        .store
        .list_books(viewer.as_ref(), search, after, pagination::rows_for(limit))
        .await?;
    Ok(axum::Json(page(&rows, limit, BookView::of, |b| {
        (b.created_at, b.id.clone())
    }))
    .into_response())
}

/// The book if the caller may read it; 404 otherwise, so that hidden books do not leak.
pub async fn readable_book(
    state: &AppState,
    id: Uuid,
    viewer: Option<&User>,
) -> ApiResult<BookRow> {
    state
        .store
        .book(id, viewer)
        .await?
        .ok_or_else(|| ApiError::not_found("book"))
}

async fn get_book(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let book = readable_book(&state, id, viewer.as_ref()).await?;
    let chapters = state.store.chapters(id).await?;
    let toc = state.store.book_toc(id).await?;
    let groups = if viewer.is_some_and(|v| v.role.can_manage_books()) {
        Some(state.store.book_groups(id).await?)
    } else {
        None
    };
    Ok(axum::Json(BookDetail {
        book: BookView::of(&book),
        toc,
        chapters: chapters.iter().map(ChapterView::of).collect(),
        groups,
    })
    .into_response())
}

fn require_librarian(user: &User) -> ApiResult<()> {
    if user.role.can_manage_books() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only librarians and admins manage the catalogue",
        ))
    }
}

async fn delete_book(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    require_librarian(&user)?;
    if state.store.delete_book(id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("book"))
    }
}

#[derive(Deserialize)]
struct AccessUpdate {
    access: Access,
    #[serde(default)]
    groups: Vec<Uuid>,
}

async fn update_book(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<Uuid>,
    Json(update): Json<AccessUpdate>,
) -> ApiResult<Response> {
    require_librarian(&user)?;
    check_access(update.access, &update.groups)?;
    let unknown = state.store.unknown_groups(&update.groups).await?;
    if !unknown.is_empty() {
        return Err(ApiError::bad_request(unknown_groups_reason(&unknown)));
    }
    if !state
        .store
        .set_book_access(id, update.access, &update.groups)
        .await?
    {
        return Err(ApiError::not_found("book"));
    }
    let book = readable_book(&state, id, Some(&user)).await?;
    Ok(axum::Json(BookView::of(&book)).into_response())
}

fn check_access(access: Access, groups: &[Uuid]) -> ApiResult<()> {
    match (access, groups.is_empty()) {
        (Access::Groups, true) => Err(ApiError::bad_request(
            "access \"groups\" needs at least one group in \"groups\"",
        )),
        (Access::Public | Access::SignedIn, false) => Err(ApiError::bad_request(
            "\"groups\" only applies to access \"groups\"",
        )),
        _ => Ok(()),
    }
}

/// `POST /api/books`: multipart with the EPUB in `file`; optional text fields `access`,
/// `groups` (comma-separated ids) and `edition_of`.
async fn upload(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    mut form: Multipart,
) -> ApiResult<Response> {
    require_librarian(&user)?;
    let limits = &state.config.epub_limits;
    let mut file = None;
    let mut options = ImportOptions {
        imported_by: Some(user.id),
        ..ImportOptions::default()
    };
    while let Some(mut field) = form.next_field().await.map_err(upload::form_error)? {
        match field.name().unwrap_or_default() {
            "file" => {
                let dir = &state.config.spool_dir;
                file = Some(upload::spool(&mut field, dir, limits.max_file_bytes).await?);
            }
            "access" => {
                let text = field.text().await.map_err(upload::form_error)?;
                options.access = serde_json::from_value(Value::String(text)).map_err(|_| {
                    ApiError::bad_request("access must be public, signed_in or groups")
                })?;
            }
            "groups" => {
                let text = field.text().await.map_err(upload::form_error)?;
                options.groups = text
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        s.parse()
                            .map_err(|_| ApiError::bad_request(format!("{s:?} is not a group id")))
                    })
                    .collect::<ApiResult<_>>()?;
            }
            "edition_of" => {
                let text = field.text().await.map_err(upload::form_error)?;
                let id = text
                    .trim()
                    .parse()
                    .map_err(|_| ApiError::bad_request("edition_of is not a book id"))?;
                readable_book(&state, id, Some(&user)).await?;
                options.edition_of = Some(id);
            }
            _ => {}
        }
    }
    let file = file.ok_or_else(|| {
        ApiError::bad_request("the EPUB goes in a multipart field named \"file\"")
    })?;
    check_access(options.access, &options.groups)?;
    let outcome = match file {
        // `_path` deletes the spool file once the import is done with it.
        Spooled::File { file, path: _path } => {
            import_epub(&state.store, file, limits, &options).await?
        }
        Spooled::TooLarge { size } => Outcome::Refused {
            reason: EpubError::FileTooLarge {
                size,
                limit: limits.max_file_bytes,
            }
            .to_string(),
        },
    };
    match outcome {
        outcome @ Outcome::Imported { .. } => {
            Ok((StatusCode::CREATED, axum::Json(outcome)).into_response())
        }
        outcome @ Outcome::Duplicate { .. } => {
            Ok((StatusCode::OK, axum::Json(outcome)).into_response())
        }
        Outcome::Refused { reason } => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the EPUB was refused: {reason}"),
        )),
    }
}

async fn chapter(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    Path((id, index)): Path<(Uuid, i64)>,
) -> ApiResult<Response> {
    readable_book(&state, id, viewer.as_ref()).await?;
    let html = state
        .store
        .chapter_html(id, index)
        .await?
        .ok_or_else(|| ApiError::not_found("chapter"))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CHAPTER_POLICY),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-cache"),
            ),
        ],
        html,
    )
        .into_response())
}

#[derive(Deserialize)]
struct PassageQuery {
    chapter: Option<i64>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// A passage: where it is in the book and its normalized text, which note offsets count.
#[derive(Serialize)]
struct PassageView<'a> {
    id: &'a str,
    chapter: i64,
    ordinal: i64,
    cfi: &'a str,
    text: &'a str,
    fingerprint: &'a str,
}

impl<'a> PassageView<'a> {
    fn of(p: &'a PassageRow) -> Self {
        Self {
            id: &p.id,
            chapter: p.chapter,
            ordinal: p.ordinal,
            cfi: &p.cfi,
            text: &p.text,
            fingerprint: &p.fingerprint,
        }
    }
}

async fn passages(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    Path(id): Path<Uuid>,
    Query(query): Query<PassageQuery>,
) -> ApiResult<Response> {
    readable_book(&state, id, viewer.as_ref()).await?;
    let limit = pagination::limit(query.limit, 1000, 5000)?;
    let after = decode_cursor::<(i64, i64)>(query.cursor.as_deref())?;
    let rows = state
        .store
        .passages(id, query.chapter, after, pagination::rows_for(limit))
        .await?;
    Ok(axum::Json(page(&rows, limit, PassageView::of, |p| {
        (p.chapter, p.ordinal)
    }))
    .into_response())
}

async fn resource(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    Path((id, path)): Path<(Uuid, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    readable_book(&state, id, viewer.as_ref()).await?;
    let found = state
        .store
        .resource(id, &path)
        .await?
        .ok_or_else(|| ApiError::not_found("resource"))?;
    let etag = HeaderValue::from_str(&format!("\"{}\"", found.sha256))
        .map_err(|e| anyhow::anyhow!("etag: {e}"))?;
    // Resources never change under a book id (a new edition is a new book), but access can:
    // let browsers keep them while revalidating cheaply.
    let cache = HeaderValue::from_static("private, max-age=86400");
    if headers.get(header::IF_NONE_MATCH) == Some(&etag) {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        )
            .into_response());
    }
    let content_type = HeaderValue::from_str(&found.media_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let mut response = Response::new(Body::from(found.data));
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, content_type);
    out.insert(header::ETAG, etag);
    out.insert(header::CACHE_CONTROL, cache);
    // A resource opened on its own (an SVG, say) runs nothing.
    out.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CHAPTER_POLICY),
    );
    Ok(response)
}
