//! Parsing the spine's chapters on every core, handed on one by one in spine order.
//!
//! The `epub` crate's reader and the zip reader are not shareable between threads, so this
//! thread inflates each chapter's entry and hands its bytes to a small pool of workers; it
//! takes the parsed chapters back in spine order. At most [`WINDOW_PER_WORKER`] chapters per
//! worker are read and not yet handed on, which bounds the memory the pool adds. Results are
//! taken strictly in spine order, so the first error in spine order is the one returned, as
//! if the chapters had been parsed one after the other.

use std::collections::HashMap;
use std::io::{Read, Seek};
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Mutex, PoisonError, mpsc};
use std::thread;

use super::archive::Archive;
use super::chapter::chapter;
use super::urls::Book;
use super::{Chapter, EpubError, Limits, TocEntry};

/// Chapters read ahead per worker: two, so a worker that finishes a small chapter has the
/// next one to parse while a big one before it is still being parsed.
const WINDOW_PER_WORKER: usize = 2;

/// Parses every spine document (`(idref, path)` pairs) and hands each chapter and its
/// document's `<title>` to `each`, in spine order. The first error — reading an entry,
/// parsing a chapter, or from `each` — in spine order stops it and is returned.
pub fn parse_chapters<R: Read + Seek>(
    archive: &mut Archive<R>,
    spine: &[(String, String)],
    book: &Book,
    toc: &[TocEntry],
    limits: &Limits,
    mut each: impl FnMut(Chapter, Option<String>) -> Result<(), EpubError>,
) -> Result<(), EpubError> {
    let workers = thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(spine.len());
    let window = workers * WINDOW_PER_WORKER;
    let (jobs, queue) = mpsc::channel::<(usize, Vec<u8>)>();
    let queue = Mutex::new(queue);
    thread::scope(|scope| {
        // Moved in, so it is dropped when this closure returns, early or not, which lets the
        // workers finish before the scope waits for them.
        let jobs = jobs;
        let (done, parsed) = mpsc::channel();
        for _ in 0..workers {
            let (queue, done) = (&queue, done.clone());
            scope.spawn(move || {
                loop {
                    let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
                    let Ok((index, bytes)) = job else { break };
                    let (idref, path) = &spine[index];
                    // A panic is carried to this function's caller, as if it had parsed the
                    // chapter itself; the worker stays to answer for the chapters after it.
                    let result = panic::catch_unwind(AssertUnwindSafe(|| {
                        chapter(index, idref, path, &bytes, book, toc, limits)
                    }));
                    drop(bytes);
                    if done.send((index, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done);

        let mut ready = HashMap::new();
        let mut read = 0;
        for next in 0..spine.len() {
            while read < spine.len() && read < next + window {
                match archive.read(&spine[read].1) {
                    Ok(bytes) => {
                        // The workers only stop once `jobs` is dropped.
                        let _ = jobs.send((read, bytes.unwrap_or_default()));
                        read += 1;
                    }
                    Err(err) => {
                        // Chapters before it come first; none after it is read.
                        ready.insert(read, Ok(Err(err)));
                        read = spine.len();
                    }
                }
            }
            let result = loop {
                if let Some(result) = ready.remove(&next) {
                    break result;
                }
                // Every chapter sent is answered: a worker stops only once `jobs` is gone.
                let (index, result) = parsed.recv().expect("a worker stopped early");
                ready.insert(index, result);
            };
            let (chapter, title) =
                result.unwrap_or_else(|panicked| panic::resume_unwind(panicked))?;
            each(chapter, title)?;
        }
        Ok(())
    })
}
