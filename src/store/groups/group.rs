//! A group itself: its fields, its members' roles, and creating, listing, changing and
//! ending it; also the lock and role check every change to a group starts with.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::GroupError;
use super::notices::{NoticeKind, record_notice};
use crate::store::{Sql, Store, Tx, now_micros};

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

    pub(super) fn parse(text: &str) -> Self {
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

/// Taking the group's write lock (see [`super`]); no row means no group.
pub(in crate::store) const LOCK_GROUP: &str =
    "UPDATE groups SET created_at = created_at WHERE id = $1";
pub(in crate::store) const ROLE_OF: &str =
    "SELECT role FROM memberships WHERE group_id = $1 AND user_id = $2";
/// Every note shared with the group goes back to its author as private, so ending a group
/// loses nobody's words and widens nothing. `updated_at` moves so that clients syncing by
/// time see the change (so do the leave statements in [`super::membership`]).
pub(in crate::store) const NOTES_TO_PRIVATE: &str =
    "UPDATE annotations SET audience = 'private', group_id = NULL,
    updated_at = $2 WHERE group_id = $1";
pub(in crate::store) const DELETE_GROUP: &str = "DELETE FROM groups WHERE id = $1";

/// The caller's role in a group inside a transaction.
pub(super) async fn role_in(
    tx: &mut Tx,
    group: Uuid,
    user: Uuid,
) -> sqlx::Result<Option<GroupRole>> {
    let role: Option<String> = tx
        .scalar_optional(Sql::new(ROLE_OF).bind(group).bind(user))
        .await?;
    Ok(role.map(|role| GroupRole::parse(&role)))
}

/// Locks the group and returns the caller's role in it; a missing group and a caller who is
/// not a member are alike "group not found", so a group's existence does not leak.
pub(super) async fn lock_and_role(
    tx: &mut Tx,
    group: Uuid,
    user: Uuid,
) -> Result<GroupRole, GroupError> {
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
