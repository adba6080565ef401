//! The catalogue: books with their chapters, passages and resources.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::users::User;
use super::visibility::{book_readable, viewer_binds};
use super::{Sql, Store, Tx, now_micros};
use crate::epub::{Chapter, Part, Passage, Resource, Summary};

/// Who may open a book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    #[default]
    Public,
    SignedIn,
    Groups,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Public => "public",
            Access::SignedIn => "signed_in",
            Access::Groups => "groups",
        }
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct BookRow {
    pub id: String,
    pub title: String,
    /// JSON array of names.
    pub authors: String,
    pub language: Option<String>,
    /// JSON array.
    pub identifiers: String,
    pub publisher: Option<String>,
    pub description: Option<String>,
    pub published: Option<String>,
    pub cover: Option<String>,
    pub content_hash: String,
    pub access: String,
    pub edition_of: Option<String>,
    pub created_at: i64,
    /// JSON of [`crate::epub::Rendition`].
    pub rendition: String,
}

const BOOK_COLUMNS: &str = "b.id, b.title, b.authors, b.language, b.identifiers, b.publisher, \
    b.description, b.published, b.cover, b.content_hash, b.access, b.edition_of, b.created_at, \
    b.rendition";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ChapterInfo {
    pub idx: i64,
    pub idref: String,
    pub href: String,
    pub title: Option<String>,
    pub passages: i64,
    /// `{width}x{height}` of a fixed-layout page.
    pub viewport: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PassageRow {
    pub id: String,
    pub chapter: i64,
    pub ordinal: i64,
    pub cfi: String,
    pub text: String,
    pub fingerprint: String,
}

#[derive(Debug, sqlx::FromRow)]
pub struct ResourceRow {
    pub media_type: String,
    pub sha256: String,
    pub data: Vec<u8>,
}

/// How an import ended in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    Inserted(Uuid),
    /// A book with the same content hash exists already: its id and its own title.
    Duplicate {
        id: Uuid,
        title: String,
    },
}

/// Who imports a book that [`Store::insert_book_streaming`] stores, and who may read it.
pub struct Placement<'a> {
    pub id: Uuid,
    pub access: Access,
    pub groups: &'a [Uuid],
    pub edition_of: Option<Uuid>,
    pub imported_by: Option<Uuid>,
}

/// Rows per multi-row INSERT: well under both databases' limits on bound parameters.
const BATCH: usize = 500;

/// Bytes of parsed parts an import holds before it opens its transaction. A book that fits
/// (nearly every book) is parsed completely first, so a refused or duplicate file never
/// touches the database and the transaction (SQLite's write lock) is short; a bigger book is
/// streamed into the open transaction so that it is never in memory all at once. Streaming
/// holds SQLite's write lock while the rest is parsed, which stalls other imports, so the
/// limit is as high as an import's memory allows (BENCHMARKS.md, "Import").
pub const SPOOL_BYTES: usize = 32 * 1024 * 1024;

const BY_HASH: &str = "SELECT id, title FROM books WHERE content_hash = $1";

fn duplicate(row: Option<(String, String)>) -> Option<Stored> {
    let (id, title) = row?;
    Some(Stored::Duplicate {
        id: id.parse().ok()?,
        title,
    })
}

impl Store {
    /// The book with this content hash, as a duplicate of it.
    pub async fn book_by_hash(&self, content_hash: &str) -> sqlx::Result<Option<Stored>> {
        let row = self
            .db
            .fetch_optional(Sql::new(BY_HASH).bind(content_hash))
            .await?;
        Ok(duplicate(row))
    }

    /// Which of `groups` do not exist, in the order given.
    pub async fn unknown_groups(&self, groups: &[Uuid]) -> sqlx::Result<Vec<Uuid>> {
        let mut unknown = Vec::new();
        for group in groups {
            let found: Option<String> = self
                .db
                .scalar_optional(Sql::new("SELECT id FROM groups WHERE id = $1").bind(*group))
                .await?;
            if found.is_none() {
                unknown.push(*group);
            }
        }
        Ok(unknown)
    }

