//! Study groups: membership, roles, invitations, and what happens to group notes when
//! people leave or a group ends.
//!
//! Every change that depends on who is in a group (joining, leaving, removing, role changes,
//! deleting) runs in one transaction that first writes the group's row. That write takes the
//! group's row lock on PostgreSQL and the write lock on SQLite, so those changes to one group
//! happen one after another and each sees the membership the previous one left.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::notices::{NoticeKind, record_notice};
use super::{Sql, Store, Tx, now_micros};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupRole {
    Owner,
    Facilitator,
    Member,
}

impl GroupRole {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupRole::Owner => "owner",
            GroupRole::Facilitator => "facilitator",
            GroupRole::Member => "member",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "owner" => GroupRole::Owner,
            "facilitator" => GroupRole::Facilitator,
            _ => GroupRole::Member,
        }
    }

    /// Owners and facilitators moderate: invitations, group settings, hiding notes.
    pub fn can_moderate(self) -> bool {
        matches!(self, GroupRole::Owner | GroupRole::Facilitator)
    }
}

/// A refusal by the group rules, or a storage failure.
#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    /// The thing does not exist or the caller may not know it does.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller is a member but their role does not allow it.
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    Conflict(&'static str),
    /// An invitation that exists no longer admits anyone; says why.
    #[error("{0}")]
    InviteUnusable(&'static str),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

#[derive(Debug, Clone)]
pub struct Group {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub rules: String,
    pub open: bool,
    pub member_count: i64,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct GroupRow {
    id: String,
    name: String,
    description: String,
    rules: String,
    open: bool,
    member_count: i64,
    created_at: i64,
}

impl From<GroupRow> for Group {
    fn from(row: GroupRow) -> Self {
        Group {
            id: row.id.parse().unwrap_or_default(),
            name: row.name,
            description: row.description,
            rules: row.rules,
            open: row.open,
            member_count: row.member_count,
            created_at: row.created_at,
        }
    }
}

/// A group as one viewer sees it: with their role, if they are a member.
#[derive(sqlx::FromRow)]
struct ViewedGroupRow {
    #[sqlx(flatten)]
    group: GroupRow,
    role: Option<String>,
}

impl ViewedGroupRow {
    fn into_parts(self) -> (Group, Option<GroupRole>) {
        (
            self.group.into(),
            self.role.as_deref().map(GroupRole::parse),
        )
    }
}

const GROUP_COLUMNS: &str = "g.id, g.name, g.description, g.rules, g.open, g.created_at, \
    (SELECT COUNT(*) FROM memberships c WHERE c.group_id = g.id) AS member_count";

/// Name, description, rules and openness of a new group, or the changes to an existing one.
#[derive(Debug, Deserialize)]
pub struct GroupFields {
    pub name: Option<String>,
    pub description: Option<String>,
    pub rules: Option<String>,
    pub open: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub user_id: Uuid,
    pub display_name: String,
    pub role: GroupRole,
    pub joined_at: i64,
}

#[derive(Debug, Clone)]
pub struct Invite {
    pub code: String,
    pub group_id: Uuid,
    pub expires_at: Option<i64>,
    pub max_uses: Option<i64>,
    pub uses: i64,
    pub revoked: bool,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct InviteRow {
    code: String,
    group_id: String,
    expires_at: Option<i64>,
    max_uses: Option<i64>,
    uses: i64,
    revoked: bool,
    created_at: i64,
}

impl From<InviteRow> for Invite {
    fn from(row: InviteRow) -> Self {
        Invite {
            code: row.code,
            group_id: row.group_id.parse().unwrap_or_default(),
            expires_at: row.expires_at,
            max_uses: row.max_uses,
            uses: row.uses,
            revoked: row.revoked,
            created_at: row.created_at,
        }
    }
}

const INVITE_COLUMNS: &str = "code, group_id, expires_at, max_uses, uses, revoked, created_at";

impl Invite {
    /// Why this invitation admits nobody at `now`, or None while it still works.
    pub fn unusable_reason(&self, now: i64) -> Option<&'static str> {
        if self.revoked {
            Some("this invitation has been withdrawn; ask the group for a new one")
        } else if self.expires_at.is_some_and(|at| at <= now) {
            Some("this invitation has expired; ask the group for a new one")
        } else if self.max_uses.is_some_and(|max| self.uses >= max) {
            Some("this invitation has been used as often as allowed; ask the group for a new one")
        } else {
            None
        }
    }
}

pub const UNKNOWN_INVITE: &str =
    "no such invitation; check the link or ask the group for a new one";

/// What a leaving member's notes in the group become.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LeaveNotes {
    /// They stay visible to the group under the author's name.
    Keep,
    /// They stay visible to the group without the author's name.
    Anonymize,
    /// They become the author's private notes.
    Withdraw,
}

#[derive(Debug, Clone, Copy)]
pub struct Left {
    /// The leaver was the last member, so the group is gone.
    pub group_deleted: bool,
    /// How many of the leaver's notes changed audience or authorship display.
    pub notes_changed: u64,
}

/// Taking the group's write lock (see the module docs); no row means no group.
pub(super) const LOCK_GROUP: &str = "UPDATE groups SET created_at = created_at WHERE id = $1";
pub(super) const ROLE_OF: &str =
    "SELECT role FROM memberships WHERE group_id = $1 AND user_id = $2";
const COUNT_MEMBERS: &str = "SELECT COUNT(*) FROM memberships WHERE group_id = $1";
const ADD_MEMBER: &str = "INSERT INTO memberships (group_id, user_id, role, joined_at)
    VALUES ($1, $2, 'member', $3) ON CONFLICT (group_id, user_id) DO NOTHING";
/// Every note shared with the group goes back to its author as private, so ending a group
/// loses nobody's words and widens nothing. `updated_at` moves so that clients syncing by
/// time see the change (so do the leave statements below).
pub(super) const NOTES_TO_PRIVATE: &str =
    "UPDATE annotations SET audience = 'private', group_id = NULL,
    updated_at = $2 WHERE group_id = $1";
pub(super) const DELETE_GROUP: &str = "DELETE FROM groups WHERE id = $1";

/// The notes of leaver `$2` that group `$1` reads: those shared with it, and their replies
/// anywhere below a note shared with it (a reply widened after its thread was narrowed).
const LEAVERS_NOTES: &str = "author_id = $2 AND (group_id = $1 OR id IN (
    WITH RECURSIVE below(id) AS (
        SELECT g.id FROM annotations g WHERE g.group_id = $1
      UNION
        SELECT c.id FROM annotations c JOIN below ON c.reply_to = below.id)
    SELECT id FROM below))";

