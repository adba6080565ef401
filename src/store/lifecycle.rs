//! The lifecycle of an account: exporting one's marginalia, and deleting the account so
//! that nothing of it stays attributed to its owner.

use serde::Deserialize;
use uuid::Uuid;

use super::groups::{DELETE_GROUP, LOCK_GROUP, NOTES_TO_PRIVATE, ROLE_OF};
use super::users::User;
use super::{Sql, Store, now_micros};

/// What becomes of the group and public notes of an account being deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SharedNotes {
    Delete,
    /// They stay where they were shared, with no author.
    Anonymize,
}

impl Store {
    /// `(id, title)` of the books `user` wrote notes on, by title: also those they may no
    /// longer read, since an author keeps their own words.
    pub async fn books_with_notes_by(&self, user: &User) -> sqlx::Result<Vec<(String, String)>> {
        let sql = "SELECT b.id, b.title FROM books b \
             WHERE EXISTS (SELECT 1 FROM annotations a WHERE a.book_id = b.id AND a.author_id = $1) \
             ORDER BY b.title, b.id";
        self.db
            .fetch_all(Sql::new(sql).bind(user.id.to_string()))
            .await
    }

    /// Deletes `user` in one transaction: API tokens, memberships (each owned group handed to
    /// its longest-standing facilitator, else member, or ended when they were alone in it),
    /// private notes, shared notes as `shared` says, their reports, and the account row,
    /// whose foreign keys take preferences, mutes and reveals with it. A note with
    /// others' replies under it stays as a tombstone without author.
    pub async fn delete_account(&self, user: Uuid, shared: SharedNotes) -> sqlx::Result<()> {
        let user = user.to_string();
        let now = now_micros();
        let mut tx = self.db.begin().await?;
        // A write first: SQLite then holds the write lock for the whole transaction
        // instead of failing to upgrade a read later.
        tx.execute(Sql::new("DELETE FROM api_tokens WHERE user_id = $1").bind(&user))
            .await?;

        let groups: Vec<String> = tx
            .scalars(
                Sql::new("SELECT group_id FROM memberships WHERE user_id = $1 ORDER BY group_id")
                    .bind(&user),
            )
            .await?;
        for group in &groups {
            // The group's lock, as every membership change takes (see store::groups);
            // the role is read again under it.
            tx.execute(Sql::new(LOCK_GROUP).bind(group)).await?;
            let role: Option<String> = tx
                .scalar_optional(Sql::new(ROLE_OF).bind(group).bind(&user))
                .await?;
            if role.as_deref() != Some("owner") {
                continue;
            }
            let successor: Option<String> = tx
                .scalar_optional(
                    Sql::new(
                        "SELECT user_id FROM memberships WHERE group_id = $1 AND user_id <> $2
                     ORDER BY CASE role WHEN 'facilitator' THEN 0 ELSE 1 END, joined_at, user_id
                     LIMIT 1",
                    )
                    .bind(group)
                    .bind(&user),
                )
                .await?;
            match successor {
                Some(successor) => {
                    tx.execute(Sql::new("UPDATE memberships SET role = 'owner' WHERE group_id = $1 AND user_id = $2",)
.bind(group)
.bind(&successor)).await?;
                }
                // Alone in it: the group ends as delete_group ends one, and the user's
                // own notes there, now private, go with the rest below.
                None => {
                    tx.execute(Sql::new(NOTES_TO_PRIVATE).bind(group).bind(now))
                        .await?;
                    tx.execute(Sql::new(DELETE_GROUP).bind(group)).await?;
                }
            }
        }
        tx.execute(Sql::new("DELETE FROM memberships WHERE user_id = $1").bind(&user))
            .await?;

        // Time stamps stay as they were: one shared stamp would tie the anonymized notes
        // together, and one note known to be theirs would name the rest.
        if shared == SharedNotes::Anonymize {
            tx.execute(
                Sql::new(
                    "UPDATE annotations SET author_id = NULL, anonymous = TRUE
                     WHERE author_id = $1 AND audience <> 'private' AND deleted = FALSE",
                )
                .bind(&user),
            )
            .await?;
        }
        // Every other note of theirs goes. Notes without replies are removed, leaves
        // first, so a chain of their own replies goes entirely; what still has replies
        // (from others) becomes an authorless tombstone.
        loop {
            let removed = tx.execute(Sql::new("DELETE FROM annotations WHERE author_id = $1
                     AND NOT EXISTS (SELECT 1 FROM annotations c WHERE c.reply_to = annotations.id)",)
.bind(&user)).await?;
            if removed == 0 {
                break;
            }
        }
        tx.execute(
            Sql::new(
                "DELETE FROM annotation_tags WHERE annotation_id IN
                     (SELECT id FROM annotations WHERE author_id = $1)",
            )
            .bind(&user),
        )
        .await?;
        tx.execute(
            Sql::new(
                "UPDATE annotations SET deleted = TRUE, body = NULL, body_html = NULL, tags = '[]',
                     color = NULL, author_id = NULL, anonymous = TRUE
                 WHERE author_id = $1",
            )
            .bind(&user),
        )
        .await?;
        // What they reported goes with them: a reason is their words.
        tx.execute(Sql::new("DELETE FROM reports WHERE reporter_id = $1").bind(&user))
            .await?;

        tx.execute(Sql::new("DELETE FROM users WHERE id = $1").bind(&user))
            .await?;
        tx.commit().await
    }
}