    /// Stores a book whose chapters and resources arrive through `parts` (in order, from
    /// [`crate::epub::parse_streaming`]) and whose [`Summary`] `finish` yields once `parts` is
    /// closed, in one transaction: all of it, or nothing. `finish` failing (the file was
    /// refused) rolls back and returns its error. Up to [`SPOOL_BYTES`] of parts are held
    /// before the transaction is opened. The book's passages are indexed for search last,
    /// where the database does not index them as they are inserted (SQLite's FTS5).
    pub async fn insert_book_streaming<E>(
        &self,
        placement: Placement<'_>,
        parts: &mut tokio::sync::mpsc::Receiver<Part>,
        finish: impl Future<Output = Result<Summary, E>>,
    ) -> sqlx::Result<Result<(Stored, Summary), E>> {
        let mut spooled = Vec::new();
        let mut size = 0;
        let mut closed = false;
        while !closed && size < SPOOL_BYTES {
            match parts.recv().await {
                Some(part) => {
                    size += part.size();
                    spooled.push(part);
                }
                None => closed = true,
            }
        }
        let mut finish = Some(Box::pin(finish));
        let mut summary = None;
        if closed {
            // The whole book is here: refuse or recognise it before touching the database.
            let done = match finish.take().expect("not awaited yet").await {
                Ok(done) => done,
                Err(err) => return Ok(Err(err)),
            };
            if let Some(existing) = self.book_by_hash(&done.content_hash).await? {
                return Ok(Ok((existing, done)));
            }
            summary = Some(done);
        }
        let id = placement.id.to_string();
        let mut tx = self.db.begin().await?;
        insert_book_row(&mut tx, &placement, &id).await?;
        let mut pending: Vec<Passage> = Vec::new();
        for part in spooled {
            insert_part(&mut tx, &id, part, &mut pending).await?;
        }
        if !closed {
            while let Some(part) = parts.recv().await {
                insert_part(&mut tx, &id, part, &mut pending).await?;
            }
        }
        for batch in pending.chunks(BATCH) {
            insert_passages(&mut tx, &id, batch).await?;
        }
        let summary = match summary {
            Some(summary) => summary,
            None => match finish.take().expect("not awaited yet").await {
                Ok(summary) => summary,
                // Dropping the transaction rolls it back.
                Err(err) => return Ok(Err(err)),
            },
        };
        let row = tx
            .fetch_optional(Sql::new(BY_HASH).bind(&summary.content_hash))
            .await?;
        if let Some(existing) = duplicate(row) {
            return Ok(Ok((existing, summary)));
        }
        match finish_book_row(&mut tx, &id, &summary).await {
            Ok(()) => {}
            // Another import of the same book won the race.
            Err(err) if super::is_unique_violation(&err) => {
                drop(tx);
                return match self.book_by_hash(&summary.content_hash).await? {
                    Some(existing) => Ok(Ok((existing, summary))),
                    None => Err(err),
                };
            }
            Err(err) => return Err(err),
        }
        if let Some(index) = self.dialect.index_book_passages() {
            tx.execute(Sql::new(index).bind(&id)).await?;
        }
        tx.commit().await?;
        Ok(Ok((Stored::Inserted(placement.id), summary)))
    }

    /// Books the viewer may read, newest first, optionally matching `query` in title or author.
    pub async fn list_books(
        &self,
        viewer: Option<&User>,
        query: Option<&str>,
        after: Option<(i64, String)>,
        limit: i64,
    ) -> sqlx::Result<Vec<BookRow>> {
        let (viewer_id, role) = viewer_binds(viewer);
        let pattern = query
            .map(|q| format!("%{}%", super::escape_like(&q.to_lowercase())))
            .unwrap_or_default();
        let (after_time, after_id) = after.unwrap_or((i64::MAX, String::new()));
        let sql = format!(
            "SELECT {BOOK_COLUMNS} FROM books b
             WHERE {readable}
               AND ($3 = '' OR b.search_key LIKE $3 ESCAPE '\\')
               AND (b.created_at < $4 OR (b.created_at = $4 AND b.id < $5) OR $5 = '')
             ORDER BY b.created_at DESC, b.id DESC LIMIT $6",
            readable = book_readable("b", "$1", "$2")
        );
        self.db
            .fetch_all(
                Sql::new(sql)
                    .bind(viewer_id)
                    .bind(role)
                    .bind(pattern)
                    .bind(after_time)
                    .bind(after_id)
                    .bind(limit),
            )
            .await
    }

    /// One book, if it exists and the viewer may read it.
    pub async fn book(&self, id: Uuid, viewer: Option<&User>) -> sqlx::Result<Option<BookRow>> {
        let (viewer_id, role) = viewer_binds(viewer);
        let sql = format!(
            "SELECT {BOOK_COLUMNS} FROM books b WHERE b.id = $3 AND {readable}",
            readable = book_readable("b", "$1", "$2")
        );
        self.db
            .fetch_optional(Sql::new(sql).bind(viewer_id).bind(role).bind(id))
            .await
    }

