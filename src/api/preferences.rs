//! The reader's margin: preferences and mutes (under `/api/me`).

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use super::extract::{CurrentUser, Json, Path};
use crate::app::AppState;
use crate::store::annotations::{Margin, MarginMode};
use crate::store::preferences::Preferences;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/preferences", get(get_preferences).put(put_preferences))
        .route("/mutes", get(list_mutes).post(mute))
        .route("/mutes/{user_id}", delete(unmute))
}

fn preferences_json(preferences: &Preferences) -> Value {
    let margin = |m: &Margin| json!({ "margin": m.margin, "my_reading_first": m.my_reading_first });
    json!({
        "margin": preferences.account.margin,
        "my_reading_first": preferences.account.my_reading_first,
        "books": preferences.books.iter().map(|(book, m)| (book.clone(), margin(m))).collect::<BTreeMap<_, _>>(),
    })
}

async fn get_preferences(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(preferences_json(
        &state.store.preferences(user.id).await?,
    )))
}

#[derive(Deserialize)]
struct BookPreference {
    margin: Option<MarginMode>,
    my_reading_first: Option<bool>,
}

#[derive(Deserialize)]
struct PreferencesRequest {
    margin: Option<MarginMode>,
    my_reading_first: Option<bool>,
    /// Overrides per book; a book left out has none (it follows the account).
    books: Option<BTreeMap<Uuid, BookPreference>>,
}

/// Fields left out keep their value; `books`, when given, replaces the set of overrides, and a
/// book override's missing fields follow the account's.
async fn put_preferences(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(req): Json<PreferencesRequest>,
) -> ApiResult<axum::Json<Value>> {
    let mut preferences = state.store.preferences(user.id).await?;
    if let Some(margin) = req.margin {
        preferences.account.margin = margin;
    }
    if let Some(first) = req.my_reading_first {
        preferences.account.my_reading_first = first;
    }
    if let Some(books) = req.books {
        preferences.books = books
            .into_iter()
            .map(|(book, p)| {
                let margin = Margin {
                    margin: p.margin.unwrap_or(preferences.account.margin),
                    my_reading_first: p
                        .my_reading_first
                        .unwrap_or(preferences.account.my_reading_first),
                };
                (book.to_string(), margin)
            })
            .collect();
    }
    state.store.set_preferences(user.id, &preferences).await?;
    Ok(axum::Json(preferences_json(&preferences)))
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
    if state.store.user_by_id(req.user_id).await?.is_none() {
        return Err(ApiError::not_found("user"));
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
) -> ApiResult<axum::Json<Value>> {
    let items: Vec<Value> = state
        .store
        .mutes(user.id)
        .await?
        .into_iter()
        .map(|(id, name)| json!({ "user_id": id, "display_name": name }))
        .collect();
    Ok(axum::Json(json!({ "items": items, "next_cursor": null })))
}
