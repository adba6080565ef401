//! `?limit=&cursor=` pagination: every list answers `{"items": [...], "next_cursor": ...}`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::problem::ApiError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// The page size asked for, within bounds.
pub fn limit(asked: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    match asked {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::bad_request(format!(
            "limit must be between 1 and {max}"
        ))),
    }
}

/// Decodes an opaque cursor made by [`encode_cursor`].
pub fn decode_cursor<T: DeserializeOwned>(cursor: Option<&str>) -> Result<Option<T>, ApiError> {
    let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .map(Some)
        .ok_or_else(|| ApiError::bad_request("cursor is not one this server handed out"))
}

pub fn encode_cursor<T: Serialize>(position: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
}

/// How many rows to fetch for a page of `limit`: one more, which only tells whether another
/// page follows (so a page that exactly fills `limit` is the last one, with no cursor).
pub fn rows_for(limit: i64) -> i64 {
    limit + 1
}

/// A page of the first `limit` of `rows` (fetched with [`rows_for`]), with a cursor made from
/// its last row when more rows follow.
pub fn page<'a, R, I: Serialize, P: Serialize>(
    rows: &'a [R],
    limit: i64,
    item: impl Fn(&'a R) -> I,
    position: impl Fn(&'a R) -> P,
) -> Page<I> {
    let shown = &rows[..rows.len().min(usize::try_from(limit).unwrap_or(0))];
    let next_cursor = (rows.len() > shown.len())
        .then(|| shown.last().map(|last| encode_cursor(&position(last))))
        .flatten();
    Page {
        items: shown.iter().map(item).collect(),
        next_cursor,
    }
}

/// One page of a list, as every list answers.
#[derive(Serialize)]
pub struct Page<I> {
    pub items: Vec<I>,
    pub next_cursor: Option<String>,
}

impl<I> Page<I> {
    /// A list short enough to answer whole: one page, with no cursor.
    pub fn whole(items: Vec<I>) -> Self {
        Self {
            items,
            next_cursor: None,
        }
    }
}