    pub async fn book_toc(&self, id: Uuid) -> sqlx::Result<serde_json::Value> {
        let sql = "SELECT toc FROM books WHERE id = $1";
        let toc: Option<String> = self.db.scalar_optional(Sql::new(sql).bind(id)).await?;
        Ok(toc
            .and_then(|toc| serde_json::from_str(&toc).ok())
            .unwrap_or_default())
    }

    pub async fn book_groups(&self, id: Uuid) -> sqlx::Result<Vec<String>> {
        let sql = "SELECT group_id FROM book_groups WHERE book_id = $1 ORDER BY group_id";
        self.db.scalars(Sql::new(sql).bind(id)).await
    }

    pub async fn chapters(&self, book: Uuid) -> sqlx::Result<Vec<ChapterInfo>> {
        let sql = "SELECT c.idx, c.idref, c.href, c.title,
                          (SELECT COUNT(*) FROM passages p WHERE p.book_id = c.book_id AND p.chapter = c.idx) AS passages,
                          c.viewport
                   FROM chapters c WHERE c.book_id = $1 ORDER BY c.idx";
        self.db.fetch_all(Sql::new(sql).bind(book)).await
    }

    pub async fn chapter_html(&self, book: Uuid, index: i64) -> sqlx::Result<Option<String>> {
        let sql = "SELECT html FROM chapters WHERE book_id = $1 AND idx = $2";
        self.db
            .scalar_optional(Sql::new(sql).bind(book).bind(index))
            .await
    }

