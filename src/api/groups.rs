//! Study groups: create, join by invitation (after accepting the rules), leave, moderate.
//!
//! To someone outside a group, a group they may not see does not exist: they get 404, never
//! 403, so probing ids tells them nothing. Members whose role falls short get 403.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::extract::{CurrentUser, Json, MaybeUser, Path, Query};
use super::pagination::{self, Page, decode_cursor, page};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::groups::{
    Group, GroupError, GroupFields, GroupRole, GroupSummary, Invite, LeaveNotes, Left, Member,
    Notice, NoticeKind, UNKNOWN_INVITE,
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

/// A group, with the caller's role in it (null for a non-member who may see it).
#[derive(Serialize)]
struct GroupView<'a> {
    id: Uuid,
    name: &'a str,
    description: &'a str,
    rules: &'a str,
    open: bool,
    member_count: i64,
    role: Option<GroupRole>,
    created: String,
}

impl<'a> GroupView<'a> {
    fn of(group: &'a Group, role: Option<GroupRole>) -> Self {
        Self {
            id: group.id,
            name: &group.name,
            description: &group.description,
            rules: &group.rules,
            open: group.open,
            member_count: group.member_count,
            role,
            created: rfc3339(group.created_at),
        }
    }
}

/// `GET /api/groups/{id}`: to a member, also the notices they have not dismissed.
#[derive(Serialize)]
struct GroupDetail<'a> {
    #[serde(flatten)]
    group: GroupView<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    notices: Option<Vec<NoticeView<'a>>>,
}

/// What every group shows a librarian choosing who may read a book.
#[derive(Serialize)]
struct GroupSummaryView<'a> {
    id: &'a str,
    name: &'a str,
    member_count: i64,
}

impl<'a> GroupSummaryView<'a> {
    fn of(group: &'a GroupSummary) -> Self {
        Self {
            id: &group.id,
            name: &group.name,
            member_count: group.member_count,
        }
    }
}

#[derive(Serialize)]
struct InviteView<'a> {
    code: &'a str,
    group_id: Uuid,
    expires: Option<String>,
    max_uses: Option<i64>,
    uses: i64,
    revoked: bool,
    created: String,
}

impl<'a> InviteView<'a> {
    fn of(invite: &'a Invite) -> Self {
        Self {
            code: &invite.code,
            group_id: invite.group_id,
            expires: invite.expires_at.map(rfc3339),
            max_uses: invite.max_uses,
            uses: invite.uses,
            revoked: invite.revoked,
            created: rfc3339(invite.created_at),
        }
    }
}

/// A change to the group's rules or openness, as its members are told of it.
#[derive(Serialize)]
struct NoticeView<'a> {
    id: &'a str,
    kind: NoticeKind,
    message: &'static str,
    rules: Option<&'a str>,
    created: String,
}

impl<'a> NoticeView<'a> {
    fn of(notice: &'a Notice) -> Self {
        Self {
            id: &notice.id,
            kind: notice.kind,
            message: notice.kind.message(),
            rules: notice.rules.as_deref(),
            created: rfc3339(notice.created_at),
        }
    }
}

#[derive(Serialize)]
struct MemberView<'a> {
    user_id: Uuid,
    display_name: &'a str,
    role: GroupRole,
    joined: String,
}

impl<'a> MemberView<'a> {
    fn of(member: &'a Member) -> Self {
        Self {
            user_id: member.user_id,
            display_name: &member.display_name,
            role: member.role,
            joined: rfc3339(member.joined_at),
        }
    }
}

/// What someone holding an invitation is shown before joining.
#[derive(Serialize)]
struct InvitePreview<'a> {
    group: GroupView<'a>,
    member_count: i64,
    moderator_count: i64,
    /// Who will read what they share there, in words.
    audience: String,
    openness: &'static str,
    expires: Option<String>,
}

/// What leaving did.
#[derive(Serialize)]
struct LeftView {
    group_deleted: bool,
    notes_changed: u64,
}

impl LeftView {
    fn of(left: Left) -> Self {
        Self {
            group_deleted: left.group_deleted,
            notes_changed: left.notes_changed,
        }
    }
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
) -> ApiResult<(StatusCode, Response)> {
    if fields.name.is_none() {
        return Err(ApiError::bad_request("name must be 1 to 100 characters"));
    }
    let group = state.store.create_group(user.id, validate(fields)?).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(GroupView::of(&group, Some(GroupRole::Owner))).into_response(),
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
) -> ApiResult<Response> {
    if query.all {
        return all_groups(&state, &user, &query).await;
    }
    let groups = state.store.groups_of(user.id).await?;
    let items = groups
        .iter()
        .map(|(group, role)| GroupView::of(group, Some(*role)))
        .collect();
    Ok(axum::Json(Page::whole(items)).into_response())
}

async fn all_groups(state: &AppState, user: &User, query: &GroupsQuery) -> ApiResult<Response> {
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
    let page = page(&groups, limit, GroupSummaryView::of, |g| {
        (g.name.clone(), g.id.clone())
    });
    Ok(axum::Json(page).into_response())
}

async fn get_group(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    // To a member, with the changes to its rules or openness they have not dismissed.
    let Some((group, role)) = state.store.group_for(id, user.id).await? else {
        return Err(ApiError::not_found("group"));
    };
    let notices = match role {
        Some(_) => Some(state.store.group_notices(id, user.id).await?),
        None => None,
    };
    Ok(axum::Json(GroupDetail {
        group: GroupView::of(&group, role),
        notices: notices
            .as_ref()
            .map(|notices| notices.iter().map(NoticeView::of).collect()),
    })
    .into_response())
}

async fn update_group(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<Uuid>,
    Json(fields): Json<GroupFields>,
) -> ApiResult<Response> {
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
) -> ApiResult<Response> {
    let members = state.store.group_members(id, user.id).await?;
    let items = members.iter().map(MemberView::of).collect();
    Ok(axum::Json(Page::whole(items)).into_response())
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
) -> ApiResult<(StatusCode, Response)> {
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
    Ok((
        StatusCode::CREATED,
        axum::Json(InviteView::of(&invite)).into_response(),
    ))
}

async fn list_invites(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let invites = state.store.group_invites(id, user.id).await?;
    let items = invites.iter().map(InviteView::of).collect();
    Ok(axum::Json(Page::whole(items)).into_response())
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
) -> ApiResult<Response> {
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
    Ok(axum::Json(InvitePreview {
        group: GroupView::of(&group, role),
        member_count: members,
        moderator_count: moderators,
        audience: format!("{audience} {}", openness(&group)),
        openness: openness(&group),
        expires: invite.expires_at.map(rfc3339),
    })
    .into_response())
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
) -> ApiResult<(StatusCode, Response)> {
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
    Ok((
        status,
        axum::Json(GroupView::of(&group, role)).into_response(),
    ))
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
) -> ApiResult<axum::Json<LeftView>> {
    let left = state.store.leave_group(id, user.id, req.notes).await?;
    Ok(axum::Json(LeftView::of(left)))
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
) -> ApiResult<Response> {
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
    Ok(axum::Json(MemberView::of(changed)).into_response())
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
