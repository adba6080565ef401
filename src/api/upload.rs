//! Receiving an uploaded file: written to a temporary file as it arrives, never held in memory,
//! so an upload's cost in memory does not grow with its size.

use std::fs::File;
use std::path::Path;

use axum::extract::multipart::{Field, MultipartError};
use tempfile::TempPath;
use tokio::io::AsyncWriteExt;

use crate::problem::{ApiError, ApiResult};

/// Bytes gathered before each write to the spool file; the form's chunks are much smaller.
const WRITE_BUFFER: usize = 256 * 1024;

/// A multipart field's file.
pub enum Spooled {
    /// All of it, in a temporary file that is deleted when `path` is dropped.
    File { file: File, path: TempPath },
    /// Over the limit: `size` bytes were sent and none of them kept.
    TooLarge { size: u64 },
}

/// Writes `field` to a new temporary file in `dir`, keeping at most `limit` bytes. On any
/// error, and once the field is over the limit, the file is deleted at once.
pub async fn spool(field: &mut Field<'_>, dir: &Path, limit: u64) -> ApiResult<Spooled> {
    let dir = dir.to_owned();
    let temp = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&dir)?;
        tempfile::Builder::new()
            .prefix("scholia-upload-")
            .suffix(".epub")
            .tempfile_in(&dir)
    })
    .await
    .map_err(anyhow::Error::from)?
    .map_err(|e| anyhow::anyhow!("cannot create the upload's spool file: {e}"))?;
    let (file, path) = temp.into_parts();
    let mut out =
        tokio::io::BufWriter::with_capacity(WRITE_BUFFER, tokio::fs::File::from_std(file));
    let mut size: u64 = 0;
    while let Some(chunk) = field.chunk().await.map_err(form_error)? {
        size += chunk.len() as u64;
        if size > limit {
            drop((out, path));
            // Read to the end, so that the answer names the size and the client, still
            // sending, hears it; the request's body limit bounds how much this reads.
            while let Some(chunk) = field.chunk().await.map_err(form_error)? {
                size += chunk.len() as u64;
            }
            return Ok(Spooled::TooLarge { size });
        }
        out.write_all(&chunk).await.map_err(write_error)?;
    }
    out.flush().await.map_err(write_error)?;
    let file = out.into_inner().into_std().await;
    Ok(Spooled::File { file, path })
}

/// The answer to a form that cannot be read (malformed, or over the body limit: 413).
pub fn form_error(e: MultipartError) -> ApiError {
    ApiError::new(
        e.status(),
        format!("cannot read the upload: {}", e.body_text()),
    )
}

fn write_error(e: std::io::Error) -> ApiError {
    anyhow::anyhow!("cannot write the upload's spool file: {e}").into()
}
