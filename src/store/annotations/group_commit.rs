//! Group commit for new notes. Readers of a study group write at the same moments, and a
//! transaction per note makes each pay for a whole commit: SQLite appends every page the
//! note touched to its log again and every pooled connection drops its page cache, and
//! concurrent writers wait for SQLite's single write lock by sleeping between tries.
//! One task takes the notes waiting at that moment and commits them together; a request
//! hears back only once its note is committed (BENCHMARKS.md, "Annotations").

use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::types::NewAnnotation;
use crate::store::{Db, Sql};

/// The most notes committed in one transaction.
const MAX_BATCH: usize = 128;

/// A new note with the values the database stores besides the author's, all computed
/// before it is queued.
#[derive(Debug)]
pub(super) struct NoteRow {
    pub id: Uuid,
    pub author: Uuid,
    pub note: NewAnnotation,
    pub body_html: Option<String>,
    pub tags_json: String,
    pub created_at: i64,
}

struct Pending {
    row: NoteRow,
    committed: oneshot::Sender<sqlx::Result<()>>,
}

/// The queue in front of the committing task.
#[derive(Clone, Debug)]
pub(in crate::store) struct NoteWriter {
    queue: mpsc::Sender<Pending>,
}

impl NoteWriter {
    /// Starts the committing task; it ends when the last handle is dropped.
    pub fn start(db: Db) -> Self {
        let (queue, pending) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(commit_batches(db, pending));
        Self { queue }
    }

    /// Stores `row`, answering once it is committed.
    pub(super) async fn insert(&self, row: NoteRow) -> sqlx::Result<()> {
        let (committed, done) = oneshot::channel();
        let stopped = || sqlx::Error::PoolClosed;
        self.queue
            .send(Pending { row, committed })
            .await
            .map_err(|_| stopped())?;
        done.await.map_err(|_| stopped())?
    }
}

async fn commit_batches(db: Db, mut pending: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while pending.recv_many(&mut batch, MAX_BATCH).await > 0 {
        if batch.len() > 1 && insert_rows(&db, batch.iter().map(|p| &p.row)).await.is_ok() {
            for note in batch.drain(..) {
                let _ = note.committed.send(Ok(()));
            }
            continue;
        }
        // A note that cannot be stored (its book or the note it answers was deleted
        // meanwhile, say) fails the whole transaction: each is tried alone, so only it fails.
        for note in batch.drain(..) {
            let result = insert_rows(&db, std::iter::once(&note.row)).await;
            let _ = note.committed.send(result);
        }
    }
}

/// Inserts `rows` in one transaction.
async fn insert_rows<'a>(db: &Db, rows: impl Iterator<Item = &'a NoteRow>) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    for row in rows {
        let note = &row.note;
        tx.execute(
            Sql::new(
                "INSERT INTO annotations (id, book_id, author_id, passage_id, chapter, ordinal,
                         start_pos, end_pos, exact, prefix, suffix, cfi, motivation, body, body_html,
                         tags, color, audience, group_id, reply_to, written_blind, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                             $17, $18, $19, $20, $21, $22, $22)",
            )
            .bind(row.id)
            .bind(note.book_id)
            .bind(row.author)
            .bind(&note.passage_id)
            .bind(note.chapter)
            .bind(note.ordinal)
            .bind(note.start)
            .bind(note.end)
            .bind(&note.exact)
            .bind(&note.prefix)
            .bind(&note.suffix)
            .bind(&note.cfi)
            .bind(&note.motivation)
            .bind(&note.body)
            .bind(&row.body_html)
            .bind(&row.tags_json)
            .bind(&note.color)
            .bind(note.audience.kind())
            .bind(note.audience.group())
            .bind(note.reply_to)
            .bind(note.written_blind)
            .bind(row.created_at),
        )
        .await?;
        for tag in &note.tags {
            tx.execute(
                Sql::new("INSERT INTO annotation_tags (annotation_id, tag) VALUES ($1, $2)")
                    .bind(row.id)
                    .bind(tag),
            )
            .await?;
        }
    }
    tx.commit().await
}
