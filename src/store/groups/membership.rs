//! Who is in a group: joining an open group, leaving it, the members list, and the owner's
//! and facilitators' hold over members' roles.

use serde::Deserialize;
use uuid::Uuid;

use super::error::GroupError;
use super::group::{
    DELETE_GROUP, GroupRole, LOCK_GROUP, NOTES_TO_PRIVATE, ROLE_OF, lock_and_role, role_in,
};
use crate::store::{Sql, Store, now_micros};

#[derive(Debug, Clone)]
pub struct Member {
    pub user_id: Uuid,
    pub display_name: String,
    pub role: GroupRole,
    pub joined_at: i64,
}

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

const COUNT_MEMBERS: &str = "SELECT COUNT(*) FROM memberships WHERE group_id = $1";
pub(super) const ADD_MEMBER: &str = "INSERT INTO memberships (group_id, user_id, role, joined_at)
    VALUES ($1, $2, 'member', $3) ON CONFLICT (group_id, user_id) DO NOTHING";

/// The notes of leaver `$2` that group `$1` reads: those shared with it, and their replies
/// anywhere below a note shared with it (a reply widened after its thread was narrowed).
const LEAVERS_NOTES: &str = "author_id = $2 AND (group_id = $1 OR id IN (
    WITH RECURSIVE below(id) AS (
        SELECT g.id FROM annotations g WHERE g.group_id = $1
      UNION
        SELECT c.id FROM annotations c JOIN below ON c.reply_to = below.id)
    SELECT id FROM below))";

impl Store {
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
