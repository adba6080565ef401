//! The reader's margin: preferences and mutes (under `/api/me`).

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::extract::{CurrentUser, Json, Path};
use super::pagination::Page;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::preferences::{Margin, MarginMode, Preferences};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/preferences", get(get_preferences).put(put_preferences))
        .route("/mutes", get(list_mutes).post(mute))
        .route("/mutes/{user_id}", delete(unmute))
}

/// The margin preferences: the account's, and each book's override (by book id).
#[derive(Serialize)]
struct PreferencesView {
    margin: MarginMode,
    my_reading_first: bool,
    show_written_blind: bool,
    /// `{margin, my_reading_first}` by book id.
    books: BTreeMap<String, Margin>,
}

impl PreferencesView {
    fn of(preferences: Preferences) -> Self {
        Self {
            margin: preferences.account.margin,
            my_reading_first: preferences.account.my_reading_first,
            show_written_blind: preferences.show_written_blind,
            books: preferences.books,
        }
    }
}

/// A muted reader, with their name where the caller may still see it.
#[derive(Serialize)]
struct MuteView {
    user_id: String,
    display_name: Option<String>,
}

async fn get_preferences(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<axum::Json<PreferencesView>> {
    Ok(axum::Json(PreferencesView::of(
        state.store.preferences(user.id).await?,
    )))
}

// Unknown keys are refused (naming the key), so a misspelt setting is not silently dropped.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BookPreference {
    margin: Option<MarginMode>,
    my_reading_first: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreferencesRequest {
    margin: Option<MarginMode>,
    my_reading_first: Option<bool>,
    show_written_blind: Option<bool>,
    /// Overrides per book, merged into the stored ones; `null` removes a book's override.
    books: Option<BTreeMap<Uuid, Option<BookPreference>>>,
}

/// Fields left out keep their value; `books` merges entry by entry: a book given gets (or
/// changes) its override, whose missing fields keep the override's value or else follow the
/// account's; a book given as `null` loses its override; books left out keep theirs. Only
/// books the reader may read can have one.
async fn put_preferences(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(req): Json<PreferencesRequest>,
) -> ApiResult<axum::Json<PreferencesView>> {
    let books = req.books.unwrap_or_default();
    for (book, entry) in &books {
        if entry.is_some() && state.store.book(*book, Some(&user)).await?.is_none() {
            return Err(ApiError::not_found(&format!("book {book}")));
        }
    }
    let mut preferences = state.store.preferences(user.id).await?;
    if let Some(margin) = req.margin {
        preferences.account.margin = margin;
    }
    if let Some(first) = req.my_reading_first {
        preferences.account.my_reading_first = first;
    }
    if let Some(show) = req.show_written_blind {
        preferences.show_written_blind = show;
    }
    for (book, entry) in books {
        let key = book.to_string();
        match entry {
            None => {
                preferences.books.remove(&key);
            }
            Some(p) => {
                let base = preferences
                    .books
                    .get(&key)
                    .copied()
                    .unwrap_or(preferences.account);
                let margin = Margin {
                    margin: p.margin.unwrap_or(base.margin),
                    my_reading_first: p.my_reading_first.unwrap_or(base.my_reading_first),
                };
                preferences.books.insert(key, margin);
            }
        }
    }
    state.store.set_preferences(user.id, &preferences).await?;
    Ok(axum::Json(PreferencesView::of(preferences)))
}

#[derive(Deserialize)]
struct MuteRequest {
    user_id: Uuid,
}

async fn mute(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(req): Json<MuteRequest>,
) -> ApiResult<StatusCode> {
    if req.user_id == user.id {
        return Err(ApiError::bad_request("you cannot mute yourself"));
    }
    // Anyone else is "not found", whether the id is someone's or not.
    if !state.store.sees_notes_by(&user, req.user_id).await? {
        return Err(ApiError::not_found("a note by that user"));
    }
    state.store.mute(user.id, req.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn unmute(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(muted): Path<Uuid>,
) -> ApiResult<StatusCode> {
    if state.store.unmute(user.id, muted).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("mute"))
    }
}

async fn list_mutes(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<axum::Json<Page<MuteView>>> {
    let items = state
        .store
        .mutes(&user)
        .await?
        .into_iter()
        .map(|(user_id, display_name)| MuteView {
            user_id,
            display_name,
        })
        .collect();
    Ok(axum::Json(Page::whole(items)))
}