/// The caller's role in a group inside a transaction.
async fn role_in(tx: &mut Tx, group: Uuid, user: Uuid) -> sqlx::Result<Option<GroupRole>> {
    let role: Option<String> = tx
        .scalar_optional(Sql::new(ROLE_OF).bind(group).bind(user))
        .await?;
    Ok(role.map(|role| GroupRole::parse(&role)))
}

/// Locks the group and returns the caller's role in it; a missing group and a caller who is
/// not a member are alike "group not found", so a group's existence does not leak.
async fn lock_and_role(tx: &mut Tx, group: Uuid, user: Uuid) -> Result<GroupRole, GroupError> {
    let locked = tx.execute(Sql::new(LOCK_GROUP).bind(group)).await?;
    match role_in(tx, group, user).await? {
        Some(role) if locked > 0 => Ok(role),
        _ => Err(GroupError::NotFound("group")),
    }
}

impl Store {
    /// Creates a group with `owner` as its owner and only member.
    pub async fn create_group(&self, owner: Uuid, fields: GroupFields) -> sqlx::Result<Group> {
        let group = Group {
            id: Uuid::now_v7(),
            name: fields.name.unwrap_or_default(),
            description: fields.description.unwrap_or_default(),
            rules: fields.rules.unwrap_or_default(),
            open: fields.open.unwrap_or(false),
            member_count: 1,
            created_at: now_micros(),
        };
        let mut tx = self.db.begin().await?;
        tx.execute(
            Sql::new(
                "INSERT INTO groups (id, name, description, rules, open, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(group.id)
            .bind(&group.name)
            .bind(&group.description)
            .bind(&group.rules)
            .bind(group.open)
            .bind(group.created_at),
        )
        .await?;
        tx.execute(
            Sql::new(
                "INSERT INTO memberships (group_id, user_id, role, joined_at)
                 VALUES ($1, $2, 'owner', $3)",
            )
            .bind(group.id)
            .bind(owner)
            .bind(group.created_at),
        )
        .await?;
        tx.commit().await?;
        Ok(group)
    }

    /// The groups `user` belongs to, with their role in each, by name.
    pub async fn groups_of(&self, user: Uuid) -> sqlx::Result<Vec<(Group, GroupRole)>> {
        let sql = format!(
            "SELECT {GROUP_COLUMNS}, m.role FROM groups g
             JOIN memberships m ON m.group_id = g.id AND m.user_id = $1
             ORDER BY g.name, g.id"
        );
        let rows: Vec<ViewedGroupRow> = self.db.fetch_all(Sql::new(sql).bind(user)).await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let (group, role) = row.into_parts();
                (group, role.unwrap_or(GroupRole::Member))
            })
            .collect())
    }

    /// The group as `viewer` may see it: members always, anyone while it is open (so they can
    /// read its rules before joining). None when it does not exist or is hidden from them.
    pub async fn group_for(
        &self,
        group: Uuid,
        viewer: Uuid,
    ) -> sqlx::Result<Option<(Group, Option<GroupRole>)>> {
        let sql = format!(
            "SELECT {GROUP_COLUMNS}, m.role FROM groups g
             LEFT JOIN memberships m ON m.group_id = g.id AND m.user_id = $2
             WHERE g.id = $1 AND (g.open = TRUE OR m.role IS NOT NULL)"
        );
        let row: Option<ViewedGroupRow> = self
            .db
            .fetch_optional(Sql::new(sql).bind(group).bind(viewer))
            .await?;
        Ok(row.map(ViewedGroupRow::into_parts))
    }

    /// The group with no visibility check, for a caller who holds a right to see it (an
    /// invitation code).
    pub async fn group_by_id(&self, group: Uuid) -> sqlx::Result<Option<Group>> {
        let sql = format!("SELECT {GROUP_COLUMNS} FROM groups g WHERE g.id = $1");
        let row: Option<GroupRow> = self.db.fetch_optional(Sql::new(sql).bind(group)).await?;
        Ok(row.map(Group::from))
    }

    /// `user`'s role in `group`, or None when they are not a member.
    pub async fn membership_role(
        &self,
        group: Uuid,
        user: Uuid,
    ) -> sqlx::Result<Option<GroupRole>> {
        let role: Option<String> = self
            .db
            .scalar_optional(Sql::new(ROLE_OF).bind(group).bind(user))
            .await?;
        Ok(role.as_deref().map(GroupRole::parse))
    }

    /// The members of `group` by display name (never login names), for a viewer who is one.
    pub async fn group_members(
        &self,
        group: Uuid,
        viewer: Uuid,
    ) -> Result<Vec<Member>, GroupError> {
        if self.membership_role(group, viewer).await?.is_none() {
            return Err(GroupError::NotFound("group"));
        }
        #[derive(sqlx::FromRow)]
        struct Row {
            user_id: String,
            display_name: String,
            role: String,
            joined_at: i64,
        }
        let sql = "SELECT m.user_id, u.display_name, m.role, m.joined_at
                   FROM memberships m JOIN users u ON u.id = m.user_id
                   WHERE m.group_id = $1
                   ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'facilitator' THEN 1 ELSE 2 END,
                            u.display_name, m.user_id";
        let rows: Vec<Row> = self.db.fetch_all(Sql::new(sql).bind(group)).await?;
        Ok(rows
            .into_iter()
            .map(|row| Member {
                user_id: row.user_id.parse().unwrap_or_default(),
                display_name: row.display_name,
                role: GroupRole::parse(&row.role),
                joined_at: row.joined_at,
            })
            .collect())
    }

    /// How many members `group` has, and how many of them moderate it (owner and facilitators).
    pub async fn group_audience(&self, group: Uuid) -> sqlx::Result<(i64, i64)> {
        let sql = "SELECT COUNT(*),
                          COALESCE(SUM(CASE WHEN role = 'member' THEN 0 ELSE 1 END), 0)
                   FROM memberships WHERE group_id = $1";
        self.db.fetch_one(Sql::new(sql).bind(group)).await
    }

    /// Changes the fields given; owner and facilitators only. Only the owner opens an
    /// invite-only group, and not while it holds notes of other members: they wrote them
    /// under invite-only rules. A change of rules or openness is recorded as a notice for the
    /// members (see [`super::notices`]).
    pub async fn update_group(
        &self,
        group: Uuid,
        actor: Uuid,
        fields: GroupFields,
    ) -> Result<(), GroupError> {
        let mut tx = self.db.begin().await?;
        let role = lock_and_role(&mut tx, group, actor).await?;
        if !role.can_moderate() {
            return Err(GroupError::Forbidden(
                "only the group's owner and facilitators can change it",
            ));
        }
        let (open, rules): (bool, String) = tx
            .fetch_one(Sql::new("SELECT open, rules FROM groups WHERE id = $1").bind(group))
            .await?;
        let opening = fields.open == Some(true) && !open;
        if opening && role != GroupRole::Owner {
            return Err(GroupError::Forbidden(
                "only the group's owner can open it to every reader",
            ));
        }
        if opening {
            let others: i64 = tx
                .scalar(
                    Sql::new(
                        "SELECT COUNT(*) FROM annotations
                     WHERE group_id = $1 AND (author_id IS NULL OR author_id <> $2)",
                    )
                    .bind(group)
                    .bind(actor),
                )
                .await?;
            if others > 0 {
                return Err(GroupError::Conflict(
                    "the group cannot be opened: it holds notes its members wrote while it \
                     was invite-only, which anyone joining would read; start a new open \
                     group instead",
                ));
            }
        }
        let mut changes = Vec::new();
        if fields.rules.as_ref().is_some_and(|new| *new != rules) {
            changes.push((NoticeKind::Rules, fields.rules.clone()));
        }
        match fields.open {
            Some(true) if !open => changes.push((NoticeKind::Opened, None)),
            Some(false) if open => changes.push((NoticeKind::Closed, None)),
            _ => {}
        }
        for (kind, rules) in changes {
            record_notice(&mut tx, group, actor, kind, rules).await?;
        }
        tx.execute(
            Sql::new(
                "UPDATE groups SET name = COALESCE($2, name),
                    description = COALESCE($3, description), rules = COALESCE($4, rules),
                    open = COALESCE($5, open)
                 WHERE id = $1",
            )
            .bind(group)
            .bind(&fields.name)
            .bind(&fields.description)
            .bind(&fields.rules)
            .bind(fields.open),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes the group (owner only) after handing every note in it back to its author as
    /// private.
    pub async fn delete_group(&self, group: Uuid, actor: Uuid) -> Result<(), GroupError> {
        let mut tx = self.db.begin().await?;
        if lock_and_role(&mut tx, group, actor).await? != GroupRole::Owner {
            return Err(GroupError::Forbidden(
                "only the group's owner can delete it",
            ));
        }
        tx.execute(Sql::new(NOTES_TO_PRIVATE).bind(group).bind(now_micros()))
            .await?;
        tx.execute(Sql::new(DELETE_GROUP).bind(group)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A new invitation code for `group`; owner and facilitators only.
    pub async fn create_invite(
        &self,
        group: Uuid,
        actor: Uuid,
        expires_at: Option<i64>,
        max_uses: Option<i64>,
    ) -> Result<Invite, GroupError> {
        let invite = Invite {
            code: crate::passwords::random_secret(""),
            group_id: group,
            expires_at,
            max_uses,
            uses: 0,
            revoked: false,
            created_at: now_micros(),
        };
        let mut tx = self.db.begin().await?;
        if !lock_and_role(&mut tx, group, actor).await?.can_moderate() {
            return Err(GroupError::Forbidden(
                "only the group's owner and facilitators can invite",
            ));
        }
        tx.execute(
            Sql::new(
                "INSERT INTO invites (code, group_id, created_by, expires_at, max_uses, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&invite.code)
            .bind(group)
            .bind(actor)
            .bind(invite.expires_at)
            .bind(invite.max_uses)
            .bind(invite.created_at),
        )
        .await?;
        tx.commit().await?;
        Ok(invite)
    }

    /// The group's invitations, newest first, for its owner and facilitators.
    pub async fn group_invites(&self, group: Uuid, actor: Uuid) -> Result<Vec<Invite>, GroupError> {
        match self.membership_role(group, actor).await? {
            None => return Err(GroupError::NotFound("group")),
            Some(role) if !role.can_moderate() => {
                return Err(GroupError::Forbidden(
                    "only the group's owner and facilitators can see its invitations",
                ));
            }
            Some(_) => {}
        }
        let sql = format!(
            "SELECT {INVITE_COLUMNS} FROM invites WHERE group_id = $1
             ORDER BY created_at DESC, code"
        );
        let rows: Vec<InviteRow> = self.db.fetch_all(Sql::new(sql).bind(group)).await?;
        Ok(rows.into_iter().map(Invite::from).collect())
    }

    /// Revokes one of the group's invitations; owner and facilitators only.
    pub async fn revoke_invite(
        &self,
        group: Uuid,
        actor: Uuid,
        code: &str,
    ) -> Result<(), GroupError> {
        match self.membership_role(group, actor).await? {
            None => return Err(GroupError::NotFound("group")),
            Some(role) if !role.can_moderate() => {
                return Err(GroupError::Forbidden(
                    "only the group's owner and facilitators can revoke invitations",
                ));
            }
            Some(_) => {}
        }
        let sql = "UPDATE invites SET revoked = TRUE WHERE code = $1 AND group_id = $2";
        let done = self
            .db
            .execute(Sql::new(sql).bind(code).bind(group))
            .await?;
        if done == 0 {
            return Err(GroupError::NotFound("invitation"));
        }
        Ok(())
    }

    /// The invitation behind `code` while it still admits people, else why not.
    pub async fn usable_invite(&self, code: &str) -> Result<Invite, GroupError> {
        let invite = self
            .invite(code)
            .await?
            .ok_or(GroupError::InviteUnusable(UNKNOWN_INVITE))?;
        match invite.unusable_reason(now_micros()) {
            Some(reason) => Err(GroupError::InviteUnusable(reason)),
            None => Ok(invite),
        }
    }

    async fn invite(&self, code: &str) -> sqlx::Result<Option<Invite>> {
        let sql = format!("SELECT {INVITE_COLUMNS} FROM invites WHERE code = $1");
        let row: Option<InviteRow> = self.db.fetch_optional(Sql::new(sql).bind(code)).await?;
        Ok(row.map(Invite::from))
    }

    /// Joins `user` to the group of invitation `code`. Returns the group and whether they
    /// newly joined; a member following the link again changes nothing and uses nothing.
    pub async fn join_with_invite(
        &self,
        code: &str,
        user: Uuid,
    ) -> Result<(Uuid, bool), GroupError> {
        let now = now_micros();
        if let Some(group) = self.claim_invite(code, user, now).await? {
            return Ok((group.parse().unwrap_or_default(), true));
        }
        let invite = self
            .invite(code)
            .await?
            .ok_or(GroupError::InviteUnusable(UNKNOWN_INVITE))?;
        if self.membership_role(invite.group_id, user).await?.is_some() {
            return Ok((invite.group_id, false));
        }
        Err(GroupError::InviteUnusable(
            invite.unusable_reason(now).unwrap_or(UNKNOWN_INVITE),
        ))
    }

    /// Joins `user` to the group of invitation `code` with one of its uses; None when no use
    /// was left or they were a member already. Claiming a use is one conditional UPDATE, so
    /// two people racing for the last use of an invitation cannot both get it.
    async fn claim_invite(&self, code: &str, user: Uuid, now: i64) -> sqlx::Result<Option<String>> {
        let mut tx = self.db.begin().await?;
        let group: Option<String> = tx
            .scalar_optional(
                Sql::new(
                    "UPDATE invites SET uses = uses + 1
                 WHERE code = $1 AND revoked = FALSE
                   AND (expires_at IS NULL OR expires_at > $2)
                   AND (max_uses IS NULL OR uses < max_uses)
                 RETURNING group_id",
                )
                .bind(code)
                .bind(now),
            )
            .await?;
        let Some(group) = group else {
            return Ok(None);
        };
        tx.execute(Sql::new(LOCK_GROUP).bind(&group)).await?;
        let added = tx
            .execute(Sql::new(ADD_MEMBER).bind(&group).bind(user).bind(now))
            .await?;
        // Already a member: dropping the transaction gives the use back.
        if added == 0 {
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(group))
    }

    /// Joins `user` to an open group; true when they newly joined. A group that is not open
    /// is "not found" to non-members.
    pub async fn join_open_group(&self, group: Uuid, user: Uuid) -> Result<bool, GroupError> {
        let mut tx = self.db.begin().await?;
        let locked = tx.execute(Sql::new(LOCK_GROUP).bind(group)).await?;
        if locked == 0 {
            return Err(GroupError::NotFound("group"));
        }
        if role_in(&mut tx, group, user).await?.is_some() {
            return Ok(false);
        }
        let open: bool = tx
            .scalar(Sql::new("SELECT open FROM groups WHERE id = $1").bind(group))
            .await?;
        if !open {
            return Err(GroupError::NotFound("group"));
        }
        tx.execute(
            Sql::new(ADD_MEMBER)
                .bind(group)
                .bind(user)
                .bind(now_micros()),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// `user` leaves `group`, their notes there becoming what they chose. The owner must hand
    /// the group on first unless they are its last member, whose leaving ends the group.
    pub async fn leave_group(
        &self,
        group: Uuid,
        user: Uuid,
        notes: LeaveNotes,
    ) -> Result<Left, GroupError> {
        let now = now_micros();
        let mut tx = self.db.begin().await?;
        let role = lock_and_role(&mut tx, group, user).await?;
        let members: i64 = tx.scalar(Sql::new(COUNT_MEMBERS).bind(group)).await?;
        if role == GroupRole::Owner && members > 1 {
            return Err(GroupError::Conflict(
                "the owner cannot leave while others remain; transfer ownership first",
            ));
        }
        // Anonymizing leaves time stamps as they were: one shared stamp would tie the
        // notes together.
        let notes_changed = match notes {
            LeaveNotes::Keep => 0,
            LeaveNotes::Anonymize => {
                tx.execute(
                    Sql::new(format!(
                        "UPDATE annotations SET anonymous = TRUE WHERE {LEAVERS_NOTES}"
                    ))
                    .bind(group)
                    .bind(user),
                )
                .await?
            }
            LeaveNotes::Withdraw => {
                tx.execute(
                    Sql::new(format!(
                        "UPDATE annotations SET audience = 'private', group_id = NULL,
                             updated_at = $3 WHERE {LEAVERS_NOTES}"
                    ))
                    .bind(group)
                    .bind(user)
                    .bind(now),
                )
                .await?
            }
        };
        tx.execute(
            Sql::new("DELETE FROM memberships WHERE group_id = $1 AND user_id = $2")
                .bind(group)
                .bind(user),
        )
        .await?;
        let group_deleted = members == 1;
        if group_deleted {
            tx.execute(Sql::new(NOTES_TO_PRIVATE).bind(group).bind(now))
                .await?;
            tx.execute(Sql::new(DELETE_GROUP).bind(group)).await?;
        }
        tx.commit().await?;
        Ok(Left {
            group_deleted,
            notes_changed,
        })
    }

    /// Removes `target` from the group; their notes stay with the group. The owner may remove
    /// anyone else; a facilitator, plain members only.
    pub async fn remove_member(
        &self,
        group: Uuid,
        actor: Uuid,
        target: Uuid,
    ) -> Result<(), GroupError> {
        let mut tx = self.db.begin().await?;
        let role = lock_and_role(&mut tx, group, actor).await?;
        if !role.can_moderate() {
            return Err(GroupError::Forbidden(
                "only the group's owner and facilitators can remove members",
            ));
        }
        if actor == target {
            return Err(GroupError::Conflict(
                "you cannot remove yourself; leave the group instead",
            ));
        }
        let Some(target_role) = role_in(&mut tx, group, target).await? else {
            return Err(GroupError::NotFound("member"));
        };
        if role != GroupRole::Owner && target_role != GroupRole::Member {
            return Err(GroupError::Forbidden(
                "facilitators can remove members only; ask the owner",
            ));
        }
        tx.execute(
            Sql::new("DELETE FROM memberships WHERE group_id = $1 AND user_id = $2")
                .bind(group)
                .bind(target),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes a member a facilitator or a facilitator a member; owner only.
    pub async fn set_member_role(
        &self,
        group: Uuid,
        actor: Uuid,
        target: Uuid,
        new_role: GroupRole,
    ) -> Result<(), GroupError> {
        let mut tx = self.db.begin().await?;
        if lock_and_role(&mut tx, group, actor).await? != GroupRole::Owner {
            return Err(GroupError::Forbidden(
                "only the group's owner can change roles",
            ));
        }
        match role_in(&mut tx, group, target).await? {
            None => return Err(GroupError::NotFound("member")),
            Some(GroupRole::Owner) => {
                return Err(GroupError::Conflict(
                    "the owner's role changes only by transferring ownership",
                ));
            }
            Some(_) => {}
        }
        tx.execute(
            Sql::new("UPDATE memberships SET role = $3 WHERE group_id = $1 AND user_id = $2")
                .bind(group)
                .bind(target)
                .bind(new_role.as_str()),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Hands the group to another member; the old owner stays on as a facilitator.
    pub async fn transfer_group(
        &self,
        group: Uuid,
        actor: Uuid,
        target: Uuid,
    ) -> Result<(), GroupError> {
        let mut tx = self.db.begin().await?;
        if lock_and_role(&mut tx, group, actor).await? != GroupRole::Owner {
            return Err(GroupError::Forbidden(
                "only the group's owner can transfer it",
            ));
        }
        if role_in(&mut tx, group, target).await?.is_none() {
            return Err(GroupError::NotFound("member"));
        }
        if actor == target {
            return Ok(());
        }
        let set_role = "UPDATE memberships SET role = $3 WHERE group_id = $1 AND user_id = $2";
        for (user, role) in [(actor, "facilitator"), (target, "owner")] {
            tx.execute(Sql::new(set_role).bind(group).bind(user).bind(role))
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// A group as the catalogue's managers see it when choosing who may read a book: its name
/// and size, nothing of what its members wrote or agreed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupSummary {
    pub id: String,
    pub name: String,
    pub member_count: i64,
}

impl Store {
    /// Every group by name, after the `(name, id)` cursor. For librarians and admins only.
    pub async fn all_groups(
        &self,
        after: Option<(String, String)>,
        limit: i64,
    ) -> sqlx::Result<Vec<GroupSummary>> {
        let (after_name, after_id) = after.unwrap_or_default();
        let sql = "SELECT g.id, g.name,
                          (SELECT COUNT(*) FROM memberships c WHERE c.group_id = g.id) AS member_count
                   FROM groups g
                   WHERE g.name > $1 OR (g.name = $1 AND g.id > $2)
                   ORDER BY g.name, g.id LIMIT $3";
        self.db
            .fetch_all(Sql::new(sql).bind(&after_name).bind(&after_id).bind(limit))
            .await
    }
}
