//! Reading progress: the chapter and passage a reader last stood at in each book.

use uuid::Uuid;

use super::users::User;
use super::visibility::book_readable;
use super::visibility::viewer_binds;
use super::{Sql, Store, now_micros};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Progress {
    pub book_id: String,
    pub chapter: i64,
    pub passage_id: Option<String>,
    pub updated_at: i64,
}

/// A progress entry with what the "continue reading" list shows of its book.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProgressEntry {
    #[sqlx(flatten)]
    pub progress: Progress,
    pub title: String,
    /// JSON array of names.
    pub authors: String,
    pub cover: Option<String>,
}

impl Store {
    /// Records where `user` is in `book`, replacing what was there.
    pub async fn save_progress(
        &self,
        user: Uuid,
        book: Uuid,
        chapter: i64,
        passage: Option<&str>,
    ) -> sqlx::Result<Progress> {
        let progress = Progress {
            book_id: book.to_string(),
            chapter,
            passage_id: passage.map(str::to_owned),
            updated_at: now_micros(),
        };
        let sql = "INSERT INTO reading_progress (user_id, book_id, chapter, passage_id, updated_at)
                   VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT (user_id, book_id) DO UPDATE
                   SET chapter = excluded.chapter, passage_id = excluded.passage_id,
                       updated_at = excluded.updated_at";
        self.db
            .execute(
                Sql::new(sql)
                    .bind(user.to_string())
                    .bind(&progress.book_id)
                    .bind(progress.chapter)
                    .bind(&progress.passage_id)
                    .bind(progress.updated_at),
            )
            .await
            .map(|_| ())?;
        Ok(progress)
    }

    /// Where `user` is in `book`, if they have been there. The caller checks the book is readable.
    pub async fn progress(&self, user: Uuid, book: Uuid) -> sqlx::Result<Option<Progress>> {
        let sql = "SELECT book_id, chapter, passage_id, updated_at FROM reading_progress
                   WHERE user_id = $1 AND book_id = $2";
        self.db
            .fetch_optional(Sql::new(sql).bind(user.to_string()).bind(book.to_string()))
            .await
    }

    /// The books `user` has started and may still read, most recently read first, after the
    /// `(updated_at, book_id)` cursor.
    pub async fn recent_progress(
        &self,
        user: &User,
        after: Option<(i64, String)>,
        limit: i64,
    ) -> sqlx::Result<Vec<ProgressEntry>> {
        let (viewer, role) = viewer_binds(Some(user));
        let (after_time, after_book) = after.unwrap_or((i64::MAX, String::new()));
        let sql = format!(
            "SELECT r.book_id, r.chapter, r.passage_id, r.updated_at, b.title, b.authors, b.cover
             FROM reading_progress r JOIN books b ON b.id = r.book_id
             WHERE r.user_id = $1 AND {readable}
               AND (r.updated_at < $3 OR (r.updated_at = $3 AND r.book_id < $4) OR $4 = '')
             ORDER BY r.updated_at DESC, r.book_id DESC LIMIT $5",
            readable = book_readable("b", "$1", "$2")
        );
        self.db
            .fetch_all(
                Sql::new(sql)
                    .bind(&viewer)
                    .bind(role)
                    .bind(after_time)
                    .bind(&after_book)
                    .bind(limit),
            )
            .await
    }

    /// How many chapters `book` has (indexes run from 0).
    pub async fn chapter_count(&self, book: Uuid) -> sqlx::Result<i64> {
        let sql = "SELECT COUNT(*) FROM chapters WHERE book_id = $1";
        self.db.scalar(Sql::new(sql).bind(book.to_string())).await
    }
}
