//! `GET /api/books/{id}/search?q=`: passages matching the words of `q`, and the annotations
//! the caller may see (after their margin) whose body, tags or quote contain `q`.
//!
//! Snippets are HTML: the text escaped, matches wrapped in `<mark>`…`</mark>`, nothing else.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::annotations::{AnnotationView, asked_margin};
use super::extract::{MaybeUser, Path, Query};
use super::pagination::{self, Page, decode_cursor, page};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::annotations::{AnnotationRow, ListFilter, Order, cursor_of};
use crate::store::search::{MATCH_END, MATCH_START, search_terms, snippet};

const MAX_QUERY_CHARS: usize = 200;
const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

/// Routes under `/api/books`.
pub fn book_router() -> Router<AppState> {
    Router::new().route("/{id}/search", get(search))
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
    /// Page size and cursor of the passages.
    limit: Option<i64>,
    cursor: Option<String>,
    /// Page size and cursor of the annotations.
    annotations_limit: Option<i64>,
    annotations_cursor: Option<String>,
    margin: Option<String>,
}

/// The answer: the query as searched, a page of passages and a page of notes.
#[derive(Serialize)]
struct Results<'a> {
    query: &'a str,
    passages: Page<PassageHit<'a>>,
    annotations: Page<NoteHit<'a>>,
}

/// A passage that matches, with its snippet as HTML.
#[derive(Serialize)]
struct PassageHit<'a> {
    id: &'a str,
    chapter: i64,
    ordinal: i64,
    snippet: String,
}

/// A note that matches, with the snippet of its text that does.
#[derive(Serialize)]
struct NoteHit<'a> {
    #[serde(flatten)]
    note: AnnotationView<'a>,
    snippet: Option<String>,
}

async fn search(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    Path(book): Path<Uuid>,
    Query(query): Query<SearchQuery>,
) -> ApiResult<Response> {
    let q = query.q.as_deref().map(str::trim).unwrap_or_default();
    if q.is_empty() || q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_request(format!(
            "q must be 1 to {MAX_QUERY_CHARS} characters"
        )));
    }
    // No text holds one (PostgreSQL refuses it in text), and neither SQLite's LIKE nor FTS5
    // would read past it: `%\0%` would match every note, an FTS5 string would be cut short.
    if q.contains('\0') {
        return Err(ApiError::bad_request("q must not contain a NUL character"));
    }
    let margin = asked_margin(query.margin.as_deref(), viewer.as_ref())?;
    let limit = pagination::limit(query.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let after = decode_cursor::<(i64, i64)>(query.cursor.as_deref())?;
    let hits = state
        .store
        .search_passages(
            viewer.as_ref(),
            book,
            &search_terms(q),
            after,
            pagination::rows_for(limit),
        )
        .await?;
    let passages = page(
        &hits,
        limit,
        |hit| PassageHit {
            id: &hit.id,
            chapter: hit.chapter,
            ordinal: hit.ordinal,
            snippet: marked_html(&hit.snippet),
        },
        |hit| (hit.chapter, hit.ordinal),
    );

    let notes_limit = pagination::limit(query.annotations_limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let filter = ListFilter {
        text: Some(q.to_owned()),
        order: Order::Reading,
        after: decode_cursor(query.annotations_cursor.as_deref())?,
        limit: pagination::rows_for(notes_limit),
        ..ListFilter::default()
    };
    let rows = state
        .store
        .margin(viewer.as_ref(), book, &filter, margin)
        .await?;
    let annotations = page(
        &rows,
        notes_limit,
        |row| NoteHit {
            note: AnnotationView::of(row, viewer.as_ref()),
            snippet: note_snippet(row, q),
        },
        |row| cursor_of(row, Order::Reading),
    );
    Ok(axum::Json(Results {
        query: q,
        passages,
        annotations,
    })
    .into_response())
}

/// The snippet of a matching note: from its body, else its quote, else its tags.
fn note_snippet(row: &AnnotationRow, q: &str) -> Option<String> {
    row.body
        .as_deref()
        .and_then(|body| highlight(body, q))
        .or_else(|| highlight(&row.exact, q))
        .or_else(|| highlight(&row.tags().join(", "), q))
}

/// HTML of a raw snippet: text escaped, match markers turned into `<mark>` tags. A
/// marker out of turn is dropped, so the tags always pair up.
fn marked_html(raw: &str) -> String {
    let mut html = String::with_capacity(raw.len() + 32);
    let mut open = false;
    for c in raw.chars() {
        match c {
            MATCH_START if !open => {
                html.push_str("<mark>");
                open = true;
            }
            MATCH_END if open => {
                html.push_str("</mark>");
                open = false;
            }
            MATCH_START | MATCH_END => {}
            c => push_escaped(&mut html, c),
        }
    }
    if open {
        html.push_str("</mark>");
    }
    html
}

fn push_escaped(html: &mut String, c: char) {
    match c {
        '&' => html.push_str("&amp;"),
        '<' => html.push_str("&lt;"),
        '>' => html.push_str("&gt;"),
        '"' => html.push_str("&quot;"),
        '\'' => html.push_str("&#39;"),
        c => html.push(c),
    }
}

/// Escaped `text` around its first occurrence of `needle` (ignoring case and diacritics),
/// every occurrence in that window marked; None when it does not occur.
fn highlight(text: &str, needle: &str) -> Option<String> {
    snippet(text, &[needle]).map(|raw| marked_html(&raw))
}

#[cfg(test)]
mod tests {
    use super::{highlight, marked_html};

    #[test]
    fn engine_snippets_are_escaped_and_marked() {
        assert_eq!(
            marked_html("a <b> & \u{1}rabbit\u{2}"),
            "a &lt;b&gt; &amp; <mark>rabbit</mark>"
        );
        assert_eq!(marked_html("\u{2}x\u{1}y\u{1}z"), "x<mark>yz</mark>");
    }

    #[test]
    fn notes_are_highlighted_case_insensitively() {
        assert_eq!(
            highlight("The Rabbit & the rabbit-hole", "RABBIT").unwrap(),
            "The <mark>Rabbit</mark> &amp; the <mark>rabbit</mark>-hole"
        );
        assert_eq!(
            highlight("<script>", "script").unwrap(),
            "&lt;<mark>script</mark>&gt;"
        );
        assert_eq!(highlight("abc", "x"), None);
        let long = format!("{}needle{}", "a".repeat(100), "b".repeat(300));
        let snippet = highlight(&long, "needle").unwrap();
        assert!(snippet.starts_with('…') && snippet.ends_with('…'));
        assert!(snippet.contains("<mark>needle</mark>"));
    }
}
