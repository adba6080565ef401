//! The reader's web app, embedded in the binary so `scholia` runs from anywhere.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::problem::ApiError;

#[derive(RustEmbed)]
#[folder = "web/"]
struct Assets;

/// Where the reader's scripts are, for the Content-Security-Policy: each top-level `.js` file
/// and each folder (ending in `/`) that holds one.
pub fn script_paths() -> &'static [String] {
    static PATHS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    PATHS.get_or_init(|| {
        let mut paths: Vec<String> = Assets::iter()
            .filter(|path| path.ends_with(".js"))
            .map(|path| match path.split_once('/') {
                Some((folder, _)) => format!("{folder}/"),
                None => path.into_owned(),
            })
            .collect();
        paths.sort();
        paths.dedup();
        paths
    })
}

/// The reader's own pages, which the app routes in the browser: each gets `index.html`.
fn is_page(path: &str) -> bool {
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/') && rest.len() > 1)
    };
    matches!(path, "" | "upload" | "account" | "groups")
        || ["read", "join", "setup", "groups"].iter().any(|p| under(p))
}

/// Serves the reader: `index.html` for its pages, and the files of `web/`, to GET and HEAD
/// only (405 for other methods); anything else is 404.
pub async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    if path.starts_with("api/") || path == "api" {
        return ApiError::not_found("endpoint").into_response();
    }
    let path = if is_page(path) { "index.html" } else { path };
    let Some(file) = Assets::get(path) else {
        return ApiError::not_found("page").into_response();
    };
    if method != Method::GET && method != Method::HEAD {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "the reader's pages and files are only read (GET or HEAD)",
        )
        .with_header(header::ALLOW, HeaderValue::from_static("GET, HEAD"))
        .into_response();
    }
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let etag = HeaderValue::from_str(&etag).expect("hex is a valid header value");
    if unchanged {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let content_type = HeaderValue::from_str(mime.essence_str())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        file.data,
    )
        .into_response()
}
