//! `scholia import PATH...`: import files and folders of EPUBs in parallel, with a progress
//! bar on a terminal and a summary (or JSON lines for scripts) at the end.

use std::cmp::Reverse;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::epub::{EpubError, Limits};
use crate::import::{ImportOptions, Outcome, import_epub};
use crate::store::Store;

#[derive(Serialize)]
struct FileReport {
    path: String,
    #[serde(flatten)]
    outcome: Outcome,
}

/// Every `.epub` under `paths` (folders recursively), sorted for a stable order.
pub fn collect_epubs(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    fn walk(path: &Path, found: &mut Vec<PathBuf>) -> anyhow::Result<()> {
        let meta = std::fs::metadata(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        if meta.is_dir() {
            for entry in std::fs::read_dir(path)? {
                let entry = entry?.path();
                let is_epub = entry
                    .extension()
                    .is_some_and(|ext| ext.eq_ignore_ascii_case("epub"));
                if entry.is_dir() || is_epub {
                    walk(&entry, found)?;
                }
            }
        } else {
            found.push(path.to_path_buf());
        }
        Ok(())
    }
    let mut found = Vec::new();
    for path in paths {
        walk(path, &mut found)?;
    }
    found.sort();
    Ok(found)
}

/// Imports every file; returns whether all of them imported or were duplicates.
pub async fn run(
    store: &Store,
    paths: &[PathBuf],
    limits: &Limits,
    options: &ImportOptions,
    json: bool,
) -> anyhow::Result<bool> {
    let files = collect_epubs(paths)?;
    let bar = if std::io::stderr().is_terminal() && !json {
        let bar = ProgressBar::new(files.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed_precise} {wide_msg}")
                .expect("valid template"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let bar = Arc::new(bar);
    // Parsing is CPU-bound: one file per core at a time keeps memory bounded too. Biggest
    // first, each finished file making room for the next: the longest import starts at once
    // and the rest share the other cores, instead of some core idling while it runs last.
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut queue: Vec<(usize, PathBuf)> = files.into_iter().enumerate().collect();
    queue.sort_by_cached_key(|(_, path)| {
        Reverse(std::fs::metadata(path).map_or(0, |meta| meta.len()))
    });
    let mut reports: Vec<(usize, anyhow::Result<FileReport>)> = futures::stream::iter(queue)
        .map(|(index, path)| {
            let bar = bar.clone();
            async move {
                let report: anyhow::Result<FileReport> = async {
                    bar.set_message(path.display().to_string());
                    let outcome = match open_limited(&path, limits.max_file_bytes).await {
                        Ok(file) => import_epub(store, file, limits, options).await?,
                        Err(reason) => Outcome::Refused { reason },
                    };
                    bar.inc(1);
                    Ok(FileReport {
                        path: path.display().to_string(),
                        outcome,
                    })
                }
                .await;
                (index, report)
            }
        })
        .buffer_unordered(parallel)
        .collect()
        .await;
    reports.sort_by_key(|(index, _)| *index);
    bar.finish_and_clear();

    let (mut imported, mut duplicates, mut refused) = (0, 0, 0);
    for (_, report) in reports {
        let report = report?;
        match &report.outcome {
            Outcome::Imported { .. } => imported += 1,
            Outcome::Duplicate { .. } => duplicates += 1,
            Outcome::Refused { .. } => refused += 1,
        }
        if json {
            println!("{}", serde_json::to_string(&report)?);
            continue;
        }
        match &report.outcome {
            Outcome::Imported {
                id,
                title,
                passages,
                warnings,
                ..
            } => {
                println!(
                    "imported   {}  {id}  {title:?} ({passages} passages)",
                    report.path
                );
                for warning in warnings {
                    println!("  warning  {warning}");
                }
            }
            Outcome::Duplicate { id, title } => {
                println!(
                    "duplicate  {}  {id}  {title:?} is already in the library",
                    report.path
                )
            }
            Outcome::Refused { reason } => println!("refused    {}  {reason}", report.path),
        }
    }
    if !json {
        println!("{imported} imported, {duplicates} duplicates, {refused} refused");
    }
    Ok(refused == 0)
}

/// Opens a file, refusing one over the size limit before reading it.
async fn open_limited(path: &Path, max: u64) -> Result<std::fs::File, String> {
    let cannot = |e: std::io::Error| EpubError::Unreadable(e.to_string()).to_string();
    let file = tokio::fs::File::open(path).await.map_err(cannot)?;
    let size = file.metadata().await.map_err(cannot)?.len();
    if size > max {
        return Err(EpubError::FileTooLarge { size, limit: max }.to_string());
    }
    Ok(file.into_std().await)
}
