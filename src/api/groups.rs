//! Study groups: create, join by invitation (after accepting the rules), leave, moderate.
//!
//! To someone outside a group, a group they may not see does not exist: they get 404, never
//! 403, so probing ids tells them nothing. Members whose role falls short get 403.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, patch, post};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use super::extract::{CurrentUser, Json, MaybeUser, Path, Query};
use super::pagination::{self, decode_cursor, page};
use crate::app::AppState;
use crate::store::groups::{
    Group, GroupError, GroupFields, GroupRole, Invite, LeaveNotes, Member, UNKNOWN_INVITE,
};
use crate::store::users::User;
use crate::store::{now_micros, rfc3339};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", post(create_group).get(my_groups))
        .route("/join", post(join))
        .route("/invites/{code}", get(preview_invite))
        .route(
            "/{id}",
            get(get_group).patch(update_group).delete(delete_group),
        )
        .route("/{id}/members", get(members))
        .route("/{id}/notices/{notice_id}/dismiss", post(dismiss_notice))
        .route(
            "/{id}/members/{user_id}",
            patch(set_member_role).delete(remove_member),
        )
        .route("/{id}/invites", post(create_invite).get(list_invites))
        .route("/{id}/invites/{code}", delete(revoke_invite))
        .route("/{id}/leave", post(leave))
        .route("/{id}/transfer", post(transfer))
}

impl From<GroupError> for ApiError {
    fn from(err: GroupError) -> Self {
        match err {
            GroupError::NotFound(what) => ApiError::not_found(what),
            GroupError::Forbidden(why) => ApiError::forbidden(why),
            GroupError::Conflict(why) => ApiError::conflict(why),
            GroupError::InviteUnusable(why) if why == UNKNOWN_INVITE => {
                ApiError::new(StatusCode::NOT_FOUND, why)
            }
            // It existed: say it is gone for good, and why.
            GroupError::InviteUnusable(why) => ApiError::new(StatusCode::GONE, why),
            GroupError::Db(err) => err.into(),
        }
    }
}

/// Invitations last a week unless their maker says otherwise.
const DEFAULT_INVITE_HOURS: i64 = 7 * 24;
const MAX_INVITE_HOURS: i64 = 365 * 24;
const MAX_INVITE_USES: i64 = 10_000;

fn group_json(group: &Group, role: Option<GroupRole>) -> Value {
    json!({
        "id": group.id,
        "name": group.name,
        "description": group.description,
        "rules": group.rules,
        "open": group.open,
        "member_count": group.member_count,
        "role": role,
        "created": rfc3339(group.created_at),
    })
}

fn invite_json(invite: &Invite) -> Value {
    json!({
        "code": invite.code,
        "group_id": invite.group_id,
        "expires": invite.expires_at.map(rfc3339),
        "max_uses": invite.max_uses,
        "uses": invite.uses,
        "revoked": invite.revoked,
        "created": rfc3339(invite.created_at),
    })
}

fn list_json(items: Vec<Value>) -> axum::Json<Value> {
    axum::Json(json!({ "items": items, "next_cursor": null }))
}

/// Trims the name and checks every field given against its limit.
fn validate(mut fields: GroupFields) -> ApiResult<GroupFields> {
    if let Some(name) = &mut fields.name {
        let trimmed = name.trim();
        if trimmed.is_empty() || trimmed.chars().count() > 100 {
            return Err(ApiError::bad_request("name must be 1 to 100 characters"));
        }
        *name = trimmed.to_owned();
    }
    if fields
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 2000)
    {
        return Err(ApiError::bad_request(
            "description must be at most 2000 characters",
        ));
    }
    if fields
        .rules
        .as_ref()
        .is_some_and(|r| r.chars().count() > 10_000)
    {
        return Err(ApiError::bad_request(
            "rules must be at most 10000 characters",
        ));
    }
    Ok(fields)
}

async fn create_group(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(fields): Json<GroupFields>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    if fields.name.is_none() {
        return Err(ApiError::bad_request("name must be 1 to 100 characters"));
    }
    let group = state.store.create_group(user.id, validate(fields)?).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(group_json(&group, Some(GroupRole::Owner))),
    ))
}

