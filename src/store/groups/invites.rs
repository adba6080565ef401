//! Invitation links: their codes, how often and until when each admits people, and joining
//! a group with one.

use uuid::Uuid;

use super::error::GroupError;
use super::group::{LOCK_GROUP, lock_and_role};
use super::membership::ADD_MEMBER;
use crate::store::{Sql, Store, now_micros};

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

impl Store {
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
}
