//! Importing EPUBs: parse under limits (off the async threads), then store in one transaction.
//! Shared by `POST /api/books` and `scholia import`.

use serde::Serialize;
use uuid::Uuid;

use crate::epub::{self, Limits};
use crate::store::Store;
use crate::store::books::{Access, NewBook, Stored};

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

/// Imports one EPUB. Database failures are errors; a bad file is an [`Outcome::Refused`].
pub async fn import_epub(
    store: &Store,
    bytes: Vec<u8>,
    limits: &Limits,
    options: &ImportOptions,
) -> anyhow::Result<Outcome> {
    let id = Uuid::now_v7();
    let base = format!("/api/books/{id}");
    let limits = limits.clone();
    let parsed = tokio::task::spawn_blocking(move || epub::parse(&bytes, &limits, &base)).await?;
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(err) => {
            return Ok(Outcome::Refused {
                reason: err.to_string(),
            });
        }
    };
    let stored = store
        .insert_book(NewBook {
            id,
            parsed: &parsed,
            access: options.access,
            groups: &options.groups,
            edition_of: options.edition_of,
            imported_by: options.imported_by,
        })
        .await?;
    let title = parsed.metadata.title.clone();
    Ok(match stored {
        Stored::Inserted(id) => Outcome::Imported {
            id,
            title,
            chapters: parsed.chapters.len(),
            passages: parsed.chapters.iter().map(|c| c.passages.len()).sum(),
            warnings: parsed.warnings,
        },
        Stored::Duplicate(id) => Outcome::Duplicate { id, title },
    })
}
