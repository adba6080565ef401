//! Importing EPUBs: parse under limits (off the async threads) while storing in one transaction.
//! Shared by `POST /api/books` and `scholia import`.

use serde::Serialize;
use uuid::Uuid;

use crate::epub::{self, EpubError, Limits, Source};
use crate::store::Store;
use crate::store::books::{Access, Placement, Stored};

/// Who imports, and who may read the result.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub access: Access,
    pub groups: Vec<Uuid>,
    pub edition_of: Option<Uuid>,
    pub imported_by: Option<Uuid>,
}

/// How one file's import ended.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Imported {
        id: Uuid,
        title: String,
        chapters: usize,
        passages: usize,
        warnings: Vec<String>,
    },
    Duplicate {
        id: Uuid,
        title: String,
    },
    /// The file broke a rule or a limit; `reason` is one line naming the problem.
    Refused {
        reason: String,
    },
}

/// Imports one EPUB, read from `source` (a file is read in place, not loaded whole). Database
/// failures are errors; a bad file is an [`Outcome::Refused`].
pub async fn import_epub(
    store: &Store,
    source: impl Source + Send + 'static,
    limits: &Limits,
    options: &ImportOptions,
) -> anyhow::Result<Outcome> {
    let unknown = store.unknown_groups(&options.groups).await?;
    if !unknown.is_empty() {
        return Ok(Outcome::Refused {
            reason: unknown_groups_reason(&unknown),
        });
    }
    let id = Uuid::now_v7();
    let base = format!("/api/books/{id}");
    let limits = limits.clone();
    // The parser hands each finished chapter and resource over as soon as it is ready; a big
    // book is written into the open transaction as it is parsed, never held whole.
    let (sender, mut parts) = tokio::sync::mpsc::channel(4);
    let parser = tokio::task::spawn_blocking(move || {
        epub::parse_streaming(&source, &limits, &base, |part| {
            sender.blocking_send(part).map_err(|_| EpubError::Stopped)
        })
    });
    let finish = async {
        match parser.await {
            // Refused before the duplicate check: every book without text has the same hash.
            Ok(Ok(summary)) if summary.passages == 0 => Err(Failed::Refused(
                "it has no readable text: no chapter holds a passage".to_owned(),
            )),
            Ok(Ok(summary)) => Ok(summary),
            Ok(Err(refused)) => Err(Failed::Refused(refused.to_string())),
            Err(panicked) => Err(Failed::Panicked(panicked)),
        }
    };
    let placement = Placement {
        id,
        access: options.access,
        groups: &options.groups,
        edition_of: options.edition_of,
        imported_by: options.imported_by,
    };
    let stored = store
        .insert_book_streaming(placement, &mut parts, finish)
        .await?;
    let (stored, summary) = match stored {
        Ok(done) => done,
        Err(Failed::Refused(reason)) => return Ok(Outcome::Refused { reason }),
        Err(Failed::Panicked(err)) => return Err(err.into()),
    };
    Ok(match stored {
        Stored::Inserted(id) => Outcome::Imported {
            id,
            title: summary.metadata.title,
            chapters: summary.chapters,
            passages: summary.passages,
            warnings: summary.warnings,
        },
        Stored::Duplicate { id, title } => Outcome::Duplicate { id, title },
    })
}

/// The reason given when books are to be readable by groups that do not exist.
pub fn unknown_groups_reason(unknown: &[Uuid]) -> String {
    let ids: Vec<String> = unknown.iter().map(Uuid::to_string).collect();
    format!("no group has the id {}", ids.join(", "))
}

/// Why the parser gave no book.
enum Failed {
    Refused(String),
    Panicked(tokio::task::JoinError),
}
