//! Writing notes: a new note (through the group commit), an author's edit or deletion, and
//! the passages a reader has revealed.

use uuid::Uuid;

use super::group_commit::NoteRow;
use super::types::{AnnotationEdit, NewAnnotation};
use crate::store::{Sql, Store, now_micros};

impl Store {
    /// Stores a new note by `author` and returns its id, once it is committed.
    pub async fn insert_annotation(&self, author: Uuid, new: NewAnnotation) -> sqlx::Result<Uuid> {
        let id = Uuid::now_v7();
        let row = NoteRow {
            id,
            author,
            body_html: new.body.as_deref().map(crate::markdown::render),
            tags_json: serde_json::to_string(&new.tags).unwrap_or_else(|_| "[]".into()),
            created_at: now_micros(),
            note: new,
        };
        self.notes.insert(row).await?;
        Ok(id)
    }

    /// Applies an author's edit; `created_at` never changes, `updated_at` does.
    pub async fn update_annotation(&self, id: Uuid, edit: &AnnotationEdit) -> sqlx::Result<()> {
        let mut sql = Sql::default();
        let mut sets = vec![format!("updated_at = {}", sql.arg(now_micros()))];
        if let Some(body) = &edit.body {
            let html = body.as_deref().map(crate::markdown::render);
            match (body, html) {
                (Some(body), Some(html)) => {
                    sets.push(format!("body = {}", sql.arg(body.as_str())));
                    sets.push(format!("body_html = {}", sql.arg(html)));
                }
                _ => sets.push("body = NULL, body_html = NULL".to_owned()),
            }
        }
        if let Some(tags) = &edit.tags {
            let json = serde_json::to_string(tags).unwrap_or_else(|_| "[]".into());
            sets.push(format!("tags = {}", sql.arg(json)));
        }
        if let Some(color) = &edit.color {
            match color {
                Some(color) => sets.push(format!("color = {}", sql.arg(color.as_str()))),
                None => sets.push("color = NULL".to_owned()),
            }
        }
        if let Some(audience) = &edit.audience {
            sets.push(format!("audience = {}", sql.arg(audience.kind())));
            match audience.group() {
                Some(group) => sets.push(format!("group_id = {}", sql.arg(group.to_string()))),
                None => sets.push("group_id = NULL".to_owned()),
            }
        }
        if let Some(motivation) = &edit.motivation {
            sets.push(format!("motivation = {}", sql.arg(motivation.as_str())));
        }
        sql.text = format!(
            "UPDATE annotations SET {} WHERE id = {}",
            sets.join(", "),
            sql.arg(id.to_string())
        );
        let tags = edit.tags.clone();
        let mut tx = self.db.begin().await?;
        tx.execute(sql).await?;
        if let Some(tags) = &tags {
            tx.execute(
                Sql::new("DELETE FROM annotation_tags WHERE annotation_id = $1")
                    .bind(id.to_string()),
            )
            .await?;
            for tag in tags {
                tx.execute(
                    Sql::new("INSERT INTO annotation_tags (annotation_id, tag) VALUES ($1, $2)")
                        .bind(id.to_string())
                        .bind(tag),
                )
                .await?;
            }
        }
        tx.commit().await
    }

    /// Deletes a note; one with replies becomes a tombstone that keeps no words of its author
    /// and names nobody, so the thread stays together.
    pub async fn delete_annotation(&self, id: Uuid) -> sqlx::Result<()> {
        let id = id.to_string();
        let mut tx = self.db.begin().await?;
        let replies: i64 = tx
            .scalar(Sql::new("SELECT COUNT(*) FROM annotations WHERE reply_to = $1").bind(&id))
            .await?;
        if replies > 0 {
            tx.execute(
                Sql::new(
                    "UPDATE annotations SET deleted = TRUE, body = NULL, body_html = NULL,
                         tags = '[]', color = NULL, author_id = NULL, anonymous = TRUE,
                         updated_at = $2 WHERE id = $1",
                )
                .bind(&id)
                .bind(now_micros()),
            )
            .await?;
            tx.execute(Sql::new("DELETE FROM annotation_tags WHERE annotation_id = $1").bind(&id))
                .await?;
        } else {
            tx.execute(Sql::new("DELETE FROM annotations WHERE id = $1").bind(&id))
                .await?;
        }
        tx.commit().await
    }

    /// Whether `user` has a note of their own on a passage, or has revealed it.
    pub async fn has_seen_passage(
        &self,
        user: Uuid,
        book: Uuid,
        passage: &str,
    ) -> sqlx::Result<bool> {
        let sql = "SELECT
                (SELECT COUNT(*) FROM annotations WHERE author_id = $1 AND book_id = $2
                     AND passage_id = $3 AND deleted = FALSE)
              + (SELECT COUNT(*) FROM reveals WHERE user_id = $1 AND book_id = $2 AND passage_id = $3)";
        let n: i64 = self
            .db
            .scalar(
                Sql::new(sql)
                    .bind(user.to_string())
                    .bind(book.to_string())
                    .bind(passage),
            )
            .await?;
        Ok(n > 0)
    }

    /// Records that the reader chose to see others' notes on a passage.
    pub async fn reveal_passage(&self, user: Uuid, book: Uuid, passage: &str) -> sqlx::Result<()> {
        let sql = "INSERT INTO reveals (user_id, book_id, passage_id) VALUES ($1, $2, $3)
                   ON CONFLICT DO NOTHING";
        self.db
            .execute(
                Sql::new(sql)
                    .bind(user.to_string())
                    .bind(book.to_string())
                    .bind(passage),
            )
            .await
            .map(|_| ())
    }
}
