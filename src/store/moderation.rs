//! Moderation: readers report notes; a group's owner and facilitators (admins, for public
//! notes) see those reports and hide notes. Who moderates what is
//! [`super::visibility::moderated_by`]; moderators only ever see what the visibility rule
//! already lets them read.

use uuid::Uuid;

use super::users::User;
use super::visibility::viewer_binds;
use super::visibility::{moderated_by, thread_visible};
use super::{Sql, Store, now_micros};

/// An open report on a note the viewer moderates.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportRow {
    pub id: String,
    pub annotation_id: String,
    pub reason: String,
    /// None once the reporter's account is gone.
    pub reporter_name: Option<String>,
    pub created_at: i64,
}

impl Store {
    /// Files a report; the caller has checked that the reporter may see the note.
    pub async fn insert_report(
        &self,
        annotation: Uuid,
        reporter: Uuid,
        reason: &str,
    ) -> sqlx::Result<(Uuid, i64)> {
        let id = Uuid::now_v7();
        let now = now_micros();
        let sql = "INSERT INTO reports (id, annotation_id, reporter_id, reason, created_at)
                   VALUES ($1, $2, $3, $4, $5)";
        self.db
            .execute(
                Sql::new(sql)
                    .bind(id)
                    .bind(annotation)
                    .bind(reporter)
                    .bind(reason)
                    .bind(now),
            )
            .await?;
        Ok((id, now))
    }

    /// Whether `reporter` already has an open report on the note (one is enough).
    pub async fn has_open_report(&self, annotation: Uuid, reporter: Uuid) -> sqlx::Result<bool> {
        let sql = "SELECT COUNT(*) FROM reports
                   WHERE annotation_id = $1 AND reporter_id = $2 AND resolved = FALSE";
        let n: i64 = self
            .db
            .scalar(Sql::new(sql).bind(annotation).bind(reporter))
            .await?;
        Ok(n > 0)
    }

    /// Open reports on notes `viewer` both may read and moderates, oldest first (a queue),
    /// after the `(created_at, id)` cursor.
    pub async fn open_reports(
        &self,
        viewer: &User,
        after: Option<(i64, String)>,
        limit: i64,
    ) -> sqlx::Result<Vec<ReportRow>> {
        let visible = thread_visible("a", "a.book_id", "$1", "$2");
        let moderates = moderated_by("a", "$1", "$2");
        let sql = format!(
            "SELECT r.id, r.annotation_id, r.reason, u.display_name AS reporter_name, r.created_at \
             FROM reports r \
             JOIN annotations a ON a.id = r.annotation_id \
             LEFT JOIN users u ON u.id = r.reporter_id \
             WHERE r.resolved = FALSE AND {visible} AND {moderates} AND (r.created_at, r.id) > ($3, $4) \
             ORDER BY r.created_at, r.id LIMIT $5"
        );
        let (viewer_id, role) = viewer_binds(Some(viewer));
        let (after_time, after_id) = after.unwrap_or((i64::MIN, String::new()));
        self.db
            .fetch_all(
                Sql::new(sql)
                    .bind(&viewer_id)
                    .bind(role)
                    .bind(after_time)
                    .bind(&after_id)
                    .bind(limit),
            )
            .await
    }

    /// Hides or shows a note if `moderator` moderates it, resolving its open reports when
    /// hiding. False when they do not moderate it. The permission is part of the UPDATE, so
    /// a moderator demoted a moment ago, or a note made private meanwhile, changes nothing.
    pub async fn set_hidden(
        &self,
        annotation: Uuid,
        moderator: &User,
        hidden: bool,
    ) -> sqlx::Result<bool> {
        let (viewer_id, role) = viewer_binds(Some(moderator));
        let sql = format!(
            "UPDATE annotations SET hidden = $2, updated_at = $3 WHERE id = $1 AND {}",
            moderated_by("annotations", "$4", "$5")
        );
        let mut tx = self.db.begin().await?;
        let changed = tx
            .execute(
                Sql::new(sql)
                    .bind(annotation)
                    .bind(hidden)
                    .bind(now_micros())
                    .bind(&viewer_id)
                    .bind(role),
            )
            .await?;
        if changed == 0 {
            return Ok(false);
        }
        if hidden {
            tx.execute(
                Sql::new(
                    "UPDATE reports SET resolved = TRUE WHERE annotation_id = $1 AND resolved = FALSE",
                )
                .bind(annotation),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
