//! Group commit for new notes. Readers of a study group write at the same moments, and a
//! transaction per note makes each pay for a whole commit: SQLite appends every page the
//! note touched to its log again and every pooled connection drops its page cache, and
//! concurrent writers wait for SQLite's single write lock by sleeping between tries.
//! One task takes the notes waiting at that moment and commits them together; a request
//! hears back only once its note is committed (BENCHMARKS.md, "Annotations").

use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::types::NewAnnotation;
use crate::store::{Bind, Db, Sql};

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

/// Inserts `rows` in one transaction, with one statement for the notes and one for their
/// tags: the committing task is the one writer every new note waits for, so each round trip
/// it spares is taken off every note of the batch.
async fn insert_rows<'a>(db: &Db, rows: impl Iterator<Item = &'a NoteRow>) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    let mut notes = Sql::new(
        "INSERT INTO annotations (id, book_id, author_id, passage_id, chapter, ordinal, start_pos,
             end_pos, exact, prefix, suffix, cfi, motivation, body, body_html, tags, color,
             audience, group_id, reply_to, written_blind, created_at, updated_at) VALUES ",
    );
    let mut tags = Sql::new("INSERT INTO annotation_tags (annotation_id, tag) VALUES ");
    let (mut note_rows, mut tag_rows) = (Vec::new(), Vec::new());
    for row in rows {
        let note = &row.note;
        let values: [Bind; 23] = [
            row.id.into(),
            note.book_id.into(),
            row.author.into(),
            note.passage_id.as_str().into(),
            note.chapter.into(),
            note.ordinal.into(),
            note.start.into(),
            note.end.into(),
            note.exact.as_str().into(),
            note.prefix.as_str().into(),
            note.suffix.as_str().into(),
            note.cfi.as_str().into(),
            note.motivation.as_str().into(),
            note.body.as_deref().into(),
            row.body_html.as_deref().into(),
            row.tags_json.as_str().into(),
            note.color.as_deref().into(),
            note.audience.kind().into(),
            note.audience.group().into(),
            note.reply_to.into(),
            note.written_blind.into(),
            row.created_at.into(),
            row.created_at.into(),
        ];
        let places: Vec<String> = values
            .into_iter()
            .map(|value| tx.batch_arg(&mut notes, value))
            .collect();
        note_rows.push(format!("({})", places.join(", ")));
        for tag in &note.tags {
            let id = tx.batch_arg(&mut tags, row.id);
            let tag = tx.batch_arg(&mut tags, tag.as_str());
            tag_rows.push(format!("({id}, {tag})"));
        }
    }
    notes.text.push_str(&note_rows.join(", "));
    tx.execute(notes).await?;
    if !tag_rows.is_empty() {
        tags.text.push_str(&tag_rows.join(", "));
        tx.execute(tags).await?;
    }
    tx.commit().await
}
