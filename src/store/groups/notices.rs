//! Notices: a group's members are told when its rules or its openness change, each member
//! until they dismiss it, so nobody keeps writing under rules they did not accept.

use serde::Serialize;
use uuid::Uuid;

use super::error::GroupError;
use crate::store::{Sql, Store, Tx, now_micros};

/// What changed in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NoticeKind {
    Rules,
    Opened,
    Closed,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Rules => "rules",
            NoticeKind::Opened => "opened",
            NoticeKind::Closed => "closed",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "opened" => NoticeKind::Opened,
            "closed" => NoticeKind::Closed,
            _ => NoticeKind::Rules,
        }
    }

    /// What a member is told.
    pub fn message(self) -> &'static str {
        match self {
            NoticeKind::Rules => {
                "The group's ground rules changed: read them again before you share more."
            }
            NoticeKind::Opened => {
                "The group is now open: any signed-in reader can join it and read what is \
                 shared in it."
            }
            NoticeKind::Closed => "The group is invite-only again: only invited readers can join.",
        }
    }
}

/// A change a member has not dismissed yet.
#[derive(Debug, Clone)]
pub struct Notice {
    pub id: String,
    pub kind: NoticeKind,
    /// The new rules, for [`NoticeKind::Rules`].
    pub rules: Option<String>,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct NoticeRow {
    id: String,
    kind: String,
    rules: Option<String>,
    created_at: i64,
}

/// Records a change of `group` inside `tx`, already dismissed for the member who made it.
pub(super) async fn record_notice(
    tx: &mut Tx,
    group: Uuid,
    actor: Uuid,
    kind: NoticeKind,
    rules: Option<String>,
) -> sqlx::Result<()> {
    let notice = Uuid::now_v7().to_string();
    tx.execute(
        Sql::new(
            "INSERT INTO group_notices (id, group_id, kind, rules, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&notice)
        .bind(group)
        .bind(kind.as_str())
        .bind(rules)
        .bind(now_micros()),
    )
    .await?;
    tx.execute(
        Sql::new("INSERT INTO notice_dismissals (notice_id, user_id) VALUES ($1, $2)")
            .bind(&notice)
            .bind(actor),
    )
    .await?;
    Ok(())
}

impl Store {
    /// The changes to `group` since `member` joined it that they have not dismissed, oldest
    /// first.
    pub async fn group_notices(&self, group: Uuid, member: Uuid) -> sqlx::Result<Vec<Notice>> {
        let sql = "SELECT n.id, n.kind, n.rules, n.created_at FROM group_notices n
                   JOIN memberships m ON m.group_id = n.group_id AND m.user_id = $2
                   WHERE n.group_id = $1 AND n.created_at >= m.joined_at
                     AND NOT EXISTS (SELECT 1 FROM notice_dismissals d
                                     WHERE d.notice_id = n.id AND d.user_id = $2)
                   ORDER BY n.created_at, n.id";
        let rows: Vec<NoticeRow> = self
            .db
            .fetch_all(Sql::new(sql).bind(group).bind(member))
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| Notice {
                id: row.id,
                kind: NoticeKind::parse(&row.kind),
                rules: row.rules,
                created_at: row.created_at,
            })
            .collect())
    }

    /// `member` has read notice `notice` of `group`; dismissing it again changes nothing.
    pub async fn dismiss_notice(
        &self,
        group: Uuid,
        member: Uuid,
        notice: &str,
    ) -> Result<(), GroupError> {
        let sql = "INSERT INTO notice_dismissals (notice_id, user_id)
                   SELECT n.id, m.user_id FROM group_notices n
                   JOIN memberships m ON m.group_id = n.group_id AND m.user_id = $3
                   WHERE n.id = $1 AND n.group_id = $2
                   ON CONFLICT DO NOTHING";
        let exists = "SELECT COUNT(*) FROM group_notices n
                      JOIN memberships m ON m.group_id = n.group_id AND m.user_id = $3
                      WHERE n.id = $1 AND n.group_id = $2";
        self.db
            .execute(Sql::new(sql).bind(notice).bind(group).bind(member))
            .await?;
        let found: i64 = self
            .db
            .scalar(Sql::new(exists).bind(notice).bind(group).bind(member))
            .await?;
        if found == 0 {
            return Err(GroupError::NotFound("notice"));
        }
        Ok(())
    }
}