    /// Passages in reading order, optionally of one chapter, after the `(chapter, ordinal)` cursor.
    pub async fn passages(
        &self,
        book: Uuid,
        chapter: Option<i64>,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> sqlx::Result<Vec<PassageRow>> {
        let (after_chapter, after_ordinal) = after.unwrap_or((-1, -1));
        let sql = "SELECT id, chapter, ordinal, cfi, text, fingerprint FROM passages
                   WHERE book_id = $1 AND ($2 < 0 OR chapter = $2)
                     AND (chapter > $3 OR (chapter = $3 AND ordinal > $4))
                   ORDER BY chapter, ordinal LIMIT $5";
        self.db
            .fetch_all(
                Sql::new(sql)
                    .bind(book)
                    .bind(chapter.unwrap_or(-1))
                    .bind(after_chapter)
                    .bind(after_ordinal)
                    .bind(limit),
            )
            .await
    }

    pub async fn passage(&self, book: Uuid, id: &str) -> sqlx::Result<Option<PassageRow>> {
        let sql = "SELECT id, chapter, ordinal, cfi, text, fingerprint FROM passages
                   WHERE book_id = $1 AND id = $2";
        self.db
            .fetch_optional(Sql::new(sql).bind(book).bind(id))
            .await
    }

    pub async fn resource(&self, book: Uuid, path: &str) -> sqlx::Result<Option<ResourceRow>> {
        let sql = "SELECT media_type, sha256, data FROM resources WHERE book_id = $1 AND path = $2";
        self.db
            .fetch_optional(Sql::new(sql).bind(book).bind(path))
            .await
    }

    /// Deletes a book with everything stored for it; false when there was none.
    pub async fn delete_book(&self, id: Uuid) -> sqlx::Result<bool> {
        let sql = "DELETE FROM books WHERE id = $1";
        let done = self.db.execute(Sql::new(sql).bind(id)).await?;
        Ok(done > 0)
    }

    /// Sets who may read a book (and, for `groups`, which groups).
    pub async fn set_book_access(
        &self,
        id: Uuid,
        access: Access,
        groups: &[Uuid],
    ) -> sqlx::Result<bool> {
        let mut tx = self.db.begin().await?;
        let done = tx
            .execute(
                Sql::new("UPDATE books SET access = $1 WHERE id = $2")
                    .bind(access.as_str())
                    .bind(id),
            )
            .await?;
        tx.execute(Sql::new("DELETE FROM book_groups WHERE book_id = $1").bind(id))
            .await?;
        for group in groups {
            tx.execute(
                Sql::new("INSERT INTO book_groups (book_id, group_id) VALUES ($1, $2)")
                    .bind(id)
                    .bind(*group),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(done > 0)
    }
}

/// Inserts the row of a new book, with placeholders for what is only known once the whole
/// book is parsed (set by [`finish_book_row`]); the content hash placeholder is unique.
async fn insert_book_row(tx: &mut Tx, placement: &Placement<'_>, id: &str) -> sqlx::Result<()> {
    tx.execute(
        Sql::new(
            "INSERT INTO books (id, title, authors, language, identifiers, publisher, description,
                 published, cover, toc, content_hash, access, edition_of, search_key, imported_by, created_at,
                 content_version)
             VALUES ($1, '', '[]', NULL, '[]', NULL, NULL, NULL, NULL, '[]', $2, $3, $4, '', $5, $6, $7)",
        )
        .bind(id)
        .bind(format!("pending:{id}"))
        .bind(placement.access.as_str())
        .bind(placement.edition_of)
        .bind(placement.imported_by)
        .bind(now_micros())
        .bind(super::refresh::CONTENT_VERSION),
    )
    .await?;
    for group in placement.groups {
        tx.execute(
            Sql::new("INSERT INTO book_groups (book_id, group_id) VALUES ($1, $2)")
                .bind(id)
                .bind(*group),
        )
        .await?;
    }
    Ok(())
}

/// Sets what [`insert_book_row`] left as placeholders.
async fn finish_book_row(tx: &mut Tx, id: &str, summary: &Summary) -> sqlx::Result<()> {
    let meta = &summary.metadata;
    let search_key = format!("{} {}", meta.title, meta.authors.join(" ")).to_lowercase();
    tx.execute(
        Sql::new(
            "UPDATE books SET title = $2, authors = $3, language = $4, identifiers = $5,
                 publisher = $6, description = $7, published = $8, cover = $9, toc = $10,
                 content_hash = $11, search_key = $12, rendition = $13
             WHERE id = $1",
        )
        .bind(id)
        .bind(&meta.title)
        .bind(serde_json::to_string(&meta.authors).unwrap_or_default())
        .bind(&meta.language)
        .bind(serde_json::to_string(&meta.identifiers).unwrap_or_default())
        .bind(&meta.publisher)
        .bind(&meta.description)
        .bind(&meta.date)
        .bind(&summary.cover)
        .bind(serde_json::to_string(&summary.toc).unwrap_or_default())
        .bind(&summary.content_hash)
        .bind(search_key)
        .bind(serde_json::to_string(&meta.rendition).unwrap_or_default()),
    )
    .await
    .map(|_| ())
}

/// Inserts a chapter's row (its passages join `pending`, inserted `BATCH` at a time) or a
/// resource's row.
async fn insert_part(
    tx: &mut Tx,
    id: &str,
    part: Part,
    pending: &mut Vec<Passage>,
) -> sqlx::Result<()> {
    match part {
        Part::Chapter(mut chapter) => {
            let passages = std::mem::take(&mut chapter.passages);
            insert_chapter(tx, id, chapter).await?;
            pending.extend(passages);
            let full = pending.len() / BATCH * BATCH;
            for batch in pending[..full].chunks(BATCH) {
                insert_passages(tx, id, batch).await?;
            }
            pending.drain(..full);
        }
        Part::Resource(resource) => insert_resource(tx, id, resource).await?,
    }
    Ok(())
}

async fn insert_chapter(tx: &mut Tx, id: &str, chapter: Chapter) -> sqlx::Result<()> {
    tx.execute(
        Sql::new(
            "INSERT INTO chapters (book_id, idx, idref, href, title, html, viewport)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(chapter.index as i64)
        .bind(chapter.idref)
        .bind(chapter.href)
        .bind(chapter.title)
        .bind(chapter.html)
        .bind(chapter.viewport.map(|(w, h)| format!("{w}x{h}"))),
    )
    .await?;
    Ok(())
}

async fn insert_passages(tx: &mut Tx, id: &str, batch: &[Passage]) -> sqlx::Result<()> {
    let mut insert = Sql::new(
        "INSERT INTO passages (book_id, id, chapter, ordinal, cfi, text, fingerprint) VALUES ",
    );
    for (i, p) in batch.iter().enumerate() {
        let row = [
            tx.batch_arg(&mut insert, id),
            tx.batch_arg(&mut insert, &p.id),
            tx.batch_arg(&mut insert, p.chapter as i64),
            tx.batch_arg(&mut insert, p.ordinal as i64),
            tx.batch_arg(&mut insert, &p.cfi),
            tx.batch_arg(&mut insert, &p.text),
            tx.batch_arg(&mut insert, &p.fingerprint),
        ];
        if i > 0 {
            insert.text.push_str(", ");
        }
        insert.text.push_str(&format!("({})", row.join(", ")));
    }
    tx.execute(insert).await?;
    Ok(())
}

async fn insert_resource(tx: &mut Tx, id: &str, resource: Resource) -> sqlx::Result<()> {
    let sha256 = hex::encode(Sha256::digest(&resource.data));
    tx.execute(
        Sql::new(
            "INSERT INTO resources (book_id, path, media_type, sha256, data) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(resource.path)
        .bind(resource.media_type)
        .bind(sha256)
        .bind(resource.data),
    )
    .await?;
    Ok(())
}
