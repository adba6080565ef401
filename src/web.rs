//! The reader's web app, embedded in the binary so `scholia` runs from anywhere.

use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::api::error::ApiError;

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

/// Serves `web/` files; paths without a file extension get `index.html` (the app routes them).
pub async fn serve(uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    if path.starts_with("api/") || path == "api" {
        return ApiError::not_found("endpoint").into_response();
    }
    let path = if path.is_empty() || !path.rsplit('/').next().unwrap_or("").contains('.') {
        "index.html"
    } else {
        path
    };
    let Some(file) = Assets::get(path) else {
        return ApiError::not_found("page").into_response();
    };
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