#[derive(Deserialize)]
struct GroupsQuery {
    #[serde(default)]
    all: bool,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// My groups; with `all=true`, every group for librarians and admins, who choose which
/// groups may read a book.
async fn my_groups(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<GroupsQuery>,
) -> ApiResult<axum::Json<Value>> {
    if query.all {
        return all_groups(&state, &user, &query).await;
    }
    let groups = state.store.groups_of(user.id).await?;
    Ok(list_json(
        groups
            .iter()
            .map(|(group, role)| group_json(group, Some(*role)))
            .collect(),
    ))
}

async fn all_groups(
    state: &AppState,
    user: &User,
    query: &GroupsQuery,
) -> ApiResult<axum::Json<Value>> {
    if !user.role.can_manage_books() {
        return Err(ApiError::forbidden(
            "only librarians and admins may list every group",
        ));
    }
    let limit = pagination::limit(
        query.limit,
        pagination::DEFAULT_LIMIT,
        pagination::MAX_LIMIT,
    )?;
    let after = decode_cursor::<(String, String)>(query.cursor.as_deref())?;
    let groups = state
        .store
        .all_groups(after, pagination::rows_for(limit))
        .await?;
    let page = page(
        &groups,
        limit,
        |g| json!({ "id": g.id, "name": g.name, "member_count": g.member_count }),
        |g| (g.name.clone(), g.id.clone()),
    );
    Ok(axum::Json(json!(page)))
}

async fn get_group(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<Value>> {
    // To a member, with the changes to its rules or openness they have not dismissed.
    let Some((group, role)) = state.store.group_for(id, user.id).await? else {
        return Err(ApiError::not_found("group"));
    };
    let mut body = group_json(&group, role);
    if role.is_some() {
        let notices = state.store.group_notices(id, user.id).await?;
        body["notices"] = notices.iter().map(notice_json).collect();
    }
    Ok(axum::Json(body))
}

async fn update_group(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<Uuid>,
    Json(fields): Json<GroupFields>,
) -> ApiResult<axum::Json<Value>> {
    state
        .store
        .update_group(id, user.id, validate(fields)?)
        .await?;
    get_group(State(state), CurrentUser(user), Path(id)).await
}

async fn delete_group(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    state.store.delete_group(id, user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn notice_json(notice: &crate::store::notices::Notice) -> Value {
    json!({
        "id": notice.id,
        "kind": notice.kind,
        "message": notice.kind.message(),
        "rules": notice.rules,
        "created": rfc3339(notice.created_at),
    })
}

/// `POST /api/groups/{id}/notices/{notice_id}/dismiss`: the member has read it.
async fn dismiss_notice(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, notice)): Path<(Uuid, String)>,
) -> ApiResult<StatusCode> {
    state.store.dismiss_notice(id, user.id, &notice).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn members(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<Value>> {
    let members = state.store.group_members(id, user.id).await?;
    Ok(list_json(members.iter().map(member_json).collect()))
}

fn member_json(m: &Member) -> Value {
    json!({
        "user_id": m.user_id,
        "display_name": m.display_name,
        "role": m.role,
        "joined": rfc3339(m.joined_at),
    })
}

#[derive(Deserialize)]
struct NewInvite {
    expires_in_hours: Option<i64>,
    max_uses: Option<i64>,
}

async fn create_invite(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<Uuid>,
    Json(req): Json<NewInvite>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let hours = req.expires_in_hours.unwrap_or(DEFAULT_INVITE_HOURS);
    if !(1..=MAX_INVITE_HOURS).contains(&hours) {
        return Err(ApiError::bad_request(format!(
            "expires_in_hours must be 1 to {MAX_INVITE_HOURS}"
        )));
    }
    if req
        .max_uses
        .is_some_and(|max| !(1..=MAX_INVITE_USES).contains(&max))
    {
        return Err(ApiError::bad_request(format!(
            "max_uses must be 1 to {MAX_INVITE_USES}, or left out for no limit"
        )));
    }
    let expires_at = now_micros() + hours * 3_600_000_000;
    let invite = state
        .store
        .create_invite(id, user.id, Some(expires_at), req.max_uses)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(invite_json(&invite))))
}

async fn list_invites(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<Value>> {
    let invites = state.store.group_invites(id, user.id).await?;
    Ok(list_json(invites.iter().map(invite_json).collect()))
}

async fn revoke_invite(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, code)): Path<(Uuid, String)>,
) -> ApiResult<StatusCode> {
    state.store.revoke_invite(id, user.id, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What the group's openness means for what one shares in it, for the invitation preview.
fn openness(group: &Group) -> &'static str {
    if group.open {
        "The group is open: any signed-in reader can join it and read what is shared in it."
    } else {
        "The group is invite-only. Only its owner can open it to every reader, and not while \
         it holds notes of other members: what you share here stays with invited readers."
    }
}

fn plural(count: i64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// What someone holding an invitation sees before deciding to join: the group, its rules, and
/// who will read what they share there. Joining is a separate, explicit step.
async fn preview_invite(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(code): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let invite = state.store.usable_invite(&code).await?;
    let group = state
        .store
        .group_by_id(invite.group_id)
        .await?
        .ok_or(ApiError::not_found("group"))?;
    let (members, moderators) = state.store.group_audience(group.id).await?;
    let role = match &user {
        Some(user) => state.store.membership_role(group.id, user.id).await?,
        None => None,
    };
    let moderate = if moderators == 1 {
        "1 of them, its owner, can also hide notes in the group".to_owned()
    } else {
        format!(
            "{moderators} of them, its owner and facilitators, can also hide notes in the group"
        )
    };
    let audience = format!(
        "Notes you share with this group can be read by its {}. {moderate}. Nobody in the \
         group can read your private notes, and you can leave and withdraw your notes at any \
         time.",
        plural(members, "member", "members"),
    );
    Ok(axum::Json(json!({
        "group": group_json(&group, role),
        "member_count": members,
        "moderator_count": moderators,
        "audience": format!("{audience} {}", openness(&group)),
        "openness": openness(&group),
        "expires": invite.expires_at.map(rfc3339),
    })))
}

#[derive(Deserialize)]
struct JoinRequest {
    code: Option<String>,
    group_id: Option<Uuid>,
    accept_rules: Option<bool>,
}

async fn join(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(req): Json<JoinRequest>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    if req.accept_rules != Some(true) {
        return Err(ApiError::bad_request(
            "the group's rules must be accepted to join: read them, then send accept_rules: true",
        ));
    }
    let (group, joined) = match (req.code, req.group_id) {
        (Some(code), None) => state.store.join_with_invite(&code, user.id).await?,
        (None, Some(group)) => (group, state.store.join_open_group(group, user.id).await?),
        _ => {
            return Err(ApiError::bad_request(
                "send either an invitation code or, for an open group, its group_id",
            ));
        }
    };
    let (group, role) = state
        .store
        .group_for(group, user.id)
        .await?
        .ok_or(ApiError::not_found("group"))?;
    let status = if joined {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(group_json(&group, role))))
}

#[derive(Deserialize)]
struct LeaveRequest {
    notes: LeaveNotes,
}

async fn leave(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<Uuid>,
    Json(req): Json<LeaveRequest>,
) -> ApiResult<axum::Json<Value>> {
    let left = state.store.leave_group(id, user.id, req.notes).await?;
    Ok(axum::Json(json!({
        "group_deleted": left.group_deleted,
        "notes_changed": left.notes_changed,
    })))
}

async fn remove_member(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, target)): Path<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    state.store.remove_member(id, user.id, target).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct RoleChange {
    role: GroupRole,
}

async fn set_member_role(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, target)): Path<(Uuid, Uuid)>,
    Json(req): Json<RoleChange>,
) -> ApiResult<axum::Json<Value>> {
    if req.role == GroupRole::Owner {
        return Err(ApiError::bad_request(
            "role must be facilitator or member; to hand over the group, use transfer",
        ));
    }
    state
        .store
        .set_member_role(id, user.id, target, req.role)
        .await?;
    let members = state.store.group_members(id, user.id).await?;
    let changed = members
        .iter()
        .find(|m| m.user_id == target)
        .ok_or(ApiError::not_found("member"))?;
    Ok(axum::Json(member_json(changed)))
}

#[derive(Deserialize)]
struct Transfer {
    user_id: Uuid,
}

async fn transfer(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<Uuid>,
    Json(req): Json<Transfer>,
) -> ApiResult<StatusCode> {
    state.store.transfer_group(id, user.id, req.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
